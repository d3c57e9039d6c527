//! A whole drift report: every feature measured, p-values adjusted across them, and
//! the share of judged features that drifted.

use bascule_stats::drift::{self, Adjustment};
use serde::{Deserialize, Serialize};

use crate::MonitorError;
use crate::config::{Correction, DriftConfig};
use crate::feature::{FeatureDrift, Verdict, measure_feature};
use crate::sample::Sample;

/// One feature's two sides, as [`drift_report`] takes them (`None`: the column is
/// absent from that side).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureInput<'a> {
    pub name: String,
    pub reference: Option<Sample<'a>>,
    pub current: Option<Sample<'a>>,
}

/// The drift report of one current data set (or window) against its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// One entry per feature, in the order given.
    pub features: Vec<FeatureDrift>,
    /// Features judged (not `insufficient_data`).
    pub n_judged: usize,
    /// Features judged drifted.
    pub n_drifted: usize,
    /// `n_drifted / n_judged` (0 when nothing could be judged).
    pub drift_share: f64,
    /// The configuration the verdicts were made with.
    pub config: DriftConfig,
}

impl DriftReport {
    /// The feature called `name`.
    pub fn feature(&self, name: &str) -> Option<&FeatureDrift> {
        self.features.iter().find(|feature| feature.name == name)
    }

    /// The names of the drifted features, in report order.
    pub fn drifted(&self) -> impl Iterator<Item = &str> + '_ {
        self.features
            .iter()
            .filter(|feature| feature.verdict == Verdict::Drifted)
            .map(|feature| feature.name.as_str())
    }
}

/// Measures every feature, then adjusts and decides as [`finish_report`] does.
pub fn drift_report(
    features: &[FeatureInput<'_>],
    config: &DriftConfig,
) -> Result<DriftReport, MonitorError> {
    config.validate()?;
    let measured = features
        .iter()
        .map(|input| {
            measure_feature(
                &input.name,
                input.reference.as_ref(),
                input.current.as_ref(),
                config,
            )
        })
        .collect();
    finish_report(measured, config)
}

/// Assembles features measured with [`measure_feature`] (perhaps in parallel, perhaps
/// in batches of columns) into a report: the p-values of the judged features with a
/// p-value form one family, adjusted by `config.correction`; every verdict is then
/// decided on the adjusted p-value; the drift share is computed over judged features.
pub fn finish_report(
    mut features: Vec<FeatureDrift>,
    config: &DriftConfig,
) -> Result<DriftReport, MonitorError> {
    config.validate()?;
    let tested: Vec<usize> = features
        .iter()
        .enumerate()
        .filter(|(_, feature)| feature.verdict.is_judged() && feature.p_value.is_some())
        .map(|(index, _)| index)
        .collect();
    let pvalues: Vec<f64> = tested
        .iter()
        .filter_map(|&index| features[index].p_value)
        .collect();
    let adjustment = match config.correction {
        Correction::BenjaminiHochberg => Adjustment::BenjaminiHochberg,
        Correction::Bonferroni => Adjustment::Bonferroni,
        Correction::None => Adjustment::None,
    };
    // Empty when no feature has a p-value; every p-value of a measured feature is in [0, 1].
    let adjusted = drift::adjust_pvalues(&pvalues, adjustment).unwrap_or_default();
    for (&index, &p) in tested.iter().zip(&adjusted) {
        features[index].adjusted_p_value = Some(p);
    }
    for feature in &mut features {
        feature.decide(config.alpha);
    }
    let n_judged = features.iter().filter(|f| f.verdict.is_judged()).count();
    let n_drifted = features
        .iter()
        .filter(|f| f.verdict == Verdict::Drifted)
        .count();
    Ok(DriftReport {
        features,
        n_judged,
        n_drifted,
        drift_share: if n_judged == 0 {
            0.0
        } else {
            n_drifted as f64 / n_judged as f64
        },
        config: config.clone(),
    })
}
