//! The ai.onnx.ml fixtures (trees, scalers, encoders, ZipMap, XGBoost, LightGBM) on every
//! engine: labels exactly as onnxruntime recorded them, scores within `TOLERANCE`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bascule_core::{DataType, InferenceEngine, LoadedModel, Tensor, TensorData};
use bascule_runtime::TractEngine;
use serde::Deserialize;

use crate::fixtures;

/// Absolute tolerance, relative for values above 1 in magnitude (an `f32` holds about 7
/// significant digits, so a regression score of 150 cannot be compared to 1e-5 absolute).
pub const TOLERANCE: f64 = 1e-5;

/// Every engine-coverage fixture written by `scripts/make_fixtures.py`.
pub const COVERAGE: [&str; 11] = [
    "rf_binary",
    "rf_multiclass",
    "gb_classifier",
    "gb_regressor",
    "scaler_pipeline",
    "zipmap",
    "column_transformer",
    "xgb_classifier",
    "lgbm_binary",
    "lgbm_regressor",
    "linear",
];

#[derive(Debug, Deserialize)]
pub struct Recorded {
    pub shape: Vec<usize>,
    pub datatype: DataType,
    pub data: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct CoverageFixture {
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub onnx: Vec<u8>,
    #[serde(default)]
    pub inputs: BTreeMap<String, Recorded>,
    pub outputs: BTreeMap<String, Recorded>,
}

pub fn load(name: &str) -> CoverageFixture {
    let path = fixtures::dir(name).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut fixture: CoverageFixture = serde_json::from_str(&text).expect("expected.json parses");
    fixture.name = name.to_owned();
    fixture.onnx = fixtures::onnx(name);
    if fixture.inputs.is_empty() {
        // The first fixtures keep their rows in holdout.csv.
        let old = fixtures::load(Box::leak(name.to_owned().into_boxed_str()));
        let batch = old.batch(0..old.rows.len());
        let TensorData::Fp32(data) = batch.data else {
            panic!("float rows")
        };
        fixture.inputs.insert(
            "input".into(),
            Recorded {
                shape: batch.shape,
                datatype: DataType::Fp32,
                data: data.into_iter().map(|v| serde_json::json!(v)).collect(),
            },
        );
    }
    fixture
}

impl Recorded {
    fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    fn per_row(&self) -> usize {
        self.shape[1..].iter().product()
    }

    /// Rows `rows` as a tensor named `name`.
    pub fn tensor(&self, name: &str, rows: std::ops::Range<usize>) -> Tensor {
        let per_row = self.per_row();
        let cells = &self.data[rows.start * per_row..rows.end * per_row];
        let data = match self.datatype {
            DataType::Fp32 => TensorData::Fp32(
                cells
                    .iter()
                    .map(|v| v.as_f64().expect("a number") as f32)
                    .collect(),
            ),
            DataType::Fp64 => TensorData::Fp64(
                cells
                    .iter()
                    .map(|v| v.as_f64().expect("a number"))
                    .collect(),
            ),
            DataType::Int64 => TensorData::Int64(
                cells
                    .iter()
                    .map(|v| v.as_i64().expect("an integer"))
                    .collect(),
            ),
            DataType::Bytes => TensorData::Bytes(
                cells
                    .iter()
                    .map(|v| v.as_str().expect("a string").to_owned())
                    .collect(),
            ),
            other => panic!("unexpected input type {other}"),
        };
        let mut shape = self.shape.clone();
        shape[0] = rows.len();
        Tensor::new(name, shape, data).expect("shape covers data")
    }
}

impl CoverageFixture {
    pub fn rows(&self) -> usize {
        self.inputs.values().next().map_or(0, Recorded::rows)
    }

    pub fn batch(&self, rows: std::ops::Range<usize>) -> Vec<Tensor> {
        self.inputs
            .iter()
            .map(|(name, recorded)| recorded.tensor(name, rows.clone()))
            .collect()
    }

    /// Checks one engine's outputs for `rows` against onnxruntime's recording.
    pub fn assert_matches(&self, engine: &str, outputs: &[Tensor], rows: std::ops::Range<usize>) {
        let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
        let want: Vec<&str> = self.outputs.keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, want, "{} on {engine}: output names", self.name);
        for output in outputs {
            let expected = &self.outputs[&output.name];
            let context = format!(
                "{} on {engine}, output '{}' rows {rows:?}",
                self.name, output.name
            );
            let mut shape = expected.shape.clone();
            shape[0] = rows.len();
            assert_eq!(output.shape, shape, "{context}: shape");
            assert_eq!(
                output.data.datatype(),
                expected.datatype,
                "{context}: datatype"
            );
            let per_row = expected.per_row();
            let want = &expected.data[rows.start * per_row..rows.end * per_row];
            match &output.data {
                TensorData::Bytes(got) => {
                    let want: Vec<&str> = want.iter().map(|v| v.as_str().expect("text")).collect();
                    assert_eq!(
                        got.iter().map(String::as_str).collect::<Vec<_>>(),
                        want,
                        "{context}"
                    );
                }
                TensorData::Int64(got) => {
                    let want: Vec<i64> = want.iter().map(|v| v.as_i64().expect("int")).collect();
                    assert_eq!(got, &want, "{context}: labels exactly");
                }
                data => {
                    let got = data.to_f64().expect("numbers");
                    for (index, (got, want)) in got.iter().zip(want).enumerate() {
                        let want = want.as_f64().expect("a number");
                        let tolerance = TOLERANCE * want.abs().max(1.0);
                        assert!(
                            (got - want).abs() <= tolerance,
                            "{context}: element {index} is {got}, onnxruntime gave {want}"
                        );
                    }
                }
            }
        }
    }
}

fn tract_model(fixture: &CoverageFixture) -> Arc<dyn LoadedModel> {
    TractEngine::new()
        .load(&fixture.onnx)
        .unwrap_or_else(|error| panic!("{}: {error}", fixture.name))
}

#[test]
fn every_coverage_fixture_matches_onnxruntime_on_tract_in_one_batch() {
    for name in COVERAGE {
        let fixture = load(name);
        let model = tract_model(&fixture);
        let rows = 0..fixture.rows();
        let outputs = model
            .run(fixture.batch(rows.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        fixture.assert_matches("tract", &outputs, rows);
    }
}

#[test]
fn every_coverage_fixture_matches_onnxruntime_on_tract_row_by_row() {
    for name in COVERAGE {
        let fixture = load(name);
        let model = tract_model(&fixture);
        for row in 0..fixture.rows() {
            let outputs = model.run(fixture.batch(row..row + 1)).expect("runs");
            fixture.assert_matches("tract", &outputs, row..row + 1);
        }
    }
}

/// The onnxruntime library the ort tests use, when one is configured.
pub fn onnxruntime_library() -> Option<std::path::PathBuf> {
    std::env::var_os("BASCULE_ONNXRUNTIME_LIB")
        .filter(|value| !value.is_empty())
        .map(std::path::PathBuf::from)
}

#[test]
fn every_coverage_fixture_matches_onnxruntime_on_ort_when_configured() {
    let Some(library) = onnxruntime_library() else {
        eprintln!("BASCULE_ONNXRUNTIME_LIB is not set: the ort engine is not tested");
        return;
    };
    let engine = bascule_runtime::OrtEngine::new(bascule_runtime::OrtConfig::new(library))
        .expect("the configured onnxruntime loads");
    assert_eq!(engine.name(), "onnxruntime");
    for name in COVERAGE {
        let fixture = load(name);
        let model = engine
            .load(&fixture.onnx)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let rows = 0..fixture.rows();
        let outputs = model
            .run(fixture.batch(rows.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        fixture.assert_matches("onnxruntime", &outputs, rows);
        let outputs = model.run(fixture.batch(3..4)).expect("one row runs");
        fixture.assert_matches("onnxruntime", &outputs, 3..4);
    }
}

#[test]
fn the_engines_agree_on_every_coverage_fixture_when_onnxruntime_is_configured() {
    let Some(library) = onnxruntime_library() else {
        return;
    };
    let ort = bascule_runtime::OrtEngine::new(bascule_runtime::OrtConfig::new(library))
        .expect("the configured onnxruntime loads");
    let tract = TractEngine::new();
    for name in COVERAGE {
        let fixture = load(name);
        let report = bascule_runtime::check_agreement(
            &[&tract, &ort],
            &fixture.onnx,
            &fixture.batch(0..fixture.rows()),
            bascule_runtime::DEFAULT_TOLERANCE,
        );
        assert!(report.agree, "{name}: {report:#?}");
        assert_eq!(report.reference, "tract");
        assert_eq!(report.engines.len(), 2);
    }
}

#[test]
fn the_agreement_report_names_what_differs() {
    // Tract against itself on two different models: the report shows each difference.
    let tract = TractEngine::new();
    let fixture = load("rf_binary");
    let report = bascule_runtime::check_agreement(
        &[&tract, &tract],
        &fixture.onnx,
        &fixture.batch(0..4),
        bascule_runtime::DEFAULT_TOLERANCE,
    );
    assert!(report.agree, "{report:#?}");
    assert!(
        report.engines[1]
            .outputs
            .iter()
            .all(|o| o.agrees() && o.max_difference == 0.0)
    );
    let broken = bascule_runtime::check_agreement(
        &[&tract, &tract],
        b"not a model",
        &fixture.batch(0..4),
        bascule_runtime::DEFAULT_TOLERANCE,
    );
    assert!(!broken.agree);
    assert!(
        broken.engines.iter().all(|run| run.error.is_some()),
        "{broken:#?}"
    );
}

#[test]
fn a_missing_onnxruntime_library_is_a_clear_error() {
    let error = bascule_runtime::OrtEngine::new(bascule_runtime::OrtConfig::new(
        "/nonexistent/libonnxruntime.so.1.32.0",
    ))
    .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("/nonexistent/libonnxruntime.so.1.32.0"),
        "{message}"
    );
    assert!(message.contains("cannot read the library"), "{message}");
}

#[test]
fn a_file_that_is_not_onnxruntime_is_a_clear_error() {
    // A real file that is not a shared library: refused by the loader, with its path.
    let path = fixtures::dir("rf_binary").join("model.onnx");
    let error = bascule_runtime::OrtEngine::new(bascule_runtime::OrtConfig::new(&path))
        .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("cannot use the onnxruntime library"),
        "{message}"
    );
}
