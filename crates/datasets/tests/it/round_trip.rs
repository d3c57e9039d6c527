//! Frames written and read back are equal, NaN and missing text included.

use bascule_datasets::{
    Column, Format, Frame, read_bytes, read_csv, read_parquet, read_path, write_csv, write_parquet,
    write_path,
};

/// Every value CSV can carry unchanged: missing numbers and infinities, text with
/// delimiters, quotes, line breaks and non-ASCII characters, and missing text. (An empty
/// string reads back from CSV as missing, and a text column whose every value parses as
/// a number reads back as numbers, so neither is here.)
fn sample() -> Frame {
    Frame::new(vec![
        Column::numeric(
            "x",
            vec![1.0, f64::NAN, -2.5, 1e-300, f64::INFINITY, 0.1 + 0.2],
        ),
        Column::text(
            "comment",
            [
                Some("plain"),
                None,
                Some("a, b"),
                Some("say \"hi\""),
                Some("two\nlines"),
                Some("café ☕"),
            ],
        ),
        Column::numeric("label", vec![0.0, 1.0, 1.0, 0.0, f64::NEG_INFINITY, 3.0]),
        Column::text(
            "level",
            [None, Some("x"), Some("y"), Some("x"), None, Some("1")],
        ),
    ])
    .unwrap()
}

#[test]
fn csv_round_trips() {
    let frame = sample();
    let mut bytes = Vec::new();
    write_csv(&frame, &mut bytes).unwrap();
    assert_eq!(read_csv(bytes.as_slice()).unwrap(), frame);
}

#[test]
fn parquet_round_trips() {
    let frame = sample();
    let mut bytes = Vec::new();
    write_parquet(&frame, &mut bytes).unwrap();
    assert_eq!(Format::sniff(&bytes), Format::Parquet);
    assert_eq!(read_parquet(bytes.into()).unwrap(), frame);
}

#[test]
fn parquet_keeps_empty_strings_apart_from_missing_ones() {
    let frame = Frame::new(vec![Column::text("s", [Some(""), None, Some("")])]).unwrap();
    let mut bytes = Vec::new();
    write_parquet(&frame, &mut bytes).unwrap();
    assert_eq!(read_bytes(bytes, Format::Parquet).unwrap(), frame);
}

#[test]
fn files_round_trip_in_the_format_their_extension_names() {
    let directory = tempfile::tempdir().unwrap();
    let frame = sample();
    for name in ["traffic.csv", "traffic.parquet", "traffic.pq"] {
        let path = directory.path().join(name);
        write_path(&frame, &path).unwrap();
        assert_eq!(read_path(&path).unwrap(), frame, "{name}");
    }
}

#[test]
fn many_rows_round_trip_across_batches() {
    let n_rows = 150_000;
    let levels = ["north", "south", "east", "west"];
    let frame = Frame::new(vec![
        Column::numeric(
            "i",
            (0..n_rows)
                .map(|row| {
                    if row % 97 == 0 {
                        f64::NAN
                    } else {
                        row as f64 / 7.0
                    }
                })
                .collect(),
        ),
        Column::text(
            "region",
            (0..n_rows).map(|row| (row % 13 != 0).then_some(levels[row % levels.len()])),
        ),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    write_parquet(&frame, &mut bytes).unwrap();
    assert_eq!(read_parquet(bytes.into()).unwrap(), frame);
    let mut bytes = Vec::new();
    write_csv(&frame, &mut bytes).unwrap();
    assert_eq!(read_csv(bytes.as_slice()).unwrap(), frame);
}

#[test]
fn zero_rows_round_trip() {
    let frame = Frame::new(vec![
        Column::numeric("a", vec![]),
        Column::numeric("b", vec![]),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    write_parquet(&frame, &mut bytes).unwrap();
    assert_eq!(read_parquet(bytes.into()).unwrap(), frame);
    let mut bytes = Vec::new();
    write_csv(&frame, &mut bytes).unwrap();
    assert_eq!(read_csv(bytes.as_slice()).unwrap(), frame);
}
