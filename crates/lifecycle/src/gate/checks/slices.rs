//! Per-slice metrics: the rows grouped by the values of a column (or by buckets of a
//! numeric one), each group held to its thresholds, groups under the minimum size
//! reported and not judged.

use std::collections::BTreeMap;

use bascule_datasets::{ColumnValues, Frame};

use super::{metric_values, threshold_checks};
use crate::gate::GateError;
use crate::gate::metrics::{Evaluation, MetricName};
use crate::gate::policy::SlicePolicy;
use crate::gate::report::{CheckResult, SliceResult};

/// The most distinct values a numeric column without `edges` may have.
pub const MAX_DISTINCT_VALUES: usize = 50;

const MISSING: &str = "(missing)";

pub fn evaluate(
    frame: &Frame,
    evaluation: &Evaluation,
    slice: &SlicePolicy,
    metrics: &[MetricName],
    default_thresholds: &BTreeMap<String, f64>,
) -> Result<(Vec<SliceResult>, Vec<CheckResult>), GateError> {
    let groups = group_rows(frame, slice)?;
    let thresholds = slice.thresholds.as_ref().unwrap_or(default_thresholds);
    let mut results = Vec::new();
    let mut checks = Vec::new();
    for (label, rows) in groups {
        let judged = rows.len() >= slice.min_size;
        let values = metric_values(&evaluation.subset(&rows), metrics);
        let place = format!("slice {} = {label}: ", slice.column);
        if judged {
            checks.extend(threshold_checks(&place, &values, thresholds));
        } else if !thresholds.is_empty() {
            checks.push(CheckResult::reported(
                format!("{place}not judged"),
                format!(
                    "{} rows, fewer than the minimum {}",
                    rows.len(),
                    slice.min_size
                ),
            ));
        }
        results.push(SliceResult {
            column: slice.column.clone(),
            slice: label,
            rows: rows.len(),
            judged,
            metrics: values,
        });
    }
    Ok((results, checks))
}

/// Row indices per slice label, in a stable order.
fn group_rows(frame: &Frame, slice: &SlicePolicy) -> Result<Vec<(String, Vec<usize>)>, GateError> {
    let column = frame.column(&slice.column).ok_or_else(|| {
        GateError::Policy(format!(
            "slices: the data set has no column '{}' (its columns: {})",
            slice.column,
            crate::gate::features::quoted(frame.names())
        ))
    })?;
    match (&column.values, &slice.edges) {
        (ColumnValues::Text(text), _) => {
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (row, value) in text.iter().enumerate() {
                groups
                    .entry(value.unwrap_or(MISSING).to_owned())
                    .or_default()
                    .push(row);
            }
            Ok(groups.into_iter().collect())
        }
        (ColumnValues::Numeric(values), Some(edges)) => {
            let mut groups: Vec<Vec<usize>> = vec![Vec::new(); edges.len() + 2];
            for (row, &value) in values.iter().enumerate() {
                let bucket = if value.is_nan() {
                    edges.len() + 1
                } else {
                    edges.partition_point(|&edge| edge <= value)
                };
                groups[bucket].push(row);
            }
            let mut labelled = Vec::new();
            for (bucket, rows) in groups.into_iter().enumerate() {
                if rows.is_empty() {
                    continue;
                }
                let label = if bucket == edges.len() + 1 {
                    MISSING.to_owned()
                } else if bucket == 0 {
                    format!("< {}", edges[0])
                } else if bucket == edges.len() {
                    format!("≥ {}", edges[bucket - 1])
                } else {
                    format!("[{}, {})", edges[bucket - 1], edges[bucket])
                };
                labelled.push((label, rows));
            }
            Ok(labelled)
        }
        (ColumnValues::Numeric(values), None) => {
            let mut groups: BTreeMap<u64, (f64, Vec<usize>)> = BTreeMap::new();
            for (row, &value) in values.iter().enumerate() {
                let key = if value.is_nan() {
                    u64::MAX
                } else {
                    order_key(value)
                };
                groups.entry(key).or_insert((value, Vec::new())).1.push(row);
                if groups.len() > MAX_DISTINCT_VALUES {
                    return Err(GateError::Policy(format!(
                        "slices: numeric column '{}' has more than {MAX_DISTINCT_VALUES} \
                         distinct values; give bucket `edges` for it",
                        slice.column
                    )));
                }
            }
            Ok(groups
                .into_values()
                .map(|(value, rows)| {
                    let label = if value.is_nan() {
                        MISSING.to_owned()
                    } else {
                        value.to_string()
                    };
                    (label, rows)
                })
                .collect())
        }
    }
}

/// A key that sorts finite floats in numeric order.
fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}
