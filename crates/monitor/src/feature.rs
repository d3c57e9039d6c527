//! One feature: which test runs, its statistic, p-value and effect size, and the
//! verdict. [`measure_feature`] never fails and never panics on data: whatever is odd
//! about a column becomes a verdict of [`Verdict::InsufficientData`] with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bascule_stats::StatsError;
use bascule_stats::drift::{self, Binning, KsMethod, LogBase};
use serde::{Deserialize, Serialize};

use crate::config::{DriftConfig, EffectKind, TestKind};
use crate::histogram::Histogram;
use crate::sample::{CategoricalSample, ColumnKind, NumericSample, Sample, SideSummary};

/// The most unseen categories a feature lists by name (all are counted).
pub const MAX_LISTED_UNSEEN: usize = 20;

/// Categories with an expected count below this are pooled before a chi-square test
/// (Cochran's rule: the chi-square approximation needs expected counts of about 5).
pub const MIN_EXPECTED_COUNT: f64 = 5.0;

/// Which side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Reference,
    Current,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Reference => "reference",
            Side::Current => "current",
        })
    }
}

/// Why a feature could not be judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum InsufficientReason {
    /// The column is not in one of the two data sets.
    Absent { side: Side },
    /// One side has fewer values (missing and non-finite excluded) than the minimum.
    TooFewValues { side: Side, got: u64, needed: u64 },
    /// The column is numeric on one side and categorical on the other.
    KindMismatch {
        reference: ColumnKind,
        current: ColumnKind,
    },
    /// The configured test does not apply to this column.
    TestNotApplicable { test: TestKind, detail: String },
    /// The statistic is undefined on these values.
    StatisticUndefined { detail: String },
}

impl fmt::Display for InsufficientReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsufficientReason::Absent { side } => write!(f, "column absent from the {side} data"),
            InsufficientReason::TooFewValues { side, got, needed } => {
                write!(f, "{side} has {got} values, {needed} needed")
            }
            InsufficientReason::KindMismatch { reference, current } => write!(
                f,
                "{} in the reference but {} in the current data",
                kind_name(*reference),
                kind_name(*current)
            ),
            InsufficientReason::TestNotApplicable { test, detail } => {
                write!(f, "{} does not apply: {detail}", test.as_str())
            }
            InsufficientReason::StatisticUndefined { detail } => f.write_str(detail),
        }
    }
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "numeric",
        ColumnKind::Categorical => "categorical",
    }
}

/// The verdict on one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// Adjusted p-value below alpha and effect size at or above its floor (a distance
    /// test: distance at or above its threshold), with enough values on both sides.
    Drifted,
    /// Judged, and not drifted.
    NotDrifted,
    /// Not judged; the reason says why.
    InsufficientData { reason: InsufficientReason },
}

impl Verdict {
    /// `drifted`, `not_drifted` or `insufficient_data`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Drifted => "drifted",
            Verdict::NotDrifted => "not_drifted",
            Verdict::InsufficientData { .. } => "insufficient_data",
        }
    }

    pub fn is_judged(&self) -> bool {
        !matches!(self, Verdict::InsufficientData { .. })
    }
}

/// Everything a report says about one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub name: String,
    /// The column's kind (the reference's when the sides disagree; `None` when absent
    /// from both).
    pub kind: Option<ColumnKind>,
    /// The test that ran (or would have run).
    pub test: Option<TestKind>,
    /// The test's statistic: KS D, chi-square, z, or the distance of a distance test.
    pub statistic: Option<f64>,
    /// The test's p-value (`None` for a distance test).
    pub p_value: Option<f64>,
    /// The p-value adjusted across the report's features (see
    /// [`crate::Correction`]); the verdict uses it.
    pub adjusted_p_value: Option<f64>,
    pub effect_kind: Option<EffectKind>,
    pub effect_size: Option<f64>,
    /// The effect-size floor (or distance threshold) applied.
    pub threshold: Option<f64>,
    /// Value counts of each side (`None` when the column is absent there).
    pub reference: Option<SideSummary>,
    pub current: Option<SideSummary>,
    /// Categories of the current data never seen in the reference (at most
    /// [`MAX_LISTED_UNSEEN`], most frequent first) and how many there are in all.
    pub unseen_categories: Vec<String>,
    pub n_unseen_categories: usize,
    pub histogram: Option<Histogram>,
    pub verdict: Verdict,
}

impl FeatureDrift {
    fn new(name: &str, reference: Option<&Sample<'_>>, current: Option<&Sample<'_>>) -> Self {
        FeatureDrift {
            name: name.to_owned(),
            kind: reference.or(current).map(Sample::kind),
            test: None,
            statistic: None,
            p_value: None,
            adjusted_p_value: None,
            effect_kind: None,
            effect_size: None,
            threshold: None,
            reference: reference.map(Sample::summary),
            current: current.map(Sample::summary),
            unseen_categories: Vec::new(),
            n_unseen_categories: 0,
            histogram: None,
            verdict: Verdict::NotDrifted,
        }
    }

    fn insufficient(mut self, reason: InsufficientReason) -> Self {
        self.verdict = Verdict::InsufficientData { reason };
        self
    }

    /// Sets the verdict of a measured feature from its (adjusted) p-value and effect.
    pub(crate) fn decide(&mut self, alpha: f64) {
        if !self.verdict.is_judged() {
            return;
        }
        let effect_reached = match (self.effect_size, self.threshold) {
            (Some(effect), Some(threshold)) => effect >= threshold,
            _ => false,
        };
        let significant = match self.test {
            Some(test) if test.has_p_value() => self
                .adjusted_p_value
                .or(self.p_value)
                .is_some_and(|p| p < alpha),
            Some(_) => true,
            None => false,
        };
        self.verdict = if significant && effect_reached {
            Verdict::Drifted
        } else {
            Verdict::NotDrifted
        };
    }
}

/// Compares one feature's reference and current samples (`None`: the column is absent
/// from that side). The verdict uses the unadjusted p-value; [`crate::finish_report`]
/// adjusts the p-values across features and decides again.
pub fn measure_feature(
    name: &str,
    reference: Option<&Sample<'_>>,
    current: Option<&Sample<'_>>,
    config: &DriftConfig,
) -> FeatureDrift {
    let feature = FeatureDrift::new(name, reference, current);
    let (reference, current) = match (reference, current) {
        (Some(reference), Some(current)) => (reference, current),
        (None, _) => {
            return feature.insufficient(InsufficientReason::Absent {
                side: Side::Reference,
            });
        }
        (_, None) => {
            return feature.insufficient(InsufficientReason::Absent {
                side: Side::Current,
            });
        }
    };
    let overrides = config.features.get(name).copied().unwrap_or_default();
    let mut feature = match (reference, current) {
        (Sample::Numeric(reference), Sample::Numeric(current)) => {
            let test = overrides.test.unwrap_or(config.numeric_test);
            if matches!(test, TestKind::ChiSquare | TestKind::ZTest) {
                let (reference, current) = (as_categories(reference), as_categories(current));
                categorical(feature, &reference, &current, test, config)
            } else {
                numeric(feature, reference, current, test, config)
            }
        }
        (Sample::Categorical(reference), Sample::Categorical(current)) => {
            let test = overrides
                .test
                .or(config.categorical_test)
                .unwrap_or_else(|| default_categorical_test(reference, current));
            categorical(feature, reference, current, test, config)
        }
        (reference, current) => {
            return feature.insufficient(InsufficientReason::KindMismatch {
                reference: reference.kind(),
                current: current.kind(),
            });
        }
    };
    feature.threshold = feature.effect_kind.map(|kind| {
        overrides
            .threshold
            .unwrap_or(config.effect_floors.floor(kind))
    });
    feature.decide(config.alpha);
    feature
}

/// z-test for two categories (or one), chi-square for more.
fn default_categorical_test(
    reference: &CategoricalSample,
    current: &CategoricalSample,
) -> TestKind {
    let union: BTreeSet<&String> = reference
        .counts()
        .keys()
        .chain(current.counts().keys())
        .collect();
    if union.len() <= 2 {
        TestKind::ZTest
    } else {
        TestKind::ChiSquare
    }
}

/// Each distinct finite number becomes a category (for a categorical test of a numeric
/// column, such as a 0/1 flag).
fn as_categories(sample: &NumericSample<'_>) -> CategoricalSample {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in sample.values().chunk_by(|a, b| a == b) {
        *counts.entry(chunk[0].to_string()).or_default() += chunk.len() as u64;
    }
    CategoricalSample::from_counts(counts, sample.missing() + sample.non_finite())
}

/// Refuses sides with fewer values than the configured minimum.
fn check_sizes(
    reference: u64,
    current: u64,
    config: &DriftConfig,
) -> Result<(), InsufficientReason> {
    for (side, got) in [(Side::Reference, reference), (Side::Current, current)] {
        if got < config.min_sample_size {
            return Err(InsufficientReason::TooFewValues {
                side,
                got,
                needed: config.min_sample_size,
            });
        }
    }
    Ok(())
}

fn undefined(error: StatsError) -> InsufficientReason {
    InsufficientReason::StatisticUndefined {
        detail: error.to_string(),
    }
}

/// Statistic, p-value and effect of one test.
struct Measured {
    statistic: f64,
    p_value: Option<f64>,
    effect_kind: EffectKind,
    effect_size: f64,
}

impl Measured {
    /// A distance test: the distance is the statistic and the effect, with no p-value.
    fn distance(effect_kind: EffectKind, distance: f64) -> Self {
        Measured {
            statistic: distance,
            p_value: None,
            effect_kind,
            effect_size: distance,
        }
    }
}

fn record(
    mut feature: FeatureDrift,
    outcome: Result<Measured, InsufficientReason>,
) -> FeatureDrift {
    match outcome {
        Ok(measured) => {
            feature.statistic = Some(measured.statistic);
            feature.p_value = measured.p_value;
            feature.effect_kind = Some(measured.effect_kind);
            feature.effect_size = Some(measured.effect_size);
            feature
        }
        Err(reason) => feature.insufficient(reason),
    }
}

fn numeric(
    mut feature: FeatureDrift,
    reference: &NumericSample<'_>,
    current: &NumericSample<'_>,
    test: TestKind,
    config: &DriftConfig,
) -> FeatureDrift {
    let (reference, current) = (reference.values(), current.values());
    feature.test = Some(test);
    feature.histogram = Histogram::numeric(reference, current, config.histogram_bins);
    let outcome = check_sizes(reference.len() as u64, current.len() as u64, config)
        .and_then(|()| numeric_test(reference, current, test, config));
    record(feature, outcome)
}

fn numeric_test(
    reference: &[f64],
    current: &[f64],
    test: TestKind,
    config: &DriftConfig,
) -> Result<Measured, InsufficientReason> {
    match test {
        TestKind::Ks | TestKind::Wasserstein => {
            let ks =
                drift::ks_2samp_sorted(reference, current, KsMethod::Auto).map_err(undefined)?;
            let (effect_kind, effect_size) =
                match drift::normalized_wasserstein_distance_sorted(reference, current) {
                    Ok(distance) => (EffectKind::WassersteinNormalized, distance),
                    // A constant reference has no spread to scale by: the KS gap instead.
                    Err(_) => (EffectKind::KsStatistic, ks.statistic),
                };
            Ok(if test == TestKind::Ks {
                Measured {
                    statistic: ks.statistic,
                    p_value: Some(ks.pvalue),
                    effect_kind,
                    effect_size,
                }
            } else {
                Measured::distance(effect_kind, effect_size)
            })
        }
        TestKind::Psi | TestKind::JensenShannon => {
            let binning = Binning::quantiles(reference, config.distance_bins).map_err(undefined)?;
            let (effect_kind, distance) = if test == TestKind::Psi {
                let psi = drift::population_stability_index(reference, current, &binning);
                (EffectKind::Psi, psi)
            } else {
                let js =
                    drift::jensen_shannon_binned(reference, current, &binning, LogBase::Natural);
                (EffectKind::JensenShannon, js)
            };
            distance
                .map(|distance| Measured::distance(effect_kind, distance))
                .map_err(undefined)
        }
        TestKind::ChiSquare | TestKind::ZTest => Err(InsufficientReason::TestNotApplicable {
            test,
            detail: "internal: categorical tests convert numeric columns first".into(),
        }),
    }
}

fn categorical(
    mut feature: FeatureDrift,
    reference: &CategoricalSample,
    current: &CategoricalSample,
    test: TestKind,
    config: &DriftConfig,
) -> FeatureDrift {
    feature.test = Some(test);
    let (reference_counts, current_counts) = (reference.counts(), current.counts());
    feature.histogram = Some(Histogram::categorical(
        reference_counts,
        current_counts,
        config.histogram_bins,
    ));
    let mut unseen: Vec<(&String, u64)> = current_counts
        .iter()
        .filter(|(category, _)| !reference_counts.contains_key(*category))
        .map(|(category, &count)| (category, count))
        .collect();
    unseen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    feature.n_unseen_categories = unseen.len();
    feature.unseen_categories = unseen
        .iter()
        .take(MAX_LISTED_UNSEEN)
        .map(|(category, _)| (*category).clone())
        .collect();
    let outcome = check_sizes(reference.total(), current.total(), config)
        .and_then(|()| categorical_test(reference_counts, current_counts, test));
    record(feature, outcome)
}

fn categorical_test(
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
    test: TestKind,
) -> Result<Measured, InsufficientReason> {
    let categories: Vec<&String> = reference
        .keys()
        .chain(current.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let count = |side: &BTreeMap<String, u64>, category: &String| -> f64 {
        side.get(category).copied().unwrap_or(0) as f64
    };
    let reference_row: Vec<f64> = categories.iter().map(|c| count(reference, c)).collect();
    let current_row: Vec<f64> = categories.iter().map(|c| count(current, c)).collect();
    match test {
        TestKind::ZTest => {
            if categories.len() > 2 {
                return Err(InsufficientReason::TestNotApplicable {
                    test,
                    detail: format!("{} categories, the z-test compares two", categories.len()),
                });
            }
            let (reference_total, current_total) = (
                reference_row.iter().sum::<f64>(),
                current_row.iter().sum::<f64>(),
            );
            let z = drift::two_proportion_ztest(
                reference_row[0] as u64,
                reference_total as u64,
                current_row[0] as u64,
                current_total as u64,
            )
            .map_err(undefined)?;
            let association =
                drift::chi2_contingency(&[reference_row, current_row], false).map_err(undefined)?;
            Ok(Measured {
                statistic: z.statistic,
                p_value: Some(z.pvalue),
                effect_kind: EffectKind::CramersV,
                effect_size: association.cramers_v,
            })
        }
        TestKind::ChiSquare => {
            let table = pool_rare_categories(&reference_row, &current_row);
            let chi_square = drift::chi2_contingency(&table, true).map_err(undefined)?;
            Ok(Measured {
                statistic: chi_square.statistic,
                p_value: Some(chi_square.pvalue),
                effect_kind: EffectKind::CramersV,
                effect_size: chi_square.cramers_v,
            })
        }
        TestKind::Psi | TestKind::JensenShannon => {
            let (effect_kind, distance) = if test == TestKind::Psi {
                let total = |row: &[f64]| row.iter().sum::<f64>();
                let proportions = |row: &[f64]| -> Vec<f64> {
                    let sum = total(row);
                    row.iter().map(|count| count / sum).collect()
                };
                let psi = drift::psi_of_proportions(
                    &proportions(&reference_row),
                    &proportions(&current_row),
                );
                (EffectKind::Psi, psi)
            } else {
                let js =
                    drift::jensen_shannon_distance(&reference_row, &current_row, LogBase::Natural);
                (EffectKind::JensenShannon, js)
            };
            distance
                .map(|distance| Measured::distance(effect_kind, distance))
                .map_err(undefined)
        }
        TestKind::Ks | TestKind::Wasserstein => Err(InsufficientReason::TestNotApplicable {
            test,
            detail: "a numeric test cannot compare categories".into(),
        }),
    }
}

/// The `2 × k` table with every category whose smaller expected count is below
/// [`MIN_EXPECTED_COUNT`] merged into one pooled column (kept last).
fn pool_rare_categories(reference: &[f64], current: &[f64]) -> Vec<Vec<f64>> {
    let (reference_total, current_total) =
        (reference.iter().sum::<f64>(), current.iter().sum::<f64>());
    let total = reference_total + current_total;
    let (mut kept_reference, mut kept_current) = (Vec::new(), Vec::new());
    let (mut pooled_reference, mut pooled_current, mut any_pooled) = (0.0, 0.0, false);
    for (&in_reference, &in_current) in reference.iter().zip(current) {
        let column_total = in_reference + in_current;
        let smaller_expected = reference_total.min(current_total) * column_total / total;
        if smaller_expected < MIN_EXPECTED_COUNT {
            pooled_reference += in_reference;
            pooled_current += in_current;
            any_pooled = true;
        } else {
            kept_reference.push(in_reference);
            kept_current.push(in_current);
        }
    }
    if any_pooled {
        kept_reference.push(pooled_reference);
        kept_current.push(pooled_current);
    }
    vec![kept_reference, kept_current]
}
