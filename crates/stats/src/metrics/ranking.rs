//! Area under the ROC curve, binary and one-vs-rest multiclass.
//!
//! Equal to `sklearn.metrics.roc_auc_score`. scikit-learn sorts the scores, keeps one
//! ROC point per *distinct* score (tied scores move the curve diagonally, which is
//! how ties earn half credit), and integrates with the trapezoid rule. Here the same
//! trapezoids are summed in exact integer arithmetic — twice the area in units of
//! `1/(P·N)` is `Σ Δfp · (tp_before + tp_after)` — and divided once at the end, so the
//! only rounding is that final division.
//!
//! With a single class in `y_true` the curve is undefined; scikit-learn raises, and
//! so does this module ([`StatsError::SingleClass`]).

use super::probabilistic::check_probability_matrix;
use crate::error::{StatsError, check_binary, check_finite, check_same_len};

/// `roc_auc_score(y_true, scores)` for 0/1 labels and any real-valued scores where a
/// larger score means "more likely class 1".
pub fn roc_auc(y_true: &[f64], scores: &[f64]) -> Result<f64, StatsError> {
    check_binary("y_true", y_true)?;
    check_finite("scores", scores)?;
    check_same_len("y_true", y_true, "scores", scores)?;
    let positives: Vec<bool> = y_true.iter().map(|&label| label == 1.0).collect();
    auc_of(&positives, scores)
}

/// `roc_auc_score(y_true, probabilities, multi_class="ovr", average="macro",
/// labels=range(n_classes))`: the unweighted mean over classes of the binary AUC of
/// "class k versus the rest" scored by column k.
///
/// Like scikit-learn, requires each row to sum to one (`np.allclose`: within
/// `1e-8 + 1e-5`), and every class to occur in `y_true` (otherwise its AUC is undefined).
/// For two classes scikit-learn refuses a matrix and scores binary input by the
/// probability of class 1; so does this: the result is `roc_auc(y_true, column 1)`.
pub fn roc_auc_ovr(
    y_true: &[usize],
    probabilities: &[f64],
    n_classes: usize,
) -> Result<f64, StatsError> {
    check_probability_matrix(y_true, probabilities, n_classes)?;
    for (row, values) in probabilities.chunks(n_classes).enumerate() {
        let sum: f64 = values.iter().sum();
        if (sum - 1.0).abs() > 1e-8 + 1e-5 {
            return Err(StatsError::RowNotNormalised { row, sum });
        }
    }
    if n_classes == 2 {
        let positives: Vec<bool> = y_true.iter().map(|&label| label == 1).collect();
        let column: Vec<f64> = probabilities.iter().skip(1).step_by(2).copied().collect();
        return auc_of(&positives, &column);
    }
    let mut total = 0.0;
    for class in 0..n_classes {
        let positives: Vec<bool> = y_true.iter().map(|&label| label == class).collect();
        if !positives.contains(&true) {
            return Err(StatsError::AbsentClass { class });
        }
        let column: Vec<f64> = probabilities
            .iter()
            .skip(class)
            .step_by(n_classes)
            .copied()
            .collect();
        total += auc_of(&positives, &column)?;
    }
    Ok(total / n_classes as f64)
}

/// The trapezoidal ROC area over distinct thresholds, in exact integer arithmetic.
fn auc_of(positives: &[bool], scores: &[f64]) -> Result<f64, StatsError> {
    let n_positive = positives.iter().filter(|&&positive| positive).count() as u128;
    let n_negative = positives.len() as u128 - n_positive;
    if n_positive == 0 || n_negative == 0 {
        let present = if n_positive == 0 { "only 0" } else { "only 1" };
        return Err(StatsError::SingleClass {
            present: present.to_owned(),
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));

    let (mut true_positives, mut false_positives) = (0_u128, 0_u128);
    let (mut previous_tp, mut previous_fp) = (0_u128, 0_u128);
    let mut twice_area = 0_u128;
    for (rank, &row) in order.iter().enumerate() {
        if positives[row] {
            true_positives += 1;
        } else {
            false_positives += 1;
        }
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[row]);
        if last_of_tie {
            twice_area += (false_positives - previous_fp) * (true_positives + previous_tp);
            previous_tp = true_positives;
            previous_fp = false_positives;
        }
    }
    Ok(twice_area as f64 / (2 * n_positive * n_negative) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_reversed_and_tied_scores() {
        let y = [0.0, 0.0, 1.0, 1.0];
        assert_eq!(roc_auc(&y, &[0.1, 0.2, 0.8, 0.9]), Ok(1.0));
        assert_eq!(roc_auc(&y, &[0.9, 0.8, 0.2, 0.1]), Ok(0.0));
        assert_eq!(roc_auc(&y, &[0.5; 4]), Ok(0.5));
        // scikit-learn's documented example value.
        assert_eq!(
            roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8]),
            Ok(0.75)
        );
    }

    #[test]
    fn single_class_and_absent_class_are_errors() {
        assert!(matches!(
            roc_auc(&[1.0, 1.0], &[0.2, 0.3]),
            Err(StatsError::SingleClass { .. })
        ));
        assert_eq!(
            roc_auc_ovr(
                &[0, 0, 1],
                &[0.5, 0.3, 0.2, 0.1, 0.1, 0.8, 0.2, 0.2, 0.6],
                3
            ),
            Err(StatsError::AbsentClass { class: 2 })
        );
        assert!(matches!(
            roc_auc_ovr(&[0, 1], &[0.5, 0.6, 0.5, 0.5], 2),
            Err(StatsError::RowNotNormalised { row: 0, .. })
        ));
    }
}
