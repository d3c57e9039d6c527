//! Metrics of predicted probabilities: log loss and the Brier score, binary (one
//! probability of class 1 per row) and multiclass (a row-major `n_rows × n_classes`
//! matrix, the layout of an ONNX `probabilities` output).
//!
//! **Log loss** equals `sklearn.metrics.log_loss` 1.9 on float64 input with
//! `labels=range(n_classes)`:
//! - probabilities are clipped to `[ε, 1 − ε]` with `ε = f64::EPSILON`
//!   (`np.finfo(float64).eps`, 2.22e-16). scikit-learn takes ε from the *dtype* of its
//!   input, so a float32 array is clipped at 1.19e-7 and summed in float32 instead;
//!   Bascule's probabilities are f32 model outputs widened exactly to f64, and the
//!   reference value is scikit-learn on those widened float64 values.
//! - a binary probability `p` is expanded to the two columns `[1 − p, p]` (computed in
//!   f64) before clipping, so a 0-labelled row scores `−ln(clip(1 − p))`.
//! - rows are **not** renormalised: scikit-learn 1.9 only warns when a row does not sum
//!   to one (older releases divided by the row sum), and so does nothing here either.
//!
//! **Brier score** equals `brier_score_loss` 1.9 with `scale_by_half="auto"`: the mean
//! squared error of the one-hot target, halved for two classes — for binary input
//! that is `mean((y − p)²)`.

use crate::error::{StatsError, check_binary, check_classes, check_probabilities, check_same_len};

/// Checks a row-major probability matrix against the labels it scores.
pub(crate) fn check_probability_matrix(
    y_true: &[usize],
    probabilities: &[f64],
    n_classes: usize,
) -> Result<(), StatsError> {
    if n_classes < 2 {
        return Err(StatsError::InvalidParameter {
            argument: "n_classes",
            value: n_classes as f64,
            reason: "a probability matrix needs at least two classes",
        });
    }
    check_classes("y_true", y_true, n_classes)?;
    check_probabilities("probabilities", probabilities)?;
    if probabilities.len() != y_true.len() * n_classes {
        return Err(StatsError::LengthMismatch {
            left: "probabilities",
            left_len: probabilities.len(),
            right: "y_true × n_classes",
            right_len: y_true.len() * n_classes,
        });
    }
    Ok(())
}

/// `log_loss(y_true, p)` for 0/1 labels and the probability of class 1.
pub fn log_loss(y_true: &[f64], p_positive: &[f64]) -> Result<f64, StatsError> {
    check_binary("y_true", y_true)?;
    check_probabilities("p_positive", p_positive)?;
    check_same_len("y_true", y_true, "p_positive", p_positive)?;
    let total: f64 = y_true
        .iter()
        .zip(p_positive)
        .map(|(&truth, &p)| {
            let probability_of_truth = if truth == 1.0 { p } else { 1.0 - p };
            -clip(probability_of_truth).ln()
        })
        .sum();
    Ok(total / y_true.len() as f64)
}

/// `log_loss(y_true, probabilities, labels=range(n_classes))` for class indices and a
/// row-major probability matrix.
pub fn multiclass_log_loss(
    y_true: &[usize],
    probabilities: &[f64],
    n_classes: usize,
) -> Result<f64, StatsError> {
    check_probability_matrix(y_true, probabilities, n_classes)?;
    let total: f64 = y_true
        .iter()
        .enumerate()
        .map(|(row, &class)| -clip(probabilities[row * n_classes + class]).ln())
        .sum();
    Ok(total / y_true.len() as f64)
}

/// `brier_score_loss(y_true, p)` for 0/1 labels and the probability of class 1.
pub fn brier_score(y_true: &[f64], p_positive: &[f64]) -> Result<f64, StatsError> {
    check_binary("y_true", y_true)?;
    check_probabilities("p_positive", p_positive)?;
    check_same_len("y_true", y_true, "p_positive", p_positive)?;
    let total: f64 = y_true
        .iter()
        .zip(p_positive)
        .map(|(&truth, &p)| (truth - p) * (truth - p))
        .sum();
    Ok(total / y_true.len() as f64)
}

/// `brier_score_loss(y_true, probabilities, labels=range(n_classes))`: the mean over
/// rows of `Σₖ (onehotₖ − pₖ)²`, halved when there are two classes.
pub fn multiclass_brier_score(
    y_true: &[usize],
    probabilities: &[f64],
    n_classes: usize,
) -> Result<f64, StatsError> {
    check_probability_matrix(y_true, probabilities, n_classes)?;
    let total: f64 = y_true
        .iter()
        .enumerate()
        .map(|(row, &class)| {
            let start = row * n_classes;
            probabilities[start..start + n_classes]
                .iter()
                .enumerate()
                .map(|(column, &p)| {
                    let target = if column == class { 1.0 } else { 0.0 };
                    (target - p) * (target - p)
                })
                .sum::<f64>()
        })
        .sum();
    let mean = total / y_true.len() as f64;
    Ok(if n_classes < 3 { mean / 2.0 } else { mean })
}

/// Clips a probability to `[ε, 1 − ε]` with float64's machine epsilon.
fn clip(probability: f64) -> f64 {
    probability.clamp(f64::EPSILON, 1.0 - f64::EPSILON)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_loss_clips_certain_mistakes() {
        let loss = log_loss(&[1.0, 0.0], &[0.0, 1.0]).expect("valid input");
        assert!((loss - (-f64::EPSILON.ln())).abs() < 1e-12);
    }

    #[test]
    fn probability_inputs_are_checked() {
        assert!(matches!(
            log_loss(&[1.0], &[1.5]),
            Err(StatsError::ProbabilityOutOfRange { index: 0, .. })
        ));
        assert!(matches!(
            brier_score(&[2.0], &[0.5]),
            Err(StatsError::NotBinary { .. })
        ));
        assert!(matches!(
            multiclass_log_loss(&[0, 1], &[0.5, 0.5, 0.5], 2),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            multiclass_log_loss(&[0, 3], &[0.5; 4], 2),
            Err(StatsError::ClassOutOfRange { class: 3, .. })
        ));
        assert!(matches!(
            multiclass_brier_score(&[0], &[1.0], 1),
            Err(StatsError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn two_class_brier_matches_binary_brier() {
        let binary = brier_score(&[1.0, 0.0, 1.0], &[0.9, 0.2, 0.4]).expect("valid");
        let matrix =
            multiclass_brier_score(&[1, 0, 1], &[0.1, 0.9, 0.8, 0.2, 0.6, 0.4], 2).expect("valid");
        assert!((binary - matrix).abs() < 1e-15);
    }
}
