#!/usr/bin/env python3
"""Checks that shiftadd decodes every tensor of a real GGUF file bit for bit like the `gguf` package.

Usage: check_gguf_dequant.py GGUF_FILE SHIFTADD_BIN

Runs `SHIFTADD_BIN inspect GGUF_FILE --dequantize DIR` into a temporary directory, decodes each
tensor with gguf.quants.dequantize, and compares the float32 bit patterns (so -0.0 and 0.0 differ,
and NaNs must match exactly). Prints per tensor type how many tensors and values were checked and
exits 1 if any tensor differs or is missing."""
import os, subprocess, sys, tempfile
from collections import defaultdict
import numpy as np
from gguf import GGUFReader, quants


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, binary = sys.argv[1], sys.argv[2]
    reader = GGUFReader(path)
    tensors = defaultdict(int)
    values = defaultdict(int)
    failures = 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "inspect", path, "--dequantize", out], check=True, stdout=subprocess.DEVNULL)
        for t in reader.tensors:
            expected = np.ascontiguousarray(quants.dequantize(t.data, t.tensor_type), dtype=np.float32).ravel()
            ours_path = os.path.join(out, t.name + ".f32")
            name = t.tensor_type.name
            tensors[name] += 1
            values[name] += expected.size
            if not os.path.exists(ours_path):
                print(f"{t.name} ({name}): missing from shiftadd's output", file=sys.stderr)
                failures += 1
                continue
            ours = np.fromfile(ours_path, dtype="<f4")
            if ours.size != expected.size:
                print(f"{t.name} ({name}): {ours.size} values, expected {expected.size}", file=sys.stderr)
                failures += 1
                continue
            differ = np.flatnonzero(ours.view(np.uint32) != expected.view(np.uint32))
            if differ.size:
                i = differ[0]
                print(f"{t.name} ({name}): {differ.size} values differ, first at {i}: {ours[i]!r} != {expected[i]!r}",
                      file=sys.stderr)
                failures += 1
    for name in sorted(tensors):
        print(f"{name:8} {tensors[name]:4} tensors {values[name]:11} values")
    print(f"{os.path.basename(path)}: " + ("all bit-exact" if failures == 0 else f"{failures} tensors differ"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
