#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets to Tests/Fuzz/Corpus/<target>/.

Every seed is small and valid (or deliberately close to valid), so that the fuzzer starts from
inputs that reach deep into each reader. The output is deterministic; rerun after changing it and
commit the result. Needs numpy and gguf (pip).
"""

import hashlib
import json
import os
import shutil
import struct
import sys

import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Tests", "Fuzz", "Corpus")
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- HTTP/1.1 ------------------------------------------------------------------------------------

HTTP1 = {
    "get": "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "get_query": "GET /v1/models?limit=2&x=%20 HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\nUser-Agent: seed\r\n\r\n",
    "post_length": 'POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 32\r\n\r\n{"prompt":"Hi","max_tokens":4} ',
    "post_chunked": "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer-Field: x\r\n\r\n",
    "pipelined": "GET /health HTTP/1.1\r\nHost: a\r\n\r\nPOST /tokenize HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
                 "GET /ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "http10": "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "head": "HEAD /v1/models HTTP/1.1\r\nHost: a\r\n\r\n",
    "expect": "POST /v1/completions HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
    "leading_crlf": "\r\n\r\nOPTIONS /v1/completions HTTP/1.1\r\nHost: a\r\nOrigin: http://x\r\nAccess-Control-Request-Method: POST\r\n\r\n",
    "absolute_form": "GET http://a/v1/models HTTP/1.1\r\nHost: a\r\n\r\n",
    "asterisk": "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "smuggle_cl_te": "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad_version": "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "authorization": "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer sk-test\r\n"
                     "Content-Length: 47\r\n\r\n" + '{"messages":[{"role":"user","content":"Hi"}]}  ',
}


# ---- HTTP/2 (bytes after the connection preface) --------------------------------------------------

def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20


def hpack_string(s):
    b = s.encode()
    assert len(b) < 127
    return bytes([len(b)]) + b


def literal(name_index, value):
    """Literal field without indexing, name from the static table (index < 15)."""
    return bytes([name_index]) + hpack_string(value)


def literal_new(name, value):
    return b"\x00" + hpack_string(name) + hpack_string(value)


def request_block(method_index=2, path=None, extra=b""):
    block = bytes([0x80 | method_index, 0x86])  # :method, :scheme http
    block += bytes([0x84]) if path is None else literal(4, path)
    block += literal(1, "localhost")  # :authority
    return block + extra


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def http2_seeds():
    client_settings = settings((2, 0), (4, 65535), (3, 100))
    body = b'{"prompt":"Hello","max_tokens":2}'
    post = request_block(3, "/v1/completions", literal_new("content-type", "application/json")
                         + literal_new("content-length", str(len(body))))
    get = request_block()
    seeds = {
        "get": client_settings + frame(HEADERS, END_STREAM | END_HEADERS, 1, get),
        "post": client_settings + frame(HEADERS, END_HEADERS, 1, post) + frame(DATA, END_STREAM, 1, body),
        "continuation": client_settings + frame(HEADERS, END_STREAM, 1, get[:3])
        + frame(CONTINUATION, 0, 1, get[3:6]) + frame(CONTINUATION, END_HEADERS, 1, get[6:]),
        "concurrent": client_settings + frame(SETTINGS, ACK, 0)
        + frame(HEADERS, END_HEADERS, 1, post) + frame(HEADERS, END_STREAM | END_HEADERS, 3, get)
        + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)) + frame(DATA, 0, 1, body[:10])
        + frame(PING, 0, 0, b"12345678") + frame(DATA, END_STREAM, 1, body[10:]),
        "reset": client_settings + frame(HEADERS, END_HEADERS, 1, post)
        + frame(RST_STREAM, 0, 1, struct.pack(">I", 8)) + frame(HEADERS, END_STREAM | END_HEADERS, 3, get),
        "priority_goaway": client_settings + frame(PRIORITY, 0, 3, struct.pack(">IB", 1, 16))
        + frame(HEADERS, END_STREAM | END_HEADERS | PRIORITY_FLAG, 5, struct.pack(">IB", 0, 200) + get)
        + frame(GOAWAY, 0, 0, struct.pack(">II", 5, 0)),
        "padded": client_settings + frame(HEADERS, END_HEADERS | PADDED, 1, bytes([4]) + post + b"\0" * 4)
        + frame(DATA, END_STREAM | PADDED, 1, bytes([3]) + body + b"\0" * 3),
        "trailers": client_settings + frame(HEADERS, END_HEADERS, 1, post) + frame(DATA, 0, 1, body)
        + frame(HEADERS, END_STREAM | END_HEADERS, 1, literal_new("x-trailer", "done")),
        "head_request": client_settings + frame(HEADERS, END_STREAM | END_HEADERS, 1,
                                                literal(2, "HEAD") + bytes([0x86, 0x84]) + literal(1, "a")),
    }
    return seeds


# ---- API request bodies ---------------------------------------------------------------------------

API = {
    "completion": {"model": "m", "prompt": "Once upon a time", "max_tokens": 8},
    "completion_all": {"prompt": ["The sky is"], "max_tokens": 16, "temperature": 0.7, "top_p": 0.9, "top_k": 40,
                       "min_p": 0.05, "seed": -1, "stop": ["\n", "."], "presence_penalty": 0.5,
                       "frequency_penalty": -0.5, "repetition_penalty": 1.1, "logprobs": 3, "echo": True,
                       "n": 1, "ignore_eos": False, "stream": True, "stream_options": {"include_usage": True}},
    "completion_tokens": {"prompt": [1, 2, 3, 42], "max_tokens": 1, "seed": 18446744073709551615},
    "completion_nested": {"prompt": [[9, 8, 7]], "stop": "x", "temperature": 0},
    "chat": {"model": "m", "messages": [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Hi"},
                                        {"role": "assistant", "content": "Hello"},
                                        {"role": "user", "content": "Again"}]},
    "chat_parts": {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
                                                             {"type": "text", "text": "b"}]}],
                   "logprobs": True, "top_logprobs": 2, "max_completion_tokens": 5, "stream": True},
    "chat_nulls": {"messages": [{"role": "user", "content": "x"}], "max_tokens": None, "stop": None, "seed": 2.0},
    "tokenize_prompt": {"model": "m", "prompt": "Hello world", "add_special_tokens": False},
    "tokenize_messages": {"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": True},
    "detokenize": {"model": "m", "tokens": [1, 2, 3]},
}


# ---- chat templates -------------------------------------------------------------------------------

def template_seeds():
    path = os.path.join(ROOT, "Tests", "ShiftAddChatTemplateTests", "Golden", "templates.json")
    with open(path) as f:
        cases = json.load(f)["cases"]
    seeds, seen = {}, set()
    for case in cases:
        template = case["template"]
        if template in seen:
            continue
        seen.add(template)
        name = case["name"].split("/")[0]
        data = template.encode()
        if case.get("messages"):
            data += b"\0" + json.dumps(case["messages"], ensure_ascii=False).encode()
        seeds[name] = data
    return seeds


# ---- tokenizer ------------------------------------------------------------------------------------

def tokenizer_seeds():
    texts = {
        "plain": (0, "Hello, world! How are you today?"),
        "spaces": (0, "  multiple   spaces\n\n\ttabs and\r\nlines  "),
        "unicode": (0, "naïve café — 日本語のテキスト 🤖👍🏽 ÅΩ"),
        "numbers": (0, "In 2024, 3.14159 × 1000000 = 3141590; call 555-0100."),
        "contractions": (0, "I'm sure they'll say we've done what you'd've DONE'S"),
        "code": (0, "def f(x):\n    return x**2  # square\n"),
        "special": (4 | 2, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"),
        "special_as_text": (0, "<|im_start|>user<|endoftext|>"),
        "sentencepiece": (1 | 2, "the tall heel an é 日本 hello"),
        "sentencepiece_special": (1 | 4, "<s>the<|user|>an</s>"),
        "decode_ids": (8, bytes([0, 1, 0, 2, 0, 100, 1, 0, 0x30, 0x39, 0xff, 0xff])),
        "decode_skip": (8 | 16 | 1, bytes([0, 1, 0, 3, 1, 2, 0, 2])),
    }
    return {name: bytes([flags]) + (text if isinstance(text, bytes) else text.encode()) for name, (flags, text) in texts.items()}


# ---- GGUF -----------------------------------------------------------------------------------------

def tiny_gguf(path, arch, tokenizer_model, tensor_type, separate_output, bias):
    dim, hidden, heads, kv_heads, vocab = 32, 64, 4, 2, 40
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(path, arch)
    w.add_name("tiny " + arch)
    w.add_context_length(64)
    w.add_embedding_length(dim)
    w.add_feed_forward_length(hidden)
    w.add_block_count(1)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(vocab)
    if tokenizer_model == "gpt2":
        letters = list("abcdefghijklmnopqrstuvwxyzĠĊ")
        merged = ["Ġt", "he", "Ġthe", "in", "er", "an", "on"]
        tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + letters + merged
        tokens += ["<extra%d>" % i for i in range(vocab - len(tokens))]
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("smollm")
        w.add_token_list(tokens)
        w.add_token_types([3, 3, 3] + [1] * (vocab - 3))
        w.add_token_merges(["Ġ t", "h e", "Ġt he", "i n", "e r", "a n", "o n"])
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_chat_template(CHATML)
    else:
        tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(10)] + list("▁abcdefghij") + \
                 ["▁a", "▁b", "ab", "cd", "▁ab", "ef"]
        tokens += ["x%d" % i for i in range(vocab - len(tokens))]
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_scores([0.0, 0.0, 0.0] + [0.0] * 10 + [-float(i) for i in range(vocab - 13)])
        w.add_token_types([2, 3, 3] + [6] * 10 + [1] * (vocab - 13))
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
        w.add_add_bos_token(True)

    def tensor(name, rows, cols, kind):
        values = rng.standard_normal((rows, cols)).astype(np.float32) * 0.1
        if kind == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, values)
        elif kind == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, values.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(values, kind), raw_dtype=kind)

    head_dim = dim // heads
    tensor("token_embd.weight", vocab, dim, gguf.GGMLQuantizationType.F16)
    w.add_tensor("output_norm.weight", np.ones(dim, dtype=np.float32))
    if separate_output:
        tensor("output.weight", vocab, dim, tensor_type)
    w.add_tensor("blk.0.attn_norm.weight", np.ones(dim, dtype=np.float32))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(dim, dtype=np.float32))
    shapes = {"attn_q": (heads * head_dim, dim), "attn_k": (kv_heads * head_dim, dim), "attn_v": (kv_heads * head_dim, dim),
              "attn_output": (dim, heads * head_dim), "ffn_gate": (hidden, dim), "ffn_up": (hidden, dim),
              "ffn_down": (dim, hidden)}
    for name, (rows, cols) in shapes.items():
        tensor("blk.0.%s.weight" % name, rows, cols, tensor_type)
        if bias and name in ("attn_q", "attn_k", "attn_v"):
            w.add_tensor("blk.0.%s.bias" % name, np.zeros(rows, dtype=np.float32))
    # One random row of each super-block type, decoded by the raw reader (not part of the model).
    for kind in (gguf.GGMLQuantizationType.Q4_K, gguf.GGMLQuantizationType.Q5_K, gguf.GGMLQuantizationType.Q6_K):
        block_bytes = gguf.GGML_QUANT_SIZES[kind][1]
        w.add_tensor("extra.%s" % kind.name.lower(), rng.integers(0, 256, size=(1, block_bytes), dtype=np.uint8),
                     raw_dtype=kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_seeds(tmp):
    Q = gguf.GGMLQuantizationType
    variants = {
        "llama_gpt2_q8_0": ("llama", "gpt2", Q.Q8_0, False, False),
        "qwen2_llama_q4_0": ("qwen2", "llama", Q.Q4_0, True, True),
        "mistral_gpt2_q4_1": ("mistral", "gpt2", Q.Q4_1, True, False),
        "llama_llama_f16": ("llama", "llama", Q.F16, False, False),
    }
    seeds = {}
    for name, args in variants.items():
        path = os.path.join(tmp, name + ".gguf")
        tiny_gguf(path, *args)
        with open(path, "rb") as f:
            seeds[name] = f.read()
    return seeds


# ---- bundle ---------------------------------------------------------------------------------------

def code_bits(terms):
    def tails(m):
        return 1 if m == 0 else 1 + 6 * tails(m - 1)
    count = 1 + 15 * tails(terms - 1)
    return (count - 1).bit_length(), (2 * (count - 1) + 1).bit_length(), count


def pack_codes(codes, width):
    words = [0] * ((len(codes) * width + 63) // 64)
    for i, code in enumerate(codes):
        bit = i * width
        w, o = divmod(bit, 64)
        words[w] |= (code << o) & (2 ** 64 - 1)
        if o + width > 64:
            words[w + 1] |= code >> (64 - o)
    return np.array(words, dtype=np.uint64)


def tiny_bundle(bits, group, terms, rotation, with_tokenizer):
    dim, hidden, heads, kv_heads, vocab = 32, 64, 2, 1, 40
    head_dim = dim // heads
    rng = np.random.default_rng(11)
    alpha_bits, beta_bits, count = code_bits(terms)
    tensors = []

    def add(name, dtype, array):
        tensors.append((name, dtype, list(array.shape), np.ascontiguousarray(array).tobytes()))

    add("token_embd.weight", "f16", (rng.standard_normal((vocab, dim)) * 0.1).astype(np.float16))
    add("output_norm.weight", "f32", np.ones(dim, dtype=np.float32))
    layers = []
    shapes = {"attn_q": (heads * head_dim, dim), "attn_k": (kv_heads * head_dim, dim), "attn_v": (kv_heads * head_dim, dim),
              "attn_output": (dim, heads * head_dim), "ffn_gate": (hidden, dim), "ffn_up": (hidden, dim),
              "ffn_down": (dim, hidden)}
    add("blk.0.attn_norm.weight", "f32", np.ones(dim, dtype=np.float32))
    add("blk.0.ffn_norm.weight", "f32", np.ones(dim, dtype=np.float32))
    for name, (rows, cols) in shapes.items():
        base = "blk.0." + name
        words = (cols + 63) // 64
        groups = (cols + group - 1) // group
        planes = rng.integers(0, 2 ** 63, size=(bits, rows, words), dtype=np.uint64)
        if cols % 64:
            planes[:, :, -1] &= np.uint64((1 << (cols % 64)) - 1)  # padding bits stay zero
        add(base + ".planes", "u64", planes)
        add(base + ".scale_base", "i8", np.full(rows, -4, dtype=np.int8))
        alpha = rng.integers(1, count, size=rows * groups * bits)
        beta = rng.integers(0, count, size=rows * groups) * 2 + rng.integers(0, 2, size=rows * groups)
        beta[beta == 1] = 0
        add(base + ".alpha_codes", "u64", pack_codes([int(c) for c in alpha], alpha_bits))
        add(base + ".beta_codes", "u64", pack_codes([int(c) for c in beta], beta_bits))
        layers.append({"name": base, "bits": bits, "rows": rows, "cols": cols, "hasOffset": True})

    entries, data = [], b""
    for name, dtype, shape, raw in tensors:
        data += b"\0" * (-len(data) % 64)
        entries.append({"name": name, "dtype": dtype, "shape": shape, "offset": len(data), "length": len(raw),
                        "sha256": hashlib.sha256(raw).hexdigest()})
        data += raw
    manifest = {
        "formatVersion": 1,
        "config": {"architecture": "llama", "vocabSize": vocab, "dim": dim, "hiddenDim": hidden, "layerCount": 1,
                   "headCount": heads, "kvHeadCount": kv_heads, "headDim": head_dim, "contextLength": 64,
                   "ropeTheta": 10000.0, "ropeStyle": "interleaved", "rmsNormEpsilon": 1e-5,
                   "tiedEmbeddings": True, "attentionBias": False},
        "chatTemplate": CHATML,
        "metadata": {"general.name": "tiny"},
        "quantization": {"groupSize": group, "apotTerms": terms,
                         "rotation": {"kind": rotation, "block": 32 if rotation == "hadamard" else 0, "seed": 5},
                         "planeLayout": "bcq-planes-v1", "scaleCode": "apot-v1", "layers": layers},
        "provenance": {"sourceFile": "tiny.gguf", "sourceSHA256": "0" * 64, "converterVersion": "seed",
                       "options": {"bits": str(bits)}},
        "tensors": entries,
        "dataSize": len(data),
    }
    if with_tokenizer:
        tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + list("abcdefghijklmnopqrstuvwxyzĠĊ") + ["Ġt", "he"]
        tokens += ["<extra%d>" % i for i in range(vocab - len(tokens))]
        manifest["tokenizer"] = {"model": "gpt2", "preTokenizer": "smollm", "tokens": tokens,
                                 "tokenTypes": [3, 3, 3] + [1] * (vocab - 3), "merges": ["Ġ t", "h e"],
                                 "bosTokenId": 1, "eosTokenId": 2, "addBosToken": False, "addEosToken": False,
                                 "addSpacePrefix": False}
    text = json.dumps(manifest, separators=(",", ":")).encode()
    header = b"SHIFTADD" + struct.pack("<IIQQ", 1, 64, 64, len(text)) + hashlib.sha256(text).digest()
    body = header + text
    body += b"\0" * (-len(body) % 64)
    return body + data


def bundle_seeds():
    return {
        "b2_g32_t2": tiny_bundle(2, 32, 2, "none", True),
        "b1_g64_t1_hadamard": tiny_bundle(1, 64, 1, "hadamard", False),
        "b3_g32_t3": tiny_bundle(3, 32, 3, "none", True),
    }


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    for name, text in HTTP1.items():
        write("http1-parser", name, text)
        write("http1-connection", name, text)
    for name, data in http2_seeds().items():
        write("http2-session", name, data)
    for name, body in API.items():
        write("api-request", name, json.dumps(body, ensure_ascii=False))
    write("api-request", "unicode", '{"prompt":"caf\\u00e9 \\ud83e\\udd16 \u65e5\u672c","max_tokens":2}')
    for name, data in template_seeds().items():
        write("chat-template", name, data)
    for name, data in tokenizer_seeds().items():
        write("tokenizer", name, data)
    tmp = os.path.join(CORPUS, ".tmp")
    os.makedirs(tmp)
    for name, data in gguf_seeds(tmp).items():
        write("gguf", name, data)
    shutil.rmtree(tmp)
    for name, data in bundle_seeds().items():
        write("bundle", name, data)
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print("%-18s %3d seeds %8d bytes" % (target, len(files), size))


if __name__ == "__main__":
    sys.exit(main())
