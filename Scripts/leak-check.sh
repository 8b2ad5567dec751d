#!/usr/bin/env bash
# Leak check of the server: `shiftadd serve` built with AddressSanitizer (LeakSanitizer on), 1,000
# requests of every kind (whole and streamed completions and chat over HTTP/1.1 and h2c, clients that
# leave mid-stream, bad JSON, oversize and malformed requests), then SIGTERM. LeakSanitizer reports
# at exit whatever is still allocated and unreachable; any report, or an exit status other than 0,
# fails the check.
# Usage: leak-check.sh MODEL [REQUESTS]
set -euo pipefail
source "$(dirname "$0")/server-lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
model=$1
requests=${2:-1000}
scratch="$root/.build/sanitize/leak-check"
out="$root/.build/leak-check"
mkdir -p "$out"

echo "== building shiftadd with AddressSanitizer ($scratch)"
swift build -c release --scratch-path "$scratch" --sanitize=address --product shiftadd >"$out/build.log" 2>&1 \
    || { tail -30 "$out/build.log"; exit 1; }
bin="$scratch/release/shiftadd"

port=$(free_port)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$out/asan"
export LSAN_OPTIONS="suppressions=$root/Tests/Sanitizers/lsan.supp:print_suppressions=0"
export SWIFT_BACKTRACE=enable=no
rm -f "$out"/asan.*
"$bin" serve --model "$model" --port "$port" --threads 2 --log-level warning >"$out/server.log" 2>&1 &
pid=$!
trap 'kill -9 "$pid" 2>/dev/null || true' EXIT
wait_healthy "$port" "$pid" "$out/server.log"

echo "== $requests requests"
python3 "$root/Scripts/leak_check_load.py" "http://127.0.0.1:$port" "$requests"
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
reports=$(cat "$out"/asan.* 2>/dev/null | grep -cE "ERROR: (LeakSanitizer|AddressSanitizer)" || true)
echo "server RSS before SIGTERM: $((rss_kib / 1024)) MiB; exit status $status; sanitizer reports: $reports"
if [ "$reports" != 0 ]; then
    cat "$out"/asan.* | head -80
    exit 1
fi
[ "$status" = 0 ] || { tail -20 "$out/server.log"; exit 1; }
echo "leak check passed: no leaks or memory errors after $requests requests"
