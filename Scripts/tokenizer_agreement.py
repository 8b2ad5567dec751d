#!/usr/bin/env python3
"""Checks that `shiftadd tokenize` encodes text exactly like a reference tokenizer on the same GGUF.

Two references, one per tokenizer kind:
- `tokenizers` (SmolLM2, byte-level BPE): Hugging Face `tokenizers` built from the vocabulary and
  merges stored in the GGUF, with SmolLM2's pre-tokenizer (individual digits, then GPT-2 byte-level
  splitting). Needs `gguf` and `tokenizers`.
- `llamacpp` (Gemma 3, SentencePiece): llama.cpp's own tokenizer through llama-cpp-python
  (`Llama.tokenize` on the GGUF loaded with vocab_only, no BOS); run with the Python of the
  llama-cpp-python environment (`make tokenizer-agreement MODEL=gemma3-270m`).

The comparison covers ≥ 2,000 varied lines (English prose from a text file, code, numbers, many
scripts, emoji, whitespace runs, contractions, punctuation), the whole text file in one piece, lines
with the model's control tokens encoded with special-token parsing, and the decoding of every line's
ids back to its text.

Usage: Scripts/tokenizer_agreement.py [TEXT_FILE] [--model GGUF] [--reference tokenizers|llamacpp]
       [--shiftadd BINARY]
Exits non-zero on any mismatch.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTROL_TYPE = 3


def default_model_path():
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    model_dir = os.environ.get("SHIFTADD_MODEL_DIR", os.path.join(cache, "shiftadd", "models"))
    return os.path.join(model_dir, MODEL_NAME)


def read_vocabulary(path):
    """Tokens, token types and merges from a GGUF file."""
    from gguf import GGUFReader

    reader = GGUFReader(path)

    def field(key):
        if key not in reader.fields:
            sys.exit(f"{path}: no {key}")
        return reader.fields[key].contents()

    return {
        "tokens": field("tokenizer.ggml.tokens"),
        "types": field("tokenizer.ggml.token_type"),
        "merges": field("tokenizer.ggml.merges"),
        "pre": field("tokenizer.ggml.pre"),
    }


def build_reference(vocabulary):
    """The Hugging Face tokenizer SmolLM2 ships, rebuilt from the GGUF's vocabulary and merges."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    tokens = vocabulary["tokens"]
    merges = [tuple(m.split(" ", 1)) for m in vocabulary["merges"]]
    tokenizer = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in control_tokens(vocabulary)])
    return tokenizer


def control_tokens(vocabulary):
    return [t for t, kind in zip(vocabulary["tokens"], vocabulary["types"]) if kind == CONTROL_TYPE]


class TokenizersReference:
    """Hugging Face `tokenizers` on SmolLM2's vocabulary."""

    name = "Hugging Face tokenizers: BPE from the GGUF vocabulary and merges, pre-tokenizer " \
           "Sequence[Digits(individual_digits=true), ByteLevel(add_prefix_space=false, use_regex=true)]"
    chat = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    special_lines = [
        "<|im_start|>user\nhi<|im_end|>".replace("\n", " "),
        "<|im_start|>system You are helpful.<|im_end|><|im_start|>assistant",
        "<|im_start|><|im_end|><|endoftext|>",
        "text<|im_end|>text <|im_start|> text",
        "<|im_start|<|im_end|>|>", "<<|im_start|>>", "<|endoftext|>123<|endoftext|>",
    ]

    def __init__(self, path):
        vocabulary = read_vocabulary(path)
        self.tokenizer = build_reference(vocabulary)
        self.control_tokens = control_tokens(vocabulary)

    def encode(self, texts, parse_special=False):
        self.tokenizer.encode_special_tokens = not parse_special
        return [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids):
        return self.tokenizer.decode(ids)


class LlamaCppReference:
    """llama.cpp's tokenizer (llama-cpp-python) on the GGUF's vocabulary, no BOS."""

    name = "llama.cpp (llama-cpp-python 0.3.36): Llama.tokenize(add_bos=False) on the GGUF, vocab_only"
    chat = "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n"
    special_lines = [
        "<start_of_turn>user hi<end_of_turn>",
        "<start_of_turn>system You are helpful.<end_of_turn><start_of_turn>model",
        "<bos><start_of_turn><end_of_turn><eos>",
        "text<end_of_turn>text <start_of_turn> text",
        "<start_of_turn<end_of_turn>>", "<<bos>>", "<eos>123<eos><pad><mask><unk>",
        "<start_of_image>[multimodal]<end_of_image> <unused0><unused99>",
    ]

    def __init__(self, path):
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        texts = [llama_cpp.llama_vocab_get_text(vocab, i).decode("utf-8")
                 for i in range(llama_cpp.llama_vocab_n_tokens(vocab))
                 if llama_cpp.llama_vocab_get_attr(vocab, i) & control]
        # Gemma's thousands of <unusedN> placeholders would crowd out the tokens chats use.
        unused = [t for t in texts if t.startswith("<unused")]
        self.control_tokens = [t for t in texts if not t.startswith("<unused")] + unused[:4]

    def encode(self, texts, parse_special=False):
        return [self.llm.tokenize(t.encode("utf-8"), add_bos=False, special=parse_special) for t in texts]

    def decode(self, ids):
        return self.llm.detokenize(ids, special=True).decode("utf-8", errors="replace")


REFERENCES = {"tokenizers": TokenizersReference, "llamacpp": LlamaCppReference}


# Hand-written material the generated lines are assembled from.

CODE = [
    "def fibonacci(n: int) -> int:",
    "    if n < 2:",
    "        return n",
    "    return fibonacci(n - 1) + fibonacci(n - 2)",
    "\tfor (int i = 0; i < count; ++i) { total += values[i] * 0.5f; }",
    "let ids = tokenizer.encode(\"Hello, world!\", addSpecial: true)",
    "func merge(_ a: [Int], _ b: [Int]) -> [Int] { (a + b).sorted(by: <) }",
    "#include <stdio.h>",
    "int main(void) { printf(\"%d\\n\", 42); return 0; }",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "<div class=\"container\"><p id='intro'>Hi&nbsp;there</p></div>",
    "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}",
    "curl -sSL https://example.com/install.sh | bash -s -- --prefix=/usr/local",
    "x = [i**2 for i in range(10) if i % 3 == 0]  # squares",
    "const re = /^[a-z0-9_.+-]+@[a-z0-9-]+\\.[a-z]{2,}$/i;",
    "    elif token == '<|im_end|>': break",
    "if (ptr != NULL && *ptr == '\\0') { ptr = NULL; }",
    "std::vector<std::pair<int, float>> v{{1, 2.0f}, {3, 4.0f}};",
    "  - name: build\n",
    "impl<T: Clone> From<Vec<T>> for Stack<T> { fn from(v: Vec<T>) -> Self { Self(v) } }",
    "$ git log --oneline | head -n 5 && echo \"done\"",
    "a+=1;b-=2;c*=3;d/=4;e%=5;f**=6;g//=7;h<<=8;i>>=9;j&=10;k|=11;l^=12",
    "        \"\"\"Docstring with 'quotes' and \"double quotes\".\"\"\"",
    "@available(macOS 14, *) public struct Point: Hashable { var x, y: Double }",
    "\t\tcase .letter where next == \"'\": return 2",
]

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore, doesn't she?",
    "In 1969, Apollo 11 landed on the Moon; 600 million people watched.",
    "Prices rose 3.5% in Q3 2023, from $1,299.99 to $1,345.50 per unit.",
    "\"Well,\" he said, 'I'll think about it.' Then he left -- quietly.",
    "Don't panic! It's only 42... or is it 43?",
    "Mr. O'Neil's café serves crème brûlée and jalapeño nachos.",
    "THE END. WE'RE DONE. YOU'VE BEEN WARNED. THEY'LL SEE. I'D AGREE. I'M SURE.",
    "Tokenizers split text into words, subwords and bytes before mapping them to ids.",
    "A naïve approach costs O(n²) time; a heap brings it down to O(n log n).",
    "Email me at first.last+tag@example.org or call +1 (555) 010-9999 ext. 12.",
    "Version 2.0.1-beta was released on 2024-03-15T08:30:00Z.",
    "Temperatures ranged from −40 °C to 50 °C (−40 °F to 122 °F).",
    "The ratio ½ : ¼ equals 2, and 10³ = 1000.",
    "Chapter Ⅻ begins on page ①②③ of volume ⅳ.",
]

WORDS = [
    "Καλημέρα κόσμε", "Привет, мир!", "Здравствуйте", "Բարեւ", "გამარჯობა", "שלום עולם", "مرحبا بالعالم",
    "السلام عليكم ٠١٢٣٤٥٦٧٨٩", "नमस्ते दुनिया", "१२३४५", "হ্যালো বিশ্ব", "வணக்கம்", "నమస్కారం", "ಕನ್ನಡ",
    "മലയാളം", "ਪੰਜਾਬੀ", "ગુજરાતી", "ଓଡ଼ିଆ", "සිංහල", "สวัสดีชาวโลก", "ສະບາຍດີ", "မင်္ဂလာပါ", "ជំរាបសួរ",
    "བཀྲ་ཤིས་བདེ་ལེགས", "你好，世界！", "我爱自然语言处理。", "繁體中文測試", "こんにちは世界", "カタカナとひらがな",
    "日本語のテキスト、です。", "안녕하세요 세계", "한국어 문장입니다.", "Xin chào thế giới", "Tiếng Việt có dấu",
    "İstanbul ılık ışık", "Ğüşöçİı", "Straße Maß", "Ærøskøbing", "Łódź źdźbło", "Čeština ěščřžýáíé",
    "ሰላም ዓለም", "ᏣᎳᎩ", "ᠮᠣᠩᠭᠣᠯ", "ꦗꦮ", "Ꭰ Ꮎ", "ᚠᚢᚦᚨᚱᚲ", "𐌰𐌱𐌲", "𝐀𝐁𝐂 𝑥𝑦𝑧 𝟘𝟙𝟚", "ℝ ℕ ℤ ∀x∃y",
    "ｆｕｌｌｗｉｄｔｈ　１２３", "ﾊﾝｶｸ", "e\u0301 a\u0300 o\u0308 n\u0303", "Z\u0351\u0300a\u0352l\u0357g\u035co",
    "\u202eRTL override\u202c", "\u200fעברית\u200e", "zero\u200bwidth\u200cjoin\u200dhere", "soft\u00adhyphen",
    "ꜰᴀɴᴄʏ ᴛᴇxᴛ", "ǅungla ǈudi", "Ⓐⓑⓒ ⒜⒝", "ℌ𝔢𝔩𝔩𝔬", "𓀀𓁐𓂀", "\U00020000\U0002A700\U00030000",
    "\ua7ce\ua7cf new letters", "\U00010940\U00010941", "ſ long s 'ſ 'S 'T 'Ll 'RE", "ǃŋ ʔ ɬ ɮ",
]

EMOJI = [
    "😀", "😂🤣", "👍🏽", "👨‍👩‍👧‍👦", "👩🏾‍💻", "🏳️‍🌈", "🏴‍☠️", "🇫🇷🇯🇵🇺🇸", "1️⃣2️⃣#️⃣", "❤️", "♥︎", "🫠",
    "🧑‍🤝‍🧑", "👁️‍🗨️", "🐕‍🦺", "⌚⌛", "☕", "🚀✨🔥", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🤷‍♀️", "©️®️™️",
]

CONTRACTIONS = [
    "don't", "can't", "won't", "it's", "I'm", "you're", "they've", "she'd", "we'll", "o'clock", "rock'n'roll",
    "DON'T", "IT'S", "I'M", "YOU'RE", "THEY'VE", "SHE'D", "WE'LL", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
    "''", "'''", "''s", "'S", "'Re", "don’t", "it’s", "l'homme", "dell'arte", "'tis", "'twas", "rock 'n' roll",
]

PUNCTUATION = [
    "!!!", "?!?", "...", "…", "---", "—", "–", "***", "<<>>", "@#$%^&*()", "«»", "„“", "‹›", "()[]{}", "::", ";;",
    "==>", "<=>", "!=", "&&", "||", "->", "=>", "~~~", "```", "'''", "\"\"\"", "、。", "！？", "¿¡", "§¶", "†‡", "•·",
    "%%", "\\\\", "//", "/*", "*/", "#!", "$$", "_-_", "+-+-", "^_^", ":-)", ";)", ".,.,.,", "?!.", "'-'",
]

WHITESPACE = [
    " ", "  ", "   ", "\t", "\t\t", " \t", "\t ", "\r", "\u00a0", "\u3000", "\u2009", "\u2002", "\u200a",
    "\x0b", "\x0c", "\u0085", "\u2028", "\u2029", "\u1680", "\u202f", "\u205f", " \u00a0 ", "    ", "\r\t",
]

# Blocks random scalars are drawn from (first, last), across scripts, symbols and planes.
BLOCKS = [
    (0x21, 0x7E), (0xA0, 0x24F), (0x250, 0x2FF), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x52F),
    (0x530, 0x58F), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0x980, 0x9FF), (0xE00, 0xE7F),
    (0xF00, 0xFFF), (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x1680, 0x16FF), (0x2000, 0x206F), (0x2070, 0x209F),
    (0x20A0, 0x20CF), (0x2100, 0x218F), (0x2190, 0x23FF), (0x2460, 0x24FF), (0x2500, 0x27BF), (0x2C00, 0x2C5F),
    (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xA4CF), (0xA700, 0xA7FF), (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF), (0xFB00, 0xFDFF), (0xFE00, 0xFE6F), (0xFF00, 0xFFEF), (0x10000, 0x1013F), (0x10300, 0x1034F),
    (0x10900, 0x1099F), (0x10E80, 0x10EFF), (0x11000, 0x1107F), (0x11D00, 0x11DFF), (0x16A40, 0x16AFF),
    (0x1D400, 0x1D7FF), (0x1E900, 0x1E95F), (0x1F000, 0x1F0FF), (0x1F300, 0x1F6FF), (0x1F900, 0x1FAFF),
    (0x20000, 0x2A6DF), (0x31350, 0x323AF), (0xE0000, 0xE007F),
]


def random_scalar(rng):
    first, last = rng.choice(BLOCKS)
    return chr(rng.randint(first, last))


def random_number(rng):
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 24)))
    forms = [
        digits, f"{rng.randint(0, 10**9):,}", f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 6)}f}",
        f"{rng.uniform(0, 1):.3e}", f"0x{rng.randint(0, 2**32):X}", f"0b{rng.randint(0, 255):b}",
        f"{rng.randint(1, 31):02d}/{rng.randint(1, 12):02d}/{rng.randint(1900, 2100)}",
        f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        f"v{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}",
        f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
        f"${rng.randint(0, 99999)}.{rng.randint(0, 99):02d}", f"{rng.randint(0, 100)}%", f"-{digits}",
        f"{digits}th", f"a{digits}b", "１２３４", "٣٫١٤", "²³⁴", "½¾⅞", "Ⅻⅻ", "①⑳", "𝟙𝟚𝟛", "၁၂၃", "๑๒๓",
    ]
    return rng.choice(forms)


def random_piece(rng):
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(WORDS)
    if kind == 1:
        return rng.choice(EMOJI)
    if kind == 2:
        return rng.choice(CONTRACTIONS)
    if kind == 3:
        return rng.choice(PUNCTUATION)
    if kind == 4:
        return random_number(rng)
    if kind == 5:
        return "".join(random_scalar(rng) for _ in range(rng.randint(1, 6)))
    if kind == 6:
        return rng.choice(CODE).strip("\n")
    if kind == 7:
        return rng.choice(PROSE)
    return rng.choice(["the", "The", "AND", "of", "a", "I", "x", "Hello", "world", "tokens", "naïve", "ok"])


def mixed_line(rng):
    parts = []
    for _ in range(rng.randint(1, 8)):
        parts.append(random_piece(rng))
        parts.append(rng.choice(WHITESPACE) if rng.random() < 0.35 else rng.choice([" ", "", ", ", "-"]))
    line = "".join(parts)
    if rng.random() < 0.2:
        line = rng.choice(WHITESPACE) + line
    if rng.random() < 0.2:
        line += rng.choice(WHITESPACE)
    return line


def generated_lines(rng, count):
    """Non-prose lines: each hand-written item alone, then random mixtures of all of them."""
    lines = [c.strip("\n") for c in CODE] + PROSE + WORDS + EMOJI + PUNCTUATION
    lines += [" ".join(CONTRACTIONS), " ".join(EMOJI), "".join(EMOJI), "".join(PUNCTUATION)]
    lines += ["", " ", "\t", "  \t  ", "\r", "word\r", "a  b   c    d", "a\t\tb", "trailing   ", "   leading",
              "\u00a0\u00a0x", "x\u3000\u3000y", "1 2  3   4", "  123  ", "abc123def456", "12345678901234567890",
              "3.14159", "1,000,000", "x²+y²=z²", "\x00\x01\x1f\x7f", "\u0085next", "line\u2028sep"]
    lines += [random_number(rng) + " " + random_number(rng) for _ in range(40)]
    lines += ["".join(random_scalar(rng) for _ in range(rng.randint(1, 40))) for _ in range(120)]
    lines += [" ".join(rng.choice(WHITESPACE).join(rng.sample(CONTRACTIONS, 4)) for _ in range(2)) for _ in range(40)]
    lines += ["".join(rng.choice(PUNCTUATION + WHITESPACE) for _ in range(rng.randint(2, 12))) for _ in range(60)]
    while len(lines) < count:
        lines.append(mixed_line(rng))
    return [line.replace("\n", " ") for line in lines]


def prose_lines(path, rng, count):
    with open(path, encoding="utf-8", newline="") as f:
        candidates = [line for line in f.read().split("\n") if line.strip()]
    return rng.sample(candidates, min(count, len(candidates)))


def special_lines(reference, rng):
    """Chat-formatted lines and control tokens glued to text, for special-token parsing."""
    specials = reference.control_tokens
    lines = list(reference.special_lines)
    for _ in range(60):
        pieces = [rng.choice(specials) if rng.random() < 0.4 else random_piece(rng) for _ in range(rng.randint(2, 6))]
        lines.append(rng.choice(["", " "]).join(pieces).replace("\n", " "))
    return lines


def run_shiftadd(binary, model, path, *flags):
    """`shiftadd tokenize` on `path`: one JSON value per output line."""
    command = [binary, "tokenize", "--model", model, "--file", path, *flags]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    # Only "\n" ends a line: decoded texts may hold U+2028 or U+0085, which splitlines() would split on.
    return [json.loads(line) for line in result.stdout.split("\n") if line]


def compare_lines(name, lines, expected, actual):
    if len(actual) != len(expected):
        print(f"{name}: shiftadd returned {len(actual)} lines for {len(lines)}")
        return False
    mismatches = [i for i in range(len(lines)) if expected[i] != actual[i]]
    print(f"{name}: {len(lines) - len(mismatches)}/{len(lines)} lines match exactly")
    for i in mismatches[:10]:
        print(f"  line {i}: {lines[i]!r}\n    expected {expected[i]}\n    shiftadd {actual[i]}")
    return not mismatches


def write_temporary(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?",
                        default=os.path.join(REPO, "..", "shared", "data", "wikitext-2-raw", "wiki.test.raw"))
    parser.add_argument("--model", default=default_model_path())
    parser.add_argument("--reference", choices=sorted(REFERENCES), default="tokenizers")
    parser.add_argument("--shiftadd", default=os.path.join(REPO, ".build", "release", "shiftadd"))
    parser.add_argument("--prose-lines", type=int, default=1200)
    parser.add_argument("--generated-lines", type=int, default=1000)
    args = parser.parse_args()
    for path, hint in [(args.model, "run `make model`"), (args.shiftadd, "build with `swift build -c release`"),
                       (args.text, "pass a text file")]:
        if not os.path.exists(path):
            sys.exit(f"missing {path}: {hint}")

    reference = REFERENCES[args.reference](args.model)
    rng = random.Random(20240601)
    lines = prose_lines(args.text, rng, args.prose_lines) + generated_lines(rng, args.generated_lines)
    specials = special_lines(reference, rng)
    with open(args.text, encoding="utf-8", newline="") as f:
        whole = f.read()

    ok = True
    with tempfile.TemporaryDirectory() as directory:
        expected = reference.encode(lines)
        path = write_temporary(directory, "lines.txt", "\n".join(lines))
        actual = run_shiftadd(args.shiftadd, args.model, path, "--per-line")
        ok &= compare_lines("lines", lines, expected, actual)

        # Decoding: shiftadd's text for each line's ids is the line, as the reference's is.
        path = write_temporary(directory, "ids.txt", "\n".join(json.dumps(ids) for ids in expected))
        decoded = run_shiftadd(args.shiftadd, args.model, path, "--decode")
        ok &= compare_lines("decoded lines (shiftadd = text)", lines, lines, decoded)
        ok &= compare_lines("decoded lines (reference = text)", lines, lines, [reference.decode(i) for i in expected])

        started = time.perf_counter()
        expected_whole = reference.encode([whole])[0]
        reference_seconds = time.perf_counter() - started
        started = time.perf_counter()
        actual_whole = run_shiftadd(args.shiftadd, args.model, args.text)[0]
        shiftadd_seconds = time.perf_counter() - started
        same = expected_whole == actual_whole
        print(f"whole file: {len(actual_whole)} tokens from shiftadd, {len(expected_whole)} expected, "
              f"{'exact match' if same else 'MISMATCH'} (reference {reference_seconds:.1f} s, "
              f"shiftadd {shiftadd_seconds:.1f} s including loading the vocabulary)")
        if not same:
            first = next((i for i, (a, b) in enumerate(zip(expected_whole, actual_whole)) if a != b),
                         min(len(expected_whole), len(actual_whole)))
            print(f"  first difference at token {first}: expected {expected_whole[first:first + 8]}, "
                  f"shiftadd {actual_whole[first:first + 8]}")
        ok &= same
        path = write_temporary(directory, "whole-ids.txt", json.dumps(actual_whole))
        round_trip = run_shiftadd(args.shiftadd, args.model, path, "--decode")[0] == whole
        print(f"whole file decoded: {'the text again' if round_trip else 'DIFFERS from the text'}")
        ok &= round_trip

        expected = reference.encode(specials, parse_special=True)
        path = write_temporary(directory, "special.txt", "\n".join(specials))
        ok &= compare_lines("special-token lines", specials, expected,
                            run_shiftadd(args.shiftadd, args.model, path, "--per-line", "--parse-special"))

    print("all match" if ok else "MISMATCHES FOUND")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
