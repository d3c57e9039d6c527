//! The algorithms behind [`super::kolmogorov::kolmogorov_smirnov_sf`], each computing
//! the CDF `P(Dₙ ≤ x)` of the two-sided one-sample statistic in the region where it is
//! accurate. Intermediate values that would overflow or underflow are rescaled by
//! `2^±128` and the exponent is tracked separately, as scipy does.

use std::f64::consts::PI;

const SCALE_EXPONENT: i32 = 128;
/// 2^128 and 2^-128.
const SCALE_UP: f64 = 3.402_823_669_209_385e38;
const SCALE_DOWN: f64 = 1.0 / SCALE_UP;

/// `ln(n! / nⁿ)` by Stirling's series with the `n·ln n` term removed up front, so
/// nothing cancels (`−n + ½ ln(2πn) + Σ B₂ⱼ / (2j(2j−1) n^{2j−1})`).
pub(super) fn log_factorial_over_power(n: u64) -> f64 {
    // B₂ⱼ / (2j (2j − 1)) for j = 8 down to 1.
    const COEFFICIENTS: [f64; 8] = [
        -3617.0 / 510.0 / 240.0,
        1.0 / 156.0,
        -691.0 / 360_360.0,
        1.0 / 1188.0,
        -1.0 / 1680.0,
        1.0 / 1260.0,
        -1.0 / 360.0,
        1.0 / 12.0,
    ];
    let n = n as f64;
    let inverse = 1.0 / n;
    let argument = inverse / n;
    let series = COEFFICIENTS.iter().fold(0.0, |accumulator, coefficient| {
        accumulator * argument + coefficient
    });
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + inverse * series
}

/// A dense square matrix, row-major.
#[derive(Debug, Clone)]
struct Matrix {
    size: usize,
    values: Vec<f64>,
}

impl Matrix {
    fn zeros(size: usize) -> Self {
        Self {
            size,
            values: vec![0.0; size * size],
        }
    }

    fn identity(size: usize) -> Self {
        let mut matrix = Self::zeros(size);
        for i in 0..size {
            matrix.values[i * size + i] = 1.0;
        }
        matrix
    }

    fn at(&self, row: usize, column: usize) -> f64 {
        self.values[row * self.size + column]
    }

    fn set(&mut self, row: usize, column: usize, value: f64) {
        self.values[row * self.size + column] = value;
    }

    fn times(&self, other: &Self) -> Self {
        let size = self.size;
        let mut product = Self::zeros(size);
        for row in 0..size {
            for inner in 0..size {
                let left = self.values[row * size + inner];
                if left == 0.0 {
                    continue;
                }
                let other_row = &other.values[inner * size..(inner + 1) * size];
                let product_row = &mut product.values[row * size..(row + 1) * size];
                for (target, &right) in product_row.iter_mut().zip(other_row) {
                    *target += left * right;
                }
            }
        }
        product
    }
}

/// Durbin's matrix algorithm in the Marsaglia–Tsang–Wang form: with `n·x = k − h`
/// (`k` an integer, `0 ≤ h < 1`), `P(Dₙ ≤ x) = n!/nⁿ · (Hⁿ)_{k,k}` for an
/// `m × m` matrix `H`, `m = 2k − 1`. Cost `O(m³ log n)`, so it serves small `n·x`.
pub(super) fn durbin_cdf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * x;
    if nd <= 0.5 {
        return 0.0;
    }
    let k_float = nd.ceil();
    let h = k_float - nd;
    // k ≥ 1 because nd > 0.5.
    let k = k_float as usize;
    let m = 2 * k - 1;

    // v[j] = (1 − h^{j+1}) / (j+1)!, w[j] = 1/j!.
    let mut v = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut factorial_inverse = 1.0;
    for j in 1..=m {
        w[j - 1] = factorial_inverse;
        factorial_inverse /= j as f64;
        v[j - 1] = (1.0 - h.powi(j as i32)) * factorial_inverse;
    }
    let correction = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + correction) * factorial_inverse;

    let mut matrix = Matrix::zeros(m);
    for column in 1..m {
        for row in (column - 1)..m {
            matrix.set(row, column, w[row + 1 - column]);
        }
    }
    for (row, &value) in v.iter().enumerate() {
        matrix.set(row, 0, value);
    }
    for column in 0..m {
        matrix.set(m - 1, column, v[m - 1 - column]);
    }

    let mut power = Matrix::identity(m);
    let mut exponent: i32 = 0;
    let mut matrix_exponent: i32 = 0;
    let mut remaining = n;
    while remaining > 0 {
        if remaining % 2 == 1 {
            power = power.times(&matrix);
            exponent += matrix_exponent;
        }
        matrix = matrix.times(&matrix);
        matrix_exponent *= 2;
        if matrix.at(k - 1, k - 1).abs() > SCALE_UP {
            for value in matrix.values.iter_mut() {
                *value /= SCALE_UP;
            }
            matrix_exponent += SCALE_EXPONENT;
        }
        remaining /= 2;
    }

    let mut probability = power.at(k - 1, k - 1);
    let n_float = n as f64;
    for i in 1..=n {
        probability = i as f64 * probability / n_float;
        if probability.abs() < SCALE_DOWN {
            probability *= SCALE_UP;
            exponent -= SCALE_EXPONENT;
        }
    }
    scale_by_power_of_two(probability, exponent).clamp(0.0, 1.0)
}

/// `value · 2^exponent` without intermediate overflow.
fn scale_by_power_of_two(mut value: f64, mut exponent: i32) -> f64 {
    while exponent > 0 {
        let step = exponent.min(1000);
        value *= 2.0_f64.powi(step);
        exponent -= step;
    }
    while exponent < 0 {
        let step = (-exponent).min(1000);
        value *= 2.0_f64.powi(-step);
        exponent += step;
    }
    value
}

/// Interval of non-zero entries `(j1, j2)` of row `i` in Pomeranz's recursion.
fn pomeranz_bounds(i: i64, n: i64, ll: i64, ceil_f: i64, round_f: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceil_f - 1, ll + ceil_f - 1)
    } else {
        let half = (i + 1).div_euclid(2);
        if (i + 1) % 2 == 0 {
            if half == n + 1 {
                (n - ll - ceil_f - 1, n + ll + ceil_f - 1)
            } else {
                (half - 1 - ll - round_f - 1, half + ll - 1 + ceil_f - 1)
            }
        } else {
            (half - 1 - ll - 1, half + ll + round_f - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// Pomeranz's recursion (CACM Algorithm 487, 1974): `2n + 1` convolutions of a short
/// row with truncated Poisson weights; exact, `O(n² x)` work. Used for moderate `n·x²`.
pub(super) fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let n_float = n as f64;
    let t = n_float * x;
    let ll_float = t.floor();
    let f = t - ll_float;
    let g = f.min(1.0 - f);
    let ceil_f = i64::from(f > 0.0);
    let round_f = i64::from(f > 0.5);
    // Here n ≤ 140 and x < ½, so these integers are small.
    let ll = ll_float as i64;
    let n_int = n as i64;
    let n_powers = 2 * (ll as usize + 1);

    let mut g_power = vec![1.0; n_powers];
    let mut two_g_power = vec![1.0; n_powers];
    let mut one_minus_two_g_power = vec![1.0; n_powers];
    let (g_over_n, two_g_over_n, one_minus_two_g_over_n) =
        (g / n_float, 2.0 * g / n_float, (1.0 - 2.0 * g) / n_float);
    for m in 1..n_powers {
        let m_float = m as f64;
        g_power[m] = g_power[m - 1] * g_over_n / m_float;
        two_g_power[m] = two_g_power[m - 1] * two_g_over_n / m_float;
        one_minus_two_g_power[m] = one_minus_two_g_power[m - 1] * one_minus_two_g_over_n / m_float;
    }

    let mut previous_row = vec![0.0; n_powers];
    let mut row = vec![0.0; n_powers];
    row[0] = 1.0;
    let (mut previous_start, mut start) = (0_i64, 0_i64);
    let mut exponent: i32 = 0;
    let (mut j1, _) = pomeranz_bounds(0, n_int, ll, ceil_f, round_f);
    for i in 1..(2 * n_int + 2) {
        let k1 = j1;
        std::mem::swap(&mut previous_row, &mut row);
        std::mem::swap(&mut previous_start, &mut start);
        row.fill(0.0);
        let (new_j1, j2) = pomeranz_bounds(i, n_int, ll, ceil_f, round_f);
        j1 = new_j1;
        let weights = if i == 1 || i == 2 * n_int + 1 {
            &g_power
        } else if i % 2 == 1 {
            &two_g_power
        } else {
            &one_minus_two_g_power
        };
        let length = j2 - k1 + 1;
        if length > 0 {
            let source_start = (k1 - previous_start).max(0) as usize;
            let source_end = (source_start + length as usize).min(n_powers);
            let source = &previous_row[source_start..source_end];
            let kernel = &weights[..(length as usize).min(n_powers)];
            let first = (j1 - k1) as usize;
            let count = (j2 - j1 + 1).max(0) as usize;
            for (offset, target) in row.iter_mut().take(count).enumerate() {
                let index = first + offset;
                *target = (0..source.len())
                    .filter(|&p| index >= p && index - p < kernel.len())
                    .map(|p| source[p] * kernel[index - p])
                    .sum();
            }
            let largest = row.iter().copied().fold(0.0, f64::max);
            if largest > 0.0 && largest < SCALE_DOWN {
                for value in row.iter_mut() {
                    *value *= SCALE_UP;
                }
                exponent -= SCALE_EXPONENT;
            }
            start = previous_start + j1 - k1;
        }
    }
    let mut answer = usize::try_from(n_int - start)
        .ok()
        .and_then(|index| row.get(index).copied())
        .unwrap_or(0.0);
    for m in 1..=n {
        if answer.abs() > SCALE_UP {
            answer *= SCALE_DOWN;
            exponent += SCALE_EXPONENT;
        }
        answer *= m as f64;
    }
    scale_by_power_of_two(answer, exponent).clamp(0.0, 1.0)
}

/// The Pelz–Good asymptotic series (JRSS B 38(2), 1976): the Li-Chien/Korolyuk
/// expansion `K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2}` in `z = x√n`, rewritten with
/// the Jacobi theta functional equation so that it converges fast for small `z`.
pub(super) fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let n_float = n as f64;
    let z = n_float.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let pi2 = PI * PI;
    let (pi4, pi6) = (pi2 * pi2, pi2 * pi2 * pi2);

    let q_log = -pi2 / 8.0 / z2;
    if q_log < -708.0 {
        return 0.0;
    }
    let q = q_log.exp();

    let (k1a, k1b) = (-z2, pi2 / 4.0);
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);

    // Horner scheme over odd m = 2k − 1 of Σ c(m) q^{m²}.
    let mut sums = [0.0_f64; 4];
    let max_k = (16.0 * z / PI).ceil() as u64;
    for k in (1..=max_k).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let q_power = q.powf(8.0 * k as f64);
        let coefficients = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (sum, coefficient) in sums.iter_mut().zip(coefficients) {
            *sum = *sum * q_power + coefficient;
        }
    }
    let sqrt_two_pi = (2.0 * PI).sqrt();
    let divisors = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (sum, divisor) in sums.iter_mut().zip(divisors) {
        *sum = *sum * q * sqrt_two_pi / divisor;
    }

    // The sums over all integers k that K₂ and K₃ also carry.
    let q_full = (-pi2 / 2.0 / z2).exp();
    let sqrt3_z = 3.0_f64.sqrt() * z;
    let (mut k2_extra, mut k3_extra) = (0.0, 0.0);
    for k in (1..=max_k).rev() {
        let k_float = k as f64;
        let k_squared = k_float * k_float;
        let q_power = q_full.powf(k_squared);
        let k_pi = PI * k_float;
        k2_extra += k_squared * q_power;
        k3_extra += (sqrt3_z + k_pi) * (sqrt3_z - k_pi) * k_squared * q_power;
    }
    sums[2] += k2_extra * pi2 * sqrt_two_pi / (-36.0 * z3);
    sums[3] += k3_extra * pi2 * sqrt_two_pi / (216.0 * z6);

    sums.iter()
        .enumerate()
        .map(|(power, sum)| sum / n_float.powf(power as f64 / 2.0))
        .sum()
}
