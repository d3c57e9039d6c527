#!/usr/bin/env bash
# Benchmarks the validation gate end to end: a release `bascule server` on loopback, the
# logistic fixture registered, a policy with thresholds and a slice (every check but
# latency), and `bascule validate` on a holdout of ROWS rows resampled (seeded, with
# replacement) from fixtures/logistic/holdout.csv. Prints the wall time of the validate
# command (upload, parse, inference, metrics, checks, profile, report, transition).
#
#   scripts/bench_validate.sh [ROWS]        # default 100000
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-100000}"
cargo build --release -p bascule --quiet
BIN=target/release/bascule
WORK="$(mktemp -d)"
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

awk -v rows="$ROWS" 'BEGIN { srand(20240601) }
  NR == 1 { print; next }
  { line[n++] = $0 }
  END { for (i = 0; i < rows; i++) print line[int(rand() * n)] }' \
  fixtures/logistic/holdout.csv > "$WORK/holdout.csv"

"$BIN" server --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/server.out" 2>/dev/null &
SERVER_PID=$!
for _ in $(seq 100); do
  URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/server.out" || true)"
  [ -n "$URL" ] && break
  sleep 0.1
done
export BASCULE_SERVER="$URL"

cat > "$WORK/policy.toml" <<'TOML'
task = "binary"
[thresholds]
accuracy = 0.95
roc_auc = 0.97
log_loss = 0.2
[[slices]]
column = "mean radius"
edges = [12.0, 16.0]
thresholds = { accuracy = 0.9 }
TOML

"$BIN" models register bench fixtures/logistic/model.onnx > /dev/null
"$BIN" policy set bench "$WORK/policy.toml" > /dev/null
echo "holdout: $ROWS rows, $(du -h "$WORK/holdout.csv" | cut -f1)"
START=$(date +%s.%N)
"$BIN" validate bench 1 --data "$WORK/holdout.csv" > "$WORK/report.txt" || true
END=$(date +%s.%N)
cat "$WORK/report.txt"
echo "bascule validate wall time: $(echo "$END - $START" | bc) s"
