#!/usr/bin/env bash
# End-to-end test of the container image: build it with podman from local bases, start it with the
# default model mounted read-only, wait for /health, run a completion and a streamed chat
# completion through the published port, stop it with SIGTERM and require exit code 0; then start
# it again on the warm bundle cache. Prints the image size and the start-up times to /health.
#
# Environment: MODEL_DIR (directory holding the default GGUF), CONTAINER_IMAGE, CONTAINER_PORT,
# CONTAINER_BUNDLE_VOLUME (podman volume for converted bundles, kept between runs),
# CONTAINER_STARTUP_TIMEOUT (seconds), CONTAINER_SKIP_BUILD=1 to test an image already built.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
source "$here/podman-setup.sh"

model_dir="${MODEL_DIR:?MODEL_DIR must name the directory holding the default model (make model)}"
model_name="SmolLM2-135M-Instruct.Q4_1.gguf"
image="${CONTAINER_IMAGE:-localhost/shiftadd:test}"
port="${CONTAINER_PORT:-18080}"
volume="${CONTAINER_BUNDLE_VOLUME:-shiftadd-test-bundles}"
startup_timeout="${CONTAINER_STARTUP_TIMEOUT:-900}"
name="shiftadd-test-$$"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"

fail() { echo "test-container: FAILED: $*" >&2; podman logs --tail 40 "$name" >&2 2>/dev/null || true; exit 1; }
cleanup() { podman rm -f -t 0 "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
# Without systemd, podman cannot schedule health check timers and says so on every start and
# removal; the check itself still runs with `podman healthcheck run`.
quiet() { "$@" 2> >(grep -v 'systemd connection' >&2); }
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ -f "$model_dir/$model_name" ] || fail "$model_dir/$model_name is missing: run \`make model\`"

if [ "${CONTAINER_SKIP_BUILD:-0}" != 1 ]; then
    eval "$("$here/local-bases.sh")"
    build_start="$(now)"
    podman build --format docker -f "$here/Dockerfile" \
        --build-arg BUILDER_IMAGE="$BUILDER_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
        -t "$image" "$repo"
    echo "image built in $(elapsed "$build_start" "$(now)") s"
fi

# The image as configured: HEALTHCHECK kept (docker format), non-root user, exec-form entrypoint.
[ "$(podman image inspect --format '{{.Config.User}}' "$image")" = shiftadd ] || fail "image does not run as user shiftadd"
podman image inspect --format '{{json .Config.Healthcheck}}' "$image" | grep -q shiftadd-healthcheck \
    || fail "image has no HEALTHCHECK (build with --format docker)"
podman run --rm --no-healthcheck "$image" --help > "$work/help.txt" || fail "shiftadd --help failed in the container"
grep -q "serve" "$work/help.txt" || fail "shiftadd --help does not list the serve command"
podman run --rm --no-healthcheck "$image" serve --help > "$work/serve-help.txt" || fail "shiftadd serve --help failed in the container"
grep -q "SHIFTADD_MODEL" "$work/serve-help.txt" || fail "serve --help does not show the environment variables"

podman volume exists "$volume" && cache_state="warm" || cache_state="empty"

# Starts the container (or restarts it) and waits for /health; prints the seconds it took.
wait_for_health() {
    local start="$1" deadline=$(( $(date +%s) + startup_timeout ))
    until curl -fsS -o /dev/null "$base/health" 2>/dev/null; do
        [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || fail "the container exited before /health answered"
        [ "$(date +%s)" -lt "$deadline" ] || fail "/health did not answer 200 within $startup_timeout s"
        sleep 0.2
    done
    elapsed "$start" "$(now)"
}

# Sends SIGTERM and requires a clean exit 0.
stop_cleanly() {
    local start; start="$(now)"
    quiet podman stop -t 60 "$name" >/dev/null
    local code; code="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
    [ "$code" = 0 ] || fail "exit code $code after SIGTERM (expected 0)"
    echo "stopped by SIGTERM in $(elapsed "$start" "$(now)") s, exit code 0"
}

start="$(now)"
quiet podman run -d --name "$name" -p "127.0.0.1:$port:8080" -e SHIFTADD_KV_CACHE_MEMORY=256MiB \
    -v "$model_dir:/models:ro" -v "$volume:/var/cache/shiftadd" "$image" >/dev/null
first_start="$(wait_for_health "$start")"
echo "/health answered $first_start s after start (bundle cache $cache_state)"
echo "peak RSS so far: $(podman exec "$name" sed -n 's/^VmHWM:\s*//p' /proc/1/status)"

[ "$(podman exec "$name" id -u)" = 10001 ] || fail "the server does not run as uid 10001"
podman exec "$name" cat /proc/1/cmdline | tr '\0' ' ' | grep -q '^/usr/local/bin/shiftadd serve' \
    || fail "the server is not PID 1"
podman healthcheck run "$name" >/dev/null || fail "the image's HEALTHCHECK fails on a healthy server"

# A completion: OpenAI shape with text, finish reason and usage.
curl -fsS "$base/v1/completions" -H 'Content-Type: application/json' \
    -d '{"prompt": "The capital of France is", "max_tokens": 8, "temperature": 0}' > "$work/completion.json" \
    || fail "POST /v1/completions failed"
jq -e '.object == "text_completion" and (.id | type == "string") and (.model | type == "string")
       and (.choices | length == 1) and (.choices[0].text | type == "string" and length > 0)
       and (.choices[0].finish_reason | IN("stop", "length"))
       and .usage.prompt_tokens > 0 and .usage.completion_tokens > 0 and .usage.completion_tokens <= 8' \
    "$work/completion.json" >/dev/null || fail "unexpected completion: $(cat "$work/completion.json")"
echo "completion: $(jq -c '.choices[0].text' "$work/completion.json")"

# A streamed chat completion: SSE chunks of chat.completion.chunk, then data: [DONE].
curl -fsSN -D "$work/headers.txt" "$base/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 12, "temperature": 0, "stream": true}' \
    > "$work/stream.txt" || fail "streamed POST /v1/chat/completions failed"
grep -qi '^content-type: text/event-stream' "$work/headers.txt" || fail "stream is not text/event-stream"
grep -v '^:' "$work/stream.txt" | grep -v '^\r\?$' > "$work/events.txt" || true
[ "$(tail -n1 "$work/events.txt" | tr -d '\r')" = "data: [DONE]" ] || fail "stream does not end with data: [DONE]"
sed '$d' "$work/events.txt" | sed 's/^data: //' > "$work/chunks.jsonl"
[ -s "$work/chunks.jsonl" ] || fail "stream has no chunks"
jq -e -s 'all(.[]; .object == "chat.completion.chunk" and (.choices | length == 1) and (.choices[0].delta | type == "object"))
          and (map(.choices[0].delta.content // "") | add | length > 0)
          and (last.choices[0].finish_reason | IN("stop", "length"))' \
    "$work/chunks.jsonl" >/dev/null || fail "unexpected stream chunks: $(head -c 2000 "$work/stream.txt")"
echo "streamed chat: $(wc -l < "$work/chunks.jsonl") chunks, text $(jq -s -c 'map(.choices[0].delta.content // "") | add' "$work/chunks.jsonl")"

echo "peak RSS after the requests: $(podman exec "$name" sed -n 's/^VmHWM:\s*//p' /proc/1/status)"
stop_cleanly

# A second start reuses the converted bundle from the volume.
start="$(now)"
quiet podman start "$name" >/dev/null
warm_start="$(wait_for_health "$start")"
echo "/health answered $warm_start s after restart (bundle cache warm)"
stop_cleanly

size="$(podman image inspect --format '{{.Size}}' "$image")"
echo "image $image: $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }')"
echo "start-up to /health: $first_start s (bundle cache $cache_state), $warm_start s (warm)"
echo "test-container: passed"
