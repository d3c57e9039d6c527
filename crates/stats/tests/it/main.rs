//! The one integration-test binary of `bascule-stats`: every statistic against the
//! values `scripts/stats_oracle.py` recorded from scikit-learn, scipy, numpy and
//! statsmodels (`tests/data/*.json`), the public error paths, and property tests of
//! the invariants the statistics must keep on any input.

#![allow(clippy::unwrap_used)]

mod categorical;
mod drift;
mod errors;
mod logistic;
mod metrics;
mod oracle;
mod properties;
