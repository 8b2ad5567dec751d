#!/usr/bin/env bash
# Starts `shiftadd serve` on a free port and runs the structured-output and tool-call checks of
# Tests/EndToEnd/structured_outputs.py with COUNT seeded requests of each kind, LangChain included.
# Usage: structured-outputs.sh SHIFTADD_BINARY MODEL PYTHON COUNT
set -euo pipefail
source "$(dirname "$0")/server-lib.sh"
port=$(free_port)
log=$(mktemp)
"$1" serve --model "$2" --port "$port" --threads 2 --log-level warning >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
wait_healthy "$port" "$pid" "$log"
"$3" "$(dirname "$0")/../Tests/EndToEnd/structured_outputs.py" "http://127.0.0.1:$port" "$4" --langchain
