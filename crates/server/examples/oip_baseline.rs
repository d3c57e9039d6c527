//! The physical limits `scripts/bench_serving.sh` compares Bascule with, measured in the
//! same run:
//!
//! - `tract`: an in-process loop running the breast-cancer logistic-regression fixture on
//!   one row through Bascule's tract engine (the model's own cost, no HTTP);
//! - `serve ADDR`: a minimal axum server whose `POST /v2/models/{name}/infer` parses the
//!   same OIP JSON body, computes a 30-weight dot product and answers OIP JSON — the cost
//!   of HTTP and JSON alone, the ceiling for any OIP server on this machine.
//!
//! - `batching`: µs per row at batch sizes 1 to 64 for the MLP and tree fixtures — the most
//!   that adaptive batching could save per request.
//!
//! `cargo run --release -p bascule-server --example oip_baseline -- tract|batching|serve 127.0.0.1:PORT`

#![allow(clippy::print_stdout, clippy::expect_used)]

use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::routing::post;
use bascule_core::{InferenceEngine, Tensor, TensorData};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct InferRequest {
    id: Option<String>,
    inputs: Vec<Input>,
}

#[derive(Deserialize)]
struct Input {
    name: String,
    shape: Vec<usize>,
    datatype: String,
    data: Vec<f32>,
}

#[derive(Serialize)]
struct InferResponse {
    model_name: String,
    id: Option<String>,
    outputs: Vec<Output>,
}

#[derive(Serialize)]
struct Output {
    name: &'static str,
    shape: [usize; 1],
    datatype: &'static str,
    data: [f32; 1],
}

async fn infer(Path(name): Path<String>, Json(request): Json<InferRequest>) -> Json<InferResponse> {
    let weights: Vec<f32> = (0..30).map(|i| (i as f32 - 15.0) / 100.0).collect();
    let input = &request.inputs[0];
    let _ = (&input.name, &input.shape, &input.datatype);
    let score: f32 = input.data.iter().zip(&weights).map(|(x, w)| x * w).sum();
    Json(InferResponse {
        model_name: name,
        id: request.id,
        outputs: vec![Output {
            name: "score",
            shape: [1],
            datatype: "FP32",
            data: [score],
        }],
    })
}

fn fixture(path: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path);
    std::fs::read(&path).expect("the fixture exists")
}

fn tract_loop() {
    let engine = bascule_runtime::TractEngine::new();
    let model = engine
        .load(&fixture("logistic/model.onnx"))
        .expect("the fixture loads");
    let row: Vec<f32> = (0..30).map(|i| i as f32 / 10.0).collect();
    let input = || Tensor {
        name: "input".into(),
        shape: vec![1, 30],
        data: TensorData::Fp32(row.clone()),
    };
    for _ in 0..10_000 {
        model.run(vec![input()]).expect("runs");
    }
    let runs = 200_000;
    let started = Instant::now();
    for _ in 0..runs {
        model.run(vec![input()]).expect("runs");
    }
    let per_run = started.elapsed().as_secs_f64() / f64::from(runs);
    println!(
        "tract in-process, logistic fixture, batch 1: {:.2} µs/row ({:.0} rows/s on one core)",
        per_run * 1e6,
        1.0 / per_run
    );
}

/// µs per row at growing batch sizes: what batching requests together could save.
fn batching() {
    let engine = bascule_runtime::TractEngine::new();
    for (fixture_name, features) in [("mlp", 30), ("rf_binary", 30), ("gb_classifier", 13)] {
        let model = engine
            .load(&fixture(&format!("{fixture_name}/model.onnx")))
            .expect("the fixture loads");
        let mut line = format!("{fixture_name:<14}");
        for batch in [1usize, 4, 16, 64] {
            let data: Vec<f32> = (0..batch * features)
                .map(|i| ((i * 7919) % 1000) as f32 / 100.0)
                .collect();
            let input = || Tensor {
                name: "input".into(),
                shape: vec![batch, features],
                data: TensorData::Fp32(data.clone()),
            };
            let rows = 200_000 / batch * batch;
            for _ in 0..(rows / batch).min(2_000) {
                model.run(vec![input()]).expect("runs");
            }
            let started = Instant::now();
            for _ in 0..rows / batch {
                model.run(vec![input()]).expect("runs");
            }
            let per_row = started.elapsed().as_secs_f64() / rows as f64 * 1e6;
            line.push_str(&format!("  batch {batch:>2}: {per_row:6.2} µs/row"));
        }
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("tract") => tract_loop(),
        Some("batching") => batching(),
        Some("serve") => {
            let address = args.get(2).map_or("127.0.0.1:18600", String::as_str);
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
                println!("baseline listening on http://{address}");
                let app = Router::new().route("/v2/models/{name}/infer", post(infer));
                axum::serve(listener, app).await.expect("serve");
            });
        }
        _ => {
            eprintln!("usage: oip_baseline tract | batching | serve 127.0.0.1:PORT");
            std::process::exit(2);
        }
    }
}
