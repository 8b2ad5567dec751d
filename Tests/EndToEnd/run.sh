#!/usr/bin/env bash
# End-to-end test of `shiftadd serve` on the real model, as a user would drive it: curl over
# HTTP/1.1, h2c and TLS (h2 and http/1.1 by ALPN), nghttp, the official openai client, cancellation
# on disconnect, and a drain on SIGTERM with streams in flight.
# Usage: run.sh SHIFTADD_BINARY MODEL PYTHON_WITH_OPENAI
set -euo pipefail

bin=$1
model=$2
python=$3
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- server log (last 40 lines) ---" >&2
    tail -40 "$work/server.log" >&2 || true
    exit 1
}
step() { echo "e2e: $*"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
tls_port=$(free_port)
key=sk-e2e-$RANDOM$RANDOM
echo "$key" > "$work/keys"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

for missing in "$work/missing.gguf" "$work/missing.sabundle"; do
    if out=$("$bin" serve --model "$missing" --port "$port" 2>&1); then fail "serve started on $missing"; fi
    [[ "$out" == *"$missing: no such file or directory"* && "$out" != *converting* && "$out" != *listening* ]] ||
        fail "serve on a missing model: $out"
done
step "a missing model is refused before listening or converting"

"$bin" serve --model "$model" --port "$port" --tls-port "$tls_port" --tls-cert "$work/cert.pem" \
    --tls-key "$work/key.pem" --api-keys-file "$work/keys" --threads 2 --drain-timeout 600 \
    --model-id smollm2 >"$work/server.log" 2>&1 &
server_pid=$!

step "waiting for /health (the first start converts the model)"
for _ in $(seq 1 1200); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || fail "server exited during start-up"
    sleep 1
done
curl -fsS "http://127.0.0.1:$port/health" | grep -q '"ok"' || fail "/health never turned ok"

http="http://127.0.0.1:$port"
https="https://localhost:$tls_port"
auth=(-H "Authorization: Bearer $key" -H "Content-Type: application/json")
# A chat question, the instruct model's own format: a bare completion prompt is a harder test of a
# 3-bit fast-preset bundle, and whether it says "Paris" there varies from one conversion to the next.
body='{"messages":[{"role":"user","content":"What is the capital of France?"}],"max_tokens":12,"temperature":0}'
stream_body='{"prompt":"The capital of France is","max_tokens":12,"temperature":0,"stream":true}'

check_mode() { # name, expected http_version, curl options...
    local name=$1 version=$2
    shift 2
    local out
    out=$(curl -sS "$@" "${auth[@]}" -d "$body" -w '\n%{http_code} %{http_version}' "$URL/v1/chat/completions")
    [[ "$out" == *Paris* ]] || fail "$name: chat answer without Paris: $out"
    [[ "$(tail -1 <<<"$out")" == "200 $version" ]] || fail "$name: status/version $(tail -1 <<<"$out")"
    out=$(curl -sS -N "$@" "${auth[@]}" -d "$stream_body" "$URL/v1/completions")
    local chunks
    chunks=$(grep -c '^data: {' <<<"$out" || true)
    [ "$chunks" -ge 3 ] || fail "$name: $chunks SSE chunks: $out"
    [[ "$(grep '^data:' <<<"$out" | tail -1)" == "data: [DONE]" ]] || fail "$name: stream does not end with [DONE]"
    step "$name: completion and stream ($chunks chunks) ok"
}
URL=$http check_mode "HTTP/1.1" 1.1 --http1.1
URL=$http check_mode "h2c prior knowledge" 2 --http2-prior-knowledge
URL=$https check_mode "TLS h2 (ALPN)" 2 --http2 --cacert "$work/cert.pem"
URL=$https check_mode "TLS http/1.1 (ALPN)" 1.1 --http1.1 --cacert "$work/cert.pem"

echo "$body" > "$work/body.json"
out=$(nghttp -H ":method: POST" -H "authorization: Bearer $key" -H "content-type: application/json" \
    -d "$work/body.json" "$http/v1/chat/completions")
[[ "$out" == *Paris* ]] || fail "nghttp (h2c): $out"
out=$(nghttp -H ":method: POST" -H "authorization: Bearer $key" -H "content-type: application/json" \
    -d "$work/body.json" "$https/v1/chat/completions")
[[ "$out" == *Paris* ]] || fail "nghttp (h2 over TLS): $out"
step "nghttp over h2c and TLS ok"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" -d "$body" "$http/v1/completions")
[ "$code" = 401 ] || fail "missing API key gave $code"
step "API key required (401 without it)"

"$python" "$(dirname "$0")/openai_client.py" "$http/v1" "$key" smollm2 || fail "openai client"
"$python" "$(dirname "$0")/structured_outputs.py" "$http" 10 --key "$key" --langchain || fail "structured outputs"
step "structured outputs and tool calls ok"

# Samples carry the model's name as a label; $1 leaves it out.
metric() {
    curl -fsS "$http/metrics" | awk -v n="$1" '{ k = $1; sub(/model_name="[^"]*",?/, "", k); sub(/\{\}/, "", k) } k == n { print $2 }'
}
# Polls (up to 30 s) until metric $1 lies within [$2, $3]; prints its last value.
await_metric() {
    local value
    for _ in $(seq 1 150); do
        value=$(metric "$1")
        [ "${value%.*}" -ge "$2" ] 2>/dev/null && [ "${value%.*}" -le "$3" ] && break
        sleep 0.2
    done
    echo "$value"
}
context=$(curl -fsS "${auth[@]}" "$http/v1/models" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["max_model_len"])')
# Generations as long as the context allows: thousands of tokens, so one is still running when
# its client leaves after the first chunk, however fast the machine.
long="{\"prompt\":\"Once upon a time\",\"max_tokens\":$((context - 64)),\"ignore_eos\":true,\"stream\":true}"
# Reads a stream up to its first chunk and leaves: grep exits, and curl exits on its next write
# into the closed pipe, closing the connection. Fails if no chunk came.
leave_after_first_chunk() {
    { curl -sS -N "$@" "${auth[@]}" -d "$long" "$http/v1/completions" 2>/dev/null || true; } | grep -m1 -q '^data: {'
}
cancelled='shiftadd_generations_finished_total{reason="cancelled"}'
before=$(metric "$cancelled")
before=${before:-0}
leave_after_first_chunk --http1.1 || fail "HTTP/1.1 stream without a first chunk"
leave_after_first_chunk --http2-prior-knowledge || fail "h2c stream without a first chunk"
want=$((${before%.*} + 2))
after=$(await_metric "$cancelled" "$want" "$want")
[ "${after%.*}" = "$want" ] || fail "cancellations after two disconnects: $before → $after"
running=$(await_metric shiftadd_running 0 0)
[ "${running%.*}" = 0 ] || fail "$running sequences still running after the clients left"
step "disconnects (HTTP/1.1 and h2) cancel their generations"

# Prometheus' own parser reads /metrics; the gauges a gateway's endpoint picker reads are there,
# labelled with the model's name.
curl -fsS "$http/metrics" | "$python" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
samples = {s.name: s for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples}
assert all(s.labels.get("model_name") == "smollm2" for s in samples.values()), "a sample without model_name"
for name in ("vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc",
             "shiftadd_kv_cache_usage_ratio"):
    assert name in samples, name
assert 0 <= samples["vllm:kv_cache_usage_perc"].value <= 1
' || fail "/metrics as prometheus_client reads it"
step "prometheus_client parses /metrics; gateway gauges with model_name"

# One sampler: `generate` on the served bundle prints the prompt and then exactly the text the API
# returns for the same prompt, seed and temperature. On the default model's bundle the first
# prompt ends at an end-of-text token, the second runs to the 24-token limit.
bundle=$(sed -n 's/.* INFO ready model="\{0,1\}\([^" ]*\.sabundle\)"\{0,1\} .*/\1/p' "$work/server.log" | tail -1)
[ -n "$bundle" ] || fail "no bundle path in the server's ready line"
for seed_prompt in "The capital of France is" "Once upon a time"; do
    "$bin" generate --model "$bundle" --prompt "$seed_prompt" --seed 7 --temperature 0.8 --max-tokens 24 --threads 2 \
        >"$work/generated.txt" 2>"$work/generate.log" || fail "generate: $(cat "$work/generate.log")"
    curl -sS "${auth[@]}" -d "{\"prompt\":\"$seed_prompt\",\"seed\":7,\"temperature\":0.8,\"max_tokens\":24}" \
        "$http/v1/completions" >"$work/seeded.json"
    python3 - "$seed_prompt" "$work/generated.txt" "$work/seeded.json" <<'PY' || fail "generate and the API differ for seed 7"
import json, sys
prompt, printed, response = sys.argv[1], open(sys.argv[2], encoding="utf-8").read(), json.load(open(sys.argv[3]))
expected = prompt + response["choices"][0]["text"] + "\n"
if printed != expected:
    sys.exit(f"generate printed {printed!r}, the API gave {expected!r}")
PY
done
step "generate --seed 7 --temperature 0.8 prints the API's completions for seed 7"

step "SIGTERM with 16 streams in flight"
# 256 tokens each: far more than a stream makes between its first chunk and the signal; the drain
# takes about 20 s on two cores, and --drain-timeout only bounds it.
for i in $(seq 1 16); do
    curl -sS -N "${auth[@]}" -d '{"prompt":"Tell me a story","max_tokens":256,"ignore_eos":true,"stream":true}' \
        "$http/v1/completions" >"$work/stream$i.txt" 2>&1 &
done
for _ in $(seq 1 600); do
    started=$({ grep -l '^data: {' "$work"/stream*.txt 2>/dev/null || true; } | wc -l)
    [ "$started" -ge 16 ] && break
    sleep 0.05
done
[ "$started" -ge 16 ] || fail "$started of 16 streams started within 30 s"
kill -TERM "$server_pid"
# The listener closes once the signal is handled: poll until a connection is refused (curl exit 7).
refused=0
for _ in $(seq 1 150); do
    code=0
    curl -s -o /dev/null --max-time 5 "$http/live" || code=$?
    [ "$code" = 7 ] && refused=1 && break
    sleep 0.2
done
done_streams=$({ grep -lx 'data: \[DONE\]' "$work"/stream*.txt 2>/dev/null || true; } | wc -l)
[ "$refused" = 1 ] || fail "new connections still accepted 30 s after SIGTERM"
# Refused while streams were still open: the server was draining, not gone.
[ "$done_streams" -lt 16 ] || fail "every stream had finished before the listener closed"
wait_status=0
wait "$server_pid" || wait_status=$?
server_pid=""
[ "$wait_status" = 0 ] || fail "server exit status $wait_status after SIGTERM"
wait
# The server counted the generations running when it took the signal.
grep -Eq 'draining .*\bin_flight=16\b' "$work/server.log" || fail "not 16 generations in flight at SIGTERM: $(grep draining "$work/server.log")"
for i in $(seq 1 16); do
    [[ "$(grep '^data:' "$work/stream$i.txt" | tail -1)" == "data: [DONE]" ]] || fail "stream $i cut short: $(tail -3 "$work/stream$i.txt")"
    grep -q '"finish_reason":"length"' "$work/stream$i.txt" || fail "stream $i did not run to max_tokens"
done
step "all 16 streams finished, new connections refused, exit status 0"
echo "e2e: all checks passed"
