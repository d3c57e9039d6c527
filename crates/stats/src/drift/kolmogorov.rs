//! The two-sided one-sample Kolmogorov–Smirnov distribution `P(Dₙ ≥ x)` — scipy's
//! `scipy.stats.kstwo.sf(x, n)` (`scipy.stats._ksstats.kolmogn`), which `ks_2samp`
//! uses for its asymptotic p-value with `n = round(m·n/(m+n))`.
//!
//! The method is Simard & L'Ecuyer's (J. Stat. Software 39(11), 2011) selection
//! among exact and asymptotic algorithms, with scipy's cut-offs:
//!
//! | region | method |
//! |---|---|
//! | `n·x ≤ 1` or `n·x ≥ n − 1` | Ruben–Gambino closed forms |
//! | `x ≥ ½` | exact: twice the one-sided Smirnov tail |
//! | `n ≤ 140`, `n·x² ≤ 0.754693` | Durbin's matrix, Marsaglia–Tsang–Wang form |
//! | `n ≤ 140`, `n·x² ≤ 4` | Pomeranz's recursion |
//! | `n ≤ 140`, otherwise | twice the Smirnov tail (Miller) |
//! | `n > 140`, `n·x² ≥ 370` | 0 |
//! | `n > 140`, `n·x² ≥ 2.2` | twice the Smirnov tail |
//! | `n > 140`, `n ≤ 10⁵` and `n·x^1.5 ≤ 1.4` | Durbin's matrix |
//! | `n > 140`, otherwise | Pelz–Good asymptotic series |
//!
//! The survival function is `1 − CDF` wherever the CDF is what the method computes.
//! The algorithms themselves live in [`super::kolmogorov_methods`].

use super::kolmogorov_methods::{
    durbin_cdf, log_factorial_over_power, pelz_good_cdf, pomeranz_cdf,
};
use super::smirnov::smirnov_sf;

/// `scipy.stats.kstwo.sf(x, n)`: the probability that the two-sided Kolmogorov–Smirnov
/// statistic of `n` values from a continuous distribution is at least `x`.
///
/// Returns NaN for `n = 0` or NaN `x`; 1 for `x ≤ 1/(2n)`; 0 for `x ≥ 1`.
pub fn kolmogorov_smirnov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let n_float = n as f64;
    let t = n_float * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |product, i| {
                product * ((i as f64 * (1.0 / n_float)) * (2.0 * t - 1.0))
            })
        } else {
            (log_factorial_over_power(n) + n_float * (2.0 * t - 1.0).ln()).exp()
        };
        return clip(1.0 - cdf);
    }
    if t >= n_float - 1.0 {
        return clip(2.0 * (1.0 - x).powf(n_float));
    }
    if x >= 0.5 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let nx_squared = t * x;
    if n <= 140 {
        if nx_squared <= 0.754693 {
            return clip(1.0 - durbin_cdf(n, x));
        }
        if nx_squared <= 4.0 {
            return clip(1.0 - pomeranz_cdf(n, x));
        }
        return clip(2.0 * smirnov_sf(n, x));
    }
    if nx_squared >= 370.0 {
        return 0.0;
    }
    if nx_squared >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let cdf = if n <= 100_000 && n_float * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    clip(1.0 - cdf)
}

/// The limiting distribution: `P(√n·Dₙ ≥ x)` as n → ∞, scipy's `kstwobign.sf(x)`
/// (`scipy.special.kolmogorov`), `2 Σ_{k≥1} (−1)^{k−1} e^{−2k²x²}` for large `x` and
/// the Jacobi-theta form `1 − √(2π)/x Σ_{k≥1} e^{−(2k−1)²π²/(8x²)}` for small `x`.
pub fn kolmogorov_limit_sf(x: f64) -> f64 {
    use std::f64::consts::PI;
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= PI / (8.0_f64 * 746.0).sqrt() {
        return 1.0;
    }
    if x <= 0.82 {
        let w = (2.0 * PI).sqrt() / x;
        let log_u8 = -PI * PI / (x * x);
        let u = (log_u8 / 8.0).exp();
        let u8 = log_u8.exp();
        let mut sum = 1.0;
        sum = 1.0 + u8.powi(3) * sum;
        sum = 1.0 + u8 * u8 * sum;
        sum = 1.0 + u8 * sum;
        return clip(1.0 - w * u * sum);
    }
    let v = (-2.0 * x * x).exp();
    let v3 = v.powi(3);
    let mut sum = 1.0;
    sum = 1.0 - v3 * v3 * v * sum;
    sum = 1.0 - v3 * v * v * sum;
    sum = 1.0 - v3 * sum;
    clip(2.0 * v * sum)
}

fn clip(probability: f64) -> f64 {
    probability.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert!(kolmogorov_smirnov_sf(0, 0.5).is_nan());
        assert_eq!(kolmogorov_smirnov_sf(10, 0.0), 1.0);
        assert_eq!(kolmogorov_smirnov_sf(10, 0.04), 1.0);
        assert_eq!(kolmogorov_smirnov_sf(10, 1.0), 0.0);
        // n = 1: D₁ is uniform on [½, 1], so P(D₁ ≥ x) = 2(1 − x).
        assert!((kolmogorov_smirnov_sf(1, 0.75) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn decreasing_in_x_for_every_method() {
        for &n in &[5_u64, 50, 140, 141, 1_000, 200_000] {
            let mut previous = 1.0;
            for step in 1..200 {
                let x = step as f64 / 200.0;
                let sf = kolmogorov_smirnov_sf(n, x);
                assert!((0.0..=1.0).contains(&sf));
                assert!(sf <= previous + 1e-12, "n = {n}, x = {x}");
                previous = sf;
            }
        }
    }

    #[test]
    fn approaches_the_limit_for_large_n() {
        let n = 1_000_000_u64;
        let x = 1.0 / (n as f64).sqrt();
        let exact = kolmogorov_smirnov_sf(n, x);
        let limit = kolmogorov_limit_sf(1.0);
        assert!((exact - limit).abs() < 1e-3, "{exact} vs {limit}");
    }
}
