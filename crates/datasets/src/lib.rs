//! Bascule's tabular data sets: reading CSV and Parquet into an in-memory columnar
//! [`Frame`] and writing a frame back out as either. The validation gate reads holdout
//! files through it, monitoring loads its reference and current samples, and feedback
//! exports production traffic. A column is either numeric — one `Vec<f64>`, NaN for a
//! missing value — or text, dictionary-encoded ([`TextValues`]); [`read_csv`] and
//! [`read_parquet`] say how each format's types map onto those two.
//!
//! This is the only crate that names `csv`, `parquet` and `arrow`; none of their types
//! appear in its API. It does no statistics, knows no model or tensor type, and depends
//! on `bascule-core` only for the `Coded` error-code trait. Its functions are synchronous
//! and CPU-bound: async callers run them on a blocking thread.

mod arrow_columns;
mod csv_format;
mod error;
mod format;
mod frame;
mod parquet_format;
mod text;

pub use csv_format::{read_csv, write_csv};
pub use error::DatasetError;
pub use format::{Format, read_bytes, read_column_names, read_path, read_path_columns, write_path};
pub use frame::{Column, ColumnValues, Frame};
pub use parquet_format::{read_parquet, write_parquet};
pub use text::TextValues;
