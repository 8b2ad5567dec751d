"""Batch-1 greedy decode speed of llama.cpp on a GGUF file, for side-by-side figures.

llama.cpp is a benchmark peer only: this script runs in a virtual environment of its own with
PyPI's llama-cpp-python (built from source for this CPU by `make bench-llamacpp`).
Protocol of ../shared/notes/reference-numbers.md: a 15-token prompt, then 128 tokens decoded one
`eval` call at a time with greedy sampling; median and range over the repeats.
Usage: bench_llamacpp.py MODEL.gguf THREADS REPEATS [SHIFTADD_BENCH.json]
With the JSON report of `shiftadd bench` measured just before on a bundle of the same GGUF, it also
prints ShiftAdd's batch-1 decode rate beside llama.cpp's and their ratio.
Scripts/llamacpp_peer.py imports `decode_figures` for `make pareto`.
"""

import json
import statistics
import sys
import time

from llama_cpp import Llama

PROMPT = "The history of the lighthouse begins with the ancient harbours of the eastern sea, where fires burned"
NEW_TOKENS = 128


def decode_rate(llm, prompt_tokens):
    llm.reset()
    llm.eval(prompt_tokens)
    token = llm.sample(temp=0.0)
    started = time.perf_counter()
    for _ in range(NEW_TOKENS):
        llm.eval([token])
        token = llm.sample(temp=0.0)
    return NEW_TOKENS / (time.perf_counter() - started)


def decode_figures(path, threads, repeats):
    """Loads `path` and runs the protocol: one warm-up, then `repeats` timed runs (tok/s)."""
    llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=512, verbose=False)
    prompt = llm.tokenize(PROMPT.encode())[:15]
    decode_rate(llm, prompt)
    rates = sorted(decode_rate(llm, prompt) for _ in range(repeats))
    return {"prompt_tokens": len(prompt), "new_tokens": NEW_TOKENS, "threads": threads, "runs": rates,
            "median": statistics.median(rates), "min": rates[0], "max": rates[-1]}


def main():
    path, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    f = decode_figures(path, threads, repeats)
    print(f"llama.cpp {path}: {f['prompt_tokens']}-token prompt, {NEW_TOKENS} greedy tokens, {threads} threads: "
          f"{f['median']:.1f} tok/s (min {f['min']:.1f}, max {f['max']:.1f}, {repeats} runs)")
    if len(sys.argv) > 4:
        report = json.load(open(sys.argv[4]))
        for engine in report["engines"]:
            rate = engine["summary"]["decode_tokens_per_s"]
            print(f"shiftadd {engine['engine']}-bit bundle: {report['sizes']['prompt_tokens']}-token prompt, "
                  f"{report['sizes']['decode_tokens']} greedy tokens, {report['threads']} threads: "
                  f"{rate['median']:.1f} tok/s (min {rate['min']:.1f}, max {rate['max']:.1f}); "
                  f"{rate['median'] / f['median']:.2f}x llama.cpp")


if __name__ == "__main__":
    main()
