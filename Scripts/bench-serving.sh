#!/usr/bin/env bash
# Starts `shiftadd serve` on a free port with the given bundle and runs Scripts/bench_serving.py.
# Usage: bench-serving.sh SHIFTADD_BINARY BUNDLE
set -euo pipefail
source "$(dirname "$0")/server-lib.sh"
port=$(free_port)
log=$(mktemp)
"$1" serve --model "$2" --port "$port" --threads 2 --log-level warning >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
wait_healthy "$port" "$pid" "$log" 600
python3 "$(dirname "$0")/bench_serving.py" "http://127.0.0.1:$port"
