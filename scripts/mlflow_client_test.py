"""The official MLflow client against a running Bascule server, step by step.

Run by crates/bascule/tests/it/mlflow_client.rs (which starts the server and creates the
virtual environment with scripts/mlflow_venv.sh); by hand:

    python scripts/mlflow_client_test.py --tracking-uri http://127.0.0.1:8080 \
        --bascule target/debug/bascule --work-dir /tmp/mlflow-it

A research flow: set an experiment, start a run, log params, metrics with steps, tags, an
input data set and an artifact; log an ONNX model (skl2onnx of a breast-cancer logistic
regression) with registered_model_name; set an alias; search runs with a filter and an
order; download the artifact; load the model back by alias and check its predictions.
Then the same version crosses Bascule's gate: `bascule validate` and `bascule deploy`
through the CLI, and OIP v2 answers with the same predictions. A pickled scikit-learn
model registers too, and the gate refuses it, saying how to export ONNX. A few mistakes
get MLflow's error codes. Every step is asserted; the first failure exits non-zero.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pandas as pd


def step(message):
    print(f"[mlflow-client] {message}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--bascule", required=True, help="the bascule binary (for the CLI)")
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--name", default="bc-classifier")
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    os.environ["MLFLOW_TRACKING_URI"] = args.tracking_uri
    # No retries: a wrong answer must fail at once, not after minutes of back-off.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")

    import mlflow
    import mlflow.onnx
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    mlflow.set_tracking_uri(args.tracking_uri)
    client = MlflowClient()
    step(f"mlflow {mlflow.__version__} against {args.tracking_uri}")

    # ---- experiment and run ---------------------------------------------------------------
    experiment = mlflow.set_experiment("bascule-mlflow-it")
    assert experiment.name == "bascule-mlflow-it", experiment
    assert experiment.experiment_id not in ("", "0"), experiment.experiment_id
    again = mlflow.set_experiment("bascule-mlflow-it")
    assert again.experiment_id == experiment.experiment_id
    step(f"experiment {experiment.experiment_id}")

    data = load_breast_cancer(as_frame=True)
    features = list(data.feature_names)
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=7, stratify=data.target
    )
    model = Pipeline(
        [("scaler", StandardScaler()), ("classifier", LogisticRegression(C=1.0, max_iter=5000))]
    )
    model.fit(x_train, y_train)
    accuracy = float((model.predict(x_test) == y_test).mean())
    expected = model.predict(x_test.to_numpy(dtype=np.float32))

    params = {"model_type": "LogisticRegression", "C": "1.0", "max_iter": "5000"}
    with mlflow.start_run(run_name="logreg-bc") as run:
        run_id = run.info.run_id
        mlflow.log_param("scaler", "standard")
        mlflow.log_params(params)
        for step_number, value in enumerate([0.90, 0.93, 0.95, 0.96, accuracy]):
            mlflow.log_metric("val_accuracy", value, step=step_number)
        mlflow.log_metrics({"accuracy": accuracy, "train_size": float(len(x_train))})
        mlflow.set_tag("stage", "research")
        mlflow.set_tags({"team": "anchors", "dataset": "breast_cancer"})
        train_frame = x_train.assign(label=y_train)
        dataset = mlflow.data.from_pandas(train_frame, name="breast_cancer_train", targets="label")
        mlflow.log_input(dataset, context="training")
        notes = os.path.join(args.work_dir, "notes.txt")
        with open(notes, "w") as handle:
            handle.write(f"accuracy={accuracy}\n")
        mlflow.log_artifact(notes)

        onnx_model = convert_sklearn(
            model,
            initial_types=[("input", FloatTensorType([None, len(features)]))],
            options={
                id(model.named_steps["scaler"]): {"div": "div_cast"},
                id(model.named_steps["classifier"]): {"zipmap": False},
            },
        )
        logged = mlflow.onnx.log_model(
            onnx_model, name="model", registered_model_name=args.name
        )
        step(f"logged model {logged.model_id} with run {run_id}")

        # Params are immutable.
        try:
            mlflow.log_param("C", "2.0")
            raise AssertionError("changing a param was accepted")
        except MlflowException as error:
            assert error.error_code == "INVALID_PARAMETER_VALUE", error.error_code

    # ---- the run as stored ----------------------------------------------------------------
    stored = client.get_run(run_id)
    assert stored.info.status == "FINISHED", stored.info.status
    assert stored.info.run_name == "logreg-bc"
    assert stored.data.params == {**params, "scaler": "standard"}, stored.data.params
    assert stored.data.metrics["val_accuracy"] == accuracy, stored.data.metrics
    assert stored.data.metrics["accuracy"] == accuracy
    assert stored.data.tags["team"] == "anchors" and stored.data.tags["stage"] == "research"
    inputs = stored.inputs.dataset_inputs
    assert len(inputs) == 1 and inputs[0].dataset.name == "breast_cancer_train", inputs
    assert inputs[0].tags[0].value == "training", inputs[0].tags
    history = client.get_metric_history(run_id, "val_accuracy")
    assert [point.step for point in history] == [0, 1, 2, 3, 4], history
    assert history[0].value == 0.90 and history[-1].value == accuracy
    step("run, params, metrics with steps, tags and input data set read back")

    # ---- registry: version, alias ----------------------------------------------------------
    versions = client.search_model_versions(f"name='{args.name}'")
    assert len(versions) == 1, versions
    version = versions[0]
    assert version.version == "1" and version.run_id == run_id, version
    assert version.source == f"models:/{logged.model_id}", version.source
    assert version.tags.get("bascule.stage") == "Prototype", version.tags
    assert version.tags.get("bascule.engine"), version.tags
    client.set_registered_model_alias(args.name, "champion", version.version)
    by_alias = client.get_model_version_by_alias(args.name, "champion")
    assert by_alias.version == "1" and "champion" in by_alias.aliases, by_alias
    registered = client.get_registered_model(args.name)
    assert registered.aliases == {"champion": "1"}, registered.aliases
    step("version 1 registered as a Bascule Prototype, alias champion set")

    # ---- search -------------------------------------------------------------------------------
    with mlflow.start_run(run_name="weaker"):
        mlflow.log_params({"model_type": "LogisticRegression", "C": "0.001"})
        mlflow.log_metric("accuracy", 0.6)
    with mlflow.start_run(run_name="other-kind"):
        mlflow.log_param("model_type", "RandomForest")
        mlflow.log_metric("accuracy", 0.99)
    found = client.search_runs(
        [experiment.experiment_id],
        filter_string="metrics.accuracy > 0.5 and params.model_type = 'LogisticRegression'",
        order_by=["metrics.accuracy DESC"],
        max_results=10,
    )
    names = [found_run.info.run_name for found_run in found]
    assert names == ["logreg-bc", "weaker"], names
    ascending = mlflow.search_runs(
        [experiment.experiment_id], order_by=["metrics.accuracy ASC"], output_format="list"
    )
    assert [r.info.run_name for r in ascending] == ["weaker", "logreg-bc", "other-kind"]
    like = client.search_runs([experiment.experiment_id], filter_string="tags.team LIKE 'anch%'")
    assert [r.info.run_id for r in like] == [run_id], like
    try:
        client.search_runs([experiment.experiment_id], filter_string="metrics.acc >>> 1")
        raise AssertionError("a bad filter was accepted")
    except MlflowException as error:
        assert error.error_code == "INVALID_PARAMETER_VALUE", error.error_code
    step("search_runs with a filter and an order")

    # ---- artifacts ---------------------------------------------------------------------------
    listed = [info.path for info in client.list_artifacts(run_id)]
    assert listed == ["notes.txt"], listed
    downloaded = client.download_artifacts(run_id, "notes.txt", args.work_dir + "/download")
    with open(downloaded) as handle:
        assert handle.read() == f"accuracy={accuracy}\n"
    step("artifact listed and downloaded")

    # ---- load by alias ---------------------------------------------------------------------
    loaded = mlflow.pyfunc.load_model(f"models:/{args.name}@champion")
    output = loaded.predict(x_test.to_numpy(dtype=np.float32))
    labels = np.asarray(output["label"] if isinstance(output, (dict, pd.DataFrame)) else output)
    labels = labels.reshape(-1)
    assert (labels == expected).all(), (labels[:10], expected[:10])
    step(f"pyfunc.load_model('models:/{args.name}@champion') predicts as scikit-learn")

    # ---- Bascule's gate and serving --------------------------------------------------------
    holdout = os.path.join(args.work_dir, "holdout.csv")
    x_test.assign(label=y_test.to_numpy()).to_csv(holdout, index=False)
    bascule = [args.bascule, "--server", args.tracking_uri]
    validated = subprocess.run(
        bascule + ["validate", args.name, "1", "--data", holdout],
        capture_output=True, text=True, timeout=300,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "PASSED" in validated.stdout, validated.stdout
    deployed = subprocess.run(
        bascule + ["deploy", args.name, "1"], capture_output=True, text=True, timeout=120
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    rows = x_test.to_numpy(dtype=np.float32)
    body = {
        "inputs": [
            {
                "name": "input",
                "shape": list(rows.shape),
                "datatype": "FP32",
                "data": rows.reshape(-1).tolist(),
            }
        ]
    }
    answer = post_json(f"{args.tracking_uri}/v2/models/{args.name}/infer", body)
    served = next(out for out in answer["outputs"] if out["name"] == "label")
    assert np.array_equal(np.asarray(served["data"]), expected), served["data"][:10]
    after = client.get_model_version(args.name, "1")
    assert after.tags["bascule.stage"] == "Deployed", after.tags
    step("bascule validate + deploy, OIP v2 predicts the same labels")

    # ---- a model Bascule cannot serve --------------------------------------------------------
    with mlflow.start_run(run_name="pickled"):
        mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=f"{args.name}-pickle",
            serialization_format="cloudpickle",
        )
    pickled = client.get_model_version(f"{args.name}-pickle", "1")
    assert pickled.tags["bascule.stage"] == "Prototype", pickled.tags
    refused = subprocess.run(
        bascule + ["validate", f"{args.name}-pickle", "1", "--data", holdout],
        capture_output=True, text=True, timeout=120,
    )
    assert refused.returncode != 0, refused.stdout
    assert "ONNX" in refused.stderr and "skl2onnx" in refused.stderr, refused.stderr
    refused = subprocess.run(
        bascule + ["deploy", f"{args.name}-pickle", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert refused.returncode != 0 and "skl2onnx" in refused.stderr, refused.stderr
    step("a pickled scikit-learn version is stored and listed; validate and deploy refuse it")

    # ---- MLflow's error codes ---------------------------------------------------------------
    for call, code in [
        (lambda: client.get_run("0" * 32), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.get_registered_model("no-such-model"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.create_experiment("bascule-mlflow-it"), "RESOURCE_ALREADY_EXISTS"),
        (lambda: client.get_experiment("999999"), "RESOURCE_DOES_NOT_EXIST"),
    ]:
        try:
            call()
            raise AssertionError(f"expected {code}")
        except MlflowException as error:
            assert error.error_code == code, (error.error_code, code)
    step("errors carry MLflow's codes")
    print("[mlflow-client] ALL STEPS PASSED", flush=True)


def post_json(url, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            # The deployment is live once the deploy call returned; retry only briefly in
            # case the route is still being swapped in.
            if time.time() > deadline:
                raise AssertionError(f"{url}: {error.code} {error.read()!r}")
            time.sleep(0.2)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"[mlflow-client] FAILED: {error!r}", file=sys.stderr, flush=True)
        raise
