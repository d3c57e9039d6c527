//! What the prediction log's writer costs per record: one transaction of 500 records
//! (the size the writer gathers under load) appended to a SQLite file that grows as it
//! would in production. The records are the breast-cancer fixture's: 30 FP32 inputs, a
//! label and two probabilities out, with generated request ids in the order requests
//! finish (each 16 reversed), not the order they arrived in. Recorded in docs/benchmarks.md ("The prediction
//! log's cost per record"):
//!
//!     cargo bench -p bascule-store --bench prediction_log

use std::time::{Duration, Instant};

use bascule_core::{MetadataStore, PredictionRecord, Role, Tensor, TensorData};
use bascule_store::SqlMetadataStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 500;

fn record(i: usize) -> PredictionRecord {
    let inputs = (0..30).map(|j| (i * 31 + j) as f32 * 0.37).collect();
    PredictionRecord {
        request_id: request_id(i),
        name: "bc".to_owned(),
        version: 1,
        role: Role::Live,
        time: 1_790_000_000_000 + i as i64,
        latency_micros: 4,
        inputs: vec![
            Tensor::new("input", vec![1, 30], TensorData::Fp32(inputs)).expect("a tensor"),
        ],
        outputs: vec![
            Tensor::new("label", vec![1], TensorData::Int64(vec![(i % 2) as i64]))
                .expect("a tensor"),
            Tensor::new(
                "probabilities",
                vec![1, 2],
                TensorData::Fp32(vec![0.25, 0.75]),
            )
            .expect("a tensor"),
        ],
        error: None,
        agrees_with_live: None,
    }
}

/// A request id as the server makes them: a per-process prefix and a counter, 16 hex
/// digits wide.
fn request_id(i: usize) -> String {
    format!("3f9a1c07d2e4-{i:016x}")
}

fn insert(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = runtime
        .block_on(SqlMetadataStore::sqlite_in(dir.path()))
        .expect("a SQLite store");
    let mut next = 0;
    let mut group = c.benchmark_group("prediction log");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("insert 500 records, SQLite file", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let mut batch: Vec<PredictionRecord> = (next..next + BATCH).map(record).collect();
                // Requests finish out of the order they arrived in: each 16 reversed.
                for finished in batch.chunks_mut(16) {
                    finished.reverse();
                }
                next += BATCH;
                let started = Instant::now();
                runtime
                    .block_on(store.insert_predictions(&batch))
                    .expect("stored");
                spent += started.elapsed();
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, insert);
criterion_main!(benches);
