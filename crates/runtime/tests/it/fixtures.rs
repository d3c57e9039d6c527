//! The model fixtures written by `scripts/make_fixtures.py`: the model, its holdout rows and
//! onnxruntime's outputs on them.

use std::path::PathBuf;

use bascule_core::{DataType, Tensor, TensorData};
use serde::Deserialize;

/// The fixtures whose models tract runs.
pub const RUNNABLE: [&str; 4] = ["logistic", "mlp", "weak", "linear"];

#[derive(Debug, Deserialize)]
pub struct ExpectedOutput {
    pub shape: Vec<usize>,
    pub datatype: DataType,
    pub data: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Expected {
    pub task: String,
    pub feature_names: Vec<String>,
    pub n_holdout: usize,
    pub outputs: std::collections::BTreeMap<String, ExpectedOutput>,
}

#[derive(Debug)]
pub struct Fixture {
    pub name: &'static str,
    pub onnx: Vec<u8>,
    /// Holdout rows as the model sees them: float64 from the CSV, cast to float32.
    pub rows: Vec<Vec<f32>>,
    pub expected: Expected,
}

pub fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

pub fn onnx(name: &str) -> Vec<u8> {
    let path = dir(name).join("model.onnx");
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub fn load(name: &'static str) -> Fixture {
    let read = |file: &str| {
        let path = dir(name).join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    };
    let expected: Expected =
        serde_json::from_str(&read("expected.json")).expect("expected.json parses");
    let csv = read("holdout.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(
        header.last(),
        Some(&"label"),
        "{name}: the label column comes last"
    );
    assert_eq!(
        header[..header.len() - 1],
        expected.feature_names[..],
        "{name}: feature columns"
    );
    let rows: Vec<Vec<f32>> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            cells[..cells.len() - 1]
                .iter()
                .map(|cell| cell.parse::<f64>().expect("a number") as f32)
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), expected.n_holdout, "{name}: holdout rows");
    Fixture {
        name,
        onnx: onnx(name),
        rows,
        expected,
    }
}

impl Fixture {
    pub fn n_features(&self) -> usize {
        self.expected.feature_names.len()
    }

    /// The rows `range` of the holdout as one `input` tensor.
    pub fn batch(&self, range: std::ops::Range<usize>) -> Tensor {
        let data: Vec<f32> = self.rows[range.clone()].iter().flatten().copied().collect();
        Tensor::new(
            "input",
            vec![range.len(), self.n_features()],
            TensorData::Fp32(data),
        )
        .expect("shape covers data")
    }
}

impl ExpectedOutput {
    /// The values of `rows`, flat, as `f64`.
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Vec<f64> {
        let per_row: usize = self.shape[1..].iter().product();
        self.data[rows.start * per_row..rows.end * per_row]
            .iter()
            .map(|value| value.as_f64().expect("numeric expected output"))
            .collect()
    }
}
