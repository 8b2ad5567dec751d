#!/usr/bin/env python3
"""Writes golden dequantization cases for the GGUF block types, decoded by the `gguf` package.

Each case is random block bytes whose fp16 scale fields are replaced by finite values, so the
expected floats are ordinary numbers. Run from the repository root."""
import base64, json, sys
import numpy as np
from gguf import GGMLQuantizationType as T, quants

rng = np.random.default_rng(7)
layout = {  # type: (block bytes, [offsets of fp16 scale fields])
    T.Q8_0: (34, [0]), T.Q4_0: (18, [0]), T.Q4_1: (20, [0, 2]), T.Q5_0: (22, [0]), T.Q5_1: (24, [0, 2]),
    T.IQ4_NL: (18, [0]), T.Q2_K: (84, [80, 82]), T.Q3_K: (110, [108]), T.Q4_K: (144, [0, 2]),
    T.Q5_K: (176, [0, 2]), T.Q6_K: (210, [208]), T.IQ4_XS: (136, [0]),
}
cases = []
for qtype, (size, scale_offsets) in layout.items():
    raw = bytearray(rng.integers(0, 256, size=size * 3, dtype=np.uint8).tobytes())
    for b in range(3):
        for off in scale_offsets:
            h = np.float16(rng.uniform(-0.05, 0.05)).tobytes()
            raw[b * size + off: b * size + off + 2] = h
    values = quants.dequantize(np.frombuffer(bytes(raw), dtype=np.uint8), qtype).astype(np.float32)
    cases.append({"type": int(qtype), "name": qtype.name, "data": base64.b64encode(bytes(raw)).decode(),
                  "expected": [float(v) for v in values.ravel()]})
for name, qtype, dtype in (("F32", T.F32, np.float32), ("F16", T.F16, np.float16), ("BF16", T.BF16, None)):
    if dtype is np.float32:
        exp = rng.normal(0, 3, 64).astype(np.float32)
        raw = exp.tobytes()
    elif dtype is np.float16:
        vals = rng.normal(0, 3, 64).astype(np.float16)
        raw = vals.tobytes()
        exp = vals.astype(np.float32)
    else:
        f = rng.normal(0, 3, 64).astype(np.float32)
        raw = (f.view(np.uint32) >> 16).astype(np.uint16).tobytes()
        exp = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    cases.append({"type": int(qtype), "name": name, "data": base64.b64encode(raw).decode(),
                  "expected": [float(v) for v in exp]})
json.dump(cases, open("Tests/ShiftAddModelTests/Golden/dequant.json", "w"))
print(f"{len(cases)} cases")
