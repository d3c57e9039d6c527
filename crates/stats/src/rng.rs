//! A small, fully specified pseudo-random generator for the bootstrap, so that a
//! seed gives the same resamples on every platform and in every version of this crate.
//!
//! The algorithm is fixed and documented, and must not change without regenerating the
//! oracle cases (`scripts/stats_oracle.py` re-implements it in Python):
//!
//! 1. **Seeding** — SplitMix64 (Steele, Lea & Flood 2014): `state += 0x9E3779B97F4A7C15`,
//!    then `z = state; z = (z ^ z>>30) · 0xBF58476D1CE4E5B9; z = (z ^ z>>27) ·
//!    0x94D049BB133111EB; z ^ z>>31`. Four successive outputs from the user's seed fill
//!    the xoshiro state.
//! 2. **Generation** — xoshiro256** 1.0 (Blackman & Vigna 2018): output
//!    `rotl(s1 · 5, 7) · 9`, then the standard shift/xor/rotate state update.
//! 3. **Bounded integers** — Lemire's multiply-shift with rejection (2019): for a bound
//!    `n`, take the high 64 bits of the 128-bit product `x · n`; if the low 64 bits fall
//!    below `2⁶⁴ mod n`, draw again. The result is exactly uniform on `0..n`.
//!
//! All arithmetic is wrapping on `u64`.

/// The SplitMix64 increment (the 64-bit golden ratio).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// xoshiro256** seeded through SplitMix64; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xoshiro256StarStar {
    state: [u64; 4],
}

/// One SplitMix64 step: advances `state` and returns the mixed output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN_GAMMA);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Xoshiro256StarStar {
    /// A generator whose whole stream is determined by `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut splitmix_state = seed;
        let state = [
            splitmix64(&mut splitmix_state),
            splitmix64(&mut splitmix_state),
            splitmix64(&mut splitmix_state),
            splitmix64(&mut splitmix_state),
        ];
        Self { state }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.state;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        let s2 = s2 ^ t;
        let s3 = s3.rotate_left(45);
        self.state = [s0, s1, s2, s3];
        result
    }

    /// A uniform integer in `0..bound` (Lemire's method); `bound` must be positive,
    /// and a zero bound returns 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        let mut product = u128::from(self.next_u64()) * u128::from(bound);
        let mut low = product as u64;
        if low < bound {
            let threshold = bound.wrapping_neg() % bound;
            while low < threshold {
                product = u128::from(self.next_u64()) * u128::from(bound);
                low = product as u64;
            }
        }
        (product >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_vector() {
        // First outputs of the reference C implementation for seed 0.
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut state), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn xoshiro_matches_the_reference_vector() {
        // Reference C implementation started from the state {1, 2, 3, 4}.
        let mut rng = Xoshiro256StarStar {
            state: [1, 2, 3, 4],
        };
        let expected = [11_520, 0, 1_509_978_240, 1_215_971_899_390_074_240];
        for value in expected {
            assert_eq!(rng.next_u64(), value);
        }
    }

    #[test]
    fn below_stays_in_range_and_is_reproducible() {
        let mut first = Xoshiro256StarStar::seed_from_u64(42);
        let mut second = Xoshiro256StarStar::seed_from_u64(42);
        for bound in 1..200 {
            let value = first.below(bound);
            assert!(value < bound);
            assert_eq!(value, second.below(bound));
        }
        assert_eq!(first.below(0), 0);
    }
}
