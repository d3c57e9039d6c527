//! The validation gate on the real fixtures.

use bascule_core::{Coded, ErrorCode, PolicyFormat, Stage, Transition};
use bascule_datasets::Format;
use bascule_lifecycle::gate::{CheckStatus, ValidateRequest, ValidationReport};
use bascule_lifecycle::{LifecycleError, Registry};
use bytes::Bytes;

use super::{fixture, register, registry};

fn request(name: &str, version: i64, data: impl Into<Bytes>) -> ValidateRequest {
    ValidateRequest {
        name: name.to_owned(),
        version,
        data: data.into(),
        format: Format::Csv,
        label: None,
        actor: "gate-tester".to_owned(),
        compare_with: None,
        also_report: Vec::new(),
    }
}

fn metric(report: &ValidationReport, name: &str) -> f64 {
    report
        .metrics
        .iter()
        .find(|m| m.name == name)
        .and_then(|m| m.value)
        .unwrap_or_else(|| panic!("metric {name} missing from {:?}", report.metrics))
}

fn expected_metrics(fixture_name: &str) -> serde_json::Map<String, serde_json::Value> {
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{fixture_name}/expected.json"))).unwrap();
    expected["sklearn_metrics"].as_object().unwrap().clone()
}

const STRICT_POLICY: &str = r#"
task = "binary"
[thresholds]
accuracy = 0.95
roc_auc = 0.99
"#;

#[tokio::test]
async fn a_good_model_is_validated_with_sklearns_metrics() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let outcome = registry
        .validate(request("bc", v1, fixture("logistic/holdout.csv")))
        .await
        .unwrap();
    let report = &outcome.report;
    assert!(report.passed, "{}", report.render_text());
    assert_eq!(report.decision, Stage::Validated);
    assert_eq!(report.data.rows, 143);
    assert_eq!(report.data.features.len(), 30);
    for (name, value) in expected_metrics("logistic") {
        let expected = value.as_f64().unwrap();
        let measured = metric(report, &name);
        assert!(
            ((measured - expected) / expected).abs() <= 1e-9,
            "{name}: sklearn {expected}, gate {measured}"
        );
    }
    assert!(report.checks.iter().any(|c| c.check.contains("finite")));
    assert_eq!(report.engine, "tract");
    let agreement: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.check.starts_with("engines agree"))
        .collect();
    if bascule_runtime::onnxruntime_library_from_env().is_some() {
        assert_eq!(report.agreement.len(), 1, "{:?}", report.agreement);
        assert_eq!(report.agreement[0].engine, "onnxruntime");
        assert!(report.agreement[0].agrees, "{:?}", report.agreement);
        assert_eq!(agreement.len(), 1);
        assert_eq!(agreement[0].check, "engines agree: onnxruntime vs tract");
        assert_eq!(agreement[0].status, CheckStatus::Passed);
    } else {
        assert!(report.agreement.is_empty());
        assert_eq!(agreement[0].status, CheckStatus::Reported);
    }
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.status != CheckStatus::Failed)
    );

    let version = registry.get_version("bc", v1).await.unwrap();
    assert_eq!(version.stage, Stage::Validated);
    let evidence = outcome.event.evidence.clone().unwrap();
    assert_eq!(evidence.kind, "validation_report");
    assert_eq!(evidence.reference, outcome.record.report_digest);
    let (record, stored) = registry.validation_report("bc", v1).await.unwrap().unwrap();
    assert_eq!(record, outcome.record);
    assert_eq!(&stored, report);
    let profile = registry.reference_profile("bc", v1).await.unwrap().unwrap();
    assert_eq!(profile.features.len(), 30);
    assert_eq!(profile.rows, 143);
    assert_eq!(profile.sampled_rows, None);
    let text = report.render_text();
    assert!(
        text.contains("PASSED") && text.contains("accuracy"),
        "{text}"
    );
    registry.ensure_deployable("bc", v1).await.unwrap();

    // Validated once; not again.
    let err = registry
        .validate(request("bc", v1, fixture("logistic/holdout.csv")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    assert!(
        err.to_string().contains("Validated") && err.to_string().contains("Prototype"),
        "{err}"
    );
}

#[tokio::test]
async fn a_weak_model_is_rejected_with_reasons_and_cannot_deploy() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "weak/model.onnx", None)
        .await
        .unwrap();
    let policy = registry
        .set_policy("bc", STRICT_POLICY, PolicyFormat::Toml, "ada")
        .await
        .unwrap();
    assert_eq!(policy.policy_version, 1);
    let outcome = registry
        .validate(request("bc", v1, fixture("weak/holdout.csv")))
        .await
        .unwrap();
    let report = &outcome.report;
    assert!(!report.passed);
    assert_eq!(report.decision, Stage::Rejected);
    assert_eq!(report.policy_version, Some(1));
    let failed: Vec<_> = report.failed_checks().collect();
    assert_eq!(failed.len(), 2, "{}", report.render_text());
    let accuracy = failed
        .iter()
        .find(|c| c.check.contains("accuracy"))
        .unwrap();
    assert_eq!(accuracy.expected.as_deref(), Some("accuracy ≥ 0.95"));
    assert!(accuracy.measured.starts_with("0.923"), "{accuracy:?}");
    assert!(
        outcome.event.reason.contains("accuracy"),
        "{}",
        outcome.event.reason
    );
    let text = report.render_text();
    assert!(
        text.contains("FAIL") && text.contains("expected accuracy ≥ 0.95"),
        "{text}"
    );

    let err = registry.ensure_deployable("bc", v1).await.unwrap_err();
    assert!(err.to_string().contains("Rejected"), "{err}");
    let err = registry
        .transition(Transition {
            name: "bc".into(),
            version: v1,
            to: Stage::Deployed,
            actor: "x".into(),
            reason: "try".into(),
            evidence: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
}

#[tokio::test]
async fn the_champion_is_compared_on_the_same_rows() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    registry
        .validate(request("bc", v1, fixture("logistic/holdout.csv")))
        .await
        .unwrap();
    registry
        .transition(Transition {
            name: "bc".into(),
            version: v1,
            to: Stage::Deployed,
            actor: "x".into(),
            reason: "live".into(),
            evidence: None,
        })
        .await
        .unwrap();
    let policy = r#"{
        "champion": {"margins": {"accuracy": 0.01, "roc_auc": 0.005}, "bootstrap": {"resamples": 300, "seed": 3}},
        "slices": [{"column": "mean radius", "edges": [12.0, 16.0], "min_size": 40}]
    }"#;
    registry
        .set_policy("bc", policy, PolicyFormat::Json, "ada")
        .await
        .unwrap();
    let v2 = register(&registry, "bc", "weak/model.onnx", Some(v1))
        .await
        .unwrap();
    let first = registry
        .validate(request("bc", v2, fixture("weak/holdout.csv")))
        .await
        .unwrap();
    let champion = first.report.champion.clone().unwrap();
    assert_eq!(champion.version, v1);
    assert_eq!(champion.comparisons.len(), 2);
    let accuracy = &champion.comparisons[0];
    assert_eq!(accuracy.metric, "accuracy");
    assert!(accuracy.champion > accuracy.candidate);
    assert!(accuracy.difference_low < -0.01, "{accuracy:?}");
    assert!(!first.report.passed, "{}", first.report.render_text());
    assert!(
        first
            .report
            .checks
            .iter()
            .any(|c| c.check.contains("signature") && c.status == CheckStatus::Passed)
    );
    assert!(champion.mcnemar.is_some());
    // Slices: three buckets, the small ones reported, not judged.
    assert_eq!(first.report.slices.len(), 3, "{:?}", first.report.slices);
    assert_eq!(
        first.report.slices.iter().map(|s| s.rows).sum::<usize>(),
        143
    );

    // The same comparison again (a new version of the same model) is reproducible.
    let v3 = register(&registry, "bc", "weak/model.onnx", Some(v1))
        .await
        .unwrap();
    let second = registry
        .validate(request("bc", v3, fixture("weak/holdout.csv")))
        .await
        .unwrap();
    assert_eq!(second.report.champion, first.report.champion);
}

async fn assert_nothing_recorded(registry: &Registry, name: &str, version: i64) {
    assert_eq!(
        registry.validation_report(name, version).await.unwrap(),
        None
    );
    let versions = registry.get_version(name, version).await.unwrap();
    assert_eq!(versions.stage, Stage::Prototype);
    assert_eq!(registry.events(name, Some(version)).await.unwrap().len(), 1);
}

fn holdout_without(column: &str) -> String {
    let text = String::from_utf8(fixture("logistic/holdout.csv").to_vec()).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let position = rows[0].iter().position(|c| *c == column).unwrap();
    rows.iter()
        .map(|row| {
            let mut row = row.clone();
            row.remove(position);
            row.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn expect_invalid(err: LifecycleError, words: &[&str]) {
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    let message = err.to_string();
    for word in words {
        assert!(message.contains(word), "'{word}' missing from: {message}");
    }
}

#[tokio::test]
async fn bad_input_leaves_no_report_and_no_transition() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let holdout = String::from_utf8(fixture("logistic/holdout.csv").to_vec()).unwrap();

    let missing_feature = holdout_without("mean texture");
    let err = registry
        .validate(request("bc", v1, missing_feature))
        .await
        .unwrap_err();
    expect_invalid(err, &["30 features", "29 columns"]);

    let extra = holdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line},id")
            } else {
                format!("{line},{i}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let err = registry
        .validate(request("bc", v1, extra))
        .await
        .unwrap_err();
    expect_invalid(err, &["30 features", "'id'"]);

    let err = registry.validate(request("bc", v1, "")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    let header_only = holdout.lines().next().unwrap().to_owned();
    let err = registry
        .validate(request("bc", v1, header_only))
        .await
        .unwrap_err();
    expect_invalid(err, &["no rows"]);

    let no_label = holdout_without("label");
    let err = registry
        .validate(request("bc", v1, no_label))
        .await
        .unwrap_err();
    expect_invalid(err, &["no label column 'label'"]);

    let mut renamed = request("bc", v1, holdout.clone());
    renamed.label = Some("diagnosis".into());
    let err = registry.validate(renamed).await.unwrap_err();
    expect_invalid(err, &["'diagnosis'"]);

    let text_label = holdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let (head, _) = line.rsplit_once(',').unwrap();
            if i == 0 {
                line.to_owned()
            } else {
                format!("{head},{}", if i % 2 == 0 { "yes" } else { "no" })
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let err = registry
        .validate(request("bc", v1, text_label))
        .await
        .unwrap_err();
    expect_invalid(err, &["label column 'label' holds text"]);

    let float_label = holdout.replacen(",1\n", ",0.5\n", 1);
    let err = registry
        .validate(request("bc", v1, float_label))
        .await
        .unwrap_err();
    expect_invalid(err, &["0.5", "class indices"]);

    let err = registry
        .set_policy(
            "bc",
            "[thresholds]\nacuracy = 0.9",
            PolicyFormat::Toml,
            "ada",
        )
        .await
        .unwrap_err();
    expect_invalid(err, &["acuracy", "roc_auc"]);
    assert_eq!(registry.policy("bc").await.unwrap(), None);

    registry
        .set_policy(
            "bc",
            "[[slices]]\ncolumn = \"age\"",
            PolicyFormat::Toml,
            "ada",
        )
        .await
        .unwrap();
    let err = registry
        .validate(request("bc", v1, holdout.clone()))
        .await
        .unwrap_err();
    expect_invalid(err, &["'age'", "mean radius"]);

    registry
        .set_policy("bc", "[thresholds]\nrmse = 0.9", PolicyFormat::Toml, "ada")
        .await
        .unwrap();
    let err = registry
        .validate(request("bc", v1, holdout))
        .await
        .unwrap_err();
    expect_invalid(err, &["'rmse'", "binary classification"]);

    assert_nothing_recorded(&registry, "bc", v1).await;
}

#[tokio::test]
async fn regression_and_latency() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "diabetes", "linear/model.onnx", None)
        .await
        .unwrap();
    registry
        .set_policy(
            "diabetes",
            "[thresholds]\nr2 = 0.4\n[latency]\nruns = 20\nbatch_size = 32\np99_ms = 1000.0",
            PolicyFormat::Toml,
            "ada",
        )
        .await
        .unwrap();
    let outcome = registry
        .validate(request("diabetes", v1, fixture("linear/holdout.csv")))
        .await
        .unwrap();
    let report = &outcome.report;
    assert!(report.passed, "{}", report.render_text());
    let expected = expected_metrics("linear");
    let r2 = expected["r2"].as_f64().unwrap();
    assert!(
        ((metric(report, "r2") - r2) / r2).abs() <= 1e-6,
        "{}",
        metric(report, "r2")
    );
    let latency = report.latency.clone().unwrap();
    assert_eq!((latency.runs, latency.batch_size), (20, 32));
    assert!(latency.single_p50_ms > 0.0);
}

/// An engine that runs tract and then moves every probability by 1e-3: what a broken
/// operator in a second engine looks like to the gate.
#[derive(Debug)]
struct Perturbed(bascule_runtime::TractEngine);

#[derive(Debug)]
struct PerturbedModel(std::sync::Arc<dyn bascule_core::LoadedModel>);

impl bascule_core::InferenceEngine for Perturbed {
    fn name(&self) -> &'static str {
        "perturbed"
    }

    fn load(
        &self,
        onnx: &[u8],
    ) -> Result<std::sync::Arc<dyn bascule_core::LoadedModel>, bascule_core::EngineError> {
        let model = bascule_core::InferenceEngine::load(&self.0, onnx)?;
        Ok(std::sync::Arc::new(PerturbedModel(model)))
    }
}

impl bascule_core::LoadedModel for PerturbedModel {
    fn signature(&self) -> &bascule_core::Signature {
        self.0.signature()
    }

    fn run(
        &self,
        inputs: Vec<bascule_core::Tensor>,
    ) -> Result<Vec<bascule_core::Tensor>, bascule_core::EngineError> {
        let mut outputs = self.0.run(inputs)?;
        for output in &mut outputs {
            if let bascule_core::TensorData::Fp32(values) = &mut output.data {
                values.iter_mut().for_each(|v| *v += 1e-3);
            }
        }
        Ok(outputs)
    }
}

#[tokio::test]
async fn engines_that_disagree_reject_the_version() {
    use std::sync::Arc;
    let engines = bascule_lifecycle::Engines::new(Arc::new(bascule_runtime::TractEngine::new()))
        .with(Arc::new(Perturbed(bascule_runtime::TractEngine::new())));
    let (_dir, registry) = super::registry_with(engines).await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let outcome = registry
        .validate(request("bc", v1, fixture("logistic/holdout.csv")))
        .await
        .unwrap();
    let report = &outcome.report;
    assert!(!report.passed, "{}", report.render_text());
    assert_eq!(report.decision, Stage::Rejected);
    let check = report
        .checks
        .iter()
        .find(|c| c.check == "engines agree: perturbed vs tract")
        .expect("the agreement check runs");
    assert_eq!(check.status, CheckStatus::Failed);
    assert!(
        check.measured.contains("probabilities: 286 mismatches"),
        "{}",
        check.measured
    );
    assert!(report.agreement[0].outputs.iter().any(|o| o.mismatches > 0));
    let text = report.render_text();
    assert!(
        text.contains("FAIL  engines agree: perturbed vs tract"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_champion_is_the_live_version_not_the_canary() {
    use bascule_core::Role;
    use bascule_lifecycle::serving::{ChangeRequest, DeployCommand, Serving, ServingConfig};
    let (_dir, registry) = registry().await;
    let mut versions = Vec::new();
    for _ in 0..2 {
        let version = register(&registry, "bc", "logistic/model.onnx", None)
            .await
            .unwrap();
        registry
            .validate(request("bc", version, fixture("logistic/holdout.csv")))
            .await
            .unwrap();
        versions.push(version);
    }
    let serving = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .unwrap();
    for (version, role, percent) in [
        (versions[0], Role::Live, None),
        (versions[1], Role::Canary, Some(10)),
    ] {
        serving
            .change(ChangeRequest {
                name: "bc".into(),
                command: DeployCommand::Deploy {
                    version,
                    role,
                    percent,
                },
                actor: "ops".into(),
                reason: None,
            })
            .await
            .unwrap();
    }
    registry
        .set_policy(
            "bc",
            r#"{"champion": {"margins": {"accuracy": 0.01}, "bootstrap": {"resamples": 200, "seed": 1}}}"#,
            PolicyFormat::Json,
            "ada",
        )
        .await
        .unwrap();
    let v3 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let outcome = registry
        .validate(request("bc", v3, fixture("logistic/holdout.csv")))
        .await
        .unwrap();
    let champion = outcome
        .report
        .champion
        .clone()
        .expect("compared with the champion");
    // Version 2 is newer and Deployed too, but only as a canary: the champion is live v1.
    assert_eq!(champion.version, versions[0]);
    assert!(outcome.report.passed, "{}", outcome.report.render_text());
    serving.shutdown().await;
}
