//! Inputs a user may send by mistake: each is refused with an error that says what is
//! wrong, coded INVALID_ARGUMENT, never a panic.

use bascule_core::{Coded, ErrorCode};
use bascule_datasets::{DatasetError, Format, read_bytes, read_path};

use crate::data_file;

fn read_csv_text(text: &'static str) -> DatasetError {
    read_bytes(text.as_bytes(), Format::Csv).unwrap_err()
}

#[test]
fn a_ragged_csv_names_the_line_and_the_counts() {
    let error = read_csv_text("a,b,c\n1,2,3\n4,5\n");
    assert_eq!(
        error.to_string(),
        "line 3 has 2 fields but the header has 3: every row needs one field per column"
    );
    assert_eq!(error.code(), ErrorCode::InvalidArgument);
}

#[test]
fn an_empty_csv_is_refused() {
    let error = read_csv_text("");
    assert!(matches!(error, DatasetError::EmptyCsv));
    assert_eq!(error.code(), ErrorCode::InvalidArgument);
}

#[test]
fn duplicate_csv_columns_are_named() {
    let error = read_csv_text("x,y,x\n1,2,3\n");
    assert_eq!(
        error.to_string(),
        "duplicate column names: 'x': every column needs a distinct name"
    );
}

#[test]
fn bytes_that_are_not_parquet_are_refused() {
    let error = read_bytes(&b"a,b\n1,2\n"[..], Format::Parquet).unwrap_err();
    assert!(matches!(error, DatasetError::NotParquet));
    let error = read_bytes(&b""[..], Format::Parquet).unwrap_err();
    assert!(matches!(error, DatasetError::NotParquet));
    assert_eq!(error.code(), ErrorCode::InvalidArgument);
}

#[test]
fn a_csv_file_named_parquet_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("holdout.parquet");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    assert!(matches!(read_path(&path), Err(DatasetError::NotParquet)));
}

#[test]
fn truncated_parquet_is_refused_at_every_length() {
    let bytes = std::fs::read(data_file("pyarrow_types.parquet")).unwrap();
    for length in [4, 8, bytes.len() / 2, bytes.len() - 9, bytes.len() - 1] {
        let error = read_bytes(bytes[..length].to_vec(), Format::Parquet).unwrap_err();
        assert!(
            matches!(error, DatasetError::MalformedParquet { .. }),
            "length {length}: {error:?}"
        );
        assert_eq!(error.code(), ErrorCode::InvalidArgument);
    }
}

#[test]
fn corrupt_parquet_pages_are_refused() {
    let mut bytes = std::fs::read(data_file("pyarrow_types.parquet")).unwrap();
    // Overwrite the data pages after the leading magic, keep the footer intact.
    let end = bytes.len() / 2;
    for byte in &mut bytes[4..end] {
        *byte = 0xA5;
    }
    let error = read_bytes(bytes, Format::Parquet).unwrap_err();
    assert!(
        matches!(error, DatasetError::MalformedParquet { .. }),
        "{error:?}"
    );
}

#[test]
fn a_missing_file_is_not_found() {
    let error = read_path(std::path::Path::new("/nonexistent/holdout.csv")).unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound);
    assert!(error.to_string().contains("/nonexistent/holdout.csv"));
}

#[test]
fn corrupt_bytes_anywhere_are_errors_not_panics() {
    let original = std::fs::read(data_file("pyarrow_types.parquet")).unwrap();
    for position in 0..original.len() {
        for value in [0x00, 0xFF, 0x01] {
            let mut bytes = original.clone();
            bytes[position] = value;
            // Ok (a byte the decoder does not check) or Err, but never a panic.
            if let Err(error) = read_bytes(bytes, Format::Parquet) {
                assert_eq!(error.code(), ErrorCode::InvalidArgument, "{error}");
            }
        }
    }
}
