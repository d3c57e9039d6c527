#!/usr/bin/env bash
# The MLflow tracking workload (scripts/bench_mlflow.py) against Bascule and against the
# official `mlflow server` from PyPI (same version as the client, scripts/mlflow_venv.sh),
# all on 127.0.0.1 with SQLite; MLflow with its defaults and with `--workers 1`. Also the
# start-up time (exec to the first answered health check) and the idle RSS of each
# (summed over every process of the server). Every server run is bounded by a timeout.
#
#   cargo build --release -p bascule --bin bascule
#   scripts/bench_mlflow.sh            # prints a figure per server, then a JSON line each
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${BASCULE_BIN:-${CARGO_TARGET_DIR:-target}/release/bascule}"
[ -x "$bin" ] || { echo "build first: cargo build --release -p bascule --bin bascule" >&2; exit 1; }
python="$(bash scripts/mlflow_venv.sh)"
mlflow="$(dirname "$python")/mlflow"
limit="${BENCH_TIMEOUT_S:-900}"
port=18590
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -- -"$server_pid" 2>/dev/null || kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

tree_rss_kib() { # the summed VmRSS of a process and its descendants
  local pids="$1" all="$1"
  while [ -n "$pids" ]; do
    pids="$(for p in $pids; do cat /proc/"$p"/task/*/children 2>/dev/null; done | xargs)"
    all="$all $pids"
  done
  for p in $all; do awk '/VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null; done | awk '{s+=$1} END {print s}'
}

tree_count() {
  local pids="$1" n=0
  while [ -n "$pids" ]; do
    n=$((n + $(echo "$pids" | wc -w)))
    pids="$(for p in $pids; do cat /proc/"$p"/task/*/children 2>/dev/null; done | xargs)"
  done
  echo "$n"
}

# $1 label, $2 health path, then the command (run in its own process group).
run_one() {
  local label="$1" health="$2"; shift 2
  local start end
  start=$(date +%s%N)
  setsid "$@" >"$tmp/$label.log" 2>&1 &
  server_pid=$!
  local deadline=$(( $(date +%s) + 120 ))
  until curl -sf "http://127.0.0.1:$port$health" >/dev/null 2>&1; do
    if [ "$(date +%s)" -gt "$deadline" ] || ! kill -0 "$server_pid" 2>/dev/null; then
      echo "$label did not start; its log:" >&2; cat "$tmp/$label.log" >&2; exit 1
    fi
    sleep 0.005
  done
  end=$(date +%s%N)
  sleep 2
  local rss processes
  rss="$(tree_rss_kib "$server_pid")"; processes="$(tree_count "$server_pid")"
  echo "[$label] start-up $(( (end - start) / 1000000 )) ms, idle RSS $((rss / 1024)) MiB in $processes processes" >&2
  local figures
  figures="$(timeout "$limit" "$python" scripts/bench_mlflow.py --uri "http://127.0.0.1:$port" \
    --server-pids "$server_pid" --label "$label")"
  echo "$figures" | "$python" -c "import json,sys; d=json.loads(sys.stdin.read()); \
d.update(startup_ms=$(( (end - start) / 1000000 )), idle_rss_mib=round($rss/1024,1), processes=$processes); print(json.dumps(d))"
  kill -- -"$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  sleep 1
}

run_one bascule /api/v1/health \
  "$bin" server --listen "127.0.0.1:$port" --data-dir "$tmp/bascule"
[ -n "${BENCH_SKIP_MLFLOW:-}" ] && exit 0
for workers in default 1; do
  args=(server --host 127.0.0.1 --port "$port" --backend-store-uri "sqlite:///$tmp/mlflow-$workers.db"
        --artifacts-destination "$tmp/mlflow-$workers-artifacts")
  [ "$workers" = default ] || args+=(--workers "$workers")
  run_one "mlflow-workers-$workers" /health "$mlflow" "${args[@]}"
done
