//! `bascule-stats` owns Bascule's numbers: the model-quality metrics the validation
//! gate compares (equal to scikit-learn), the logistic regression `bascule train` fits
//! (equal to scikit-learn's), the paired tests that decide whether a
//! candidate beats its parent (McNemar, a seeded paired bootstrap), the drift
//! statistics the monitor reports (equal to scipy), latency percentiles (equal to
//! numpy), and the special functions under their p-values. It is pure and synchronous:
//! no I/O, no async, no global state, no dependency on any other Bascule crate — it
//! takes slices of numbers and returns numbers or a [`StatsError`]. It does not decide
//! thresholds, read data sets, or store reports; the lifecycle layer does that.
//!
//! Every statistic is tested against values recorded from the reference
//! implementations by `scripts/stats_oracle.py` (see `tests/data/`), to 1e-9
//! relative.
//!
//! - [`metrics`]: accuracy, precision, recall, F1, ROC AUC, log loss, Brier score
//!   (binary and multiclass), RMSE, MAE, R², mean error; McNemar's test and the seeded
//!   paired bootstrap.
//! - [`drift`]: two-sample Kolmogorov–Smirnov with exact and asymptotic p-values,
//!   Wasserstein-1, PSI and Jensen–Shannon over documented bins, chi-square
//!   contingency and goodness-of-fit tests, the two-proportion z-test, and the
//!   Benjamini–Hochberg and Bonferroni adjustments of a family of p-values.
//! - [`logistic`]: binary logistic regression with an L2 penalty, fitted by Newton's
//!   method to scikit-learn's `StandardScaler` + `LogisticRegression(C)` optimum.
//! - [`percentile`] and [`latency_summary`]: numpy's `'linear'` percentiles.
//!
//! ```
//! use bascule_stats::drift::{self, KsMethod};
//! use bascule_stats::metrics;
//!
//! let y_true = [0.0, 0.0, 1.0, 1.0];
//! let scores = [0.1, 0.4, 0.35, 0.8];
//! assert_eq!(metrics::roc_auc(&y_true, &scores)?, 0.75);
//!
//! let ks = drift::ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], KsMethod::Auto)?;
//! assert_eq!(ks.statistic, 1.0);
//! assert!((ks.pvalue - 0.1).abs() < 1e-15);
//! # Ok::<(), bascule_stats::StatsError>(())
//! ```

pub mod drift;
mod error;
pub mod logistic;
pub mod metrics;
mod quantile;
mod rng;
mod special;

pub use error::StatsError;
pub use quantile::{LatencySummary, latency_summary, percentile, percentiles};
pub use rng::Xoshiro256StarStar;
pub use special::{chi_square_sf, normal_sf, normal_two_sided_p};
