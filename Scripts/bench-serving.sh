#!/usr/bin/env bash
# Starts `shiftadd serve` on a free port with the given bundle and runs Scripts/bench_serving.py.
# Usage: bench-serving.sh SHIFTADD_BINARY BUNDLE
set -euo pipefail
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$1" serve --model "$2" --port "$port" --threads 2 --log-level warning >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 1
done
python3 "$(dirname "$0")/bench_serving.py" "http://127.0.0.1:$port"
