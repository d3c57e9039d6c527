#!/usr/bin/env bash
# Start-up time of `bascule server`: from exec to the first answered /api/v1/health,
# on a fresh data directory (migrations included) and on an existing one.
# Usage: scripts/bench_startup.sh [RUNS]   (needs a release build: cargo build --release)
set -euo pipefail
runs="${1:-20}"
bin="${CARGO_TARGET_DIR:-$(dirname "$0")/../target}/release/bascule"
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
port=18480
measure() { # $1 = data dir
  local start end
  start=$(date +%s%N)
  "$bin" server --listen "127.0.0.1:$port" --data-dir "$1" >/dev/null 2>&1 &
  local pid=$!
  until curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; do sleep 0.002; done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo $(( (end - start) / 1000 ))
}
summary() { sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, max %.1f ms over %d runs\n", a[int((NR+1)/2)]/1000, a[NR]/1000, NR}'; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo -n "fresh data dir:    "; for i in $(seq "$runs"); do measure "$tmp/fresh-$i"; done | summary
echo -n "existing data dir: "; for i in $(seq "$runs"); do measure "$tmp/fresh-1"; done | summary
pid_dir="$tmp/rss"; "$bin" server --listen "127.0.0.1:$port" --data-dir "$pid_dir" >/dev/null 2>&1 & pid=$!
until curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; do sleep 0.01; done
echo "idle RSS: $(awk '/VmRSS/ {print $2 " " $3}' /proc/$pid/status)"
kill "$pid"; wait "$pid" 2>/dev/null || true
