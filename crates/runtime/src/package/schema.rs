//! MLflow's model signature: two JSON strings inside `MLmodel`, each a list of tensor specs
//! (`{"name": .., "type": "tensor", "tensor-spec": {"dtype": .., "shape": [..]}}`) or of
//! column specs (`{"type": "double", "name": .., "required": true}`), as
//! `mlflow/types/schema.py` writes them.

use std::io;

use bascule_core::{DataType, Signature, TensorSpec};
use serde::Serialize;
use serde_json::Value;

use crate::Error;

/// A model signature as an `MLmodel` file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlflowSignature {
    pub inputs: Option<Schema>,
    pub outputs: Option<Schema>,
}

/// One side of a signature: tensors (what ONNX models have) or data frame columns (what
/// MLflow infers from a pandas example). MLflow forbids mixing the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    Tensors(Vec<SchemaTensor>),
    Columns(Vec<SchemaColumn>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaTensor {
    /// MLflow allows one unnamed tensor.
    pub name: Option<String>,
    pub datatype: DataType,
    /// `-1` for a dimension of any size.
    pub shape: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaColumn {
    pub name: Option<String>,
    /// MLflow's type name: `double`, `long`, `string`, … or `array`, `object`, `map`, `any`.
    pub mlflow_type: String,
    pub required: bool,
}

impl MlflowSignature {
    /// The tensor signature MLflow would record for a model with this signature.
    pub fn from_signature(signature: &Signature) -> Self {
        let schema = |specs: &[TensorSpec]| {
            (!specs.is_empty()).then(|| {
                Schema::Tensors(
                    specs
                        .iter()
                        .map(|spec| SchemaTensor {
                            name: Some(spec.name.clone()),
                            datatype: spec.datatype,
                            shape: spec.shape.clone(),
                        })
                        .collect(),
                )
            })
        };
        MlflowSignature {
            inputs: schema(&signature.inputs),
            outputs: schema(&signature.outputs),
        }
    }

    /// Bascule's signature, when both sides are named tensors (outputs may be absent).
    pub fn to_signature(&self) -> Option<Signature> {
        let tensors = |schema: &Schema| match schema {
            Schema::Tensors(tensors) => tensors
                .iter()
                .map(|tensor| {
                    Some(TensorSpec {
                        name: tensor.name.clone()?,
                        datatype: tensor.datatype,
                        shape: tensor.shape.clone(),
                    })
                })
                .collect::<Option<Vec<_>>>(),
            Schema::Columns(_) => None,
        };
        let inputs = tensors(self.inputs.as_ref()?)?;
        let outputs = match &self.outputs {
            Some(schema) => tensors(schema)?,
            None => Vec::new(),
        };
        Some(Signature { inputs, outputs })
    }
}

#[derive(Serialize)]
struct TensorSpecJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "tensor-spec")]
    tensor_spec: TensorInfoJson<'a>,
}

#[derive(Serialize)]
struct TensorInfoJson<'a> {
    dtype: &'static str,
    shape: &'a [i64],
}

#[derive(Serialize)]
struct ColumnSpecJson<'a> {
    #[serde(rename = "type")]
    mlflow_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    required: bool,
}

impl Schema {
    /// The JSON string MLflow stores (`json.dumps` of the spec list, Python's separators).
    pub fn to_json(&self) -> String {
        match self {
            Schema::Tensors(tensors) => python_json(
                &tensors
                    .iter()
                    .map(|tensor| TensorSpecJson {
                        name: tensor.name.as_deref(),
                        kind: "tensor",
                        tensor_spec: TensorInfoJson {
                            dtype: tensor.datatype.numpy_name(),
                            shape: &tensor.shape,
                        },
                    })
                    .collect::<Vec<_>>(),
            ),
            Schema::Columns(columns) => python_json(
                &columns
                    .iter()
                    .map(|column| ColumnSpecJson {
                        mlflow_type: &column.mlflow_type,
                        name: column.name.as_deref(),
                        required: column.required,
                    })
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// Parses the JSON string of one side of an MLflow signature.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidMlmodel(format!("signature: {reason}"));
        let specs: Vec<Value> = serde_json::from_str(json)
            .map_err(|error| invalid(format!("not a JSON list: {error}")))?;
        if specs.is_empty() {
            return Err(invalid("an empty schema".into()));
        }
        let text =
            |spec: &Value, key: &str| spec.get(key).and_then(Value::as_str).map(str::to_owned);
        if specs
            .iter()
            .all(|spec| text(spec, "type").as_deref() == Some("tensor"))
        {
            let tensors = specs
                .iter()
                .map(|spec| {
                    let info = spec
                        .get("tensor-spec")
                        .ok_or_else(|| invalid("a tensor without tensor-spec".into()))?;
                    let dtype = text(info, "dtype")
                        .ok_or_else(|| invalid("a tensor-spec without dtype".into()))?;
                    let datatype = numpy_datatype(&dtype)
                        .ok_or_else(|| invalid(format!("unsupported tensor dtype '{dtype}'")))?;
                    let shape = info
                        .get("shape")
                        .and_then(Value::as_array)
                        .and_then(|dims| dims.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
                        .ok_or_else(|| invalid("a tensor-spec without an integer shape".into()))?;
                    Ok(SchemaTensor {
                        name: text(spec, "name"),
                        datatype,
                        shape,
                    })
                })
                .collect::<Result<_, Error>>()?;
            return Ok(Schema::Tensors(tensors));
        }
        let columns = specs
            .iter()
            .map(|spec| {
                let mlflow_type =
                    text(spec, "type").ok_or_else(|| invalid("a column without a type".into()))?;
                if mlflow_type == "tensor" {
                    return Err(invalid("tensors and columns mixed in one schema".into()));
                }
                let required = spec
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                Ok(SchemaColumn {
                    name: text(spec, "name"),
                    mlflow_type,
                    required,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Schema::Columns(columns))
    }
}

/// The datatype of a numpy dtype name, as MLflow writes it in a tensor spec.
fn numpy_datatype(dtype: &str) -> Option<DataType> {
    match dtype {
        "str" | "object" | "bytes" | "str_" | "bytes_" => Some(DataType::Bytes),
        _ => DataType::ALL
            .into_iter()
            .filter(|datatype| *datatype != DataType::Bytes)
            .find(|datatype| datatype.numpy_name() == dtype),
    }
}

/// Python's `json.dumps` layout: `", "` between items and `": "` after keys.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Serialises as Python's `json.dumps` would lay it out.
pub(crate) fn python_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, PythonFormatter);
    // Serialising plain data (strings, numbers, lists, maps with string keys) into memory
    // cannot fail; an `InputExample`'s tensors were checked against their shapes.
    value
        .serialize(&mut serializer)
        .expect("plain data serialises to JSON");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature() -> Signature {
        Signature {
            inputs: vec![TensorSpec {
                name: "input".into(),
                datatype: DataType::Fp32,
                shape: vec![-1, 30],
            }],
            outputs: vec![
                TensorSpec {
                    name: "label".into(),
                    datatype: DataType::Int64,
                    shape: vec![-1],
                },
                TensorSpec {
                    name: "probabilities".into(),
                    datatype: DataType::Fp32,
                    shape: vec![-1, 2],
                },
            ],
        }
    }

    #[test]
    fn writes_tensor_specs_as_mlflow_does() {
        let mlflow = MlflowSignature::from_signature(&signature());
        // The exact strings mlflow 3.17.2 wrote for the logistic fixture.
        assert_eq!(
            mlflow.inputs.as_ref().map(Schema::to_json).as_deref(),
            Some(
                r#"[{"name": "input", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 30]}}]"#
            )
        );
        assert_eq!(
            mlflow.outputs.as_ref().map(Schema::to_json).as_deref(),
            Some(concat!(
                r#"[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}, "#,
                r#"{"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]"#
            ))
        );
    }

    #[test]
    fn round_trips_through_json() {
        let mlflow = MlflowSignature::from_signature(&signature());
        let inputs = Schema::from_json(
            &mlflow
                .inputs
                .as_ref()
                .map(Schema::to_json)
                .unwrap_or_default(),
        );
        assert_eq!(inputs.as_ref().ok(), mlflow.inputs.as_ref());
        assert_eq!(mlflow.to_signature(), Some(signature()));
    }

    #[test]
    fn reads_column_specs_and_unnamed_tensors() {
        let columns =
            Schema::from_json(r#"[{"type": "double", "name": "mean radius", "required": true}, {"type": "array", "items": {"type": "long"}, "name": "ids", "required": false}]"#)
                .expect("parses");
        let Schema::Columns(columns) = &columns else {
            panic!("columns expected: {columns:?}")
        };
        assert_eq!(columns[0].mlflow_type, "double");
        assert_eq!(
            (columns[1].mlflow_type.as_str(), columns[1].required),
            ("array", false)
        );
        let unnamed = Schema::from_json(
            r#"[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]"#,
        )
        .expect("parses");
        let signature = MlflowSignature {
            inputs: Some(unnamed),
            outputs: None,
        };
        assert_eq!(
            signature.to_signature(),
            None,
            "an unnamed tensor has no Bascule name"
        );
    }

    #[test]
    fn refuses_malformed_schemas() {
        for json in [
            "not json",
            "[]",
            r#"[{"type": "tensor"}]"#,
            r#"[{"type": "tensor", "tensor-spec": {"dtype": "complex64", "shape": [-1]}}]"#,
            r#"[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": ["a"]}}]"#,
            r#"[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [1]}}, {"type": "double"}]"#,
        ] {
            let error = Schema::from_json(json).expect_err(json);
            assert!(
                matches!(error, Error::InvalidMlmodel(_)),
                "{json}: {error:?}"
            );
        }
    }
}
