//! Tensors and model signatures, in the vocabulary of the Open Inference Protocol
//! (datatype names such as `FP32`, variable dimensions as `-1`).

use std::fmt;

/// A tensor element type; names are the Open Inference Protocol's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DataType {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Fp32,
    Fp64,
    Bytes,
}

impl DataType {
    /// Every datatype, in the protocol's order.
    pub const ALL: [DataType; 13] = [
        DataType::Bool,
        DataType::Uint8,
        DataType::Uint16,
        DataType::Uint32,
        DataType::Uint64,
        DataType::Int8,
        DataType::Int16,
        DataType::Int32,
        DataType::Int64,
        DataType::Fp16,
        DataType::Fp32,
        DataType::Fp64,
        DataType::Bytes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Bool => "BOOL",
            DataType::Uint8 => "UINT8",
            DataType::Uint16 => "UINT16",
            DataType::Uint32 => "UINT32",
            DataType::Uint64 => "UINT64",
            DataType::Int8 => "INT8",
            DataType::Int16 => "INT16",
            DataType::Int32 => "INT32",
            DataType::Int64 => "INT64",
            DataType::Fp16 => "FP16",
            DataType::Fp32 => "FP32",
            DataType::Fp64 => "FP64",
            DataType::Bytes => "BYTES",
        }
    }

    /// The numpy dtype name MLflow writes in a tensor signature.
    pub fn numpy_name(self) -> &'static str {
        match self {
            DataType::Bool => "bool",
            DataType::Uint8 => "uint8",
            DataType::Uint16 => "uint16",
            DataType::Uint32 => "uint32",
            DataType::Uint64 => "uint64",
            DataType::Int8 => "int8",
            DataType::Int16 => "int16",
            DataType::Int32 => "int32",
            DataType::Int64 => "int64",
            DataType::Fp16 => "float16",
            DataType::Fp32 => "float32",
            DataType::Fp64 => "float64",
            DataType::Bytes => "str",
        }
    }

    pub fn is_numeric(self) -> bool {
        !matches!(self, DataType::Bool | DataType::Bytes)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One named input or output of a model. `shape` uses `-1` for a dimension of any size
/// (the batch dimension, usually).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub datatype: DataType,
    pub shape: Vec<i64>,
}

/// A model's inputs and outputs, in graph order.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Signature {
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
}

/// The elements of a tensor, row-major.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "datatype", content = "data", rename_all = "UPPERCASE")]
pub enum TensorData {
    Bool(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Fp32(Vec<f32>),
    Fp64(Vec<f64>),
    Bytes(Vec<String>),
}

impl TensorData {
    pub fn len(&self) -> usize {
        match self {
            TensorData::Bool(v) => v.len(),
            TensorData::Int32(v) => v.len(),
            TensorData::Int64(v) => v.len(),
            TensorData::Fp32(v) => v.len(),
            TensorData::Fp64(v) => v.len(),
            TensorData::Bytes(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn datatype(&self) -> DataType {
        match self {
            TensorData::Bool(_) => DataType::Bool,
            TensorData::Int32(_) => DataType::Int32,
            TensorData::Int64(_) => DataType::Int64,
            TensorData::Fp32(_) => DataType::Fp32,
            TensorData::Fp64(_) => DataType::Fp64,
            TensorData::Bytes(_) => DataType::Bytes,
        }
    }

    /// The elements as `f64`, for numeric data (metrics, drift statistics).
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match self {
            TensorData::Int32(v) => Some(v.iter().map(|&x| f64::from(x)).collect()),
            // i64 → f64 rounds beyond 2^53; labels and counts stay far below that.
            TensorData::Int64(v) => Some(v.iter().map(|&x| x as f64).collect()),
            TensorData::Fp32(v) => Some(v.iter().map(|&x| f64::from(x)).collect()),
            TensorData::Fp64(v) => Some(v.clone()),
            TensorData::Bool(_) | TensorData::Bytes(_) => None,
        }
    }
}

/// A named tensor: the unit an inference engine takes and returns.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    #[serde(flatten)]
    pub data: TensorData,
}

impl Tensor {
    /// Builds a tensor, checking that the shape covers the data exactly.
    pub fn new(
        name: impl Into<String>,
        shape: Vec<usize>,
        data: TensorData,
    ) -> Result<Self, String> {
        let name = name.into();
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(format!(
                "tensor '{name}' has shape {shape:?} ({expected} elements) but {} elements of data",
                data.len()
            ));
        }
        Ok(Tensor { name, shape, data })
    }

    /// Rows `start..end` of a tensor whose first dimension is the row.
    pub fn rows(&self, start: usize, end: usize) -> Tensor {
        let n_rows = self.shape.first().copied().unwrap_or(0).max(1);
        let row_len = self.data.len() / n_rows;
        let (a, b) = (start * row_len, end * row_len);
        let data = match &self.data {
            TensorData::Bool(v) => TensorData::Bool(v[a..b].to_vec()),
            TensorData::Int32(v) => TensorData::Int32(v[a..b].to_vec()),
            TensorData::Int64(v) => TensorData::Int64(v[a..b].to_vec()),
            TensorData::Fp32(v) => TensorData::Fp32(v[a..b].to_vec()),
            TensorData::Fp64(v) => TensorData::Fp64(v[a..b].to_vec()),
            TensorData::Bytes(v) => TensorData::Bytes(v[a..b].to_vec()),
        };
        let mut shape = self.shape.clone();
        if let Some(first) = shape.first_mut() {
            *first = end - start;
        }
        Tensor {
            name: self.name.clone(),
            shape,
            data,
        }
    }

    /// Appends `part`'s rows after this tensor's; refused (and nothing appended) when the
    /// element types or the shapes after the first dimension differ.
    pub fn append_rows(&mut self, part: &Tensor) -> Result<(), String> {
        if self.shape.get(1..) != part.shape.get(1..) {
            return Err(format!(
                "'{}': rows of shape {:?} cannot follow rows of shape {:?}",
                self.name, part.shape, self.shape
            ));
        }
        match (&mut self.data, &part.data) {
            (TensorData::Bool(a), TensorData::Bool(b)) => a.extend_from_slice(b),
            (TensorData::Int32(a), TensorData::Int32(b)) => a.extend_from_slice(b),
            (TensorData::Int64(a), TensorData::Int64(b)) => a.extend_from_slice(b),
            (TensorData::Fp32(a), TensorData::Fp32(b)) => a.extend_from_slice(b),
            (TensorData::Fp64(a), TensorData::Fp64(b)) => a.extend_from_slice(b),
            (TensorData::Bytes(a), TensorData::Bytes(b)) => a.extend_from_slice(b),
            (a, b) => {
                return Err(format!(
                    "'{}': {} rows cannot follow {} rows",
                    self.name,
                    b.datatype(),
                    a.datatype()
                ));
            }
        }
        if let (Some(first), Some(more)) = (self.shape.first_mut(), part.shape.first()) {
            *first += more;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_slice_and_append_back() {
        let whole = Tensor::new(
            "x",
            vec![3, 2],
            TensorData::Fp32(vec![1., 2., 3., 4., 5., 6.]),
        )
        .unwrap();
        let mut joined = whole.rows(0, 1);
        assert_eq!(joined.data, TensorData::Fp32(vec![1., 2.]));
        joined.append_rows(&whole.rows(1, 3)).unwrap();
        assert_eq!(joined, whole);
        let ints = Tensor::new("x", vec![1, 2], TensorData::Int64(vec![1, 2])).unwrap();
        assert!(
            joined
                .append_rows(&ints)
                .unwrap_err()
                .contains("INT64 rows cannot follow FP32")
        );
        let wide = Tensor::new("x", vec![1, 3], TensorData::Fp32(vec![0.; 3])).unwrap();
        assert!(joined.append_rows(&wide).is_err());
        assert_eq!(joined, whole, "a refused append changes nothing");
    }

    #[test]
    fn shape_must_cover_the_data() {
        assert!(Tensor::new("x", vec![2, 3], TensorData::Fp32(vec![0.0; 6])).is_ok());
        let err = Tensor::new("x", vec![2, 3], TensorData::Fp32(vec![0.0; 5])).unwrap_err();
        assert!(
            err.contains("6 elements") && err.contains("5 elements"),
            "{err}"
        );
    }

    #[test]
    fn datatypes_serialise_as_the_protocol_names() {
        let json = serde_json::to_string(&DataType::Fp32).unwrap();
        assert_eq!(json, "\"FP32\"");
        assert_eq!(
            serde_json::from_str::<DataType>("\"INT64\"").unwrap(),
            DataType::Int64
        );
    }
}
