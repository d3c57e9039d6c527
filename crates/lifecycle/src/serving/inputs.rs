//! Checks a request's tensors against the model's signature before it runs, so that a
//! client's mistake is a 400 with the reason, never an engine failure.

use bascule_core::{Signature, Tensor, TensorData};

use super::error::ServingError;

/// Puts `given` in signature order after checking names, datatypes, shapes, data lengths,
/// the batch limit and that every float is finite.
pub fn check_inputs(
    signature: &Signature,
    mut given: Vec<Tensor>,
    max_batch_rows: usize,
) -> Result<Vec<Tensor>, ServingError> {
    let bad = |message: String| Err(ServingError::BadInput(message));
    let expected: Vec<&str> = signature.inputs.iter().map(|s| s.name.as_str()).collect();
    if given.len() != signature.inputs.len() {
        return bad(format!(
            "the model takes {} input(s) {expected:?}, got {}",
            expected.len(),
            given.len()
        ));
    }
    let mut ordered = Vec::with_capacity(given.len());
    for spec in &signature.inputs {
        let Some(position) = given.iter().position(|t| t.name == spec.name) else {
            let names: Vec<&str> = given.iter().map(|t| t.name.as_str()).collect();
            return bad(format!(
                "the model takes input(s) {expected:?}, got {names:?}"
            ));
        };
        let tensor = given.swap_remove(position);
        let name = &spec.name;
        if tensor.data.datatype() != spec.datatype {
            return bad(format!(
                "input '{name}' must be {}, got {}",
                spec.datatype,
                tensor.data.datatype()
            ));
        }
        let fits = tensor.shape.len() == spec.shape.len()
            && tensor
                .shape
                .iter()
                .zip(&spec.shape)
                .all(|(&size, &dim)| dim < 0 || usize::try_from(dim) == Ok(size));
        if !fits {
            return bad(format!(
                "input '{name}' must have shape {:?} (-1: any size), got {:?}",
                spec.shape, tensor.shape
            ));
        }
        let n_elements = tensor
            .shape
            .iter()
            .try_fold(1usize, |product, &size| product.checked_mul(size));
        if n_elements != Some(tensor.data.len()) {
            return bad(format!(
                "input '{name}' has shape {:?} but {} elements of data",
                tensor.shape,
                tensor.data.len()
            ));
        }
        if spec.shape.first() == Some(&-1)
            && let Some(&rows) = tensor.shape.first()
            && rows > max_batch_rows
        {
            return bad(format!(
                "input '{name}' has {rows} rows; the limit is {max_batch_rows} per request"
            ));
        }
        if let Some(index) = first_non_finite(&tensor.data) {
            return bad(format!(
                "input '{name}' holds a NaN or infinite value at flat index {index}; the model \
                 takes finite numbers only"
            ));
        }
        ordered.push(tensor);
    }
    Ok(ordered)
}

fn first_non_finite(data: &TensorData) -> Option<usize> {
    match data {
        TensorData::Fp32(values) => values.iter().position(|v| !v.is_finite()),
        TensorData::Fp64(values) => values.iter().position(|v| !v.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_core::{DataType, TensorSpec};

    fn signature() -> Signature {
        Signature {
            inputs: vec![
                TensorSpec {
                    name: "x".into(),
                    datatype: DataType::Fp32,
                    shape: vec![-1, 3],
                },
                TensorSpec {
                    name: "k".into(),
                    datatype: DataType::Int64,
                    shape: vec![-1],
                },
            ],
            outputs: vec![],
        }
    }

    fn x(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        Tensor {
            name: "x".into(),
            shape,
            data: TensorData::Fp32(data),
        }
    }

    fn k(n: usize) -> Tensor {
        Tensor {
            name: "k".into(),
            shape: vec![n],
            data: TensorData::Int64(vec![1; n]),
        }
    }

    fn message(result: Result<Vec<Tensor>, ServingError>) -> String {
        result.expect_err("refused").to_string()
    }

    #[test]
    fn good_inputs_come_back_in_signature_order() {
        let ordered =
            check_inputs(&signature(), vec![k(2), x(vec![2, 3], vec![0.0; 6])], 10).expect("valid");
        assert_eq!(ordered[0].name, "x");
    }

    #[test]
    fn each_mistake_is_named() {
        let s = signature();
        assert!(message(check_inputs(&s, vec![k(1)], 10)).contains("2 input(s)"));
        assert!(message(check_inputs(&s, vec![k(1), k(1)], 10)).contains("got [\"k\", \"k\"]"));
        let wrong_type = Tensor {
            name: "x".into(),
            shape: vec![1, 3],
            data: TensorData::Fp64(vec![0.0; 3]),
        };
        assert!(message(check_inputs(&s, vec![wrong_type, k(1)], 10)).contains("must be FP32"));
        assert!(
            message(check_inputs(
                &s,
                vec![x(vec![1, 4], vec![0.0; 4]), k(1)],
                10
            ))
            .contains("shape [-1, 3]")
        );
        assert!(
            message(check_inputs(
                &s,
                vec![x(vec![2, 3], vec![0.0; 5]), k(2)],
                10
            ))
            .contains("5 elements")
        );
        assert!(
            message(check_inputs(
                &s,
                vec![x(vec![1, 3], vec![0.0, f32::NAN, 1.0]), k(1)],
                10
            ))
            .contains("flat index 1")
        );
        assert!(
            message(check_inputs(
                &s,
                vec![x(vec![11, 3], vec![0.0; 33]), k(11)],
                10
            ))
            .contains("limit is 10")
        );
    }
}
