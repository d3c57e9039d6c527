//! Model-quality metrics, each equal to its scikit-learn counterpart, and the paired
//! comparisons the validation gate runs between a candidate and its parent.
//!
//! Conventions shared by the module:
//! - binary labels are `&[f64]` holding exactly 0.0 or 1.0 (the positive class is 1),
//!   so holdout labels parsed from CSV and model outputs widened from f32/i64 pass
//!   straight in; anything else is [`crate::StatsError::NotBinary`];
//! - multiclass labels are class indices `&[usize]`, and class probabilities a
//!   row-major `n_rows × n_classes` slice (the layout of an ONNX output tensor);
//! - every function validates first and returns [`crate::StatsError`] instead of NaN.

mod classification;
mod paired;
mod probabilistic;
mod ranking;
mod regression;

pub use classification::{
    Average, BinaryConfusion, accuracy, f1_score, multiclass_accuracy, multiclass_f1,
    multiclass_precision, multiclass_recall, precision, recall,
};
pub use paired::{
    BootstrapConfig, BootstrapInterval, MCNEMAR_EXACT_BELOW, McNemar, Metric, mcnemar,
    mcnemar_from_counts, paired_bootstrap, paired_bootstrap_metric,
};
pub use probabilistic::{brier_score, log_loss, multiclass_brier_score, multiclass_log_loss};
pub use ranking::{roc_auc, roc_auc_ovr};
pub use regression::{mae, mean_error, mse, r2_score, rmse};
