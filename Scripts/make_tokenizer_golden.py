#!/usr/bin/env python3
"""Writes the tokenizer golden files of Tests/ShiftAddTokenizerTests/Golden.

`--golden smollm2` (Python with `gguf` and `tokenizers`): smollm2_encode.json, texts and the ids
Hugging Face `tokenizers` gives them with the SmolLM2 vocabulary, merges and pre-tokenizer read from
the GGUF. `cases` are encoded as plain text (control-token texts spelled out) and each decodes back
to its text; `specialCases` are encoded with control-token texts parsed as those tokens.

`--golden sentencepiece` (the Python of llama-cpp-python's environment): sentencepiece_encode.json,
a small SentencePiece vocabulary shaped like Gemma 3's (control tokens, user-defined newline, space
and tab runs and HTML tags, the 256 byte tokens, scored pieces with ties, no space prefix, BOS added;
built here, so it can be committed where Gemma's own cannot), written as a vocabulary-only GGUF and
tokenized by llama.cpp; the file holds the vocabulary as a `TokenizerSpec` and the cases.

Usage: Scripts/make_tokenizer_golden.py [--golden smollm2|sentencepiece] [--model GGUF]
"""
import argparse
import json
import os
import random
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_agreement as agreement  # noqa: E402

GOLDEN = os.path.join(agreement.REPO, "Tests", "ShiftAddTokenizerTests", "Golden")
CASE_COUNT = 360
SPECIAL_CASE_COUNT = 30

MULTILINE = [
    "def f(x):\n    return x * 2\n\nprint(f(21))\n",
    "line one\r\nline two\r\n\r\nline four",
    "\n", "\n\n\n", " \n ", "\t\n\t", "a\n\n\nb", "end of text  \n",
    "# Title\n\n- item 1\n- item 2\n\n```swift\nlet x = 1\n```\n",
    "Q: What's 2+2?\nA: It's 4.\n",
]


def smollm2(model):
    if not os.path.exists(model):
        sys.exit(f"missing {model}: run `make model`")
    reference = agreement.TokenizersReference(model)
    rng = random.Random(7)

    # Every hand-written item, then a sample of the generated mixtures.
    fixed = MULTILINE + [c.strip("\n") for c in agreement.CODE] + agreement.PROSE + agreement.WORDS + agreement.EMOJI
    fixed += [" ".join(agreement.CONTRACTIONS), " ".join(agreement.PUNCTUATION), "".join(agreement.WHITESPACE)]
    fixed = list(dict.fromkeys(fixed))
    generated = [t for t in dict.fromkeys(agreement.generated_lines(rng, 1200)) if t not in fixed]
    texts = fixed + rng.sample(generated, CASE_COUNT - len(fixed))
    cases = []
    for text, ids in zip(texts, reference.encode(texts)):
        if reference.decode(ids) != text:
            sys.exit(f"reference does not round-trip {text!r}")
        cases.append({"text": text, "ids": ids})

    special_texts = agreement.special_lines(reference, rng)[:SPECIAL_CASE_COUNT]
    special_texts[0] = reference.chat
    special_cases = [{"text": t, "ids": ids}
                     for t, ids in zip(special_texts, reference.encode(special_texts, parse_special=True))]
    return "smollm2_encode.json", {"model": agreement.MODEL_NAME, "reference": reference.name,
                                   "cases": cases, "specialCases": special_cases}


# The Gemma-shaped vocabulary: pieces are substrings of these words (with and without the "▁" that
# marks a preceding space), scored by how many words share them, so many pieces tie.
SPM_WORDS = [
    "the", "then", "there", "these", "other", "hello", "help", "yellow", "fellow", "low", "lower", "slow",
    "tokens", "token", "broken", "open", "opening", "pen", "spend", "end", "ending", "and", "hand", "land",
    "island", "is", "in", "into", "int", "print", "return", "def", "for", "format", "form", "from", "of",
    "off", "offer", "café", "naïve", "über", "straße", "中文", "文字", "—", "world", "word", "words", "sword",
]
SPM_CHARACTERS = [chr(c) for c in range(0x21, 0x7F)] + list("éïüßñ中文字—€’…")
SPM_CONTROL = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>", "<unused0>"]
SPM_USER_DEFINED = (["[multimodal]", "<start_of_image>", "<b>", "</b>", "<table>"] + ["\n" * n for n in range(1, 5)]
                    + [" " * n for n in range(2, 6)] + ["\t" * n for n in range(1, 4)])
# Steps by which merging reaches a control token's spelling, as llama.cpp allows.
SPM_CONTROL_STEPS = ["<b", "os", "os>", "<e", "<u", "<un", "k>"]

SPM_CASES = [
    "hello", "hello world", " hello", "  hello  world  ", "the other one", "then there", "these tokens",
    "hello\nworld", "a\n\nb\n\n\nc\n\n\n\n\nd", "\tdef f():\n\t\treturn x", "line one\r\nline two\r\n",
    "café naïve über straße", "中文字 文字中", "x — y … z’s €5", "ж и 𝟘 😀 👍🏽", "\x00\x01\x7f", "   ",
    "<bos>", "<eos> <unk>", "<bo<bos>s>", "<start_of_turn>user", "<unused0>", "<b>bold</b> <table>",
    "[multimodal]<start_of_image>", "lll ooo", "slowlower", "island land and hand", "print(return)",
    "format from form offer off of", "sword words word world", "opening pen spend ending",
    "=> != <= ## ** __", "0123456789", "HELLO World", "helloworld" * 3, "a" * 40,
]


def spm_vocabulary():
    """The vocabulary as TokenizerSpec's JSON form."""
    counts = {}
    for word in SPM_WORDS:
        for text in (word, "\u2581" + word):
            for start in range(len(text)):
                for end in range(start + 2, len(text) + 1):
                    counts[text[start:end]] = counts.get(text[start:end], 0) + 1
    ranked = sorted(counts, key=lambda piece: (-counts[piece], len(piece), piece))
    entries = [(t, -1000.0, 3) for t in SPM_CONTROL] + [(t, -1000.0, 4) for t in SPM_USER_DEFINED]
    entries += [(f"<0x{b:02X}>", 0.0, 6) for b in range(256)]
    entries += [(c, -1.0, 1) for c in ["\u2581"] + SPM_CHARACTERS]
    # Equal scores within each group of three: llama.cpp breaks ties by position.
    entries += [(piece, -2.0 - rank // 3, 1) for rank, piece in enumerate(ranked)]
    entries += [(piece, -500.0, 1) for piece in SPM_CONTROL_STEPS if piece not in counts]
    tokens = [t for t, _, _ in entries]
    assert len(set(tokens)) == len(tokens), "duplicate piece"
    return {
        "model": "llama", "tokens": tokens, "scores": [s for _, s, _ in entries], "tokenTypes": [k for _, _, k in entries],
        "bosTokenId": 2, "eosTokenId": 1, "unknownTokenId": 3, "paddingTokenId": 0,
        "addBosToken": True, "addEosToken": False, "addSpacePrefix": False,
    }


def write_vocabulary_gguf(path, spec):
    """A GGUF with only an architecture header and the tokenizer, enough for llama.cpp's vocab_only load."""
    def string(text):
        data = text.encode("utf-8")
        return struct.pack("<Q", len(data)) + data

    def array(kind, fmt, values):
        return struct.pack("<IQ", kind, len(values)) + b"".join(struct.pack(fmt, v) for v in values)

    u32 = lambda v: (4, struct.pack("<I", v))  # noqa: E731
    metadata = {
        "general.architecture": (8, string("llama")),
        "llama.context_length": u32(512), "llama.embedding_length": u32(8), "llama.block_count": u32(1),
        "llama.feed_forward_length": u32(8), "llama.attention.head_count": u32(1),
        "llama.attention.layer_norm_rms_epsilon": (6, struct.pack("<f", 1e-6)),
        "tokenizer.ggml.model": (8, string(spec["model"])),
        "tokenizer.ggml.tokens": (9, struct.pack("<IQ", 8, len(spec["tokens"])) + b"".join(map(string, spec["tokens"]))),
        "tokenizer.ggml.scores": (9, array(6, "<f", spec["scores"])),
        "tokenizer.ggml.token_type": (9, array(5, "<i", spec["tokenTypes"])),
        "tokenizer.ggml.bos_token_id": u32(spec["bosTokenId"]), "tokenizer.ggml.eos_token_id": u32(spec["eosTokenId"]),
        "tokenizer.ggml.unknown_token_id": u32(spec["unknownTokenId"]),
        "tokenizer.ggml.padding_token_id": u32(spec["paddingTokenId"]),
        "tokenizer.ggml.add_bos_token": (7, bytes([spec["addBosToken"]])),
        "tokenizer.ggml.add_eos_token": (7, bytes([spec["addEosToken"]])),
        "tokenizer.ggml.add_space_prefix": (7, bytes([spec["addSpacePrefix"]])),
    }
    with open(path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)))
        for key, (kind, value) in metadata.items():
            f.write(string(key) + struct.pack("<I", kind) + value)


def sentencepiece():
    spec = spm_vocabulary()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "vocabulary.gguf")
        write_vocabulary_gguf(path, spec)
        reference = agreement.LlamaCppReference(path)
        texts = SPM_CASES + [agreement.mixed_line(rng) for _ in range(40)]
        texts += [" ".join(rng.sample(SPM_WORDS, 6)) for _ in range(10)]
        cases = []
        for text, ids in zip(texts, reference.encode(texts)):
            if reference.decode(ids) != text:
                sys.exit(f"llama.cpp does not round-trip {text!r}")
            cases.append({"text": text, "ids": ids})
        with_bos = reference.llm.tokenize(b"hello", add_bos=True, special=False)
        special_texts = reference.special_lines + agreement.special_lines(reference, rng)[-12:]
        special_cases = [{"text": t, "ids": ids}
                         for t, ids in zip(special_texts, reference.encode(special_texts, parse_special=True))]
    return "sentencepiece_encode.json", {
        "reference": reference.name.replace("the GGUF", "this vocabulary written as a GGUF"),
        "vocabulary": spec, "cases": cases, "specialCases": special_cases,
        "bosCase": {"text": "hello", "ids": with_bos},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--golden", choices=["smollm2", "sentencepiece"], default="smollm2")
    parser.add_argument("--model", default=agreement.default_model_path(), help="the SmolLM2 GGUF (smollm2)")
    args = parser.parse_args()
    name, golden = smollm2(args.model) if args.golden == "smollm2" else sentencepiece()
    output = os.path.join(GOLDEN, name)
    os.makedirs(GOLDEN, exist_ok=True)
    with open(output, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(golden['cases'])} cases and {len(golden['specialCases'])} special cases to {output} "
          f"({os.path.getsize(output)} bytes)")


if __name__ == "__main__":
    main()
