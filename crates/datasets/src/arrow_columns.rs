//! Arrow arrays to and from this crate's columns: the type mapping of Parquet reads.
//!
//! Integers, floats (16, 32 and 64 bits), booleans (1.0 / 0.0), decimals up to 128 bits
//! (scaled, so possibly rounded) and the null type (all missing) become numeric; `Utf8`,
//! `LargeUtf8`, `Utf8View` and dictionaries of them become text. Nulls are missing. Any
//! other type has no reading here, and the caller reports it. Written back, a numeric
//! column is a nullable `Float64` (NaN as null) and a text column a nullable `Utf8`.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Decimal32Type, Decimal64Type, Decimal128Type, Float16Type, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float64Array, StringArray};
use arrow_schema::DataType;

use crate::frame::ColumnValues;
use crate::text::{TextBuilder, TextValues};

/// A column being read, its kind fixed by its Arrow type.
pub(crate) enum ColumnBuilder {
    Numeric(Vec<f64>),
    Text(TextBuilder),
}

impl ColumnBuilder {
    /// A builder for a column of `data_type`, `None` when the type is not readable.
    pub(crate) fn new(data_type: &DataType, capacity: usize) -> Option<ColumnBuilder> {
        let numeric = || Some(ColumnBuilder::Numeric(Vec::with_capacity(capacity)));
        let text = || Some(ColumnBuilder::Text(TextBuilder::with_capacity(capacity)));
        match data_type {
            DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..) => numeric(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => text(),
            DataType::Dictionary(_, value) if is_string(value) => text(),
            _ => None,
        }
    }

    pub(crate) fn extend(&mut self, array: &dyn Array) {
        match self {
            ColumnBuilder::Numeric(values) => extend_numeric(values, array),
            ColumnBuilder::Text(text) => extend_text(text, array),
        }
    }

    pub(crate) fn finish(self) -> ColumnValues {
        match self {
            ColumnBuilder::Numeric(values) => ColumnValues::Numeric(values),
            ColumnBuilder::Text(text) => ColumnValues::Text(text.finish()),
        }
    }
}

fn is_string(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Appends `array`'s values; its type is one [`ColumnBuilder::new`] accepted as numeric.
/// 64-bit integers and decimals beyond 2^53 round to the nearest `f64`.
fn extend_numeric(values: &mut Vec<f64>, array: &dyn Array) {
    match array.data_type() {
        DataType::Int8 => extend_primitive::<Int8Type>(values, array, f64::from),
        DataType::Int16 => extend_primitive::<Int16Type>(values, array, f64::from),
        DataType::Int32 => extend_primitive::<Int32Type>(values, array, f64::from),
        DataType::Int64 => extend_primitive::<Int64Type>(values, array, |value| value as f64),
        DataType::UInt8 => extend_primitive::<UInt8Type>(values, array, f64::from),
        DataType::UInt16 => extend_primitive::<UInt16Type>(values, array, f64::from),
        DataType::UInt32 => extend_primitive::<UInt32Type>(values, array, f64::from),
        DataType::UInt64 => extend_primitive::<UInt64Type>(values, array, |value| value as f64),
        DataType::Float16 => extend_primitive::<Float16Type>(values, array, |value| value.to_f64()),
        DataType::Float32 => extend_primitive::<Float32Type>(values, array, f64::from),
        DataType::Float64 => extend_primitive::<Float64Type>(values, array, |value| value),
        DataType::Decimal32(_, scale) => {
            let unit = 10_f64.powi(i32::from(*scale));
            extend_primitive::<Decimal32Type>(values, array, |value| f64::from(value) / unit);
        }
        DataType::Decimal64(_, scale) => {
            let unit = 10_f64.powi(i32::from(*scale));
            extend_primitive::<Decimal64Type>(values, array, |value| value as f64 / unit);
        }
        DataType::Decimal128(_, scale) => {
            let unit = 10_f64.powi(i32::from(*scale));
            extend_primitive::<Decimal128Type>(values, array, |value| value as f64 / unit);
        }
        DataType::Boolean => values.extend(
            array
                .as_boolean()
                .iter()
                .map(|value| value.map_or(f64::NAN, f64::from)),
        ),
        // The null type: every value is missing.
        _ => values.extend(std::iter::repeat_n(f64::NAN, array.len())),
    }
}

fn extend_primitive<T: ArrowPrimitiveType>(
    values: &mut Vec<f64>,
    array: &dyn Array,
    convert: impl Fn(T::Native) -> f64,
) {
    let array = array.as_primitive::<T>();
    match array.nulls().filter(|nulls| nulls.null_count() > 0) {
        None => values.extend(array.values().iter().map(|&value| convert(value))),
        Some(nulls) => values.extend(
            array
                .values()
                .iter()
                .zip(nulls.iter())
                .map(|(&value, valid)| if valid { convert(value) } else { f64::NAN }),
        ),
    }
}

/// Appends `array`'s values; its type is one [`ColumnBuilder::new`] accepted as text.
fn extend_text(text: &mut TextBuilder, array: &dyn Array) {
    match array.data_type() {
        DataType::Dictionary(..) => extend_dictionary(text, array),
        DataType::Utf8 => array
            .as_string::<i32>()
            .iter()
            .for_each(|value| text.push(value)),
        DataType::LargeUtf8 => array
            .as_string::<i64>()
            .iter()
            .for_each(|value| text.push(value)),
        _ => array
            .as_string_view()
            .iter()
            .for_each(|value| text.push(value)),
    }
}

/// A dictionary's values are interned once each, on their first use, not once a row.
fn extend_dictionary(text: &mut TextBuilder, array: &dyn Array) {
    const UNSEEN: u32 = u32::MAX - 1;
    let dictionary = array.as_any_dictionary();
    let values = string_values(dictionary.values().as_ref());
    if values.is_empty() {
        (0..array.len()).for_each(|_| text.push_code(TextValues::MISSING));
        return;
    }
    let key_nulls = dictionary.keys().nulls();
    let mut codes = vec![UNSEEN; values.len()];
    for (row, key) in dictionary.normalized_keys().into_iter().enumerate() {
        if key_nulls.is_some_and(|nulls| nulls.is_null(row)) {
            text.push_code(TextValues::MISSING);
            continue;
        }
        let code = &mut codes[key];
        if *code == UNSEEN {
            *code = values[key].map_or(TextValues::MISSING, |value| text.intern(value));
        }
        text.push_code(*code);
    }
}

/// A dictionary's values, whichever string layout they have.
fn string_values(array: &dyn Array) -> Vec<Option<&str>> {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        _ => array.as_string_view().iter().collect(),
    }
}

/// The `rows` of a column as an Arrow array: `Float64` with NaN as null, or `Utf8`.
pub(crate) fn array_of(values: &ColumnValues, rows: std::ops::Range<usize>) -> ArrayRef {
    match values {
        ColumnValues::Numeric(values) => Arc::new(
            values[rows]
                .iter()
                .map(|&value| (!value.is_nan()).then_some(value))
                .collect::<Float64Array>(),
        ),
        ColumnValues::Text(values) => Arc::new(
            values.codes()[rows]
                .iter()
                // `MISSING` is past the last level, so it reads as `None`.
                .map(|&code| values.levels().get(code as usize).map(String::as_str))
                .collect::<StringArray>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::types::Int8Type;
    use arrow_array::{
        BooleanArray, Decimal128Array, DictionaryArray, Int8Array, LargeStringArray,
        StringViewArray, UInt64Array,
    };

    use super::*;

    fn read(array: &dyn Array) -> ColumnValues {
        let mut builder = ColumnBuilder::new(array.data_type(), array.len()).unwrap();
        builder.extend(array);
        builder.extend(array);
        builder.finish()
    }

    fn text(values: &[Option<&str>]) -> ColumnValues {
        ColumnValues::Text(values.iter().copied().collect())
    }

    #[test]
    fn every_string_layout_reads_as_the_same_text() {
        let values = [Some("a"), None, Some(""), Some("a")];
        let twice: Vec<_> = values.iter().chain(&values).copied().collect();
        assert_eq!(read(&StringArray::from(values.to_vec())), text(&twice));
        assert_eq!(read(&LargeStringArray::from(values.to_vec())), text(&twice));
        assert_eq!(read(&StringViewArray::from(values.to_vec())), text(&twice));
    }

    #[test]
    fn dictionaries_with_null_keys_null_values_and_no_values_read_as_missing() {
        let keys = Int8Array::from(vec![Some(1), None, Some(0), Some(2), Some(1)]);
        let values: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("y"), None]));
        let dictionary = DictionaryArray::<Int8Type>::new(keys, values);
        let once = [Some("y"), None, Some("x"), None, Some("y")];
        let twice: Vec<_> = once.iter().chain(&once).copied().collect();
        assert_eq!(read(&dictionary), text(&twice));

        let keys = Int8Array::from(vec![None, None]);
        let values: ArrayRef = Arc::new(StringArray::from(Vec::<&str>::new()));
        let empty = DictionaryArray::<Int8Type>::new(keys, values);
        assert_eq!(read(&empty), text(&[None; 4]));
    }

    #[test]
    fn numbers_of_every_width_become_f64() {
        let unsigned = UInt64Array::from(vec![Some(7), None]);
        assert_eq!(
            read(&unsigned),
            ColumnValues::Numeric(vec![7.0, f64::NAN, 7.0, f64::NAN])
        );
        let flags = BooleanArray::from(vec![Some(true), Some(false), None]);
        assert_eq!(
            read(&flags),
            ColumnValues::Numeric(vec![1.0, 0.0, f64::NAN, 1.0, 0.0, f64::NAN])
        );
        let prices = Decimal128Array::from(vec![12_345_i128, -5])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(
            read(&prices),
            ColumnValues::Numeric(vec![123.45, -0.05, 123.45, -0.05])
        );
    }

    #[test]
    fn other_types_have_no_reading() {
        let timestamp = DataType::Timestamp(arrow_schema::TimeUnit::Second, None);
        assert!(ColumnBuilder::new(&timestamp, 0).is_none());
        let numeric_dictionary =
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Int64));
        assert!(ColumnBuilder::new(&numeric_dictionary, 0).is_none());
        assert!(ColumnBuilder::new(&DataType::Binary, 0).is_none());
    }

    #[test]
    fn columns_become_nullable_arrow_arrays() {
        let numbers = ColumnValues::Numeric(vec![1.0, f64::NAN, 3.0]);
        let array = array_of(&numbers, 1..3);
        assert_eq!(array.len(), 2);
        assert!(array.is_null(0));
        let words = text(&[Some("a"), None, Some("b")]);
        let array = array_of(&words, 0..3);
        assert_eq!(
            array.as_string::<i32>().iter().collect::<Vec<_>>(),
            [Some("a"), None, Some("b")]
        );
    }
}
