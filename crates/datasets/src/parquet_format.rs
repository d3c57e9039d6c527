//! Parquet, through the `parquet` crate's Arrow reader and writer.
//!
//! Batches are decoded one at a time straight into each column's vector, reserved from
//! the file's row count, so a read holds the result plus one batch. The column types map
//! as `arrow_columns` says.

use std::fs::File;
use std::io::{Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, FieldRef, Schema};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::ChunkReader;

use crate::DatasetError;
use crate::arrow_columns::{ColumnBuilder, array_of};
use crate::frame::{Column, ColumnValues, Frame, check_distinct};

/// The four bytes every Parquet file starts (and ends) with.
pub(crate) const MAGIC: &[u8; 4] = b"PAR1";

/// Rows per decoded or encoded batch: large enough to amortise per-batch work, small
/// enough that one batch is a small fraction of a large data set.
const BATCH_ROWS: usize = 64 * 1024;

/// Cells (rows × columns) reserved up front at most, 1 GiB of `f64`: the footer's row
/// count sizes the columns exactly, unless it is implausible (or a lie), when they grow.
const MAX_RESERVED_CELLS: usize = 1 << 27;

/// Reads a Parquet data set held in memory.
///
/// Each top-level column maps by its Arrow type. Integers, floats (16, 32 and 64 bits),
/// booleans (1.0 / 0.0), decimals up to 128 bits and the null type (all missing) become
/// numeric; 64-bit integers and decimals beyond 2^53 round to the nearest `f64`. `Utf8`,
/// `LargeUtf8`, `Utf8View` and dictionaries of them become text. A null is a missing value
/// (as is a NaN, once read). Any other type (timestamps, dates, lists, structs, binary, …)
/// is an error naming the column and its type. A column named `__index_level_<n>__` is
/// pandas' row index and is skipped, as CSV's leading unnamed column is. Compression:
/// uncompressed, snappy or zstd.
pub fn read_parquet(bytes: Bytes) -> Result<Frame, DatasetError> {
    if !bytes.starts_with(MAGIC) {
        return Err(DatasetError::NotParquet);
    }
    read_chunks(bytes, None)
}

/// Reads a Parquet file without loading it whole: column chunks are read as decoded.
/// With `only`, just the columns of those names are decoded (each must exist).
pub(crate) fn read_parquet_file(file: File, only: Option<&[&str]>) -> Result<Frame, DatasetError> {
    let mut magic = [0_u8; 4];
    match (&file).read_exact(&mut magic) {
        Ok(()) if &magic == MAGIC => read_chunks(file, only),
        Ok(()) => Err(DatasetError::NotParquet),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(DatasetError::NotParquet)
        }
        Err(error) => Err(DatasetError::Read(error)),
    }
}

/// The names of a Parquet file's columns (pandas' row index left out), from its
/// footer alone.
pub(crate) fn parquet_column_names(file: File) -> Result<Vec<String>, DatasetError> {
    let metadata =
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(malformed)?;
    Ok(metadata
        .schema()
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .filter(|name| !is_pandas_index(name))
        .collect())
}

/// Decodes a Parquet file. The `parquet` and `arrow` crates assert, rather than return an
/// error, on some corrupt input (a negative column offset in the footer, a data page that
/// names a dictionary it lacks: one in every two hundred single-byte corruptions of the
/// test file did so). Data sets come from users, so such a panic is caught here and
/// reported as malformed data: nothing outlives it but the message.
fn read_chunks<R: ChunkReader + 'static>(
    reader: R,
    only: Option<&[&str]>,
) -> Result<Frame, DatasetError> {
    panic::catch_unwind(AssertUnwindSafe(|| decode(reader, only))).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|message| (*message).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".to_owned());
        Err(DatasetError::MalformedParquet { detail })
    })
}

fn decode<R: ChunkReader + 'static>(
    reader: R,
    only: Option<&[&str]>,
) -> Result<Frame, DatasetError> {
    let metadata =
        ArrowReaderMetadata::load(&reader, ArrowReaderOptions::new()).map_err(malformed)?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(
        reader,
        strings_as_dictionaries(metadata),
    );
    let n_rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let reserved_rows = n_rows.min(MAX_RESERVED_CELLS / builder.schema().fields().len().max(1));
    let mut kept = Vec::new();
    let mut columns = Vec::new();
    for (index, field) in builder.schema().fields().iter().enumerate() {
        let unwanted = only.is_some_and(|names| !names.contains(&field.name().as_str()));
        if is_pandas_index(field.name()) || unwanted {
            continue;
        }
        let values = ColumnBuilder::new(field.data_type(), reserved_rows).ok_or_else(|| {
            DatasetError::UnsupportedType {
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
            }
        })?;
        kept.push(index);
        columns.push((field.name().clone(), values));
    }
    if let Some(names) = only {
        let missing: Vec<String> = names
            .iter()
            .filter(|name| !columns.iter().any(|(found, _)| found == *name))
            .map(|name| (*name).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(DatasetError::MissingColumns { names: missing });
        }
    }
    if columns.is_empty() {
        return Err(DatasetError::NoColumns);
    }
    check_distinct(columns.iter().map(|(name, _)| name.as_str()))?;

    let projection = ProjectionMask::roots(builder.parquet_schema(), kept);
    let batches = builder
        .with_projection(projection)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(malformed)?;
    for batch in batches {
        let batch = batch.map_err(malformed)?;
        for ((_, values), array) in columns.iter_mut().zip(batch.columns()) {
            values.extend(array.as_ref());
        }
    }
    let columns = columns
        .into_iter()
        .map(|(name, values)| Column {
            name,
            values: values.finish(),
        })
        .collect();
    Frame::new(columns)
}

/// Asks the reader to decode string columns as dictionaries. Writers dictionary-encode
/// string pages by default, and decoded as a dictionary a page's values are interned
/// once each rather than once a row (a third faster on a categorical data set). When
/// the reader refuses the hint, the metadata is used as it was.
fn strings_as_dictionaries(metadata: ArrowReaderMetadata) -> ArrowReaderMetadata {
    let schema = metadata.schema();
    let is_plain_string =
        |field: &FieldRef| matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8);
    if !schema.fields().iter().any(is_plain_string) {
        return metadata;
    }
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .map(|field| {
            if is_plain_string(field) {
                let dictionary =
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                Arc::new(field.as_ref().clone().with_data_type(dictionary))
            } else {
                Arc::clone(field)
            }
        })
        .collect();
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = ArrowReaderOptions::new().with_schema(hinted);
    ArrowReaderMetadata::try_new(Arc::clone(metadata.metadata()), options).unwrap_or(metadata)
}

fn is_pandas_index(name: &str) -> bool {
    name.strip_prefix("__index_level_")
        .and_then(|rest| rest.strip_suffix("__"))
        .is_some_and(|level| !level.is_empty() && level.bytes().all(|byte| byte.is_ascii_digit()))
}

fn malformed(error: impl std::fmt::Display) -> DatasetError {
    DatasetError::MalformedParquet {
        detail: error.to_string(),
    }
}

/// Writes `frame` as Parquet: numeric columns as nullable `Float64` (NaN written as
/// null), text as nullable `Utf8` (dictionary-encoded pages), snappy-compressed, in row
/// groups of at most 2^20 rows.
pub fn write_parquet(frame: &Frame, writer: impl Write + Send) -> Result<(), DatasetError> {
    if frame.n_columns() == 0 {
        return Err(DatasetError::NoColumns);
    }
    let fields: Vec<Field> = frame
        .columns()
        .iter()
        .map(|column| {
            let data_type = match column.values {
                ColumnValues::Numeric(_) => DataType::Float64,
                ColumnValues::Text(_) => DataType::Utf8,
            };
            Field::new(column.name.as_str(), data_type, true)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut parquet = ArrowWriter::try_new(writer, Arc::clone(&schema), Some(properties))
        .map_err(write_failed)?;
    for start in (0..frame.n_rows()).step_by(BATCH_ROWS) {
        let rows = start..frame.n_rows().min(start + BATCH_ROWS);
        let arrays = frame
            .columns()
            .iter()
            .map(|column| array_of(&column.values, rows.clone()))
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(write_failed)?;
        parquet.write(&batch).map_err(write_failed)?;
    }
    let mut writer = parquet.into_inner().map_err(write_failed)?;
    writer.flush().map_err(DatasetError::Write)
}

fn write_failed(error: impl std::fmt::Display) -> DatasetError {
    DatasetError::WriteParquet {
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pandas_index_names_are_skipped() {
        assert!(is_pandas_index("__index_level_0__"));
        assert!(is_pandas_index("__index_level_12__"));
        assert!(!is_pandas_index("__index_level___"));
        assert!(!is_pandas_index("__index_level_x__"));
        assert!(!is_pandas_index("index"));
    }

    #[test]
    fn a_frame_without_columns_is_not_written() {
        let error = write_parquet(&Frame::default(), Vec::new()).unwrap_err();
        assert!(matches!(error, DatasetError::NoColumns));
    }
}
