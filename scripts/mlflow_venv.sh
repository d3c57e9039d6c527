#!/usr/bin/env bash
# Creates (once) a virtual environment with the pinned official MLflow client and what the
# real-client test and the benchmark need, cached outside the clone, and prints its python.
#
#   scripts/mlflow_venv.sh                 # ~/.cache/bascule/mlflow-venv-3.17.2
#   BASCULE_CACHE=/tmp/cache scripts/mlflow_venv.sh
#
# Needs python3 (>= 3.10) with the venv module and network access to PyPI the first time.
set -euo pipefail

mlflow_version="${MLFLOW_VERSION:-3.17.2}"
cache="${BASCULE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bascule}"
venv="$cache/mlflow-venv-$mlflow_version"
python="${PYTHON:-python3}"
stamp="$venv/.bascule-complete"

if [[ -f "$stamp" ]]; then
    echo "$venv/bin/python"
    exit 0
fi

mkdir -p "$cache"
# One creator at a time (tests run in parallel); the others wait, then find it made.
exec 9>"$cache/mlflow-venv.lock"
flock 9
if [[ -f "$stamp" ]]; then
    echo "$venv/bin/python"
    exit 0
fi
# Build in a fresh directory and move it into place only when complete, so an interrupted
# install is never mistaken for a good one.
rm -rf "$venv.partial"
"$python" -m venv "$venv.partial" >&2
"$venv.partial/bin/python" -m pip install --quiet --upgrade pip >&2
"$venv.partial/bin/python" -m pip install --quiet \
    "mlflow==$mlflow_version" scikit-learn skl2onnx onnx onnxruntime >&2
rm -rf "$venv"
mv "$venv.partial" "$venv"
# A venv's scripts name its own path; rewrite them after the move.
sed -i "s|$venv.partial|$venv|g" "$venv"/bin/* 2>/dev/null || true
touch "$stamp"
echo "$venv/bin/python"
