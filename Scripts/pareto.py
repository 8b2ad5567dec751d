"""`make pareto`: file size against perplexity for ShiftAdd bundles and llama.cpp's GGUF files of
one model, with batch-1 decode speed, as a Markdown table, a JSON report and a PNG plot.

Runs in the tools virtual environment (matplotlib); llama.cpp runs in its own environment through
Scripts/llamacpp_peer.py, ShiftAdd through the built binaries. Protocol (Docs/benchmarks.md): the
first TOKENS token ids of the text as `shiftadd tokenize` gives them, non-overlapping windows of
CTX, no BOS, every token of a window but the first scored, for every file on its own engine; each
llama.cpp file also on `shiftadd eval --engine fp32` (its weights dequantized). The reference is the
source GGUF on `shiftadd eval --engine fp32`.
Quantized llama.cpp files are cached beside the source GGUF, bundles in OUT/bundles/ under a name
holding their options; both are made only when missing.
"""

import argparse
import json
import os
import subprocess
import time
import sys

SCRIPTS = os.path.dirname(os.path.abspath(__file__))


def run(argv, what):
    """Runs argv; returns its stdout, or raises with its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (status {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def run_json(argv, what):
    return json.loads(run(argv, what))


def say(message):
    print(message, file=sys.stderr, flush=True)


class Pareto:
    def __init__(self, a):
        self.a = a
        self.shiftadd = os.path.join(a.bin, "shiftadd")
        self.converter = os.path.join(a.bin, "shiftadd-convert")
        self.peer = [a.llamacpp_python, os.path.join(SCRIPTS, "llamacpp_peer.py")]
        name = os.path.basename(a.model)
        # SmolLM2-135M-Instruct.Q4_1.gguf: the model's name without its quantization type.
        self.base, self.source_type = name[:-len(".gguf")].rsplit(".", 1)
        self.model_dir = os.path.dirname(os.path.abspath(a.model))
        self.ids_path = os.path.join(a.out, f"tokens-{a.tokens}.json")

    def token_ids(self):
        ids = json.loads(run([self.shiftadd, "tokenize", "--model", self.a.model, "--file", self.a.text], "shiftadd tokenize"))
        ids = ids[:self.a.tokens]
        if len(ids) < self.a.ctx:
            raise RuntimeError(f"{self.a.text} has {len(ids)} tokens, fewer than one window of {self.a.ctx}")
        with open(self.ids_path, "w") as f:
            json.dump(ids, f)

    def shiftadd_eval(self, path, engine):
        """Perplexity on `engine`, or None with the reason when the GGUF reader refuses the file's tensor types."""
        argv = [self.shiftadd, "eval", "--model", path, "--engine", engine, "--text", self.a.text,
                "--max-tokens", str(self.a.tokens), "--ctx", str(self.a.ctx), "--threads", str(self.a.threads), "--json"]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            if "unsupported type" in done.stderr:
                return None, done.stderr.strip().splitlines()[-1]
            raise RuntimeError(f"shiftadd eval {path} failed (status {done.returncode}): {done.stderr.strip()}")
        return json.loads(done.stdout)["ppl"], None

    def llamacpp_file(self, type_name):
        if type_name == self.source_type:
            return self.a.model
        path = os.path.join(self.model_dir, f"{self.base}.{type_name}.gguf")
        if not os.path.exists(path):
            say(f"pareto: quantizing {type_name} with llama.cpp")
            staged = path + ".partial"
            run(self.peer + ["quantize", self.a.model, staged, type_name, str(self.a.convert_threads)], f"quantizing {type_name}")
            os.replace(staged, path)
        return path

    def llamacpp_row(self, type_name):
        path = self.llamacpp_file(type_name)
        say(f"pareto: llama.cpp {type_name}: perplexity, ShiftAdd fp32 perplexity, decode")
        own = run_json(self.peer + ["perplexity", path, self.a.text, self.ids_path, str(self.a.ctx), str(self.a.threads)],
                       f"llama.cpp perplexity of {path}")
        fp32, refused = self.shiftadd_eval(path, "fp32")
        decode = run_json(self.peer + ["decode", path, str(self.a.threads), str(self.a.repeat)], f"llama.cpp decode of {path}")
        return {"system": "llama.cpp", "label": type_name, "file": path, "bytes": os.path.getsize(path),
                "ppl": own["ppl"], "tokens_scored": own["tokens"], "tokenization_agrees": own["tokenization_agrees"],
                "n_params": own["n_params"], "shiftadd_fp32_ppl": fp32, "shiftadd_fp32_refused": refused,
                "decode_tokens_per_s": decode["median"], "decode_runs": decode["runs"]}

    def bundle_row(self, label, options):
        """Converts (unless cached), evaluates on the kernels and benchmarks one bundle; a refused
        conversion (such as a size below the smallest possible) becomes a row with the reason."""
        key = "-".join(o.lstrip("-") for o in options)
        path = os.path.join(self.a.out, "bundles", f"{self.base}.{self.source_type}.{self.a.preset}.{key}.sabundle")
        row = {"system": "ShiftAdd", "label": label, "file": path,
               "options": ["--preset", self.a.preset] + options}
        if not os.path.exists(path):
            say(f"pareto: converting {label} ({' '.join(row['options'])})")
            # Every size-limited bundle of one model and preset shares one measurement of effects.
            effects = ["--effects", os.path.join(self.a.out, "bundles", f"{self.base}.{self.source_type}.{self.a.preset}.effects.json")]
            started = time.monotonic()
            done = subprocess.run([self.converter, self.a.model, path, "--threads", str(self.a.convert_threads)] + row["options"]
                                  + (effects if "--max-bytes" in options else []), capture_output=True, text=True)
            row["convert_seconds"] = round(time.monotonic() - started)
            if done.returncode != 0:
                row["refused"] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"status {done.returncode}"
                return row
        say(f"pareto: bundle {label}: perplexity, decode")
        row["bytes"] = os.path.getsize(path)
        row["ppl"], _ = self.shiftadd_eval(path, "kernels")
        bench = run_json([self.shiftadd, "bench", "--bundle3", path, "--threads", str(self.a.threads),
                          "--repeat", str(self.a.repeat), "--batches", "1", "--json"], f"shiftadd bench of {path}")
        engine = bench["engines"][0]
        row["decode_tokens_per_s"] = engine["summary"]["decode_tokens_per_s"]["median"]
        row["decode_runs"] = engine["decode_tokens_per_s"]
        return row

    def measure(self):
        os.makedirs(os.path.join(self.a.out, "bundles"), exist_ok=True)
        self.token_ids()
        llamacpp = [self.llamacpp_row(t) for t in [self.source_type] + self.a.llamacpp_types]
        source = llamacpp[0]
        if source["shiftadd_fp32_ppl"] is None:
            raise RuntimeError(f"the reference {self.a.model} is refused by the GGUF reader: {source['shiftadd_fp32_refused']}")
        reference = source["shiftadd_fp32_ppl"]
        n_params = source["n_params"]
        sizes = list(self.a.max_bytes)
        if self.a.match_llamacpp:
            sizes = [r["bytes"] for r in llamacpp if r["bytes"] < source["bytes"]] + sizes
        # Two llama.cpp types can have one size (Q3_K_S and Q2_K do on SmolLM2-135M): one bundle each size.
        specs = [(f"≤ {n:,} bytes" + ("" if h == 8 else f", {h}-plane head"),
                  ["--max-bytes", str(n)] + ([] if h == 8 else ["--head-bits", str(h)]))
                 for n in dict.fromkeys(sizes) for h in self.a.head_bits]
        specs += [(f"{b}-bit", ["--bits", str(b)]) for b in self.a.bits]
        bundles = [self.bundle_row(label, options) for label, options in specs]
        rows = llamacpp + bundles
        for r in rows:
            if "bytes" in r:
                r["bits_per_weight"] = 8 * r["bytes"] / n_params
            if r.get("ppl") is not None:
                r["ratio"] = r["ppl"] / reference
        return {"protocol": {"text": self.a.text, "tokens": self.a.tokens, "ctx": self.a.ctx, "bos": False,
                             "tokens_scored": source["tokens_scored"], "threads": self.a.threads, "repeat": self.a.repeat,
                             "preset": self.a.preset, "kernels": run([self.shiftadd, "kernels"], "shiftadd kernels").strip()},
                "reference": {"file": self.a.model, "engine": "shiftadd eval --engine fp32", "ppl": reference},
                "n_params": n_params, "rows": rows, "winners": winners(llamacpp, bundles, source["bytes"])}


def winners(llamacpp, bundles, source_bytes):
    """For each llama.cpp file smaller than the source: the lowest-perplexity bundle no larger. The
    file is judged by the lower of its two perplexities (llama.cpp's own and ShiftAdd fp32 on its
    dequantized weights), so a bundle wins only by beating both."""
    result = []
    for r in llamacpp:
        if r["bytes"] >= source_bytes:
            continue
        judged = min(p for p in (r["ppl"], r["shiftadd_fp32_ppl"]) if p is not None)
        fitting = [b for b in bundles if b.get("ppl") is not None and b["bytes"] <= r["bytes"]]
        best = min(fitting, key=lambda b: b["ppl"], default=None)
        result.append({"llamacpp": r["label"], "bytes": r["bytes"], "ppl": judged,
                       "bundle": best and best["label"], "bundle_bytes": best and best["bytes"],
                       "bundle_ppl": best and best["ppl"], "bundle_wins": best is not None and best["ppl"] < judged})
    return result


def table(report):
    p = report["protocol"]
    lines = [f"Perplexity: first {p['tokens']:,} tokens of {os.path.basename(p['text'])}, ctx {p['ctx']}, no BOS, "
             f"{p['tokens_scored']:,} tokens scored; reference {report['reference']['ppl']:.4f} "
             f"({os.path.basename(report['reference']['file'])} on shiftadd eval --engine fp32). "
             f"Bits per weight: 8 × file bytes / {report['n_params']:,} parameters. "
             f"Decode: batch 1, {p['threads']} threads, median of {p['repeat']}; ShiftAdd bundles: --preset {p['preset']}, "
             f"kernels {p['kernels']}.",
             "",
             "| system | file | bytes | bits/weight | perplexity (own engine) | / reference | perplexity, ShiftAdd fp32 on its weights | decode tok/s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        if "refused" in r:
            lines.append(f"| {r['system']} | {r['label']} | — | — | not made: {r['refused']} | — | — | — |")
            continue
        if r["system"] == "llama.cpp":
            refused = r["shiftadd_fp32_refused"]
            fp32 = f"{r['shiftadd_fp32_ppl']:.2f}" if refused is None else "unsupported type" + refused.split("unsupported type", 1)[1]
        else:
            fp32 = "—"
        lines.append(f"| {r['system']} | {r['label']} | {r['bytes']:,} | {r['bits_per_weight']:.3f} | {r['ppl']:.2f} | "
                     f"{r['ratio']:.3f} | {fp32} | {r['decode_tokens_per_s']:.1f} |")
    lines.append("")
    lines.append("Smallest perplexity among bundles no larger than each llama.cpp file smaller than the source "
                 "(the file judged by the lower of its two perplexities):")
    lines.append("")
    for w in report["winners"]:
        if w["bundle"] is None:
            lines.append(f"- {w['llamacpp']} ({w['bytes']:,} bytes, perplexity {w['ppl']:.2f}): no bundle that small")
        else:
            verdict = "beats it" if w["bundle_wins"] else "does not beat it"
            lines.append(f"- {w['llamacpp']} ({w['bytes']:,} bytes, perplexity {w['ppl']:.2f}): bundle {w['bundle']} "
                         f"({w['bundle_bytes']:,} bytes, perplexity {w['bundle_ppl']:.2f}) {verdict}")
    return "\n".join(lines) + "\n"


def plot(report, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    for system, marker in (("llama.cpp", "s"), ("ShiftAdd", "o")):
        # Files of one size and perplexity (llama.cpp's Q3_K_S and Q2_K here) share a point and a label.
        labels = {}
        for r in report["rows"]:
            if r["system"] == system and r.get("ppl") is not None:
                labels.setdefault((r["bytes"] / 1e6, r["ppl"]), []).append(r["label"])
        if not labels:
            continue
        points = sorted(labels)
        axes.plot([x for x, _ in points], [y for _, y in points], marker=marker, label=system)
        for x, y in points:
            axes.annotate(", ".join(labels[(x, y)]), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    axes.axhline(report["reference"]["ppl"], color="grey", linestyle=":", label="reference (fp32, dequantized source)")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axes.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    axes.margins(x=0.1)
    axes.set_xlabel("file size (MB)")
    axes.set_ylabel("perplexity")
    p = report["protocol"]
    axes.set_title(f"Size against perplexity: first {p['tokens']:,} tokens of {os.path.basename(p['text'])}, ctx {p['ctx']}")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory of shiftadd and shiftadd-convert")
    parser.add_argument("--model", required=True, help="source GGUF; its name ends in .TYPE.gguf")
    parser.add_argument("--text", required=True)
    parser.add_argument("--out", required=True, help="directory for bundles, pareto.md and pareto.json")
    parser.add_argument("--plot", required=True, help="PNG to write")
    parser.add_argument("--llamacpp-python", required=True, help="python of the llama.cpp virtual environment")
    parser.add_argument("--llamacpp-types", nargs="*", default=[], help="llama.cpp types to quantize the source to")
    parser.add_argument("--max-bytes", nargs="*", type=int, default=[], help="bundle size limits in bytes")
    parser.add_argument("--match-llamacpp", type=int, default=1,
                        help="1: also a bundle limited to each llama.cpp file's size below the source's")
    parser.add_argument("--bits", nargs="*", type=int, default=[], help="uniform bit widths of further bundles")
    parser.add_argument("--head-bits", nargs="*", type=int, default=[8],
                        help="head forms of each size-limited bundle (8: int8 rows; 2-4: planes)")
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--tokens", type=int, default=16384)
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="threads of every evaluation and speed measurement")
    parser.add_argument("--convert-threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=3)
    a = parser.parse_args()

    report = Pareto(a).measure()
    text = table(report)
    print(text, end="")
    with open(os.path.join(a.out, "pareto.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "pareto.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    plot(report, a.plot)
    say(f"pareto: wrote {os.path.join(a.out, 'pareto.md')}, {os.path.join(a.out, 'pareto.json')} and {a.plot}")


if __name__ == "__main__":
    main()
