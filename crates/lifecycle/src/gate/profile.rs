//! The reference profile: per-feature statistics of the validation data, and of the
//! model's predictions, that monitoring later uses as its drift reference.
//!
//! A numeric feature keeps an exact summary (count, missing, min, max, mean, standard
//! deviation) and a sample of its values: all of them up to [`SAMPLE_CAP`], beyond that
//! a uniform sample without replacement of [`SAMPLE_CAP`] rows drawn with the seeded
//! generator of `bascule-stats` (the same rows for every feature, so the sample is a
//! sample of rows). A text feature keeps the count of every value.

use std::collections::BTreeMap;

use bascule_datasets::{ColumnValues, Frame};
use bascule_stats::Xoshiro256StarStar;

use super::features::FeatureMapping;
use super::metrics::Predictions;

/// The most values of a numeric feature kept in the profile. 10,000 values resolve a
/// Kolmogorov–Smirnov distance of about 0.02 at 95% and keep a 30-feature profile near
/// 6 MB of JSON; beyond it a seeded uniform sample of rows is kept.
pub const SAMPLE_CAP: usize = 10_000;

/// The seed of the row sample, fixed so that a profile is reproducible.
pub const SAMPLE_SEED: u64 = 0;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReferenceProfile {
    pub schema: u32,
    pub rows: usize,
    pub sample_cap: usize,
    pub sample_seed: u64,
    /// The rows kept in every numeric sample (`None`: all rows, in order).
    pub sampled_rows: Option<usize>,
    pub features: Vec<FeatureProfile>,
    pub label: FeatureProfile,
    pub predictions: Vec<FeatureProfile>,
    /// Which features fed which model input, in the input's column order: monitoring
    /// reads the features of logged requests back out of their input tensors with it.
    /// (Absent from profiles written before it existed: then one 2-D input takes the
    /// features in order, or each input is the feature of its name.)
    #[serde(default)]
    pub inputs: Vec<ProfileInput>,
}

/// The features feeding one model input, in column order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileInput {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FeatureProfile {
    Numeric {
        name: String,
        count: usize,
        missing: usize,
        min: Option<f64>,
        max: Option<f64>,
        mean: Option<f64>,
        std: Option<f64>,
        /// Non-missing values of the sampled rows, ascending.
        sample: Vec<f64>,
    },
    Categorical {
        name: String,
        count: usize,
        missing: usize,
        counts: BTreeMap<String, u64>,
    },
}

/// Rows to keep in numeric samples: all, or a seeded uniform sample of `SAMPLE_CAP`.
fn sample_rows(n_rows: usize) -> Option<Vec<usize>> {
    if n_rows <= SAMPLE_CAP {
        return None;
    }
    let mut rng = Xoshiro256StarStar::seed_from_u64(SAMPLE_SEED);
    let mut rows: Vec<usize> = (0..n_rows).collect();
    // Partial Fisher–Yates: the first SAMPLE_CAP positions become a uniform sample.
    for i in 0..SAMPLE_CAP {
        let j = i + rng.below((n_rows - i) as u64) as usize;
        rows.swap(i, j);
    }
    rows.truncate(SAMPLE_CAP);
    rows.sort_unstable();
    Some(rows)
}

fn numeric(name: &str, values: &[f64], sample: Option<&[usize]>) -> FeatureProfile {
    let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let count = present.len();
    let mean = (count > 0).then(|| present.iter().sum::<f64>() / count as f64);
    let std = mean.map(|mean| {
        (present.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count as f64).sqrt()
    });
    let mut kept: Vec<f64> = match sample {
        Some(rows) => rows
            .iter()
            .map(|&r| values[r])
            .filter(|v| !v.is_nan())
            .collect(),
        None => present.clone(),
    };
    kept.sort_by(f64::total_cmp);
    FeatureProfile::Numeric {
        name: name.to_owned(),
        count,
        missing: values.len() - count,
        min: present.iter().copied().reduce(f64::min),
        max: present.iter().copied().reduce(f64::max),
        mean,
        std,
        sample: kept,
    }
}

fn categorical<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> FeatureProfile {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut count, mut missing) = (0, 0);
    for value in values {
        match value {
            Some(value) => {
                count += 1;
                *counts.entry(value.to_owned()).or_default() += 1;
            }
            None => missing += 1,
        }
    }
    FeatureProfile::Categorical {
        name: name.to_owned(),
        count,
        missing,
        counts,
    }
}

fn column_profile(name: &str, values: &ColumnValues, sample: Option<&[usize]>) -> FeatureProfile {
    match values {
        ColumnValues::Numeric(numbers) => numeric(name, numbers, sample),
        ColumnValues::Text(text) => categorical(name, text.iter()),
    }
}

/// Profiles the features, the label and the predictions of one validation run.
pub fn build(
    frame: &Frame,
    mapping: &FeatureMapping,
    label: &str,
    predictions: &Predictions,
) -> ReferenceProfile {
    let features = mapping.columns();
    let rows = sample_rows(frame.n_rows());
    let sample = rows.as_deref();
    let profile_of = |name: &str| {
        frame
            .column(name)
            .map(|column| column_profile(name, &column.values, sample))
    };
    let mut predicted = Vec::new();
    match predictions {
        Predictions::Classes {
            predicted: classes,
            probabilities,
            n_classes,
        } => {
            let text: Vec<String> = classes.iter().map(ToString::to_string).collect();
            predicted.push(categorical(
                "predicted_class",
                text.iter().map(|s| Some(s.as_str())),
            ));
            if *n_classes == 2 {
                let positive: Vec<f64> = probabilities.chunks(2).map(|p| p[1]).collect();
                predicted.push(numeric("probability_1", &positive, sample));
            } else {
                let top: Vec<f64> = probabilities
                    .chunks(*n_classes)
                    .map(|p| p.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                    .collect();
                predicted.push(numeric("max_probability", &top, sample));
            }
        }
        Predictions::Values(values) => predicted.push(numeric("prediction", values, sample)),
    }
    ReferenceProfile {
        schema: 1,
        rows: frame.n_rows(),
        sample_cap: SAMPLE_CAP,
        sample_seed: SAMPLE_SEED,
        sampled_rows: rows.as_ref().map(Vec::len),
        features: features
            .iter()
            .filter_map(|name| profile_of(name))
            .collect(),
        label: profile_of(label).unwrap_or_else(|| categorical(label, std::iter::empty())),
        predictions: predicted,
        inputs: mapping
            .inputs
            .iter()
            .map(|(spec, columns)| ProfileInput {
                name: spec.name.clone(),
                columns: columns.clone(),
            })
            .collect(),
    }
}
