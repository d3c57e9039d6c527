//! Drift statistics comparing a current window of a feature with its reference
//! sample, each equal to its scipy counterpart.
//!
//! | statistic | scipy | function |
//! |---|---|---|
//! | two-sample Kolmogorov–Smirnov | `stats.ks_2samp` | [`ks_2samp`] |
//! | Kolmogorov distribution, finite `n` | `stats.kstwo.sf` | [`kolmogorov_smirnov_sf`] |
//! | Kolmogorov distribution, limit | `stats.kstwobign.sf` | [`kolmogorov_limit_sf`] |
//! | Wasserstein-1 | `stats.wasserstein_distance` | [`wasserstein_distance`], [`weighted_wasserstein_distance`] |
//! | Jensen–Shannon distance | `spatial.distance.jensenshannon` | [`jensen_shannon_distance`] |
//! | chi-square independence | `stats.chi2_contingency` | [`chi2_contingency`] |
//! | chi-square goodness of fit | `stats.chisquare` | [`chi2_goodness_of_fit`] |
//! | two-proportion z-test | statsmodels `proportions_ztest` | [`two_proportion_ztest`] |
//! | Benjamini–Hochberg, Bonferroni | `stats.false_discovery_control`, statsmodels `multipletests` | [`adjust_pvalues`] |
//!
//! [`ks_2samp_sorted`] and [`wasserstein_distance_sorted`] take samples already sorted
//! (the monitor sorts each column once and runs both on it) and merge them in one pass.
//!
//! The population stability index has no scipy counterpart; its binning and epsilon
//! are documented in [`Binning`] and [`PSI_EPSILON`] and checked against numpy.
//!
//! **Edge cases.** An empty sample, and a NaN or infinite value, are errors
//! ([`crate::StatsError`]): scipy propagates NaN, but a drift report should say that
//! values are missing rather than print NaN, so callers filter missing values and
//! report the missing rate as a statistic of its own. A single value per sample is
//! valid (two single values give a KS statistic of 0 or 1, and an exact p-value of 1). A
//! constant sample is valid everywhere except as the scale of
//! [`normalized_wasserstein_distance`].

mod binned;
mod categorical;
mod distance;
mod kolmogorov;
mod kolmogorov_methods;
mod ks;
mod multiple;
mod smirnov;

pub use binned::{
    Binning, LogBase, PSI_EPSILON, jensen_shannon_binned, jensen_shannon_distance,
    population_stability_index, psi_of_proportions,
};
pub use categorical::{
    CategoryCounts, ChiSquareTest, ZTest, chi2_contingency, chi2_goodness_of_fit,
    two_proportion_ztest,
};
pub use distance::{
    normalized_wasserstein_distance, normalized_wasserstein_distance_sorted, wasserstein_distance,
    wasserstein_distance_sorted, weighted_wasserstein_distance,
};
pub use kolmogorov::{kolmogorov_limit_sf, kolmogorov_smirnov_sf};
pub use ks::{KS_EXACT_MAX_N, KsMethod, KsTest, ks_2samp, ks_2samp_sorted};
pub use multiple::{Adjustment, adjust_pvalues};
