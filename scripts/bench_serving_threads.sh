#!/usr/bin/env bash
# Where the server's CPU goes under load, per thread: starts `bascule server` with the
# breast-cancer logistic fixture validated and deployed (as scripts/bench_serving.sh does),
# runs `wrk -t1 -c16` of one OIP request for SECONDS, and prints p99, requests/s and the
# CPU ticks (100 = one CPU-second) each kind of thread used during the run and in the 3 s
# after (work that fell behind: monitoring reports). The server inherits the environment, so
#   BASCULE_PREDICTION_LOG=off scripts/bench_serving_threads.sh
#   BASCULE_MONITOR_INTERVAL_MS=0 scripts/bench_serving_threads.sh
# compare the log off, and the log on without the monitoring watcher;
#   POLICY=file.toml scripts/bench_serving_threads.sh
# sets the model's policy (its [monitoring] windows) before it is validated.
#
#   cargo build --release -p bascule; scripts/bench_serving_threads.sh [SECONDS]
set -euo pipefail
seconds="${1:-10}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BASCULE_BIN:-${CARGO_TARGET_DIR:-$here/target}/release/bascule}"
[ -x "$bin" ] || { echo "build first: cargo build --release -p bascule" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
tmp="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=scripts/bench_lib.sh
. "$here/scripts/bench_lib.sh"

write_oip_body "$tmp/oip.json"
write_wrk_post "$tmp/post.lua"

port=18610
RUST_LOG=warn "$bin" server --listen "127.0.0.1:$port" --data-dir "$tmp/data" >/dev/null 2>&1 &
pid=$!
wait_for "http://127.0.0.1:$port/api/v1/health"
deploy_bc "$bin" "$port" "${POLICY:-}"

snapshot() { # thread name (as the kernel truncates it) and its utime + stime, summed per name
  for task in /proc/"$pid"/task/*; do
    # A thread may end between the glob and the read: its lines are dropped, quietly.
    { echo "$(tr ' ' _ <"$task/comm") $(awk '{print $14 + $15}' "$task/stat")"; } 2>/dev/null
  done | awk 'NF == 2 {ticks[$1] += $2} END {for (name in ticks) print name, ticks[name]}'
}
snapshot >"$tmp/before"
BODY="$tmp/oip.json" wrk -t1 -c16 -d"${seconds}s" --latency -s "$tmp/post.lua" "http://127.0.0.1:$port/v2/models/bc/infer" |
  awk '/Requests\/sec/ {print} $1 == "99%" {print "p99: " $2}'
snapshot >"$tmp/after"
sleep 3
snapshot >"$tmp/later"
awk 'FNR == 1 {file++} {ticks[file, $1] = $2; names[$1] = 1}
     END {for (n in names) printf "%-18s %6d ticks during, %6d after\n", n, ticks[2, n] - ticks[1, n], ticks[3, n] - ticks[2, n]}' \
  "$tmp/before" "$tmp/after" "$tmp/later" | sort -k2 -nr
