//! Every odd column has a defined result, and one odd column never costs the report.

use std::collections::BTreeMap;

use bascule_monitor::{
    CategoricalSample, ColumnKind, DriftConfig, EffectKind, FeatureInput, InsufficientReason,
    NumericSample, Sample, Side, SideSummary, TestKind, Verdict, drift_report, measure_feature,
};

use crate::Generator;

fn numeric(values: Vec<f64>) -> Option<Sample<'static>> {
    Some(NumericSample::from_values(values).into())
}

fn categorical(values: &[Option<&str>]) -> Option<Sample<'static>> {
    Some(CategoricalSample::from_values(values.iter().copied()).into())
}

fn input(
    name: &str,
    reference: Option<Sample<'static>>,
    current: Option<Sample<'static>>,
) -> FeatureInput<'static> {
    FeatureInput {
        name: name.into(),
        reference,
        current,
    }
}

fn reason(verdict: &Verdict) -> &InsufficientReason {
    match verdict {
        Verdict::InsufficientData { reason } => reason,
        other => panic!("expected insufficient data, got {other:?}"),
    }
}

#[test]
fn odd_columns_get_a_verdict_and_the_rest_of_the_report_survives() {
    let mut generator = Generator::new(5);
    let normal = generator.normal(200, 0.0, 1.0);
    let shifted: Vec<f64> = generator.normal(200, 3.0, 1.0);
    let colours: Vec<Option<&str>> = (0..200)
        .map(|i| Some(["red", "green", "blue"][i % 3]))
        .collect();
    let inputs = vec![
        input("empty_current", numeric(normal.clone()), numeric(vec![])),
        input(
            "all_missing",
            numeric(normal.clone()),
            numeric(vec![f64::NAN; 100]),
        ),
        input("single_row", numeric(normal.clone()), numeric(vec![0.5])),
        input("only_in_reference", numeric(normal.clone()), None),
        input("only_in_current", None, numeric(normal.clone())),
        input(
            "kind_mismatch",
            numeric(normal.clone()),
            categorical(&colours),
        ),
        input("drifted", numeric(normal.clone()), numeric(shifted.clone())),
        input("steady", numeric(normal.clone()), numeric(normal.clone())),
    ];
    let report = drift_report(&inputs, &DriftConfig::default()).unwrap();
    assert_eq!(report.features.len(), 8);
    let verdict_of = |name: &str| &report.feature(name).unwrap().verdict;

    assert_eq!(
        reason(verdict_of("empty_current")),
        &InsufficientReason::TooFewValues {
            side: Side::Current,
            got: 0,
            needed: 30
        }
    );
    assert_eq!(
        reason(verdict_of("all_missing")),
        &InsufficientReason::TooFewValues {
            side: Side::Current,
            got: 0,
            needed: 30
        }
    );
    assert_eq!(
        report.feature("all_missing").unwrap().current,
        Some(SideSummary {
            count: 0,
            missing: 100,
            non_finite: 0
        })
    );
    assert!(matches!(
        reason(verdict_of("single_row")),
        InsufficientReason::TooFewValues { got: 1, .. }
    ));
    assert_eq!(
        reason(verdict_of("only_in_reference")),
        &InsufficientReason::Absent {
            side: Side::Current
        }
    );
    assert_eq!(
        reason(verdict_of("only_in_current")),
        &InsufficientReason::Absent {
            side: Side::Reference
        }
    );
    assert_eq!(
        reason(verdict_of("kind_mismatch")),
        &InsufficientReason::KindMismatch {
            reference: ColumnKind::Numeric,
            current: ColumnKind::Categorical
        }
    );
    assert_eq!(verdict_of("drifted"), &Verdict::Drifted);
    assert_eq!(verdict_of("steady"), &Verdict::NotDrifted);
    // Only the two judged features count towards the share, and form the family.
    assert_eq!((report.n_judged, report.n_drifted), (2, 1));
    assert_eq!(report.drift_share, 0.5);
    // The histogram is kept even when a side is too small to judge.
    assert!(report.feature("single_row").unwrap().histogram.is_some());
    // A report with odd values serialises (no NaN reaches the JSON).
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("NaN") && !json.contains("null,\"p_value\":NaN"));
    let back: bascule_monitor::DriftReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn missing_and_infinite_values_are_counted_and_left_out() {
    let mut generator = Generator::new(6);
    let reference = generator.normal(300, 0.0, 1.0);
    let mut current = reference.clone();
    current.extend([f64::NAN, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
    let feature = measure_feature(
        "x",
        numeric(reference).as_ref(),
        numeric(current).as_ref(),
        &DriftConfig::default(),
    );
    assert_eq!(
        feature.current,
        Some(SideSummary {
            count: 300,
            missing: 2,
            non_finite: 2
        })
    );
    // The finite values are the reference's own: no drift, statistic exactly 0.
    assert_eq!(feature.statistic, Some(0.0));
    assert_eq!(feature.verdict, Verdict::NotDrifted);
}

#[test]
fn constant_columns_are_tested_with_the_ks_gap_as_effect() {
    let config = DriftConfig::default();
    let same = measure_feature(
        "constant",
        numeric(vec![4.0; 50]).as_ref(),
        numeric(vec![4.0; 80]).as_ref(),
        &config,
    );
    assert_eq!(same.effect_kind, Some(EffectKind::KsStatistic));
    assert_eq!((same.statistic, same.effect_size), (Some(0.0), Some(0.0)));
    assert_eq!(same.verdict, Verdict::NotDrifted);

    let mut moved = vec![4.0; 40];
    moved.extend(vec![5.0; 40]);
    let changed = measure_feature(
        "constant",
        numeric(vec![4.0; 50]).as_ref(),
        numeric(moved).as_ref(),
        &config,
    );
    assert_eq!(changed.effect_kind, Some(EffectKind::KsStatistic));
    assert_eq!(changed.effect_size, Some(0.5));
    assert_eq!(changed.verdict, Verdict::Drifted);

    // A constant current against a spread reference is ordinary drift.
    let mut generator = Generator::new(7);
    let collapsed = measure_feature(
        "collapsed",
        numeric(generator.normal(100, 0.0, 1.0)).as_ref(),
        numeric(vec![0.0; 100]).as_ref(),
        &config,
    );
    assert_eq!(
        collapsed.effect_kind,
        Some(EffectKind::WassersteinNormalized)
    );
    assert_eq!(collapsed.verdict, Verdict::Drifted);
}

#[test]
fn unseen_categories_are_tested_and_listed() {
    let reference: Vec<Option<&str>> = (0..300).map(|i| Some(["a", "b", "c"][i % 3])).collect();
    let mut current: Vec<Option<&str>> = (0..240).map(|i| Some(["a", "b", "c"][i % 3])).collect();
    current.extend(std::iter::repeat_n(Some("new"), 60));
    current.extend(std::iter::repeat_n(Some("rare"), 2));
    current.push(None);
    let feature = measure_feature(
        "colour",
        categorical(&reference).as_ref(),
        categorical(&current).as_ref(),
        &DriftConfig::default(),
    );
    assert_eq!(feature.test, Some(TestKind::ChiSquare));
    assert_eq!(feature.unseen_categories, ["new", "rare"]);
    assert_eq!(feature.n_unseen_categories, 2);
    assert_eq!(feature.current.unwrap().missing, 1);
    assert_eq!(feature.verdict, Verdict::Drifted);

    // A handful of a new category among hundreds is pooled as rare and does not alarm.
    let mut current: Vec<Option<&str>> = (0..300).map(|i| Some(["a", "b", "c"][i % 3])).collect();
    current.push(Some("typo"));
    let feature = measure_feature(
        "colour",
        categorical(&reference).as_ref(),
        categorical(&current).as_ref(),
        &DriftConfig::default(),
    );
    assert_eq!(feature.n_unseen_categories, 1);
    assert_eq!(feature.verdict, Verdict::NotDrifted);
}

#[test]
fn the_gate_profile_shape_feeds_the_report() {
    // The gate keeps a sorted numeric sample and per-category counts.
    let mut generator = Generator::new(8);
    let mut sample = generator.normal(1_000, 0.0, 1.0);
    sample.sort_by(f64::total_cmp);
    let reference = Sample::from(NumericSample::from_sorted(&sample, 12));
    let current = Sample::from(NumericSample::from_options(
        generator
            .normal(500, 1.0, 1.0)
            .into_iter()
            .map(Some)
            .chain([None]),
    ));
    let feature = measure_feature(
        "x",
        Some(&reference),
        Some(&current),
        &DriftConfig::default(),
    );
    assert_eq!(feature.reference.unwrap().missing, 12);
    assert_eq!(feature.current.unwrap().missing, 1);
    assert_eq!(feature.verdict, Verdict::Drifted);

    let counts = BTreeMap::from([("yes".to_owned(), 700), ("no".to_owned(), 300)]);
    let reference = Sample::from(CategoricalSample::from_counts(counts, 0));
    let current = Sample::from(CategoricalSample::from_values(
        (0..400).map(|i| Some(if i % 10 < 7 { "yes" } else { "no" })),
    ));
    let feature = measure_feature(
        "flag",
        Some(&reference),
        Some(&current),
        &DriftConfig::default(),
    );
    assert_eq!(feature.test, Some(TestKind::ZTest));
    assert_eq!(feature.verdict, Verdict::NotDrifted);
}

#[test]
fn tests_that_do_not_apply_say_so() {
    let mut config = DriftConfig::default();
    config.features.insert(
        "colour".into(),
        bascule_monitor::FeatureOverride {
            test: Some(TestKind::Ks),
            threshold: None,
        },
    );
    config.features.insert(
        "flag".into(),
        bascule_monitor::FeatureOverride {
            test: Some(TestKind::ChiSquare),
            threshold: None,
        },
    );
    let colours: Vec<Option<&str>> = (0..90).map(|i| Some(["r", "g", "b"][i % 3])).collect();
    let feature = measure_feature(
        "colour",
        categorical(&colours).as_ref(),
        categorical(&colours).as_ref(),
        &config,
    );
    assert!(matches!(
        reason(&feature.verdict),
        InsufficientReason::TestNotApplicable {
            test: TestKind::Ks,
            ..
        }
    ));
    // A numeric 0/1 flag tested as categories.
    let flags: Vec<f64> = (0..100).map(|i| f64::from(i % 2)).collect();
    let ones = vec![1.0; 100];
    let feature = measure_feature(
        "flag",
        numeric(flags).as_ref(),
        numeric(ones).as_ref(),
        &config,
    );
    assert_eq!(feature.test, Some(TestKind::ChiSquare));
    assert_eq!(feature.verdict, Verdict::Drifted);
}
