//! `TractEngine` against onnxruntime's recorded outputs on every runnable fixture.

use std::sync::Arc;

use bascule_core::{DataType, InferenceEngine, LoadedModel, Tensor, TensorSpec};
use bascule_runtime::TractEngine;

use crate::fixtures::{self, Fixture, RUNNABLE};

const TOLERANCE: f64 = 1e-4;

fn load(fixture: &Fixture) -> Arc<dyn LoadedModel> {
    TractEngine::new()
        .load(&fixture.onnx)
        .unwrap_or_else(|error| panic!("{}: {error}", fixture.name))
}

/// Compares one output of a run with onnxruntime's values for the same rows: integer
/// outputs (labels) exactly, floats within `TOLERANCE`.
fn assert_output_matches(fixture: &Fixture, output: &Tensor, rows: std::ops::Range<usize>) {
    let expected = &fixture.expected.outputs[&output.name];
    let context = format!("{} output '{}' rows {rows:?}", fixture.name, output.name);
    assert_eq!(
        output.data.datatype(),
        expected.datatype,
        "{context}: datatype"
    );
    let mut expected_shape = expected.shape.clone();
    expected_shape[0] = rows.len();
    assert_eq!(output.shape, expected_shape, "{context}: shape");
    let got = output.data.to_f64().expect("numeric output");
    let want = expected.rows(rows);
    assert_eq!(got.len(), want.len(), "{context}: length");
    let exact = matches!(expected.datatype, DataType::Int64 | DataType::Int32);
    for (index, (got, want)) in got.iter().zip(&want).enumerate() {
        let close = if exact {
            got == want
        } else {
            (got - want).abs() <= TOLERANCE
        };
        assert!(
            close,
            "{context}: element {index} is {got}, onnxruntime gave {want}"
        );
    }
}

#[test]
fn signatures_come_from_the_models() {
    for name in RUNNABLE {
        let fixture = fixtures::load(name);
        let model = load(&fixture);
        let signature = model.signature();
        let input = TensorSpec {
            name: "input".into(),
            datatype: DataType::Fp32,
            shape: vec![-1, fixture.n_features() as i64],
        };
        assert_eq!(signature.inputs, vec![input], "{name}");
        let outputs: Vec<(&str, DataType, Vec<i64>)> = signature
            .outputs
            .iter()
            .map(|spec| (spec.name.as_str(), spec.datatype, spec.shape.clone()))
            .collect();
        let want: Vec<(&str, DataType, Vec<i64>)> = if fixture.expected.task == "classification" {
            vec![
                ("label", DataType::Int64, vec![-1]),
                ("probabilities", DataType::Fp32, vec![-1, 2]),
            ]
        } else {
            vec![("variable", DataType::Fp32, vec![-1, 1])]
        };
        assert_eq!(outputs, want, "{name}");
    }
}

#[test]
fn the_whole_holdout_in_one_batch_matches_onnxruntime() {
    for name in RUNNABLE {
        let fixture = fixtures::load(name);
        let model = load(&fixture);
        let all = 0..fixture.rows.len();
        let outputs = model.run(vec![fixture.batch(all.clone())]).expect("runs");
        let mut names: Vec<&str> = outputs.iter().map(|output| output.name.as_str()).collect();
        names.sort_unstable();
        let want: Vec<&str> = fixture
            .expected
            .outputs
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            names, want,
            "{name}: every output onnxruntime gave, and no other"
        );
        for output in &outputs {
            assert_output_matches(&fixture, output, all.clone());
        }
    }
}

#[test]
fn small_batched_models_get_a_single_row_plan() {
    // The plan single-row requests run on (rows_one_at_a_time_match_onnxruntime checks its
    // answers): built for every fixture, so a tract upgrade that stops optimising it shows.
    for name in RUNNABLE {
        let fixture = fixtures::load(name);
        let model = TractEngine::new().load_model(&fixture.onnx).expect("loads");
        assert!(
            format!("{model:?}").contains("single_row_plan: true"),
            "{name}: {model:?}"
        );
    }
}

#[test]
fn rows_one_at_a_time_match_onnxruntime() {
    for name in RUNNABLE {
        let fixture = fixtures::load(name);
        let model = load(&fixture);
        for row in [0, 1, 7, fixture.rows.len() - 1] {
            let outputs = model.run(vec![fixture.batch(row..row + 1)]).expect("runs");
            for output in &outputs {
                assert_output_matches(&fixture, output, row..row + 1);
            }
        }
    }
}

#[test]
fn batches_run_concurrently_from_many_threads() {
    let fixture = fixtures::load("mlp");
    let model = load(&fixture);
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (model, fixture) = (&model, &fixture);
            scope.spawn(move || {
                for start in (thread..40).step_by(4) {
                    let rows = start..start + 3;
                    let outputs = model.run(vec![fixture.batch(rows.clone())]).expect("runs");
                    for output in &outputs {
                        assert_output_matches(fixture, output, rows.clone());
                    }
                }
            });
        }
    });
}

#[test]
fn the_weak_model_is_weaker_than_the_logistic_one() {
    let accuracy = |name: &'static str| {
        let fixture = fixtures::load(name);
        let labels: Vec<i64> = std::fs::read_to_string(fixtures::dir(name).join("holdout.csv"))
            .expect("reads")
            .lines()
            .skip(1)
            .map(|line| {
                line.rsplit(',')
                    .next()
                    .and_then(|label| label.parse().ok())
                    .expect("an integer label")
            })
            .collect();
        let outputs = load(&fixture)
            .run(vec![fixture.batch(0..fixture.rows.len())])
            .expect("runs");
        let predicted = outputs[0].data.to_f64().expect("labels");
        let correct = predicted
            .iter()
            .zip(&labels)
            .filter(|(p, l)| **p == **l as f64)
            .count();
        correct as f64 / labels.len() as f64
    };
    let (weak, logistic) = (accuracy("weak"), accuracy("logistic"));
    assert!(weak < logistic, "weak {weak} vs logistic {logistic}");
    assert!(logistic > 0.95, "logistic {logistic}");
}
