#!/usr/bin/env bash
# Validates the Kubernetes manifests against the API schemas of several Kubernetes versions,
# strictly (unknown fields are errors), with the schemas bundled in kubernetes-validate (PyPI):
# no cluster and no network needed.
# Usage: Docker/validate-k8s.sh [DIR]   (default: Docker/k8s)
# The validator is $KUBERNETES_VALIDATE, else the one in the project's virtual environment
# (`make k8s-validate` installs it there), else the one on PATH.
set -euo pipefail

dir="${1:-$(cd "$(dirname "$0")" && pwd)/k8s}"
versions="${K8S_VERSIONS:-1.29.0 1.33.0 1.37.0}"
venv_tool="${XDG_CACHE_HOME:-$HOME/.cache}/shiftadd/venv/bin/kubernetes-validate"
tool="${KUBERNETES_VALIDATE:-}"
if [ -z "$tool" ]; then
    if [ -x "$venv_tool" ]; then tool="$venv_tool"; else tool="$(command -v kubernetes-validate || true)"; fi
fi
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
    echo "kubernetes-validate is not installed: run \`make k8s-validate\` (or \`make deps\`)" >&2
    exit 127
fi

shopt -s nullglob
manifests=("$dir"/*.yaml)
[ ${#manifests[@]} -gt 0 ] || { echo "no manifests in $dir" >&2; exit 1; }
for version in $versions; do
    "$tool" --strict --quiet --kubernetes-version "$version" "${manifests[@]}"
done
echo "${#manifests[@]} manifests valid for Kubernetes $versions"
