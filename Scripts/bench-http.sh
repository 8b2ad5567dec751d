#!/usr/bin/env bash
# Load test of the HTTP front end and scheduler with h2load: /v1/completions (max_tokens 16),
# 64 concurrent streams over 8 connections, over h2c and over HTTP/1.1.
# Usage: bench-http.sh SHIFTADD_BINARY MODEL [REQUESTS]
set -euo pipefail
source "$(dirname "$0")/server-lib.sh"
bin=$1
model=$2
requests=${3:-2000}
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

port=$(free_port)
"$bin" serve --model "$model" --port "$port" --threads 2 --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
wait_healthy "$port" "$server_pid" "$work/server.log"
echo '{"prompt":"Write a short note about the sea.","max_tokens":16,"temperature":0.8,"seed":1}' >"$work/body.json"
h2load_args=(-n "$requests" -c 8 -m 8 -d "$work/body.json" -H "content-type: application/json"
             "http://127.0.0.1:$port/v1/completions")
# Request latency percentiles from h2load's per-request log (third column: microseconds).
percentiles() {
    sort -n -k3 "$1" | awk '{ v[NR] = $3 } END {
        printf "latency p50 %.2f s, p90 %.2f s, p99 %.2f s\n", v[int(NR*0.5)]/1e6, v[int(NR*0.9)]/1e6, v[int(NR*0.99)]/1e6 }'
}
echo "== h2c: h2load ${h2load_args[*]}"
h2load --log-file="$work/h2.log" "${h2load_args[@]}" | grep -E "^(finished in|requests:|status codes:|time for request:|req/s)"
percentiles "$work/h2.log"
echo "== HTTP/1.1: h2load --h1 ${h2load_args[*]}"
h2load --h1 --log-file="$work/h1.log" "${h2load_args[@]}" | grep -E "^(finished in|requests:|status codes:|time for request:|req/s)"
percentiles "$work/h1.log"
curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^shiftadd_(time_to_first_token|inter_token_latency)_seconds_(sum|count)|^shiftadd_generations_finished_total'
