#!/usr/bin/env python3
"""Soak test of a running `shiftadd serve` on loopback (Scripts/soak.sh starts and stops it).

Several workers send a random mix for a fixed time: text and chat completions, whole and streamed,
over HTTP/1.1 (kept-alive connections) and h2c (curl with prior knowledge); streams the client
leaves mid-way; bodies over the server's limit; bad JSON and wrong field types; malformed HTTP/1.1
and HTTP/2. Every answer is checked. The server's memory and open descriptors are taken at the end
of the warm-up and at the end, each time with every worker paused and its connections closed, so
that both figures come from an idle server; its /metrics must agree with what the clients saw.
Standard library only; exits 1 when a check fails.
"""
import argparse
import contextlib
import http.client
import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter

HOST = "127.0.0.1"
COMPLETIONS, CHAT = "/v1/completions", "/v1/chat/completions"
# Seconds one request may take on a loaded machine before it counts as hung.
TIMEOUT = 120
# Streams that are left ask for far more tokens than they read before leaving, so the server is
# always mid-generation then and must account a disconnect (499), never a finished answer.
ABANDONED_MAX_TOKENS = 256
RSS_DRIFT_LIMIT = 0.10
# Descriptors the idle server may hold beyond the warm-up figure (a connection still closing).
FD_SLACK = 2

PROMPTS = ["The capital of France is", "Write a short note about the sea.", "Once upon a time",
           "List three colours:", "def fibonacci(n):", "The best way to learn a language is"]
QUESTIONS = ["What is the capital of France?", "Say hi", "Give me a word that rhymes with cat.",
             "How many legs does a spider have?", "Write a haiku about rain."]
BAD_JSON = [b'{"prompt": "Hi", "max_tokens": 8', b"prompt=Hi", b'{"prompt": "Hi\xff"}', b"",
            b'{"prompt": \'Hi\'}']
WRONG_TYPES = {
    COMPLETIONS: [{"prompt": 5}, {"prompt": "Hi", "max_tokens": "8"}, {"prompt": "Hi", "temperature": "hot"},
                  {"prompt": "Hi", "stream": "yes"}, {"prompt": "Hi", "max_tokens": 1.5}, {"prompt": "Hi", "stop": [1]},
                  {"prompt": ["Hi", "Ho"]}],
    CHAT: [{"messages": "Hi"}, {"messages": [{"role": "user", "content": 5}]},
           {"messages": [{"role": "robot", "content": "Hi"}]},
           {"messages": [{"role": "user", "content": "Hi"}], "logprobs": "yes"},
           {"messages": [{"role": "user", "content": "Hi"}], "stream_options": {"include_usage": 1}}],
}
# HTTP/1.1 the front end answers with 400 and a close.
MALFORMED_H1 = [b"GET /live HTTP/1.1\nHost: soak\n\n", b"GET /live\r\n\r\n", b"GET /live HTTP/1.1\r\nHost soak\r\n\r\n",
                b"POST /v1/completions HTTP/1.1\r\nHost: soak\r\nContent-Length: abc\r\n\r\n",
                b"POST /v1/completions HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n"]
# HTTP/2 after a valid preface that the server ends with GOAWAY: a DATA frame on stream 0 before
# SETTINGS, SETTINGS of a bad length, a short WINDOW_UPDATE, HEADERS that are not HPACK.
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = b"\0\0\0\x04\0\0\0\0\0"
MALFORMED_H2 = [b"\0\0\x02\0\0\0\0\0\0hi", b"\0\0\x05\x04\0\0\0\0\0abcde", H2_SETTINGS + b"\0\0\x03\x08\0\0\0\0\0abc",
                H2_SETTINGS + b"\0\0\x04\x01\x05\0\0\0\x01\xff\xff\xff\xff"]
GOAWAY = 7


class Mismatch(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Mismatch(message)


def sse(lines):
    """The data of each server-sent event; comments (keep-alives) and blank separators skipped."""
    for line in lines:
        if line.startswith(b"data: "):
            yield line[6:].rstrip(b"\r\n").decode()


def logprob_count(chat, logprobs):
    return len(logprobs["content"] if chat else logprobs["tokens"])


def check_tokens(req, count, finish_reason):
    # A generation ends at max_tokens ("length") or on an end-of-text token, which counts and may
    # be the last one allowed ("stop"); with ignore_eos only "length" is possible.
    limit = req["max_tokens"]
    ok = count == limit if finish_reason == "length" else (
        finish_reason == "stop" and 1 <= count <= limit and not req.get("ignore_eos"))
    expect(ok, f"finish_reason {finish_reason} after {count} tokens of {limit}")


def check_usage(req, usage, finish_reason):
    p, c = usage["prompt_tokens"], usage["completion_tokens"]
    expect(p > 0 and usage["total_tokens"] == p + c and 0 <= usage["prompt_tokens_details"]["cached_tokens"] <= p,
           f"usage {usage}")
    check_tokens(req, c, finish_reason)


def check_answer(req, chat, text):
    r = json.loads(text)
    (choice,) = r["choices"]
    if chat:
        expect(r["object"] == "chat.completion" and r["id"].startswith("chatcmpl-")
               and choice["message"]["role"] == "assistant" and isinstance(choice["message"]["content"], str),
               f"chat answer {text:.300}")
    else:
        expect(r["object"] == "text_completion" and r["id"].startswith("cmpl-") and isinstance(choice["text"], str),
               f"completion answer {text:.300}")
    check_usage(req, r["usage"], choice["finish_reason"])
    if "logprobs" in req:
        count = logprob_count(chat, choice["logprobs"])
        expect(count == r["usage"]["completion_tokens"], f"{count} log-probabilities for {r['usage']}")


def check_stream(req, chat, events):
    expect(events[-1:] == ["[DONE]"], f"stream does not end with [DONE]: {events[-2:]}")
    chunks = [json.loads(e) for e in events[:-1]]
    kind = "chat.completion.chunk" if chat else "text_completion"
    expect(len({c["id"] for c in chunks}) == 1 and all(c["object"] == kind for c in chunks),
           "chunks with several ids or of another object")
    usage = None
    if "stream_options" in req:
        last = chunks.pop()
        expect(last["choices"] == [] and all(c["usage"] is None for c in chunks), "usage chunk not last or not alone")
        usage = last["usage"]
    else:
        expect(all("usage" not in c for c in chunks), "usage without include_usage")
    expect(all(len(c["choices"]) == 1 for c in chunks), "a chunk without exactly one choice")
    *content, last = [c["choices"][0] for c in chunks]
    finish_reason = last["finish_reason"]
    expect(all(ch["finish_reason"] is None for ch in content), "finish_reason before the last choice chunk")
    if chat:
        expect(content[0]["delta"] == {"role": "assistant", "content": ""} and last["delta"] == {},
               "chat stream without the role chunk first and an empty delta last")
        content = content[1:]
    else:
        expect(last["text"] == "", "text in the finishing chunk")
    wants_logprobs = "logprobs" in req
    # With log-probabilities every token has its chunk; without, a chunk holds one token or more
    # (pieces of a character wait for the rest) and tokens without text have none.
    if wants_logprobs:
        streamed = sum(logprob_count(chat, ch["logprobs"]) for ch in content)
    else:
        expect(all(ch["delta"]["content"] if chat else ch["text"] for ch in content), "an empty text chunk")
        streamed = len(content)
    if usage:
        check_usage(req, usage, finish_reason)
        c = usage["completion_tokens"]
        expect(streamed == c if wants_logprobs else streamed <= c, f"{streamed} tokens streamed, usage says {c}")
    elif wants_logprobs:
        check_tokens(req, streamed, finish_reason)
    else:
        expect(finish_reason in ("stop", "length") and streamed <= req["max_tokens"],
               f"{streamed} chunks, finish_reason {finish_reason}")


def frame_types(data):
    """Types of the HTTP/2 frames in `data`."""
    types = []
    while len(data) >= 9:
        types.append(data[3])
        data = data[9 + int.from_bytes(data[:3], "big"):]
    return types


def http1_status(answer):
    """Status (0 for none) and body of an HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    return (int(m.group(1)) if m else 0), body.decode(errors="replace")


def scrape(port):
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=TIMEOUT) as r:
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            # Every sample carries the model's name; keys leave it out.
            samples[re.sub(r'model_name="[^"]*",?', "", name).replace("{}", "")] = float(value)
    return samples


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Tally:
    """What the clients sent and saw, shared by the workers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = Counter()
        self.errors = Counter()
        self.failures = []
        self.answered = Counter()  # (route, status) as the server should account them
        self.refused = 0  # answered by the front end alone: malformed HTTP, bodies over the limit
        self.abandoned = 0

    def done(self, kind, error=None):
        with self.lock:
            self.requests[kind] += 1
            if error is not None:
                self.errors[kind] += 1
                if len(self.failures) < 20:
                    self.failures.append(f"{kind}: {type(error).__name__}: {error}"[:400])

    def add(self, route=None, status=None, refused=0, abandoned=0):
        with self.lock:
            if route:
                self.answered[route, status] += 1
            self.refused += refused
            self.abandoned += abandoned


class Worker(threading.Thread):
    def __init__(self, soak, seed):
        super().__init__(daemon=True)
        self.soak, self.tally, self.rng = soak, soak.tally, random.Random(seed)
        self.h1 = None

    def run(self):
        kinds = list(self.soak.kinds)
        weights = [self.soak.kinds[k][0] for k in kinds]
        while time.monotonic() < self.soak.deadline:
            if self.soak.pause.is_set():
                self.close_h1()
                self.soak.barrier.wait(TIMEOUT)  # paused: the server is measured idle
                self.soak.barrier.wait(TIMEOUT)
            kind = self.rng.choices(kinds, weights)[0]
            try:
                self.soak.kinds[kind][1](self)
                self.tally.done(kind)
            except Exception as e:  # any exception is a wrong answer, counted and listed
                self.close_h1()
                self.tally.done(kind, e)
        self.close_h1()

    # Transports: (status, body text) or, for a 200 stream, (200, event data).

    def post(self, proto, path, payload, stream, cut=None):
        """`cut`: leave a stream after that many events."""
        return (self.post_h1 if proto == "h1" else self.post_h2)(path, payload, stream, cut)

    def post_h1(self, path, payload, stream, cut):
        if self.h1 is None:
            self.h1 = http.client.HTTPConnection(HOST, self.soak.port, timeout=TIMEOUT)
        self.h1.request("POST", path, payload, {"content-type": "application/json"})
        response = self.h1.getresponse()
        if not stream or response.status != 200:
            return response.status, response.read().decode()
        events = []
        for event in sse(iter(response.readline, b"")):
            events.append(event)
            if len(events) == cut:
                self.close_h1()
                break
        return 200, events

    def close_h1(self):
        if self.h1 is None:
            return
        if self.h1.sock:
            with contextlib.suppress(OSError):  # a FIN now, though the response still refers to the socket
                self.h1.sock.shutdown(socket.SHUT_RDWR)
        self.h1.close()
        self.h1 = None

    def post_h2(self, path, payload, stream, cut):
        curl = subprocess.Popen(
            ["curl", "-sS", "-N", "--http2-prior-knowledge", "--max-time", str(TIMEOUT),
             "-H", "content-type: application/json", "--data-binary", "@-", "-w", "\n%{http_code} %{http_version}",
             f"http://{HOST}:{self.soak.port}{path}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if cut:
            # Events only come on a 200; killing curl closes the connection under the stream.
            with curl:
                curl.stdin.write(payload)
                curl.stdin.close()
                events = []
                for event in sse(curl.stdout):
                    events.append(event)
                    if len(events) == cut:
                        break
                curl.kill()
            return 200, events
        out, err = curl.communicate(payload)
        expect(curl.returncode == 0, f"curl exit {curl.returncode}: {err.decode().strip()}")
        body, _, trailer = out.rpartition(b"\n")
        status, version = trailer.decode().split()
        expect(version == "2", f"answered over HTTP/{version}")
        if stream and status == "200":
            return 200, list(sse(body.splitlines(keepends=True)))
        return int(status), body.decode()

    def raw(self, parts):
        with socket.create_connection((HOST, self.soak.port), timeout=TIMEOUT) as s:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # answered before the end of the body
                for part in parts:
                    s.sendall(part)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        return answer

    # Request kinds.

    def generation_request(self, chat, stream):
        rng = self.rng
        req = {"max_tokens": rng.randint(8, 24), "temperature": rng.choice([0, 0.7, 1.0]), "seed": rng.randrange(1 << 31)}
        if chat:
            req["messages"] = [{"role": "user", "content": rng.choice(QUESTIONS)}]
        else:
            req["prompt"] = rng.choice(PROMPTS)
        if rng.random() < 0.3:
            req["ignore_eos"] = True
        if rng.random() < 0.3:
            req["logprobs"] = True if chat else rng.randint(0, 2)
        if stream:
            req["stream"] = True
            if rng.random() < 0.8:
                req["stream_options"] = {"include_usage": True}
        return req

    def generation(self, proto, chat, stream):
        route = CHAT if chat else COMPLETIONS
        req = self.generation_request(chat, stream)
        status, answer = self.post(proto, route, json.dumps(req).encode(), stream)
        self.tally.add(route, status)
        expect(status == 200, f"status {status}: {answer!r:.300}")
        (check_stream if stream else check_answer)(req, chat, answer)

    def abandon(self, proto):
        chat = self.rng.random() < 0.5
        route = CHAT if chat else COMPLETIONS
        req = self.generation_request(chat, True) | {"max_tokens": ABANDONED_MAX_TOKENS, "ignore_eos": True}
        cut = self.rng.randint(1, 3)
        status, events = self.post(proto, route, json.dumps(req).encode(), True, cut)
        if status == 200 and len(events) == cut:
            self.tally.add(route, 499, abandoned=1)
        else:
            self.tally.add(route, status)
            raise Mismatch(f"status {status} with {len(events)} events before leaving after {cut}")

    def bad_request(self, proto, wrong_types):
        route = self.rng.choice([COMPLETIONS, CHAT])
        payload = json.dumps(self.rng.choice(WRONG_TYPES[route])).encode() if wrong_types else self.rng.choice(BAD_JSON)
        status, answer = self.post(proto, route, payload, False)
        self.tally.add(route, status)
        expect(status == 400 and json.loads(answer)["error"]["type"] == "invalid_request_error",
               f"{payload!r:.80} answered {status}: {answer:.200}")

    def oversize(self, proto):
        payload = self.soak.oversize_body
        self.tally.add(refused=1)
        if proto == "h2":
            status, answer = self.post_h2(COMPLETIONS, payload, False, None)
        else:
            head = b"POST /v1/completions HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
            if self.rng.random() < 0.5:  # refused on its declared length
                parts = [head + b"Content-Length: %d\r\n\r\n" % len(payload), payload]
            else:  # refused once the chunks received pass the limit
                parts = [head + b"Transfer-Encoding: chunked\r\n\r\n"]
                parts += [b"%x\r\n%s\r\n" % (len(c), c) for c in (payload[i:i + 65536] for i in range(0, len(payload), 65536))]
                parts.append(b"0\r\n\r\n")
            status, answer = http1_status(self.raw(parts))
        expect(status == 413 and "error" in json.loads(answer), f"oversize body answered {status}: {answer:.200}")

    def malformed(self, proto):
        self.tally.add(refused=1)
        if proto == "h2":
            answer = self.raw([H2_PREFACE + self.rng.choice(MALFORMED_H2)])
            expect(GOAWAY in frame_types(answer), f"no GOAWAY before the close: {answer[:80]!r}")
            return
        if self.rng.random() < 0.5:
            data = self.rng.choice(MALFORMED_H1)
        else:  # control and non-ASCII bytes, valid in no request line
            data = bytes(self.rng.choice([*range(0, 10), *range(11, 13), *range(14, 32), *range(127, 256)])
                         for _ in range(self.rng.randint(1, 200))) + b"\r\n\r\n"
        status, answer = http1_status(self.raw([data]))
        expect(status == 400, f"{data[:60]!r} answered {status}: {answer:.200}")


def request_kinds():
    """Name → (weight, what a worker does): mostly generations, the rest misbehaving clients."""
    kinds = {}
    for proto in ("h1", "h2"):
        for stream in (False, True):
            for chat in (False, True):
                name = f"{proto} {'stream ' if stream else ''}{'chat' if chat else 'completion'}"
                kinds[name] = (2, lambda w, p=proto, s=stream, c=chat: w.generation(p, c, s))
        kinds[f"{proto} disconnect"] = (1, lambda w, p=proto: w.abandon(p))
        kinds[f"{proto} bad json"] = (0.5, lambda w, p=proto: w.bad_request(p, False))
        kinds[f"{proto} wrong types"] = (0.5, lambda w, p=proto: w.bad_request(p, True))
        kinds[f"{proto} oversize"] = (0.25, lambda w, p=proto: w.oversize(p))
        kinds[f"{proto} malformed"] = (0.5, lambda w, p=proto: w.malformed(p))
    return kinds


IDLE_LIMITS = {"shiftadd_running": 0, "shiftadd_queue_length": 0, "shiftadd_kv_blocks_used": 0,
               "shiftadd_http_requests_open": 1, "shiftadd_http_connections_open": 1}  # 1: the scrape itself


class Soak:
    def __init__(self, args):
        self.port, self.pid, self.seconds = args.port, args.pid, args.seconds
        self.tally = Tally()
        self.kinds = request_kinds()
        self.oversize_body = b'{"prompt": "' + b"a" * args.max_body_bytes + b'"}'
        self.pause = threading.Event()
        self.barrier = threading.Barrier(args.workers + 1)
        self.workers = [Worker(self, args.seed + i) for i in range(args.workers)]
        self.deadline = 0.0

    def settle(self, check=lambda m: []):
        """Waits up to 15 s for an idle server (the front end lingers up to 2 s on connections it
        refused); returns what is still wrong."""
        for _ in range(60):
            m = scrape(self.port)
            problems = check(m) + [f"{k} {m.get(k, 0):g} at rest" for k, limit in IDLE_LIMITS.items() if m.get(k, 0) > limit]
            if not problems:
                break
            time.sleep(0.25)
        time.sleep(0.5)  # the scrape's own connection closes
        return problems

    def idle_figures(self, check=lambda m: []):
        problems = self.settle(check)
        return rss_kib(self.pid), open_fds(self.pid), problems

    def metrics_problems(self, before, after):
        """Differences between the server's counts over the run and the clients' own."""
        t = self.tally
        delta = lambda name: after.get(name, 0) - before.get(name, 0)
        requests = lambda route, status: f'shiftadd_requests_total{{route="{route}",status="{status}"}}'
        finished = lambda reason: f'shiftadd_generations_finished_total{{reason="{reason}"}}'
        expected = {requests(r, s): n for (r, s), n in t.answered.items()}
        # Statuses the server counted on the generation routes that no client saw.
        prefixes = tuple(f'shiftadd_requests_total{{route="{route}",' for route in (COMPLETIONS, CHAT))
        expected |= {name: 0 for name in after if name.startswith(prefixes) and name not in expected}
        expected |= {"shiftadd_client_disconnects_total": t.abandoned, finished("cancelled"): t.abandoned,
                     "shiftadd_http_protocol_errors_total": t.refused}
        problems = [f"{name}: server {delta(name):g}, clients {n}" for name, n in sorted(expected.items()) if delta(name) != n]
        generations = sum(n for (_, s), n in t.answered.items() if s == 200)
        server_generations = delta(finished("stop")) + delta(finished("length"))
        if server_generations != generations:
            problems.append(f"generations finished (stop + length): server {server_generations:g}, clients {generations}")
        return problems

    def progress(self, stop, start, samples):
        while not stop.wait(5):
            with contextlib.suppress(OSError):
                samples.append([round(time.monotonic() - start), rss_kib(self.pid), open_fds(self.pid)])
                if len(samples) % 12 == 0:
                    with self.tally.lock:
                        total, errors = sum(self.tally.requests.values()), sum(self.tally.errors.values())
                    _, rss, fds = samples[-1]
                    print(f"soak: {samples[-1][0]}/{self.seconds:g} s, {total} requests, {errors} errors, "
                          f"RSS {rss / 1024:.0f} MiB, {fds} fds", flush=True)

    def run(self):
        # Warm-up: the first 10% of the run, at least 60 s, at most half of it.
        warmup = min(max(0.1 * self.seconds, 60), self.seconds / 2)
        before = scrape(self.port)
        start = time.monotonic()
        self.deadline = start + self.seconds
        stop, samples = threading.Event(), []
        monitor = threading.Thread(target=self.progress, args=(stop, start, samples), daemon=True)
        monitor.start()
        for w in self.workers:
            w.start()
        time.sleep(warmup)
        self.pause.set()
        self.barrier.wait(TIMEOUT)
        warm_rss, warm_fds, _ = self.idle_figures()
        self.pause.clear()
        self.barrier.wait(TIMEOUT)
        for w in self.workers:
            w.join()
        duration = time.monotonic() - start
        end_rss, end_fds, problems = self.idle_figures(lambda m: self.metrics_problems(before, m))
        stop.set()
        monitor.join()
        return self.summary(duration, warmup, warm_rss, end_rss, warm_fds, end_fds, problems, samples)

    def summary(self, duration, warmup, warm_rss, end_rss, warm_fds, end_fds, problems, samples):
        t = self.tally
        drift = (end_rss - warm_rss) / warm_rss
        checks = {
            "answers": sum(t.errors.values()) == 0,
            "rss": abs(drift) <= RSS_DRIFT_LIMIT,
            "fds": end_fds <= warm_fds + FD_SLACK,
            "metrics": not problems,
        }
        return {
            "seconds": round(duration, 1), "warmup_seconds": round(warmup, 1), "workers": len(self.workers),
            "requests": {k: {"count": t.requests[k], "errors": t.errors[k]} for k in self.kinds},
            "total_requests": sum(t.requests.values()), "errors": sum(t.errors.values()), "failures": t.failures,
            "disconnects": t.abandoned, "front_end_refusals": t.refused,
            "rss_kib": {"after_warmup": warm_rss, "end": end_rss, "drift_percent": round(100 * drift, 2),
                        "max_under_load": max((s[1] for s in samples), default=None)},
            "fds": {"after_warmup": warm_fds, "end": end_fds},
            "metrics_match": not problems, "metrics_problems": problems,
            "samples": {"columns": ["seconds", "rss_kib", "fds"], "rows": samples},
            "checks": checks, "passed": all(checks.values()),
        }


def print_summary(s):
    print(f"\nsoak: {s['seconds']} s ({s['warmup_seconds']} s warm-up), {s['workers']} workers, "
          f"{s['total_requests']} requests, {s['errors']} errors")
    print(f"  {'kind':<22}{'requests':>9}{'errors':>8}")
    for kind, r in s["requests"].items():
        print(f"  {kind:<22}{r['count']:>9}{r['errors']:>8}")
    rss, fds = s["rss_kib"], s["fds"]
    print(f"  RSS after warm-up / end (idle)   {rss['after_warmup']} / {rss['end']} KiB, drift {rss['drift_percent']:+.2f} %"
          f" (limit ±{RSS_DRIFT_LIMIT:.0%}); max under load {rss['max_under_load']} KiB")
    print(f"  fds after warm-up / end (idle)   {fds['after_warmup']} / {fds['end']} (slack {FD_SLACK})")
    print(f"  metrics match                    {'yes' if s['metrics_match'] else 'no'}")
    for line in s["failures"] + s["metrics_problems"]:
        print(f"    {line}")
    print("  checks: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in s["checks"].items())
          + f" → {'PASS' if s['passed'] else 'FAIL'}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True, help="the server's cleartext port on 127.0.0.1")
    p.add_argument("--pid", type=int, required=True, help="the server's process id, for /proc")
    p.add_argument("--seconds", type=float, default=1800)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--max-body-bytes", type=int, required=True, help="the server's --max-body-bytes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--summary", default=".build/soak/summary.json")
    args = p.parse_args()
    summary = Soak(args).run()
    print_summary(summary)
    os.makedirs(os.path.dirname(args.summary) or ".", exist_ok=True)
    with open(args.summary, "w") as f:
        json.dump(summary, f, indent=1)
    print(f"summary: {args.summary}")
    raise SystemExit(0 if summary["passed"] else 1)


if __name__ == "__main__":
    main()
