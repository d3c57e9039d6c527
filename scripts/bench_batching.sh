#!/usr/bin/env bash
# Adaptive batching on the MLP fixture: OIP single-row requests at 64 connections, with
# the prediction log on, without batching and with BASCULE_BATCHING=mlp=ROWS:WAIT_US.
# Server and load generator share this machine, on 127.0.0.1; every run is bounded.
#
# Usage: scripts/bench_batching.sh [SECONDS] [CONNECTIONS] [ROWS:WAIT_US]
# Needs wrk (Debian: apt-get install wrk) and curl.
set -euo pipefail
seconds="${1:-10}"
connections="${2:-64}"
batching="${3:-32:500}"
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$here/target}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p bascule
bin="$target/release/bascule"
tmp="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

row="$(sed -n 2p "$here/fixtures/mlp/holdout.csv" | cut -d, -f1-30)"
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input","shape":[1,30],"datatype":"FP32","data":[$row]}]}'
LUA

run() { # $1 = label, $2 = BASCULE_BATCHING value, $3 = port
  BASCULE_BATCHING="$2" RUST_LOG=warn "$bin" server --listen "127.0.0.1:$3" --data-dir "$tmp/data-$3" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$3/api/v1/health" >/dev/null 2>&1 && break; sleep 0.05; done
  local cli=("$bin" --server "http://127.0.0.1:$3")
  "${cli[@]}" models register mlp "$here/fixtures/mlp/model.onnx" >/dev/null
  "${cli[@]}" validate mlp 1 --data "$here/fixtures/mlp/holdout.csv" >/dev/null
  "${cli[@]}" deploy mlp 1 >/dev/null
  local out
  out="$(wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$tmp/post.lua" "http://127.0.0.1:$3/v2/models/mlp/infer")"
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs); wrk -t1 -c$connections -d${seconds}s"
run "mlp, no batching" "" 18631
run "mlp, batching $batching" "mlp=$batching" 18632
