#!/usr/bin/env python3
"""Fault injection against `shiftadd serve` and `shiftadd-convert` (standard library only).

Usage: faults.py BIN_DIR MODEL OUT_DIR
MODEL is a bundle or a checkpoint (`serve` converts it once into its bundle cache). Each fault
prints one row: fault, what was done, what was observed, pass/fail. The rows are written to
OUT_DIR/summary.json; the exit status is 1 when any fault failed.
"""
import array
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN_DIR, MODEL, OUT_DIR = sys.argv[1:4]
SHIFTADD = os.path.join(BIN_DIR, "shiftadd")
CONVERT = os.path.join(BIN_DIR, "shiftadd-convert")
WORK = tempfile.mkdtemp(prefix="shiftadd-faults-")
MIB = 1 << 20
# The server's per-connection output cap (HTTPServerOptions.maxOutputBytesPerConnection; no flag).
OUTPUT_CAP = 8 * MIB
ROWS = []


class Outcome:
    """Figures observed during one fault and the expectations that did not hold."""

    def __init__(self):
        self.facts, self.failures = [], []

    def fact(self, text):
        self.facts.append(text)

    def expect(self, condition, text):
        if not condition:
            self.failures.append(text)
        return condition


def row(fault, action, outcome):
    observed = "; ".join(outcome.facts + ["NOT MET: " + f for f in outcome.failures])
    result = "fail" if outcome.failures else "pass"
    ROWS.append({"fault": fault, "action": action, "observed": observed, "result": result})
    print(f"| {fault} | {action} | {observed} | {result.upper()} |", flush=True)


def run_fault(fault, function, *args):
    """Runs one fault; an exception becomes a failing row instead of ending the suite."""
    try:
        function(*args)
    except Exception as error:
        failed = Outcome()
        failed.expect(False, f"aborted: {type(error).__name__}: {error}")
        row(fault, "(the check could not finish)", failed)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def wait_for(condition, seconds, step=0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


class Server:
    """One `shiftadd serve` process on a free port, logging JSON lines into the work directory."""

    def __init__(self, model, *flags):
        self.port = free_port()
        self.log_path = os.path.join(WORK, f"server-{self.port}.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [SHIFTADD, "serve", "--model", model, "--port", str(self.port), "--threads", "2",
                 "--log-format", "json", *flags], stdout=log, stderr=subprocess.STDOUT)
        # The first start on a checkpoint converts it (minutes); later starts load the cached bundle.
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited during start-up: {self.log_tail()}")
            try:
                if self.request("GET", "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError("server never became healthy")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=5):
        with open(self.log_path, errors="replace") as f:
            return " / ".join(f.read().splitlines()[-lines:])

    def bundle_path(self):
        """The bundle the server loaded, from its `ready` log line."""
        with open(self.log_path) as f:
            for line in f:
                entry = json.loads(line)
                if entry.get("message") == "ready":
                    return entry["model"]
        raise RuntimeError("no ready line in the server log")

    def alive(self):
        return self.proc.poll() is None

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def request(self, method, path, body=None, timeout=120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body) if body is not None else None
            conn.request(method, path, payload, {"Content-Type": "application/json"} if payload else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def complete(self, prompt, max_tokens=24):
        """Greedy completion text."""
        status, body = self.request("POST", "/v1/completions",
                                    {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0})
        if status != 200:
            raise RuntimeError(f"completion returned {status}: {body[:200]!r}")
        return json.loads(body)["choices"][0]["text"]

    def metric(self, name):
        status, body = self.request("GET", "/metrics", timeout=10)
        for line in body.decode().splitlines():
            key, _, value = line.rpartition(" ")
            # Every sample carries the model's name; `name` leaves it out.
            if re.sub(r'model_name="[^"]*",?', "", key).replace("{}", "") == name:
                return float(value)
        return 0.0


CANCELLED = 'shiftadd_generations_finished_total{reason="cancelled"}'
GENERATED = "shiftadd_generation_tokens_total"


def start_fails(model):
    """Starts a server on `model`; (exit status, the line that says why it stopped)."""
    done = subprocess.run([SHIFTADD, "serve", "--model", model, "--port", str(free_port()), "--threads", "2"],
                          capture_output=True, text=True, timeout=300)
    lines = (done.stdout + done.stderr).splitlines()
    line = next((l for l in lines if "cannot serve" in l), lines[-1] if lines else "")
    return done.returncode, line[line.find("cannot serve"):]


# 1. Bundle damaged on disk.

def bundle_faults(bundle):
    copy = os.path.join(WORK, "served.sabundle")
    shutil.copyfile(bundle, copy)
    size = os.path.getsize(copy)
    prompts = ["The capital of France is", "Water boils at"]
    with Server(copy) as server:
        before = [server.complete(p) for p in prompts]

        def still_serving(o):
            after = [server.complete(p) for p in prompts]
            o.fact(f"greedy completions {'identical' if after == before else 'CHANGED'} ({after[0]!r}...)")
            o.expect(after == before, "same greedy output as before the damage")
            o.expect(server.alive() and server.request("GET", "/health")[0] == 200, "process alive and healthy")

        # Same inode, so a mapping of the file would see these bytes.
        with open(copy, "r+b") as f:
            f.seek(size // 2)
            f.write(os.urandom(MIB))
        o = Outcome()
        still_serving(o)
        row("1a bundle modified while serving",
            f"1 MiB of random bytes written in place at {size // 2} of the served copy", o)

        o = Outcome()
        status, message = start_fails(copy)
        o.fact(f"exit {status}: {message}")
        o.expect(status != 0, "non-zero exit")
        o.expect("fails its checksum" in message and copy in message, "message names the file and the checksum failure")
        row("1b start on a corrupted bundle", "serve started on that modified copy", o)

        os.truncate(copy, size // 2)
        o = Outcome()
        still_serving(o)
        row("1c bundle truncated while serving", f"served copy truncated from {size} to {size // 2} bytes", o)

    o = Outcome()
    status, message = start_fails(copy)
    o.fact(f"exit {status}: {message}")
    o.expect(status != 0, "non-zero exit")
    o.expect("truncated" in message and str(size // 2) in message, "message says truncated and gives the file size")
    row("1d start on a truncated bundle", "serve started on the truncated copy", o)


# 2. Full disk while converting.

def gguf_string(text):
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_value(value):
    if isinstance(value, str):
        return struct.pack("<I", 8) + gguf_string(value)
    if isinstance(value, float):
        return struct.pack("<If", 6, value)
    if isinstance(value, int):
        return struct.pack("<II", 4, value)
    return struct.pack("<IIQ", 9, 8, len(value)) + b"".join(gguf_string(s) for s in value)


def byte_symbols():
    """GPT-2's printable stand-ins for the 256 byte values, so any text encodes."""
    printable = set(range(33, 127)) | set(range(161, 173)) | set(range(174, 256))
    symbols, extra = [], 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            extra += 1
            symbols.append(chr(255 + extra))
    return symbols


def write_tiny_gguf(path, dim=256, hidden=512, layers=2, heads=4, kv_heads=2):
    """A random LLaMA with a byte-level vocabulary and a chat template; F32 tensors, projections of
    variance 1/inputs. The long context lets one stream outrun the server's output cap."""
    rng = random.Random(1)
    tokens = byte_symbols() + ["Ġt", "he", "Ġthe", "in"]
    meta = [("general.architecture", "llama"), ("general.name", "tiny"), ("llama.block_count", layers),
            ("llama.context_length", 65536), ("llama.embedding_length", dim), ("llama.feed_forward_length", hidden),
            ("llama.attention.head_count", heads), ("llama.attention.head_count_kv", kv_heads),
            ("llama.rope.freq_base", 10000.0), ("llama.attention.layer_norm_rms_epsilon", 1e-5),
            ("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", "gpt2"), ("tokenizer.ggml.tokens", tokens),
            ("tokenizer.ggml.merges", ["Ġ t", "h e", "Ġt he", "i n"]), ("tokenizer.ggml.eos_token_id", 2),
            ("tokenizer.chat_template", "{% for m in messages %}{{ m['content'] }}\n{% endfor %}")]
    kv_dim = dim // heads * kv_heads

    def normal(rows, cols, scale):
        return (rows, cols), array.array("f", (rng.gauss(0, scale) for _ in range(rows * cols)))

    def norm():
        return (dim,), array.array("f", (1 + rng.gauss(0, 0.2) for _ in range(dim)))

    tensors = [("token_embd.weight", *normal(len(tokens), dim, 1.0)), ("output_norm.weight", *norm())]
    for l in range(layers):
        tensors += [(f"blk.{l}.attn_norm.weight", *norm()), (f"blk.{l}.ffn_norm.weight", *norm())]
        for name, rows, cols in [("attn_q", dim, dim), ("attn_k", kv_dim, dim), ("attn_v", kv_dim, dim),
                                 ("attn_output", dim, dim), ("ffn_gate", hidden, dim), ("ffn_up", hidden, dim),
                                 ("ffn_down", dim, hidden)]:
            tensors.append((f"blk.{l}.{name}.weight", *normal(rows, cols, cols ** -0.5)))
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
    for key, value in meta:
        out += gguf_string(key) + gguf_value(value)
    offset = 0
    for name, shape, data in tensors:
        out += gguf_string(name) + struct.pack("<I", len(shape))
        out += b"".join(struct.pack("<Q", d) for d in reversed(shape)) + struct.pack("<IQ", 0, offset)
        offset += -(-len(data) * 4 // 32) * 32
    for _, _, data in tensors:
        out += bytes(-len(out) % 32) + data.tobytes()
    with open(path, "wb") as f:
        f.write(out)


def convert(source, output):
    return subprocess.run([CONVERT, source, output, "--preset", "fast", "--samples", "4", "--seq-len", "32",
                           "--threads", "2"], capture_output=True, text=True, timeout=600)


TINY_GGUF, TINY_BUNDLE = os.path.join(WORK, "tiny.gguf"), os.path.join(WORK, "tiny.sabundle")


def tiny_bundle():
    """The tiny model converted on a roomy disk (once): the full-disk reference and fault 3's model."""
    if not os.path.exists(TINY_BUNDLE):
        write_tiny_gguf(TINY_GGUF)
        done = convert(TINY_GGUF, TINY_BUNDLE)
        if done.returncode != 0:
            raise RuntimeError(f"the tiny model does not convert: {done.stderr[-300:]}")
    return TINY_BUNDLE


def full_disk():
    o = Outcome()
    bundle_size = os.path.getsize(tiny_bundle())
    # Half the bundle: the write runs out of space part-way.
    tmpfs_size = bundle_size // 2 // 4096 * 4096
    mount = os.path.join(WORK, "tmpfs")
    os.mkdir(mount)
    action = (f"converted a tiny GGUF ({os.path.getsize(TINY_GGUF)} B; its bundle {bundle_size} B) "
              f"into a {tmpfs_size} B tmpfs")
    if not o.expect(os.geteuid() == 0, "running as root (mounting a tmpfs needs it)"):
        row("2 full disk while converting", action, o)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_size}", "tmpfs", mount], check=True)
    try:
        done = convert(TINY_GGUF, os.path.join(mount, "tiny.sabundle"))
        message = next((l for l in done.stderr.splitlines() if l.startswith("shiftadd-convert:")), done.stderr[-200:])
        left = os.listdir(mount)
        stat = os.statvfs(mount)
        used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
        o.fact(f"exit {done.returncode}: {message.strip()}; left in the directory: {left or 'nothing'}, {used} B used")
        o.expect(done.returncode != 0, "non-zero exit")
        o.expect("No space left on device" in message and "tiny.sabundle" in message,
                 "message names the file and ENOSPC")
        o.expect(left == [] and used == 0, "no output or temporary file left")
    finally:
        subprocess.run(["umount", mount], check=True)
    row("2 full disk while converting", action, o)


# HTTP/2 frames written by hand, so a client can misbehave in ways real clients do not.

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, CONTINUATION = 0, 1, 3, 4, 7, 9
END_STREAM, END_HEADERS = 1, 4
H2_ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
             11: "ENHANCE_YOUR_CALM"}


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out, value = [limit], value - limit
    while value >= 128:
        out.append(value & 127 | 128)
        value >>= 7
    return bytes(out + [value])


def hpack_field(name, value):
    """Literal field without indexing, new name, no Huffman coding (RFC 7541 §6.2.2)."""
    n, v = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(n), 7) + n + hpack_int(len(v), 7) + v


def header_block(method, path, *extra):
    fields = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"), *extra]
    return b"".join(hpack_field(k, v) for k, v in fields)


def h2_open(port):
    sock = connect(port)
    sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
    return sock


def read_frames(sock, seconds):
    """Frames the server sent until it closed or `seconds` passed: (frames, how it ended)."""
    buffer, ending = b"", "still open"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(1 << 16)
        except socket.timeout:
            break
        except ConnectionResetError:
            ending = "reset"
            break
        if not chunk:
            ending = "closed"
            break
        buffer += chunk
    frames = []
    while len(buffer) >= 9:
        length = int.from_bytes(buffer[:3], "big")
        if len(buffer) < 9 + length:
            break
        frames.append((buffer[3], buffer[4], int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF, buffer[9:9 + length]))
        buffer = buffer[9 + length:]
    return frames, ending


def goaway_text(frames):
    for kind, _, _, payload in frames:
        if kind == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            return f"GOAWAY {H2_ERRORS.get(code, code)} (last stream {last & 0x7FFFFFFF})", code
    return "no GOAWAY", None


# 3. A client that never reads. The tiny model streams thousands of tokens a second, so the 8 MiB
# output cap is passed within seconds on any machine; the front end is the same as for any model.

def chat_body(max_tokens):
    # Twenty alternatives per token make each streamed chunk over a kilobyte.
    return {"messages": [{"role": "user", "content": "Tell me a long story"}], "max_tokens": max_tokens,
            "ignore_eos": True, "stream": True, "logprobs": True, "top_logprobs": 20}


# Queued output stays under the cap, but the buffer holding it doubles as it grows (old and new copy
# coexist for a moment), and allocator arenas keep some of the chunks' memory: about 20 MiB of growth
# is seen, against 75 MiB of output the streams would queue without the cap.
RSS_BOUND = 4 * OUTPUT_CAP
RSS_BOUND_TEXT = "RSS growth below four times the 8 MiB cap"


def stalled_until_done(server, cancelled0):
    """Polls RSS until no sequence runs and something was cancelled: (finished, seconds, peak RSS)."""
    started, peak = time.monotonic(), server.rss_mib()

    def done():
        nonlocal peak
        peak = max(peak, server.rss_mib())
        return server.metric(CANCELLED) > cancelled0 and server.metric("shiftadd_running") == 0

    finished = wait_for(done, 120, 0.1)
    return finished, time.monotonic() - started, peak


def never_reading_h2(server):
    streams, max_tokens, control_tokens = 16, 4000, 500
    # A shorter batch read normally first gives the output's size per token.
    body_path = os.path.join(WORK, "chat.json")
    with open(body_path, "w") as f:
        json.dump(chat_body(control_tokens), f)
    control = subprocess.run(["h2load", "-n", str(streams), "-c", "1", "-m", str(streams), "-d", body_path,
                              "-H", "content-type: application/json",
                              f"http://127.0.0.1:{server.port}/v1/chat/completions"],
                             capture_output=True, text=True, check=True, timeout=300).stdout
    per_token = int(control.split(" data")[0].rsplit("(", 1)[1].rstrip(")")) / (streams * control_tokens)
    rss0, cancelled0, generated0 = server.rss_mib(), server.metric(CANCELLED), server.metric(GENERATED)
    sock = h2_open(server.port)
    body = json.dumps(chat_body(max_tokens)).encode()
    block = header_block("POST", "/v1/chat/completions", ("content-type", "application/json"))
    sock.sendall(b"".join(frame(HEADERS, END_HEADERS, 2 * i + 1, block) + frame(DATA, END_STREAM, 2 * i + 1, body)
                          for i in range(streams)))
    finished, elapsed, peak = stalled_until_done(server, cancelled0)
    generated = server.metric(GENERATED) - generated0
    served = server.request("GET", "/health")[0] == 200
    frames, _ = read_frames(sock, 3)
    sock.close()
    resets = [struct.unpack(">I", p)[0] for kind, _, _, p in frames if kind == RST_STREAM]
    data = sum(len(p) for kind, _, _, p in frames if kind == DATA)
    produced = generated * per_token
    o = Outcome()
    codes = ", ".join(sorted({H2_ERRORS.get(c, str(c)) for c in resets}))
    o.fact(f"{len(resets)} of {streams} streams reset ({codes}), "
           f"{streams - len(resets)} finished generating (output left queued); {generated:.0f} tokens, "
           f"~{produced / MIB:.0f} of {streams * max_tokens * per_token / MIB:.0f} MiB of chunks in {elapsed:.1f} s, "
           f"{data} B of DATA reached the client (its window); "
           f"RSS {rss0:.0f} → peak {peak:.0f} MiB (+{peak - rss0:.1f}); /health from another connection: {served}")
    o.expect(finished, "generation over within 120 s")
    o.expect(produced > 3 * OUTPUT_CAP, "the stalled streams produced well past the cap")
    o.expect(resets and set(resets) == {2}, "streams past the cap reset with INTERNAL_ERROR")
    o.expect(peak - rss0 < RSS_BOUND / MIB, RSS_BOUND_TEXT)
    o.expect(served, "other clients served")
    row("3a never-reading client, h2c", f"{streams} streamed chat completions (max_tokens {max_tokens}, "
        "top_logprobs 20) on one h2c connection whose socket is never read (no WINDOW_UPDATE); tiny model", o)


def never_reading_http1(server):
    max_tokens, control_tokens = 60000, 1000
    # A shorter stream read normally first gives the output's size per token.
    status, output = server.request("POST", "/v1/chat/completions", chat_body(control_tokens))
    per_token = len(output) / control_tokens
    rss0, cancelled0, generated0 = server.rss_mib(), server.metric(CANCELLED), server.metric(GENERATED)
    sock = socket.socket()
    # A small receive buffer so the kernel holds little of what the server writes.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    payload = json.dumps(chat_body(max_tokens)).encode()
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
    finished, elapsed, peak = stalled_until_done(server, cancelled0)
    generated = server.metric(GENERATED) - generated0
    received, ending = 0, "still open"
    sock.settimeout(5)
    try:
        while chunk := sock.recv(1 << 16):
            received += len(chunk)
        ending = "closed"
    except ConnectionResetError:
        ending = "reset"
    except socket.timeout:
        pass
    sock.close()
    produced, whole = generated * per_token, max_tokens * per_token
    o = Outcome()
    o.fact(f"connection {ending} by the server and generation cancelled after {elapsed:.1f} s, at {generated:.0f} of "
           f"{max_tokens} tokens (~{produced / MIB:.1f} of {whole / MIB:.0f} MiB; {received} B had reached the "
           f"client); RSS {rss0:.0f} → peak {peak:.0f} MiB (+{peak - rss0:.1f})")
    o.expect(status == 200, "the control stream read normally")
    o.expect(finished and ending != "still open", "connection dropped and generation cancelled")
    o.expect(OUTPUT_CAP <= produced < whole / 2, "dropped past the cap, long before the end")
    o.expect(peak - rss0 < RSS_BOUND / MIB, RSS_BOUND_TEXT)
    row("3b never-reading client, HTTP/1.1", f"one streamed chat completion (max_tokens {max_tokens}, "
        "top_logprobs 20), 4 KiB receive buffer, never read; idle timeout 60 s; tiny model", o)


def stalled_below_cap(server, idle_timeout, h2):
    """A response under the cap that its client never takes: the no-progress timeout should end it."""
    max_tokens = 3000
    open0, generated0, rss0 = (server.metric("shiftadd_http_connections_open"), server.metric(GENERATED),
                               server.rss_mib())
    payload = json.dumps(chat_body(max_tokens)).encode()
    if h2:
        sock = h2_open(server.port)
        block = header_block("POST", "/v1/chat/completions", ("content-type", "application/json"))
        sock.sendall(frame(HEADERS, END_HEADERS, 1, block) + frame(DATA, END_STREAM, 1, payload))
    else:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
    generated = wait_for(lambda: server.metric(GENERATED) > generated0, 60)
    ended, held = time.monotonic(), server.rss_mib() - rss0
    # Watched through the server's count of open connections: reading the socket would let it progress.
    closed = wait_for(lambda: server.metric("shiftadd_http_connections_open") <= open0, idle_timeout + 10)
    waited = time.monotonic() - ended
    sock.close()
    o = Outcome()
    o.fact(f"generation finished, RSS +{held:.1f} MiB held for the response; connection "
           + (f"closed {waited:.1f} s later" if closed else f"STILL OPEN {waited:.0f} s later"))
    o.expect(generated, "the generation finished")
    o.expect(closed, f"closed within the {idle_timeout} s no-progress timeout (+ 10 s)")
    protocol = "h2c (no WINDOW_UPDATE)" if h2 else "HTTP/1.1 (4 KiB receive buffer)"
    row(f"3{'c' if h2 else 'd'} stalled below the cap, {protocol.split()[0]}",
        f"one streamed chat completion of ~{max_tokens} tokens (under the cap) on {protocol}, never read; "
        f"--idle-timeout {idle_timeout}s; tiny model", o)


# 4. Slowloris.

def background_completions(server, stop, latencies, failures):
    while not stop.is_set():
        started = time.monotonic()
        try:
            server.complete("The capital of France is", 8)
            latencies.append(time.monotonic() - started)
        except (OSError, RuntimeError):
            failures.append(1)
        time.sleep(0.3)


def slow_heads(server, count, head, send_at, give_up):
    """Sends head[i] at send_at[i] seconds after connecting, on `count` connections, while another
    client asks for completions: (seconds until each connection was closed, head bytes sent, latencies, failures)."""
    socks = [connect(server.port) for _ in range(count)]
    opened = time.monotonic()
    closed_at, sent = {}, {n: 0 for n in range(count)}
    stop, latencies, failures = threading.Event(), [], []
    helper = threading.Thread(target=background_completions, args=(server, stop, latencies, failures))
    helper.start()
    for sock in socks:
        sock.setblocking(False)
    while len(closed_at) < count and time.monotonic() - opened < give_up:
        now = time.monotonic() - opened
        for n, sock in enumerate(socks):
            if n in closed_at:
                continue
            try:
                if sock.recv(1024) == b"":
                    closed_at[n] = now
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed_at[n] = now
                continue
            if sent[n] < len(send_at) and send_at[sent[n]] <= now:
                try:
                    sock.send(head[sent[n]:sent[n] + 1])
                    sent[n] += 1
                except OSError:
                    closed_at[n] = now
        time.sleep(0.05)
    stop.set()
    helper.join()
    for sock in socks:
        sock.close()
    return sorted(closed_at.values()), sent.values(), latencies, failures


def slowloris(server, header_timeout):
    head = (b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 40\r\n\r\n")
    count = 32
    times, sent, latencies, failures = slow_heads(server, count, head, range(len(head)), header_timeout + 10)
    o = Outcome()
    o.fact(f"{len(times)} of {count} closed by the server {times[0]:.2f}–{times[-1]:.2f} s after connecting, "
           f"{min(sent)}–{max(sent)} of {len(head)} head bytes sent; {len(latencies)} completions for another "
           f"client meanwhile (slowest {max(latencies, default=0):.2f} s), {len(failures)} failed" if times
           else f"none closed within {header_timeout + 10} s")
    o.expect(len(times) == count, "every slow connection closed")
    # The head's clock starts at its second byte: "P" alone could still begin the h2c preface.
    o.expect(bool(times) and header_timeout + 0.9 <= times[0] and times[-1] <= header_timeout + 2,
             f"closed {header_timeout} s after the second byte (+ 1 s)")
    o.expect(max(sent) < len(head), "closed before the head was complete")
    o.expect(latencies and not failures, "other clients served meanwhile")
    row("4a slowloris", f"{count} connections sending a request head one byte per second; "
        f"--header-timeout {header_timeout}s (default 10 s)", o)


def slowloris_through_preface(server, header_timeout):
    # Bytes that match the h2c preface run on the detection clock; the first that does not, sent
    # just before it expires, starts the HTTP/1.1 head clock.
    head = b"PRIX /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    turn = header_timeout - 0.3
    send_at = [0, 1, 2, turn] + [turn + k for k in range(1, len(head))]
    times, sent, latencies, failures = slow_heads(server, 4, head, send_at, 2 * header_timeout + 10)
    o = Outcome()
    o.fact(f"{len(times)} of 4 closed {times[0]:.2f}–{times[-1]:.2f} s after connecting "
           f"({header_timeout} s detection + {header_timeout} s head), {max(sent)} of {len(head)} bytes sent; "
           f"another client's completions: {len(latencies)} ok, {len(failures)} failed" if times
           else "none closed")
    o.expect(len(times) == 4 and times[-1] <= 2 * header_timeout + 1, f"closed within twice the header timeout (+ 1 s)")
    o.expect(latencies and not failures, "other clients served meanwhile")
    row("4b slowloris through the h2c preface", f"4 connections sending 'PRI' (h2c preface bytes) one per second, "
        f"then a non-preface byte at {turn:.1f} s and the rest of an HTTP/1.1 head one per second", o)


# 5. Connection flood past the configured limit.

def connection_flood():
    limit, total = 1000, 2000
    o = Outcome()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if not o.expect(soft >= total + 200, f"a descriptor limit ({soft}) above {total} sockets (faults.sh raises it)"):
        row("5 2,000 idle connections", "not run", o)
        return
    # A long header timeout, so the idle connections are held by the limit rather than timed out.
    with Server(MODEL, "--max-connections", str(limit), "--header-timeout", "120s") as server:
        fds0, rss0 = server.fds(), server.rss_mib()
        socks = [connect(server.port) for _ in range(total)]
        time.sleep(1)
        held, refused, other = [], 0, 0
        for sock in socks:
            sock.setblocking(False)
            try:
                data = sock.recv(4096)
                if data.startswith(b"HTTP/1.1 503") and b"too many connections" in data:
                    refused += 1
                else:
                    other += 1
                sock.close()
            except BlockingIOError:
                held.append(sock)
        fds_peak, rss_peak = server.fds(), server.rss_mib()
        at_limit = server.request("GET", "/health", timeout=10)
        for sock in held[:100]:
            sock.close()
        time.sleep(0.5)
        after_some = server.request("GET", "/health", timeout=10)[0]
        for sock in held[100:]:
            sock.close()
        returned = wait_for(lambda: server.fds() <= fds0, 10)
        fds1, rss1 = server.fds(), server.rss_mib()
        refused_metric = server.metric("shiftadd_http_connections_refused_total")
    o.fact(f"{len(held)} held open, {refused} got 503 'too many connections' then close, {other} other; "
           f"/health at the limit: {at_limit[0]}, after closing 100: {after_some}; "
           f"fds {fds0} → {fds_peak} → {fds1}; RSS {rss0:.0f} → {rss_peak:.0f} → {rss1:.0f} MiB; "
           f"refused counter {refused_metric:.0f}")
    o.expect(len(held) == limit and refused == total - limit and other == 0,
             f"exactly {limit} held, the rest refused with 503")
    o.expect(at_limit[0] == 503, "a new connection at the limit is refused with 503")
    o.expect(after_some == 200, "/health answers once some connections close")
    o.expect(returned, "descriptors back to the idle count")
    o.expect(rss1 - rss0 < 16, "RSS within 16 MiB of the idle value afterwards")
    row("5 2,000 idle connections", f"--max-connections {limit}; {total} TCP connections opened, none sending", o)


# 6. HTTP/2 rapid reset and CONTINUATION flood.

def health_poller(server, stop, counts):
    while not stop.is_set():
        try:
            counts[server.request("GET", "/health", timeout=10)[0] == 200] += 1
        except OSError:
            counts[False] += 1
        time.sleep(0.05)


def h2_attack(server, payload, repeats, expect_goaway):
    """Sends `payload` after the preface on `repeats` connections in turn, with /health polled from another."""
    stop, counts = threading.Event(), {True: 0, False: 0}
    poller = threading.Thread(target=health_poller, args=(server, stop, counts))
    poller.start()
    rss = [server.rss_mib()]
    endings = []
    for _ in range(repeats):
        sock = h2_open(server.port)
        try:
            sock.sendall(payload)
        except OSError:
            pass  # the server may close before the whole flood is written
        frames, ending = read_frames(sock, 10)
        sock.close()
        endings.append((goaway_text(frames), ending))
        rss.append(server.rss_mib())
    stop.set()
    poller.join()
    served = server.complete("The capital of France is", 8)
    (text, code), ending = endings[0]
    o = Outcome()
    ended = sum(e[1] != "still open" for e in endings)
    o.fact(f"{text}, connection {ending}; {repeats} connections: {ended} ended by the server; "
           f"RSS {rss[0]:.0f} → {rss[1]:.0f} after one → {rss[-1]:.0f} MiB after {repeats}; "
           f"/health from another connection meanwhile {counts[True]} ok, {counts[False]} failed")
    o.expect(ended == repeats and all(e[0][1] == code for e in endings), "every connection ended by the server, alike")
    if expect_goaway is not None:
        o.expect(code == expect_goaway, f"GOAWAY {H2_ERRORS[expect_goaway]}")
    o.expect(rss[-1] - rss[1] < 8, "no memory growth across repeats (< 8 MiB)")
    o.expect(counts[False] == 0 and counts[True] > 0 and bool(served), "other clients served meanwhile and after")
    return o


def rapid_reset(server):
    pairs = 1000
    payload = b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 2 * i + 1, header_block("GET", "/health"))
                       + frame(RST_STREAM, 0, 2 * i + 1, struct.pack(">I", 8)) for i in range(pairs))
    row("6a HTTP/2 rapid reset", f"h2c: {pairs} × (HEADERS GET /health, RST_STREAM CANCEL) in one write, "
        "20 connections one after another; limit 200 resets per 10 s", h2_attack(server, payload, 20, 11))


def continuations_accepted(server, most=50):
    """CONTINUATION frames sent one at a time until the server closes: how many it took."""
    sock = h2_open(server.port)
    sock.sendall(frame(HEADERS, 0, 1, header_block("POST", "/v1/completions")))
    try:
        for n in range(1, most + 1):
            sock.sendall(frame(CONTINUATION, 0, 1, hpack_field(f"x-flood-{n}", "a")))
            time.sleep(0.05)
            sock.setblocking(False)
            try:
                while sock.recv(1 << 16):
                    pass
                return n - 1
            except BlockingIOError:
                sock.setblocking(True)
    except OSError:
        return n - 1
    finally:
        sock.close()
    return most


def continuation_flood(server):
    frames = 5000
    accepted = continuations_accepted(server)
    payload = frame(HEADERS, 0, 1, header_block("POST", "/v1/completions"))
    payload += b"".join(frame(CONTINUATION, 0, 1, hpack_field(f"x-flood-{i}", "a")) for i in range(frames))
    o = h2_attack(server, payload, 20, 11)
    o.fact(f"sent one at a time, {accepted} were taken and the connection closed at the next")
    o.expect(accepted == 8, "8 CONTINUATION frames accepted per header block")
    row("6b HTTP/2 CONTINUATION flood", f"h2c: HEADERS without END_HEADERS, then {frames} CONTINUATION frames of "
        "one field each, 20 connections one after another; then frames one at a time on another", o)


# 7. SIGTERM under load.

def read_stream(port, body, result):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        for line in response:
            if line.startswith(b"data: "):
                result.append(line[6:].strip())
    except OSError as error:
        result.append(f"error {error}".encode())
    finally:
        conn.close()


def sigterm_under_load():
    drain_timeout, streams, max_tokens = 60, 16, 48
    with Server(MODEL, "--drain-timeout", f"{drain_timeout}s") as server:
        body = {"prompt": "Tell me a story", "max_tokens": max_tokens, "ignore_eos": True, "stream": True,
                "stream_options": {"include_usage": True}}
        results = [[] for _ in range(streams)]
        threads = [threading.Thread(target=read_stream, args=(server.port, body, r)) for r in results]
        for t in threads:
            t.start()
        all_started = wait_for(lambda: all(results), 60, 0.05)
        server.proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.5)
        try:
            connect(server.port, 2).close()
            refused = False
        except ConnectionRefusedError:
            refused = True
        status = server.proc.wait(timeout=drain_timeout + 30)
        took = time.monotonic() - signalled
        for t in threads:
            t.join(30)
    done = sum(r[-1:] == [b"[DONE]"] for r in results)
    # With include_usage the chunk before [DONE] carries the usage.
    usages = [json.loads(r[-2]).get("usage", {}).get("completion_tokens") if r[-1:] == [b"[DONE]"] and len(r) > 1
              else None for r in results]
    o = Outcome()
    o.fact(f"{done} of {streams} streams ended with [DONE], {usages.count(max_tokens)} with all {max_tokens} tokens; "
           f"new connection during the drain {'refused' if refused else 'ACCEPTED'}; "
           f"exit {status} {took:.1f} s after SIGTERM")
    o.expect(all_started, "all streams had started before SIGTERM")
    o.expect(done == streams and usages.count(max_tokens) == streams, "every stream finished in full")
    o.expect(refused, "new connections refused while draining")
    o.expect(status == 0 and took < drain_timeout, f"exit 0 within the {drain_timeout} s drain timeout")
    row("7 SIGTERM under load", f"{streams} streamed completions (max_tokens {max_tokens}) in flight over HTTP/1.1, "
        f"then SIGTERM; --drain-timeout {drain_timeout}s", o)


def never_reading():
    # 256 MiB of KV cache holds the long streams; the default would take 1 GiB for the 65,536-token context.
    with Server(tiny_bundle(), "--kv-cache-memory", "256MiB") as server:
        run_fault("3a never-reading client, h2c", never_reading_h2, server)
        run_fault("3b never-reading client, HTTP/1.1", never_reading_http1, server)
    # A short idle timeout, on its own server so that it cannot end 3a and 3b before the cap does.
    idle_timeout = 3
    with Server(tiny_bundle(), "--kv-cache-memory", "256MiB", "--idle-timeout", f"{idle_timeout}s") as server:
        run_fault("3c stalled below the cap, h2c", stalled_below_cap, server, idle_timeout, True)
        run_fault("3d stalled below the cap, HTTP/1.1", stalled_below_cap, server, idle_timeout, False)


def main():
    header_timeout = 3
    try:
        with Server(MODEL, "--header-timeout", f"{header_timeout}s") as server:
            run_fault("1 damaged bundle", bundle_faults, server.bundle_path())
            run_fault("2 full disk while converting", full_disk)
            run_fault("3 never-reading client", never_reading)
            run_fault("4a slowloris", slowloris, server, header_timeout)
            run_fault("4b slowloris through the h2c preface", slowloris_through_preface, server, header_timeout)
            run_fault("5 2,000 idle connections", connection_flood)
            run_fault("6a HTTP/2 rapid reset", rapid_reset, server)
            run_fault("6b HTTP/2 CONTINUATION flood", continuation_flood, server)
        run_fault("7 SIGTERM under load", sigterm_under_load)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "summary.json"), "w") as f:
        json.dump(ROWS, f, indent=2, ensure_ascii=False)
    failed = [r["fault"] for r in ROWS if r["result"] == "fail"]
    print(f"{len(ROWS) - len(failed)} of {len(ROWS)} passed" + (f"; failed: {', '.join(failed)}" if failed else ""))
    print(f"table: {os.path.join(OUT_DIR, 'summary.json')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
