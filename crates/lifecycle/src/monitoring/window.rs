//! One window of a serving version's traffic, read back out of the prediction log: its
//! features (from the logged input tensors, mapped as the gate mapped the validation
//! data), its predictions, its labels, latency and errors.

use std::collections::BTreeMap;

use bascule_core::{LoggedPrediction, Tensor, TensorData};

use crate::gate::ReferenceProfile;
use crate::gate::inference::{output_roles, predictions};
use crate::gate::metrics::{Evaluation, MetricName, Predictions};
use crate::gate::policy::Task;
use crate::gate::profile::FeatureProfile;
use crate::gate::report::MetricValue;

/// A feature's values in the window, one per row: numbers (NaN when missing) or text.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Numeric(Vec<f64>),
    Text(Vec<Option<String>>),
}

impl Values {
    fn extend_from(&mut self, tensor: &Tensor, column: usize, width: usize, n_rows: usize) {
        let at = |row: usize| row * width + column;
        match (self, &tensor.data) {
            (Values::Text(values), TensorData::Bytes(data)) => {
                values.extend((0..n_rows).map(|row| data.get(at(row)).cloned()));
            }
            (Values::Text(values), data) => {
                let numbers = data.to_f64().unwrap_or_default();
                values.extend(
                    (0..n_rows).map(|row| numbers.get(at(row)).map(|value| value.to_string())),
                );
            }
            (Values::Numeric(values), data) => {
                let numbers = data.to_f64().unwrap_or_default();
                values.extend(
                    (0..n_rows).map(|row| numbers.get(at(row)).copied().unwrap_or(f64::NAN)),
                );
            }
        }
    }
}

/// Where each profiled feature sits among the model's inputs: (input name, column, width).
fn feature_positions(profile: &ReferenceProfile) -> BTreeMap<String, (String, usize, usize)> {
    let mut positions = BTreeMap::new();
    for input in &profile.inputs {
        for (column, feature) in input.columns.iter().enumerate() {
            positions.entry(feature.clone()).or_insert((
                input.name.clone(),
                column,
                input.columns.len(),
            ));
        }
    }
    positions
}

/// The window's features, in the profile's order. A profile written before the input
/// mapping was recorded falls back to the gate's own rule: one 2-D input holds the
/// features in order, otherwise each input is the feature of its name.
pub fn features(profile: &ReferenceProfile, window: &[LoggedPrediction]) -> Vec<(String, Values)> {
    let positions = feature_positions(profile);
    let n_features = profile.features.len();
    profile
        .features
        .iter()
        .enumerate()
        .map(|(index, feature)| {
            let (name, mut values) = match feature {
                FeatureProfile::Numeric { name, .. } => (name, Values::Numeric(Vec::new())),
                FeatureProfile::Categorical { name, .. } => (name, Values::Text(Vec::new())),
            };
            for logged in window {
                let inputs = &logged.record.inputs;
                let n_rows = logged_rows(inputs);
                let place = match positions.get(name) {
                    Some((input, column, width)) => inputs
                        .iter()
                        .find(|t| &t.name == input)
                        .map(|t| (t, *column, *width)),
                    None if inputs.len() == 1 && inputs[0].shape.len() == 2 => {
                        Some((&inputs[0], index, n_features))
                    }
                    None => inputs.iter().find(|t| &t.name == name).map(|t| (t, 0, 1)),
                };
                match place {
                    Some((tensor, column, width)) => {
                        values.extend_from(tensor, column, width, n_rows);
                    }
                    // The request lacks the input (it cannot have been answered, but
                    // keep the rows aligned): missing values.
                    None => match &mut values {
                        Values::Numeric(v) => v.extend(std::iter::repeat_n(f64::NAN, n_rows)),
                        Values::Text(v) => v.extend(std::iter::repeat_n(None, n_rows)),
                    },
                }
            }
            (name.clone(), values)
        })
        .collect()
}

/// Rows of a request: the first dimension of its first input.
fn logged_rows(inputs: &[Tensor]) -> usize {
    inputs
        .first()
        .and_then(|t| t.shape.first())
        .map_or(0, |&rows| rows)
}

/// The model's answers over the window's successful predictions, as the gate reads them.
pub fn window_predictions(
    window: &[&LoggedPrediction],
    task: Task,
) -> Result<Option<Predictions>, String> {
    let mut combined: Option<Vec<Tensor>> = None;
    let mut rows = 0;
    for logged in window {
        let outputs = &logged.record.outputs;
        if logged.record.error.is_some() || outputs.is_empty() {
            continue;
        }
        rows += logged_rows(&logged.record.inputs);
        match &mut combined {
            None => combined = Some(outputs.clone()),
            Some(all) => {
                if all.len() != outputs.len() {
                    return Err("the model's outputs changed shape within the window".into());
                }
                for (all, part) in all.iter_mut().zip(outputs) {
                    all.append_rows(part)?;
                }
            }
        }
    }
    let Some(outputs) = combined else {
        return Ok(None);
    };
    let roles = output_roles(&outputs, rows, Some(task)).map_err(|e| e.to_string())?;
    predictions(&outputs, &roles)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Live performance over the window's labelled one-row predictions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Performance {
    /// Labelled predictions the metrics were computed on.
    pub labelled: usize,
    pub metrics: Vec<LiveMetric>,
    /// Why some or all metrics could not be computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveMetric {
    pub name: String,
    /// The metric on the window's labelled predictions.
    pub value: Option<f64>,
    /// The metric at validation.
    pub validation: Option<f64>,
    /// How much worse the live figure is than validation (positive: worse), in the
    /// metric's own units: a drop for scores, a rise for losses.
    pub worsening: Option<f64>,
}

/// The metrics of the task on the window's labelled predictions, against validation's.
pub fn performance(
    window: &[LoggedPrediction],
    task: Task,
    validation: &[MetricValue],
) -> Performance {
    let labelled: Vec<&LoggedPrediction> = window
        .iter()
        .filter(|p| p.label.is_some() && p.record.error.is_none())
        .filter(|p| logged_rows(&p.record.inputs) == 1)
        .collect();
    let metric_names = MetricName::for_task(task);
    let validation_of = |name: MetricName| {
        validation
            .iter()
            .find(|m| m.name == name.as_str())
            .and_then(|m| m.value)
    };
    let empty = |note: String| Performance {
        labelled: labelled.len(),
        metrics: metric_names
            .iter()
            .map(|&name| LiveMetric {
                name: name.as_str().to_owned(),
                value: None,
                validation: validation_of(name),
                worsening: None,
            })
            .collect(),
        note: Some(note),
    };
    if labelled.is_empty() {
        return empty("no labels yet for this window's predictions".to_owned());
    }
    let predicted = match window_predictions(&labelled, task) {
        Ok(Some(predicted)) => predicted,
        Ok(None) => return empty("no successful labelled predictions".to_owned()),
        Err(error) => return empty(format!("cannot read the model's outputs: {error}")),
    };
    let labels: Vec<f64> = labelled.iter().filter_map(|p| p.label).collect();
    let truth = match crate::gate::inference::truth(&labels, "label", &predicted) {
        Ok(truth) => truth,
        Err(error) => return empty(format!("labels do not fit the model: {error}")),
    };
    let evaluation = Evaluation {
        truth,
        predictions: predicted,
    };
    let mut notes = Vec::new();
    let metrics = metric_names
        .iter()
        .map(|&name| {
            let value = match evaluation.metric(name) {
                Ok(value) => Some(value),
                Err(error) => {
                    notes.push(format!("{}: {error}", name.as_str()));
                    None
                }
            };
            let validation = validation_of(name);
            let worsening = match (value, validation) {
                (Some(live), Some(then)) if name.higher_is_better() => Some(then - live),
                (Some(live), Some(then)) => Some(live - then),
                _ => None,
            };
            LiveMetric {
                name: name.as_str().to_owned(),
                value,
                validation,
                worsening,
            }
        })
        .collect();
    Performance {
        labelled: labelled.len(),
        metrics,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// Model latency and failures over the window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    pub predictions: usize,
    pub rows: usize,
    pub errors: usize,
    pub error_rate: f64,
    /// Percentiles of the model's run time, in milliseconds (numpy's linear rule).
    pub latency_ms: Option<LatencyMs>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyMs {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn health(window: &[LoggedPrediction]) -> Health {
    let errors = window.iter().filter(|p| p.record.error.is_some()).count();
    let latencies: Vec<f64> = window
        .iter()
        .map(|p| p.record.latency_micros as f64 / 1000.0)
        .collect();
    let latency_ms = bascule_stats::latency_summary(&latencies)
        .ok()
        .map(|s| LatencyMs {
            p50: s.p50,
            p90: s.p90,
            p99: s.p99,
            max: s.max,
        });
    Health {
        predictions: window.len(),
        rows: window.iter().map(|p| logged_rows(&p.record.inputs)).sum(),
        errors,
        error_rate: if window.is_empty() {
            0.0
        } else {
            errors as f64 / window.len() as f64
        },
        latency_ms,
    }
}
