//! The datasets test-suite: real files (the logistic fixture's holdout, a rainfall
//! excerpt written by pandas, Parquet written by pyarrow and pandas through
//! `tests/data/make_parquet.py`), round trips through both formats, and bad inputs.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

mod bad_inputs;
mod csv_files;
mod parquet_files;
mod rainfall;
mod round_trip;

/// A file under this crate's `tests/data`.
fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A file under the workspace's `fixtures`.
fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}
