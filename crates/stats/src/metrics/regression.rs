//! Regression metrics: MSE, RMSE, MAE, R² and the mean error (bias).
//!
//! Equal to `sklearn.metrics.{mean_squared_error, root_mean_squared_error,
//! mean_absolute_error, r2_score}`. The mean error has no scikit-learn counterpart; it
//! is `mean(y_pred − y_true)`, positive when the model over-predicts, and is checked
//! against numpy.

use crate::error::{StatsError, check_finite, check_same_len};

fn check_pair(y_true: &[f64], y_pred: &[f64]) -> Result<(), StatsError> {
    check_finite("y_true", y_true)?;
    check_finite("y_pred", y_pred)?;
    check_same_len("y_true", y_true, "y_pred", y_pred)
}

/// `mean_squared_error(y_true, y_pred)`.
pub fn mse(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    check_pair(y_true, y_pred)?;
    let total: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(truth, prediction)| (truth - prediction) * (truth - prediction))
        .sum();
    Ok(total / y_true.len() as f64)
}

/// `root_mean_squared_error(y_true, y_pred)`.
pub fn rmse(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    Ok(mse(y_true, y_pred)?.sqrt())
}

/// `mean_absolute_error(y_true, y_pred)`.
pub fn mae(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    check_pair(y_true, y_pred)?;
    let total: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(truth, prediction)| (truth - prediction).abs())
        .sum();
    Ok(total / y_true.len() as f64)
}

/// `mean(y_pred − y_true)`: positive when predictions run high.
pub fn mean_error(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    check_pair(y_true, y_pred)?;
    let total: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(truth, prediction)| prediction - truth)
        .sum();
    Ok(total / y_true.len() as f64)
}

/// `r2_score(y_true, y_pred)` (with scikit-learn's default `force_finite=True`).
///
/// `1 − Σ(y − ŷ)² / Σ(y − ȳ)²`. When `y_true` is constant the ratio is undefined and,
/// as in scikit-learn, the score is 1.0 for perfect predictions and 0.0 otherwise.
/// scikit-learn returns NaN (with a warning) for fewer than two rows; this returns
/// [`StatsError::TooFewValues`].
pub fn r2_score(y_true: &[f64], y_pred: &[f64]) -> Result<f64, StatsError> {
    check_pair(y_true, y_pred)?;
    if y_true.len() < 2 {
        return Err(StatsError::TooFewValues {
            argument: "y_true",
            needed: 2,
            got: y_true.len(),
        });
    }
    let mean = y_true.iter().sum::<f64>() / y_true.len() as f64;
    let residual: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(truth, prediction)| (truth - prediction) * (truth - prediction))
        .sum();
    let total: f64 = y_true
        .iter()
        .map(|truth| (truth - mean) * (truth - mean))
        .sum();
    if total == 0.0 {
        return Ok(if residual == 0.0 { 1.0 } else { 0.0 });
    }
    Ok(1.0 - residual / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_truth_follows_force_finite() {
        assert_eq!(r2_score(&[3.0, 3.0], &[3.0, 3.0]), Ok(1.0));
        assert_eq!(r2_score(&[3.0, 3.0], &[3.0, 2.0]), Ok(0.0));
        assert!(matches!(
            r2_score(&[1.0], &[1.0]),
            Err(StatsError::TooFewValues {
                needed: 2,
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn simple_values() {
        let y_true = [3.0, -0.5, 2.0, 7.0];
        let y_pred = [2.5, 0.0, 2.0, 8.0];
        assert_eq!(mse(&y_true, &y_pred), Ok(0.375));
        assert_eq!(mae(&y_true, &y_pred), Ok(0.5));
        assert_eq!(mean_error(&y_true, &y_pred), Ok(0.25));
        let r2 = r2_score(&y_true, &y_pred).expect("valid");
        assert!((r2 - 0.948_608_137_044_967_9).abs() < 1e-15);
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(matches!(mse(&[], &[]), Err(StatsError::Empty { .. })));
        assert!(matches!(
            mae(&[1.0, 2.0], &[1.0]),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            rmse(&[1.0, f64::INFINITY], &[1.0, 2.0]),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
    }
}
