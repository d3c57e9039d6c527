//! The one integration-test binary of `bascule-monitor`: verdicts on generated data
//! at 1,000 and 1,000,000 rows, and the defined result of every odd column.

#![allow(clippy::unwrap_used)]

mod edge_cases;
mod verdicts;

use bascule_stats::Xoshiro256StarStar;

/// Seeded samples from the crate's own generator, so every run sees the same data.
#[derive(Debug)]
pub struct Generator {
    rng: Xoshiro256StarStar,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: Xoshiro256StarStar::seed_from_u64(seed),
        }
    }

    /// Uniform on (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
    }

    /// `n` draws from a normal distribution (Box–Muller).
    pub fn normal(&mut self, n: usize, mean: f64, std: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let (u, v) = (self.uniform(), self.uniform());
                mean + std * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
            })
            .collect()
    }

    /// `n` draws from an exponential distribution with the given mean.
    pub fn exponential(&mut self, n: usize, mean: f64) -> Vec<f64> {
        (0..n).map(|_| -mean * self.uniform().ln()).collect()
    }

    /// `n` categories drawn with the given weights (category `i` is named `c{i}`).
    pub fn categories(&mut self, n: usize, weights: &[f64]) -> Vec<Option<String>> {
        let total: f64 = weights.iter().sum();
        (0..n)
            .map(|_| {
                let mut draw = self.uniform() * total;
                let mut chosen = weights.len() - 1;
                for (index, weight) in weights.iter().enumerate() {
                    if draw < *weight {
                        chosen = index;
                        break;
                    }
                    draw -= weight;
                }
                Some(format!("c{chosen}"))
            })
            .collect()
    }
}
