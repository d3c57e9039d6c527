//! CSV: a header row naming the columns, then one record per row.
//!
//! The whole input is held in memory while it is parsed, once: a column is filled as
//! numbers until a cell does not parse, and only then are its earlier cells read again, as
//! text. Large reference data sets belong in Parquet.

use std::io::{Read, Write};

use csv::{ByteRecord, ReaderBuilder, WriterBuilder};

use crate::DatasetError;
use crate::frame::{Column, ColumnValues, Frame, check_distinct};
use crate::text::TextBuilder;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a CSV data set; the reader is read to its end first.
///
/// The first line must name the columns. Each column's type is inferred: it is numeric
/// when every non-missing cell, trimmed of ASCII whitespace, parses as an `f64` (`1`,
/// `-2.5`, `1e-3`, `.5`, and `nan`, `inf`, `-inf`, `infinity` in any case), otherwise
/// text; `true`/`false` are text. A cell that is empty or only whitespace is missing (NaN
/// in a numeric column, `None` in a text one), so an empty string cannot be told from a
/// missing value; other text cells are kept verbatim. A column without any value is
/// numeric (all NaN). A header alone gives a frame of zero rows; an empty input is an
/// error.
///
/// A *leading* column with an empty header name is a writer's row index (pandas writes
/// one unless told `index=False`) and is dropped: it carries no feature and would show as
/// drift between any two samples. An empty name anywhere else, a repeated name, a row
/// with more or fewer fields than the header and bytes that are not UTF-8 are errors
/// naming the line or the columns. A UTF-8 byte order mark is skipped.
pub fn read_csv(mut reader: impl Read) -> Result<Frame, DatasetError> {
    let mut data = Vec::new();
    reader.read_to_end(&mut data).map_err(DatasetError::Read)?;
    parse_csv(&data)
}

/// Parses a CSV data set held in memory.
pub(crate) fn parse_csv(data: &[u8]) -> Result<Frame, DatasetError> {
    let data = data.strip_prefix(UTF8_BOM).unwrap_or(data);
    let mut reader = records(data);
    let header = reader.byte_headers().map_err(csv_error)?.clone();
    if header.is_empty() {
        return Err(DatasetError::EmptyCsv);
    }
    let (first, names) = column_names(&header)?;
    let mut builders: Vec<Builder> = names.iter().map(|_| Builder::Numeric(Vec::new())).collect();

    let mut record = ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        let line = line_of(&record);
        if record.len() != header.len() {
            return Err(DatasetError::RaggedRow {
                line,
                expected: header.len(),
                found: record.len(),
            });
        }
        for (position, (builder, cell)) in builders
            .iter_mut()
            .zip(record.iter().skip(first))
            .enumerate()
        {
            match builder {
                Builder::Numeric(values) => match parse_number(cell) {
                    Some(value) => values.push(value),
                    None => {
                        let mut text = reread_as_text(data, first + position, values.len())?;
                        text.push(cell_text(cell, line)?);
                        *builder = Builder::Text(text);
                    }
                },
                Builder::Text(text) => text.push(cell_text(cell, line)?),
            }
        }
    }

    let columns = names
        .into_iter()
        .zip(builders)
        .map(|(name, builder)| Column {
            name,
            values: match builder {
                Builder::Numeric(values) => ColumnValues::Numeric(values),
                Builder::Text(text) => ColumnValues::Text(text.finish()),
            },
        })
        .collect();
    Frame::new(columns)
}

/// A column being read: numbers until a cell says otherwise.
enum Builder {
    Numeric(Vec<f64>),
    Text(TextBuilder),
}

fn records(data: &[u8]) -> csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(data)
}

/// The index of the first kept field (1 when a leading row index is dropped) and the
/// kept names.
fn column_names(header: &ByteRecord) -> Result<(usize, Vec<String>), DatasetError> {
    let first = usize::from(header.get(0).is_some_and(<[u8]>::is_empty));
    let mut names = Vec::with_capacity(header.len() - first);
    for (position, name) in header.iter().enumerate().skip(first) {
        if name.is_empty() {
            return Err(DatasetError::UnnamedColumn {
                position: position + 1,
            });
        }
        let name = std::str::from_utf8(name).map_err(|_| DatasetError::InvalidUtf8 {
            line: line_of(header),
        })?;
        names.push(name.to_owned());
    }
    if names.is_empty() {
        return Err(DatasetError::NoColumns);
    }
    check_distinct(names.iter().map(String::as_str))?;
    Ok((first, names))
}

/// The number in `cell`, NaN when the cell is missing, `None` when it is not a number.
fn parse_number(cell: &[u8]) -> Option<f64> {
    let trimmed = cell.trim_ascii();
    if trimmed.is_empty() {
        return Some(f64::NAN);
    }
    std::str::from_utf8(trimmed).ok()?.parse().ok()
}

/// The text in `cell`, `None` when the cell is missing.
fn cell_text(cell: &[u8], line: u64) -> Result<Option<&str>, DatasetError> {
    if cell.trim_ascii().is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(cell)
        .map(Some)
        .map_err(|_| DatasetError::InvalidUtf8 { line })
}

/// The first `n_rows` cells of the field at `field` as text, read again from the start.
fn reread_as_text(data: &[u8], field: usize, n_rows: usize) -> Result<TextBuilder, DatasetError> {
    let mut text = TextBuilder::with_capacity(n_rows);
    let mut reader = records(data);
    let mut record = ByteRecord::new();
    for _ in 0..n_rows {
        if !reader.read_byte_record(&mut record).map_err(csv_error)? {
            break;
        }
        let cell = record.get(field).unwrap_or_default();
        text.push(cell_text(cell, line_of(&record))?);
    }
    Ok(text)
}

fn line_of(record: &ByteRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

fn csv_error(error: csv::Error) -> DatasetError {
    let detail = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(error) => DatasetError::Read(error),
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => DatasetError::RaggedRow {
            line: pos.map_or(0, |pos| pos.line()),
            expected: usize::try_from(expected_len).unwrap_or(usize::MAX),
            found: usize::try_from(len).unwrap_or(usize::MAX),
        },
        _ => DatasetError::MalformedCsv { detail },
    }
}

/// Writes `frame` as CSV: a header row, then one record per row. A missing value is an
/// empty cell, so an empty string reads back as missing; numbers are written in the
/// shortest form that reads back to the same `f64`.
pub fn write_csv(frame: &Frame, writer: impl Write) -> Result<(), DatasetError> {
    if frame.n_columns() == 0 {
        return Err(DatasetError::NoColumns);
    }
    let mut writer = WriterBuilder::new().from_writer(writer);
    writer.write_record(frame.names()).map_err(write_error)?;
    let mut number = String::new();
    for row in 0..frame.n_rows() {
        for column in frame.columns() {
            let cell = match &column.values {
                ColumnValues::Numeric(values) => {
                    format_number(values[row], &mut number);
                    number.as_str()
                }
                ColumnValues::Text(values) => values.get(row).unwrap_or_default(),
            };
            writer.write_field(cell).map_err(write_error)?;
        }
        writer.write_record(None::<&[u8]>).map_err(write_error)?;
    }
    writer.flush().map_err(DatasetError::Write)
}

/// Formats `value` into `out`: empty for NaN, integers without a fraction, others in
/// Rust's shortest round-trip form (with an exponent when very large or small).
fn format_number(value: f64, out: &mut String) {
    use std::fmt::Write as _;
    out.clear();
    if value.is_nan() {
        return;
    }
    let written = if value.fract() == 0.0 && value.abs() < 1e16 {
        write!(out, "{value}")
    } else {
        write!(out, "{value:?}")
    };
    written.expect("formatting into a String cannot fail");
}

fn write_error(error: csv::Error) -> DatasetError {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => DatasetError::Write(error),
        other => DatasetError::Write(std::io::Error::other(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Frame, DatasetError> {
        parse_csv(text.as_bytes())
    }

    fn numbers(frame: &Frame, name: &str) -> Vec<f64> {
        frame
            .column(name)
            .unwrap()
            .values
            .as_numeric()
            .unwrap()
            .to_vec()
    }

    fn texts(frame: &Frame, name: &str) -> Vec<Option<String>> {
        let values = frame.column(name).unwrap().values.as_text().unwrap();
        values
            .iter()
            .map(|value| value.map(str::to_owned))
            .collect()
    }

    #[test]
    fn columns_are_numeric_when_every_present_cell_parses() {
        let frame = parse("a,b,c,d\n1,x,nan,true\n-2.5e1,,-inf,false\n, y , INF ,\n").unwrap();
        assert_eq!(frame.n_rows(), 3);
        let a = numbers(&frame, "a");
        assert_eq!(a[..2], [1.0, -25.0]);
        assert!(a[2].is_nan());
        assert_eq!(
            texts(&frame, "b"),
            [Some("x".into()), None, Some(" y ".into())]
        );
        let c = numbers(&frame, "c");
        assert!(c[0].is_nan());
        assert_eq!(c[1..], [f64::NEG_INFINITY, f64::INFINITY]);
        assert_eq!(
            texts(&frame, "d"),
            [Some("true".into()), Some("false".into()), None]
        );
    }

    #[test]
    fn a_late_text_cell_keeps_the_earlier_cells_verbatim() {
        let frame = parse("zip,n\n007,1\n1.50,2\n,3\nN/A,4\n").unwrap();
        assert_eq!(
            texts(&frame, "zip"),
            [
                Some("007".into()),
                Some("1.50".into()),
                None,
                Some("N/A".into())
            ]
        );
        assert_eq!(numbers(&frame, "n"), [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_leading_unnamed_column_is_dropped() {
        let frame = parse(",x\n0,1.5\n1,2.5\n").unwrap();
        assert_eq!(frame.names().collect::<Vec<_>>(), ["x"]);
        assert_eq!(numbers(&frame, "x"), [1.5, 2.5]);
        let error = parse("x,,y\n1,2,3\n").unwrap_err();
        assert!(matches!(error, DatasetError::UnnamedColumn { position: 2 }));
    }

    #[test]
    fn a_ragged_row_names_its_line_and_both_counts() {
        let error = parse("a,b\n1,2\n\"multi\nline\",3\n4\n").unwrap_err();
        assert!(
            matches!(
                error,
                DatasetError::RaggedRow {
                    line: 5,
                    expected: 2,
                    found: 1
                }
            ),
            "{error:?}"
        );
        let error = parse("a,b\n1,2,3\n").unwrap_err();
        assert!(matches!(
            error,
            DatasetError::RaggedRow {
                line: 2,
                expected: 2,
                found: 3
            }
        ));
    }

    #[test]
    fn an_empty_input_is_an_error_and_a_header_alone_is_zero_rows() {
        assert!(matches!(parse(""), Err(DatasetError::EmptyCsv)));
        let frame = parse("a,b\n").unwrap();
        assert_eq!(frame.n_rows(), 0);
        assert_eq!(frame.n_columns(), 2);
        assert!(frame.column("a").unwrap().values.as_numeric().is_some());
    }

    #[test]
    fn duplicate_names_are_all_named() {
        let error = parse("a,b,a,b,c\n1,2,3,4,5\n").unwrap_err();
        assert!(matches!(error, DatasetError::DuplicateColumns { names } if names == ["a", "b"]));
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let error = parse_csv(b"a,b\n1,x\n2,\xff\xfe\n").unwrap_err();
        assert!(matches!(error, DatasetError::InvalidUtf8 { line: 3 }));
        let error = parse_csv(b"a,\xff\n1,2\n").unwrap_err();
        assert!(matches!(error, DatasetError::InvalidUtf8 { line: 1 }));
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
        let frame = parse_csv(b"\xEF\xBB\xBFa,b\r\n1,x\r\n").unwrap();
        assert_eq!(frame.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(texts(&frame, "b"), [Some("x".into())]);
    }

    #[test]
    fn numbers_are_written_in_their_shortest_round_trip_form() {
        let mut out = String::new();
        for (value, expected) in [
            (1.0, "1"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (1e20, "1e20"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, ""),
        ] {
            format_number(value, &mut out);
            assert_eq!(out, expected);
        }
        for value in [
            0.1 + 0.2,
            1.0 / 3.0,
            123_456_789.123_456_78,
            5e-324,
            f64::MAX,
        ] {
            format_number(value, &mut out);
            assert_eq!(parse_number(out.as_bytes()), Some(value));
        }
    }
}
