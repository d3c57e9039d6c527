//! Every public entry point refuses bad input with a typed error instead of
//! panicking or returning NaN, and the messages name what to fix.

use bascule_stats::StatsError;
use bascule_stats::drift::{self, Binning, KsMethod};
use bascule_stats::metrics::{self, Average, BootstrapConfig};

#[test]
fn empty_inputs_are_refused_everywhere() {
    let empty: [f64; 0] = [];
    assert!(matches!(
        metrics::accuracy(&empty, &empty),
        Err(StatsError::Empty { argument: "y_true" })
    ));
    assert!(matches!(
        metrics::roc_auc(&empty, &empty),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        metrics::rmse(&empty, &empty),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        metrics::multiclass_f1(&[], &[], Average::Macro),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        metrics::mcnemar(&[], &[]),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        drift::ks_2samp(&[1.0], &empty, KsMethod::Auto),
        Err(StatsError::Empty {
            argument: "current"
        })
    ));
    assert!(matches!(
        drift::wasserstein_distance(&empty, &[1.0]),
        Err(StatsError::Empty { argument: "u" })
    ));
    assert!(matches!(
        Binning::quantiles(&empty, 10),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        drift::chi2_contingency(&[], true),
        Err(StatsError::Empty { argument: "table" })
    ));
    assert!(matches!(
        drift::two_proportion_ztest(1, 0, 1, 2),
        Err(StatsError::Empty { .. })
    ));
}

#[test]
fn mismatched_lengths_name_both_arguments() {
    let error = metrics::f1_score(&[1.0, 0.0], &[1.0]).expect_err("lengths differ");
    assert_eq!(
        error.to_string(),
        "`y_true` has 2 values but `y_pred` has 1: they must describe the same rows"
    );
    assert!(matches!(
        metrics::roc_auc(&[1.0, 0.0], &[0.3]),
        Err(StatsError::LengthMismatch {
            right: "scores",
            ..
        })
    ));
    assert!(matches!(
        drift::chi2_contingency(&[vec![1.0, 2.0], vec![3.0]], true),
        Err(StatsError::LengthMismatch { .. })
    ));
}

#[test]
fn non_finite_values_are_refused() {
    assert!(matches!(
        metrics::roc_auc(&[1.0, 0.0], &[f64::NAN, 0.1]),
        Err(StatsError::NonFinite {
            argument: "scores",
            index: 0,
            ..
        })
    ));
    assert!(matches!(
        drift::ks_2samp(&[1.0, f64::INFINITY], &[1.0], KsMethod::Auto),
        Err(StatsError::NonFinite {
            argument: "reference",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        drift::wasserstein_distance(&[1.0], &[f64::NEG_INFINITY]),
        Err(StatsError::NonFinite { .. })
    ));
    assert!(matches!(
        metrics::mae(&[f64::NAN], &[1.0]),
        Err(StatsError::NonFinite { .. })
    ));
}

#[test]
fn single_class_roc_auc_is_a_typed_error() {
    let error = metrics::roc_auc(&[0.0, 0.0, 0.0], &[0.1, 0.5, 0.9]).expect_err("one class");
    assert!(matches!(error, StatsError::SingleClass { .. }));
    assert!(error.to_string().contains("only one class"));
}

#[test]
fn labels_and_probabilities_are_range_checked() {
    assert!(matches!(
        metrics::precision(&[0.0, 2.0], &[0.0, 1.0]),
        Err(StatsError::NotBinary {
            argument: "y_true",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        metrics::log_loss(&[0.0, 1.0], &[0.5, -0.1]),
        Err(StatsError::ProbabilityOutOfRange { index: 1, .. })
    ));
    assert!(matches!(
        metrics::roc_auc_ovr(&[0, 1, 2], &[0.2; 9], 3),
        Err(StatsError::RowNotNormalised { row: 0, .. })
    ));
}

#[test]
fn categorical_edge_cases_follow_scipy_or_say_why_not() {
    assert!(matches!(
        drift::chi2_contingency(&[vec![0.0, 5.0], vec![0.0, 3.0]], true),
        Err(StatsError::ZeroExpected { .. })
    ));
    assert!(matches!(
        drift::chi2_goodness_of_fit(&[3.0, 4.0], &[1.0, 0.0]),
        Err(StatsError::ZeroExpected { .. })
    ));
    assert!(matches!(
        drift::two_proportion_ztest(5, 4, 1, 2),
        Err(StatsError::InvalidParameter {
            argument: "count_1",
            ..
        })
    ));
    let agreement = drift::two_proportion_ztest(0, 10, 0, 20).expect("valid");
    assert_eq!((agreement.statistic, agreement.pvalue), (0.0, 1.0));
    let single_row = drift::chi2_contingency(&[vec![3.0, 4.0]], true).expect("valid");
    assert_eq!(
        (single_row.statistic, single_row.pvalue, single_row.dof),
        (0.0, 1.0, 0)
    );
}

#[test]
fn bootstrap_parameters_are_checked_and_total_failure_is_reported() {
    let y = [0.0, 1.0, 1.0];
    let bad_confidence = BootstrapConfig {
        confidence: 1.0,
        ..BootstrapConfig::default()
    };
    assert!(matches!(
        metrics::paired_bootstrap_metric(&y, &y, &y, metrics::accuracy, &bad_confidence),
        Err(StatsError::InvalidParameter {
            argument: "confidence",
            ..
        })
    ));
    let config = BootstrapConfig {
        n_resamples: 10,
        ..BootstrapConfig::default()
    };
    let mut calls = 0;
    let result = metrics::paired_bootstrap(3, &config, |_| {
        calls += 1;
        if calls == 1 {
            Ok(0.0)
        } else {
            Err(StatsError::Empty { argument: "rows" })
        }
    });
    assert!(matches!(
        result,
        Err(StatsError::BootstrapFailed {
            n_resamples: 10,
            ..
        })
    ));
}

#[test]
fn mcnemar_without_disagreement_is_not_significant() {
    let result = metrics::mcnemar(&[true, false, true], &[true, false, true]).expect("valid");
    assert_eq!((result.b, result.c), (0, 0));
    assert_eq!(
        (
            result.pvalue_exact,
            result.pvalue_corrected,
            result.pvalue()
        ),
        (1.0, 1.0, 1.0)
    );
    let counted =
        metrics::mcnemar(&[true, true, false, false], &[false, true, true, true]).expect("valid");
    assert_eq!((counted.b, counted.c), (1, 2));
}
