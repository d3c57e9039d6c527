//! µs per row at batch 1 and rows per second at batch 1024, for tract + Bascule's
//! operators and (when `BASCULE_ONNXRUNTIME_LIB` names a library) onnxruntime, on the
//! engine-coverage fixtures. The command and results are recorded in `docs/runtime.md`:
//!
//!     BASCULE_ONNXRUNTIME_LIB=... cargo bench -p bascule-runtime --bench engines

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use bascule_core::{InferenceEngine, LoadedModel, Tensor, TensorData};
use bascule_runtime::{OrtConfig, OrtEngine, TractEngine};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const FIXTURES: [&str; 11] = [
    "rf_binary",
    "rf_multiclass",
    "gb_classifier",
    "gb_regressor",
    "xgb_classifier",
    "lgbm_binary",
    "lgbm_regressor",
    "scaler_pipeline",
    "zipmap",
    "column_transformer",
    "linear",
];

#[derive(serde::Deserialize)]
struct Recorded {
    shape: Vec<usize>,
    datatype: String,
    data: Vec<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct Expected {
    #[serde(default)]
    inputs: BTreeMap<String, Recorded>,
}

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// The fixture's rows, repeated to `rows` rows, as the model's inputs.
fn inputs(name: &str, rows: usize) -> Vec<Tensor> {
    let dir = fixture_dir(name);
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let mut expected: Expected = serde_json::from_str(&text).expect("parses");
    if expected.inputs.is_empty() {
        // The first fixtures keep their rows in holdout.csv (features, then the label).
        let csv = std::fs::read_to_string(dir.join("holdout.csv")).expect("holdout.csv");
        let mut data = Vec::new();
        let mut n = 0;
        let mut width = 0;
        for line in csv.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            width = cells.len() - 1;
            data.extend(
                cells[..width]
                    .iter()
                    .map(|c| serde_json::json!(c.parse::<f64>().expect("number") as f32)),
            );
            n += 1;
        }
        expected.inputs.insert(
            "input".into(),
            Recorded {
                shape: vec![n, width],
                datatype: "FP32".into(),
                data,
            },
        );
    }
    expected
        .inputs
        .iter()
        .map(|(input, recorded)| {
            let per_row: usize = recorded.shape[1..].iter().product();
            let available = recorded.shape[0];
            let cells: Vec<&serde_json::Value> = (0..rows)
                .flat_map(|row| {
                    let row = row % available;
                    recorded.data[row * per_row..(row + 1) * per_row].iter()
                })
                .collect();
            let data = match recorded.datatype.as_str() {
                "FP32" => TensorData::Fp32(
                    cells
                        .iter()
                        .map(|v| v.as_f64().expect("number") as f32)
                        .collect(),
                ),
                "BYTES" => TensorData::Bytes(
                    cells
                        .iter()
                        .map(|v| v.as_str().expect("text").to_owned())
                        .collect(),
                ),
                other => panic!("unexpected input type {other}"),
            };
            let mut shape = recorded.shape.clone();
            shape[0] = rows;
            Tensor::new(input, shape, data).expect("shape")
        })
        .collect()
}

fn engines() -> Vec<Box<dyn InferenceEngine>> {
    let mut engines: Vec<Box<dyn InferenceEngine>> = vec![Box::new(TractEngine::new())];
    if let Some(library) = std::env::var_os("BASCULE_ONNXRUNTIME_LIB").filter(|v| !v.is_empty()) {
        engines.push(Box::new(
            OrtEngine::new(OrtConfig::new(library)).expect("onnxruntime loads"),
        ));
    }
    engines
}

fn bench(c: &mut Criterion) {
    let engines = engines();
    for name in FIXTURES {
        let onnx = std::fs::read(fixture_dir(name).join("model.onnx")).expect("model.onnx");
        let mut group = c.benchmark_group(name);
        for engine in &engines {
            let model: Arc<dyn LoadedModel> = engine.load(&onnx).expect("loads");
            for rows in [1usize, 1024] {
                let batch = inputs(name, rows);
                group.throughput(Throughput::Elements(rows as u64));
                group.bench_with_input(
                    BenchmarkId::new(engine.name(), rows),
                    &batch,
                    |b, batch| b.iter(|| black_box(model.run(batch.clone()).expect("runs"))),
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
