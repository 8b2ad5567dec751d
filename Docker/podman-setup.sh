# Sourced by the container scripts: installs podman and friends when missing and points podman at
# a containers.conf that works in restricted sandboxes (runc instead of crun, ulimits within the
# hard limits), without touching the system-wide configuration.
container_cache="${SHIFTADD_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shiftadd/container}"
mkdir -p "$container_cache"

missing=()
for tool in podman:podman runc:runc debootstrap:debootstrap zstd:zstd curl:curl jq:jq; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ -z "${CONTAINERS_CONF:-}" ]; then
    nofile="$(ulimit -Hn)"
    [ "$nofile" = unlimited ] && nofile=1048576
    export CONTAINERS_CONF="$container_cache/containers.conf"
    cat > "$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
fi
