//! `bascule-monitor` owns the drift report: for each feature of a current data set (a
//! window of production traffic, or a file) against its reference (the profile the
//! validation gate stored, or another file), which test runs, its statistic, p-value,
//! effect size and verdict, the p-values adjusted across features, the dataset-level
//! drift share, and histograms of both sides for plotting.
//!
//! It is pure and synchronous: it takes samples already in memory ([`Sample`]: sorted
//! finite numbers or category counts, missing values counted apart) and returns a
//! serialisable [`DriftReport`]. It reads no file, knows no prediction log, stores
//! nothing and schedules nothing: the CLI feeds it two data sets, the server feeds it a
//! reference profile and a window. The statistics come from `bascule-stats`.
//!
//! **The verdict rule.** A feature is `drifted` only when (1) both sides have at least
//! `min_sample_size` values (missing and non-finite excluded), (2) its p-value, adjusted
//! across the report's features (Benjamini–Hochberg by default), is below `alpha`, and
//! (3) its effect size — a measure that does not grow with the sample — reaches the
//! floor of its kind. So a large window of undrifted data is not flagged merely for
//! being large: at a million rows a KS test finds a shift of 0.01 standard deviations
//! "significant", but its effect (0.01) is far below the floor (0.1). A distance test
//! (Wasserstein, PSI, Jensen–Shannon, chosen by override) has no p-value and is judged
//! on (1) and (3). See [`config`] for the defaults table.
//!
//! **Odd columns** give a verdict, never an error or a panic: a column absent from one
//! side, an empty or all-missing side, fewer values than the minimum (a single row), a
//! numeric column on one side and text on the other, a test that does not apply — all
//! are `insufficient_data` with a reason. Constant columns are tested (a constant
//! reference is scaled by the KS statistic instead of its zero standard deviation);
//! categories unseen in the reference count in the chi-square table and are listed.
//!
//! ```
//! use bascule_monitor::{DriftConfig, FeatureInput, NumericSample, drift_report};
//!
//! let reference: Vec<f64> = (0..500).map(|i| f64::from(i % 50)).collect();
//! let current: Vec<f64> = (0..500).map(|i| f64::from(i % 50) + 20.0).collect();
//! let input = FeatureInput {
//!     name: "age".into(),
//!     reference: Some(NumericSample::from_values(reference).into()),
//!     current: Some(NumericSample::from_values(current).into()),
//! };
//! let report = drift_report(&[input], &DriftConfig::default())?;
//! assert_eq!(report.drifted().collect::<Vec<_>>(), ["age"]);
//! # Ok::<(), bascule_monitor::MonitorError>(())
//! ```

pub mod config;
mod error;
mod feature;
mod histogram;
mod report;
mod sample;

pub use config::{Correction, DriftConfig, EffectFloors, EffectKind, FeatureOverride, TestKind};
pub use error::MonitorError;
pub use feature::{
    FeatureDrift, InsufficientReason, MAX_LISTED_UNSEEN, MIN_EXPECTED_COUNT, Side, Verdict,
    measure_feature,
};
pub use histogram::Histogram;
pub use report::{DriftReport, FeatureInput, drift_report, finish_report};
pub use sample::{CategoricalSample, ColumnKind, NumericSample, Sample, SideSummary};
