//! How the prediction log stores a record's tensors: a JSON array with one object per
//! tensor, its name, shape and datatype readable as they are, and numeric elements as
//! their little-endian bytes in base64 (`"le"`) instead of a JSON array of numbers.
//!
//! ```text
//! [{"name":"input","shape":[1,30],"datatype":"FP32","le":"zcxSQdcj..."}]
//! ```
//!
//! Writing 30 floats as decimal text and reading them back were most of the log writer's
//! encoding work, and the bytes are half as many. The bytes also keep what JSON cannot
//! (NaN and infinities, which JSON would write as `null`). Booleans and strings keep the
//! JSON array (`"data"`), and so do rows written before this format: both forms are read.
//!
//! The log now stores segments (`segment.rs`); this form is read only to move the rows of
//! the first layout into segments, and written only by the tests of that move.
#![cfg_attr(not(test), allow(dead_code))]

use bascule_core::{DataType, Tensor, TensorData};
use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The stored form of `tensors`, written directly (serde's derived serialiser cost as much
/// as the JSON arrays it replaces).
pub(crate) fn encode(tensors: &[Tensor]) -> Result<String, serde_json::Error> {
    let mut text = String::with_capacity(64 + 2 * tensors.iter().map(size_hint).sum::<usize>());
    text.push('[');
    for (i, tensor) in tensors.iter().enumerate() {
        text.push_str(if i == 0 { "{\"name\":" } else { ",{\"name\":" });
        // A JSON string with its quotes and escapes.
        text.push_str(&serde_json::to_string(&tensor.name)?);
        text.push_str(",\"shape\":[");
        for (d, dim) in tensor.shape.iter().enumerate() {
            if d > 0 {
                text.push(',');
            }
            // Writing to a String cannot fail.
            let _ = write!(text, "{dim}");
        }
        text.push_str("],\"datatype\":\"");
        text.push_str(tensor.data.datatype().as_str());
        match &tensor.data {
            TensorData::Int32(values) => le_field(&mut text, values, i32::to_le_bytes),
            TensorData::Int64(values) => le_field(&mut text, values, i64::to_le_bytes),
            TensorData::Fp32(values) => le_field(&mut text, values, f32::to_le_bytes),
            TensorData::Fp64(values) => le_field(&mut text, values, f64::to_le_bytes),
            TensorData::Bool(values) => data_field(&mut text, values)?,
            TensorData::Bytes(values) => data_field(&mut text, values)?,
        }
        text.push('}');
    }
    text.push(']');
    Ok(text)
}

/// The tensors of a stored value in either form; `None` if it is neither.
pub(crate) fn decode(text: &str) -> Option<Vec<Tensor>> {
    let stored: Vec<StoredTensor> = serde_json::from_str(text).ok()?;
    stored.into_iter().map(StoredTensor::into_tensor).collect()
}

fn size_hint(tensor: &Tensor) -> usize {
    tensor.name.len() + 48 + tensor.data.len() * 8
}

/// `","le":"<base64>"`, closing the datatype's string.
fn le_field<T: Copy, const N: usize>(text: &mut String, values: &[T], to_bytes: fn(T) -> [u8; N]) {
    let mut bytes = Vec::with_capacity(values.len() * N);
    for value in values {
        bytes.extend_from_slice(&to_bytes(*value));
    }
    text.push_str("\",\"le\":\"");
    BASE64.encode_string(&bytes, text);
    text.push('"');
}

/// `","data":[…]`, closing the datatype's string.
fn data_field<T: serde::Serialize>(
    text: &mut String,
    values: &[T],
) -> Result<(), serde_json::Error> {
    text.push_str("\",\"data\":");
    text.push_str(&serde_json::to_string(values)?);
    Ok(())
}

#[derive(serde::Deserialize)]
struct StoredTensor {
    name: String,
    shape: Vec<usize>,
    datatype: DataType,
    #[serde(default)]
    le: Option<String>,
    /// Booleans and strings, and every datatype in rows written before `le`.
    #[serde(default)]
    data: Option<serde_json::Value>,
}

impl StoredTensor {
    fn into_tensor(self) -> Option<Tensor> {
        let data = match (self.le, self.data) {
            (Some(le), None) => from_little_endian(self.datatype, &BASE64.decode(le).ok()?)?,
            (None, Some(data)) => from_json(self.datatype, data)?,
            _ => return None,
        };
        Some(Tensor {
            name: self.name,
            shape: self.shape,
            data,
        })
    }
}

fn from_little_endian(datatype: DataType, bytes: &[u8]) -> Option<TensorData> {
    fn elements<T, const N: usize>(bytes: &[u8], from_bytes: fn([u8; N]) -> T) -> Option<Vec<T>> {
        let chunks = bytes.chunks_exact(N);
        if !chunks.remainder().is_empty() {
            return None;
        }
        chunks
            .map(|chunk| chunk.try_into().ok().map(from_bytes))
            .collect()
    }
    Some(match datatype {
        DataType::Int32 => TensorData::Int32(elements(bytes, i32::from_le_bytes)?),
        DataType::Int64 => TensorData::Int64(elements(bytes, i64::from_le_bytes)?),
        DataType::Fp32 => TensorData::Fp32(elements(bytes, f32::from_le_bytes)?),
        DataType::Fp64 => TensorData::Fp64(elements(bytes, f64::from_le_bytes)?),
        _ => return None,
    })
}

fn from_json(datatype: DataType, data: serde_json::Value) -> Option<TensorData> {
    let data = match datatype {
        DataType::Bool => TensorData::Bool(serde_json::from_value(data).ok()?),
        DataType::Int32 => TensorData::Int32(serde_json::from_value(data).ok()?),
        DataType::Int64 => TensorData::Int64(serde_json::from_value(data).ok()?),
        DataType::Fp32 => TensorData::Fp32(serde_json::from_value(data).ok()?),
        DataType::Fp64 => TensorData::Fp64(serde_json::from_value(data).ok()?),
        DataType::Bytes => TensorData::Bytes(serde_json::from_value(data).ok()?),
        _ => return None,
    };
    Some(data)
}

#[cfg(test)]
pub(in crate::predictions) mod tests {
    use super::*;

    pub(in crate::predictions) fn tensor(
        name: &str,
        shape: Vec<usize>,
        data: TensorData,
    ) -> Tensor {
        Tensor::new(name, shape, data).unwrap()
    }

    /// A tensor of every datatype, with awkward values.
    pub(in crate::predictions) fn every_datatype() -> Vec<Tensor> {
        vec![
            tensor(
                "input",
                vec![1, 4],
                TensorData::Fp32(vec![13.17, -0.0, f32::MIN_POSITIVE, 1e30]),
            ),
            tensor("x64", vec![2], TensorData::Fp64(vec![0.1, -2.5e-300])),
            tensor("label", vec![1], TensorData::Int64(vec![i64::MIN])),
            tensor("code", vec![2, 1], TensorData::Int32(vec![7, -1])),
            tensor("flag", vec![2], TensorData::Bool(vec![true, false])),
            tensor(
                "city \"quoted\"",
                vec![2],
                TensorData::Bytes(vec!["Zürich".into(), "".into()]),
            ),
            tensor("empty", vec![0, 3], TensorData::Fp32(vec![])),
        ]
    }

    #[test]
    fn every_datatype_round_trips_exactly() {
        let tensors = every_datatype();
        let text = encode(&tensors).unwrap();
        assert_eq!(decode(&text).unwrap(), tensors);
    }

    #[test]
    fn numbers_are_little_endian_base64_and_the_rest_stays_json() {
        let tensors = vec![
            tensor("p", vec![1, 2], TensorData::Fp32(vec![1.0, -2.0])),
            tensor("flag", vec![1], TensorData::Bool(vec![true])),
        ];
        assert_eq!(
            encode(&tensors).unwrap(),
            r#"[{"name":"p","shape":[1,2],"datatype":"FP32","le":"AACAPwAAAMA="},{"name":"flag","shape":[1],"datatype":"BOOL","data":[true]}]"#
        );
    }

    #[test]
    fn non_finite_floats_survive() {
        // A JSON array of numbers would store these as `null` and fail to read back.
        let tensors = vec![tensor(
            "p",
            vec![3],
            TensorData::Fp32(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY]),
        )];
        let decoded = decode(&encode(&tensors).unwrap()).unwrap();
        let TensorData::Fp32(values) = &decoded[0].data else {
            panic!("not FP32: {decoded:?}")
        };
        assert!(values[0].is_nan());
        assert_eq!(values[1..], [f32::INFINITY, f32::NEG_INFINITY]);
    }

    #[test]
    fn rows_written_as_json_arrays_are_still_read() {
        // What the log wrote before the `le` form: `serde_json::to_string(&tensors)`.
        let tensors = every_datatype();
        let old = serde_json::to_string(&tensors).unwrap();
        assert!(old.contains(r#""data":[13.17,"#));
        assert_eq!(decode(&old).unwrap(), tensors);
        assert_eq!(
            decode(r#"[{"name":"input","shape":[1,2],"datatype":"FP32","data":[0.5,2]}]"#),
            Some(vec![tensor(
                "input",
                vec![1, 2],
                TensorData::Fp32(vec![0.5, 2.0])
            )])
        );
        assert_eq!(decode("[]"), Some(vec![]));
    }

    #[test]
    fn malformed_values_are_refused() {
        for text in [
            "",
            "{}",
            // Five bytes are not a whole number of FP32 elements.
            r#"[{"name":"p","shape":[1],"datatype":"FP32","le":"AAAAAAA="}]"#,
            r#"[{"name":"p","shape":[1],"datatype":"FP32","le":"not base64!"}]"#,
            // Both forms, or neither.
            r#"[{"name":"p","shape":[1],"datatype":"FP32","le":"AACAPw==","data":[1]}]"#,
            r#"[{"name":"p","shape":[1],"datatype":"FP32"}]"#,
            r#"[{"name":"p","shape":[1],"datatype":"UINT8","le":"AA=="}]"#,
            r#"[{"name":"p","shape":[1],"datatype":"BOOL","le":"AA=="}]"#,
            r#"[{"name":"p","shape":[1],"datatype":"FP32","data":["a"]}]"#,
        ] {
            assert_eq!(decode(text), None, "{text}");
        }
    }
}
