//! Paired comparisons of two models scored on the same rows, for the validation gate:
//! McNemar's test on their correctness, and a seeded paired bootstrap confidence
//! interval for the difference of any metric.

use crate::error::{StatsError, check_non_empty, check_same_len};
use crate::quantile::{percentile_of_sorted, sorted_finite};
use crate::rng::Xoshiro256StarStar;
use crate::special::{binomial_half_cdf, chi_square_sf};

/// Below this many discordant rows the exact binomial p-value is the one to use.
pub const MCNEMAR_EXACT_BELOW: u64 = 25;

/// McNemar's test of two classifiers' correctness on the same rows.
///
/// Equal to `statsmodels.stats.contingency_tables.mcnemar` on the 2×2 table
/// `[[both right, b], [c, both wrong]]`:
/// - `exact=True`: `min(1, 2 · binom.cdf(min(b, c), b + c, ½))`;
/// - `exact=False`: `(|b − c| − k)² / (b + c)` against χ²(1), with `k = 1` (continuity
///   correction, statsmodels' default) or `k = 0`.
///
/// When `b + c = 0` the models never disagree: statsmodels divides by zero; here both
/// statistics are 0 and every p-value is 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Rows model A got right and model B got wrong.
    pub b: u64,
    /// Rows model A got wrong and model B got right.
    pub c: u64,
    /// `(|b − c| − 1)² / (b + c)`.
    pub statistic_corrected: f64,
    /// χ²(1) survival of `statistic_corrected`.
    pub pvalue_corrected: f64,
    /// `(b − c)² / (b + c)`.
    pub statistic_uncorrected: f64,
    /// χ²(1) survival of `statistic_uncorrected`.
    pub pvalue_uncorrected: f64,
    /// The exact two-sided binomial p-value (computed for any `b + c`).
    pub pvalue_exact: f64,
}

impl McNemar {
    /// The p-value to report: exact when `b + c < 25`, else the corrected chi-square.
    pub fn pvalue(&self) -> f64 {
        if self.b + self.c < MCNEMAR_EXACT_BELOW {
            self.pvalue_exact
        } else {
            self.pvalue_corrected
        }
    }
}

/// McNemar's test from the two discordant counts.
pub fn mcnemar_from_counts(b: u64, c: u64) -> McNemar {
    let discordant = b + c;
    if discordant == 0 {
        return McNemar {
            b,
            c,
            statistic_corrected: 0.0,
            pvalue_corrected: 1.0,
            statistic_uncorrected: 0.0,
            pvalue_uncorrected: 1.0,
            pvalue_exact: 1.0,
        };
    }
    let difference = b.abs_diff(c) as f64;
    let statistic_corrected = (difference - 1.0).powi(2) / discordant as f64;
    let statistic_uncorrected = difference.powi(2) / discordant as f64;
    McNemar {
        b,
        c,
        statistic_corrected,
        pvalue_corrected: chi_square_sf(statistic_corrected, 1.0),
        statistic_uncorrected,
        pvalue_uncorrected: chi_square_sf(statistic_uncorrected, 1.0),
        pvalue_exact: (2.0 * binomial_half_cdf(b.min(c), discordant)).min(1.0),
    }
}

/// McNemar's test from per-row correctness of model A and model B.
pub fn mcnemar(correct_a: &[bool], correct_b: &[bool]) -> Result<McNemar, StatsError> {
    check_non_empty("correct_a", correct_a)?;
    check_same_len("correct_a", correct_a, "correct_b", correct_b)?;
    let b = correct_a
        .iter()
        .zip(correct_b)
        .filter(|&(&a, &b)| a && !b)
        .count() as u64;
    let c = correct_a
        .iter()
        .zip(correct_b)
        .filter(|&(&a, &b)| !a && b)
        .count() as u64;
    Ok(mcnemar_from_counts(b, c))
}

/// Settings of the paired bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    /// Number of resamples drawn (default 2000).
    pub n_resamples: usize,
    /// Two-sided confidence level in (0, 1) (default 0.95).
    pub confidence: f64,
    /// Seed of the generator; equal seeds give equal intervals everywhere (default 0).
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            n_resamples: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A percentile bootstrap confidence interval of a paired difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapInterval {
    /// The difference on all rows.
    pub estimate: f64,
    /// Lower bound: the `(1 − confidence)/2` percentile of the resampled differences.
    pub low: f64,
    /// Upper bound: the `(1 + confidence)/2` percentile.
    pub high: f64,
    /// Resamples whose difference was computed.
    pub n_used: usize,
    /// Resamples skipped because the metric was undefined on them (e.g. one class).
    pub n_failed: usize,
}

/// A seeded, paired percentile bootstrap of `difference` over `n_rows` rows.
///
/// Resample `r` (for `r = 0..n_resamples`) draws `n_rows` row indices with replacement,
/// each `rng.below(n_rows)` from one [`Xoshiro256StarStar`] seeded with `config.seed`,
/// in order; `difference` receives them and returns metric(A) − metric(B) on those
/// rows. Both models see the same rows, which is what makes the comparison paired.
/// A resample on which `difference` fails is counted in `n_failed` and skipped. The
/// bounds are numpy `'linear'` percentiles of the successful differences, as
/// `scipy.stats.bootstrap(method="percentile")` takes them.
pub fn paired_bootstrap<F>(
    n_rows: usize,
    config: &BootstrapConfig,
    mut difference: F,
) -> Result<BootstrapInterval, StatsError>
where
    F: FnMut(&[usize]) -> Result<f64, StatsError>,
{
    if n_rows == 0 {
        return Err(StatsError::Empty { argument: "rows" });
    }
    if config.n_resamples == 0 {
        return Err(StatsError::InvalidParameter {
            argument: "n_resamples",
            value: 0.0,
            reason: "draw at least one resample",
        });
    }
    if !(config.confidence > 0.0 && config.confidence < 1.0) {
        return Err(StatsError::InvalidParameter {
            argument: "confidence",
            value: config.confidence,
            reason: "the confidence level must lie strictly between 0 and 1",
        });
    }
    let all_rows: Vec<usize> = (0..n_rows).collect();
    let estimate = difference(&all_rows)?;

    let mut rng = Xoshiro256StarStar::seed_from_u64(config.seed);
    let mut differences = Vec::with_capacity(config.n_resamples);
    let mut last_error = None;
    let mut rows = vec![0; n_rows];
    for _ in 0..config.n_resamples {
        for row in rows.iter_mut() {
            // `below(n)` < n = n_rows, which came from a usize.
            *row = rng.below(n_rows as u64) as usize;
        }
        match difference(&rows) {
            Ok(value) => differences.push(value),
            Err(error) => last_error = Some(error),
        }
    }
    let n_failed = config.n_resamples - differences.len();
    if differences.is_empty() {
        return Err(StatsError::BootstrapFailed {
            n_resamples: config.n_resamples,
            last: Box::new(last_error.unwrap_or(StatsError::Empty { argument: "rows" })),
        });
    }
    let sorted = sorted_finite("bootstrap differences", &differences)?;
    let alpha = (1.0 - config.confidence) / 2.0;
    Ok(BootstrapInterval {
        estimate,
        low: percentile_of_sorted(&sorted, alpha * 100.0)?,
        high: percentile_of_sorted(&sorted, (1.0 - alpha) * 100.0)?,
        n_used: sorted.len(),
        n_failed,
    })
}

/// A metric of labels or scores against the truth, e.g. [`super::accuracy`] or
/// [`super::roc_auc`].
pub type Metric = fn(&[f64], &[f64]) -> Result<f64, StatsError>;

/// [`paired_bootstrap`] of `metric(y_true, predictions_a) − metric(y_true, predictions_b)`.
pub fn paired_bootstrap_metric(
    y_true: &[f64],
    predictions_a: &[f64],
    predictions_b: &[f64],
    metric: Metric,
    config: &BootstrapConfig,
) -> Result<BootstrapInterval, StatsError> {
    check_non_empty("y_true", y_true)?;
    check_same_len("y_true", y_true, "predictions_a", predictions_a)?;
    check_same_len("y_true", y_true, "predictions_b", predictions_b)?;
    let mut truth = Vec::with_capacity(y_true.len());
    let mut resampled_a = Vec::with_capacity(y_true.len());
    let mut resampled_b = Vec::with_capacity(y_true.len());
    paired_bootstrap(y_true.len(), config, |rows| {
        truth.clear();
        resampled_a.clear();
        resampled_b.clear();
        for &row in rows {
            truth.push(y_true[row]);
            resampled_a.push(predictions_a[row]);
            resampled_b.push(predictions_b[row]);
        }
        Ok(metric(&truth, &resampled_a)? - metric(&truth, &resampled_b)?)
    })
}
