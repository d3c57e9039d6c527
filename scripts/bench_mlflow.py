"""One MLflow tracking workload against a running server; prints one JSON line of figures.

Driven by scripts/bench_mlflow.sh, which starts the server (Bascule, or `mlflow server`)
and passes its pid so the server's CPU time can be read from /proc:

    python scripts/bench_mlflow.py --uri http://127.0.0.1:5000 --server-pids 1234

1. log-batch: 100 runs x 100 metrics x 10 steps, one `MlflowClient.log_batch` of 1,000
   metrics per run. Reported: metrics/s over the wall time, the client's own CPU time
   (building and sending the batches: what Python costs whatever the server), and the
   server's CPU time (utime + stime of its processes) as a share of the wall time.
2. search: 5,000 runs with a metric `acc` (uniform in [0, 1)), a param and a tag, then
   `search_runs(filter_string="metrics.acc > 0.5", order_by=["metrics.acc DESC"],
   max_results=100)` 30 times; reported: median and p90 end to end, and the server's and
   the client's CPU time per search (the client parses 100 runs into Python objects).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# Smaller values (environment) only for a quick check of the script itself.
N_RUNS = int(os.environ.get("BENCH_RUNS", 100))
N_METRICS = 100
N_STEPS = 10
N_SEARCH_RUNS = int(os.environ.get("BENCH_SEARCH_RUNS", 5000))
N_SEARCHES = 30


def cpu_seconds(pids):
    """utime + stime of the processes and their children, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        # After the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
        total += sum(int(value) for value in fields[11:15])
    return total / ticks


def server_pids(root_pids):
    """The given pids and every descendant (MLflow runs gunicorn/uvicorn workers)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], list(root_pids)
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--server-pids", required=True, help="comma-separated")
    parser.add_argument("--label", default="server")
    args = parser.parse_args()
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    mlflow.set_tracking_uri(args.uri)
    client = MlflowClient()
    pids = server_pids([int(pid) for pid in args.server_pids.split(",")])
    random.seed(7)
    result = {"label": args.label}

    # ---- 1. log-batch -----------------------------------------------------------------------
    experiment_id = client.create_experiment(f"bench-log-{time.time_ns()}")
    run_ids = [client.create_run(experiment_id).info.run_id for _ in range(N_RUNS)]
    now = int(time.time() * 1000)
    server_before = cpu_seconds(pids)
    client_before = time.process_time()
    wall_before = time.perf_counter()
    for run_id in run_ids:
        metrics = [
            Metric(f"metric_{key}", random.random(), now + step, step)
            for key in range(N_METRICS)
            for step in range(N_STEPS)
        ]
        client.log_batch(run_id, metrics=metrics, synchronous=True)
    wall = time.perf_counter() - wall_before
    client_cpu = time.process_time() - client_before
    server_cpu = cpu_seconds(pids) - server_before
    n_metrics = N_RUNS * N_METRICS * N_STEPS
    result["log_batch"] = {
        "metrics": n_metrics,
        "wall_s": round(wall, 3),
        "metrics_per_s": round(n_metrics / wall),
        "client_cpu_s": round(client_cpu, 3),
        "server_cpu_s": round(server_cpu, 3),
        "server_share_of_wall": round(server_cpu / wall, 4),
    }
    check = client.get_metric_history(run_ids[-1], "metric_99")
    assert len(check) == N_STEPS, len(check)
    print(f"[{args.label}] log_batch: {result['log_batch']}", file=sys.stderr, flush=True)

    # ---- 2. search over 5,000 runs -----------------------------------------------------------
    experiment_id = client.create_experiment(f"bench-search-{time.time_ns()}")
    populate_before = time.perf_counter()

    accuracies_logged = [random.random() for _ in range(N_SEARCH_RUNS)]

    def populate(index):
        run_id = client.create_run(experiment_id, start_time=now + index).info.run_id
        client.log_batch(
            run_id,
            metrics=[
                Metric("acc", accuracies_logged[index], now, 0),
                Metric("loss", 1.0 - accuracies_logged[index], now, 0),
            ],
            params=[Param("kind", "even" if index % 2 == 0 else "odd")],
            tags=[RunTag("team", "bench")],
            synchronous=True,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(populate, range(N_SEARCH_RUNS)))
    result["search_populate_s"] = round(time.perf_counter() - populate_before, 1)

    latencies, server_cpu, client_cpu = [], [], []
    for _ in range(N_SEARCHES):
        cpu_before = cpu_seconds(pids)
        client_before = time.process_time()
        started = time.perf_counter()
        runs = client.search_runs(
            [experiment_id],
            filter_string="metrics.acc > 0.5",
            order_by=["metrics.acc DESC"],
            max_results=100,
        )
        latencies.append(time.perf_counter() - started)
        client_cpu.append(time.process_time() - client_before)
        server_cpu.append(cpu_seconds(pids) - cpu_before)
        accuracies = [run.data.metrics["acc"] for run in runs]
        best = sorted((value for value in accuracies_logged if value > 0.5), reverse=True)
        assert accuracies == best[:100], (accuracies[:5], best[:5])
    latencies.sort()
    result["search"] = {
        "runs": N_SEARCH_RUNS,
        "searches": N_SEARCHES,
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p90_ms": round(latencies[int(0.9 * len(latencies))] * 1000, 2),
        "server_cpu_ms_per_search": round(statistics.mean(server_cpu) * 1000, 2),
        "client_cpu_ms_per_search": round(statistics.mean(client_cpu) * 1000, 2),
    }
    print(f"[{args.label}] search: {result['search']}", file=sys.stderr, flush=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
