#!/usr/bin/env bash
# Soak test: serves MODEL on a free loopback port, runs Scripts/soak.py against it for SOAK_SECONDS
# (default 1800), then stops the server with SIGTERM, which must end it with exit status 0.
# Usage: soak.sh SHIFTADD_BINARY MODEL
# Summary: .build/soak/summary.json; server log: .build/soak/server.log.
set -euo pipefail
source "$(dirname "$0")/server-lib.sh"
bin=$1
model=$2
seconds=${SOAK_SECONDS:-1800}
out=.build/soak
# Lower than the default so that each oversize request costs little; soak.py must know it.
body_limit=1048576
mkdir -p "$out"
server_pid=""
trap '[ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true' EXIT

port=$(free_port)
# Warnings only: every request at info level would make a large log over a long run.
"$bin" serve --model "$model" --host 127.0.0.1 --port "$port" --threads 2 --max-body-bytes "$body_limit" \
    --log-level warning >"$out/server.log" 2>&1 &
server_pid=$!
wait_healthy "$port" "$server_pid" "$out/server.log"

status=0
python3 "$(dirname "$0")/soak.py" --port "$port" --pid "$server_pid" --seconds "$seconds" \
    --max-body-bytes "$body_limit" --summary "$out/summary.json" || status=$?

kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
if [ "$server_status" = 0 ]; then
    echo "soak: server exit status 0 after SIGTERM"
else
    echo "soak: FAIL: server exit status $server_status after SIGTERM" >&2
    tail -20 "$out/server.log" >&2
    status=1
fi
exit "$status"
