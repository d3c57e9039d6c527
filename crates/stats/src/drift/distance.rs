//! The Wasserstein-1 (earth mover's) distance between two samples, as
//! `scipy.stats.wasserstein_distance` computes it, plus a scale-free variant.
//!
//! `W₁ = ∫ |U(t) − V(t)| dt`, evaluated exactly for empirical CDFs: over the sorted
//! union of both samples, the gaps between neighbouring values weighted by the
//! difference of the two (weighted) CDFs just left of each gap's end.

use crate::error::{
    StatsError, check_finite, check_non_negative, check_same_len, check_sorted_finite,
};
use crate::quantile::sorted_finite;

/// `scipy.stats.wasserstein_distance(u, v)`: every value weighs the same.
///
/// Errors on an empty sample or a NaN/infinite value.
pub fn wasserstein_distance(u: &[f64], v: &[f64]) -> Result<f64, StatsError> {
    let u_sorted = sorted_finite("u", u)?;
    let v_sorted = sorted_finite("v", v)?;
    let u_cumulative: Vec<f64> = (0..=u_sorted.len()).map(|count| count as f64).collect();
    let v_cumulative: Vec<f64> = (0..=v_sorted.len()).map(|count| count as f64).collect();
    Ok(cdf_distance(
        &u_sorted,
        &u_cumulative,
        &v_sorted,
        &v_cumulative,
    ))
}

/// [`wasserstein_distance`] on samples the caller has already sorted ascending: no
/// copy and no sort, one linear merge over the distinct values. The result is the same,
/// bit for bit (the gaps between equal values, which add exact zeros, are skipped).
///
/// Errors on an empty, non-finite or unsorted sample ([`StatsError::NotSorted`]).
pub fn wasserstein_distance_sorted(u: &[f64], v: &[f64]) -> Result<f64, StatsError> {
    check_sorted_finite("u", u)?;
    check_sorted_finite("v", v)?;
    let (u_total, v_total) = (u.len() as f64, v.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut distance = 0.0;
    let mut previous: Option<(f64, f64)> = None;
    while i < u.len() || j < v.len() {
        let value = match (u.get(i), v.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        if let Some((left, cdf_gap)) = previous {
            distance += cdf_gap * (value - left);
        }
        while i < u.len() && u[i] <= value {
            i += 1;
        }
        while j < v.len() && v[j] <= value {
            j += 1;
        }
        previous = Some((value, (i as f64 / u_total - j as f64 / v_total).abs()));
    }
    Ok(distance)
}

/// `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`.
///
/// Weights must be finite and non-negative with a positive sum per sample; they are
/// normalised to sum to one.
pub fn weighted_wasserstein_distance(
    u: &[f64],
    u_weights: &[f64],
    v: &[f64],
    v_weights: &[f64],
) -> Result<f64, StatsError> {
    let (u_sorted, u_cumulative) = sort_with_weights("u", u, "u_weights", u_weights)?;
    let (v_sorted, v_cumulative) = sort_with_weights("v", v, "v_weights", v_weights)?;
    Ok(cdf_distance(
        &u_sorted,
        &u_cumulative,
        &v_sorted,
        &v_cumulative,
    ))
}

/// The Wasserstein-1 distance divided by the population standard deviation
/// (`ddof = 0`, numpy's default) of `reference`, so a value of 0.1 means "the
/// distributions are a tenth of a reference standard deviation apart" whatever the
/// feature's unit.
///
/// Errors like [`wasserstein_distance`], and when `reference` is constant (its
/// standard deviation is 0, so nothing can be normalised by it).
pub fn normalized_wasserstein_distance(
    reference: &[f64],
    current: &[f64],
) -> Result<f64, StatsError> {
    let distance = wasserstein_distance(reference, current)?;
    scale_by_std(distance, reference)
}

/// [`normalized_wasserstein_distance`] on samples already sorted ascending (see
/// [`wasserstein_distance_sorted`]).
pub fn normalized_wasserstein_distance_sorted(
    reference: &[f64],
    current: &[f64],
) -> Result<f64, StatsError> {
    let distance = wasserstein_distance_sorted(reference, current)?;
    scale_by_std(distance, reference)
}

/// `distance / numpy.std(reference)`, refusing a constant reference.
fn scale_by_std(distance: f64, reference: &[f64]) -> Result<f64, StatsError> {
    let deviation = population_std(reference);
    if deviation == 0.0 {
        return Err(StatsError::InvalidParameter {
            argument: "reference",
            value: 0.0,
            reason: "the reference sample is constant, so its standard deviation (0) cannot scale the distance",
        });
    }
    Ok(distance / deviation)
}

/// `numpy.std(values)`: the square root of the mean squared deviation from the mean.
pub(crate) fn population_std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let squares: f64 = values
        .iter()
        .map(|value| (value - mean) * (value - mean))
        .sum();
    (squares / n).sqrt()
}

/// Sorts values together with their weights and returns the cumulative weights
/// `[0, w₁, w₁+w₂, …]` in sorted order (numpy's stable `argsort`).
fn sort_with_weights(
    values_name: &'static str,
    values: &[f64],
    weights_name: &'static str,
    weights: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), StatsError> {
    check_finite(values_name, values)?;
    check_non_negative(weights_name, weights)?;
    check_same_len(values_name, values, weights_name, weights)?;
    let total: f64 = weights.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(StatsError::InvalidParameter {
            argument: weights_name,
            value: total,
            reason: "the weights must have a positive, finite sum",
        });
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let sorted = order.iter().map(|&index| values[index]).collect();
    let mut cumulative = Vec::with_capacity(values.len() + 1);
    cumulative.push(0.0);
    let mut running = 0.0;
    for &index in &order {
        running += weights[index];
        cumulative.push(running);
    }
    Ok((sorted, cumulative))
}

/// `Σ |U(tᵢ) − V(tᵢ)| (tᵢ₊₁ − tᵢ)` over the sorted union `t` of both samples, where
/// `U(t) = cumulative[#{u ≤ t}] / cumulative[last]`.
fn cdf_distance(
    u_sorted: &[f64],
    u_cumulative: &[f64],
    v_sorted: &[f64],
    v_cumulative: &[f64],
) -> f64 {
    let mut all_values: Vec<f64> = u_sorted.iter().chain(v_sorted).copied().collect();
    all_values.sort_by(f64::total_cmp);
    let u_total = u_cumulative[u_cumulative.len() - 1];
    let v_total = v_cumulative[v_cumulative.len() - 1];
    all_values
        .windows(2)
        .map(|pair| {
            let u_cdf = u_cumulative[u_sorted.partition_point(|&x| x <= pair[0])] / u_total;
            let v_cdf = v_cumulative[v_sorted.partition_point(|&x| x <= pair[0])] / v_total;
            (u_cdf - v_cdf).abs() * (pair[1] - pair[0])
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scipy_documentation_examples() {
        assert_eq!(
            wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]),
            Ok(5.0)
        );
        let weighted = weighted_wasserstein_distance(
            &[3.4, 3.9, 7.5, 7.8],
            &[1.4, 0.9, 3.1, 7.2],
            &[4.5, 1.4],
            &[3.2, 3.5],
        )
        .expect("valid input");
        assert!((weighted - 4.078_133_143_804_786).abs() < 1e-12);
    }

    #[test]
    fn normalised_distance_refuses_constant_reference() {
        assert!(matches!(
            normalized_wasserstein_distance(&[2.0, 2.0], &[1.0]),
            Err(StatsError::InvalidParameter {
                argument: "reference",
                ..
            })
        ));
        let scaled = normalized_wasserstein_distance(&[0.0, 2.0], &[1.0, 3.0]).expect("valid");
        assert!((scaled - 1.0).abs() < 1e-15);
    }

    #[test]
    fn bad_weights_are_refused() {
        assert!(matches!(
            weighted_wasserstein_distance(&[1.0], &[0.0], &[1.0], &[1.0]),
            Err(StatsError::InvalidParameter {
                argument: "u_weights",
                ..
            })
        ));
        assert!(matches!(
            weighted_wasserstein_distance(&[1.0], &[-1.0], &[1.0], &[1.0]),
            Err(StatsError::Negative { .. })
        ));
    }
}
