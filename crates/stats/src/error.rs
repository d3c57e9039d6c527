//! The crate's one error type and the input checks every public function runs first.
//!
//! Every statistic validates its input before computing anything: empty samples,
//! mismatched lengths, non-finite values, labels outside the expected set and
//! probabilities outside `[0, 1]` are reported as a [`StatsError`] naming the argument,
//! never as a panic or a silent NaN.

use thiserror::Error;

/// Why a statistic could not be computed.
///
/// The messages name the offending argument (`y_true`, `reference`, …) and say how to
/// fix the input; they are written to be shown to the person who supplied the data.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// An input that needs at least one value had none.
    #[error("`{argument}` is empty: at least one value is required")]
    Empty { argument: &'static str },

    /// Two inputs that describe the same rows have different lengths.
    #[error(
        "`{left}` has {left_len} values but `{right}` has {right_len}: they must describe the same rows"
    )]
    LengthMismatch {
        left: &'static str,
        left_len: usize,
        right: &'static str,
        right_len: usize,
    },

    /// A value was NaN or infinite.
    #[error(
        "`{argument}` holds a non-finite value ({value}) at index {index}: drop or impute it first"
    )]
    NonFinite {
        argument: &'static str,
        index: usize,
        value: f64,
    },

    /// A sample that must be sorted ascending was not.
    #[error(
        "`{argument}` is not sorted ascending (index {index} is below its predecessor): sort it first"
    )]
    NotSorted {
        argument: &'static str,
        index: usize,
    },

    /// A binary label was neither 0 nor 1.
    #[error("`{argument}` holds {value} at index {index}: binary labels must be 0 or 1")]
    NotBinary {
        argument: &'static str,
        index: usize,
        value: f64,
    },

    /// A class index was not below the number of classes.
    #[error(
        "`{argument}` holds class {class} at index {index}, but there are only {n_classes} classes (0..{n_classes})"
    )]
    ClassOutOfRange {
        argument: &'static str,
        index: usize,
        class: usize,
        n_classes: usize,
    },

    /// A probability was outside `[0, 1]`.
    #[error("`{argument}` holds {value} at index {index}: probabilities must lie in [0, 1]")]
    ProbabilityOutOfRange {
        argument: &'static str,
        index: usize,
        value: f64,
    },

    /// ROC AUC needs both a positive and a negative row (scikit-learn raises here too).
    #[error(
        "ROC AUC is undefined when `y_true` holds only one class ({present}); both classes must be present"
    )]
    SingleClass { present: String },

    /// One-vs-rest ROC AUC needs every class among the true labels.
    #[error("one-vs-rest ROC AUC is undefined for class {class}: it never occurs in `y_true`")]
    AbsentClass { class: usize },

    /// A statistic needs more values than it was given.
    #[error("`{argument}` has {got} values but at least {needed} are required")]
    TooFewValues {
        argument: &'static str,
        needed: usize,
        got: usize,
    },

    /// A row of class probabilities did not sum to one (scikit-learn's `np.allclose`).
    #[error("row {row} of `probabilities` sums to {sum}, not 1: pass per-class probabilities")]
    RowNotNormalised { row: usize, sum: f64 },

    /// A count, weight or table cell was negative.
    #[error(
        "`{argument}` holds a negative value ({value}) at index {index}: counts and weights must be non-negative"
    )]
    Negative {
        argument: &'static str,
        index: usize,
        value: f64,
    },

    /// A parameter was outside its allowed range.
    #[error("`{argument}` = {value} is invalid: {reason}")]
    InvalidParameter {
        argument: &'static str,
        value: f64,
        reason: &'static str,
    },

    /// A chi-square test met a zero expected frequency, where the statistic is infinite.
    #[error(
        "the expected frequency of {location} is zero, so the chi-square statistic is undefined: {hint}"
    )]
    ZeroExpected {
        location: String,
        hint: &'static str,
    },

    /// A feature column held NaN or ±inf (a missing value read from a data set).
    #[error(
        "feature column {column} holds a non-finite value ({value}) at row {row}: drop or impute missing values before fitting"
    )]
    NonFiniteFeature {
        column: usize,
        row: usize,
        value: f64,
    },

    /// A classifier was to be fitted on rows of one class only.
    #[error(
        "every label is {class}: fitting a binary classifier needs rows of both class 0 and class 1"
    )]
    OneClassOnly { class: f64 },

    /// Newton's linear system could not be solved (the Hessian is not positive definite).
    #[error(
        "the Newton system is singular at iteration {iteration}: the features are degenerate (constant or collinear columns with a vanishing penalty); drop redundant features or lower C"
    )]
    SingularSystem { iteration: usize },

    /// An iterative fit stopped before its gradient met the tolerance.
    #[error(
        "the fit did not converge in {iterations} iterations (largest gradient component per row {gradient:e}); raise the iteration limit or lower C"
    )]
    NotConverged { iterations: usize, gradient: f64 },

    /// Every resample of a bootstrap failed, so no interval exists.
    #[error("all {n_resamples} bootstrap resamples failed (last error: {last})")]
    BootstrapFailed {
        n_resamples: usize,
        #[source]
        last: Box<StatsError>,
    },
}

/// Refuses an empty slice.
pub(crate) fn check_non_empty<T>(argument: &'static str, values: &[T]) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty { argument });
    }
    Ok(())
}

/// Refuses two slices of different lengths.
pub(crate) fn check_same_len<A, B>(
    left: &'static str,
    left_values: &[A],
    right: &'static str,
    right_values: &[B],
) -> Result<(), StatsError> {
    if left_values.len() != right_values.len() {
        return Err(StatsError::LengthMismatch {
            left,
            left_len: left_values.len(),
            right,
            right_len: right_values.len(),
        });
    }
    Ok(())
}

/// Refuses an empty slice or one holding NaN or ±inf.
pub(crate) fn check_finite(argument: &'static str, values: &[f64]) -> Result<(), StatsError> {
    check_non_empty(argument, values)?;
    match values.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(StatsError::NonFinite {
            argument,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Refuses an empty slice, a NaN or ±inf, or values not in ascending order.
pub(crate) fn check_sorted_finite(
    argument: &'static str,
    values: &[f64],
) -> Result<(), StatsError> {
    check_finite(argument, values)?;
    match values.windows(2).position(|pair| pair[1] < pair[0]) {
        Some(position) => Err(StatsError::NotSorted {
            argument,
            index: position + 1,
        }),
        None => Ok(()),
    }
}

/// Refuses anything but a non-empty slice of exact 0.0 / 1.0 labels.
pub(crate) fn check_binary(argument: &'static str, values: &[f64]) -> Result<(), StatsError> {
    check_finite(argument, values)?;
    match values
        .iter()
        .position(|&value| value != 0.0 && value != 1.0)
    {
        Some(index) => Err(StatsError::NotBinary {
            argument,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Refuses a non-empty slice with a value outside `[0, 1]` (or non-finite).
pub(crate) fn check_probabilities(
    argument: &'static str,
    values: &[f64],
) -> Result<(), StatsError> {
    check_finite(argument, values)?;
    match values.iter().position(|value| !(0.0..=1.0).contains(value)) {
        Some(index) => Err(StatsError::ProbabilityOutOfRange {
            argument,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Refuses a non-empty slice with a negative or non-finite value.
pub(crate) fn check_non_negative(argument: &'static str, values: &[f64]) -> Result<(), StatsError> {
    check_finite(argument, values)?;
    match values.iter().position(|&value| value < 0.0) {
        Some(index) => Err(StatsError::Negative {
            argument,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Refuses class indices at or above `n_classes`.
pub(crate) fn check_classes(
    argument: &'static str,
    values: &[usize],
    n_classes: usize,
) -> Result<(), StatsError> {
    check_non_empty(argument, values)?;
    match values.iter().position(|&class| class >= n_classes) {
        Some(index) => Err(StatsError::ClassOutOfRange {
            argument,
            index,
            class: values[index],
            n_classes,
        }),
        None => Ok(()),
    }
}
