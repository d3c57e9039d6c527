//! `bascule policy` and `bascule validate` against a real server.

use super::{cli, fails, fixture, ok, path, start_server};

#[test]
fn validate_a_good_model_and_reject_a_weak_one() {
    let server = start_server();
    let logistic = fixture("logistic/model.onnx");
    ok(cli(&server, &["models", "register", "bc", path(&logistic)]));
    let holdout = fixture("logistic/holdout.csv");
    let out = ok(cli(
        &server,
        &["validate", "bc", "1", "--data", path(&holdout)],
    ));
    assert!(out.contains("Validation of bc version 1: PASSED"), "{out}");
    assert!(out.contains("accuracy") && out.contains("0.9790"), "{out}");
    assert!(out.contains("bc version 1 is Validated"), "{out}");
    let events = ok(cli(&server, &["models", "events", "bc", "1"]));
    assert!(events.contains("validation_report:"), "{events}");

    // Again: refused, naming the stage.
    let err = fails(cli(
        &server,
        &["validate", "bc", "1", "--data", path(&holdout)],
    ));
    assert!(
        err.contains("Validated") && err.contains("HTTP 409"),
        "{err}"
    );

    let weak = fixture("weak/model.onnx");
    ok(cli(&server, &["models", "register", "weak", path(&weak)]));
    let err = fails(cli(&server, &["policy", "show", "weak"]));
    assert!(err.contains("no validation policy"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"thresholds": {"acuracy": 0.9}}"#).unwrap();
    let err = fails(cli(&server, &["policy", "set", "weak", path(&bad)]));
    assert!(err.contains("acuracy") && err.contains("HTTP 400"), "{err}");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[thresholds]\naccuracy = 0.95\nroc_auc = 0.99\n").unwrap();
    let out = ok(cli(&server, &["policy", "set", "weak", path(&policy)]));
    assert!(out.contains("policy version 1"), "{out}");
    let out = ok(cli(&server, &["policy", "show", "weak"]));
    assert!(out.contains("roc_auc = 0.99"), "{out}");

    let output = cli(
        &server,
        &[
            "validate",
            "weak",
            "1",
            "--data",
            path(&fixture("weak/holdout.csv")),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let err = fails(output);
    assert!(err.contains("Rejected"), "{err}");
    assert!(
        stdout.contains("FAIL  threshold: accuracy: expected accuracy ≥ 0.95, measured 0.923"),
        "{stdout}"
    );
    let versions = ok(cli(&server, &["models", "versions", "weak"]));
    assert!(versions.contains("Rejected"), "{versions}");
}
