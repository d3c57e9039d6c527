//! Binned drift scores of a numeric feature: the population stability index (PSI)
//! and the Jensen–Shannon distance, over a documented binning.
//!
//! **Binning.** A [`Binning`] holds strictly increasing interior cut points
//! `e₁ < … < e_{k−1}`; bin 0 is `(−∞, e₁)`, bin `i` is `[eᵢ, eᵢ₊₁)`, the last bin is
//! `[e_{k−1}, +∞)`. A value equal to a cut point belongs to the bin above it
//! (`numpy.searchsorted(edges, x, side="right")`), and values outside the reference
//! range fall into the two open-ended outer bins, so no value of the current sample is
//! ever dropped. [`Binning::quantiles`] takes the cut points at the reference's
//! `i/k` quantiles (`numpy.quantile`, `'linear'`), `i = 1..k−1`; tied quantiles are
//! merged, so a heavily tied or constant reference yields fewer, wider bins.
//!
//! **PSI** `= Σᵢ (cᵢ − rᵢ) · ln(cᵢ / rᵢ)` over the reference proportions `r` and the
//! current proportions `c`. An empty bin would make the logarithm infinite, so every
//! proportion below [`PSI_EPSILON`] (1e-4) is raised to it, without renormalising —
//! the common convention, stated so the number can be recomputed.
//!
//! **Jensen–Shannon distance** equals `scipy.spatial.distance.jensenshannon(r, c,
//! base)` on the same proportions, with no epsilon (empty bins contribute 0):
//! `√((KL(r‖m) + KL(c‖m)) / 2)` with `m = (r + c)/2`, natural logarithm by default.

use crate::error::{StatsError, check_finite, check_non_negative};
use crate::quantile::{quantile_of_sorted, sorted_finite};

/// Floor applied to bin proportions before the PSI logarithm.
pub const PSI_EPSILON: f64 = 1e-4;

/// Cut points that split the real line into bins; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Binning {
    edges: Vec<f64>,
}

impl Binning {
    /// `n_bins` bins at the reference's quantiles (fewer if quantiles tie).
    ///
    /// Errors on an empty or non-finite reference, or `n_bins = 0`.
    pub fn quantiles(reference: &[f64], n_bins: usize) -> Result<Self, StatsError> {
        if n_bins == 0 {
            return Err(StatsError::InvalidParameter {
                argument: "n_bins",
                value: 0.0,
                reason: "at least one bin is needed",
            });
        }
        let sorted = sorted_finite("reference", reference)?;
        let mut edges: Vec<f64> = (1..n_bins)
            .map(|i| quantile_of_sorted(&sorted, i as f64 / n_bins as f64))
            .collect();
        edges.dedup();
        Ok(Self { edges })
    }

    /// Bins at caller-chosen interior cut points, which must be finite and strictly
    /// increasing (an empty list is one bin holding everything).
    pub fn fixed(edges: Vec<f64>) -> Result<Self, StatsError> {
        if let Some(index) = edges.iter().position(|edge| !edge.is_finite()) {
            return Err(StatsError::NonFinite {
                argument: "edges",
                index,
                value: edges[index],
            });
        }
        if let Some(index) = edges.windows(2).position(|pair| pair[0] >= pair[1]) {
            return Err(StatsError::InvalidParameter {
                argument: "edges",
                value: edges[index + 1],
                reason: "bin edges must be strictly increasing",
            });
        }
        Ok(Self { edges })
    }

    /// The interior cut points.
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// Number of bins (`edges().len() + 1`).
    pub fn n_bins(&self) -> usize {
        self.edges.len() + 1
    }

    /// How many values of `sample` fall in each bin.
    pub fn counts(&self, sample: &[f64]) -> Result<Vec<u64>, StatsError> {
        check_finite("sample", sample)?;
        let mut counts = vec![0; self.n_bins()];
        for &value in sample {
            counts[self.edges.partition_point(|&edge| edge <= value)] += 1;
        }
        Ok(counts)
    }

    /// The share of `sample` in each bin (sums to one).
    pub fn proportions(&self, sample: &[f64]) -> Result<Vec<f64>, StatsError> {
        let counts = self.counts(sample)?;
        let total = sample.len() as f64;
        Ok(counts.iter().map(|&count| count as f64 / total).collect())
    }
}

/// PSI of `current` against `reference`, both binned by `binning`.
pub fn population_stability_index(
    reference: &[f64],
    current: &[f64],
    binning: &Binning,
) -> Result<f64, StatsError> {
    let reference = binning.proportions(reference)?;
    let current = binning.proportions(current)?;
    psi_of_proportions(&reference, &current)
}

/// PSI between two vectors of bin proportions (each should sum to one).
pub fn psi_of_proportions(reference: &[f64], current: &[f64]) -> Result<f64, StatsError> {
    check_distributions(reference, current)?;
    Ok(reference
        .iter()
        .zip(current)
        .map(|(&expected, &actual)| {
            let (expected, actual) = (expected.max(PSI_EPSILON), actual.max(PSI_EPSILON));
            (actual - expected) * (actual / expected).ln()
        })
        .sum())
}

/// Logarithm base of the Jensen–Shannon distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogBase {
    /// Natural logarithm (scipy's default, `base=None`); the distance is at most √ln 2.
    #[default]
    Natural,
    /// Base 2 (`base=2`); the distance lies in `[0, 1]`.
    Two,
}

/// Jensen–Shannon distance of `current` against `reference`, both binned by `binning`.
pub fn jensen_shannon_binned(
    reference: &[f64],
    current: &[f64],
    binning: &Binning,
    base: LogBase,
) -> Result<f64, StatsError> {
    let reference = binning.proportions(reference)?;
    let current = binning.proportions(current)?;
    jensen_shannon_distance(&reference, &current, base)
}

/// `scipy.spatial.distance.jensenshannon(p, q, base)`: both vectors are first divided
/// by their sums; they must be non-negative, of equal length, and not all zero.
///
/// Rounding can leave the divergence a hair below zero for near-identical inputs,
/// where scipy would return NaN; here it is clamped to 0.
pub fn jensen_shannon_distance(p: &[f64], q: &[f64], base: LogBase) -> Result<f64, StatsError> {
    check_distributions(p, q)?;
    let (p_total, q_total): (f64, f64) = (p.iter().sum(), q.iter().sum());
    for (argument, total) in [("p", p_total), ("q", q_total)] {
        if total <= 0.0 {
            return Err(StatsError::InvalidParameter {
                argument,
                value: total,
                reason: "a distribution needs a positive total",
            });
        }
    }
    let relative_entropy = |x: f64, y: f64| if x == 0.0 { 0.0 } else { x * (x / y).ln() };
    let (mut left, mut right) = (0.0, 0.0);
    for (&p_value, &q_value) in p.iter().zip(q) {
        let (p_value, q_value) = (p_value / p_total, q_value / q_total);
        let middle = (p_value + q_value) / 2.0;
        left += relative_entropy(p_value, middle);
        right += relative_entropy(q_value, middle);
    }
    let mut divergence = left + right;
    if base == LogBase::Two {
        divergence /= std::f64::consts::LN_2;
    }
    Ok((divergence / 2.0).max(0.0).sqrt())
}

fn check_distributions(p: &[f64], q: &[f64]) -> Result<(), StatsError> {
    check_non_negative("p", p)?;
    check_non_negative("q", q)?;
    crate::error::check_same_len("p", p, "q", q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_binning_merges_ties_and_keeps_outliers() {
        let binning = Binning::quantiles(&[1.0, 1.0, 1.0, 1.0, 2.0], 4).expect("valid");
        assert_eq!(binning.edges(), &[1.0]);
        assert_eq!(binning.counts(&[0.0, 1.0, 5.0]), Ok(vec![1, 2]));
        assert_eq!(
            Binning::quantiles(&[0.0, 1.0, 2.0, 3.0, 4.0], 4).map(|b| b.edges().to_vec()),
            Ok(vec![1.0, 2.0, 3.0])
        );
    }

    #[test]
    fn identical_samples_score_zero() {
        let sample = [0.5, 1.5, 2.5, 3.5, 9.0];
        let binning = Binning::quantiles(&sample, 3).expect("valid");
        assert_eq!(
            population_stability_index(&sample, &sample, &binning),
            Ok(0.0)
        );
        assert_eq!(
            jensen_shannon_binned(&sample, &sample, &binning, LogBase::Two),
            Ok(0.0)
        );
    }

    #[test]
    fn disjoint_distributions_reach_the_maximum() {
        let distance =
            jensen_shannon_distance(&[1.0, 0.0], &[0.0, 1.0], LogBase::Two).expect("valid");
        assert!((distance - 1.0).abs() < 1e-15);
    }

    #[test]
    fn invalid_binnings_are_refused() {
        assert!(Binning::fixed(vec![1.0, 1.0]).is_err());
        assert!(Binning::fixed(vec![f64::NAN]).is_err());
        assert!(Binning::quantiles(&[1.0], 0).is_err());
        assert!(jensen_shannon_distance(&[0.0], &[1.0], LogBase::Natural).is_err());
    }
}
