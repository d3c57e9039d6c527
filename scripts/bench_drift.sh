#!/usr/bin/env bash
# Benchmarks the offline drift report against Evidently 0.7's DataDriftPreset on the
# same files: 1,000,000 rows × 25 columns (20 numeric, 5 categorical) reference and
# current Parquet, generated with a seeded numpy generator, with drift injected into
# four columns (num_00 mean +0.5 sd, num_01 spread ×1.5, cat_0 mix changed, num_03 mean
# +0.02 sd — "significant" at this size but negligible) and 1% missing values in two.
# Measures wall time and peak RSS of each with /usr/bin/time -v, bounded by timeouts,
# and prints which columns each tool flags.
#
#   scripts/bench_drift.sh [ROWS]     # default 1000000
#
# Needs /work/pyenv (numpy, pandas, pyarrow) for the data, and Evidently in its own
# virtualenv: EVIDENTLY_VENV (default ~/.cache/bascule/evidently-venv), made with
#   python3 -m venv ~/.cache/bascule/evidently-venv
#   ~/.cache/bascule/evidently-venv/bin/pip install 'evidently>=0.7,<0.8' 'pandas<3' pyarrow
# (Evidently 0.7.23 imports a helper pandas 3 removed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
PYTHON="${PYTHON:-/work/pyenv/bin/python}"
EVIDENTLY_VENV="${EVIDENTLY_VENV:-$HOME/.cache/bascule/evidently-venv}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release -p bascule --bin bascule --quiet
BIN="$TARGET/release/bascule"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" - "$ROWS" "$WORK" <<'PY'
import sys
import numpy as np
import pandas as pd

rows, work = int(sys.argv[1]), sys.argv[2]
levels = [["a", "b", "c"], ["north", "south", "east", "west"], [f"k{i}" for i in range(8)],
          [f"m{i}" for i in range(12)], ["yes", "no"]]

def table(seed, drift):
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(20):
        kind = i % 4
        if kind == 0:
            values = rng.normal(10.0 * i, 1.0 + i / 10, rows)
        elif kind == 1:
            values = rng.lognormal(0.0, 0.5, rows)
        elif kind == 2:
            values = rng.uniform(-i, i + 1, rows)
        else:
            values = rng.gamma(2.0, 2.0, rows)
        if drift and i == 0:
            values = values + 0.5 * (1.0 + i / 10)
        if drift and i == 1:
            values = 1.0 + (values - 1.0) * 1.5
        if drift and i == 3:
            values = values + 0.02 * np.sqrt(8.0)
        if i in (5, 6):
            values[rng.random(rows) < 0.01] = np.nan
        columns[f"num_{i:02d}"] = values
    for j, names in enumerate(levels):
        weights = np.linspace(2.0, 1.0, len(names))
        if drift and j == 0:
            weights = weights[::-1]
        columns[f"cat_{j}"] = pd.Categorical.from_codes(
            rng.choice(len(names), rows, p=weights / weights.sum()), names).astype(str)
    return pd.DataFrame(columns)

table(1, False).to_parquet(f"{work}/reference.parquet", index=False)
table(2, True).to_parquet(f"{work}/current.parquet", index=False)
PY
echo "data: $ROWS rows × 25 columns; reference $(du -h "$WORK/reference.parquet" | cut -f1), current $(du -h "$WORK/current.parquet" | cut -f1)"

cat > "$WORK/evidently_drift.py" <<'PY'
import json
import sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
result = snapshot.dict()
drifted = []
for metric in result["metrics"]:
    config = metric.get("config", {})
    column, value = config.get("column"), metric.get("value")
    threshold = config.get("threshold")
    if column is not None and isinstance(value, (int, float)) and threshold is not None:
        method = config.get("method", "")
        # p-value methods drift below the threshold, distances above it.
        is_p_value = "p_value" in method or method in ("K-S p_value", "chi-square p_value", "Z-test p_value")
        if (value < threshold) if is_p_value else (value >= threshold):
            drifted.append(column)
print("evidently flags:", ", ".join(sorted(drifted)) or "nothing")
with open(sys.argv[3], "w") as out:
    json.dump(result, out, default=str)
PY

measure() {  # label, timeout, command...
  local label="$1" limit="$2"
  shift 2
  local status=0
  timeout "$limit" /usr/bin/time -v "$@" > "$WORK/$label.out" 2> "$WORK/$label.time" || status=$?
  local wall rss
  wall="$(grep 'Elapsed (wall clock)' "$WORK/$label.time" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident set size' "$WORK/$label.time" | awk '{print $NF}')"
  echo "$label: exit $status, wall ${wall:-timeout}, peak RSS $((${rss:-0} / 1024)) MiB"
}

measure bascule 600 "$BIN" drift --reference "$WORK/reference.parquet" \
  --current "$WORK/current.parquet" --json "$WORK/bascule.json"
cat "$WORK/bascule.out"
echo "bascule flags: $("$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(", ".join(f["name"] for f in r["features"] if f["verdict"]["status"]=="drifted") or "nothing")' "$WORK/bascule.json")"

if [ -x "$EVIDENTLY_VENV/bin/python" ]; then
  echo "evidently $("$EVIDENTLY_VENV/bin/python" -c 'import evidently; print(evidently.__version__)')"
  measure evidently 1800 "$EVIDENTLY_VENV/bin/python" "$WORK/evidently_drift.py" \
    "$WORK/reference.parquet" "$WORK/current.parquet" "$WORK/evidently.json"
  cat "$WORK/evidently.out"
else
  echo "Evidently not installed in $EVIDENTLY_VENV: skipped"
fi
