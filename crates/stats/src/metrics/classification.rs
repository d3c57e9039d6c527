//! Label metrics: accuracy, precision, recall and F1, for binary labels (0/1 as `f64`)
//! and for multiclass labels (class indices as `usize`).
//!
//! Equal to `sklearn.metrics.{accuracy_score, precision_score, recall_score, f1_score}`
//! with `zero_division=0` (the value scikit-learn also returns under its default
//! `"warn"`): a ratio whose denominator is zero — precision with no predicted
//! positives, recall with no actual positives, F1 with neither — is `0.0`, never NaN.
//! F1 is computed as `2·TP / (2·TP + FP + FN)`, as scikit-learn ≥ 1.3 does.

use std::collections::BTreeMap;

use crate::error::{StatsError, check_binary, check_non_empty, check_same_len};

/// Counts of the binary confusion matrix; the positive class is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BinaryConfusion {
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
}

impl BinaryConfusion {
    /// Counts `y_true` against `y_pred`, both 0/1 labels of the same rows.
    pub fn from_labels(y_true: &[f64], y_pred: &[f64]) -> Result<Self, StatsError> {
        check_binary("y_true", y_true)?;
        check_binary("y_pred", y_pred)?;
        check_same_len("y_true", y_true, "y_pred", y_pred)?;
        let mut confusion = Self::default();
        for (&truth, &prediction) in y_true.iter().zip(y_pred) {
            match (truth == 1.0, prediction == 1.0) {
                (true, true) => confusion.true_positives += 1,
                (false, true) => confusion.false_positives += 1,
                (false, false) => confusion.true_negatives += 1,
                (true, false) => confusion.false_negatives += 1,
            }
        }
        Ok(confusion)
    }

    /// Number of rows counted.
    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Share of rows predicted correctly.
    pub fn accuracy(&self) -> f64 {
        ratio(self.true_positives + self.true_negatives, self.total())
    }

    /// `TP / (TP + FP)`, 0 when nothing was predicted positive.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// `TP / (TP + FN)`, 0 when no row is positive.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// `2·TP / (2·TP + FP + FN)`, 0 when the denominator is 0.
    pub fn f1(&self) -> f64 {
        f1_from_counts(
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        )
    }
}

/// `accuracy_score` for 0/1 labels.
pub fn accuracy(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    Ok(BinaryConfusion::from_labels(y_true, y_pred)?.accuracy())
}

/// `precision_score` (positive class 1, `zero_division=0`) for 0/1 labels.
pub fn precision(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    Ok(BinaryConfusion::from_labels(y_true, y_pred)?.precision())
}

/// `recall_score` (positive class 1, `zero_division=0`) for 0/1 labels.
pub fn recall(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    Ok(BinaryConfusion::from_labels(y_true, y_pred)?.recall())
}

/// `f1_score` (positive class 1, `zero_division=0`) for 0/1 labels.
pub fn f1_score(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    Ok(BinaryConfusion::from_labels(y_true, y_pred)?.f1())
}

/// How per-class scores are combined in multiclass precision, recall and F1.
///
/// scikit-learn has no default for multiclass input (it requires `average=`); Bascule's
/// default is [`Average::Macro`], which weighs every class equally and so does not
/// hide a failing minority class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Average {
    /// Unweighted mean over classes (`average="macro"`).
    #[default]
    Macro,
    /// Mean over classes weighted by each class's support in `y_true`
    /// (`average="weighted"`).
    Weighted,
}

/// Per-class counts for the classes present in `y_true` or `y_pred` (scikit-learn's
/// `unique_labels`), in ascending class order.
#[derive(Debug)]
struct ClassCounts {
    true_positives: Vec<u64>,
    predicted: Vec<u64>,
    support: Vec<u64>,
}

fn class_counts(y_true: &[usize], y_pred: &[usize]) -> Result<ClassCounts, StatsError> {
    check_non_empty("y_true", y_true)?;
    check_same_len("y_true", y_true, "y_pred", y_pred)?;
    // Keyed by class, so sparse or large class indices cost nothing.
    let mut per_class: BTreeMap<usize, (u64, u64, u64)> = BTreeMap::new();
    for (&truth, &prediction) in y_true.iter().zip(y_pred) {
        per_class.entry(truth).or_default().2 += 1;
        per_class.entry(prediction).or_default().1 += 1;
        if truth == prediction {
            per_class.entry(truth).or_default().0 += 1;
        }
    }
    Ok(ClassCounts {
        true_positives: per_class.values().map(|counts| counts.0).collect(),
        predicted: per_class.values().map(|counts| counts.1).collect(),
        support: per_class.values().map(|counts| counts.2).collect(),
    })
}

/// `accuracy_score` for class indices.
pub fn multiclass_accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64, StatsError> {
    check_non_empty("y_true", y_true)?;
    check_same_len("y_true", y_true, "y_pred", y_pred)?;
    let correct = y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count();
    Ok(ratio(correct as u64, y_true.len() as u64))
}

/// `precision_score(average=...)`, `zero_division=0`, for class indices.
pub fn multiclass_precision(
    y_true: &[usize],
    y_pred: &[usize],
    average: Average,
) -> Result<f64, StatsError> {
    let counts = class_counts(y_true, y_pred)?;
    let scores = counts
        .true_positives
        .iter()
        .zip(&counts.predicted)
        .map(|(&tp, &predicted)| ratio(tp, predicted));
    Ok(combine(scores, &counts.support, average))
}

/// `recall_score(average=...)`, `zero_division=0`, for class indices.
pub fn multiclass_recall(
    y_true: &[usize],
    y_pred: &[usize],
    average: Average,
) -> Result<f64, StatsError> {
    let counts = class_counts(y_true, y_pred)?;
    let scores = counts
        .true_positives
        .iter()
        .zip(&counts.support)
        .map(|(&tp, &support)| ratio(tp, support));
    Ok(combine(scores, &counts.support, average))
}

/// `f1_score(average=...)`, `zero_division=0`, for class indices.
pub fn multiclass_f1(
    y_true: &[usize],
    y_pred: &[usize],
    average: Average,
) -> Result<f64, StatsError> {
    let counts = class_counts(y_true, y_pred)?;
    let scores = (0..counts.support.len()).map(|class| {
        let tp = counts.true_positives[class];
        f1_from_counts(tp, counts.predicted[class] - tp, counts.support[class] - tp)
    });
    Ok(combine(scores, &counts.support, average))
}

fn combine(scores: impl Iterator<Item = f64>, support: &[u64], average: Average) -> f64 {
    let scores: Vec<f64> = scores.collect();
    match average {
        Average::Macro => scores.iter().sum::<f64>() / scores.len() as f64,
        Average::Weighted => {
            let total: u64 = support.iter().sum();
            let weighted: f64 = scores
                .iter()
                .zip(support)
                .map(|(score, &weight)| score * weight as f64)
                .sum();
            weighted / total as f64
        }
    }
}

fn f1_from_counts(true_positives: u64, false_positives: u64, false_negatives: u64) -> f64 {
    ratio(
        2 * true_positives,
        2 * true_positives + false_positives + false_negatives,
    )
}

/// `numerator / denominator`, with scikit-learn's `zero_division=0`.
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}
