//! The two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp` (scipy 1.17)
//! computes it for `alternative='two-sided'`.
//!
//! - **Statistic**: both samples are sorted; at every observed value `v` (first those of
//!   the reference, then those of the current sample, each in sorted order) the
//!   difference of the empirical CDFs `F₁(v) − F₂(v)` is taken, counting values `≤ v`
//!   (so ties are handled); the statistic is the larger of the largest positive and the
//!   largest negative difference, and its location and sign are those of the first
//!   value reaching it.
//! - **Exact p-value** (Hodges 1958): with `g = gcd(n₁, n₂)`, `L = n₁n₂/g` and
//!   `h = round(D·L)`, the probability that a lattice path leaves the band
//!   `|x/n₁ − y/n₂| < h/L`. Equal sizes use the reflection formula (a Horner-evaluated
//!   alternating binomial sum); unequal sizes use the inside method with Viehmann's
//!   recursion for `1 − p` (arXiv:2102.08037), which is stable. As in scipy, the
//!   statistic reported then is `h / L`.
//! - **Asymptotic p-value**: `kstwo.sf(D, round(n₁n₂/(n₁+n₂)))` — the exact
//!   one-sample distribution at the effective sample size (see
//!   [`super::kolmogorov_smirnov_sf`]); `round` is numpy's, ties to even.
//! - **Auto**: exact when both samples have at most 10 000 values, asymptotic
//!   otherwise. An exact request whose `n₁/g · n₂/g` would overflow an `i32`, or whose
//!   computation fails, falls back to asymptotic; [`KsTest::method`] says which ran.

use super::kolmogorov::kolmogorov_smirnov_sf;
use crate::error::StatsError;
use crate::error::check_sorted_finite;
use crate::quantile::sorted_finite;

/// Largest sample size for which [`KsMethod::Auto`] computes the exact p-value.
pub const KS_EXACT_MAX_N: usize = 10_000;

/// How the p-value of [`ks_2samp`] is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KsMethod {
    /// Exact up to [`KS_EXACT_MAX_N`] values per sample, asymptotic above (scipy's default).
    #[default]
    Auto,
    /// The exact distribution of the two-sample statistic.
    Exact,
    /// The asymptotic (effective-sample-size Kolmogorov) distribution.
    Asymptotic,
}

/// Result of [`ks_2samp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    /// The largest absolute difference between the two empirical CDFs.
    pub statistic: f64,
    /// Two-sided p-value.
    pub pvalue: f64,
    /// The observed value at which the statistic is attained.
    pub location: f64,
    /// +1 when the reference ECDF is above the current one there, −1 when below.
    pub sign: i8,
    /// The method that produced `pvalue` ([`KsMethod::Exact`] or [`KsMethod::Asymptotic`]).
    pub method: KsMethod,
}

/// `scipy.stats.ks_2samp(reference, current, method=...)`, two-sided.
///
/// Errors on an empty sample or a NaN/infinite value (scipy propagates NaN; drift
/// callers filter missing values and report their rate separately), and for the
/// asymptotic method when both samples hold a single value (the effective size
/// rounds to 0, where scipy returns NaN).
pub fn ks_2samp(
    reference: &[f64],
    current: &[f64],
    method: KsMethod,
) -> Result<KsTest, StatsError> {
    let first = sorted_finite("reference", reference)?;
    let second = sorted_finite("current", current)?;
    ks_of_sorted(&first, &second, method)
}

/// [`ks_2samp`] on samples the caller has already sorted ascending: no copy and no
/// sort, one linear merge. The result is the same, bit for bit.
///
/// Errors as [`ks_2samp`] does, and with [`StatsError::NotSorted`] when a sample is not
/// in ascending order.
pub fn ks_2samp_sorted(
    reference: &[f64],
    current: &[f64],
    method: KsMethod,
) -> Result<KsTest, StatsError> {
    check_sorted_finite("reference", reference)?;
    check_sorted_finite("current", current)?;
    ks_of_sorted(reference, current, method)
}

fn ks_of_sorted(first: &[f64], second: &[f64], method: KsMethod) -> Result<KsTest, StatsError> {
    let (n1, n2) = (first.len(), second.len());
    let (statistic, location, sign) = two_sided_statistic(first, second);

    let g = gcd(n1 as u64, n2 as u64);
    let (n1g, n2g) = (n1 as u64 / g, n2 as u64 / g);
    let mut method = match method {
        KsMethod::Auto if n1.max(n2) <= KS_EXACT_MAX_N => KsMethod::Exact,
        KsMethod::Auto => KsMethod::Asymptotic,
        KsMethod::Exact if n1g as f64 >= f64::from(i32::MAX) / n2g as f64 => KsMethod::Asymptotic,
        other => other,
    };
    let mut statistic = statistic;
    let mut pvalue = f64::NAN;
    if method == KsMethod::Exact {
        let lcm = n1g * n2 as u64;
        let h = (statistic * lcm as f64).round_ties_even();
        statistic = h / lcm as f64;
        pvalue = if h == 0.0 {
            1.0
        } else if n1 == n2 {
            prob_outside_square(n1 as u64, h as u64)
        } else {
            outer_prob_inside(n1 as u64, n2 as u64, g, h as u64)
        };
        if !(0.0..=1.0).contains(&pvalue) {
            method = KsMethod::Asymptotic;
        }
    }
    if method == KsMethod::Asymptotic {
        let (large, small) = (n1.max(n2) as f64, n1.min(n2) as f64);
        let effective = (large * small / (large + small)).round_ties_even();
        if effective < 1.0 {
            return Err(StatsError::TooFewValues {
                argument: "reference and current",
                needed: 2,
                got: 1,
            });
        }
        // `effective` is a positive integer below n1·n2.
        pvalue = kolmogorov_smirnov_sf(effective as u64, statistic);
    }
    Ok(KsTest {
        statistic,
        pvalue: pvalue.clamp(0.0, 1.0),
        location,
        sign,
        method,
    })
}

/// The two-sided statistic, its location and sign, from two sorted samples.
///
/// scipy evaluates `F₁(v) − F₂(v)` at every value of the concatenation
/// `[reference, current]` and takes the first extreme in that order. One merge over the
/// distinct values gives the same differences; the first extreme in scipy's order is at
/// the smallest reference value reaching it if any reference value does, else at the
/// smallest current value reaching it.
fn two_sided_statistic(first: &[f64], second: &[f64]) -> (f64, f64, i8) {
    let (n1, n2) = (first.len() as f64, second.len() as f64);
    // (difference, location) of the extremes over reference values and over current values.
    let mut max_first = (f64::NEG_INFINITY, first[0]);
    let mut max_second = (f64::NEG_INFINITY, first[0]);
    let mut min_first = (f64::INFINITY, first[0]);
    let mut min_second = (f64::INFINITY, first[0]);
    let (mut i, mut j) = (0, 0);
    while i < first.len() || j < second.len() {
        let value = match (first.get(i), second.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let (start_i, start_j) = (i, j);
        while i < first.len() && first[i] <= value {
            i += 1;
        }
        while j < second.len() && second[j] <= value {
            j += 1;
        }
        let difference = i as f64 / n1 - j as f64 / n2;
        for (present, max, min) in [
            (i > start_i, &mut max_first, &mut min_first),
            (j > start_j, &mut max_second, &mut min_second),
        ] {
            if present {
                if difference > max.0 {
                    *max = (difference, value);
                }
                if difference < min.0 {
                    *min = (difference, value);
                }
            }
        }
    }
    let (max_difference, max_location) = if max_first.0 >= max_second.0 {
        max_first
    } else {
        max_second
    };
    let (min_difference, min_location) = if min_first.0 <= min_second.0 {
        min_first
    } else {
        min_second
    };
    let min_statistic = (-min_difference).clamp(0.0, 1.0);
    if min_statistic > max_difference {
        (min_statistic, min_location, -1)
    } else {
        (max_difference, max_location, 1)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `P(D_{n,n} ≥ h/n)` for two samples of equal size `n`:
/// `2 Σ_{k≥1} (−1)^{k−1} C(2n, n−kh) / C(2n, n)`, each ratio a product of `h` factors,
/// nested Horner-style as `2 A₁(1 − A₂(1 − A₃(…)))` to avoid cancellation.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut nested = 0.0;
    let n_float = n as f64;
    for k in (0..=n / h).rev() {
        let kh = (k * h) as f64;
        let mut ratio = 1.0;
        for j in 0..h {
            let j_float = j as f64;
            ratio = (n_float - kh - j_float) * ratio / (n_float + kh + j_float + 1.0);
        }
        nested = ratio * (1.0 - nested);
    }
    2.0 * nested
}

/// `1 − P(path stays strictly inside |x/m − y/n| < h/lcm(m, n))`: the inside method,
/// one column of the path-count table at a time, carrying the *complement* of the
/// normalised count so that small p-values keep their relative accuracy.
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (n, h) = (n as i64, h as i64);
    let mut min_j: i64 = 0;
    let mut max_j: i64 = ((h + mg - 1) / mg).min(n + 1);
    let mut current_length = max_j - min_j;
    let table_length = (2 * max_j + 2).min(n + 1) as usize;
    let mut column = vec![1.0; table_length];
    // Each cell divides by i + j, and each cell waits for the one before it: multiplying
    // by a reciprocal from a table shortens that chain (a division takes several times a
    // multiplication's latency) and moves the result by at most an ulp or so per step.
    let reciprocals: Vec<f64> = (0..=(m + n as u64)).map(|k| 1.0 / k as f64).collect();
    for value in column.iter_mut().take(max_j as usize) {
        *value = 0.0;
    }
    for i in 1..=(m as i64) {
        let (last_min_j, last_length) = (min_j, current_length);
        min_j = ((ng * i - h).div_euclid(mg) + 1).max(0).min(n);
        max_j = ((ng * i + h + mg - 1).div_euclid(mg)).min(n + 1);
        if max_j <= min_j {
            return 1.0;
        }
        let i_float = i as f64;
        let mut value = if min_j == 0 { 0.0 } else { 1.0 };
        for offset in 0..(max_j - min_j) {
            let j = (offset + min_j) as f64;
            let source = (offset + min_j - last_min_j) as usize;
            let carried = column.get(source).copied().unwrap_or(1.0);
            let reciprocal = reciprocals
                .get((i + offset + min_j) as usize)
                .copied()
                .unwrap_or(1.0 / (i_float + j));
            value = (carried * i_float + value * j) * reciprocal;
            if let Some(slot) = column.get_mut(offset as usize) {
                *slot = value;
            }
        }
        current_length = max_j - min_j;
        if last_length > current_length {
            let from = current_length as usize;
            let to = (from + (last_length - current_length) as usize).min(column.len());
            for slot in column.iter_mut().take(to).skip(from) {
                *slot = 1.0;
            }
        }
    }
    column
        .get((max_j - min_j - 1) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_zero_statistic() {
        let sample = [1.0, 2.0, 3.0, 4.0];
        let result = ks_2samp(&sample, &sample, KsMethod::Auto).expect("valid");
        assert_eq!(result.statistic, 0.0);
        assert_eq!(result.pvalue, 1.0);
        assert_eq!(result.method, KsMethod::Exact);
    }

    #[test]
    fn disjoint_samples_have_statistic_one() {
        let result = ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], KsMethod::Exact).expect("valid");
        assert_eq!(result.statistic, 1.0);
        assert_eq!(result.sign, 1);
        assert_eq!(result.location, 3.0);
        // Only 2 of the C(6, 3) = 20 orderings are this extreme.
        assert!((result.pvalue - 0.1).abs() < 1e-15);
    }

    #[test]
    fn empty_nan_and_single_values_are_refused() {
        assert!(matches!(
            ks_2samp(&[], &[1.0], KsMethod::Auto),
            Err(StatsError::Empty {
                argument: "reference"
            })
        ));
        assert!(matches!(
            ks_2samp(&[1.0], &[f64::NAN], KsMethod::Auto),
            Err(StatsError::NonFinite {
                argument: "current",
                ..
            })
        ));
        assert!(matches!(
            ks_2samp(&[1.0], &[2.0], KsMethod::Asymptotic),
            Err(StatsError::TooFewValues { .. })
        ));
    }
}
