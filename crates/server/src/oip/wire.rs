//! The Open Inference Protocol's JSON, and its translation to and from tensors. Tensor
//! data may be nested or flat (row-major); elements are decoded as the request's declared
//! datatype, and a datatype the model does not take is refused by the input check.

use bascule_core::{DataType, Signature, Tensor, TensorData, TensorSpec};
use serde::{Deserialize, Serialize};

use super::elements::Elements;

#[derive(Debug, Deserialize)]
pub struct InferenceRequest {
    pub id: Option<String>,
    #[serde(default)]
    pub inputs: Vec<RequestInput>,
    pub outputs: Option<Vec<RequestOutput>>,
}

#[derive(Debug, Deserialize)]
pub struct RequestInput {
    pub name: String,
    pub shape: Vec<i64>,
    pub datatype: String,
    pub data: Elements,
}

#[derive(Debug, Deserialize)]
pub struct RequestOutput {
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct InferenceResponse<'a> {
    pub model_name: &'a str,
    pub model_version: String,
    pub id: &'a str,
    pub outputs: Vec<ResponseOutput<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ResponseOutput<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub datatype: &'static str,
    pub data: OutputData<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum OutputData<'a> {
    Bool(&'a [bool]),
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Fp32(&'a [f32]),
    Fp64(&'a [f64]),
    Bytes(&'a [String]),
}

#[derive(Debug, Serialize)]
pub struct ServerMetadataResponse {
    pub name: &'static str,
    pub version: &'static str,
    pub extensions: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ModelMetadataResponse {
    pub name: String,
    pub versions: Vec<String>,
    pub platform: &'static str,
    pub inputs: Vec<MetadataTensor>,
    pub outputs: Vec<MetadataTensor>,
}

#[derive(Debug, Serialize)]
pub struct MetadataTensor {
    pub name: String,
    pub datatype: &'static str,
    pub shape: Vec<i64>,
}

impl ModelMetadataResponse {
    pub fn new(name: &str, versions: Vec<String>, signature: &Signature) -> Self {
        let tensors = |specs: &[TensorSpec]| {
            specs
                .iter()
                .map(|spec| MetadataTensor {
                    name: spec.name.clone(),
                    datatype: spec.datatype.as_str(),
                    shape: spec.shape.clone(),
                })
                .collect()
        };
        ModelMetadataResponse {
            name: name.to_owned(),
            versions,
            platform: "onnx_onnxv1",
            inputs: tensors(&signature.inputs),
            outputs: tensors(&signature.outputs),
        }
    }
}

/// Decodes one request input into a tensor, or says what is wrong with it.
pub fn to_tensor(input: RequestInput) -> Result<Tensor, String> {
    let RequestInput {
        name,
        shape,
        datatype,
        data,
    } = input;
    let datatype = DataType::ALL
        .into_iter()
        .find(|known| known.as_str() == datatype)
        .ok_or_else(|| {
            format!("input '{name}': '{datatype}' is not an Open Inference Protocol datatype")
        })?;
    let shape = shape
        .iter()
        .map(|&size| usize::try_from(size))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| format!("input '{name}': shape {shape:?} has a negative dimension"))?;
    let wrong = |kind: &str| format!("input '{name}': {datatype} data must be {kind}");
    let numbers = |kind: &str| match &data {
        Elements::Numbers(numbers) => Ok(numbers.as_slice()),
        Elements::Empty => Ok(&[][..]),
        _ => Err(wrong(kind)),
    };
    let data = match datatype {
        DataType::Fp32 => TensorData::Fp32(
            numbers("numbers")?
                .iter()
                .map(|x| x.as_f64() as f32)
                .collect(),
        ),
        DataType::Fp64 => {
            TensorData::Fp64(numbers("numbers")?.iter().map(|x| x.as_f64()).collect())
        }
        DataType::Int64 => TensorData::Int64(
            numbers("integers")?
                .iter()
                .map(|x| x.as_i64())
                .collect::<Option<_>>()
                .ok_or_else(|| wrong("integers"))?,
        ),
        DataType::Int32 => TensorData::Int32(
            numbers("32-bit integers")?
                .iter()
                .map(|x| x.as_i64().and_then(|x| i32::try_from(x).ok()))
                .collect::<Option<_>>()
                .ok_or_else(|| wrong("32-bit integers"))?,
        ),
        DataType::Bool => TensorData::Bool(match data {
            Elements::Bools(values) => values,
            Elements::Empty => Vec::new(),
            _ => return Err(wrong("true or false")),
        }),
        DataType::Bytes => TensorData::Bytes(match data {
            Elements::Strings(values) => values,
            Elements::Empty => Vec::new(),
            _ => return Err(wrong("strings")),
        }),
        other => {
            return Err(format!(
                "input '{name}': {other} tensors are not served yet; send FP32, FP64, INT32, \
                 INT64, BOOL or BYTES"
            ));
        }
    };
    Tensor::new(name, shape, data)
}

pub fn output<'a>(tensor: &'a Tensor) -> ResponseOutput<'a> {
    let data = match &tensor.data {
        TensorData::Bool(v) => OutputData::Bool(v),
        TensorData::Int32(v) => OutputData::Int32(v),
        TensorData::Int64(v) => OutputData::Int64(v),
        TensorData::Fp32(v) => OutputData::Fp32(v),
        TensorData::Fp64(v) => OutputData::Fp64(v),
        TensorData::Bytes(v) => OutputData::Bytes(v),
    };
    ResponseOutput {
        name: &tensor.name,
        shape: &tensor.shape,
        datatype: tensor.data.datatype().as_str(),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(datatype: &str, shape: Vec<i64>, data: serde_json::Value) -> RequestInput {
        RequestInput {
            name: "x".into(),
            shape,
            datatype: datatype.into(),
            data: serde_json::from_value(data).expect("data parses"),
        }
    }

    #[test]
    fn nested_and_flat_data_decode_alike() {
        let nested = to_tensor(input(
            "FP32",
            vec![2, 2],
            serde_json::json!([[1, 2], [3.5, 4]]),
        ));
        let flat = to_tensor(input("FP32", vec![2, 2], serde_json::json!([1, 2, 3.5, 4])));
        assert_eq!(nested, flat);
        assert_eq!(
            nested.map(|t| t.data),
            Ok(TensorData::Fp32(vec![1.0, 2.0, 3.5, 4.0]))
        );
    }

    #[test]
    fn mistakes_are_named() {
        let err = |i| to_tensor(i).expect_err("refused");
        assert!(err(input("FLOAT", vec![1], serde_json::json!([1]))).contains("'FLOAT'"));
        assert!(err(input("INT64", vec![1], serde_json::json!([1.5]))).contains("integers"));
        assert!(err(input("FP32", vec![-1], serde_json::json!([1]))).contains("negative"));
        assert!(err(input("FP32", vec![3], serde_json::json!([1, 2]))).contains("3 elements"));
        assert!(err(input("FP32", vec![1], serde_json::json!(["a"]))).contains("numbers"));
    }
}
