# Shared by the serving benchmarks (sourced, not run): the request body and the deployed
# fixture they all measure. Needs `here` (the repository) set by the caller.

# Sets `tmp`, a temporary directory, and `pids`, a list of processes: on exit the processes
# are stopped and the directory removed.
start_bench() {
  tmp="$(mktemp -d)"
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
}

# Writes to FILE wrk's script that POSTs, as JSON, the file named by the variable BODY.
write_wrk_post() {
  cat >"$1" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open(os.getenv("BODY"), "r")
wrk.body = file:read("*a")
file:close()
LUA
}

# Waits until URL answers 2xx (10 s at most).
wait_for() {
  for _ in $(seq 1 200); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "no answer from $1" >&2
  exit 1
}

# Writes one holdout row of the breast-cancer logistic fixture as an OIP request to FILE.
write_oip_body() {
  local row
  row="$(sed -n 2p "$here/fixtures/logistic/holdout.csv" | cut -d, -f1-30)"
  echo "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,30],\"datatype\":\"FP32\",\"data\":[$row]}]}" >"$1"
}

# Registers the logistic fixture as model `bc` on the server at PORT (BIN is the bascule
# binary), sets POLICY (a file, optional) as its policy, validates and deploys version 1.
deploy_bc() { # BIN PORT [POLICY]
  local cli=("$1" --server "http://127.0.0.1:$2")
  "${cli[@]}" models register bc "$here/fixtures/logistic/model.onnx" >/dev/null
  if [ -n "${3:-}" ]; then "${cli[@]}" policy set bc "$3" >/dev/null; fi
  "${cli[@]}" validate bc 1 --data "$here/fixtures/logistic/holdout.csv" >/dev/null
  "${cli[@]}" deploy bc 1 >/dev/null
}
