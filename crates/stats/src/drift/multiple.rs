//! Adjusting the p-values of a family of tests — one per feature of a drift report —
//! so that testing many features at once does not multiply false alarms.
//!
//! - **Benjamini–Hochberg** controls the false discovery rate (the expected share of
//!   false alarms among the features flagged): with the `m` p-values sorted ascending,
//!   `p̃₍ᵢ₎ = min_{k ≥ i} min(1, m·p₍ₖ₎ / k)` — `scipy.stats.false_discovery_control(ps,
//!   method='bh')` and statsmodels `multipletests(ps, method='fdr_bh')`.
//! - **Bonferroni** controls the family-wise error rate (the chance of any false
//!   alarm): `p̃ᵢ = min(1, m·pᵢ)` — statsmodels `multipletests(ps, method='bonferroni')`.
//!
//! Adjusted p-values come back in the order of the input.

use crate::error::{StatsError, check_probabilities};

/// How a family of p-values is adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Adjustment {
    /// Benjamini–Hochberg (false discovery rate).
    #[default]
    BenjaminiHochberg,
    /// Bonferroni (family-wise error rate).
    Bonferroni,
    /// No adjustment: every p-value is returned as it is.
    None,
}

/// The adjusted p-values of `pvalues`, in the same order.
///
/// Errors on an empty family or a p-value outside `[0, 1]` (or NaN).
pub fn adjust_pvalues(pvalues: &[f64], adjustment: Adjustment) -> Result<Vec<f64>, StatsError> {
    check_probabilities("pvalues", pvalues)?;
    let m = pvalues.len() as f64;
    Ok(match adjustment {
        Adjustment::None => pvalues.to_vec(),
        Adjustment::Bonferroni => pvalues.iter().map(|&p| (p * m).min(1.0)).collect(),
        Adjustment::BenjaminiHochberg => {
            let mut order: Vec<usize> = (0..pvalues.len()).collect();
            order.sort_by(|&a, &b| pvalues[a].total_cmp(&pvalues[b]));
            let mut adjusted = vec![0.0; pvalues.len()];
            let mut running_min = 1.0_f64;
            for (rank, &index) in order.iter().enumerate().rev() {
                let scaled = pvalues[index] * (m / (rank + 1) as f64);
                running_min = running_min.min(scaled);
                adjusted[index] = running_min;
            }
            adjusted
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_test_is_unchanged() {
        for adjustment in [
            Adjustment::BenjaminiHochberg,
            Adjustment::Bonferroni,
            Adjustment::None,
        ] {
            assert_eq!(adjust_pvalues(&[0.03], adjustment), Ok(vec![0.03]));
        }
    }

    #[test]
    fn adjusted_values_keep_the_input_order_and_never_shrink() {
        let pvalues = [0.04, 0.001, 0.5, 0.01];
        let adjusted = adjust_pvalues(&pvalues, Adjustment::BenjaminiHochberg).expect("valid");
        // Ranks 3, 1, 4, 2: 0.04·4/3, 0.001·4, 0.5, 0.01·4/2.
        let expected = [0.04 * 4.0 / 3.0, 0.004, 0.5, 0.02];
        for (got, want) in adjusted.iter().zip(expected) {
            assert!((got - want).abs() < 1e-15, "{adjusted:?}");
        }
        assert!(adjusted.iter().zip(&pvalues).all(|(a, p)| a >= p));
        assert_eq!(
            adjust_pvalues(&pvalues, Adjustment::Bonferroni),
            Ok(vec![0.16, 0.004, 1.0, 0.04])
        );
    }

    #[test]
    fn invalid_families_are_refused() {
        assert!(adjust_pvalues(&[], Adjustment::Bonferroni).is_err());
        assert!(adjust_pvalues(&[f64::NAN], Adjustment::None).is_err());
        assert!(adjust_pvalues(&[1.5], Adjustment::BenjaminiHochberg).is_err());
    }
}
