//! Parquet files written by pyarrow and pandas (`tests/data/make_parquet.py`).

use bascule_datasets::{Column, DatasetError, Format, Frame, read_bytes, read_path};

use crate::data_file;

const NAN: f64 = f64::NAN;

#[test]
fn pyarrow_types_map_to_numbers_and_text() {
    let frame = read_path(&data_file("pyarrow_types.parquet")).unwrap();
    let expected = Frame::new(vec![
        Column::numeric("int64", vec![1.0, -2.0, NAN, 4.0, 5.0, 6.0]),
        Column::numeric("float32", vec![0.5, NAN, -1.25, 3.0, NAN, 6.5]),
        Column::text(
            "string",
            [Some("a"), Some("b"), None, Some("a"), Some(""), Some("c")],
        ),
        Column::text(
            "category",
            [Some("x"), Some("y"), Some("x"), None, Some("z"), Some("y")],
        ),
        Column::numeric("nothing", vec![NAN; 6]),
        Column::numeric("flag", vec![1.0, 0.0, NAN, 1.0, 1.0, 0.0]),
    ])
    .unwrap();
    assert_eq!(frame, expected);
    let category = frame.column("category").unwrap().values.as_text().unwrap();
    assert_eq!(category.levels(), ["x", "y", "z"]);
}

#[test]
fn pandas_row_index_is_skipped_and_large_strings_are_text() {
    let frame = read_path(&data_file("pandas_index.parquet")).unwrap();
    let expected = Frame::new(vec![
        Column::numeric("x", vec![1.5, 2.5, 3.5]),
        Column::text("colour", [Some("red"), Some("green"), Some("red")]),
    ])
    .unwrap();
    assert_eq!(frame, expected);
}

#[test]
fn an_unsupported_type_is_named_with_its_column() {
    let error = read_path(&data_file("unsupported.parquet")).unwrap_err();
    match error {
        DatasetError::UnsupportedType { column, data_type } => {
            assert_eq!(column, "seen_at");
            assert!(data_type.contains("Timestamp"), "{data_type}");
        }
        other => panic!("expected UnsupportedType, got {other:?}"),
    }
}

#[test]
fn bytes_read_as_the_same_frame_as_the_file() {
    let path = data_file("pyarrow_types.parquet");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(Format::sniff(&bytes), Format::Parquet);
    assert_eq!(
        read_bytes(bytes, Format::Parquet).unwrap(),
        read_path(&path).unwrap()
    );
}

#[test]
fn chosen_columns_are_read_alone_and_missing_ones_named() {
    let path = data_file("pyarrow_types.parquet");
    let whole = read_path(&path).unwrap();
    let names = bascule_datasets::read_column_names(&path).unwrap();
    assert_eq!(names, whole.names().collect::<Vec<_>>());
    let narrowed = bascule_datasets::read_path_columns(&path, &["float32", "int64"]).unwrap();
    // File order, and the same values as a whole read.
    assert_eq!(narrowed, whole.select(&["int64", "float32"]).unwrap());
    let error = bascule_datasets::read_path_columns(&path, &["int64", "nope"]).unwrap_err();
    assert!(matches!(error, DatasetError::MissingColumns { names } if names == ["nope"]));
}
