//! Which format a data set is in, told from a path, a content type or the bytes, and the
//! entry points that dispatch on it.

use std::fmt;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use bytes::Bytes;

use crate::csv_format::{parse_csv, read_csv, write_csv};
use crate::parquet_format::{
    MAGIC, parquet_column_names, read_parquet, read_parquet_file, write_parquet,
};
use crate::{DatasetError, Frame};

/// A file format for tabular data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// The format named by a path's extension (`.csv`; `.parquet` or `.pq`), in any case.
    pub fn from_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The format named by an HTTP content type, parameters (`; charset=utf-8`) ignored.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let media_type = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match media_type.as_str() {
            "text/csv" | "application/csv" => Some(Format::Csv),
            "application/vnd.apache.parquet" | "application/parquet" | "application/x-parquet" => {
                Some(Format::Parquet)
            }
            _ => None,
        }
    }

    /// Parquet when the bytes start with its magic number `PAR1`, otherwise CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(MAGIC) {
            Format::Parquet
        } else {
            Format::Csv
        }
    }

    /// The content type to serve the format with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
        })
    }
}

/// Reads the data set at `path`, in the format its extension names. A Parquet file is
/// read chunk by chunk, never whole; a CSV file is read whole first.
pub fn read_path(path: &Path) -> Result<Frame, DatasetError> {
    let format = Format::from_path(path).ok_or_else(|| DatasetError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let file = File::open(path).map_err(|source| DatasetError::File {
        path: path.to_owned(),
        source,
    })?;
    match format {
        Format::Csv => read_csv(file),
        Format::Parquet => read_parquet_file(file, None),
    }
}

/// The column names of the data set at `path`: from a Parquet file's footer without
/// decoding any value; a CSV file is read whole.
pub fn read_column_names(path: &Path) -> Result<Vec<String>, DatasetError> {
    match Format::from_path(path) {
        Some(Format::Parquet) => {
            parquet_column_names(File::open(path).map_err(|source| DatasetError::File {
                path: path.to_owned(),
                source,
            })?)
        }
        _ => Ok(read_path(path)?.names().map(str::to_owned).collect()),
    }
}

/// Reads only the columns called `names` of the data set at `path` (each must exist),
/// in the file's order. From Parquet only those columns are decoded, so a caller can
/// walk a wide file a few columns at a time; a CSV file is read whole, then narrowed.
pub fn read_path_columns(path: &Path, names: &[&str]) -> Result<Frame, DatasetError> {
    match Format::from_path(path) {
        Some(Format::Parquet) => {
            let file = File::open(path).map_err(|source| DatasetError::File {
                path: path.to_owned(),
                source,
            })?;
            read_parquet_file(file, Some(names))
        }
        _ => read_path(path)?.select(names),
    }
}

/// Reads a data set held in memory (an upload, say); the bytes are not copied.
pub fn read_bytes(bytes: impl Into<Bytes>, format: Format) -> Result<Frame, DatasetError> {
    let bytes = bytes.into();
    match format {
        Format::Csv => parse_csv(&bytes),
        Format::Parquet => read_parquet(bytes),
    }
}

/// Writes `frame` to `path`, in the format its extension names, replacing any file there.
pub fn write_path(frame: &Frame, path: &Path) -> Result<(), DatasetError> {
    let format = Format::from_path(path).ok_or_else(|| DatasetError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let file = File::create(path).map_err(|source| DatasetError::File {
        path: path.to_owned(),
        source,
    })?;
    let writer = BufWriter::new(file);
    match format {
        Format::Csv => write_csv(frame, writer),
        Format::Parquet => write_parquet(frame, writer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_path_ignores_case() {
        assert_eq!(
            Format::from_path(Path::new("a/holdout.CSV")),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_path(Path::new("ref.parquet")),
            Some(Format::Parquet)
        );
        assert_eq!(
            Format::from_path(Path::new("ref.pq")),
            Some(Format::Parquet)
        );
        assert_eq!(Format::from_path(Path::new("ref.tsv")), None);
        assert_eq!(Format::from_path(Path::new("csv")), None);
    }

    #[test]
    fn format_from_content_type_ignores_parameters() {
        assert_eq!(
            Format::from_content_type("text/csv; charset=utf-8"),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_content_type("application/vnd.apache.parquet"),
            Some(Format::Parquet)
        );
        assert_eq!(Format::from_content_type("application/json"), None);
        for format in [Format::Csv, Format::Parquet] {
            assert_eq!(
                Format::from_content_type(format.content_type()),
                Some(format)
            );
            let file_name = format!("data.{}", format.extension());
            assert_eq!(Format::from_path(Path::new(&file_name)), Some(format));
        }
    }

    #[test]
    fn sniff_looks_for_the_parquet_magic() {
        assert_eq!(Format::sniff(b"PAR1\x15\x04"), Format::Parquet);
        assert_eq!(Format::sniff(b"a,b\n1,2\n"), Format::Csv);
        assert_eq!(Format::sniff(b""), Format::Csv);
    }

    #[test]
    fn unknown_extensions_are_refused_before_any_io() {
        let error = read_path(Path::new("/nonexistent/data.xlsx")).unwrap_err();
        assert!(matches!(error, DatasetError::UnknownFormat { .. }));
        let error = read_path(Path::new("/nonexistent/data.csv")).unwrap_err();
        assert!(matches!(error, DatasetError::File { .. }));
    }
}
