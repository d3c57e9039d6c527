//! The in-memory columnar table every reader produces and every writer takes.

use std::collections::HashSet;

use crate::DatasetError;
use crate::text::TextValues;

/// A table: named columns of equal length, names distinct.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    columns: Vec<Column>,
}

/// One named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: ColumnValues,
}

/// A column's values: numbers or text, each with its own mark for a missing value.
#[derive(Debug, Clone)]
pub enum ColumnValues {
    /// Numbers; `NaN` is a missing value (a NaN read from a file is missing too).
    Numeric(Vec<f64>),
    /// Text, dictionary-encoded; a missing value is `None`.
    Text(TextValues),
}

impl Frame {
    /// A frame of `columns`, which must have equal lengths and distinct names.
    pub fn new(columns: Vec<Column>) -> Result<Frame, DatasetError> {
        check_distinct(columns.iter().map(|column| column.name.as_str()))?;
        if let Some((first, rest)) = columns.split_first() {
            let expected = first.values.len();
            if let Some(column) = rest.iter().find(|column| column.values.len() != expected) {
                return Err(DatasetError::LengthMismatch {
                    first: first.name.clone(),
                    expected,
                    column: column.name.clone(),
                    found: column.values.len(),
                });
            }
        }
        Ok(Frame { columns })
    }

    /// The number of rows (zero for a frame without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |column| column.values.len())
    }

    pub fn n_columns(&self) -> usize {
        self.columns.len()
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn into_columns(self) -> Vec<Column> {
        self.columns
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The column names, in order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.columns.iter().map(|column| column.name.as_str())
    }

    /// A frame of the columns called `names`, in that order. Every name missing from this
    /// frame is named in the error.
    pub fn select(&self, names: &[&str]) -> Result<Frame, DatasetError> {
        check_distinct(names.iter().copied())?;
        let missing: Vec<String> = names
            .iter()
            .filter(|name| self.column(name).is_none())
            .map(|name| (*name).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(DatasetError::MissingColumns { names: missing });
        }
        let columns = names
            .iter()
            .filter_map(|name| self.column(name))
            .cloned()
            .collect();
        Ok(Frame { columns })
    }

    /// A frame of the rows at `indices`, in that order (an index may repeat).
    ///
    /// # Panics
    /// If an index is `>= self.n_rows()`, as slice indexing does.
    pub fn take_rows(&self, indices: &[usize]) -> Frame {
        let columns = self
            .columns
            .iter()
            .map(|column| Column {
                name: column.name.clone(),
                values: column.values.take(indices),
            })
            .collect();
        Frame { columns }
    }

    /// The values row after row (`n_rows × n_columns`, row-major), as a model's input
    /// tensor wants them. Every column must be numeric.
    pub fn to_row_major_f64(&self) -> Result<Vec<f64>, DatasetError> {
        self.row_major(|value| value)
    }

    /// As [`to_row_major_f64`](Self::to_row_major_f64), narrowed to `f32`.
    pub fn to_row_major_f32(&self) -> Result<Vec<f32>, DatasetError> {
        self.row_major(|value| value as f32)
    }

    fn row_major<T: Copy + Default>(&self, convert: fn(f64) -> T) -> Result<Vec<T>, DatasetError> {
        let n_columns = self.columns.len();
        let mut out = vec![T::default(); self.n_rows() * n_columns];
        for (position, column) in self.columns.iter().enumerate() {
            let values = column
                .values
                .as_numeric()
                .ok_or_else(|| DatasetError::NotNumeric {
                    column: column.name.clone(),
                })?;
            let cells = out.iter_mut().skip(position).step_by(n_columns);
            for (cell, &value) in cells.zip(values) {
                *cell = convert(value);
            }
        }
        Ok(out)
    }
}

impl Column {
    pub fn numeric(name: impl Into<String>, values: Vec<f64>) -> Column {
        Column {
            name: name.into(),
            values: ColumnValues::Numeric(values),
        }
    }

    pub fn text<S: AsRef<str>>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<S>>,
    ) -> Column {
        Column {
            name: name.into(),
            values: ColumnValues::Text(values.into_iter().collect()),
        }
    }
}

impl ColumnValues {
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Numeric(values) => values.len(),
            ColumnValues::Text(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_numeric(&self) -> Option<&[f64]> {
        match self {
            ColumnValues::Numeric(values) => Some(values),
            ColumnValues::Text(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<&TextValues> {
        match self {
            ColumnValues::Numeric(_) => None,
            ColumnValues::Text(values) => Some(values),
        }
    }

    /// The number of missing values (NaN or `None`).
    pub fn n_missing(&self) -> usize {
        match self {
            ColumnValues::Numeric(values) => values.iter().filter(|value| value.is_nan()).count(),
            ColumnValues::Text(values) => values.n_missing(),
        }
    }

    fn take(&self, indices: &[usize]) -> ColumnValues {
        match self {
            ColumnValues::Numeric(values) => {
                ColumnValues::Numeric(indices.iter().map(|&row| values[row]).collect())
            }
            ColumnValues::Text(values) => ColumnValues::Text(values.take(indices)),
        }
    }
}

/// Values compare as data: a missing number equals a missing number (NaN == NaN here),
/// and numbers never equal text.
impl PartialEq for ColumnValues {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ColumnValues::Numeric(left), ColumnValues::Numeric(right)) => {
                left.len() == right.len()
                    && left
                        .iter()
                        .zip(right)
                        .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
            }
            (ColumnValues::Text(left), ColumnValues::Text(right)) => left == right,
            _ => false,
        }
    }
}

/// Fails naming every name that appears more than once.
pub(crate) fn check_distinct<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), DatasetError> {
    let mut seen = HashSet::new();
    let mut duplicates: Vec<String> = Vec::new();
    for name in names {
        if !seen.insert(name) && !duplicates.iter().any(|duplicate| duplicate == name) {
            duplicates.push(name.to_owned());
        }
    }
    if duplicates.is_empty() {
        Ok(())
    } else {
        Err(DatasetError::DuplicateColumns { names: duplicates })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Frame {
        Frame::new(vec![
            Column::numeric("x", vec![1.0, f64::NAN, 3.0]),
            Column::text("colour", [Some("red"), None, Some("blue")]),
            Column::numeric("y", vec![10.0, 20.0, 30.0]),
        ])
        .unwrap()
    }

    #[test]
    fn new_checks_lengths_and_names() {
        let ragged = Frame::new(vec![
            Column::numeric("a", vec![1.0]),
            Column::numeric("b", vec![1.0, 2.0]),
        ]);
        assert!(matches!(
            ragged,
            Err(DatasetError::LengthMismatch {
                expected: 1,
                found: 2,
                ..
            })
        ));
        let duplicated = Frame::new(vec![
            Column::numeric("a", vec![]),
            Column::numeric("a", vec![]),
        ]);
        assert!(
            matches!(duplicated, Err(DatasetError::DuplicateColumns { names }) if names == ["a"])
        );
        assert_eq!(Frame::default().n_rows(), 0);
    }

    #[test]
    fn select_orders_columns_and_names_every_missing_one() {
        let frame = sample();
        let selected = frame.select(&["y", "x"]).unwrap();
        assert_eq!(selected.names().collect::<Vec<_>>(), ["y", "x"]);
        assert_eq!(selected.n_rows(), 3);
        let missing = frame.select(&["x", "z", "w"]).unwrap_err();
        assert!(matches!(missing, DatasetError::MissingColumns { names } if names == ["z", "w"]));
        assert!(frame.select(&["x", "x"]).is_err());
    }

    #[test]
    fn take_rows_gathers_every_column() {
        let frame = sample().take_rows(&[2, 0, 2]);
        let expected = Frame::new(vec![
            Column::numeric("x", vec![3.0, 1.0, 3.0]),
            Column::text("colour", [Some("blue"), Some("red"), Some("blue")]),
            Column::numeric("y", vec![30.0, 10.0, 30.0]),
        ])
        .unwrap();
        assert_eq!(frame, expected);
    }

    #[test]
    fn missing_numbers_compare_equal() {
        assert_eq!(sample(), sample());
        assert_eq!(sample().column("x").unwrap().values.n_missing(), 1);
        assert_eq!(sample().column("colour").unwrap().values.n_missing(), 1);
    }

    #[test]
    fn row_major_interleaves_numeric_columns() {
        let frame = sample().select(&["x", "y"]).unwrap();
        let rows = frame.to_row_major_f32().unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0], 1.0);
        assert!(rows[2].is_nan());
        assert_eq!(rows[5], 30.0);
        let error = sample().to_row_major_f64().unwrap_err();
        assert!(matches!(error, DatasetError::NotNumeric { column } if column == "colour"));
    }
}
