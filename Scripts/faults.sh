#!/usr/bin/env bash
# Fault injection against `shiftadd serve` and `shiftadd-convert` (Scripts/faults.py): damaged
# bundles, a full disk, clients that never read, slowloris, connection floods, HTTP/2 rapid reset
# and CONTINUATION floods, SIGTERM under load. Builds nothing; needs root for the tmpfs.
# Usage: faults.sh BIN_DIR MODEL [OUT_DIR]   (MODEL: a bundle, or a checkpoint `serve` converts once)
set -euo pipefail
bin_dir=$1
model=$2
out=${3:-.build/faults}
# 2,000 client sockets and the server's 1,000 connections are past the usual limit of 1,024 descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 "$(dirname "$0")/faults.py" "$bin_dir" "$model" "$out"
