"""llama.cpp's side of `make pareto` (Scripts/pareto.py), run in the llama.cpp virtual environment.

Each command prints one JSON object on stdout.
  quantize SRC DST TYPE THREADS        llama.cpp's quantizer: SRC (any GGUF type) to DST as TYPE
                                       (Q4_K_M, Q2_K, ...: a LLAMA_FTYPE_MOSTLY_ name); {"bytes"}
  perplexity MODEL TEXT IDS CTX THREADS [bos]
                                       perplexity of the token ids in the JSON file IDS, in
                                       non-overlapping windows of CTX, the protocol of `shiftadd eval`
                                       (row p of a window predicts token p + 1; the window's first
                                       token is never scored; with `bos`, the model's BOS before each
                                       window, as `shiftadd eval` does when the vocabulary asks for
                                       it); also whether llama.cpp's own tokenization of TEXT starts
                                       with the same ids, and the model's parameter count as
                                       llama.cpp counts it
  decode MODEL THREADS REPEATS         batch-1 decode speed, the protocol of Scripts/bench_llamacpp.py
"""

import json
import sys

import llama_cpp
import numpy as np
from llama_cpp import Llama

from bench_llamacpp import decode_figures


def quantize(src, dst, type_name, threads):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{type_name}")
    params.allow_requantize = True
    params.nthread = threads
    if llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params) != 0:
        raise SystemExit(f"llama_model_quantize {src} -> {dst} ({type_name}) failed")
    with open(dst, "rb") as f:
        return {"bytes": f.seek(0, 2)}


def perplexity(path, text_path, ids_path, ctx, threads, bos=False):
    with open(ids_path) as f:
        ids = json.load(f)
    windows = len(ids) // ctx
    if windows == 0:
        raise SystemExit(f"{len(ids)} tokens, fewer than one window of {ctx}")
    prefix = 1 if bos else 0
    n = ctx + prefix
    llm = Llama(model_path=path, n_ctx=n, n_batch=n, n_ubatch=n, n_threads=threads, n_threads_batch=threads,
                logits_all=True, verbose=False)
    with open(text_path, "rb") as f:
        own = llm.tokenize(f.read(), add_bos=False, special=False)[:len(ids)]
    nll = 0.0
    for w in range(windows):
        window = ([llm.token_bos()] if bos else []) + ids[w * ctx:(w + 1) * ctx]
        llm.reset()
        llm.eval(window)
        # Rows prefix .. n - 2 predict the window's text tokens after its first; a few rows at a
        # time in float64, so a large vocabulary (Gemma's 262,144) stays within memory.
        for start in range(prefix, n - 1, 256):
            stop = min(start + 256, n - 1)
            logits = llm.scores[start:stop].astype(np.float64)
            peak = logits.max(axis=1, keepdims=True)
            log_sums = np.log(np.exp(logits - peak).sum(axis=1)) + peak[:, 0]
            targets = window[start + 1:stop + 1]
            nll -= float((logits[np.arange(stop - start), targets] - log_sums).sum())
    scored = windows * (ctx - 1)
    return {"tokens": scored, "nll": nll / scored, "ppl": float(np.exp(nll / scored)),
            "tokenization_agrees": own == ids, "n_params": llama_cpp.llama_model_n_params(llm.model)}


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "quantize":
        result = quantize(args[0], args[1], args[2], int(args[3]))
    elif command == "perplexity":
        if args[5:] not in ([], ["bos"]):
            raise SystemExit(f"perplexity: unexpected arguments {args[5:]}: expected nothing or bos")
        result = perplexity(args[0], args[1], args[2], int(args[3]), int(args[4]), bos=args[5:] == ["bos"])
    elif command == "decode":
        result = decode_figures(args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown command {command}: expected quantize, perplexity or decode")
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
