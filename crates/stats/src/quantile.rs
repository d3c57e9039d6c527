//! Percentiles with numpy's default `'linear'` method, and the latency summary the
//! monitor reports (p50, p90, p95, p99 and the maximum).
//!
//! `numpy.percentile(a, q)` sorts the sample, places the virtual index
//! `(n − 1) · q / 100`, and interpolates between its floor and the next element with
//! `a + (b − a)·t` for `t < ½` and `b − (b − a)·(1 − t)` otherwise. [`percentile`]
//! follows the same steps, so the results agree to the last bit or so.

use crate::error::{StatsError, check_finite};

/// The `q`-th percentile (`0 ≤ q ≤ 100`) of `values`, as `numpy.percentile(values, q)`.
///
/// Errors on an empty sample, a NaN or infinite value, or `q` outside `[0, 100]`.
pub fn percentile(values: &[f64], q: f64) -> Result<f64, StatsError> {
    let sorted = sorted_finite("values", values)?;
    percentile_of_sorted(&sorted, q)
}

/// Several percentiles of one sample, sorting it once; same rules as [`percentile`].
pub fn percentiles(values: &[f64], qs: &[f64]) -> Result<Vec<f64>, StatsError> {
    let sorted = sorted_finite("values", values)?;
    qs.iter()
        .map(|&q| percentile_of_sorted(&sorted, q))
        .collect()
}

/// Latency percentiles over one window of samples (any unit; the caller's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: usize,
    /// Median, `numpy.percentile(samples, 50)`.
    pub p50: f64,
    /// `numpy.percentile(samples, 90)`.
    pub p90: f64,
    /// `numpy.percentile(samples, 95)`.
    pub p95: f64,
    /// `numpy.percentile(samples, 99)`.
    pub p99: f64,
    /// The largest sample.
    pub max: f64,
}

/// Summarises a window of latency samples; errors on an empty or non-finite sample.
pub fn latency_summary(samples: &[f64]) -> Result<LatencySummary, StatsError> {
    let sorted = sorted_finite("samples", samples)?;
    Ok(LatencySummary {
        count: sorted.len(),
        p50: percentile_of_sorted(&sorted, 50.0)?,
        p90: percentile_of_sorted(&sorted, 90.0)?,
        p95: percentile_of_sorted(&sorted, 95.0)?,
        p99: percentile_of_sorted(&sorted, 99.0)?,
        max: sorted[sorted.len() - 1],
    })
}

/// Checks and sorts a sample (ascending, total order; there are no NaNs left to order).
pub(crate) fn sorted_finite(
    argument: &'static str,
    values: &[f64],
) -> Result<Vec<f64>, StatsError> {
    check_finite(argument, values)?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok(sorted)
}

/// numpy's `'linear'` percentile of an already sorted, non-empty, finite sample:
/// `numpy.percentile` divides `q` by 100 and takes the quantile.
pub(crate) fn percentile_of_sorted(sorted: &[f64], q: f64) -> Result<f64, StatsError> {
    if !(0.0..=100.0).contains(&q) {
        return Err(StatsError::InvalidParameter {
            argument: "q",
            value: q,
            reason: "percentiles must lie in [0, 100]",
        });
    }
    Ok(quantile_of_sorted(sorted, q / 100.0))
}

/// numpy's `'linear'` quantile (`0 ≤ fraction ≤ 1`) of a sorted, non-empty sample.
pub(crate) fn quantile_of_sorted(sorted: &[f64], fraction: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * fraction;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if virtual_index <= 0.0 {
        return sorted[0];
    }
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    // `previous` is in [0, n-1) here, so the cast and `+ 1` stay in bounds.
    let below = sorted[previous as usize];
    let above = sorted[previous as usize + 1];
    lerp(below, above, gamma)
}

/// numpy's `_lerp`: the form that is exact at whichever end `t` is closer to.
fn lerp(below: f64, above: f64, t: f64) -> f64 {
    let difference = above - below;
    if t >= 0.5 {
        above - difference * (1.0 - t)
    } else {
        below + difference * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_numpy() {
        let values = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&values, 0.0), Ok(1.0));
        assert_eq!(percentile(&values, 100.0), Ok(4.0));
        assert_eq!(percentile(&values, 50.0), Ok(2.5));
        assert_eq!(percentile(&[7.0], 99.0), Ok(7.0));
        let many = percentiles(&values, &[25.0, 75.0]);
        assert_eq!(many, Ok(vec![1.75, 3.25]));
    }

    #[test]
    fn percentile_rejects_bad_input() {
        assert_eq!(
            percentile(&[], 50.0),
            Err(StatsError::Empty { argument: "values" })
        );
        assert!(matches!(
            percentile(&[1.0, f64::NAN], 50.0),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            percentile(&[1.0], 101.0),
            Err(StatsError::InvalidParameter { argument: "q", .. })
        ));
    }

    #[test]
    fn latency_summary_orders_its_percentiles() {
        let samples: Vec<f64> = (1..=1000).map(|i| i as f64 / 10.0).collect();
        let summary = latency_summary(&samples).expect("valid samples");
        assert_eq!(summary.count, 1000);
        assert!(summary.p50 <= summary.p90 && summary.p90 <= summary.p95);
        assert!(summary.p95 <= summary.p99 && summary.p99 <= summary.max);
        assert_eq!(summary.max, 100.0);
    }
}
