//! The ONNX writer (`bascule_runtime::onnx`): a logistic regression fitted by
//! `bascule-stats` on the rainfall data, written as ONNX, run by tract (and onnxruntime
//! when configured) on the rainfall holdout, against the fit's own predictions.

use bascule_core::{InferenceEngine, Tensor, TensorData};
use bascule_runtime::onnx::{LogisticModel, logistic_regression_model};
use bascule_runtime::{DEFAULT_TOLERANCE, Error, OrtConfig, OrtEngine, TractEngine};
use bascule_stats::logistic::{LogisticConfig, LogisticRegression, fit_logistic};

use crate::coverage::onnxruntime_library;
use crate::fixtures::{self, Fixture};

/// Float32 inference against the float64 fit.
const TOLERANCE: f64 = 1e-5;

/// The fixture's recipe: days 0..6000 of the rainfall data, standardised, C = 1.
fn fit_rainfall(fixture: &Fixture) -> (LogisticRegression, LogisticModel) {
    let path = fixtures::dir("../datasets/rainfall/rainfall.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let n_features = fixture.n_features();
    let mut columns = vec![Vec::new(); n_features];
    let mut labels = Vec::new();
    for line in text.lines().skip(1).take(6000) {
        let values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        for (column, value) in columns.iter_mut().zip(&values[1..=n_features]) {
            column.push(*value);
        }
        labels.push(values[n_features + 1]);
    }
    let columns: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    let fit = fit_logistic(&columns, &labels, &LogisticConfig::default()).unwrap();
    let model = LogisticModel {
        means: fit.model.means.clone(),
        scales: fit.model.scales.clone(),
        coefficients: fit.model.coefficients.clone(),
        intercept: fit.model.intercept,
        feature_names: fixture.expected.feature_names.clone(),
    };
    (fit.model, model)
}

/// `P(1)` of the fit on the holdout rows, as the model sees them (float32 inputs).
fn fit_probabilities(fit: &LogisticRegression, fixture: &Fixture) -> Vec<f64> {
    let columns: Vec<Vec<f64>> = (0..fixture.n_features())
        .map(|j| fixture.rows.iter().map(|row| f64::from(row[j])).collect())
        .collect();
    let columns: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    fit.predict_proba(&columns).unwrap()
}

/// Checks an engine's outputs against the fit; returns the largest probability difference.
fn assert_outputs_match(engine: &str, outputs: &[Tensor], expected: &[f64]) -> f64 {
    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["label", "probabilities"], "{engine}");
    let n_rows = expected.len();
    let TensorData::Int64(labels) = &outputs[0].data else {
        panic!("{engine}: label is {:?}", outputs[0].data.datatype());
    };
    let TensorData::Fp32(probabilities) = &outputs[1].data else {
        panic!(
            "{engine}: probabilities is {:?}",
            outputs[1].data.datatype()
        );
    };
    assert_eq!(outputs[0].shape, [n_rows], "{engine}");
    assert_eq!(outputs[1].shape, [n_rows, 2], "{engine}");
    let mut largest: f64 = 0.0;
    for (row, &p1) in expected.iter().enumerate() {
        let (got0, got1) = (probabilities[2 * row], probabilities[2 * row + 1]);
        largest = largest
            .max((f64::from(got1) - p1).abs())
            .max((f64::from(got0) - (1.0 - p1)).abs());
        if (p1 - 0.5).abs() > 1e-6 {
            assert_eq!(labels[row], i64::from(p1 > 0.5), "{engine}: row {row}");
        }
    }
    assert!(
        largest <= TOLERANCE,
        "{engine}: largest difference {largest:e}"
    );
    largest
}

#[test]
fn a_written_logistic_regression_runs_in_tract_like_the_fit_and_the_fixture() {
    let fixture = fixtures::load("rainfall");
    let (fit, model) = fit_rainfall(&fixture);
    let onnx = logistic_regression_model(&model).unwrap();
    let tract = TractEngine::new().load(&onnx).unwrap();
    // The same interface as skl2onnx's model of the same recipe.
    let reference = TractEngine::new().load(&fixture.onnx).unwrap();
    assert_eq!(tract.signature(), reference.signature());

    let expected = fit_probabilities(&fit, &fixture);
    let outputs = tract
        .run(vec![fixture.batch(0..fixture.rows.len())])
        .unwrap();
    let largest = assert_outputs_match("tract", &outputs, &expected);
    let outputs = tract.run(vec![fixture.batch(7..8)]).unwrap();
    assert_outputs_match("tract, one row", &outputs, &expected[7..8]);
    eprintln!(
        "tract vs the Rust fit on {} rows: max |Δp| {largest:.2e}",
        expected.len()
    );

    // skl2onnx's model (lbfgs stopped at tol 1e-4) lies within 1e-3 of the optimum.
    let sklearn = reference
        .run(vec![fixture.batch(0..fixture.rows.len())])
        .unwrap();
    let TensorData::Fp32(sklearn) = &sklearn[1].data else {
        panic!("probabilities");
    };
    let from_sklearn = sklearn
        .chunks(2)
        .zip(&expected)
        .map(|(pair, p1)| (f64::from(pair[1]) - p1).abs())
        .fold(0.0, f64::max);
    eprintln!("the skl2onnx fixture vs the Rust fit: max |Δp| {from_sklearn:.2e}");
    assert!(from_sklearn < 1e-3, "{from_sklearn:e}");
}

#[test]
fn onnxruntime_runs_a_written_logistic_regression_like_the_fit_when_configured() {
    let Some(library) = onnxruntime_library() else {
        eprintln!("BASCULE_ONNXRUNTIME_LIB is not set: the written model is not run by ort");
        return;
    };
    let fixture = fixtures::load("rainfall");
    let (fit, model) = fit_rainfall(&fixture);
    let onnx = logistic_regression_model(&model).unwrap();
    let ort = OrtEngine::new(OrtConfig::new(library)).unwrap();
    let loaded = ort.load(&onnx).unwrap();
    let batch = fixture.batch(0..fixture.rows.len());
    let outputs = loaded.run(vec![batch.clone()]).unwrap();
    let largest = assert_outputs_match("onnxruntime", &outputs, &fit_probabilities(&fit, &fixture));
    eprintln!("onnxruntime vs the Rust fit: max |Δp| {largest:.2e}");
    let tract = TractEngine::new();
    let report =
        bascule_runtime::check_agreement(&[&tract, &ort], &onnx, &[batch], DEFAULT_TOLERANCE);
    assert!(report.agree, "{report:#?}");
    for output in &report.engines[1].outputs {
        eprintln!(
            "tract vs onnxruntime, {}: max |Δ| {:.2e}",
            output.name, output.max_difference
        );
    }
}

#[test]
fn the_writer_refuses_parameters_that_are_not_one_model() {
    let good = LogisticModel {
        means: vec![0.0, 1.0],
        scales: vec![1.0, 2.0],
        coefficients: vec![0.5, -0.25],
        intercept: 0.1,
        feature_names: vec!["a".into(), "b".into()],
    };
    assert!(logistic_regression_model(&good).is_ok());
    let cases = [
        (
            LogisticModel {
                coefficients: vec![],
                means: vec![],
                scales: vec![],
                feature_names: vec![],
                ..good.clone()
            },
            "no coefficients",
        ),
        (
            LogisticModel {
                means: vec![0.0],
                ..good.clone()
            },
            "means has 1 entries",
        ),
        (
            LogisticModel {
                feature_names: vec!["a".into()],
                ..good.clone()
            },
            "feature_names has 1",
        ),
        (
            LogisticModel {
                scales: vec![1.0, 0.0],
                ..good.clone()
            },
            "scales[1] is zero",
        ),
        (
            LogisticModel {
                coefficients: vec![f64::NAN, 1.0],
                ..good.clone()
            },
            "coefficients[0]",
        ),
        (
            LogisticModel {
                means: vec![1e300, 1.0],
                ..good.clone()
            },
            "not a finite float32",
        ),
        (
            LogisticModel {
                intercept: f64::INFINITY,
                ..good.clone()
            },
            "intercept",
        ),
    ];
    for (model, message) in cases {
        let error = logistic_regression_model(&model).unwrap_err();
        assert!(matches!(error, Error::InvalidLogisticModel(_)), "{error}");
        assert!(
            error.to_string().contains(message),
            "{error} lacks {message}"
        );
    }
}
