#!/usr/bin/env python3
"""Serving benchmark against a running `shiftadd serve`, measured at the client from SSE arrival
times: aggregate decode tokens/s with 1 and 16 concurrent streams and their inter-token latency
percentiles, the effect of a 2,000-token prompt arriving while 8 streams decode (chunked prefill),
and time to first token of a second chat turn that repeats a 500-token first turn (prefix cache), and
the cost of structured outputs: 16 streams with a json_schema `response_format` against 16 without.
Usage: bench_serving.py BASE_URL (e.g. http://127.0.0.1:8080). Standard library only."""

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlparse

base = urlparse(sys.argv[1])


def stream(path, body, out, start_barrier=None):
    """POSTs a streaming request; appends the arrival time of every token to out['events'].

    A token whose text is empty (part of a multi-byte character, or held back while it could start
    a stop string) sends no text of its own; counting text chunks would merge it with the next
    one and show a double gap. Requests here ask for logprobs, so each token is counted where it
    arrives, by its logprobs entry."""
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=600)
    if start_barrier:
        start_barrier.wait()
    out["sent"] = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    events = out.setdefault("events", [])
    buffer = b""
    while True:
        chunk = resp.read1(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            if not event.startswith(b"data: ") or event == b"data: [DONE]":
                continue
            data = json.loads(event[6:])
            if data.get("choices"):
                c = data["choices"][0]
                logprobs = c.get("logprobs") or {}
                # Completions list "tokens"; chat completions list "content" entries.
                tokens = len(logprobs.get("tokens") or logprobs.get("content") or [])
                events.extend([time.perf_counter()] * tokens)
    conn.close()


def run_streams(n, max_tokens, extra=None, fields=None):
    outs = [dict() for _ in range(n)]
    barrier = threading.Barrier(n)
    body = {"prompt": "Write a long story about a lighthouse keeper.", "max_tokens": max_tokens,
            "ignore_eos": True, "temperature": 0.8, "stream": True, "logprobs": 1, **(fields or {})}
    threads = [threading.Thread(target=stream, args=("/v1/completions", dict(body, seed=i), outs[i], barrier))
               for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    if extra:
        extra()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    tokens = sum(len(o["events"]) for o in outs)
    gaps = [b - a for o in outs for a, b in zip(o["events"], o["events"][1:])]
    return outs, tokens / elapsed, gaps


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def report(name, rate, gaps):
    print(f"{name}: {rate:.1f} tok/s aggregate, inter-token p50 {pct(gaps, 50) * 1e3:.1f} ms, "
          f"p99 {pct(gaps, 99) * 1e3:.1f} ms, p99/p50 {pct(gaps, 99) / pct(gaps, 50):.2f}")


def median_run(n, max_tokens, repeats=3, fields=None):
    """The run with the median aggregate rate of `repeats`."""
    runs = sorted((run_streams(n, max_tokens, fields=fields) for _ in range(repeats)), key=lambda r: r[1])
    return runs[len(runs) // 2]


# A fresh server's first requests fault in weights and grow buffers: not part of any figure.
run_streams(1, 32)
run_streams(16, 16)
_, single, single_gaps = median_run(1, 256)
report("1 stream (median of 3)", single, single_gaps)
_, sixteen, sixteen_gaps = median_run(16, 256)
report("16 streams (median of 3)", sixteen, sixteen_gaps)
print(f"16 streams / 1 stream: {sixteen / single:.2f}x")

_, _, eight_gaps = run_streams(8, 96)
report("8 streams", 0, eight_gaps)
long_prompt = " ".join(["the history of the lighthouse and the sea"] * 250)  # ~2,000 tokens


def inject_long_prompt():
    time.sleep(1.0)
    stream("/v1/completions", {"prompt": long_prompt, "max_tokens": 1, "stream": True, "logprobs": 1}, {})


outs, _, with_prefill = run_streams(8, 96, inject_long_prompt)
report("8 streams + 2,000-token prompt", 0, with_prefill)
print(f"p99 inter-token latency with the long prompt / without: {pct(with_prefill, 99) / pct(eight_gaps, 99):.2f}x")

history = " ".join(f"Fact {i}: the keeper lit the lamp at dusk." for i in range(45))  # ~500 tokens
turn1 = [{"role": "user", "content": history + " Summarize."}]
first = {}
stream("/v1/chat/completions", {"messages": turn1, "max_tokens": 16, "temperature": 0, "stream": True,
                                "logprobs": True}, first)
reply = "A keeper lit a lamp each dusk."
turn2 = turn1 + [{"role": "assistant", "content": reply}, {"role": "user", "content": "And then?"}]
second = {}
stream("/v1/chat/completions", {"messages": turn2, "max_tokens": 16, "temperature": 0, "stream": True,
                                "logprobs": True}, second)
ttft1 = first["events"][0] - first["sent"]
ttft2 = second["events"][0] - second["sent"]
print(f"chat turn 1 time to first token {ttft1 * 1e3:.0f} ms, turn 2 {ttft2 * 1e3:.0f} ms, ratio {ttft2 / ttft1:.2f}")

def closed_loop(n, seconds, max_tokens, fields=None):
    """n workers each sending one streaming request after another for `seconds`: aggregate tokens/s
    with n requests always in flight, whatever length each request turns out to have."""
    outs = [dict() for _ in range(n)]
    requests = [0] * n
    start = time.perf_counter()

    def worker(i):
        k = 0
        while time.perf_counter() - start < seconds:
            out = {}
            body = {"prompt": "Write a long story about a lighthouse keeper.", "max_tokens": max_tokens,
                    "ignore_eos": True, "temperature": 0.8, "stream": True, "logprobs": 1, "seed": 1000 * i + k,
                    **(fields or {})}
            stream("/v1/completions", body, out)
            outs[i].setdefault("events", []).extend(out.get("events", []))
            k += 1
        requests[i] = k

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    tokens = sum(len(o.get("events", [])) for o in outs)
    return tokens / elapsed, tokens / sum(requests)


# Every stream constrained to a schema (a title and at least 8 lines of text, so that most documents
# run to max_tokens like the free requests), against the same load without it, both with 16
# requests always in flight: the difference is the cost of the masks.
STORY = {"type": "json_schema", "json_schema": {"name": "story", "schema": {
    "type": "object", "additionalProperties": False, "required": ["title", "lines"],
    "properties": {"title": {"type": "string"},
                   "lines": {"type": "array", "items": {"type": "string"}, "minItems": 8}}}}}
closed_loop(16, 5, 32, fields={"response_format": STORY})
# Alternating 10 s rounds, so that a change in the machine's load hits both alike.
free, constrained = [], []
for _ in range(4):
    free.append(closed_loop(16, 10, 128))
    constrained.append(closed_loop(16, 10, 128, fields={"response_format": STORY}))
free_rate, constrained_rate = (statistics.mean(r for r, _ in runs) for runs in (free, constrained))
print(f"16 streams in flight, 4 alternating rounds of 10 s: {free_rate:.1f} tok/s free, {constrained_rate:.1f} tok/s "
      f"with json_schema (ratio {constrained_rate / free_rate:.2f}x); tokens per request "
      f"{statistics.mean(t for _, t in free):.0f} free, {statistics.mean(t for _, t in constrained):.0f} constrained")
