#!/usr/bin/env bash
# Adaptive batching on the MLP fixture, in alternated rounds: three `bascule server`s side
# by side, without batching, with `mlp=32:0` (batches of what queued while the run slots
# were busy) and with `mlp=32:500` (a batch may also wait up to 500 µs for requests on
# their way), each with the MLP validated and deployed and the prediction log on, loaded
# in turn by `wrk -t1 -cCONNECTIONS -d5s` of single-row OIP requests, ROUNDS times. One
# server at a time carries load. On a shared 2-core host runs minutes apart differ by a
# third, so compare within a round. Loopback only; every run is bounded.
#
# Usage: scripts/bench_batching_rounds.sh [CONNECTIONS] [ROUNDS]
#   (cargo build --release -p bascule first; needs wrk: apt-get install wrk)
set -euo pipefail
connections="${1:-64}"
rounds="${2:-4}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BASCULE_BIN:-${CARGO_TARGET_DIR:-$here/target}/release/bascule}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$bin" ] || { echo "build first: cargo build --release -p bascule" >&2; exit 1; }
# shellcheck source=scripts/bench_lib.sh
. "$here/scripts/bench_lib.sh"
start_bench

row="$(sed -n 2p "$here/fixtures/mlp/holdout.csv" | cut -d, -f1-30)"
printf '{"inputs":[{"name":"input","shape":[1,30],"datatype":"FP32","data":[%s]}]}' "$row" >"$tmp/body.json"
write_wrk_post "$tmp/post.lua"

serve() { # $1 = port, $2 = BASCULE_BATCHING
  BASCULE_BATCHING="$2" RUST_LOG=warn "$bin" server --listen "127.0.0.1:$1" --data-dir "$tmp/data-$1" >/dev/null 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$1/api/v1/health"
  local cli=("$bin" --server "http://127.0.0.1:$1")
  "${cli[@]}" models register mlp "$here/fixtures/mlp/model.onnx" >/dev/null
  "${cli[@]}" validate mlp 1 --data "$here/fixtures/mlp/holdout.csv" >/dev/null
  "${cli[@]}" deploy mlp 1 >/dev/null
}
serve 18730 ""
serve 18731 "mlp=32:0"
serve 18732 "mlp=32:500"

rps() { # $1 = port
  BODY="$tmp/body.json" wrk -t1 -c"$connections" -d5s -s "$tmp/post.lua" \
    "http://127.0.0.1:$1/v2/models/mlp/infer" | awk '/Requests\/sec/ {printf "%.0f", $2}'
}
echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs); wrk -t1 -c$connections -d5s a run"
printf '%-6s %10s %10s %10s\n' round off 32:0 32:500
for i in $(seq 1 "$rounds"); do
  printf '%-6s %10s %10s %10s\n' "$i" "$(rps 18730)" "$(rps 18731)" "$(rps 18732)"
done
