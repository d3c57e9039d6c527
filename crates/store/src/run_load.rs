//! Loading runs with their latest metrics, params and tags in one query, whatever the
//! selection: each run is one row carrying its children as three JSON arrays built by the
//! database. On SQLite every row crosses from the connection's thread to the async task
//! one at a time, and that hand-over, not the SQL, was most of a search's time: a page of
//! 100 runs with two metrics, a param and two tags was 600 rows in four queries, now 100
//! in one.

use bascule_core::{Error, LifecycleState, Metric, Param, Run, RunStatus, Tag, ViewType};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

use crate::batch::{is_sqlite, placeholder_list};
use crate::error::{Result, parse_stored};
use crate::experiments::view_condition;

/// Which runs a load selects.
pub(crate) enum Select<'a> {
    Id(&'a str),
    Experiment(i64, ViewType),
    /// These runs (at most `batch::ROWS_PER_STATEMENT`), in any order.
    Ids(&'a [String]),
}

impl Select<'_> {
    fn condition(&self) -> String {
        match self {
            Select::Id(_) => "r.run_uuid = $1".to_owned(),
            Select::Experiment(_, view) => {
                format!("r.experiment_id = $1 AND {}", view_condition(*view))
            }
            Select::Ids(run_ids) => {
                format!(
                    "r.run_uuid IN ({})",
                    placeholder_list(run_ids.len().max(1), 0)
                )
            }
        }
    }

    fn arguments(&self) -> Result<AnyArguments<'_>> {
        let mut arguments = AnyArguments::default();
        match self {
            Select::Id(run_id) => arguments.add(*run_id),
            Select::Experiment(experiment_id, _) => arguments.add(*experiment_id),
            Select::Ids([]) => arguments.add(""),
            Select::Ids(run_ids) => run_ids
                .iter()
                .try_for_each(|run_id| arguments.add(run_id.as_str())),
        }
        .map_err(sqlx::Error::Encode)?;
        Ok(arguments)
    }
}

/// `(SELECT <JSON array of one array per row> FROM {table} c WHERE c.run_uuid = r.run_uuid)`
/// in the connection's dialect. Values go as text where JSON would lose them: SQLite's
/// JSON writes doubles with 15 digits, `printf('%!.17g')` with the 17 that round-trip.
fn children(sqlite: bool, table: &str, columns: &[&str]) -> String {
    let (aggregate, array) = if sqlite {
        ("json_group_array", "json_array")
    } else {
        ("json_agg", "json_build_array")
    };
    let columns: Vec<String> = columns
        .iter()
        .map(|column| match (*column, sqlite) {
            ("value_real", true) => "printf('%!.17g', c.value)".to_owned(),
            ("value_real", false) => "c.value::text".to_owned(),
            (column, _) => format!("c.{column}"),
        })
        .collect();
    let aggregate = format!(
        "(SELECT {aggregate}({array}({})) FROM {table} c WHERE c.run_uuid = r.run_uuid)",
        columns.join(", ")
    );
    if sqlite {
        aggregate
    } else {
        // PostgreSQL's json is not a type sqlx's Any driver reads; its text is.
        format!("{aggregate}::text")
    }
}

/// Loads the selected runs, newest first, with their latest metrics, params and tags
/// (each sorted by key).
pub(crate) async fn load(connection: &mut AnyConnection, select: Select<'_>) -> Result<Vec<Run>> {
    let sqlite = is_sqlite(connection);
    let metric_columns = ["key", "value_real", "is_nan", "timestamp", "step"];
    let sql = format!(
        "SELECT r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, \
                r.end_time, r.artifact_uri, r.lifecycle_stage, {}, {}, {} \
         FROM runs r WHERE {} ORDER BY r.start_time DESC, r.run_uuid",
        children(sqlite, "latest_metrics", &metric_columns),
        children(sqlite, "params", &["key", "value"]),
        children(sqlite, "run_tags", &["key", "value"]),
        select.condition()
    );
    sqlx::query_with(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?
        .iter()
        .map(run_from_row)
        .collect()
}

fn run_from_row(row: &AnyRow) -> Result<Run> {
    let status: String = row.try_get(4)?;
    let lifecycle_stage: String = row.try_get(8)?;
    let mut metrics = metric_rows(row, 9)?
        .into_iter()
        .map(|(key, value, is_nan, timestamp, step)| {
            Ok(Metric {
                value: if is_nan == 1 {
                    f64::NAN
                } else {
                    parse_value(&value)?
                },
                key,
                timestamp,
                step,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    metrics.sort_by(|a, b| a.key.cmp(&b.key));
    let mut params: Vec<Param> = key_values(row, 10)?
        .into_iter()
        .map(|(key, value)| Param { key, value })
        .collect();
    params.sort_by(|a, b| a.key.cmp(&b.key));
    let mut tags: Vec<Tag> = key_values(row, 11)?
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect();
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Run {
        run_id: row.try_get(0)?,
        experiment_id: row.try_get(1)?,
        run_name: row.try_get(2)?,
        user_id: row.try_get(3)?,
        status: parse_stored("runs.status", &status, RunStatus::parse)?,
        start_time: row.try_get(5)?,
        end_time: row.try_get(6)?,
        artifact_uri: row.try_get(7)?,
        lifecycle_stage: parse_stored(
            "runs.lifecycle_stage",
            &lifecycle_stage,
            LifecycleState::parse,
        )?,
        metrics,
        params,
        tags,
    })
}

/// A metric row of the JSON array: key, value as text, is_nan, timestamp, step.
type MetricRow = (String, String, i64, i64, i64);

fn metric_rows(row: &AnyRow, index: usize) -> Result<Vec<MetricRow>> {
    json_column(row, index, |text| serde_json::from_str(text))
}

fn key_values(row: &AnyRow, index: usize) -> Result<Vec<(String, String)>> {
    json_column(row, index, |text| serde_json::from_str(text))
}

/// A JSON array column; NULL (PostgreSQL's aggregate of no rows) is empty.
fn json_column<T>(
    row: &AnyRow,
    index: usize,
    parse: impl FnOnce(&str) -> serde_json::Result<Vec<T>>,
) -> Result<Vec<T>> {
    match row.try_get::<Option<String>, _>(index)? {
        None => Ok(Vec::new()),
        Some(text) => parse(&text).map_err(|error| {
            Error::internal("the database returned a malformed run child array", error).into()
        }),
    }
}

/// A stored double written as text by either database (`Inf` is SQLite's infinity,
/// `Infinity` PostgreSQL's).
fn parse_value(text: &str) -> Result<f64> {
    match text {
        "Inf" | "Infinity" => Ok(f64::INFINITY),
        "-Inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => text.parse().map_err(|error| {
            Error::internal(
                format!("stored metric value '{text}' is not a number"),
                error,
            )
            .into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_parse_in_both_spellings() {
        assert_eq!(
            parse_value("0.12345678901234568").ok(),
            Some(0.123_456_789_012_345_68)
        );
        assert_eq!(parse_value("Inf").ok(), Some(f64::INFINITY));
        assert_eq!(parse_value("-Infinity").ok(), Some(f64::NEG_INFINITY));
        assert!(parse_value("x").is_err());
    }

    #[test]
    fn children_are_aggregated_in_each_dialect() {
        let sqlite = children(true, "latest_metrics", &["key", "value_real"]);
        assert_eq!(
            sqlite,
            "(SELECT json_group_array(json_array(c.key, printf('%!.17g', c.value))) \
             FROM latest_metrics c WHERE c.run_uuid = r.run_uuid)"
        );
        let postgres = children(false, "params", &["key", "value"]);
        assert!(postgres.starts_with("(SELECT json_agg(json_build_array(c.key, c.value))"));
        assert!(postgres.ends_with(")::text"));
    }
}
