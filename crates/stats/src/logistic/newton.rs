//! Newton's method on the penalised log-loss, with a backtracking line search.
//!
//! The objective is scikit-learn's `LogisticRegression` with an L2 penalty:
//!
//! ```text
//! f(w, b) = Σᵢ [ log(1 + exp(zᵢ)) − yᵢ·zᵢ ] + ‖w‖² / (2C),    zᵢ = xᵢ·w + b
//! ```
//!
//! (the intercept `b` is not penalised). Each iteration solves `H·Δ = −g` by Cholesky,
//! where `g` and `H` are the exact gradient and Hessian, then halves the step until the
//! objective decreases enough (Armijo). The fit has converged when the largest gradient
//! component divided by the number of rows — scikit-learn's criterion for its
//! Newton–Cholesky solver — is at most the tolerance.

use super::cholesky;
use crate::StatsError;

/// The Armijo constant: a step must achieve this fraction of the decrease the gradient
/// predicts.
const SUFFICIENT_DECREASE: f64 = 1e-4;
/// A predicted decrease below this fraction of the objective cannot be measured in f64.
const UNMEASURABLE_DECREASE: f64 = 1e-12;
/// Halvings tried before a line search gives up.
const MAX_HALVINGS: usize = 40;

/// Rows of features (row-major, already standardised) with their 0/1 labels.
pub(super) struct Design<'a> {
    pub rows: &'a [f64],
    pub labels: &'a [f64],
    pub n_features: usize,
}

/// Where Newton's method stopped.
pub(super) struct Solution {
    /// Coefficients then the intercept.
    pub parameters: Vec<f64>,
    pub iterations: usize,
    pub gradient: f64,
    /// The objective per row at the start and after each step.
    pub objectives: Vec<f64>,
}

/// Minimises the penalised log-loss from all-zero parameters.
pub(super) fn minimise(
    design: &Design<'_>,
    penalty: f64,
    tolerance: f64,
    max_iterations: usize,
) -> Result<Solution, StatsError> {
    let n_rows = design.labels.len() as f64;
    let mut parameters = vec![0.0; design.n_features + 1];
    let mut objective = objective_at(design, penalty, &parameters);
    let mut objectives = vec![objective / n_rows];
    let mut iteration = 0;
    loop {
        let (gradient, hessian) = derivatives(design, penalty, &parameters);
        let largest = gradient.iter().fold(0.0_f64, |max, g| max.max(g.abs())) / n_rows;
        if largest <= tolerance {
            return Ok(Solution {
                parameters,
                iterations: iteration,
                gradient: largest,
                objectives,
            });
        }
        if iteration == max_iterations {
            return Err(StatsError::NotConverged {
                iterations: iteration,
                gradient: largest,
            });
        }
        let negative_gradient: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let step = cholesky::solve(&hessian, &negative_gradient)
            .ok_or(StatsError::SingularSystem { iteration })?;
        let slope: f64 = gradient.iter().zip(&step).map(|(g, s)| g * s).sum();
        // Near the optimum the decrease a step promises is below what the objective's
        // rounding can show; the full Newton step is then taken unchecked.
        if -slope <= UNMEASURABLE_DECREASE * objective.abs() {
            for (parameter, change) in parameters.iter_mut().zip(&step) {
                *parameter += change;
            }
            objective = objective_at(design, penalty, &parameters);
            objectives.push(objective / n_rows);
            iteration += 1;
            continue;
        }
        let mut length = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let candidate: Vec<f64> = parameters
                .iter()
                .zip(&step)
                .map(|(p, s)| p + length * s)
                .collect();
            let value = objective_at(design, penalty, &candidate);
            if value <= objective + SUFFICIENT_DECREASE * length * slope {
                accepted = Some((candidate, value));
                break;
            }
            length /= 2.0;
        }
        match accepted {
            Some((candidate, value)) => {
                parameters = candidate;
                objective = value;
                objectives.push(objective / n_rows);
                iteration += 1;
            }
            // No step decreases the objective: it is flat to working precision here.
            None => {
                return Err(StatsError::NotConverged {
                    iterations: iteration,
                    gradient: largest,
                });
            }
        }
    }
}

/// `zᵢ = xᵢ·w + b` for row `i`.
fn linear_term(row: &[f64], parameters: &[f64]) -> f64 {
    let (coefficients, intercept) = parameters.split_at(row.len());
    row.iter()
        .zip(coefficients)
        .map(|(x, w)| x * w)
        .sum::<f64>()
        + intercept[0]
}

/// The logistic function, without overflow for large |z|.
pub(super) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(z))` without overflow or loss of precision for large |z|.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The log-loss of a row: `log(1 + exp(z)) − y·z`.
fn row_loss(z: f64, label: f64) -> f64 {
    softplus(z) - label * z
}

/// The log-loss summed over the rows, without the penalty.
pub(super) fn summed_loss(design: &Design<'_>, parameters: &[f64]) -> f64 {
    rows(design)
        .zip(design.labels)
        .map(|(row, &label)| row_loss(linear_term(row, parameters), label))
        .sum()
}

fn objective_at(design: &Design<'_>, penalty: f64, parameters: &[f64]) -> f64 {
    let loss = summed_loss(design, parameters);
    let norm: f64 = parameters[..design.n_features].iter().map(|w| w * w).sum();
    loss + 0.5 * penalty * norm
}

/// The gradient and the Hessian (row-major, `(F+1)²`) of the objective.
fn derivatives(design: &Design<'_>, penalty: f64, parameters: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = design.n_features + 1;
    let mut gradient = vec![0.0; n];
    let mut hessian = vec![0.0; n * n];
    for (row, &label) in rows(design).zip(design.labels) {
        let probability = sigmoid(linear_term(row, parameters));
        let residual = probability - label;
        let weight = probability * (1.0 - probability);
        for i in 0..n {
            let x_i = if i < design.n_features { row[i] } else { 1.0 };
            gradient[i] += residual * x_i;
            for j in 0..=i {
                let x_j = if j < design.n_features { row[j] } else { 1.0 };
                hessian[i * n + j] += weight * x_i * x_j;
            }
        }
    }
    for j in 0..design.n_features {
        gradient[j] += penalty * parameters[j];
        hessian[j * n + j] += penalty;
    }
    for i in 0..n {
        for j in 0..i {
            hessian[j * n + i] = hessian[i * n + j];
        }
    }
    (gradient, hessian)
}

fn rows<'a>(design: &'a Design<'_>) -> impl Iterator<Item = &'a [f64]> + 'a {
    design.rows.chunks_exact(design.n_features.max(1))
}
