#!/usr/bin/env bash
# Makes the two base images Docker/Dockerfile needs on a machine that cannot pull from a registry:
#   RUNTIME: Debian 12 minbase from debootstrap, trimmed (stands in for debian:bookworm-slim)
#   BUILDER: that rootfs plus this machine's Swift toolchain and its packages (stands in for swift:*-bookworm)
# The debootstrap rootfs is cached as a tarball so later runs skip the download.
# Usage: Docker/local-bases.sh   (prints the two image names as RUNTIME_IMAGE=… and BUILDER_IMAGE=…)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source "$here/podman-setup.sh"
cache="$container_cache"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
swift_bin="$(command -v swift)" || { echo "swift is not on PATH" >&2; exit 1; }
toolchain="$(cd "$(dirname "$(realpath "$swift_bin")")/../.." && pwd)"   # …/usr/bin/swift → toolchain root
swift_version="$("$swift_bin" --version 2>/dev/null | sed -n 's/^Swift version \([0-9.]*\).*/\1/p' | head -n1)"
runtime_image="localhost/shiftadd-debian:bookworm-slim"
builder_image="localhost/shiftadd-swift:${swift_version}-bookworm"

rootfs_tar="$cache/debian-bookworm-minbase-slim.tar.zst"
if [ ! -s "$rootfs_tar" ]; then
    echo "debootstrap: Debian 12 minbase into $rootfs_tar" >&2
    work="$(mktemp -d "$cache/rootfs.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >&2
    # Trimmed like debian:bookworm-slim: no documentation, manual pages or translations, now or
    # from packages installed later.
    cat > "$work/rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
CFG
    find "$work/rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$work/rootfs/usr/share/man/"* "$work/rootfs/usr/share/info/"* "$work/rootfs/usr/share/locale/"*
    rm -rf "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" --numeric-owner -c . | zstd -q -T0 -o "$work/rootfs.tar.zst"
    mv "$work/rootfs.tar.zst" "$rootfs_tar"
fi

if ! podman image exists "$runtime_image"; then
    echo "importing $runtime_image" >&2
    zstd -q -d -c "$rootfs_tar" | podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$runtime_image" >&2
fi

if ! podman image exists "$builder_image"; then
    echo "building $builder_image with the toolchain in $toolchain" >&2
    podman build --format docker -f "$here/local-builder.Dockerfile" --build-arg BASE="$runtime_image" \
        --volume "$toolchain:/toolchain:ro" -t "$builder_image" "$here" >&2
fi

echo "RUNTIME_IMAGE=$runtime_image"
echo "BUILDER_IMAGE=$builder_image"
