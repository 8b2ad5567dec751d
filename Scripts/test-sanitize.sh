#!/bin/bash
# Runs test suites under sanitizers, each configuration in its own scratch path:
#   address  AddressSanitizer (with LeakSanitizer) on Swift and C, UndefinedBehaviorSanitizer on C
#   thread   ThreadSanitizer on Swift and C
#
#   Scripts/test-sanitize.sh [address] [thread]      (default: both)
#   SANITIZE_FILTER='ShiftAddHTTPTests|...'          test targets to run (default below)
#
# Any sanitizer report fails the run. Logs and a summary go to .build/sanitize/.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.build/sanitize"
SWIFT="${SWIFT:-swift}"
FILTER="${SANITIZE_FILTER:-ShiftAddHTTPTests|ShiftAddSchedulerTests|ShiftAddServerTests|ShiftAddKernelTests|ShiftAddEngineTests}"
SUPPRESSIONS="$ROOT/Tests/Sanitizers"
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(address thread)

# Swift's own crash handler would run inside a sanitizer's report.
export SWIFT_BACKTRACE=enable=no
export SHIFTADD_MODEL_DIR="${SHIFTADD_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shiftadd/models}"

mkdir -p "$OUT"
summary="$OUT/summary.txt"
echo "Sanitizer run $(date -u +%Y-%m-%dT%H:%MZ), filter: $FILTER" >"$summary"
printf '%-8s %6s %8s %8s %8s %8s %8s %9s\n' sanitizer exit tests passed failed asan+lsan ubsan tsan >>"$summary"

status=0
for kind in "${kinds[@]}"; do
    case "$kind" in
    address)
        # swiftc has no undefined-behaviour sanitizer, and SwiftPM would pass it to swiftc too, so
        # UBSan reaches the C targets through -Xcc; the ASan runtime carries its handlers.
        flags=(--sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
        export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
        export LSAN_OPTIONS="suppressions=$SUPPRESSIONS/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
        ;;
    thread)
        flags=(--sanitize=thread)
        export TSAN_OPTIONS="suppressions=$SUPPRESSIONS/tsan.supp:second_deadlock_stack=1:history_size=4"
        ;;
    *)
        echo "unknown sanitizer: $kind (address or thread)" >&2
        exit 2
        ;;
    esac
    log="$OUT/$kind.log"
    echo "== $kind: building and running $FILTER (log: $log)"
    "$SWIFT" test -c release -Xswiftc -enable-testing --scratch-path "$OUT/$kind" "${flags[@]}" \
        --filter "$FILTER" >"$log" 2>&1
    rc=$?
    asan=$(grep -cE "ERROR: (AddressSanitizer|LeakSanitizer)" "$log")
    ubsan=$(grep -c "runtime error:" "$log")
    tsan=$(grep -c "WARNING: ThreadSanitizer" "$log")
    passed=$(grep -E "^✔ Test .* passed after" "$log" | grep -vc "^✔ Test run with")
    failed=$(grep -E "^✘ Test .* failed after" "$log" | grep -vc "^✘ Test run with")
    tests=$(sed -n 's/.*Test run with \([0-9]*\) tests.*/\1/p' "$log" | tail -1)
    grep -E "Test run with|ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer|^SUMMARY:|^✘|error:" "$log" | head -40
    printf '%-8s %6s %8s %8s %8s %8s %8s %9s\n' "$kind" "$rc" "${tests:-?}" "$passed" "$failed" "$asan" "$ubsan" "$tsan" >>"$summary"
    [ $rc -ne 0 ] || [ $((asan + ubsan + tsan)) -gt 0 ] && status=1
    unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS
done
echo
cat "$summary"
exit $status
