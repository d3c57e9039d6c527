//! Per-feature histograms of reference and current on shared bins, kept in the report
//! for plotting (counts, not densities: divide by the side's total to compare).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Reference and current counts over the same bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Histogram {
    /// Equal-width bins over the range of both sides' finite values: bin `i` is
    /// `[edges[i], edges[i+1])`, the last one closed. `edges` has one more entry than the
    /// count vectors.
    Numeric {
        edges: Vec<f64>,
        reference: Vec<u64>,
        current: Vec<u64>,
    },
    /// One bin per category, most frequent (both sides together) first. When there are
    /// more categories than bins, the last bin pools the `pooled` least frequent ones
    /// and is labelled `(N others)`.
    Categorical {
        categories: Vec<String>,
        reference: Vec<u64>,
        current: Vec<u64>,
        pooled: usize,
    },
}

impl Histogram {
    /// For plotting: a label per bin (`a–b` for a numeric bin, the category otherwise),
    /// then the reference and current counts.
    pub fn bins(&self) -> (Vec<String>, &[u64], &[u64]) {
        match self {
            Histogram::Numeric {
                edges,
                reference,
                current,
            } => (
                edges
                    .windows(2)
                    .map(|pair| format!("{}–{}", edge_label(pair[0]), edge_label(pair[1])))
                    .collect(),
                reference,
                current,
            ),
            Histogram::Categorical {
                categories,
                reference,
                current,
                ..
            } => (categories.clone(), reference, current),
        }
    }

    /// Shared equal-width bins over two sorted samples of finite values; `None` when
    /// both are empty.
    pub(crate) fn numeric(reference: &[f64], current: &[f64], n_bins: usize) -> Option<Self> {
        let low = [reference.first(), current.first()]
            .into_iter()
            .flatten()
            .copied()
            .reduce(f64::min)?;
        let high = [reference.last(), current.last()]
            .into_iter()
            .flatten()
            .copied()
            .reduce(f64::max)?;
        let n_bins = if high > low { n_bins.max(1) } else { 1 };
        let width = (high - low) / n_bins as f64;
        let mut edges: Vec<f64> = (0..n_bins).map(|i| low + width * i as f64).collect();
        edges.push(high);
        let counts = |values: &[f64]| -> Vec<u64> {
            let below: Vec<usize> = edges[..n_bins]
                .iter()
                .map(|&edge| values.partition_point(|&value| value < edge))
                .chain(std::iter::once(values.len()))
                .collect();
            below
                .windows(2)
                .map(|pair| (pair[1] - pair[0]) as u64)
                .collect()
        };
        Some(Histogram::Numeric {
            reference: counts(reference),
            current: counts(current),
            edges,
        })
    }

    /// One bin per category, at most `n_bins` (the last pooling the rest).
    pub(crate) fn categorical(
        reference: &BTreeMap<String, u64>,
        current: &BTreeMap<String, u64>,
        n_bins: usize,
    ) -> Self {
        let mut rows: Vec<(&str, u64, u64)> = reference
            .keys()
            .chain(current.keys())
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<&str>>()
            .into_iter()
            .map(|category| {
                let of = |side: &BTreeMap<String, u64>| side.get(category).copied().unwrap_or(0);
                (category, of(reference), of(current))
            })
            .collect();
        rows.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(b.0)));
        let n_bins = n_bins.max(1);
        let pooled = if rows.len() > n_bins {
            rows.len() - (n_bins - 1)
        } else {
            0
        };
        let shown = rows.len() - pooled;
        let mut categories: Vec<String> =
            rows[..shown].iter().map(|row| row.0.to_owned()).collect();
        let mut reference_counts: Vec<u64> = rows[..shown].iter().map(|row| row.1).collect();
        let mut current_counts: Vec<u64> = rows[..shown].iter().map(|row| row.2).collect();
        if pooled > 0 {
            categories.push(format!("({pooled} others)"));
            reference_counts.push(rows[shown..].iter().map(|row| row.1).sum());
            current_counts.push(rows[shown..].iter().map(|row| row.2).sum());
        }
        Histogram::Categorical {
            categories,
            reference: reference_counts,
            current: current_counts,
            pooled,
        }
    }
}

/// A bin edge, short: two decimals, or two significant digits in scientific notation
/// when very large or small.
fn edge_label(value: f64) -> String {
    if value != 0.0 && (value.abs() >= 1e5 || value.abs() < 1e-2) {
        format!("{value:.1e}")
    } else {
        format!("{}", (value * 100.0).round() / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_bins_share_edges_and_keep_every_value() {
        let histogram = Histogram::numeric(&[0.0, 1.0, 2.0], &[2.0, 4.0], 4).expect("values");
        let Histogram::Numeric {
            edges,
            reference,
            current,
        } = histogram
        else {
            panic!("numeric histogram expected")
        };
        assert_eq!(edges, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(reference, vec![1, 1, 1, 0]);
        assert_eq!(current, vec![0, 0, 1, 1]);
        assert!(Histogram::numeric(&[], &[], 4).is_none());
        let constant = Histogram::numeric(&[3.0, 3.0], &[], 10).expect("values");
        assert!(
            matches!(constant, Histogram::Numeric { edges, reference, .. } if edges == [3.0, 3.0] && reference == [2])
        );
    }

    #[test]
    fn categorical_bins_pool_the_least_frequent() {
        let reference = BTreeMap::from([("a".to_owned(), 5), ("b".to_owned(), 1)]);
        let current = BTreeMap::from([("c".to_owned(), 2), ("b".to_owned(), 1)]);
        let histogram = Histogram::categorical(&reference, &current, 2);
        assert_eq!(
            histogram,
            Histogram::Categorical {
                categories: vec!["a".into(), "(2 others)".into()],
                reference: vec![5, 1],
                current: vec![0, 3],
                pooled: 2,
            }
        );
    }
}
