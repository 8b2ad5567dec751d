#!/usr/bin/env python3
"""The request mix of Scripts/leak-check.sh: N requests, round-robin over kinds that exercise every
allocation path of a request (decoding, templates, generation, streaming, cancellation, errors).
Each answer's status is checked; prints the counts per kind. Standard library only.
Usage: leak_check_load.py BASE_URL N"""

import http.client
import json
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

base = urlparse(sys.argv[1])
total = int(sys.argv[2])
completion = {"prompt": "The sea is", "max_tokens": 6, "temperature": 0.7}
chat = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 6, "temperature": 0.7}


def post(path, body, expect):
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    conn.request("POST", path, body if isinstance(body, (bytes, str)) else json.dumps(body),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    assert resp.status == expect, (path, resp.status, data[:200])


def h2(path, body, expect):
    out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                          "-H", "content-type: application/json", "-d", json.dumps(body), sys.argv[1] + path],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout == str(expect), (path, out.stdout, out.stderr)


def walk_away():
    """A stream the client closes after its first event: the server cancels the generation."""
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    conn.request("POST", "/v1/completions", json.dumps(dict(completion, max_tokens=200, stream=True, ignore_eos=True)),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    resp.read1(64)
    conn.close()


def malformed():
    with socket.create_connection((base.hostname, base.port), timeout=30) as s:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 400")


kinds = {
    "completion h1": lambda: post("/v1/completions", completion, 200),
    "chat h1": lambda: post("/v1/chat/completions", chat, 200),
    "streamed completion h1": lambda: post("/v1/completions", dict(completion, stream=True), 200),
    "streamed chat h2c": lambda: h2("/v1/chat/completions", dict(chat, stream=True), 200),
    "completion h2c, logprobs": lambda: h2("/v1/completions", dict(completion, logprobs=3), 200),
    "client leaves mid-stream": walk_away,
    "bad JSON": lambda: post("/v1/completions", b'{"prompt": ', 400),
    "wrong field type": lambda: post("/v1/completions", {"prompt": "x", "max_tokens": "ten"}, 400),
    "oversize body": lambda: post("/v1/completions", b"{" + b" " * (5 << 20) + b"}", 413),
    "malformed HTTP": malformed,
    "tokenize": lambda: post("/tokenize", {"prompt": "hello there"}, 200),
}
names = list(kinds)
counts = dict.fromkeys(names, 0)
with ThreadPoolExecutor(8) as pool:
    for name, future in [(names[i % len(names)], pool.submit(kinds[names[i % len(names)]])) for i in range(total)]:
        future.result()
        counts[name] += 1
for name in names:
    print(f"  {name}: {counts[name]}")
print(f"  total: {sum(counts.values())}")
