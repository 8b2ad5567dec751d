#!/bin/bash
# Builds the libFuzzer targets of Tests/Fuzz (address sanitizer on, every module of the main package
# instrumented) and runs each for FUZZ_SECONDS, starting from its committed seeds plus what earlier
# runs found. Prints libFuzzer's final statistics and writes a table to .build/fuzz/summary.txt;
# .build/fuzz/history.tsv accumulates every run so the total time per target can be read off.
#
#   Scripts/fuzz.sh [target ...]      (default: every target)
#   FUZZ_SECONDS=60                   time per target
#   FUZZ_BUILD_ONLY=1                 build and stop
#
# Crashing inputs land in .build/fuzz/artifacts/<target>/; rerun one with
#   .build/fuzz/build/release/<Executable> <file>
# The exit status is 1 when any target found something.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.build/fuzz"
SCRATCH="$OUT/build"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
SWIFT="${SWIFT:-swift}"
# Swift's own crash handler would run inside the sanitizer's report; libFuzzer's is enough.
export SWIFT_BACKTRACE=enable=no
# The tokenizer target loads the default model's tokenizer (`make model` fetches it).
export SHIFTADD_MODEL_DIR="${SHIFTADD_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shiftadd/models}"

# target name, executable, largest input in bytes, dictionary (Tests/Fuzz/Dictionaries, - for none)
TARGETS=(
    "http1-parser FuzzHTTP1Parser 4096 http1"
    "http1-connection FuzzHTTP1Connection 8192 http1"
    "http2-session FuzzHTTP2Session 8192 http2"
    "api-request FuzzAPIRequest 4096 api-request"
    "chat-template FuzzChatTemplate 8192 chat-template"
    "gguf FuzzGGUF 32768 -"
    "bundle FuzzBundle 32768 -"
    "tokenizer FuzzTokenizer 2048 -"
)

selected=("$@")
wanted() {
    [ ${#selected[@]} -eq 0 ] && return 0
    local t
    for t in "${selected[@]}"; do [ "$t" = "$1" ] && return 0; done
    return 1
}
for t in "${selected[@]}"; do
    printf '%s\n' "${TARGETS[@]}" | awk '{print $1}' | grep -qx "$t" || { echo "unknown fuzz target: $t" >&2; exit 2; }
done

# SwiftPM hands `--sanitize` values to swiftc one flag each, and the driver then keeps only the last
# one for the frontend; the combined -Xswiftc flag keeps the coverage instrumentation of Swift code.
build() {
    (cd "$ROOT/Tests/Fuzz" && "$SWIFT" build -c release --scratch-path "$SCRATCH" \
        --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address --product "$1")
}

mkdir -p "$OUT/logs"
for entry in "${TARGETS[@]}"; do
    read -r name exe _ <<<"$entry"
    wanted "$name" || continue
    echo "== building $exe"
    if ! build "$exe" >"$OUT/logs/build-$exe.log" 2>&1; then
        grep -E "error|warning" "$OUT/logs/build-$exe.log" >&2 || tail -20 "$OUT/logs/build-$exe.log" >&2
        echo "build of $exe failed (log: $OUT/logs/build-$exe.log)" >&2
        exit 1
    fi
done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

mkdir -p "$OUT/corpus" "$OUT/artifacts"
[ -f "$OUT/history.tsv" ] || printf 'date\ttarget\tseconds\texecs\tcov\tfindings\n' >"$OUT/history.tsv"
summary="$OUT/summary.txt"
{
    echo "Fuzz run $(date -u +%Y-%m-%dT%H:%MZ), ${SECONDS_PER_TARGET} s per target ($(nproc) cores)"
    printf '%-17s %8s %12s %9s %6s %7s %8s %9s %12s %9s\n' target seconds execs exec/s cov features files findings total_execs total_s
} >"$summary"

status=0
for entry in "${TARGETS[@]}"; do
    read -r name exe max_len dict <<<"$entry"
    wanted "$name" || continue
    options=(-max_total_time="$SECONDS_PER_TARGET" -max_len="$max_len" -timeout=10 -rss_limit_mb=2560
             -print_final_stats=1)
    [ "$dict" != - ] && options+=(-dict="$ROOT/Tests/Fuzz/Dictionaries/$dict.dict")
    corpus="$OUT/corpus/$name"
    artifacts="$OUT/artifacts/$name"
    log="$OUT/logs/$name.log"
    mkdir -p "$corpus" "$artifacts"
    before=$(find "$artifacts" -type f | wc -l)
    echo "== fuzzing $name for ${SECONDS_PER_TARGET}s"
    # New inputs go to the first directory (kept between runs); the committed seeds are only read.
    set +e
    "$SCRATCH/release/$exe" "$corpus" "$ROOT/Tests/Fuzz/Corpus/$name" "${options[@]}" \
        -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?
    set -e
    grep -E '^(stat::|#[0-9]+[[:space:]]+DONE|==[0-9]+==ERROR|SUMMARY:|artifact_prefix|Test unit written)' "$log" || true
    after=$(find "$artifacts" -type f | wc -l)
    findings=$((after - before))
    [ $rc -ne 0 ] && [ $findings -eq 0 ] && findings=1
    [ $findings -gt 0 ] && { status=1; echo "!! $name: finding, see $log and $artifacts"; }
    execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
    rate=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    units=$(find "$corpus" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$SECONDS_PER_TARGET" "${execs:-0}" "${cov:-0}" "$findings" \
        >>"$OUT/history.tsv"
    read -r total_execs total_seconds < <(awk -F'\t' -v t="$name" '$2 == t {e += $4; s += $3} END {print e, s}' "$OUT/history.tsv")
    printf '%-17s %8s %12s %9s %6s %7s %8s %9s %12s %9s\n' "$name" "$SECONDS_PER_TARGET" "${execs:-0}" "${rate:-0}" \
        "${cov:-?}" "${ft:-?}" "$units" "$findings" "$total_execs" "$total_seconds" >>"$summary"
done
echo
cat "$summary"
exit $status
