//! Invariants that must hold on any input, checked with `proptest`.

use bascule_stats::drift::{self, KsMethod, LogBase};
use bascule_stats::metrics::{self, BootstrapConfig};
use bascule_stats::percentile;
use proptest::collection::vec;
use proptest::prelude::*;

/// Finite values, with repeats likely (few distinct levels) so ties are exercised.
fn sample(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    vec(
        prop_oneof![(-1e6..1e6_f64), (0..8_i32).prop_map(f64::from)],
        1..max_len,
    )
}

/// Binary labels holding both classes, and one score per row.
fn labelled_scores() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2..60_usize).prop_flat_map(|n| {
        (
            vec(prop_oneof![Just(0.0), Just(1.0)], n).prop_map(|mut labels| {
                labels[0] = 0.0;
                labels[1] = 1.0;
                labels
            }),
            vec(
                prop_oneof![(0.0..1.0_f64), (0..4_i32).prop_map(|v| f64::from(v) / 4.0)],
                n,
            ),
        )
    })
}

/// A permutation of `0..n` from a vector of sort keys.
fn permutation(keys: &[u32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&index| (keys[index], index));
    order
}

proptest! {
    #[test]
    fn ks_statistic_is_bounded_and_symmetric(x in sample(40), y in sample(40)) {
        let forward = drift::ks_2samp(&x, &y, KsMethod::Auto).expect("valid");
        let backward = drift::ks_2samp(&y, &x, KsMethod::Auto).expect("valid");
        prop_assert!((0.0..=1.0).contains(&forward.statistic));
        prop_assert!((0.0..=1.0).contains(&forward.pvalue));
        prop_assert_eq!(forward.statistic, backward.statistic);
        prop_assert!((forward.pvalue - backward.pvalue).abs() <= 1e-12);
    }

    #[test]
    fn wasserstein_is_a_symmetric_non_negative_distance(u in sample(40), v in sample(40), shift in -100.0..100.0_f64) {
        let forward = drift::wasserstein_distance(&u, &v).expect("valid");
        let backward = drift::wasserstein_distance(&v, &u).expect("valid");
        prop_assert!(forward >= 0.0);
        prop_assert!((forward - backward).abs() <= 1e-9 * forward.max(1.0));
        prop_assert_eq!(drift::wasserstein_distance(&u, &u).expect("valid"), 0.0);
        let moved: Vec<f64> = u.iter().map(|value| value + shift).collect();
        let translation = drift::wasserstein_distance(&u, &moved).expect("valid");
        prop_assert!((translation - shift.abs()).abs() <= 1e-6 * (1.0 + shift.abs()));
    }

    #[test]
    fn reversing_scores_reverses_the_auc((labels, scores) in labelled_scores()) {
        let auc = metrics::roc_auc(&labels, &scores).expect("valid");
        let reversed: Vec<f64> = scores.iter().map(|score| -score).collect();
        let reversed_auc = metrics::roc_auc(&labels, &reversed).expect("valid");
        prop_assert!((0.0..=1.0).contains(&auc));
        prop_assert!((auc + reversed_auc - 1.0).abs() <= 1e-12);
    }

    #[test]
    fn metrics_ignore_row_order((labels, scores) in labelled_scores(), keys in vec(any::<u32>(), 60)) {
        let order = permutation(&keys[..labels.len()]);
        let shuffled_labels: Vec<f64> = order.iter().map(|&i| labels[i]).collect();
        let shuffled_scores: Vec<f64> = order.iter().map(|&i| scores[i]).collect();
        let predictions: Vec<f64> = scores.iter().map(|&s| f64::from(u8::from(s >= 0.5))).collect();
        let shuffled_predictions: Vec<f64> = order.iter().map(|&i| predictions[i]).collect();
        let pairs = [
            (metrics::roc_auc(&labels, &scores), metrics::roc_auc(&shuffled_labels, &shuffled_scores)),
            (metrics::log_loss(&labels, &scores), metrics::log_loss(&shuffled_labels, &shuffled_scores)),
            (metrics::brier_score(&labels, &scores), metrics::brier_score(&shuffled_labels, &shuffled_scores)),
            (metrics::f1_score(&labels, &predictions), metrics::f1_score(&shuffled_labels, &shuffled_predictions)),
            (metrics::accuracy(&labels, &predictions), metrics::accuracy(&shuffled_labels, &shuffled_predictions)),
        ];
        for (original, shuffled) in pairs {
            let (original, shuffled) = (original.expect("valid"), shuffled.expect("valid"));
            prop_assert!((original - shuffled).abs() <= 1e-12 * original.abs().max(1.0));
        }
    }

    #[test]
    fn jensen_shannon_is_symmetric_and_bounded(p in vec(0.0..10.0_f64, 5), q in vec(0.0..10.0_f64, 5)) {
        prop_assume!(p.iter().sum::<f64>() > 0.0 && q.iter().sum::<f64>() > 0.0);
        let forward = drift::jensen_shannon_distance(&p, &q, LogBase::Two).expect("valid");
        let backward = drift::jensen_shannon_distance(&q, &p, LogBase::Two).expect("valid");
        prop_assert!((0.0..=1.0 + 1e-12).contains(&forward));
        prop_assert!((forward - backward).abs() <= 1e-12);
    }

    #[test]
    fn percentiles_are_monotone_in_q(values in sample(50), a in 0.0..100.0_f64, b in 0.0..100.0_f64) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(percentile(&values, low).expect("valid") <= percentile(&values, high).expect("valid"));
    }

    #[test]
    fn kolmogorov_sf_is_a_decreasing_probability(n in 1..3000_u64, a in 0.0..1.0_f64, b in 0.0..1.0_f64) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let (at_low, at_high) = (drift::kolmogorov_smirnov_sf(n, low), drift::kolmogorov_smirnov_sf(n, high));
        prop_assert!((0.0..=1.0).contains(&at_low) && (0.0..=1.0).contains(&at_high));
        prop_assert!(at_high <= at_low + 1e-12, "n={} sf({})={} sf({})={}", n, low, at_low, high, at_high);
    }
}

#[test]
fn the_bootstrap_is_reproducible_and_seed_dependent() {
    let y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
    let a = [0.1, 0.8, 0.7, 0.3, 0.9, 0.2, 0.6, 0.4];
    let b = [0.5, 0.5, 0.4, 0.6, 0.7, 0.1, 0.5, 0.5];
    let config = BootstrapConfig {
        n_resamples: 400,
        confidence: 0.9,
        seed: 7,
    };
    let first =
        metrics::paired_bootstrap_metric(&y, &a, &b, metrics::brier_score, &config).expect("valid");
    let second =
        metrics::paired_bootstrap_metric(&y, &a, &b, metrics::brier_score, &config).expect("valid");
    assert_eq!(first, second);
    assert!(first.low <= first.estimate && first.estimate <= first.high);
    let other_seed = BootstrapConfig { seed: 8, ..config };
    let third = metrics::paired_bootstrap_metric(&y, &a, &b, metrics::brier_score, &other_seed)
        .expect("valid");
    assert_ne!(first, third);
}
