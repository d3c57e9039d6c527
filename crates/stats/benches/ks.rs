//! The exact two-sample KS test at the size monitoring runs it: a window of 1,000 values
//! against a reference of 143 (the breast-cancer fixture's holdout), one sample shifted
//! far (a wide band of the path-count table) and one shifted a little. Recorded in
//! docs/benchmarks.md ("The log's writer and the watcher's priority"):
//!
//!     cargo bench -p bascule-stats --bench ks

use std::hint::black_box;

use bascule_stats::drift::{KsMethod, ks_2samp};
use criterion::{Criterion, criterion_group, criterion_main};

/// Deterministic values in [0, 100) (xorshift), so every run measures the same samples.
fn sample(n: usize, shift: f64, seed: &mut u64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed % 100_000) as f64 / 1000.0 + shift
        })
        .collect()
}

fn exact_ks(c: &mut Criterion) {
    let mut seed = 42;
    let window = sample(1000, 0.0, &mut seed);
    for (label, shift) in [("shifted", 20.0), ("mild", 2.0)] {
        let reference = sample(143, shift, &mut seed);
        c.bench_function(&format!("ks_2samp exact 1000 vs 143, {label}"), |b| {
            b.iter(|| ks_2samp(black_box(&window), black_box(&reference), KsMethod::Exact))
        });
    }
}

criterion_group!(benches, exact_ks);
criterion_main!(benches);
