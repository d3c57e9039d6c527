//! Binary logistic regression with an L2 penalty, equal to scikit-learn's
//! `StandardScaler` + `LogisticRegression(C)` fitted to convergence.
//!
//! [`fit_logistic`] takes feature columns and 0/1 labels, optionally standardises each
//! column (mean and population standard deviation of the training rows, as
//! `StandardScaler`; a constant column keeps scale 1), and minimises the summed log-loss
//! plus `‖w‖² / (2C)` — the intercept is not penalised — by Newton's method with a line
//! search (see `newton.rs`). The result, a [`LogisticRegression`], predicts `P(y = 1)`
//! and carries everything an exporter needs: means, scales, coefficients on the
//! standardised features, and the intercept.
//!
//! ```
//! use bascule_stats::logistic::{LogisticConfig, fit_logistic};
//!
//! let hours = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0];
//! let passed = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
//! let fit = fit_logistic(&[&hours], &passed, &LogisticConfig::default())?;
//! let p = fit.model.predict_proba(&[&[1.0, 4.0]])?;
//! assert!(p[0] < 0.5 && p[1] > 0.5);
//! # Ok::<(), bascule_stats::StatsError>(())
//! ```

mod cholesky;
mod newton;

use crate::StatsError;
use crate::error::check_binary;

/// How to fit: the inverse penalty strength and the stopping rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticConfig {
    /// scikit-learn's `C`: the penalty is `‖w‖² / (2C)`. Positive and finite.
    pub c: f64,
    /// Converged when the largest gradient component, divided by the number of rows, is
    /// at most this (scikit-learn's Newton–Cholesky criterion).
    pub tolerance: f64,
    /// Newton steps allowed before [`StatsError::NotConverged`].
    pub max_iterations: usize,
    /// Standardise every feature on the training rows first (`StandardScaler`).
    pub standardize: bool,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig {
            c: 1.0,
            tolerance: 1e-10,
            max_iterations: 100,
            standardize: true,
        }
    }
}

/// A fitted model: `P(y = 1 | x) = σ(Σⱼ wⱼ·(xⱼ − meanⱼ)/scaleⱼ + b)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    /// Per feature, subtracted first (all 0 without standardisation).
    pub means: Vec<f64>,
    /// Per feature, divided by next (all 1 without standardisation).
    pub scales: Vec<f64>,
    /// Per feature, on the standardised scale.
    pub coefficients: Vec<f64>,
    pub intercept: f64,
}

/// A model and how its fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    pub model: LogisticRegression,
    /// Newton steps taken.
    pub iterations: usize,
    /// The largest gradient component per row at the solution.
    pub gradient: f64,
    /// The mean log-loss on the training rows (scikit-learn's `log_loss`).
    pub log_loss: f64,
    /// The penalised objective per training row before the first Newton step and after
    /// each one (decreasing): how the fit converged.
    pub objectives: Vec<f64>,
}

/// Fits a binary logistic regression to `columns` (one slice per feature, each as long as
/// `labels`) and `labels` (exactly 0.0 or 1.0, both classes present).
pub fn fit_logistic(
    columns: &[&[f64]],
    labels: &[f64],
    config: &LogisticConfig,
) -> Result<LogisticFit, StatsError> {
    check_config(config)?;
    check_binary("labels", labels)?;
    let n_rows = labels.len();
    check_columns(columns, n_rows)?;
    let positives = labels.iter().filter(|&&label| label == 1.0).count();
    if positives == 0 || positives == n_rows {
        return Err(StatsError::OneClassOnly { class: labels[0] });
    }
    let (means, scales) = if config.standardize {
        columns.iter().map(|column| standardizer(column)).unzip()
    } else {
        (vec![0.0; columns.len()], vec![1.0; columns.len()])
    };
    let rows = row_major(columns, &means, &scales, n_rows);
    let design = newton::Design {
        rows: &rows,
        labels,
        n_features: columns.len(),
    };
    let solution = newton::minimise(
        &design,
        1.0 / config.c,
        config.tolerance,
        config.max_iterations,
    )?;
    let log_loss = newton::summed_loss(&design, &solution.parameters) / n_rows as f64;
    let mut coefficients = solution.parameters;
    let intercept = coefficients.pop().unwrap_or_default();
    Ok(LogisticFit {
        model: LogisticRegression {
            means,
            scales,
            coefficients,
            intercept,
        },
        iterations: solution.iterations,
        gradient: solution.gradient,
        objectives: solution.objectives,
        log_loss,
    })
}

impl LogisticRegression {
    /// `P(y = 1)` for each row of `columns` (one slice per feature, in training order).
    pub fn predict_proba(&self, columns: &[&[f64]]) -> Result<Vec<f64>, StatsError> {
        if columns.len() != self.coefficients.len() {
            return Err(StatsError::LengthMismatch {
                left: "columns",
                left_len: columns.len(),
                right: "coefficients",
                right_len: self.coefficients.len(),
            });
        }
        let n_rows = columns.first().map_or(0, |column| column.len());
        check_columns(columns, n_rows)?;
        Ok((0..n_rows)
            .map(|row| {
                let z = columns
                    .iter()
                    .enumerate()
                    .map(|(j, column)| {
                        self.coefficients[j] * (column[row] - self.means[j]) / self.scales[j]
                    })
                    .sum::<f64>()
                    + self.intercept;
                newton::sigmoid(z)
            })
            .collect())
    }
}

fn check_config(config: &LogisticConfig) -> Result<(), StatsError> {
    if !(config.c.is_finite() && config.c > 0.0) {
        return Err(StatsError::InvalidParameter {
            argument: "c",
            value: config.c,
            reason: "the inverse penalty strength must be positive and finite",
        });
    }
    if !(config.tolerance.is_finite() && config.tolerance > 0.0) {
        return Err(StatsError::InvalidParameter {
            argument: "tolerance",
            value: config.tolerance,
            reason: "the convergence tolerance must be positive and finite",
        });
    }
    Ok(())
}

/// Refuses no columns, columns of another length than the labels, and non-finite values.
fn check_columns(columns: &[&[f64]], n_rows: usize) -> Result<(), StatsError> {
    if columns.is_empty() {
        return Err(StatsError::Empty {
            argument: "columns",
        });
    }
    for (index, column) in columns.iter().enumerate() {
        if column.len() != n_rows {
            return Err(StatsError::LengthMismatch {
                left: "labels",
                left_len: n_rows,
                right: "a feature column",
                right_len: column.len(),
            });
        }
        if let Some(row) = column.iter().position(|value| !value.is_finite()) {
            return Err(StatsError::NonFiniteFeature {
                column: index,
                row,
                value: column[row],
            });
        }
    }
    Ok(())
}

/// `StandardScaler`'s mean and scale: the population standard deviation, 1 for a
/// constant column.
fn standardizer(column: &[f64]) -> (f64, f64) {
    let n = column.len() as f64;
    let mean = column.iter().sum::<f64>() / n;
    let variance = column.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let constant = column.iter().all(|&x| x == column[0]);
    let scale = if constant { 1.0 } else { variance.sqrt() };
    (mean, scale)
}

fn row_major(columns: &[&[f64]], means: &[f64], scales: &[f64], n_rows: usize) -> Vec<f64> {
    let mut rows = Vec::with_capacity(n_rows * columns.len());
    for row in 0..n_rows {
        for (j, column) in columns.iter().enumerate() {
            rows.push((column[row] - means[j]) / scales[j]);
        }
    }
    rows
}
