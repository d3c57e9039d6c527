#!/usr/bin/env bash
# Fetches onnxruntime's shared library from its PyPI wheel into a cache outside the
# repository, and prints the library's path (for BASCULE_ONNXRUNTIME_LIB / ORT_DYLIB_PATH).
#
#   scripts/fetch_onnxruntime.sh            # onnxruntime 1.32.0 into ~/.cache/bascule/onnxruntime/1.32.0
#   ONNXRUNTIME_VERSION=1.33.0 BASCULE_CACHE=/tmp/cache scripts/fetch_onnxruntime.sh
#
# Needs python3 with pip (any environment; only `pip download` runs) and unzip or python3.
set -euo pipefail

version="${ONNXRUNTIME_VERSION:-1.32.0}"
cache="${BASCULE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bascule}/onnxruntime/$version"
python="${PYTHON:-python3}"

if compgen -G "$cache/libonnxruntime.so.$version" >/dev/null; then
    echo "$cache/libonnxruntime.so.$version"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --only-binary=:all: "onnxruntime==$version" -d "$work" >&2
wheel="$(ls "$work"/onnxruntime-"$version"-*.whl | head -n 1)"
"$python" - "$wheel" "$work/unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        if name.startswith("onnxruntime/capi/libonnxruntime.so"):
            wheel.extract(name, sys.argv[2])
PY
mkdir -p "$cache"
cp "$work"/unpacked/onnxruntime/capi/libonnxruntime.so* "$cache/"
library="$(ls "$cache"/libonnxruntime.so.* | head -n 1)"
echo "$library"
