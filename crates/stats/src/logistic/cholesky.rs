//! Solving the small symmetric positive-definite systems of Newton's method: a dense
//! Cholesky factorisation `A = L·Lᵀ` (row-major, lower triangle) and the two triangular
//! solves. A model has few features, so an `(F+1)×(F+1)` factorisation per iteration is
//! cheap next to the pass over the rows that builds the matrix.

/// The smallest pivot accepted, relative to the largest diagonal entry: below it the
/// matrix is treated as singular rather than solved into meaningless large steps.
const RELATIVE_PIVOT_FLOOR: f64 = 1e-13;

/// Solves `matrix · x = rhs` for a symmetric positive-definite `matrix` (`n × n`,
/// row-major; only the lower triangle is read). `None` when the matrix is not positive
/// definite to working precision.
pub(super) fn solve(matrix: &[f64], rhs: &[f64]) -> Option<Vec<f64>> {
    let n = rhs.len();
    debug_assert_eq!(matrix.len(), n * n);
    let largest_diagonal = (0..n)
        .map(|i| matrix[i * n + i].abs())
        .fold(0.0_f64, f64::max);
    let floor = largest_diagonal * RELATIVE_PIVOT_FLOOR;
    let mut lower = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| lower[i * n + k] * lower[j * n + k]).sum();
            let value = matrix[i * n + j] - dot;
            if i == j {
                if !value.is_finite() || value <= floor {
                    return None;
                }
                lower[i * n + i] = value.sqrt();
            } else {
                lower[i * n + j] = value / lower[j * n + j];
            }
        }
    }
    // L·y = rhs, then Lᵀ·x = y.
    let mut y = vec![0.0; n];
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| lower[i * n + k] * y[k]).sum();
        y[i] = (rhs[i] - dot) / lower[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| lower[k * n + i] * x[k]).sum();
        x[i] = (y[i] - dot) / lower[i * n + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn solves_a_positive_definite_system() {
        // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]], x = [1, -2, 3] → b = A·x.
        let matrix = [4.0, 2.0, 0.0, 2.0, 5.0, 1.0, 0.0, 1.0, 3.0];
        let rhs = [0.0, -5.0, 7.0];
        let x = solve(&matrix, &rhs).expect("positive definite");
        for (got, want) in x.iter().zip([1.0, -2.0, 3.0]) {
            assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        }
    }

    #[test]
    fn refuses_singular_and_indefinite_matrices() {
        assert!(solve(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0]).is_none());
        assert!(solve(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0]).is_none());
        assert!(solve(&[f64::NAN], &[1.0]).is_none());
    }
}
