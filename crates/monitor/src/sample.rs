//! One side (reference or current) of one feature, in the form the tests want: the
//! finite values of a numeric feature sorted ascending, or the counts of a categorical
//! feature, each with its missing values counted apart.
//!
//! **Missing and non-finite values.** A NaN (or a `None`) is *missing*; `+∞` and `−∞`
//! are *non-finite*. Both are counted, reported in [`SideSummary`], and left out of
//! every test and histogram — a drift test compares the distributions of the values
//! present. A categorical `None` is missing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Whether a feature holds numbers or categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

/// The values of one side of a numeric feature: finite values sorted ascending, plus
/// the number of missing (NaN, `None`) and non-finite (`±∞`) values left out.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericSample<'a> {
    sorted: Cow<'a, [f64]>,
    missing: u64,
    non_finite: u64,
}

impl NumericSample<'static> {
    /// Takes ownership of raw values (NaN = missing): the finite ones are kept and sorted
    /// in place, with no copy.
    pub fn from_values(mut values: Vec<f64>) -> Self {
        let n_values = values.len();
        let missing = values.iter().filter(|value| value.is_nan()).count() as u64;
        values.retain(|value| value.is_finite());
        let non_finite = (n_values - values.len()) as u64 - missing;
        values.sort_unstable_by(f64::total_cmp);
        NumericSample {
            sorted: Cow::Owned(values),
            missing,
            non_finite,
        }
    }

    /// Copies raw values (NaN = missing); see [`from_values`](Self::from_values).
    pub fn from_slice(values: &[f64]) -> Self {
        Self::from_values(values.to_vec())
    }

    /// Values that may be absent (`None` = missing), such as a window of a tensor
    /// element in the prediction log.
    pub fn from_options(values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let mut absent = 0;
        let present: Vec<f64> = values
            .into_iter()
            .filter_map(|value| {
                if value.is_none() {
                    absent += 1;
                }
                value
            })
            .collect();
        Self::from_values(present).with_missing(absent)
    }
}

impl<'a> NumericSample<'a> {
    /// Borrows values already sorted ascending (the sample the validation gate keeps in
    /// its reference profile), with `missing` values counted elsewhere. Nothing is
    /// copied when every value is finite and the order holds; otherwise the values are
    /// copied and treated as [`from_values`](NumericSample::from_values) does.
    pub fn from_sorted(sorted: &'a [f64], missing: u64) -> Self {
        let is_clean = sorted.iter().all(|value| value.is_finite())
            && sorted.windows(2).all(|pair| pair[0] <= pair[1]);
        if is_clean {
            NumericSample {
                sorted: Cow::Borrowed(sorted),
                missing,
                non_finite: 0,
            }
        } else {
            NumericSample::from_slice(sorted).with_missing(missing)
        }
    }

    /// Adds `extra` missing values (rows the caller dropped before building the sample).
    pub fn with_missing(mut self, extra: u64) -> Self {
        self.missing += extra;
        self
    }

    /// The finite values, ascending.
    pub fn values(&self) -> &[f64] {
        &self.sorted
    }

    pub fn missing(&self) -> u64 {
        self.missing
    }

    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    pub fn summary(&self) -> SideSummary {
        SideSummary {
            count: self.sorted.len() as u64,
            missing: self.missing,
            non_finite: self.non_finite,
        }
    }
}

/// The values of one side of a categorical feature: the count of every category, plus
/// the number of missing values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CategoricalSample {
    counts: BTreeMap<String, u64>,
    missing: u64,
}

impl CategoricalSample {
    /// Counts per category (the validation gate's reference profile keeps these);
    /// categories counted zero times are dropped.
    pub fn from_counts(mut counts: BTreeMap<String, u64>, missing: u64) -> Self {
        counts.retain(|_, count| *count > 0);
        CategoricalSample { counts, missing }
    }

    /// Counts values one by one (`None` = missing).
    pub fn from_values<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> Self {
        let mut sample = CategoricalSample::default();
        for value in values {
            match value {
                Some(value) => match sample.counts.get_mut(value.as_ref()) {
                    Some(count) => *count += 1,
                    None => {
                        sample.counts.insert(value.as_ref().to_owned(), 1);
                    }
                },
                None => sample.missing += 1,
            }
        }
        sample
    }

    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// The number of values present (not missing).
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn missing(&self) -> u64 {
        self.missing
    }

    pub fn summary(&self) -> SideSummary {
        SideSummary {
            count: self.total(),
            missing: self.missing,
            non_finite: 0,
        }
    }
}

/// One side of one feature.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample<'a> {
    Numeric(NumericSample<'a>),
    Categorical(CategoricalSample),
}

impl Sample<'_> {
    pub fn kind(&self) -> ColumnKind {
        match self {
            Sample::Numeric(_) => ColumnKind::Numeric,
            Sample::Categorical(_) => ColumnKind::Categorical,
        }
    }

    pub fn summary(&self) -> SideSummary {
        match self {
            Sample::Numeric(sample) => sample.summary(),
            Sample::Categorical(sample) => sample.summary(),
        }
    }
}

impl<'a> From<NumericSample<'a>> for Sample<'a> {
    fn from(sample: NumericSample<'a>) -> Self {
        Sample::Numeric(sample)
    }
}

impl From<CategoricalSample> for Sample<'_> {
    fn from(sample: CategoricalSample) -> Self {
        Sample::Categorical(sample)
    }
}

/// How many values one side of a feature had: `count` were tested, `missing` were NaN
/// or absent, `non_finite` were `±∞`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SideSummary {
    pub count: u64,
    pub missing: u64,
    pub non_finite: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_values_are_sorted_and_odd_values_counted() {
        let sample = NumericSample::from_values(vec![
            3.0,
            f64::NAN,
            1.0,
            f64::INFINITY,
            2.0,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        assert_eq!(sample.values(), &[1.0, 2.0, 3.0]);
        assert_eq!(
            sample.summary(),
            SideSummary {
                count: 3,
                missing: 2,
                non_finite: 2
            }
        );
        let options = NumericSample::from_options([Some(2.0), None, Some(f64::NAN)]);
        assert_eq!(options.values(), &[2.0]);
        assert_eq!(options.missing(), 2);
    }

    #[test]
    fn sorted_samples_are_borrowed_only_when_clean() {
        let clean = [1.0, 1.0, 4.0];
        let borrowed = NumericSample::from_sorted(&clean, 5);
        assert!(matches!(borrowed.sorted, Cow::Borrowed(_)));
        assert_eq!(borrowed.missing(), 5);
        let unsorted = [4.0, f64::INFINITY, 1.0];
        let fixed = NumericSample::from_sorted(&unsorted, 1);
        assert_eq!(fixed.values(), &[1.0, 4.0]);
        assert_eq!((fixed.missing(), fixed.non_finite()), (1, 1));
    }

    #[test]
    fn categories_are_counted_and_zero_counts_dropped() {
        let sample = CategoricalSample::from_values([Some("a"), None, Some("b"), Some("a")]);
        assert_eq!(sample.counts().get("a"), Some(&2));
        assert_eq!((sample.total(), sample.missing()), (3, 1));
        let counts = BTreeMap::from([("x".to_owned(), 0), ("y".to_owned(), 4)]);
        let sample = CategoricalSample::from_counts(counts, 0);
        assert_eq!(sample.counts().len(), 1);
    }
}
