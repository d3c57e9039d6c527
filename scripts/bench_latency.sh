#!/usr/bin/env bash
# Latency at fixed offered rates (open loop: crates/server/examples/open_loop.rs counts each
# latency from when its request was due, as wrk2 does), for the minimal axum OIP handler
# (the ceiling, crates/server/examples/oip_baseline.rs) and Bascule's OIP infer on the
# breast-cancer logistic fixture: log off, log on (the default policy: windows started at
# most every 10 s), and log on with windows back to back (docs/monitoring.md). wrk's closed
# loop saturates the cores, and its p99 is then the scheduler's queue (on a 2-core KVM guest
# even the minimal handler's p99 is above 2 ms); here p99 is read at each rate.
#
# Usage: scripts/bench_latency.sh [SECONDS] [CONNECTIONS]   (RATES="10000 20000" to choose)
set -euo pipefail
seconds="${1:-10}"
connections="${2:-16}"
rates="${RATES:-10000 20000 25000 30000}"
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$here/target}"

cargo build --release -q -p bascule
cargo build --release -q -p bascule-server --example oip_baseline --example open_loop
bin="$target/release/bascule"
baseline="$target/release/examples/oip_baseline"
load="$target/release/examples/open_loop"
# shellcheck source=scripts/bench_lib.sh
. "$here/scripts/bench_lib.sh"
start_bench

write_oip_body "$tmp/oip.json"
printf '[monitoring]\nwindow = 1000\nwindow_interval_seconds = 0\n' >"$tmp/back_to_back.toml"

sweep() { # $1 = label, $2 = url
  for rate in $rates; do
    printf '%-28s ' "$1"
    "$load" "$2" "$tmp/oip.json" "$rate" "$seconds" "$connections"
  done
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs), $(uname -r)"
"$baseline" serve 127.0.0.1:18641 >/dev/null & pids+=($!)
sleep 0.3
sweep "minimal axum handler" "http://127.0.0.1:18641/v2/models/bc/infer"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

serve_bascule() { # $1 = prediction log on|off, $2 = port, $3 = a policy file (optional)
  BASCULE_PREDICTION_LOG="$1" RUST_LOG=warn "$bin" server --listen "127.0.0.1:$2" --data-dir "$tmp/data-$2" >/dev/null 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$2/api/v1/health"
  deploy_bc "$bin" "$2" "${3:-}"
}

serve_bascule off 18642
sweep "bascule, log off" "http://127.0.0.1:18642/v2/models/bc/infer"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
serve_bascule on 18643
sweep "bascule, log on" "http://127.0.0.1:18643/v2/models/bc/infer"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
serve_bascule on 18644 "$tmp/back_to_back.toml"
sweep "bascule, log on, windows b2b" "http://127.0.0.1:18644/v2/models/bc/infer"
