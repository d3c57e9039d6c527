//! Loading the recorded oracle cases and comparing against them.
//!
//! **Tolerance.** A value passes when `|actual − expected| ≤ 1e-9 · |expected|`, or
//! when the absolute difference is below a floor chosen per kind of value:
//! - [`PROBABILITY_FLOOR`] (1e-300) for p-values and survival probabilities, so that
//!   tail probabilities such as 1e-200 are compared relatively, with no absolute
//!   escape hatch — only exact zeros and denormals meet the floor;
//! - [`STATISTIC_FLOOR`] (1e-12) for statistics that are differences of O(1)
//!   quantities and can legitimately be 0 or cancel to ~1e-16 (the mean error, a
//!   bootstrap bound, a z statistic, a Jensen–Shannon distance, R²).
//!
//! Every comparison also records its relative error, and each test prints the largest
//! one per statistic (visible with `cargo test -- --nocapture`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bascule_stats::Xoshiro256StarStar;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub const RELATIVE_TOLERANCE: f64 = 1e-9;
pub const PROBABILITY_FLOOR: f64 = 1e-300;
pub const STATISTIC_FLOOR: f64 = 1e-12;

#[derive(Debug, Deserialize)]
struct OracleFile<T> {
    cases: Vec<T>,
}

/// The cases of `tests/data/<name>`.
pub fn load<T: DeserializeOwned>(name: &str) -> Vec<T> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let file: OracleFile<T> = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("cannot parse {}: {error}", path.display()));
    assert!(!file.cases.is_empty(), "{name} holds no cases");
    file.cases
}

/// Collects comparisons, then fails once with every mismatch listed.
#[derive(Debug)]
pub struct Checker {
    suite: &'static str,
    max_relative_error: BTreeMap<String, f64>,
    floor_passes: BTreeMap<String, usize>,
    failures: Vec<String>,
    comparisons: usize,
}

impl Checker {
    pub fn new(suite: &'static str) -> Self {
        Self {
            suite,
            max_relative_error: BTreeMap::new(),
            floor_passes: BTreeMap::new(),
            failures: Vec::new(),
            comparisons: 0,
        }
    }

    /// Compares a p-value or probability (relative, floor 1e-300).
    pub fn probability(&mut self, statistic: &str, case: &str, actual: f64, expected: f64) {
        self.compare(statistic, case, actual, expected, PROBABILITY_FLOOR);
    }

    /// Compares a statistic (relative, floor 1e-12).
    pub fn statistic(&mut self, statistic: &str, case: &str, actual: f64, expected: f64) {
        self.compare(statistic, case, actual, expected, STATISTIC_FLOOR);
    }

    /// Compares two values that must be equal (counts, degrees of freedom, signs).
    pub fn exact<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: &str,
        case: &str,
        actual: T,
        expected: T,
    ) {
        self.comparisons += 1;
        if actual != expected {
            self.failures.push(format!(
                "{what} [{case}]: got {actual:?}, expected {expected:?}"
            ));
        }
    }

    fn compare(&mut self, statistic: &str, case: &str, actual: f64, expected: f64, floor: f64) {
        self.comparisons += 1;
        let difference = (actual - expected).abs();
        let relative = if expected == 0.0 {
            if difference == 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            difference / expected.abs()
        };
        let within_relative = difference <= RELATIVE_TOLERANCE * expected.abs();
        let within_floor = difference <= floor;
        if within_floor && !within_relative {
            *self.floor_passes.entry(statistic.to_owned()).or_insert(0) += 1;
        } else {
            let slot = self
                .max_relative_error
                .entry(statistic.to_owned())
                .or_insert(0.0);
            if relative > *slot || relative.is_nan() {
                *slot = relative;
            }
        }
        if !(within_relative || within_floor) {
            self.failures.push(format!(
                "{statistic} [{case}]: got {actual:e}, expected {expected:e} (relative error {relative:e})"
            ));
        }
    }

    /// Prints the largest relative error per statistic and fails on any mismatch.
    pub fn finish(self) {
        eprintln!("{}: {} comparisons", self.suite, self.comparisons);
        for (statistic, error) in &self.max_relative_error {
            eprintln!("  max relative error {statistic:<28} {error:.3e}");
        }
        for (statistic, count) in &self.floor_passes {
            eprintln!("  {statistic:<28} {count} value(s) near 0 passed on the absolute floor");
        }
        assert!(
            self.failures.is_empty(),
            "{} of {} comparisons in {} differ from the oracle:\n{}",
            self.failures.len(),
            self.comparisons,
            self.suite,
            self.failures.join("\n")
        );
    }
}

/// A sample described by a generator spec (see `generate` in scripts/stats_oracle.py).
#[derive(Debug, Deserialize)]
pub struct GeneratorSpec {
    pub seed: u64,
    pub n: usize,
    pub kind: String,
    pub modulus: u64,
    pub scale: f64,
    pub shift: f64,
}

/// Regenerates the sample the oracle script drew from the crate's own generator.
pub fn generate(spec: &GeneratorSpec) -> Vec<f64> {
    let mut rng = Xoshiro256StarStar::seed_from_u64(spec.seed);
    let draws = if spec.kind == "irwin_hall" { 4 } else { 1 };
    (0..spec.n)
        .map(|_| {
            let total: u64 = (0..draws).map(|_| rng.below(spec.modulus)).sum();
            total as f64 * spec.scale + spec.shift
        })
        .collect()
}
