"""Regenerates the model fixtures under fixtures/ (run by hand, from the repository root):

    /work/pyenv/bin/python scripts/make_fixtures.py

Each fixture is a small real model trained on a data set bundled with scikit-learn, exported
to ONNX by skl2onnx, with the rows it was *not* trained on and what onnxruntime outputs on
them. The Rust tests compare their engines against those recorded outputs; nothing here runs
at test time.

fixtures/<name>/
    model.onnx      skl2onnx export; one input named `input`, FloatTensorType([None, n])
    holdout.csv     the held-out rows: feature columns under their real names, then `label`
    expected.json   the task, feature names, sklearn's holdout metrics, and onnxruntime's
                    outputs on holdout.csv (per output name: shape, OIP datatype, flat data)

The scalers are exported with skl2onnx's `div` option set to `div_cast`, which writes
Cast/Sub/Div/Cast (standard ai.onnx ops, computed in float64) instead of the ai.onnx.ml
`Scaler` operator that tract lacks. Everything else is skl2onnx's default conversion.
"""

import json
import pathlib
import platform

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import scipy
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

SEED = 20240601
HOLDOUT_FRACTION = 0.25
# tract is tested against ai.onnx opsets 9 to 18; ai.onnx.ml 3 keeps TreeEnsembleRegressor
# (ml opset 5 would fold it into the generic TreeEnsemble operator).
TARGET_OPSET = {"": 18, "ai.onnx.ml": 3}
ROOT = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

OIP_DATATYPES = {
    np.dtype(np.float32): "FP32",
    np.dtype(np.float64): "FP64",
    np.dtype(np.int64): "INT64",
    np.dtype(np.int32): "INT32",
    np.dtype(np.bool_): "BOOL",
}


def split(frame, target, stratify):
    """The same train/holdout split for every model trained on one data set."""
    return train_test_split(
        frame,
        target,
        test_size=HOLDOUT_FRACTION,
        random_state=SEED,
        stratify=target if stratify else None,
    )


def scaled(estimator):
    return Pipeline([("scaler", StandardScaler()), ("model", estimator)])


def export(model, n_features, classifier):
    """skl2onnx conversion with the options the fixtures promise (see the module doc)."""
    options = {}
    if isinstance(model, Pipeline):
        options[id(model.named_steps["scaler"])] = {"div": "div_cast"}
        final = model.named_steps["model"]
    else:
        final = model
    if classifier:
        options[id(final)] = {"zipmap": False}
    return to_onnx(
        model,
        initial_types=[("input", FloatTensorType([None, n_features]))],
        options=options,
        target_opset=TARGET_OPSET,
    )


def onnxruntime_outputs(onnx_model, features):
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, {"input": features})
    outputs = {}
    for name, value in zip(names, values):
        value = np.asarray(value)
        outputs[name] = {
            "shape": list(value.shape),
            "datatype": OIP_DATATYPES[value.dtype],
            "data": value.ravel().tolist(),
        }
    return outputs


def metrics(task, model, features, labels):
    if task == "classification":
        probabilities = model.predict_proba(features)[:, 1]
        return {
            "accuracy": accuracy_score(labels, model.predict(features)),
            "roc_auc": roc_auc_score(labels, probabilities),
        }
    predictions = model.predict(features)
    return {
        "r2": r2_score(labels, predictions),
        "mse": mean_squared_error(labels, predictions),
    }


def write_fixture(name, model, task, description, train_rows, holdout, holdout_labels):
    classifier = task == "classification"
    feature_names = list(holdout.columns)
    onnx_model = export(model, len(feature_names), classifier)
    onnx_model.doc_string = description
    onnx.checker.check_model(onnx_model)

    directory = ROOT / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(onnx_model.SerializeToString())

    table = holdout.copy()
    table["label"] = holdout_labels.to_numpy()
    # The real values, as scikit-learn ships them (shortest round-trip float64 repr); the
    # model sees them as float32 (numpy's float64 -> float32 cast, which the Rust tests repeat).
    table.to_csv(directory / "holdout.csv", index=False)

    features = holdout.to_numpy(dtype=np.float64).astype(np.float32)
    expected = {
        "description": description,
        "task": task,
        "feature_names": feature_names,
        "label": "label",
        "input": {"name": "input", "datatype": "FP32", "shape": [-1, len(feature_names)]},
        "n_train": int(train_rows),
        "n_holdout": int(len(holdout)),
        "sklearn_metrics": metrics(task, model, holdout, holdout_labels),
        "outputs": onnxruntime_outputs(onnx_model, features),
    }
    (directory / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    ops = sorted({(node.domain or "ai.onnx", node.op_type) for node in onnx_model.graph.node})
    print(f"{name}: {len(holdout)} holdout rows, ops {ops}")


def breast_cancer_fixtures():
    data = load_breast_cancer(as_frame=True)
    train, holdout, train_labels, holdout_labels = split(data.data, data.target, True)
    task = "classification"

    logistic = scaled(LogisticRegression(max_iter=1000, random_state=SEED))
    logistic.fit(train, train_labels)
    write_fixture(
        "logistic",
        logistic,
        task,
        "breast cancer: StandardScaler + LogisticRegression",
        len(train),
        holdout,
        holdout_labels,
    )

    mlp = scaled(
        MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=2000, random_state=SEED)
    )
    mlp.fit(train, train_labels)
    write_fixture(
        "mlp",
        mlp,
        task,
        "breast cancer: StandardScaler + MLPClassifier(16, 8)",
        len(train),
        holdout,
        holdout_labels,
    )

    # A deliberately weak model: 20 training rows, 10 of each class.
    few = pd.concat(
        [
            train[train_labels == label].sample(10, random_state=SEED)
            for label in (0, 1)
        ]
    )
    weak = scaled(LogisticRegression(max_iter=1000, random_state=SEED))
    weak.fit(few, train_labels.loc[few.index])
    write_fixture(
        "weak",
        weak,
        task,
        "breast cancer: StandardScaler + LogisticRegression trained on 20 rows (weak on purpose)",
        len(few),
        holdout,
        holdout_labels,
    )


def diabetes_fixtures():
    data = load_diabetes(as_frame=True)
    train, holdout, train_labels, holdout_labels = split(data.data, data.target, False)
    task = "regression"

    linear = LinearRegression().fit(train, train_labels)
    write_fixture(
        "linear",
        linear,
        task,
        "diabetes: LinearRegression",
        len(train),
        holdout,
        holdout_labels,
    )

    # tract has no TreeEnsembleRegressor (ai.onnx.ml): the tests expect it refused.
    trees = GradientBoostingRegressor(n_estimators=10, max_depth=2, random_state=SEED)
    trees.fit(train, train_labels)
    write_fixture(
        "unsupported",
        trees,
        task,
        "diabetes: GradientBoostingRegressor (TreeEnsembleRegressor, which tract lacks)",
        len(train),
        holdout,
        holdout_labels,
    )


def write_readme():
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    table = "\n".join(f"| {name} | {version} |" for name, version in versions.items())
    text = f"""# Model fixtures

Small real models for the engine tests, written by `scripts/make_fixtures.py`.
Regenerate them (from the repository root) with:

```
/work/pyenv/bin/python scripts/make_fixtures.py
```

| fixture | data set | model | ONNX operators of note |
| --- | --- | --- | --- |
| `logistic` | breast cancer | StandardScaler + LogisticRegression | Cast, Sub, Div; LinearClassifier (ai.onnx.ml) |
| `mlp` | breast cancer | StandardScaler + MLPClassifier(16, 8) | MatMul, Relu, Sigmoid, ArgMax; ArrayFeatureExtractor (ai.onnx.ml) |
| `weak` | breast cancer | as `logistic`, trained on 20 rows | as `logistic` |
| `linear` | diabetes | LinearRegression | LinearRegressor (ai.onnx.ml) |
| `unsupported` | diabetes | GradientBoostingRegressor (10 trees) | TreeEnsembleRegressor (ai.onnx.ml), which tract lacks |

Every fixture holds `model.onnx` (one input `input`, float32 `[N, n_features]`),
`holdout.csv` (the rows held out of training, {HOLDOUT_FRACTION:.0%} of the data set, split
with seed {SEED}; feature columns under their real names, then `label`) and `expected.json`
(the task, feature names, scikit-learn's metrics on the holdout, and onnxruntime's outputs
on the whole holdout as one batch: per output name, its shape, OIP datatype and flat data).
The breast-cancer fixtures share one holdout, and so do the diabetes ones.

`holdout.csv` keeps scikit-learn's float64 values; the models take float32, obtained by
numpy's float64 → float32 cast (parse as f64, then `as f32`, to feed a model the same bits).

Conversion choices: target opsets `ai.onnx` 18 (tract is tested up to 18) and `ai.onnx.ml`
3; classifiers with `zipmap: False` (outputs `label` int64 and `probabilities` float32);
StandardScaler with the `div: div_cast` option, which exports Cast/Sub/Div/Cast in float64
instead of the ai.onnx.ml `Scaler` operator that tract lacks.

Versions that produced the current files:

| library | version |
| --- | --- |
{table}
"""
    (ROOT / "README.md").write_text(text)


def main():
    np.random.seed(SEED)
    ROOT.mkdir(exist_ok=True)
    breast_cancer_fixtures()
    diabetes_fixtures()
    write_readme()


if __name__ == "__main__":
    main()
