//! Categorical drift tests and the special functions under every p-value, against
//! scipy and statsmodels.

use std::collections::BTreeMap;

use bascule_stats::drift;
use bascule_stats::{chi_square_sf, normal_sf, normal_two_sided_p};
use serde::Deserialize;

use crate::oracle::{Checker, load};

#[derive(Debug, Deserialize)]
struct CategoricalFile {
    contingency: Vec<ContingencyCase>,
    goodness_of_fit: Vec<GoodnessCase>,
    ztest: Vec<ZCase>,
}

#[derive(Debug, Deserialize)]
struct ContingencyCase {
    table: Vec<Vec<f64>>,
    correction: bool,
    expected: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
struct GoodnessCase {
    observed: Vec<f64>,
    proportions: Vec<f64>,
    expected: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
struct ZCase {
    counts: [u64; 4],
    expected: BTreeMap<String, f64>,
}

#[test]
fn categorical_tests_equal_scipy_and_statsmodels() {
    let mut checker = Checker::new("categorical");
    for file in load::<CategoricalFile>("categorical.json") {
        for case in &file.contingency {
            let name = format!("{:?} correction={}", case.table, case.correction);
            let result =
                drift::chi2_contingency(&case.table, case.correction).expect("valid table");
            checker.statistic(
                "chi2_contingency statistic",
                &name,
                result.statistic,
                case.expected["statistic"],
            );
            checker.probability(
                "chi2_contingency pvalue",
                &name,
                result.pvalue,
                case.expected["pvalue"],
            );
            checker.exact(
                "chi2_contingency dof",
                &name,
                result.dof as f64,
                case.expected["dof"],
            );
            if let Some(&expected) = case.expected.get("cramers_v") {
                checker.statistic("cramers_v", &name, result.cramers_v, expected);
            }
        }
        for case in &file.goodness_of_fit {
            let name = format!("{:?}", case.observed);
            let result =
                drift::chi2_goodness_of_fit(&case.observed, &case.proportions).expect("valid");
            checker.statistic(
                "chisquare statistic",
                &name,
                result.statistic,
                case.expected["statistic"],
            );
            checker.probability(
                "chisquare pvalue",
                &name,
                result.pvalue,
                case.expected["pvalue"],
            );
            checker.exact(
                "chisquare dof",
                &name,
                result.dof as f64,
                case.expected["dof"],
            );
        }
        for case in &file.ztest {
            let [count_1, n_1, count_2, n_2] = case.counts;
            let name = format!("{:?}", case.counts);
            let result = drift::two_proportion_ztest(count_1, n_1, count_2, n_2).expect("valid");
            checker.statistic(
                "ztest statistic",
                &name,
                result.statistic,
                case.expected["statistic"],
            );
            checker.probability(
                "ztest pvalue",
                &name,
                result.pvalue,
                case.expected["pvalue"],
            );
        }
    }
    checker.finish();
}

#[derive(Debug, Deserialize)]
struct SpecialFile {
    chi2_sf: Vec<Chi2Case>,
    normal: Vec<NormalCase>,
    binomial_half_cdf: Vec<BinomialCase>,
}

#[derive(Debug, Deserialize)]
struct Chi2Case {
    x: f64,
    dof: f64,
    sf: f64,
}

#[derive(Debug, Deserialize)]
struct NormalCase {
    z: f64,
    sf: f64,
    two_sided: f64,
}

#[derive(Debug, Deserialize)]
struct BinomialCase {
    k: u64,
    n: u64,
    cdf: f64,
}

#[test]
fn special_functions_equal_scipy() {
    let mut checker = Checker::new("special functions");
    for file in load::<SpecialFile>("special.json") {
        for case in &file.chi2_sf {
            let name = format!("x={} dof={}", case.x, case.dof);
            checker.probability("chi2.sf", &name, chi_square_sf(case.x, case.dof), case.sf);
        }
        for case in &file.normal {
            let name = format!("z={}", case.z);
            checker.probability("norm.sf", &name, normal_sf(case.z), case.sf);
            checker.probability(
                "2 norm.sf(|z|)",
                &name,
                normal_two_sided_p(case.z),
                case.two_sided,
            );
        }
        for case in &file.binomial_half_cdf {
            // Reached through McNemar's exact p-value: min(1, 2·cdf(k; n, ½)).
            let b = case.k;
            let c = case.n - case.k;
            if b <= c {
                let exact = bascule_stats::metrics::mcnemar_from_counts(b, c).pvalue_exact;
                let name = format!("k={} n={}", case.k, case.n);
                checker.probability(
                    "binom.cdf(k, n, 1/2)",
                    &name,
                    exact,
                    (2.0 * case.cdf).min(1.0),
                );
            }
        }
    }
    checker.finish();
}

#[test]
fn category_counts_build_the_contingency_table() {
    let reference = ["a", "b", "a", "c"];
    let current = ["b", "b", "d"];
    let counts = drift::CategoryCounts::from_samples(&reference, &current);
    assert_eq!(counts.categories, vec!["a", "b", "c", "d"]);
    assert_eq!(
        counts.table(),
        vec![vec![2.0, 1.0, 1.0, 0.0], vec![0.0, 2.0, 0.0, 1.0]]
    );
    let test = drift::chi2_contingency(&counts.table(), true).expect("no empty column");
    assert_eq!(test.dof, 3);
    assert!((0.0..=1.0).contains(&test.pvalue));
}

#[derive(Debug, Deserialize)]
struct MultipleCase {
    name: String,
    pvalues: Vec<f64>,
    expected: BTreeMap<String, Vec<f64>>,
}

#[test]
fn adjusted_pvalues_equal_scipy_and_statsmodels() {
    let mut checker = Checker::new("multiple testing");
    for case in load::<MultipleCase>("multiple.json") {
        for (method, adjustment) in [
            ("bh", drift::Adjustment::BenjaminiHochberg),
            ("bonferroni", drift::Adjustment::Bonferroni),
        ] {
            let adjusted = drift::adjust_pvalues(&case.pvalues, adjustment).expect("valid");
            let expected = &case.expected[method];
            checker.exact("family size", &case.name, adjusted.len(), expected.len());
            for (index, (&got, &want)) in adjusted.iter().zip(expected).enumerate() {
                let name = format!("{} [{index}]", case.name);
                checker.probability(method, &name, got, want);
            }
        }
        let unadjusted =
            drift::adjust_pvalues(&case.pvalues, drift::Adjustment::None).expect("valid");
        checker.exact(
            "no adjustment",
            &case.name,
            unadjusted,
            case.pvalues.clone(),
        );
    }
    checker.finish();
}
