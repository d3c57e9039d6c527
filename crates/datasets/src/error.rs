//! The crate's one error type.
//!
//! Messages are written for the person who supplied the data: they name the line, the
//! column or the type that was wrong and say how to fix it. Problems with the data are
//! `INVALID_ARGUMENT`; a file that does not exist is `NOT_FOUND`; failing to read or write
//! bytes that were fine is `INTERNAL`.

use std::io;
use std::path::PathBuf;

use bascule_core::{Coded, ErrorCode};

/// Why a data set could not be read, written or reshaped.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file could not be opened or created.
    #[error("cannot open '{}'", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The path's extension names no format this crate reads.
    #[error(
        "cannot tell the format of '{}' from its extension: use .csv, .parquet or .pq",
        path.display()
    )]
    UnknownFormat { path: PathBuf },

    /// Reading the bytes failed (not their content: the reader itself).
    #[error("reading the data failed")]
    Read(#[source] io::Error),

    /// Writing the bytes failed.
    #[error("writing the data failed")]
    Write(#[source] io::Error),

    /// The CSV has no header row at all.
    #[error("the CSV is empty: its first line must name the columns")]
    EmptyCsv,

    /// A CSV row has more or fewer fields than the header.
    #[error(
        "line {line} has {found} fields but the header has {expected}: every row needs one field per column"
    )]
    RaggedRow {
        line: u64,
        expected: usize,
        found: usize,
    },

    /// A CSV line is not UTF-8.
    #[error("line {line} is not valid UTF-8: save the file as UTF-8")]
    InvalidUtf8 { line: u64 },

    /// The CSV parser failed in a way not covered by a more specific variant.
    #[error("the CSV is malformed: {detail}")]
    MalformedCsv { detail: String },

    /// A header field other than the first (a writer's row index) is empty.
    #[error(
        "column {position} of the header has no name: name every column (only a leading row-index column may be unnamed)"
    )]
    UnnamedColumn { position: usize },

    /// The data set has no columns at all.
    #[error("the data set has no columns")]
    NoColumns,

    /// Two or more columns share a name.
    #[error("duplicate column names: {}: every column needs a distinct name", quoted(.names))]
    DuplicateColumns { names: Vec<String> },

    /// Columns asked for by name are not in the data set.
    #[error("the data set has no column named {}", quoted(.names))]
    MissingColumns { names: Vec<String> },

    /// The columns given to [`Frame::new`](crate::Frame::new) differ in length.
    #[error("column '{column}' has {found} rows but column '{first}' has {expected}")]
    LengthMismatch {
        first: String,
        expected: usize,
        column: String,
        found: usize,
    },

    /// A numeric column was needed but the column holds text.
    #[error("column '{column}' holds text, but a numeric column is needed here")]
    NotNumeric { column: String },

    /// The bytes do not start with Parquet's magic number.
    #[error("the data is not Parquet: it does not start with the magic bytes 'PAR1'")]
    NotParquet,

    /// The Parquet data could not be decoded (truncated, corrupt, or compressed with a
    /// codec this build does not include).
    #[error("the Parquet data is malformed or truncated: {detail}")]
    MalformedParquet { detail: String },

    /// A Parquet column has a type with no numeric or text reading.
    #[error(
        "column '{column}' has type {data_type}, which cannot be read as numbers or text: convert or drop it"
    )]
    UnsupportedType { column: String, data_type: String },

    /// Encoding a frame as Parquet failed.
    #[error("writing Parquet failed: {detail}")]
    WriteParquet { detail: String },
}

/// `'a', 'b', 'c'`: names quoted and joined for a message.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Coded for DatasetError {
    fn code(&self) -> ErrorCode {
        match self {
            DatasetError::File { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ErrorCode::NotFound
            }
            DatasetError::File { .. }
            | DatasetError::Read(_)
            | DatasetError::Write(_)
            | DatasetError::WriteParquet { .. } => ErrorCode::Internal,
            DatasetError::UnknownFormat { .. }
            | DatasetError::EmptyCsv
            | DatasetError::RaggedRow { .. }
            | DatasetError::InvalidUtf8 { .. }
            | DatasetError::MalformedCsv { .. }
            | DatasetError::UnnamedColumn { .. }
            | DatasetError::NoColumns
            | DatasetError::DuplicateColumns { .. }
            | DatasetError::MissingColumns { .. }
            | DatasetError::LengthMismatch { .. }
            | DatasetError::NotNumeric { .. }
            | DatasetError::NotParquet
            | DatasetError::MalformedParquet { .. }
            | DatasetError::UnsupportedType { .. } => ErrorCode::InvalidArgument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_was_wrong() {
        let error = DatasetError::DuplicateColumns {
            names: vec!["a".to_owned(), "b".to_owned()],
        };
        assert_eq!(
            error.to_string(),
            "duplicate column names: 'a', 'b': every column needs a distinct name"
        );
        let error = DatasetError::RaggedRow {
            line: 7,
            expected: 3,
            found: 2,
        };
        assert!(
            error
                .to_string()
                .starts_with("line 7 has 2 fields but the header has 3")
        );
    }

    #[test]
    fn codes_separate_bad_data_from_missing_files_and_failures() {
        let missing = DatasetError::File {
            path: PathBuf::from("holdout.csv"),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(missing.code(), ErrorCode::NotFound);
        let denied = DatasetError::File {
            path: PathBuf::from("holdout.csv"),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(denied.code(), ErrorCode::Internal);
        assert_eq!(DatasetError::NotParquet.code(), ErrorCode::InvalidArgument);
        assert_eq!(DatasetError::EmptyCsv.code(), ErrorCode::InvalidArgument);
    }
}
