//! Numeric drift statistics against scipy: KS, the Kolmogorov distribution,
//! Wasserstein, PSI and Jensen–Shannon.

use std::collections::BTreeMap;

use bascule_stats::drift::{self, Binning, KsMethod, LogBase};
use serde::Deserialize;

use crate::oracle::{Checker, GeneratorSpec, generate, load};

#[derive(Debug, Deserialize)]
struct KsCase {
    name: String,
    x: Option<Vec<f64>>,
    y: Option<Vec<f64>>,
    x_spec: Option<GeneratorSpec>,
    y_spec: Option<GeneratorSpec>,
    expected: BTreeMap<String, KsExpected>,
}

#[derive(Debug, Deserialize)]
struct KsExpected {
    statistic: f64,
    pvalue: f64,
    location: f64,
    sign: i8,
    method_used: String,
}

fn sample(values: Option<Vec<f64>>, spec: Option<&GeneratorSpec>) -> Vec<f64> {
    match (values, spec) {
        (Some(values), _) => values,
        (None, Some(spec)) => generate(spec),
        (None, None) => panic!("a KS case needs values or a generator spec"),
    }
}

#[test]
fn ks_2samp_equals_scipy() {
    let mut checker = Checker::new("ks_2samp");
    for case in load::<KsCase>("ks_2samp.json") {
        let x = sample(case.x, case.x_spec.as_ref());
        let y = sample(case.y, case.y_spec.as_ref());
        for (method_name, expected) in &case.expected {
            let method = match method_name.as_str() {
                "auto" => KsMethod::Auto,
                "exact" => KsMethod::Exact,
                _ => KsMethod::Asymptotic,
            };
            let result = drift::ks_2samp(&x, &y, method).expect("valid samples");
            let (mut x_sorted, mut y_sorted) = (x.clone(), y.clone());
            x_sorted.sort_by(f64::total_cmp);
            y_sorted.sort_by(f64::total_cmp);
            let from_sorted =
                drift::ks_2samp_sorted(&x_sorted, &y_sorted, method).expect("sorted samples");
            let name = format!("{} {method_name}", case.name);
            checker.exact("ks of sorted input", &name, from_sorted, result);
            let used = if expected.method_used == "exact" {
                KsMethod::Exact
            } else {
                KsMethod::Asymptotic
            };
            checker.statistic("ks statistic", &name, result.statistic, expected.statistic);
            checker.probability(
                &format!("ks pvalue {}", expected.method_used),
                &name,
                result.pvalue,
                expected.pvalue,
            );
            checker.exact("ks location", &name, result.location, expected.location);
            checker.exact("ks sign", &name, result.sign, expected.sign);
            checker.exact("ks method", &name, result.method, used);
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct KolmogorovFile {
    kstwo: Vec<KstwoCase>,
    kstwobign: Vec<LimitCase>,
}

#[derive(Debug, Deserialize)]
struct KstwoCase {
    n: u64,
    x: f64,
    sf: f64,
}

#[derive(Debug, Deserialize)]
struct LimitCase {
    x: f64,
    sf: f64,
}

#[test]
fn kolmogorov_distribution_equals_scipy() {
    let mut checker = Checker::new("kolmogorov distribution");
    for file in load::<KolmogorovFile>("kolmogorov.json") {
        for case in &file.kstwo {
            let actual = drift::kolmogorov_smirnov_sf(case.n, case.x);
            let region = kolmogorov_region(case.n, case.x);
            checker.probability(
                &format!("kstwo.sf {region}"),
                &format!("n={} x={}", case.n, case.x),
                actual,
                case.sf,
            );
        }
        for case in &file.kstwobign {
            let actual = drift::kolmogorov_limit_sf(case.x);
            checker.probability("kstwobign.sf", &format!("x={}", case.x), actual, case.sf);
        }
    }
    checker.finish();
}

/// Which of scipy's algorithms serves `(n, x)`, to report errors per method.
fn kolmogorov_region(n: u64, x: f64) -> &'static str {
    let n_float = n as f64;
    let t = n_float * x;
    let nx_squared = t * x;
    if t <= 1.0 || t >= n_float - 1.0 {
        "ruben-gambino"
    } else if x >= 0.5 || (n <= 140 && nx_squared > 4.0) || (n > 140 && nx_squared >= 2.2) {
        "smirnov"
    } else if n <= 140 && nx_squared > 0.754693 {
        "pomeranz"
    } else if n <= 140 || (n <= 100_000 && n_float * x.powf(1.5) <= 1.4) {
        "durbin"
    } else {
        "pelz-good"
    }
}

#[derive(Debug, Deserialize)]
struct DistanceCase {
    name: String,
    u: Vec<f64>,
    v: Vec<f64>,
    u_weights: Vec<f64>,
    v_weights: Vec<f64>,
    expected: BTreeMap<String, f64>,
}

#[test]
fn wasserstein_equals_scipy() {
    let mut checker = Checker::new("wasserstein");
    for case in load::<DistanceCase>("distance.json") {
        let plain = drift::wasserstein_distance(&case.u, &case.v).expect("valid");
        let (mut u_sorted, mut v_sorted) = (case.u.clone(), case.v.clone());
        u_sorted.sort_by(f64::total_cmp);
        v_sorted.sort_by(f64::total_cmp);
        checker.exact(
            "wasserstein of sorted input",
            &case.name,
            drift::wasserstein_distance_sorted(&u_sorted, &v_sorted),
            Ok(plain),
        );
        checker.statistic(
            "wasserstein",
            &case.name,
            plain,
            case.expected["wasserstein"],
        );
        let weighted = drift::weighted_wasserstein_distance(
            &case.u,
            &case.u_weights,
            &case.v,
            &case.v_weights,
        )
        .expect("valid");
        checker.statistic(
            "wasserstein weighted",
            &case.name,
            weighted,
            case.expected["weighted"],
        );
        match case.expected.get("normalized") {
            Some(&expected) => {
                let normalised =
                    drift::normalized_wasserstein_distance(&case.u, &case.v).expect("valid");
                checker.statistic("wasserstein normalised", &case.name, normalised, expected);
                let from_sorted =
                    drift::normalized_wasserstein_distance_sorted(&u_sorted, &v_sorted)
                        .expect("valid");
                checker.statistic(
                    "wasserstein normalised sorted",
                    &case.name,
                    from_sorted,
                    expected,
                );
            }
            None => {
                assert!(drift::normalized_wasserstein_distance(&case.u, &case.v).is_err());
                assert!(
                    drift::normalized_wasserstein_distance_sorted(&u_sorted, &v_sorted).is_err()
                );
            }
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct BinnedCase {
    name: String,
    reference: Vec<f64>,
    current: Vec<f64>,
    n_bins: Option<usize>,
    edges: Option<Vec<f64>>,
    expected: BinnedExpected,
}

#[derive(Debug, Deserialize)]
struct BinnedExpected {
    edges: Vec<f64>,
    reference_proportions: Vec<f64>,
    current_proportions: Vec<f64>,
    psi: f64,
    js_natural: f64,
    js_base2: f64,
}

#[test]
fn psi_and_jensen_shannon_equal_numpy_and_scipy() {
    let mut checker = Checker::new("binned drift");
    for case in load::<BinnedCase>("binned.json") {
        let binning = match (case.n_bins, case.edges) {
            (Some(n_bins), _) => Binning::quantiles(&case.reference, n_bins),
            (None, Some(edges)) => Binning::fixed(edges),
            (None, None) => panic!("a binned case needs n_bins or edges"),
        }
        .expect("valid binning");
        let name = case.name.as_str();
        checker.exact(
            "edge count",
            name,
            binning.edges().len(),
            case.expected.edges.len(),
        );
        for (actual, expected) in binning.edges().iter().zip(&case.expected.edges) {
            checker.statistic("quantile edge", name, *actual, *expected);
        }
        let reference = binning.proportions(&case.reference).expect("valid");
        let current = binning.proportions(&case.current).expect("valid");
        checker.exact(
            "reference proportions",
            name,
            &reference,
            &case.expected.reference_proportions,
        );
        checker.exact(
            "current proportions",
            name,
            &current,
            &case.expected.current_proportions,
        );
        let psi = drift::population_stability_index(&case.reference, &case.current, &binning)
            .expect("valid");
        checker.statistic("psi", name, psi, case.expected.psi);
        let natural = drift::jensen_shannon_binned(
            &case.reference,
            &case.current,
            &binning,
            LogBase::Natural,
        );
        checker.statistic(
            "js distance (e)",
            name,
            natural.expect("valid"),
            case.expected.js_natural,
        );
        let base2 =
            drift::jensen_shannon_distance(&reference, &current, LogBase::Two).expect("valid");
        checker.statistic("js distance (2)", name, base2, case.expected.js_base2);
    }
    checker.finish();
}
