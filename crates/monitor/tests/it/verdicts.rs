//! Sound verdicts on generated data: undrifted columns stay quiet at 1k and 1M rows,
//! injected drift is caught at both, and a tiny shift that a huge window makes
//! "significant" is not flagged because its effect is below the floor.

use bascule_monitor::{
    CategoricalSample, Correction, DriftConfig, DriftReport, EffectKind, FeatureInput,
    NumericSample, TestKind, Verdict, drift_report,
};

use crate::Generator;

const WEIGHTS: [f64; 4] = [0.4, 0.3, 0.2, 0.1];
const SHIFTED_WEIGHTS: [f64; 4] = [0.2, 0.3, 0.2, 0.3];

/// Eight undrifted columns and three drifted ones, `n` rows per side.
fn report(n: usize, seed: u64) -> DriftReport {
    let mut reference = Generator::new(seed);
    let mut current = Generator::new(seed + 1);
    let mut inputs = Vec::new();
    let mut numeric = |name: &str, reference: Vec<f64>, current: Vec<f64>| {
        inputs.push(FeatureInput {
            name: name.into(),
            reference: Some(NumericSample::from_values(reference).into()),
            current: Some(NumericSample::from_values(current).into()),
        });
    };
    for index in 0..5 {
        numeric(
            &format!("quiet_normal_{index}"),
            reference.normal(n, 10.0 * index as f64, 1.0 + index as f64),
            current.normal(n, 10.0 * index as f64, 1.0 + index as f64),
        );
    }
    numeric(
        "quiet_exponential",
        reference.exponential(n, 3.0),
        current.exponential(n, 3.0),
    );
    // Half a standard deviation: a real shift.
    numeric(
        "shifted_mean",
        reference.normal(n, 0.0, 1.0),
        current.normal(n, 0.5, 1.0),
    );
    numeric(
        "wider",
        reference.normal(n, 0.0, 1.0),
        current.normal(n, 0.0, 2.0),
    );
    let mut categorical =
        |name: &str, reference: Vec<Option<String>>, current: Vec<Option<String>>| {
            inputs.push(FeatureInput {
                name: name.into(),
                reference: Some(CategoricalSample::from_values(reference).into()),
                current: Some(CategoricalSample::from_values(current).into()),
            });
        };
    categorical(
        "quiet_category",
        reference.categories(n, &WEIGHTS),
        current.categories(n, &WEIGHTS),
    );
    categorical(
        "quiet_flag",
        reference.categories(n, &[0.7, 0.3]),
        current.categories(n, &[0.7, 0.3]),
    );
    categorical(
        "shifted_category",
        reference.categories(n, &WEIGHTS),
        current.categories(n, &SHIFTED_WEIGHTS),
    );
    drift_report(&inputs, &DriftConfig::default()).unwrap()
}

fn check_verdicts(report: &DriftReport) {
    let drifted: Vec<&str> = report.drifted().collect();
    assert_eq!(
        drifted,
        ["shifted_mean", "wider", "shifted_category"],
        "{report:#?}"
    );
    assert_eq!(report.n_judged, 11);
    assert!((report.drift_share - 3.0 / 11.0).abs() < 1e-12);
    let flag = report.feature("quiet_flag").unwrap();
    assert_eq!(flag.test, Some(TestKind::ZTest));
    let category = report.feature("quiet_category").unwrap();
    assert_eq!(category.test, Some(TestKind::ChiSquare));
    assert_eq!(category.effect_kind, Some(EffectKind::CramersV));
    for feature in &report.features {
        let adjusted = feature.adjusted_p_value.unwrap();
        assert!(adjusted >= feature.p_value.unwrap());
        assert!(feature.histogram.is_some());
    }
}

#[test]
fn thousand_rows_flag_only_the_injected_drift() {
    let report = report(1_000, 11);
    check_verdicts(&report);
    let shifted = report.feature("shifted_mean").unwrap();
    assert_eq!(shifted.effect_kind, Some(EffectKind::WassersteinNormalized));
    assert!(shifted.effect_size.unwrap() > 0.3);
}

#[test]
fn a_million_rows_flag_only_the_injected_drift() {
    let report = report(1_000_000, 21);
    check_verdicts(&report);
    // At this size even the undrifted columns' effects are tiny and measured precisely.
    for feature in report
        .features
        .iter()
        .filter(|f| f.name.starts_with("quiet"))
    {
        assert!(feature.effect_size.unwrap() < 0.01, "{feature:#?}");
    }
}

#[test]
fn a_huge_window_is_not_flagged_for_being_huge() {
    let n = 1_000_000;
    let mut reference = Generator::new(31);
    let mut current = Generator::new(32);
    // A shift of 0.01 standard deviations: invisible in practice, but at a million rows
    // a KS test calls it significant.
    let input = FeatureInput {
        name: "tiny_shift".into(),
        reference: Some(NumericSample::from_values(reference.normal(n, 0.0, 1.0)).into()),
        current: Some(NumericSample::from_values(current.normal(n, 0.01, 1.0)).into()),
    };
    let report = drift_report(std::slice::from_ref(&input), &DriftConfig::default()).unwrap();
    let feature = &report.features[0];
    assert!(feature.p_value.unwrap() < 1e-6, "{feature:#?}");
    assert!(feature.effect_size.unwrap() < 0.02);
    assert_eq!(feature.verdict, Verdict::NotDrifted);
    // Without the effect floor — p-values alone, as tools that flag everything do — it
    // would be called drifted.
    let mut config = DriftConfig::default();
    config.effect_floors.wasserstein_normalized = 0.0;
    let report = drift_report(std::slice::from_ref(&input), &config).unwrap();
    assert_eq!(report.features[0].verdict, Verdict::Drifted);
}

#[test]
fn corrections_and_overrides_change_the_decision() {
    // Twenty quiet features, and one whose evenly spaced values move by a fifth of their
    // range: KS D = 0.2 on 100 rows each, exact p ≈ 0.04 — significant alone, not once
    // twenty-one tests are corrected for.
    let mut reference = Generator::new(41);
    let mut current = Generator::new(42);
    let mut inputs: Vec<FeatureInput> = (0..20)
        .map(|index| FeatureInput {
            name: format!("x{index}"),
            reference: Some(NumericSample::from_values(reference.normal(60, 0.0, 1.0)).into()),
            current: Some(NumericSample::from_values(current.normal(60, 0.0, 1.0)).into()),
        })
        .collect();
    let grid: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
    inputs.push(FeatureInput {
        name: "borderline".into(),
        reference: Some(NumericSample::from_slice(&grid).into()),
        current: Some(NumericSample::from_values(grid.iter().map(|x| x + 0.2).collect()).into()),
    });
    let uncorrected = drift_report(
        &inputs,
        &DriftConfig {
            correction: Correction::None,
            ..DriftConfig::default()
        },
    )
    .unwrap();
    let bonferroni = drift_report(
        &inputs,
        &DriftConfig {
            correction: Correction::Bonferroni,
            ..DriftConfig::default()
        },
    )
    .unwrap();
    let borderline = |report: &DriftReport| report.feature("borderline").unwrap().clone();
    let (alone, corrected) = (borderline(&uncorrected), borderline(&bonferroni));
    assert!(
        alone.p_value.unwrap() < 0.05 && alone.p_value.unwrap() * 21.0 > 0.05,
        "{alone:#?}"
    );
    assert_eq!(alone.verdict, Verdict::Drifted);
    assert_eq!(corrected.verdict, Verdict::NotDrifted);
    assert_eq!(
        corrected.adjusted_p_value,
        Some((alone.p_value.unwrap() * 21.0).min(1.0))
    );

    // A per-feature threshold above the effect silences it; a distance test judges on
    // the distance alone.
    let mut config = DriftConfig {
        correction: Correction::None,
        ..DriftConfig::default()
    };
    config.features.insert(
        "borderline".into(),
        bascule_monitor::FeatureOverride {
            test: None,
            threshold: Some(alone.effect_size.unwrap() + 0.01),
        },
    );
    let report = drift_report(&inputs, &config).unwrap();
    assert_eq!(borderline(&report).verdict, Verdict::NotDrifted);
    config.features.insert(
        "borderline".into(),
        bascule_monitor::FeatureOverride {
            test: Some(TestKind::Psi),
            threshold: Some(0.01),
        },
    );
    let report = drift_report(&inputs, &config).unwrap();
    let psi = borderline(&report);
    assert_eq!((psi.test, psi.p_value), (Some(TestKind::Psi), None));
    assert_eq!(psi.effect_kind, Some(EffectKind::Psi));
    assert_eq!(psi.verdict, Verdict::Drifted);
}
