//! `bascule train`: fit on the rainfall data, register, pass the gate like the
//! scikit-learn fixture; retrain from the environment a retraining trigger sets; and
//! refuse bad input with a message and a failing exit code.

use std::path::{Path, PathBuf};

use super::{Server, bascule, cli, fails, fixture, ok, path, start_server};

fn rainfall() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/rainfall/rainfall.csv")
}

/// The ROC AUC of a `bascule validate --json` answer (the report, then a status line).
fn validated_roc_auc(stdout: &str) -> f64 {
    let report: serde_json::Value = serde_json::Deserializer::from_str(stdout)
        .into_iter()
        .next()
        .expect("a JSON report")
        .expect("valid JSON");
    let metrics = report["metrics"].as_array().expect("metrics");
    metrics
        .iter()
        .find(|metric| metric["name"] == "roc_auc")
        .and_then(|metric| metric["value"].as_f64())
        .expect("roc_auc in the report")
}

fn expected_roc_auc() -> f64 {
    let text = std::fs::read_to_string(fixture("rainfall/expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    expected["sklearn_metrics"]["roc_auc"].as_f64().unwrap()
}

/// The fixture's recipe: days 0..6000, registered as rainfall version 1.
fn train_v1(server: &Server, out: &Path) -> String {
    ok(cli(
        server,
        &[
            "train",
            "--data",
            path(&rainfall()),
            "--label",
            "rain",
            "--rows",
            "0..6000",
            "--out",
            path(out),
            "--register",
            "rainfall",
        ],
    ))
}

#[test]
fn train_register_and_validate_like_the_scikit_learn_fixture() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("v1");
    let out = train_v1(&server, &model_dir);
    assert!(
        out.contains("logistic regression on 6000 rows x 8 features (C=1, standardised)"),
        "{out}"
    );
    assert!(out.contains("training ROC AUC  0.843369"), "{out}");
    assert!(out.contains("training log-loss 0.437830"), "{out}");
    assert!(
        out.contains("registered rainfall version 1 (Prototype"),
        "{out}"
    );
    assert!(out.contains("output probabilities FP32 [-1, 2]"), "{out}");
    for file in ["MLmodel", "model.onnx", "input_example.json"] {
        assert!(model_dir.join(file).is_file(), "{file} in {out}");
    }

    let holdout = fixture("rainfall/holdout.csv");
    let out = ok(cli(
        &server,
        &[
            "validate",
            "rainfall",
            "1",
            "--data",
            path(&holdout),
            "--json",
        ],
    ));
    let auc = validated_roc_auc(&out);
    let expected = expected_roc_auc();
    eprintln!("holdout ROC AUC: bascule train {auc:.6}, scikit-learn fixture {expected:.6}");
    assert!((auc - expected).abs() <= 0.01, "{auc} vs {expected}");
    assert!(out.contains("rainfall version 1 is Validated"), "{out}");

    let versions = ok(cli(&server, &["models", "versions", "rainfall"]));
    assert!(versions.contains("Validated"), "{versions}");
}

#[test]
fn a_retraining_trigger_needs_only_the_label_and_the_model_name() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    train_v1(&server, &dir.path().join("v1.onnx"));
    // The export: days 12000..14000 as Parquet, with the label where the trigger puts it.
    let frame = bascule_datasets::read_path(&rainfall()).unwrap();
    let rows: Vec<usize> = (12_000..14_000).collect();
    let export = dir.path().join("export.parquet");
    bascule_datasets::write_path(&frame.take_rows(&rows), &export).unwrap();

    let out = ok(bascule()
        .args(["train", "--label", "rain", "--register", "rainfall"])
        .env("BASCULE_EXPORT_PARQUET", &export)
        .env("BASCULE_PARENT_VERSION", "1")
        .env("BASCULE_URL", &server.url)
        .output()
        .unwrap());
    assert!(out.contains("on 2000 rows x 8 features"), "{out}");
    assert!(out.contains("registered rainfall version 2"), "{out}");
    let versions = ok(cli(&server, &["models", "versions", "rainfall"]));
    let v2 = versions.lines().find(|l| l.starts_with('2')).unwrap();
    assert!(v2.split_whitespace().nth(3) == Some("1"), "{versions}");
}

fn write_csv(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn bad_training_data_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let train = |data: &Path, extra: &[&str]| {
        let out = dir.path().join("m.onnx");
        let mut command = bascule();
        command.args(["train", "--data", path(data), "--out", path(&out)]);
        let err = fails(command.args(extra).output().unwrap());
        assert!(!err.contains("panicked"), "{err}");
        err
    };
    let err = train(&rainfall(), &["--label", "rainy"]);
    assert!(
        err.contains("no label column 'rainy'") && err.contains("rain"),
        "{err}"
    );
    let err = train(&dir.path().join("missing.csv"), &["--label", "rain"]);
    assert!(err.contains("missing.csv"), "{err}");
    let text = write_csv(dir.path(), "text.csv", "x,city,y\n1,a,0\n2,b,1\n3,a,1\n");
    let err = train(&text, &["--label", "y", "--features", "x,city"]);
    assert!(err.contains("feature column 'city' holds text"), "{err}");
    let err = train(&text, &["--label", "city"]);
    assert!(err.contains("label column 'city' holds text"), "{err}");
    let one_class = write_csv(dir.path(), "one.csv", "x,y\n1,1\n2,1\n3,1\n");
    let err = train(&one_class, &["--label", "y"]);
    assert!(
        err.contains("every label is 1") && err.contains("both class"),
        "{err}"
    );
    let three = write_csv(dir.path(), "three.csv", "x,y\n1,0\n2,1\n3,2\n");
    let err = train(&three, &["--label", "y"]);
    assert!(
        err.contains("holds 2 at row 2") && err.contains("0 or 1"),
        "{err}"
    );
    let missing = write_csv(dir.path(), "nan.csv", "x,y\n1,0\n,1\n3,1\n");
    let err = train(&missing, &["--label", "y"]);
    assert!(
        err.contains("feature 'x'") && err.contains("row 1"),
        "{err}"
    );
    let err = train(&rainfall(), &["--label", "rain", "--rows", "0..99999"]);
    assert!(err.contains("past the data set's 18159 rows"), "{err}");
    let err = train(&rainfall(), &["--label", "rain", "--rows", "10..5"]);
    assert!(err.contains("START must be below END"), "{err}");
    let err = train(&rainfall(), &["--label", "rain", "--c", "0"]);
    assert!(err.contains("`c` = 0"), "{err}");

    let err = fails(
        bascule()
            .args(["train", "--data", path(&rainfall()), "--label", "rain"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("--out") && err.contains("--register"), "{err}");
    let err = fails(
        bascule()
            .args(["train", "--label", "rain"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("--data"), "{err}");
    assert!(!dir.path().join("m.onnx").exists());
}
