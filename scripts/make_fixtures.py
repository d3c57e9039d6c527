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
import sys

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import scipy
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVR

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

    # No engine path in tract runs SVMRegressor (ai.onnx.ml): the tests expect it refused.
    svr = SVR(C=50.0).fit(train, train_labels)
    write_fixture(
        "unsupported",
        svr,
        task,
        "diabetes: SVR (SVMRegressor, which neither tract nor Bascule's operators implement)",
        len(train),
        holdout,
        holdout_labels,
    )


# ---------------------------------------------------------------------------------------
# Engine-coverage fixtures: the ai.onnx.ml operators classical models ship with.
#
# fixtures/<name>/
#     model.onnx      the converter's default export (skl2onnx, or onnxmltools for XGBoost
#                     and LightGBM), with ai.onnx.ml opset 3
#     expected.json   the inputs (per input name: shape, OIP datatype, flat data) and
#                     onnxruntime's outputs on them; a ZipMap output (a sequence of maps) is
#                     recorded as the [N, n_classes] matrix of its values in key order, and
#                     its keys under "zipmap_keys"
# ---------------------------------------------------------------------------------------

ENGINE_FIXTURES = []


def input_record(value):
    value = np.asarray(value)
    if value.dtype.kind in "OUS":
        return {"shape": list(value.shape), "datatype": "BYTES",
                "data": [str(item) for item in value.ravel().tolist()]}
    return {"shape": list(value.shape), "datatype": OIP_DATATYPES[value.dtype],
            "data": value.ravel().tolist()}


def output_record(value):
    if isinstance(value, list) and value and isinstance(value[0], dict):
        keys = list(value[0].keys())
        matrix = np.array([[row[key] for key in keys] for row in value], dtype=np.float32)
        record = input_record(matrix)
        record["zipmap_keys"] = [key if isinstance(key, int) else str(key) for key in keys]
        return record
    return input_record(np.asarray(value))


def write_engine_fixture(name, onnx_model, inputs, description, task):
    onnx_model.doc_string = description
    onnx.checker.check_model(onnx_model)
    directory = ROOT / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(onnx_model.SerializeToString())
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, inputs)
    expected = {
        "description": description,
        "task": task,
        "inputs": {key: input_record(value) for key, value in inputs.items()},
        "outputs": {key: output_record(value) for key, value in zip(names, values)},
    }
    (directory / "expected.json").write_text(json.dumps(expected) + "\n")
    ops = sorted({(node.domain or "ai.onnx", node.op_type) for node in onnx_model.graph.node})
    rows = len(next(iter(inputs.values())))
    ENGINE_FIXTURES.append((name, description, ops))
    print(f"{name}: {rows} rows, ops {ops}")


def skl_export(model, n_features, zipmap=False, initial_types=None):
    options = {id(model): {"zipmap": False}} if not zipmap and hasattr(model, "predict_proba") else {}
    return to_onnx(
        model,
        initial_types=initial_types or [("input", FloatTensorType([None, n_features]))],
        options=options,
        target_opset=TARGET_OPSET,
    )


def as_float32(frame):
    return frame.to_numpy(dtype=np.float64).astype(np.float32)


def tree_fixtures():
    cancer = load_breast_cancer(as_frame=True)
    train, holdout, train_labels, _ = split(cancer.data, cancer.target, True)
    features = as_float32(holdout)
    n = features.shape[1]

    forest = RandomForestClassifier(n_estimators=100, max_depth=6, random_state=SEED)
    forest.fit(train, train_labels)
    write_engine_fixture(
        "rf_binary", skl_export(forest, n), {"input": features},
        "breast cancer: RandomForestClassifier(100 trees, depth 6), binary", "classification")

    wine = load_wine(as_frame=True)
    wtrain, wholdout, wtrain_labels, _ = split(wine.data, wine.target, True)
    wfeatures = as_float32(wholdout)
    wn = wfeatures.shape[1]

    forest3 = RandomForestClassifier(n_estimators=50, max_depth=5, random_state=SEED)
    forest3.fit(wtrain, wtrain_labels)
    write_engine_fixture(
        "rf_multiclass", skl_export(forest3, wn), {"input": wfeatures},
        "wine: RandomForestClassifier(50 trees, depth 5), 3 classes", "classification")

    boosted3 = GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=SEED)
    boosted3.fit(wtrain, wtrain_labels)
    write_engine_fixture(
        "gb_classifier", skl_export(boosted3, wn), {"input": wfeatures},
        "wine: GradientBoostingClassifier(50 rounds, depth 3), 3 classes", "classification")

    diabetes = load_diabetes(as_frame=True)
    dtrain, dholdout, dtrain_labels, _ = split(diabetes.data, diabetes.target, False)
    dfeatures = as_float32(dholdout)
    dn = dfeatures.shape[1]

    boosted = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=SEED)
    boosted.fit(dtrain, dtrain_labels)
    write_engine_fixture(
        "gb_regressor", skl_export(boosted, dn), {"input": dfeatures},
        "diabetes: GradientBoostingRegressor(100 rounds, depth 3)", "regression")

    scaler = Pipeline([("scaler", StandardScaler()),
                       ("model", LogisticRegression(max_iter=1000, random_state=SEED))])
    scaler.fit(train, train_labels)
    write_engine_fixture(
        "scaler_pipeline", skl_export(scaler, n), {"input": features},
        "breast cancer: StandardScaler (ai.onnx.ml Scaler) + LogisticRegression",
        "classification")

    iris = load_iris(as_frame=True)
    itrain, iholdout, itrain_labels, _ = split(iris.data, iris.target, True)
    zipmap = LogisticRegression(max_iter=1000, random_state=SEED).fit(itrain, itrain_labels)
    write_engine_fixture(
        "zipmap", skl_export(zipmap, 4, zipmap=True), {"input": as_float32(iholdout)},
        "iris: LogisticRegression with ZipMap (probabilities as a sequence of maps)",
        "classification")

    # Mixed numeric and string columns, one ONNX input per column (skl2onnx's layout for a
    # DataFrame): StandardScaler over the numbers, OneHotEncoder over the strings.
    numeric = ["age", "bmi", "bp", "s5"]
    frame = diabetes.data[numeric].copy()
    frame["sex"] = np.where(diabetes.data["sex"] > 0, "F", "M")
    frame["bmi_band"] = pd.cut(diabetes.data["bmi"], 3, labels=["low", "mid", "high"]).astype(str)
    ctrain, choldout, ctrain_labels, _ = train_test_split(
        frame, diabetes.target, test_size=HOLDOUT_FRACTION, random_state=SEED)
    columns = ColumnTransformer([
        ("num", StandardScaler(), numeric),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["sex", "bmi_band"]),
    ])
    mixed = Pipeline([("columns", columns), ("model", Ridge(alpha=1.0))]).fit(ctrain, ctrain_labels)
    initial = [(name, FloatTensorType([None, 1])) for name in numeric]
    initial += [(name, StringTensorType([None, 1])) for name in ["sex", "bmi_band"]]
    inputs = {name: choldout[[name]].to_numpy(dtype=np.float64).astype(np.float32) for name in numeric}
    inputs.update({name: choldout[[name]].to_numpy().astype(object) for name in ["sex", "bmi_band"]})
    write_engine_fixture(
        "column_transformer", skl_export(mixed, 0, initial_types=initial), inputs,
        "diabetes: ColumnTransformer(StandardScaler on 4 numbers, OneHotEncoder on 2 strings) + Ridge",
        "regression")

    try:
        import lightgbm
        import onnxmltools
        import xgboost
    except ImportError as missing:
        print(f"skipping XGBoost and LightGBM fixtures: {missing}")
        return
    from onnxmltools.convert.common.data_types import FloatTensorType as MlFloat

    xgb = xgboost.XGBClassifier(n_estimators=30, max_depth=3, random_state=SEED, n_jobs=1)
    xgb.fit(wtrain.to_numpy(np.float32), wtrain_labels)
    model = onnxmltools.convert_xgboost(
        xgb, initial_types=[("input", MlFloat([None, wn]))], target_opset=15)
    write_engine_fixture(
        "xgb_classifier", model, {"input": wfeatures},
        "wine: XGBClassifier(30 rounds, depth 3), 3 classes, via onnxmltools", "classification")

    lgbm = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=8, random_state=SEED,
                                   n_jobs=1, verbose=-1)
    lgbm.fit(train.to_numpy(np.float32), train_labels)
    model = onnxmltools.convert_lightgbm(
        lgbm, initial_types=[("input", MlFloat([None, n]))], target_opset=15,
        zipmap=False)
    write_engine_fixture(
        "lgbm_binary", model, {"input": features},
        "breast cancer: LGBMClassifier(30 rounds, 8 leaves), binary, via onnxmltools",
        "classification")

    lgbm_r = lightgbm.LGBMRegressor(n_estimators=50, num_leaves=8, random_state=SEED,
                                    n_jobs=1, verbose=-1)
    lgbm_r.fit(dtrain.to_numpy(np.float32), dtrain_labels)
    model = onnxmltools.convert_lightgbm(
        lgbm_r, initial_types=[("input", MlFloat([None, dn]))], target_opset=15)
    write_engine_fixture(
        "lgbm_regressor", model, {"input": dfeatures},
        "diabetes: LGBMRegressor(50 rounds, 8 leaves), via onnxmltools", "regression")


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
    coverage = "\n".join(
        f"| `{name}` | {description} | {', '.join(op for domain, op in ops)} |"
        for name, description, ops in ENGINE_FIXTURES
    )
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
| `unsupported` | diabetes | SVR | SVMRegressor (ai.onnx.ml), which no tract path implements (onnxruntime runs it) |
| `custom_op` | none | one `Frobnicate` node | an operator of the private domain com.example.custom, which no engine runs |
| `rainfall` | NOAA rainfall (`datasets/rainfall`): trained on days 0..6000, holdout days 6000..12000 | StandardScaler + LogisticRegression | as `logistic` |

Engine-coverage fixtures (ai.onnx.ml operators; `expected.json` holds the inputs as well as
onnxruntime's outputs, a ZipMap output recorded as the `[N, n_classes]` matrix of its values):

| fixture | model | ONNX operators of note |
| --- | --- | --- |
{coverage}

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


def custom_op_fixture():
    """A model no engine runs: one node of an operator in a private domain. Registration
    must refuse it naming the operator and domain, whichever engines are configured."""
    from onnx import TensorProto, helper

    node = helper.make_node("Frobnicate", ["input"], ["output"], domain="com.example.custom")
    graph = helper.make_graph(
        [node],
        "custom_op",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 4])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example.custom", 1)],
        producer_name="bascule make_fixtures.py",
    )
    model.ir_version = 8
    model.doc_string = "an operator of a private domain that no engine implements"
    directory = ROOT / "custom_op"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(model.SerializeToString())
    print("custom_op: Frobnicate (domain com.example.custom)")


def rainfall_fixture():
    """The monitoring fixture: logistic regression on the vendored NOAA rainfall data set
    (datasets/rainfall), trained on days 0..6000 and validated on days 6000..12000; the
    monitoring tests replay days 12000.. (where dew point drifts) as live traffic."""
    data = pd.read_csv(ROOT.parent / "datasets" / "rainfall" / "rainfall.csv", index_col=0)
    features = data.drop(columns=["rain"])
    labels = data["rain"].astype(int)
    model = scaled(LogisticRegression(max_iter=1000))
    model.fit(features.iloc[:6000], labels.iloc[:6000])
    write_fixture(
        "rainfall",
        model,
        "classification",
        "NOAA rainfall (datasets/rainfall): StandardScaler + LogisticRegression trained on "
        "days 0..6000; holdout = days 6000..12000",
        6000,
        features.iloc[6000:12000],
        labels.iloc[6000:12000],
    )


def main():
    np.random.seed(SEED)
    ROOT.mkdir(exist_ok=True)
    if sys.argv[1:] == ["rainfall"]:
        rainfall_fixture()
        return
    breast_cancer_fixtures()
    diabetes_fixtures()
    tree_fixtures()
    custom_op_fixture()
    rainfall_fixture()
    write_readme()


if __name__ == "__main__":
    main()
