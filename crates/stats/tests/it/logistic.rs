//! The logistic regression against scikit-learn's `StandardScaler` +
//! `LogisticRegression(C)` on slices of the vendored rainfall data set
//! (`tests/data/logistic.json`), and its refusals of data it cannot fit.
//!
//! Both sides run to the optimum (the oracle's Newton–Cholesky to a gradient of 1e-12),
//! so the comparison is tight: coefficients and intercept to 1e-7 absolute, predicted
//! probabilities to 1e-9 absolute, means and scales to 1e-12.

use std::path::PathBuf;

use bascule_stats::StatsError;
use bascule_stats::logistic::{LogisticConfig, fit_logistic};
use serde::Deserialize;

use crate::oracle::load;

const PARAMETER_TOLERANCE: f64 = 1e-7;
const PROBABILITY_TOLERANCE: f64 = 1e-9;
const SCALER_TOLERANCE: f64 = 1e-12;

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    data: String,
    feature_names: Vec<String>,
    start: usize,
    end: usize,
    c: f64,
    standardize: bool,
    expected: Expected,
}

#[derive(Debug, Deserialize)]
struct Expected {
    means: Vec<f64>,
    scales: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
    log_loss: f64,
    rows: Vec<usize>,
    probabilities: Vec<f64>,
}

/// The feature columns and labels of a headed CSV whose first column is an unnamed row
/// index and whose last is the label.
fn read_csv(relative: &str) -> (Vec<String>, Vec<Vec<f64>>, Vec<f64>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let n_features = header.len() - 2;
    let mut columns = vec![Vec::new(); n_features];
    let mut labels = Vec::new();
    for line in lines {
        let values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        for (column, value) in columns.iter_mut().zip(&values[1..=n_features]) {
            column.push(*value);
        }
        labels.push(values[n_features + 1]);
    }
    (header[1..=n_features].to_vec(), columns, labels)
}

fn largest_difference(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0, f64::max)
}

#[test]
fn logistic_regression_equals_scikit_learn() {
    for case in load::<Case>("logistic.json") {
        let (names, columns, labels) = read_csv(&case.data);
        assert_eq!(names, case.feature_names, "{}", case.name);
        let rows = case.start..case.end;
        let training: Vec<&[f64]> = columns.iter().map(|c| &c[rows.clone()]).collect();
        let config = LogisticConfig {
            c: case.c,
            standardize: case.standardize,
            ..LogisticConfig::default()
        };
        let fit = fit_logistic(&training, &labels[rows], &config).unwrap();
        let model = &fit.model;
        let expected = &case.expected;
        let scaler = largest_difference(&model.means, &expected.means)
            .max(largest_difference(&model.scales, &expected.scales));
        let mut parameters = model.coefficients.clone();
        parameters.push(model.intercept);
        let mut expected_parameters = expected.coefficients.clone();
        expected_parameters.push(expected.intercept);
        let parameter = largest_difference(&parameters, &expected_parameters);
        let picked: Vec<Vec<f64>> = columns
            .iter()
            .map(|c| expected.rows.iter().map(|&row| c[row]).collect())
            .collect();
        let picked: Vec<&[f64]> = picked.iter().map(Vec::as_slice).collect();
        let probability = largest_difference(
            &model.predict_proba(&picked).unwrap(),
            &expected.probabilities,
        );
        let log_loss = (fit.log_loss - expected.log_loss).abs();
        eprintln!(
            "{}: {} Newton steps, max |Δ| scaler {scaler:.1e}, parameters {parameter:.1e}, \
             probabilities {probability:.1e}, log-loss {log_loss:.1e}",
            case.name, fit.iterations
        );
        assert!(
            scaler <= SCALER_TOLERANCE,
            "{}: scaler {scaler:e}",
            case.name
        );
        assert!(
            parameter <= PARAMETER_TOLERANCE,
            "{}: {parameters:?} vs {expected_parameters:?}",
            case.name
        );
        assert!(
            probability <= PROBABILITY_TOLERANCE,
            "{}: probabilities {probability:e}",
            case.name
        );
        assert!(log_loss <= PROBABILITY_TOLERANCE, "{}", case.name);
    }
}

#[test]
fn fitting_refuses_data_it_cannot_fit() {
    let config = LogisticConfig::default();
    let x: &[f64] = &[0.0, 1.0, 2.0, 3.0];
    let fit = |columns: &[&[f64]], labels: &[f64]| fit_logistic(columns, labels, &config);
    assert!(matches!(
        fit(&[&[]], &[]),
        Err(StatsError::Empty { argument: "labels" })
    ));
    assert!(matches!(
        fit(&[], &[0.0, 1.0, 0.0, 1.0]),
        Err(StatsError::Empty {
            argument: "columns"
        })
    ));
    assert!(matches!(
        fit(&[x], &[1.0; 4]),
        Err(StatsError::OneClassOnly { class: 1.0 })
    ));
    assert!(matches!(
        fit(&[x], &[0.0, 1.0, 2.0, 1.0]),
        Err(StatsError::NotBinary { index: 2, .. })
    ));
    assert!(matches!(
        fit(&[x, &[0.0, f64::NAN, 1.0, 1.0]], &[0.0, 1.0, 0.0, 1.0]),
        Err(StatsError::NonFiniteFeature {
            column: 1,
            row: 1,
            ..
        })
    ));
    assert!(matches!(
        fit(&[x, &[0.0, 1.0]], &[0.0, 1.0, 0.0, 1.0]),
        Err(StatsError::LengthMismatch { right_len: 2, .. })
    ));
    let zero_c = LogisticConfig { c: 0.0, ..config };
    assert!(matches!(
        fit_logistic(&[x], &[0.0, 1.0, 0.0, 1.0], &zero_c),
        Err(StatsError::InvalidParameter { argument: "c", .. })
    ));
    let one_step = LogisticConfig {
        max_iterations: 1,
        ..config
    };
    assert!(matches!(
        fit_logistic(&[x], &[0.0, 0.0, 1.0, 1.0], &one_step),
        Err(StatsError::NotConverged { iterations: 1, .. })
    ));
    // An enormous C leaves the penalty too weak to make two copies of a column solvable.
    let unpenalised = LogisticConfig {
        c: 1e300,
        standardize: false,
        ..config
    };
    assert!(matches!(
        fit_logistic(&[x, x], &[0.0, 1.0, 0.0, 1.0], &unpenalised),
        Err(StatsError::SingularSystem { iteration: 0 })
    ));
}

#[test]
fn a_constant_feature_keeps_scale_one_and_weight_zero() {
    let x: &[f64] = &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let constant: &[f64] = &[7.0; 6];
    let labels = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
    let fit = fit_logistic(&[x, constant], &labels, &LogisticConfig::default()).unwrap();
    assert_eq!(fit.model.means[1], 7.0);
    assert_eq!(fit.model.scales[1], 1.0);
    assert_eq!(fit.model.coefficients[1], 0.0);
    assert!(fit.model.coefficients[0] > 0.0);
}
