#!/usr/bin/env bash
# Serving throughput and latency, with the physical limits measured in the same run:
#   1. tract in-process on one row (the model's own cost);
#   2. a minimal axum OIP handler (HTTP + JSON alone: crates/server/examples/oip_baseline.rs);
#   3. Bascule's OIP infer on the deployed breast-cancer logistic-regression fixture, with the
#      prediction log on, then off; and MLflow's /invocations. With the log on, twice: the
#      default monitoring policy (windows of 1,000 predictions started at most every 10 s)
#      and windows back to back (`window_interval_seconds = 0`: dozens of drift reports a
#      second at this load).
# Server and load generator share this machine, on 127.0.0.1; every run is bounded.
#
# Usage: scripts/bench_serving.sh [SECONDS] [CONNECTIONS]
# Needs wrk (Debian: apt-get install wrk) and curl; with Debian's libmimalloc2.0 installed,
# the minimal handler is also measured with mimalloc preloaded.
set -euo pipefail
seconds="${1:-10}"
connections="${2:-16}"
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$here/target}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release -q -p bascule
cargo build --release -q -p bascule-server --example oip_baseline
bin="$target/release/bascule"
baseline="$target/release/examples/oip_baseline"
# shellcheck source=scripts/bench_lib.sh
. "$here/scripts/bench_lib.sh"
start_bench

write_oip_body "$tmp/oip.json"
row="$(sed -n 2p "$here/fixtures/logistic/holdout.csv" | cut -d, -f1-30)"
header="$(head -1 "$here/fixtures/logistic/holdout.csv" | cut -d, -f1-30 | sed 's/[^,]*/"&"/g')"
cat >"$tmp/mlflow.json" <<EOF
{"dataframe_split":{"columns":[$header],"data":[[$row]]}}
EOF
write_wrk_post "$tmp/post.lua"

load() { # $1 = label, $2 = url, $3 = body file
  local out
  out="$(BODY="$3" wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$tmp/post.lua" "$2")"
  local rps p50 p99 errors
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  printf '%-40s %12s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
  echo "$rps" >"$tmp/last_rps"
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs), $(uname -r)"
echo "load: wrk -t1 -c$connections -d${seconds}s, single-row bodies"
"$baseline" tract

"$baseline" serve 127.0.0.1:18601 >/dev/null & pids+=($!)
sleep 0.3
load "minimal axum OIP handler (ceiling)" "http://127.0.0.1:18601/v2/models/bc/infer" "$tmp/oip.json"
ceiling="$(cat "$tmp/last_rps")"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
# Bascule links mimalloc; the same allocator under the minimal handler (Debian's
# libmimalloc2.0, preloaded) shows what it alone is worth there.
mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
if [ -e "$mimalloc" ]; then
  LD_PRELOAD="$mimalloc" "$baseline" serve 127.0.0.1:18605 >/dev/null & pids+=($!)
  sleep 0.3
  load "minimal handler, mimalloc preloaded" "http://127.0.0.1:18605/v2/models/bc/infer" "$tmp/oip.json"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

printf '[monitoring]\nwindow = 1000\nwindow_interval_seconds = 0\n' >"$tmp/back_to_back.toml"

serve_bascule() { # $1 = prediction log on|off, $2 = port, $3 = a policy file (optional)
  BASCULE_PREDICTION_LOG="$1" RUST_LOG=warn "$bin" server --listen "127.0.0.1:$2" --data-dir "$tmp/data-$2" >/dev/null 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$2/api/v1/health"
  deploy_bc "$bin" "$2" "${3:-}"
}

serve_bascule on 18602
load "bascule OIP infer, prediction log on" "http://127.0.0.1:18602/v2/models/bc/infer" "$tmp/oip.json"
on="$(cat "$tmp/last_rps")"
load "bascule MLflow invocations, log on" "http://127.0.0.1:18602/models/bc/invocations" "$tmp/mlflow.json"
curl -s "http://127.0.0.1:18602/api/v1/deployments" | tr -d '\n' | sed 's/.*"prediction_log":/prediction log: /' ; echo
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

serve_bascule on 18604 "$tmp/back_to_back.toml"
load "bascule OIP infer, log on, windows b2b" "http://127.0.0.1:18604/v2/models/bc/infer" "$tmp/oip.json"
back_to_back="$(cat "$tmp/last_rps")"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

serve_bascule off 18603
load "bascule OIP infer, prediction log off" "http://127.0.0.1:18603/v2/models/bc/infer" "$tmp/oip.json"
off="$(cat "$tmp/last_rps")"

awk -v on="$on" -v b2b="$back_to_back" -v off="$off" -v c="$ceiling" 'BEGIN {
  printf "bascule (log on) / minimal handler: %.0f%% (windows back to back: %.0f%%)\n", 100 * on / c, 100 * b2b / c;
  printf "log on vs off: %.1f%% fewer requests/s with the log on (windows back to back: %.1f%%)\n",
    100 * (off - on) / off, 100 * (off - b2b) / off }'
