//! The input example of a model directory. For tensor inputs MLflow stores the bare nested
//! list (one input) or `{name: nested list}` (several) in `input_example.json`, and the same
//! wrapped as `{"inputs": ..}` (TF-serving's columnar format, what `/invocations` takes) in
//! `serving_input_example.json`; `MLmodel` records it as type `ndarray`.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use bascule_core::{DataType, Signature, Tensor, TensorData};

use crate::Error;

/// An example batch, checked against the signature, in signature order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InputExample {
    tensors: Vec<Tensor>,
}

impl InputExample {
    /// Checks the given tensors against the signature's inputs: one per input, by name,
    /// of its datatype and shape (`-1` matching any size).
    pub(crate) fn checked(signature: &Signature, given: &[Tensor]) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidInputExample(reason);
        if given.len() != signature.inputs.len() {
            return Err(invalid(format!(
                "{} tensors for {} inputs",
                given.len(),
                signature.inputs.len()
            )));
        }
        let tensors = signature
            .inputs
            .iter()
            .map(|spec| {
                let tensor = given
                    .iter()
                    .find(|tensor| tensor.name == spec.name)
                    .ok_or_else(|| invalid(format!("no tensor for input '{}'", spec.name)))?;
                if tensor.data.datatype() != spec.datatype {
                    return Err(invalid(format!(
                        "input '{}' is {}, the example gives {}",
                        spec.name,
                        spec.datatype,
                        tensor.data.datatype()
                    )));
                }
                let fits = tensor.shape.len() == spec.shape.len()
                    && tensor
                        .shape
                        .iter()
                        .zip(&spec.shape)
                        .all(|(size, dim)| *dim < 0 || *size as i64 == *dim)
                    && element_count(&tensor.shape) == Some(tensor.data.len());
                if !fits {
                    return Err(invalid(format!(
                        "input '{}' has shape {:?}, the example gives {:?} with {} elements",
                        spec.name,
                        spec.shape,
                        tensor.shape,
                        tensor.data.len()
                    )));
                }
                Ok(tensor.clone())
            })
            .collect::<Result<_, _>>()?;
        Ok(InputExample { tensors })
    }

    /// One row of zeros (`false`, `""`) for every input; free dimensions get size 1.
    pub(crate) fn zeros(signature: &Signature) -> Result<Self, Error> {
        let tensors = signature
            .inputs
            .iter()
            .map(|spec| {
                let shape: Vec<usize> = spec
                    .shape
                    .iter()
                    .map(|dim| usize::try_from(*dim).unwrap_or(1))
                    .collect();
                let len = element_count(&shape)
                    .filter(|len| *len <= MAX_SYNTHESISED_ELEMENTS)
                    .ok_or_else(|| {
                        Error::InvalidInputExample(format!(
                            "input '{}' of shape {:?} is too large to synthesise a row of zeros; \
                             give an example",
                            spec.name, spec.shape
                        ))
                    })?;
                Ok(Tensor {
                    name: spec.name.clone(),
                    shape,
                    data: zeros(spec.datatype, len),
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(InputExample { tensors })
    }

    /// `input_example.json`, laid out as Python's `json.dumps`.
    pub(crate) fn input_example_json(&self) -> Vec<u8> {
        super::schema::python_json(self).into_bytes()
    }

    /// `serving_input_example.json`: `{"inputs": ..}`, indented by two spaces.
    pub(crate) fn serving_input_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct ServingInput<'a> {
            inputs: &'a InputExample,
        }
        // Plain data serialises into memory without fail, and every tensor here was checked
        // to hold exactly the elements its shape covers.
        serde_json::to_vec_pretty(&ServingInput { inputs: self })
            .expect("plain data serialises to JSON")
    }
}

/// The most elements a synthesised example may hold (a row of a very wide input).
const MAX_SYNTHESISED_ELEMENTS: usize = 1 << 20;

fn element_count(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |product, size| product.checked_mul(*size))
}

/// Zeros of a datatype, carried by the tensor data that can hold it (the JSON is the same).
fn zeros(datatype: DataType, len: usize) -> TensorData {
    match datatype {
        DataType::Bool => TensorData::Bool(vec![false; len]),
        DataType::Bytes => TensorData::Bytes(vec![String::new(); len]),
        DataType::Fp16 | DataType::Fp32 => TensorData::Fp32(vec![0.0; len]),
        DataType::Fp64 => TensorData::Fp64(vec![0.0; len]),
        DataType::Int64 | DataType::Uint32 | DataType::Uint64 => TensorData::Int64(vec![0; len]),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Uint8 | DataType::Uint16 => {
            TensorData::Int32(vec![0; len])
        }
    }
}

impl Serialize for InputExample {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.tensors.as_slice() {
            [single] => Nested::of(single).serialize(serializer),
            tensors => {
                let mut map = serializer.serialize_map(Some(tensors.len()))?;
                for tensor in tensors {
                    map.serialize_entry(&tensor.name, &Nested::of(tensor))?;
                }
                map.end()
            }
        }
    }
}

/// A row-major tensor as nested JSON lists, one level per dimension.
struct Nested<'a> {
    shape: &'a [usize],
    data: &'a TensorData,
    offset: usize,
}

impl<'a> Nested<'a> {
    fn of(tensor: &'a Tensor) -> Self {
        Nested {
            shape: &tensor.shape,
            data: &tensor.data,
            offset: 0,
        }
    }
}

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some((&size, inner)) = self.shape.split_first() else {
            return element(self.data, self.offset, serializer);
        };
        let stride: usize = inner.iter().product();
        let mut seq = serializer.serialize_seq(Some(size))?;
        for index in 0..size {
            seq.serialize_element(&Nested {
                shape: inner,
                data: self.data,
                offset: self.offset + index * stride,
            })?;
        }
        seq.end()
    }
}

fn element<S: Serializer>(
    data: &TensorData,
    index: usize,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let missing = || serde::ser::Error::custom("the shape covers more elements than the data");
    match data {
        TensorData::Bool(values) => values.get(index).ok_or_else(missing)?.serialize(serializer),
        TensorData::Int32(values) => values.get(index).ok_or_else(missing)?.serialize(serializer),
        TensorData::Int64(values) => values.get(index).ok_or_else(missing)?.serialize(serializer),
        TensorData::Fp32(values) => values.get(index).ok_or_else(missing)?.serialize(serializer),
        TensorData::Fp64(values) => values.get(index).ok_or_else(missing)?.serialize(serializer),
        TensorData::Bytes(values) => values.get(index).ok_or_else(missing)?.serialize(serializer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_core::TensorSpec;

    fn signature(inputs: Vec<TensorSpec>) -> Signature {
        Signature {
            inputs,
            outputs: vec![],
        }
    }

    fn spec(name: &str, datatype: DataType, shape: Vec<i64>) -> TensorSpec {
        TensorSpec {
            name: name.into(),
            datatype,
            shape,
        }
    }

    #[test]
    fn one_input_is_a_bare_nested_list() {
        let signature = signature(vec![spec("input", DataType::Fp32, vec![-1, 3])]);
        let row = Tensor {
            name: "input".into(),
            shape: vec![1, 3],
            data: TensorData::Fp32(vec![13.17, 0.5, -2.0]),
        };
        let example = InputExample::checked(&signature, &[row]).expect("fits");
        assert_eq!(
            String::from_utf8_lossy(&example.input_example_json()),
            "[[13.17, 0.5, -2.0]]"
        );
        assert_eq!(
            String::from_utf8_lossy(&example.serving_input_json()),
            "{\n  \"inputs\": [\n    [\n      13.17,\n      0.5,\n      -2.0\n    ]\n  ]\n}"
        );
    }

    #[test]
    fn several_inputs_are_keyed_by_name_and_zeros_fill_free_dimensions() {
        let signature = signature(vec![
            spec("age", DataType::Int64, vec![-1, 1]),
            spec("city", DataType::Bytes, vec![-1, 1]),
            spec("flags", DataType::Bool, vec![2]),
        ]);
        let example = InputExample::zeros(&signature).expect("small");
        assert_eq!(
            String::from_utf8_lossy(&example.input_example_json()),
            r#"{"age": [[0]], "city": [[""]], "flags": [false, false]}"#
        );
    }

    #[test]
    fn refuses_examples_that_do_not_fit() {
        let signature = signature(vec![spec("input", DataType::Fp32, vec![-1, 2])]);
        let cases = [
            vec![],
            vec![Tensor {
                name: "other".into(),
                shape: vec![1, 2],
                data: TensorData::Fp32(vec![0.0; 2]),
            }],
            vec![Tensor {
                name: "input".into(),
                shape: vec![1, 2],
                data: TensorData::Fp64(vec![0.0; 2]),
            }],
            vec![Tensor {
                name: "input".into(),
                shape: vec![1, 3],
                data: TensorData::Fp32(vec![0.0; 3]),
            }],
            vec![Tensor {
                name: "input".into(),
                shape: vec![1, 2],
                data: TensorData::Fp32(vec![0.0; 3]),
            }],
            vec![Tensor {
                name: "input".into(),
                shape: vec![usize::MAX, 2],
                data: TensorData::Fp32(vec![]),
            }],
        ];
        for given in cases {
            let error = InputExample::checked(&signature, &given).expect_err("refused");
            assert!(matches!(error, Error::InvalidInputExample(_)), "{error:?}");
        }
        let huge = Signature {
            inputs: vec![spec("input", DataType::Fp32, vec![-1, 1 << 40])],
            outputs: vec![],
        };
        assert!(matches!(
            InputExample::zeros(&huge),
            Err(Error::InvalidInputExample(_))
        ));
    }
}
