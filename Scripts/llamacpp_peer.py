"""llama.cpp's side of `make pareto` (Scripts/pareto.py), run in the llama.cpp virtual environment.

Each command prints one JSON object on stdout.
  quantize SRC DST TYPE THREADS        llama.cpp's quantizer: SRC (any GGUF type) to DST as TYPE
                                       (Q4_K_M, Q2_K, ...: a LLAMA_FTYPE_MOSTLY_ name); {"bytes"}
  perplexity MODEL TEXT IDS CTX THREADS  perplexity of the token ids in the JSON file IDS, in
                                       non-overlapping windows of CTX, the protocol of `shiftadd eval`
                                       (no BOS; row p of a window predicts token p + 1; the window's
                                       first token is never scored); also whether llama.cpp's own
                                       tokenization of TEXT starts with the same ids, and the model's
                                       parameter count as llama.cpp counts it
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


def perplexity(path, text_path, ids_path, ctx, threads):
    with open(ids_path) as f:
        ids = json.load(f)
    windows = len(ids) // ctx
    if windows == 0:
        raise SystemExit(f"{len(ids)} tokens, fewer than one window of {ctx}")
    llm = Llama(model_path=path, n_ctx=ctx, n_batch=ctx, n_ubatch=ctx, n_threads=threads, n_threads_batch=threads,
                logits_all=True, verbose=False)
    with open(text_path, "rb") as f:
        own = llm.tokenize(f.read(), add_bos=False, special=False)[:len(ids)]
    nll = 0.0
    for w in range(windows):
        window = ids[w * ctx:(w + 1) * ctx]
        llm.reset()
        llm.eval(window)
        logits = llm.scores[:ctx - 1].astype(np.float64)
        peak = logits.max(axis=1, keepdims=True)
        log_sums = np.log(np.exp(logits - peak).sum(axis=1)) + peak[:, 0]
        nll -= float((logits[np.arange(ctx - 1), window[1:]] - log_sums).sum())
    scored = windows * (ctx - 1)
    return {"tokens": scored, "nll": nll / scored, "ppl": float(np.exp(nll / scored)),
            "tokenization_agrees": own == ids, "n_params": llama_cpp.llama_model_n_params(llm.model)}


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "quantize":
        result = quantize(args[0], args[1], args[2], int(args[3]))
    elif command == "perplexity":
        result = perplexity(args[0], args[1], args[2], int(args[3]), int(args[4]))
    elif command == "decode":
        result = decode_figures(args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown command {command}: expected quantize, perplexity or decode")
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
