//! A window's drift: its features and its predictions against the version's reference
//! profile, by `bascule-monitor` (a test per feature, effect sizes, corrected p-values,
//! sound verdicts).

use bascule_core::LoggedPrediction;
use bascule_monitor::{
    CategoricalSample, DriftConfig, DriftReport, FeatureInput, NumericSample, Sample, drift_report,
};

use super::window::{self, Values};
use crate::gate::ReferenceProfile;
use crate::gate::metrics::Predictions;
use crate::gate::policy::Task;
use crate::gate::profile::FeatureProfile;

/// Input drift (the share of drifted features is what the `drift_share` rule judges) and
/// prediction drift, reported apart as Evidently does.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowDrift {
    pub features: DriftReport,
    /// `None` when the window holds no successful prediction.
    pub predictions: Option<DriftReport>,
}

impl WindowDrift {
    /// The share of judged features that drifted; `None` when none could be judged.
    pub fn drift_share(&self) -> Option<f64> {
        (self.features.n_judged > 0).then_some(self.features.drift_share)
    }

    pub fn drifted_features(&self) -> Vec<String> {
        self.features.drifted().map(str::to_owned).collect()
    }

    /// `dew point (ks: wasserstein_normalized 0.728 ≥ 0.1, adjusted p = 3.09e-60)`.
    pub fn describe_feature(&self, name: &str) -> String {
        let Some(feature) = self.features.feature(name) else {
            return name.to_owned();
        };
        let mut text = name.to_owned();
        if let (Some(test), Some(kind), Some(effect), Some(threshold)) = (
            feature.test,
            feature.effect_kind,
            feature.effect_size,
            feature.threshold,
        ) {
            text.push_str(&format!(
                " ({}: {} {effect:.3} ≥ {threshold}",
                test.as_str(),
                kind.as_str()
            ));
            if let Some(p) = feature.adjusted_p_value {
                text.push_str(&format!(", adjusted p = {p:.2e}"));
            }
            text.push(')');
        }
        text
    }
}

fn reference_sample(profile: &FeatureProfile) -> (String, Sample<'_>) {
    match profile {
        FeatureProfile::Numeric {
            name,
            missing,
            sample,
            ..
        } => (
            name.clone(),
            NumericSample::from_sorted(sample, *missing as u64).into(),
        ),
        FeatureProfile::Categorical {
            name,
            missing,
            counts,
            ..
        } => (
            name.clone(),
            CategoricalSample::from_counts(counts.clone(), *missing as u64).into(),
        ),
    }
}

fn current_sample(values: Values) -> Sample<'static> {
    match values {
        Values::Numeric(numbers) => NumericSample::from_values(numbers).into(),
        Values::Text(text) => CategoricalSample::from_values(text).into(),
    }
}

fn report(
    reference: &[FeatureProfile],
    current: Vec<(String, Values)>,
    config: &DriftConfig,
) -> Result<DriftReport, String> {
    let mut current: std::collections::BTreeMap<String, Values> = current.into_iter().collect();
    let inputs: Vec<FeatureInput<'_>> = reference
        .iter()
        .map(|profile| {
            let (name, reference) = reference_sample(profile);
            let current = current.remove(&name).map(current_sample);
            FeatureInput {
                name,
                reference: Some(reference),
                current,
            }
        })
        .collect();
    drift_report(&inputs, config).map_err(|error| error.to_string())
}

/// The window's predictions as the profile's prediction features.
fn prediction_values(predictions: &Predictions) -> Vec<(String, Values)> {
    match predictions {
        Predictions::Classes {
            predicted,
            probabilities,
            n_classes,
        } => {
            let classes = predicted.iter().map(|c| Some(c.to_string())).collect();
            let score = if *n_classes == 2 {
                (
                    "probability_1",
                    probabilities.chunks(2).map(|p| p[1]).collect(),
                )
            } else {
                (
                    "max_probability",
                    probabilities
                        .chunks(*n_classes)
                        .map(|p| p.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                        .collect(),
                )
            };
            vec![
                ("predicted_class".to_owned(), Values::Text(classes)),
                (score.0.to_owned(), Values::Numeric(score.1)),
            ]
        }
        Predictions::Values(values) => {
            vec![("prediction".to_owned(), Values::Numeric(values.clone()))]
        }
    }
}

/// Drift of the window's features and predictions against the reference profile.
pub fn compute(
    profile: &ReferenceProfile,
    window: &[LoggedPrediction],
    task: Task,
    config: &DriftConfig,
) -> Result<WindowDrift, String> {
    let features = report(&profile.features, window::features(profile, window), config)?;
    let answered: Vec<&LoggedPrediction> = window.iter().collect();
    let predictions = match window::window_predictions(&answered, task) {
        Ok(Some(predicted)) => Some(report(
            &profile.predictions,
            prediction_values(&predicted),
            config,
        )?),
        Ok(None) => None,
        Err(error) => return Err(format!("cannot read the model's outputs: {error}")),
    };
    Ok(WindowDrift {
        features,
        predictions,
    })
}
