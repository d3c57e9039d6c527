#!/usr/bin/env bash
# What the prediction log costs in requests/s: two `bascule server`s side by side, one with
# the log on and one with it off (`BASCULE_PREDICTION_LOG=off`), each with the
# breast-cancer logistic fixture validated and deployed, loaded in turn by wrk in ROUNDS
# rounds (on-off, then off-on, so that drift of the host falls on both alike). One server
# at a time carries load; the other is idle. On a shared 2-core host identical runs a few
# minutes apart differ by ±15% (docs/benchmarks.md), so a single on/off pair says little:
# this prints every pair, the median of the pairs' ratios, and the ratio of the totals.
# The watcher is off on both (`BASCULE_MONITOR_INTERVAL_MS=0`): this is the log's cost,
# not monitoring's; WATCHER=on keeps the default watcher on both, with POLICY=file.toml as
# the model's policy. Every answered request must be stored: the log-on server's counts
# are printed at the end.
#
# Usage: scripts/bench_log_overhead.sh [ROUNDS] [SECONDS] [CONNECTIONS]
#   (BASCULE_BIN=path to test another build; needs wrk: apt-get install wrk)
set -euo pipefail
rounds="${1:-6}"
seconds="${2:-5}"
connections="${3:-16}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BASCULE_BIN:-${CARGO_TARGET_DIR:-$here/target}/release/bascule}"
python="${PYTHON:-python3}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$bin" ] || { echo "build first: cargo build --release -p bascule" >&2; exit 1; }
# shellcheck source=scripts/bench_lib.sh
. "$here/scripts/bench_lib.sh"
start_bench

write_oip_body "$tmp/oip.json"
write_wrk_post "$tmp/post.lua"

watcher=()
[ "${WATCHER:-off}" = on ] || watcher=(BASCULE_MONITOR_INTERVAL_MS=0)
serve() { # $1 = prediction log on|off, $2 = port
  env "${watcher[@]}" BASCULE_PREDICTION_LOG="$1" RUST_LOG=warn "$bin" server \
    --listen "127.0.0.1:$2" --data-dir "$tmp/data-$2" >/dev/null 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$2/api/v1/health"
  deploy_bc "$bin" "$2" "${POLICY:-}"
}
rps() { # $1 = port, $2 = seconds: requests/s of one wrk run
  BODY="$tmp/oip.json" wrk -t1 -c"$connections" -d"$2s" -s "$tmp/post.lua" \
    "http://127.0.0.1:$1/v2/models/bc/infer" | awk '/Requests\/sec/ {print $2}'
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs), $(uname -r)"
echo "binary: $bin; watcher ${WATCHER:-off}; policy ${POLICY:-default}"
echo "load: wrk -t1 -c$connections -d${seconds}s a run, single-row OIP bodies, $rounds rounds"
serve on 18631
serve off 18632
# Warm both (connections, plans, the log's SQLite file) before counting.
rps 18631 2 >/dev/null
rps 18632 2 >/dev/null

printf '%-6s %12s %12s %10s\n' round "log on" "log off" "on/off"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then
    on="$(rps 18631 "$seconds")"; off="$(rps 18632 "$seconds")"
  else
    off="$(rps 18632 "$seconds")"; on="$(rps 18631 "$seconds")"
  fi
  printf '%-6s %12s %12s %10s\n' "$round" "$on" "$off" "$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')"
  echo "$on $off" >>"$tmp/pairs"
done
awk '{ printf "%.6f\n", $1 / $2 }' "$tmp/pairs" | sort -g >"$tmp/ratios"
median="$(awk '{ r[NR] = $1 } END { print (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }' "$tmp/ratios")"
awk -v m="$median" '{ on += $1; off += $2 } END {
  printf "median on/off %.3f (%.1f%% fewer requests/s with the log on); mean %.0f / %.0f = %.3f\n",
    m, 100 * (1 - m), on / NR, off / NR, on / off
}' "$tmp/pairs"
# Every answered request stored: accepted = written (+ still queued), nothing shed.
sleep 1
curl -s "http://127.0.0.1:18631/api/v1/deployments" | "$python" -c '
import json, sys
log = json.load(sys.stdin)["prediction_log"]
print("prediction log: " + ", ".join(f"{k} {v}" for k, v in log.items()))'
