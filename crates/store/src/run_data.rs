//! What a run logs: params (immutable), metrics (the full history plus the latest point of
//! each key) and tags, in one transaction per batch.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use bascule_core::{Error, Metric, Param, Tag};
use sqlx::{AnyConnection, Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::{ROWS_PER_STATEMENT, insert_rows, last_value_per_key, placeholder_list};
use crate::error::Result;
use crate::runs::{RUN_NAME_TAG, insert_tags, metric_from_row, require_active};

/// A metric as stored: NaN becomes value 0 with the `is_nan` flag (SQLite cannot store NaN).
#[derive(Debug, Clone, Copy)]
struct StoredMetric<'a> {
    key: &'a str,
    value: f64,
    is_nan: i64,
    timestamp: i64,
    step: i64,
}

impl<'a> StoredMetric<'a> {
    fn new(metric: &'a Metric) -> Self {
        let is_nan = metric.value.is_nan();
        StoredMetric {
            key: &metric.key,
            value: if is_nan { 0.0 } else { metric.value },
            is_nan: i64::from(is_nan),
            timestamp: metric.timestamp,
            step: metric.step,
        }
    }

    /// MLflow's order for "latest": largest step, then timestamp, then value. The same
    /// comparison guards the `latest_metrics` upsert below.
    fn is_later_than(&self, other: &StoredMetric<'_>) -> bool {
        (self.step, self.timestamp, self.value) > (other.step, other.timestamp, other.value)
    }
}

/// Logs a batch atomically: a param that changes value refuses the whole batch.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(run_id = %run_id, n_metrics = metrics.len(), n_params = params.len(), n_tags = tags.len())
)]
pub(crate) async fn log_batch(
    store: &SqlMetadataStore,
    run_id: &str,
    metrics: &[Metric],
    params: &[Param],
    tags: &[Tag],
) -> Result<()> {
    let params = distinct_params(run_id, params)?;
    let tags = last_value_per_key(tags);
    let mut tx = store.begin_write().await?;
    require_active(&mut tx, run_id).await?;
    if !params.is_empty() {
        log_params(&mut tx, run_id, &params).await?;
    }
    if !metrics.is_empty() {
        log_metrics(&mut tx, run_id, metrics).await?;
    }
    if !tags.is_empty() {
        insert_tags(&mut tx, run_id, &tags).await?;
        if let Some(name_tag) = tags.iter().find(|tag| tag.key == RUN_NAME_TAG) {
            sqlx::query("UPDATE runs SET name = $1 WHERE run_uuid = $2")
                .bind(name_tag.value.as_str())
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The batch's params, one per key; a key given twice with different values is refused.
fn distinct_params<'a>(run_id: &str, params: &'a [Param]) -> Result<Vec<&'a Param>> {
    let mut by_key: BTreeMap<&str, &Param> = BTreeMap::new();
    for param in params {
        match by_key.entry(&param.key) {
            Entry::Vacant(entry) => {
                entry.insert(param);
            }
            Entry::Occupied(entry) if entry.get().value != param.value => {
                return Err(Error::invalid(format!(
                    "param '{}' is given twice for run {run_id}, as '{}' and as '{}'",
                    param.key,
                    entry.get().value,
                    param.value
                ))
                .into());
            }
            Entry::Occupied(_) => {}
        }
    }
    Ok(by_key.into_values().collect())
}

/// Inserts new params, then checks that every key already logged has the same value. In
/// that order, a concurrent batch logging the same key cannot slip past the check.
async fn log_params(connection: &mut AnyConnection, run_id: &str, params: &[&Param]) -> Result<()> {
    let insert = "INSERT INTO params (run_uuid, key, value)";
    let n_inserted = insert_rows(
        connection,
        insert,
        "ON CONFLICT DO NOTHING",
        3,
        params,
        |arguments, param| {
            arguments.add(run_id)?;
            arguments.add(param.key.as_str())?;
            arguments.add(param.value.as_str())
        },
    )
    .await?;
    if n_inserted == params.len() as u64 {
        return Ok(());
    }
    for chunk in params.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT key, value FROM params WHERE run_uuid = $1 AND key IN ({})",
            placeholder_list(chunk.len(), 1)
        );
        let mut query = sqlx::query(&sql).bind(run_id);
        for param in chunk {
            query = query.bind(param.key.as_str());
        }
        let stored: BTreeMap<String, String> = query
            .fetch_all(&mut *connection)
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_>>()?;
        for param in chunk {
            if let Some(old_value) = stored.get(&param.key)
                && *old_value != param.value
            {
                return Err(Error::invalid(format!(
                    "param '{}' of run {run_id} was already logged with value '{old_value}' \
                     and cannot change to '{}': params are immutable",
                    param.key, param.value
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// Appends the metrics to their history (an exact repeat is kept once) and moves each
/// key's latest point forward if the batch has a later one.
async fn log_metrics(
    connection: &mut AnyConnection,
    run_id: &str,
    metrics: &[Metric],
) -> Result<()> {
    let stored: Vec<StoredMetric<'_>> = metrics.iter().map(StoredMetric::new).collect();
    let insert = "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan)";
    insert_rows(
        connection,
        insert,
        "ON CONFLICT DO NOTHING",
        6,
        &stored,
        |arguments, metric| bind_metric(arguments, run_id, metric),
    )
    .await?;

    // One row per key: a single upsert statement may not touch a row twice.
    let mut latest: BTreeMap<&str, StoredMetric<'_>> = BTreeMap::new();
    for metric in &stored {
        match latest.entry(metric.key) {
            Entry::Vacant(entry) => {
                entry.insert(*metric);
            }
            Entry::Occupied(mut entry) if metric.is_later_than(entry.get()) => {
                entry.insert(*metric);
            }
            Entry::Occupied(_) => {}
        }
    }
    let latest: Vec<StoredMetric<'_>> = latest.into_values().collect();
    let insert = "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan)";
    let on_conflict = "ON CONFLICT (run_uuid, key) DO UPDATE SET \
            step = excluded.step, timestamp = excluded.timestamp, \
            value = excluded.value, is_nan = excluded.is_nan \
        WHERE (excluded.step, excluded.timestamp, excluded.value) \
            > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)";
    insert_rows(
        connection,
        insert,
        on_conflict,
        6,
        &latest,
        |arguments, metric| bind_metric(arguments, run_id, metric),
    )
    .await?;
    Ok(())
}

fn bind_metric<'a>(
    arguments: &mut sqlx::any::AnyArguments<'a>,
    run_id: &'a str,
    metric: &StoredMetric<'a>,
) -> Result<(), sqlx::error::BoxDynError> {
    arguments.add(run_id)?;
    arguments.add(metric.key)?;
    arguments.add(metric.step)?;
    arguments.add(metric.timestamp)?;
    arguments.add(metric.value)?;
    arguments.add(metric.is_nan)
}

pub(crate) async fn delete_tag(store: &SqlMetadataStore, run_id: &str, key: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_active(&mut tx, run_id).await?;
    let result = sqlx::query("DELETE FROM run_tags WHERE run_uuid = $1 AND key = $2")
        .bind(run_id)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("run tag", key).into());
    }
    tx.commit().await?;
    Ok(())
}

/// Every logged point of one metric, by step, then timestamp, then value.
pub(crate) async fn metric_history(
    store: &SqlMetadataStore,
    run_id: &str,
    key: &str,
) -> Result<Vec<Metric>> {
    let mut connection = store.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT key, value, is_nan, timestamp, step FROM metrics \
         WHERE run_uuid = $1 AND key = $2 ORDER BY step, timestamp, value",
    )
    .bind(run_id)
    .bind(key)
    .fetch_all(&mut *connection)
    .await?;
    if rows.is_empty() {
        let run = sqlx::query("SELECT 1 FROM runs WHERE run_uuid = $1")
            .bind(run_id)
            .fetch_optional(&mut *connection)
            .await?;
        if run.is_none() {
            return Err(Error::not_found("run", run_id).into());
        }
    }
    rows.iter().map(|row| metric_from_row(row, 0)).collect()
}
