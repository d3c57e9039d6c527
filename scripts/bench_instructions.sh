#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind. The count is the same for the
# same binary, requests and settings whatever else the machine is doing, so two builds or
# two settings compare where requests/s cannot (on a shared 2-core machine, identical wrk
# runs differ by ±15%). It counts work, not time: cache misses, lock waits and scheduling
# are not in it, and under callgrind threads run one at a time, so the log's writer
# gathers smaller batches than under real load (its per-batch work weighs more here).
#
# Starts `bascule server` under callgrind with the breast-cancer logistic fixture
# validated and deployed (as scripts/bench_serving.sh does), sends WARMUP requests, zeroes
# the counters, sends REQUESTS single-row OIP requests over CONNECTIONS keep-alive
# connections (scripts/oip_client.py), waits until the prediction log has stored them,
# and dumps the counters: every thread of the server, from the first counted request to
# the log's last write. The server inherits the environment:
#   BASCULE_PREDICTION_LOG=off scripts/bench_instructions.sh
#   BASCULE_MONITOR_INTERVAL_MS=0 scripts/bench_instructions.sh
#   BASCULE_LOG_GATHER_MS=1000 scripts/bench_instructions.sh
# counts the log at batch sizes near real load's (the server answers ~500 requests/s under
# callgrind, so the default 20 ms gather makes batches of ~10 records); at such a gather
# the count includes each pool connection preparing each multi-row statement size once,
# which a long run amortises (docs/benchmarks.md, tenth session).
# With the watcher on, the count also waits until the monitoring report thread is idle;
# POLICY=file.toml sets the model's policy (its [monitoring] windows).
# KEEP=path keeps the counters' file for callgrind_annotate.
#
#   cargo build --release -p bascule; scripts/bench_instructions.sh [REQUESTS] [CONNECTIONS]
set -euo pipefail
requests="${1:-5000}"
connections="${2:-16}"
warmup="${WARMUP:-500}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BASCULE_BIN:-${CARGO_TARGET_DIR:-$here/target}/release/bascule}"
python="${PYTHON:-python3}"
[ -x "$bin" ] || { echo "build first: cargo build --release -p bascule" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
tmp="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=scripts/bench_lib.sh
. "$here/scripts/bench_lib.sh"

write_oip_body "$tmp/oip.json"

port=18620
# Under callgrind the model runs some 50× slower than natively, past the 50 µs inline
# budget: without a larger budget every request would take the blocking pool, a path the
# native server does not take for this model.
export BASCULE_INLINE_BUDGET_US="${BASCULE_INLINE_BUDGET_US:-100000}"
RUST_LOG=warn valgrind --tool=callgrind --collect-atstart=yes ${CALLGRIND_OPTIONS:-} --callgrind-out-file="$tmp/callgrind.out" \
  "$bin" server --listen "127.0.0.1:$port" --data-dir "$tmp/data" >/dev/null 2>"$tmp/valgrind.log" &
pid=$!
# Start-up under callgrind takes longer than wait_for's 10 s.
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.1; done
deploy_bc "$bin" "$port" "${POLICY:-}"
url="http://127.0.0.1:$port/v2/models/bc/infer"

log_settled() { # until accepted = written (+ failed): the log holds every answered request
  for _ in $(seq 1 600); do
    curl -s "http://127.0.0.1:$port/api/v1/deployments" | "$python" -c '
import json, sys
log = json.load(sys.stdin)["prediction_log"]
sys.exit(0 if log["queued"] == 0 else 1)' && return 0
    sleep 0.1
  done
  echo "the prediction log did not settle" >&2; exit 1
}

"$python" "$here/scripts/oip_client.py" "$url" "$tmp/oip.json" "$warmup" "$connections" >/dev/null
log_settled
background_idle() { # with the watcher on: until the report thread has been idle for 5 s
  # (read from /proc, not the API: a request would be counted)
  [ "${BASCULE_MONITOR_INTERVAL_MS:-1000}" = 0 ] && return 0
  local before="" now
  for _ in $(seq 1 200); do
    now="$(for task in /proc/"$pid"/task/*; do
      if [ "$(cat "$task/comm" 2>/dev/null)" = bascule-backgro ]; then
        awk '{print $14 + $15}' "$task/stat" 2>/dev/null || true
      fi
    done)"
    now="${now:-0}"
    [ "$now" = "$before" ] && return 0
    before="$now"
    sleep 5
  done
}

background_idle
callgrind_control --zero "$pid" >/dev/null
"$python" "$here/scripts/oip_client.py" "$url" "$tmp/oip.json" "$requests" "$connections"
log_settled
background_idle
callgrind_control --dump "$pid" >/dev/null
sleep 0.5
dump="$(ls -t "$tmp"/callgrind.out.* | head -1)"
total="$(awk '/^summary:/ {print $2}' "$dump")"
if [ -n "${KEEP:-}" ]; then cp "$dump" "$KEEP"; fi
windows="$(curl -s "http://127.0.0.1:$port/api/v1/models/bc/windows?limit=10000" | "$python" -c '
import json, sys
print(len(json.load(sys.stdin)["windows"]))')"
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs); $(basename "$bin"); log ${BASCULE_PREDICTION_LOG:-on}, watcher interval ${BASCULE_MONITOR_INTERVAL_MS:-1000} ms"
awk -v total="$total" -v n="$requests" -v w="$windows" 'BEGIN {printf "%d requests: %.0f instructions per request (%.3g in all); %d monitoring windows in all\n", n, total / n, total, w}'
if [ -n "${KEEP:-}" ]; then cp "$dump" "$KEEP"; fi # for callgrind_annotate
if [ -n "${TOP:-}" ]; then
  callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | sed -n '/^Ir/,$p' | head -n "$((TOP + 2))" | cut -c1-160
fi
