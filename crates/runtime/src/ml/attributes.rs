//! Reading a node's attributes with errors that name the node and the attribute.

use tract_onnx::pb::{AttributeProto, NodeProto, TensorProto};
use tract_onnx::tract_hir::internal::*;

/// A node's attributes, looked up by name.
#[derive(Debug)]
pub(crate) struct Attributes<'a> {
    node: &'a NodeProto,
}

impl<'a> Attributes<'a> {
    pub(crate) fn new(node: &'a NodeProto) -> Self {
        Attributes { node }
    }

    /// Describes the node for an error message: `TreeEnsembleRegressor node 'trees'`.
    pub(crate) fn describe(&self) -> String {
        let name = if self.node.name.is_empty() {
            self.node.output.first().map(String::as_str).unwrap_or("")
        } else {
            self.node.name.as_str()
        };
        format!("{} node '{name}'", self.node.op_type)
    }

    fn find(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node
            .attribute
            .iter()
            .find(|attribute| attribute.name == name)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub(crate) fn error(&self, reason: impl std::fmt::Display) -> TractError {
        format_err!("{}: {reason}", self.describe())
    }

    pub(crate) fn ints(&self, name: &str) -> &'a [i64] {
        self.find(name).map(|a| a.ints.as_slice()).unwrap_or(&[])
    }

    pub(crate) fn floats(&self, name: &str) -> &'a [f32] {
        self.find(name).map(|a| a.floats.as_slice()).unwrap_or(&[])
    }

    pub(crate) fn strings(&self, name: &str) -> TractResult<Vec<String>> {
        let Some(attribute) = self.find(name) else {
            return Ok(Vec::new());
        };
        attribute
            .strings
            .iter()
            .map(|bytes| {
                String::from_utf8(bytes.clone()).map_err(|_| {
                    self.error(format!("attribute {name} holds a string that is not UTF-8"))
                })
            })
            .collect()
    }

    pub(crate) fn string(&self, name: &str) -> TractResult<Option<String>> {
        self.find(name)
            .map(|attribute| {
                String::from_utf8(attribute.s.clone())
                    .map_err(|_| self.error(format!("attribute {name} is not UTF-8")))
            })
            .transpose()
    }

    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.find(name).map(|attribute| attribute.i)
    }

    pub(crate) fn float(&self, name: &str) -> Option<f32> {
        self.find(name).map(|attribute| attribute.f)
    }

    pub(crate) fn tensor(&self, name: &str) -> Option<&'a TensorProto> {
        self.find(name).and_then(|attribute| attribute.t.as_ref())
    }

    /// The float values of `name`, or of `name_as_tensor` (opset 3's double-precision form,
    /// read as float: Bascule's tree evaluator thresholds in float, as onnxruntime does for
    /// float inputs).
    pub(crate) fn floats_or_tensor(&self, name: &str) -> TractResult<Vec<f32>> {
        let plain = self.floats(name);
        if !plain.is_empty() {
            return Ok(plain.to_vec());
        }
        match self.tensor(&format!("{name}_as_tensor")) {
            None => Ok(Vec::new()),
            Some(tensor) => tensor_floats(tensor)
                .map_err(|reason| self.error(format!("{name}_as_tensor: {reason}"))),
        }
    }

    /// Every index in `values` as a `usize` below `bound`.
    pub(crate) fn indices(&self, name: &str, bound: Option<usize>) -> TractResult<Vec<usize>> {
        self.ints(name)
            .iter()
            .map(|&value| {
                let index = usize::try_from(value)
                    .map_err(|_| self.error(format!("{name} holds the negative value {value}")))?;
                match bound {
                    Some(bound) if index >= bound => Err(self.error(format!(
                        "{name} holds {index}, out of range (must be below {bound})"
                    ))),
                    _ => Ok(index),
                }
            })
            .collect()
    }
}

/// The values of a float or double `TensorProto`, as `f32`.
fn tensor_floats(tensor: &TensorProto) -> Result<Vec<f32>, String> {
    const FLOAT: i32 = 1;
    const DOUBLE: i32 = 11;
    match tensor.data_type {
        FLOAT if !tensor.float_data.is_empty() => Ok(tensor.float_data.clone()),
        FLOAT => Ok(tensor
            .raw_data
            .chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect()),
        DOUBLE if !tensor.double_data.is_empty() => Ok(tensor
            .double_data
            .iter()
            .map(|&value| value as f32)
            .collect()),
        DOUBLE => Ok(tensor
            .raw_data
            .chunks_exact(8)
            .map(|bytes| {
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                f64::from_le_bytes(array) as f32
            })
            .collect()),
        other => Err(format!(
            "element type {other} where float or double was expected"
        )),
    }
}
