//! Drift tests for categorical features and rates: the chi-square test of a
//! contingency table, the chi-square goodness-of-fit test against reference
//! proportions, and the pooled two-proportion z-test.

use std::collections::BTreeMap;

use crate::error::{StatsError, check_non_negative, check_same_len};
use crate::special::{chi_square_sf, normal_two_sided_p};

/// Result of a chi-square test.
#[derive(Debug, Clone, PartialEq)]
pub struct ChiSquareTest {
    /// Pearson's statistic (Yates-corrected where [`chi2_contingency`] says so).
    pub statistic: f64,
    /// `chi2.sf(statistic, dof)`.
    pub pvalue: f64,
    /// Degrees of freedom.
    pub dof: usize,
    /// Cramér's V, `√(χ²/(n·(min(r, c) − 1)))` from the *uncorrected* statistic, as
    /// `scipy.stats.contingency.association(table, method="cramer")`; 0 for a
    /// goodness-of-fit test (no second margin).
    pub cramers_v: f64,
}

/// `scipy.stats.chi2_contingency(table, correction)` for a two-way table of counts
/// (rows of equal length, e.g. `[reference_counts, current_counts]`).
///
/// Expected counts are `row total · column total / n`. With one degree of freedom
/// (a 2×2 table) and `correction`, Yates' correction moves every observed count
/// toward its expectation by `min(½, |expected − observed|)`, exactly as scipy does;
/// scipy's default is `correction = true`. A table with zero degrees of freedom
/// (a single row or column) has statistic 0 and p-value 1. A zero expected count
/// (an all-zero row or column) is an error, as in scipy.
pub fn chi2_contingency(table: &[Vec<f64>], correction: bool) -> Result<ChiSquareTest, StatsError> {
    let first = table
        .first()
        .ok_or(StatsError::Empty { argument: "table" })?;
    for row in table {
        check_non_negative("table", row)?;
        check_same_len("table[0]", first, "table row", row)?;
    }
    let n_columns = first.len();
    let row_totals: Vec<f64> = table.iter().map(|row| row.iter().sum()).collect();
    let column_totals: Vec<f64> = (0..n_columns)
        .map(|column| table.iter().map(|row| row[column]).sum())
        .collect();
    let total: f64 = row_totals.iter().sum();
    let expected_of = |row: usize, column: usize| row_totals[row] * column_totals[column] / total;
    for (row, _) in table.iter().enumerate() {
        for column in 0..n_columns {
            if expected_of(row, column) == 0.0 {
                return Err(StatsError::ZeroExpected {
                    location: format!("cell ({row}, {column})"),
                    hint: "drop categories and samples that have no counts at all",
                });
            }
        }
    }
    let dof = (table.len() - 1) * (n_columns - 1);
    let pearson = |adjust: bool| -> f64 {
        let mut statistic = 0.0;
        for (row, values) in table.iter().enumerate() {
            for (column, &observed) in values.iter().enumerate() {
                let expected = expected_of(row, column);
                let difference = expected - observed;
                let observed = if adjust {
                    observed + difference.abs().min(0.5) * difference.signum_or_zero()
                } else {
                    observed
                };
                statistic += (observed - expected) * (observed - expected) / expected;
            }
        }
        statistic
    };
    let uncorrected = pearson(false);
    let smaller_side = table.len().min(n_columns) as f64 - 1.0;
    let cramers_v = if smaller_side > 0.0 {
        (uncorrected / (total * smaller_side)).sqrt()
    } else {
        0.0
    };
    if dof == 0 {
        return Ok(ChiSquareTest {
            statistic: 0.0,
            pvalue: 1.0,
            dof,
            cramers_v,
        });
    }
    let statistic = if dof == 1 && correction {
        pearson(true)
    } else {
        uncorrected
    };
    Ok(ChiSquareTest {
        statistic,
        pvalue: chi_square_sf(statistic, dof as f64),
        dof,
        cramers_v,
    })
}

/// `numpy.sign`, with 0 for 0 (Rust's `signum` gives ±1 for ±0).
trait SignumOrZero {
    fn signum_or_zero(self) -> f64;
}

impl SignumOrZero for f64 {
    fn signum_or_zero(self) -> f64 {
        if self == 0.0 { 0.0 } else { self.signum() }
    }
}

/// `scipy.stats.chisquare(observed, f_exp)` with `f_exp` the reference proportions
/// scaled to the observed total: `Σ (o − e)²/e` on `k − 1` degrees of freedom.
///
/// `reference_proportions` need not sum to one (they are normalised). A category with
/// zero reference proportion but observed counts makes the statistic infinite and is
/// an error: use [`chi2_contingency`] to compare against a reference sample instead.
/// A single category has statistic 0 and p-value 1 (scipy: NaN, zero degrees of freedom).
pub fn chi2_goodness_of_fit(
    observed: &[f64],
    reference_proportions: &[f64],
) -> Result<ChiSquareTest, StatsError> {
    check_non_negative("observed", observed)?;
    check_non_negative("reference_proportions", reference_proportions)?;
    check_same_len(
        "observed",
        observed,
        "reference_proportions",
        reference_proportions,
    )?;
    let observed_total: f64 = observed.iter().sum();
    let proportion_total: f64 = reference_proportions.iter().sum();
    if proportion_total <= 0.0 {
        return Err(StatsError::InvalidParameter {
            argument: "reference_proportions",
            value: proportion_total,
            reason: "the reference proportions must have a positive total",
        });
    }
    let mut statistic = 0.0;
    for (index, (&count, &proportion)) in observed.iter().zip(reference_proportions).enumerate() {
        let expected = proportion / proportion_total * observed_total;
        if expected == 0.0 {
            return Err(StatsError::ZeroExpected {
                location: format!("category {index}"),
                hint: "a category absent from the reference cannot be tested by goodness of fit; use chi2_contingency",
            });
        }
        statistic += (count - expected) * (count - expected) / expected;
    }
    let dof = observed.len() - 1;
    Ok(ChiSquareTest {
        statistic,
        pvalue: if dof == 0 {
            1.0
        } else {
            chi_square_sf(statistic, dof as f64)
        },
        dof,
        cramers_v: 0.0,
    })
}

/// Category counts of two samples over the union of their categories, in ascending
/// category order: the `2 × k` table [`chi2_contingency`] takes.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryCounts<T> {
    /// The categories seen in either sample, sorted.
    pub categories: Vec<T>,
    /// Count of each category in the reference sample.
    pub reference: Vec<f64>,
    /// Count of each category in the current sample.
    pub current: Vec<f64>,
}

impl<T: Ord + Clone> CategoryCounts<T> {
    /// Counts both samples.
    pub fn from_samples(reference: &[T], current: &[T]) -> Self {
        let mut tally: BTreeMap<T, (f64, f64)> = BTreeMap::new();
        for category in reference {
            tally.entry(category.clone()).or_default().0 += 1.0;
        }
        for category in current {
            tally.entry(category.clone()).or_default().1 += 1.0;
        }
        let mut counts = Self {
            categories: Vec::with_capacity(tally.len()),
            reference: Vec::with_capacity(tally.len()),
            current: Vec::with_capacity(tally.len()),
        };
        for (category, (in_reference, in_current)) in tally {
            counts.categories.push(category);
            counts.reference.push(in_reference);
            counts.current.push(in_current);
        }
        counts
    }

    /// The table `[reference, current]`.
    pub fn table(&self) -> Vec<Vec<f64>> {
        vec![self.reference.clone(), self.current.clone()]
    }
}

/// Result of [`two_proportion_ztest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTest {
    /// `(p₁ − p₂) / √(p̄(1 − p̄)(1/n₁ + 1/n₂))` with the pooled proportion `p̄`.
    pub statistic: f64,
    /// Two-sided p-value `2·norm.sf(|z|)`.
    pub pvalue: f64,
}

/// `statsmodels.stats.proportion.proportions_ztest([count_1, count_2], [n_1, n_2])`:
/// the pooled two-sided z-test of equal proportions.
///
/// When the pooled proportion is 0 or 1 both samples agree exactly; statsmodels
/// returns NaN there (0/0), this returns statistic 0 and p-value 1.
pub fn two_proportion_ztest(
    count_1: u64,
    n_1: u64,
    count_2: u64,
    n_2: u64,
) -> Result<ZTest, StatsError> {
    for (argument, count, n) in [("count_1", count_1, n_1), ("count_2", count_2, n_2)] {
        if n == 0 {
            return Err(StatsError::Empty { argument });
        }
        if count > n {
            return Err(StatsError::InvalidParameter {
                argument,
                value: count as f64,
                reason: "a count cannot exceed its number of observations",
            });
        }
    }
    let (count_1, n_1, count_2, n_2) = (count_1 as f64, n_1 as f64, count_2 as f64, n_2 as f64);
    let difference = count_1 / n_1 - count_2 / n_2;
    let pooled = (count_1 + count_2) / (n_1 + n_2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n_1 + 1.0 / n_2);
    if variance == 0.0 {
        return Ok(ZTest {
            statistic: 0.0,
            pvalue: 1.0,
        });
    }
    let statistic = difference / variance.sqrt();
    Ok(ZTest {
        statistic,
        pvalue: normal_two_sided_p(statistic),
    })
}
