//! Metrics and paired comparisons against scikit-learn, statsmodels and numpy.

use std::collections::BTreeMap;

use bascule_stats::metrics::{self, Average, BootstrapConfig, Metric};
use bascule_stats::{StatsError, percentiles};
use serde::Deserialize;

use crate::oracle::{Checker, load};

#[derive(Debug, Deserialize)]
struct BinaryCase {
    name: String,
    y_true: Vec<f64>,
    y_pred: Vec<f64>,
    scores: Vec<f64>,
    probabilities: Vec<f64>,
    expected: BTreeMap<String, f64>,
}

#[test]
fn binary_metrics_equal_scikit_learn() {
    let mut checker = Checker::new("binary metrics");
    for case in load::<BinaryCase>("metrics_binary.json") {
        let (y, name) = (&case.y_true, case.name.as_str());
        let computed: [(&str, Result<f64, StatsError>); 7] = [
            ("accuracy", metrics::accuracy(y, &case.y_pred)),
            ("precision", metrics::precision(y, &case.y_pred)),
            ("recall", metrics::recall(y, &case.y_pred)),
            ("f1", metrics::f1_score(y, &case.y_pred)),
            ("log_loss", metrics::log_loss(y, &case.probabilities)),
            ("brier", metrics::brier_score(y, &case.probabilities)),
            ("roc_auc", metrics::roc_auc(y, &case.scores)),
        ];
        for (statistic, value) in computed {
            match (case.expected.get(statistic), value) {
                (Some(&expected), Ok(actual)) => {
                    checker.statistic(statistic, name, actual, expected)
                }
                // scikit-learn 1.9 warns and returns NaN for a single class; we refuse.
                (None, Err(StatsError::SingleClass { .. })) if statistic == "roc_auc" => {}
                (expected, actual) => panic!("{statistic} [{name}]: {actual:?} vs {expected:?}"),
            }
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct MulticlassCase {
    name: String,
    n_classes: usize,
    y_true: Vec<usize>,
    y_pred: Vec<usize>,
    probabilities: Vec<f64>,
    expected: BTreeMap<String, f64>,
}

#[test]
fn multiclass_metrics_equal_scikit_learn() {
    let mut checker = Checker::new("multiclass metrics");
    for case in load::<MulticlassCase>("metrics_multiclass.json") {
        let (y, p, k) = (&case.y_true, &case.probabilities, case.n_classes);
        let mut computed = vec![
            ("accuracy", metrics::multiclass_accuracy(y, &case.y_pred)),
            ("log_loss", metrics::multiclass_log_loss(y, p, k)),
            ("brier", metrics::multiclass_brier_score(y, p, k)),
        ];
        for (suffix, average) in [("macro", Average::Macro), ("weighted", Average::Weighted)] {
            let precision = metrics::multiclass_precision(y, &case.y_pred, average);
            let recall = metrics::multiclass_recall(y, &case.y_pred, average);
            let f1 = metrics::multiclass_f1(y, &case.y_pred, average);
            computed.extend([
                (
                    if suffix == "macro" {
                        "precision_macro"
                    } else {
                        "precision_weighted"
                    },
                    precision,
                ),
                (
                    if suffix == "macro" {
                        "recall_macro"
                    } else {
                        "recall_weighted"
                    },
                    recall,
                ),
                (
                    if suffix == "macro" {
                        "f1_macro"
                    } else {
                        "f1_weighted"
                    },
                    f1,
                ),
            ]);
        }
        if case.expected.contains_key("roc_auc_ovr") {
            computed.push(("roc_auc_ovr", metrics::roc_auc_ovr(y, p, k)));
        }
        for (statistic, value) in computed {
            let expected = case.expected[statistic];
            let actual =
                value.unwrap_or_else(|error| panic!("{statistic} [{}]: {error}", case.name));
            checker.statistic(statistic, &case.name, actual, expected);
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct RegressionCase {
    name: String,
    y_true: Vec<f64>,
    y_pred: Vec<f64>,
    expected: BTreeMap<String, f64>,
}

#[test]
fn regression_metrics_equal_scikit_learn() {
    let mut checker = Checker::new("regression metrics");
    for case in load::<RegressionCase>("metrics_regression.json") {
        let functions: [(&str, Metric); 5] = [
            ("mse", metrics::mse),
            ("rmse", metrics::rmse),
            ("mae", metrics::mae),
            ("r2", metrics::r2_score),
            ("mean_error", metrics::mean_error),
        ];
        for (statistic, function) in functions {
            let actual = function(&case.y_true, &case.y_pred).expect("valid regression input");
            checker.statistic(statistic, &case.name, actual, case.expected[statistic]);
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct PairedFile {
    mcnemar: Vec<McNemarCase>,
    bootstrap: Vec<BootstrapCase>,
}

#[derive(Debug, Deserialize)]
struct McNemarCase {
    b: u64,
    c: u64,
    expected: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
struct BootstrapCase {
    metric: String,
    seed: u64,
    n_resamples: usize,
    confidence: f64,
    y_true: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    expected: BTreeMap<String, f64>,
}

#[test]
fn paired_comparisons_equal_statsmodels_and_a_replayed_bootstrap() {
    let mut checker = Checker::new("paired comparisons");
    for file in load::<PairedFile>("paired.json") {
        for case in &file.mcnemar {
            let name = format!("b={} c={}", case.b, case.c);
            let result = metrics::mcnemar_from_counts(case.b, case.c);
            checker.statistic(
                "mcnemar statistic corrected",
                &name,
                result.statistic_corrected,
                case.expected["statistic_corrected"],
            );
            checker.statistic(
                "mcnemar statistic uncorrected",
                &name,
                result.statistic_uncorrected,
                case.expected["statistic_uncorrected"],
            );
            checker.probability(
                "mcnemar pvalue corrected",
                &name,
                result.pvalue_corrected,
                case.expected["pvalue_corrected"],
            );
            checker.probability(
                "mcnemar pvalue uncorrected",
                &name,
                result.pvalue_uncorrected,
                case.expected["pvalue_uncorrected"],
            );
            checker.probability(
                "mcnemar pvalue exact",
                &name,
                result.pvalue_exact,
                case.expected["pvalue_exact"],
            );
        }
        for case in &file.bootstrap {
            let metric: Metric = match case.metric.as_str() {
                "accuracy" => metrics::accuracy,
                "roc_auc" => metrics::roc_auc,
                "log_loss" => metrics::log_loss,
                "brier" => metrics::brier_score,
                "rmse" => metrics::rmse,
                other => panic!("unknown bootstrap metric {other}"),
            };
            let config = BootstrapConfig {
                n_resamples: case.n_resamples,
                confidence: case.confidence,
                seed: case.seed,
            };
            let interval =
                metrics::paired_bootstrap_metric(&case.y_true, &case.a, &case.b, metric, &config)
                    .expect("valid bootstrap input");
            let name = format!("{} seed {}", case.metric, case.seed);
            checker.statistic(
                "bootstrap estimate",
                &name,
                interval.estimate,
                case.expected["estimate"],
            );
            checker.statistic("bootstrap low", &name, interval.low, case.expected["low"]);
            checker.statistic(
                "bootstrap high",
                &name,
                interval.high,
                case.expected["high"],
            );
            checker.exact(
                "bootstrap n_used",
                &name,
                interval.n_used as f64,
                case.expected["n_used"],
            );
            checker.exact(
                "bootstrap n_failed",
                &name,
                interval.n_failed as f64,
                case.expected["n_failed"],
            );
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct PercentileCase {
    name: String,
    values: Vec<f64>,
    qs: Vec<f64>,
    expected: Vec<f64>,
}

#[test]
fn percentiles_equal_numpy() {
    let mut checker = Checker::new("percentiles");
    for case in load::<PercentileCase>("percentile.json") {
        let actual = percentiles(&case.values, &case.qs).expect("valid sample");
        for ((q, actual), expected) in case.qs.iter().zip(actual).zip(&case.expected) {
            checker.statistic(
                "percentile",
                &format!("{} q={q}", case.name),
                actual,
                *expected,
            );
        }
    }
    checker.finish();
}
