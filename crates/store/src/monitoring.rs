//! Monitoring's records: labels joined to the prediction log by request id, the closed
//! windows of each serving version, and the alerts raised from them.

use std::collections::{BTreeMap, BTreeSet};

use bascule_core::{
    Alert, AlertState, Error, Label, LabelReceipt, LabelSummary, LoggedPrediction, Millis,
    NewWindow, PendingPredictions, Role, RuleOutcome, StoredWindow, parse_generated_request_id,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

use crate::batch::{ROWS_PER_STATEMENT, insert_rows, placeholder_list};
use crate::error::{Result, parse_stored};
use crate::predictions::{self, Filter, Order};
use crate::{SqlMetadataStore, now_millis};

/// How many unknown request ids a receipt quotes.
const UNKNOWN_EXAMPLES: usize = 10;

/// Stores labels (a later label of the same request replaces the earlier one) and says how
/// many match no logged prediction of the model.
pub(crate) async fn insert_labels(
    store: &SqlMetadataStore,
    name: &str,
    labels: &[Label],
) -> Result<LabelReceipt> {
    // The last label of a request in the batch wins, as it would over two calls.
    let mut latest: BTreeMap<&str, f64> = BTreeMap::new();
    for label in labels {
        if !label.label.is_finite() {
            return Err(Error::invalid(format!(
                "the label of request '{}' is not a finite number",
                label.request_id
            ))
            .into());
        }
        latest.insert(label.request_id.as_str(), label.label);
    }
    let ids: Vec<&str> = latest.keys().copied().collect();
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    let existing = ids_present(&mut tx, "labels", name, &ids).await?;
    let rows: Vec<(&str, f64)> = latest.into_iter().collect();
    insert_rows(
        &mut tx,
        "INSERT INTO labels (name, request_id, label, received_time, id_prefix, id_counter)",
        "ON CONFLICT (name, request_id) DO UPDATE SET label = excluded.label, \
         received_time = excluded.received_time",
        6,
        &rows,
        |arguments, (request_id, label)| {
            let generated = parse_generated_request_id(request_id);
            arguments.add(name)?;
            arguments.add(*request_id)?;
            arguments.add(*label)?;
            arguments.add(now)?;
            arguments.add(generated.map(|(prefix, _)| prefix))?;
            arguments.add(generated.map(|(_, counter)| counter))
        },
    )
    .await?;
    // Through the labels just stored, which is how every reader joins them.
    let logged = ids_present(&mut tx, "labelled_predictions", name, &ids).await?;
    tx.commit().await?;
    let unknown: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !logged.contains(*id))
        .collect();
    Ok(LabelReceipt {
        stored: rows.len() as u64,
        replaced: existing.len() as u64,
        unknown: unknown.len() as u64,
        unknown_examples: unknown
            .iter()
            .take(UNKNOWN_EXAMPLES)
            .map(|id| (*id).to_owned())
            .collect(),
    })
}

/// Which of `ids` occur as request ids of the model in `table`.
async fn ids_present(
    connection: &mut AnyConnection,
    table: &str,
    name: &str,
    ids: &[&str],
) -> Result<BTreeSet<String>> {
    let mut present = BTreeSet::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT - 1) {
        let mut arguments = AnyArguments::default();
        arguments.add(name).map_err(sqlx::Error::Encode)?;
        for id in chunk {
            arguments.add(*id).map_err(sqlx::Error::Encode)?;
        }
        let sql = format!(
            "SELECT DISTINCT request_id FROM {table} WHERE name = $1 AND request_id IN ({})",
            placeholder_list(chunk.len(), 1)
        );
        let rows: Vec<String> = sqlx::query_scalar_with(&sql, arguments)
            .fetch_all(&mut *connection)
            .await?;
        present.extend(rows);
    }
    Ok(present)
}

pub(crate) async fn label_summary(store: &SqlMetadataStore, name: &str) -> Result<LabelSummary> {
    let row = sqlx::query(
        "SELECT COUNT(*), \
                (SELECT COUNT(DISTINCT request_id) FROM labelled_predictions WHERE name = $1), \
                MAX(received_time) \
         FROM labels WHERE name = $1",
    )
    .bind(name)
    .fetch_one(&store.pool)
    .await?;
    let labels: i64 = row.try_get(0)?;
    let matched: i64 = row.try_get(1)?;
    Ok(LabelSummary {
        labels: labels as u64,
        matched: matched as u64,
        unmatched: (labels - matched) as u64,
        last_received: row.try_get(2)?,
    })
}

/// The predictions of a version and role with ids in `(after, ..]`, oldest first, at most
/// `limit`, each with its label when one arrived.
pub(crate) async fn predictions_after(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    role: Role,
    after: i64,
    limit: i64,
) -> Result<Vec<LoggedPrediction>> {
    let filter = stream(version, role);
    let limit = limit.max(0) as usize;
    let records = predictions::walk(store, name, filter, (after, None), limit, Order::Oldest);
    let records = records.await?;
    predictions::with_labels(store, name, records).await
}

fn stream(version: i64, role: Role) -> Filter {
    Filter {
        version: Some(version),
        role: Some(role),
        answered_only: false,
    }
}

/// How many predictions of a version and role follow `after` (up to `limit`), and the
/// first one's time, from the segments' rows: at most one segment, the one `after` falls
/// in, is decoded.
pub(crate) async fn pending_predictions(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    role: Role,
    after: i64,
    limit: i64,
) -> Result<PendingPredictions> {
    let count: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(CASE WHEN first_id > $4 THEN last_id - first_id + 1                                        ELSE last_id - $4 END), 0) AS BIGINT)          FROM prediction_segments          WHERE name = $1 AND version = $2 AND role = $3 AND last_id > $4",
    )
    .bind(name)
    .bind(version)
    .bind(role.as_str())
    .bind(after)
    .fetch_one(&store.pool)
    .await?;
    let first = predictions::first_segment_after(store, name, stream(version, role), after);
    let Some(first) = first.await? else {
        return Ok(PendingPredictions::default());
    };
    let first_id: i64 = first.try_get(0)?;
    let oldest_time = if first_id > after {
        first.try_get(4)?
    } else {
        // `after` falls inside this segment: the first record past it is in its body.
        let (_, _, records) = predictions::decode_row(name, &first)?;
        let next = records.into_iter().find(|(id, _)| *id > after);
        next.map_or(first.try_get(4)?, |(_, record)| record.time)
    };
    Ok(PendingPredictions {
        count: count.clamp(0, limit.max(0)) as u64,
        oldest_time: Some(oldest_time),
    })
}

/// The first id after `after` of the version and role's first segment stamped at or after
/// `time` (a segment's time is its first record's): from the segments' rows, walking the
/// stream's index from `after`.
pub(crate) async fn first_prediction_since(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    role: Role,
    after: i64,
    time: Millis,
) -> Result<Option<i64>> {
    let first: Option<i64> = sqlx::query_scalar(
        "SELECT first_id FROM prediction_segments \
         WHERE name = $1 AND version = $2 AND role = $3 AND last_id > $4 AND first_time >= $5 \
         ORDER BY last_id LIMIT 1",
    )
    .bind(name)
    .bind(version)
    .bind(role.as_str())
    .bind(after)
    .bind(time)
    .fetch_optional(&store.pool)
    .await?;
    // A segment `after` falls inside resumes right after it.
    Ok(first.map(|first| first.max(after + 1)))
}

/// The predictions of a window, with their labels.
pub(crate) async fn window_predictions(
    store: &SqlMetadataStore,
    window: &StoredWindow,
) -> Result<Vec<LoggedPrediction>> {
    let filter = stream(window.version, window.role);
    let range = (window.first_prediction - 1, Some(window.last_prediction));
    let records = predictions::walk(
        store,
        &window.name,
        filter,
        range,
        usize::MAX,
        Order::Oldest,
    );
    let records = records.await?;
    predictions::with_labels(store, &window.name, records).await
}

const WINDOW_COLUMNS: &str = "id, name, version, role, first_prediction, last_prediction, \
                              start_time, end_time, n_predictions, n_labelled, drift_share, \
                              report, computed_time";

/// Stores a closed window; `None` when another replica stored the same window first.
pub(crate) async fn insert_window(
    store: &SqlMetadataStore,
    window: NewWindow,
) -> Result<Option<StoredWindow>> {
    let now = now_millis();
    let sql = format!(
        "INSERT INTO monitor_windows (name, version, role, first_prediction, last_prediction, \
             start_time, end_time, n_predictions, n_labelled, drift_share, report, computed_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (name, version, role, first_prediction) DO NOTHING \
         RETURNING {WINDOW_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&window.name)
        .bind(window.version)
        .bind(window.role.as_str())
        .bind(window.first_prediction)
        .bind(window.last_prediction)
        .bind(window.start_time)
        .bind(window.end_time)
        .bind(window.n_predictions)
        .bind(window.n_labelled)
        .bind(window.drift_share)
        .bind(&window.report)
        .bind(now)
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(window_from_row).transpose()
}

/// Replaces a window's report after labels for its predictions arrived.
pub(crate) async fn update_window(
    store: &SqlMetadataStore,
    id: i64,
    n_labelled: i64,
    report: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE monitor_windows SET n_labelled = $1, report = $2, computed_time = $3 \
         WHERE id = $4",
    )
    .bind(n_labelled)
    .bind(report)
    .bind(now_millis())
    .bind(id)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// The newest window of a version and role: where the next one starts.
pub(crate) async fn last_window(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    role: Role,
) -> Result<Option<StoredWindow>> {
    let sql = format!(
        "SELECT {WINDOW_COLUMNS} FROM monitor_windows \
         WHERE name = $1 AND version = $2 AND role = $3 ORDER BY last_prediction DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(name)
        .bind(version)
        .bind(role.as_str())
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(window_from_row).transpose()
}

/// A model's windows, newest first (of one version when given).
pub(crate) async fn list_windows(
    store: &SqlMetadataStore,
    name: &str,
    version: Option<i64>,
    limit: i64,
) -> Result<Vec<StoredWindow>> {
    let mut arguments = AnyArguments::default();
    arguments.add(name).map_err(sqlx::Error::Encode)?;
    arguments.add(limit.max(0)).map_err(sqlx::Error::Encode)?;
    let condition = match version {
        Some(version) => {
            arguments.add(version).map_err(sqlx::Error::Encode)?;
            "name = $1 AND version = $3"
        }
        None => "name = $1",
    };
    let sql = format!(
        "SELECT {WINDOW_COLUMNS} FROM monitor_windows WHERE {condition} ORDER BY id DESC LIMIT $2"
    );
    let rows = sqlx::query_with(&sql, arguments)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(window_from_row).collect()
}

pub(crate) async fn get_window(
    store: &SqlMetadataStore,
    name: &str,
    id: i64,
) -> Result<StoredWindow> {
    let sql = format!("SELECT {WINDOW_COLUMNS} FROM monitor_windows WHERE name = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(name)
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    match row {
        Some(row) => window_from_row(&row),
        None => Err(Error::not_found("monitoring window", format!("{name}/{id}")).into()),
    }
}

/// The model's windows holding a prediction whose label arrived at or after the window's
/// report was computed, considering labels received at or after `since`.
pub(crate) async fn windows_with_new_labels(
    store: &SqlMetadataStore,
    name: &str,
    since: Millis,
) -> Result<Vec<StoredWindow>> {
    let sql = format!(
        "SELECT {WINDOW_COLUMNS} FROM monitor_windows w WHERE w.name = $1 AND EXISTS ( \
             SELECT 1 FROM labelled_predictions p \
             WHERE p.name = w.name AND p.received_time >= $2 \
               AND p.received_time >= w.computed_time \
               AND p.version = w.version AND p.role = w.role \
               AND p.prediction_id BETWEEN w.first_prediction AND w.last_prediction) \
         ORDER BY w.id"
    );
    let rows = sqlx::query(&sql)
        .bind(name)
        .bind(since)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(window_from_row).collect()
}

fn window_from_row(row: &AnyRow) -> Result<StoredWindow> {
    let role: String = row.try_get(3)?;
    Ok(StoredWindow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        version: row.try_get(2)?,
        role: parse_stored("monitor_windows.role", &role, |r| r.parse().ok())?,
        first_prediction: row.try_get(4)?,
        last_prediction: row.try_get(5)?,
        start_time: row.try_get(6)?,
        end_time: row.try_get(7)?,
        n_predictions: row.try_get(8)?,
        n_labelled: row.try_get(9)?,
        drift_share: row.try_get(10)?,
        report: row.try_get(11)?,
        computed_time: row.try_get(12)?,
    })
}

pub(crate) const ALERT_COLUMNS: &str = "id, name, version, rule, severity, state, message, value, \
                             threshold, window_id, last_window_id, opened_time, updated_time, \
                             resolved_time, feedback_id";

/// Applies one window's rule outcomes in one transaction: a firing rule opens an alert, or
/// extends the open one (deduplicated while the condition holds); a rule that no longer
/// fires resolves its open alert. Returns the alerts opened, extended or resolved.
pub(crate) async fn apply_rule_outcomes(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    window_id: i64,
    outcomes: &[RuleOutcome],
) -> Result<Vec<Alert>> {
    let now = now_millis();
    let open_sql = format!(
        "INSERT INTO alerts (name, version, rule, severity, state, message, value, \
             threshold, window_id, last_window_id, opened_time, updated_time) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $8, $9, $9) \
         RETURNING {ALERT_COLUMNS}"
    );
    let extend_sql = format!(
        "UPDATE alerts SET message = $1, value = $2, last_window_id = $3, \
             updated_time = $4 WHERE id = $5 RETURNING {ALERT_COLUMNS}"
    );
    let resolve_sql = format!(
        "UPDATE alerts SET state = 'resolved', resolved_time = $1, updated_time = $1 \
         WHERE id = $2 RETURNING {ALERT_COLUMNS}"
    );
    let mut tx = store.begin_write().await?;
    let mut changed = Vec::new();
    for outcome in outcomes {
        let open = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM alerts WHERE name = $1 AND version = $2 AND rule = $3 \
             AND state = 'open'",
        )
        .bind(name)
        .bind(version)
        .bind(&outcome.rule)
        .fetch_optional(&mut *tx)
        .await?;
        let statement = match (open, outcome.firing) {
            (None, false) => continue,
            (None, true) => sqlx::query(&open_sql)
                .bind(name)
                .bind(version)
                .bind(&outcome.rule)
                .bind(outcome.severity.as_str())
                .bind(&outcome.message)
                .bind(outcome.value)
                .bind(outcome.threshold)
                .bind(window_id)
                .bind(now),
            (Some(id), true) => sqlx::query(&extend_sql)
                .bind(&outcome.message)
                .bind(outcome.value)
                .bind(window_id)
                .bind(now)
                .bind(id),
            (Some(id), false) => sqlx::query(&resolve_sql).bind(now).bind(id),
        };
        let row = statement.fetch_one(&mut *tx).await?;
        changed.push(alert_from_row(&row)?);
    }
    tx.commit().await?;
    Ok(changed)
}

/// The arguments and condition of a newest-first listing (`LIMIT $1`) of one model and in
/// one state when given (alerts, feedback items).
pub(crate) fn newest_first<'q>(
    limit: i64,
    name: Option<&'q str>,
    state: Option<&'q str>,
) -> Result<(AnyArguments<'q>, String)> {
    let mut arguments = AnyArguments::default();
    arguments.add(limit.max(0)).map_err(sqlx::Error::Encode)?;
    let mut conditions = vec!["TRUE".to_owned()];
    if let Some(name) = name {
        arguments.add(name).map_err(sqlx::Error::Encode)?;
        conditions.push(format!("name = ${}", arguments.len()));
    }
    if let Some(state) = state {
        arguments.add(state).map_err(sqlx::Error::Encode)?;
        conditions.push(format!("state = ${}", arguments.len()));
    }
    Ok((arguments, conditions.join(" AND ")))
}

/// Alerts, newest first, of one model and in one state when given.
pub(crate) async fn list_alerts(
    store: &SqlMetadataStore,
    name: Option<&str>,
    state: Option<AlertState>,
    limit: i64,
) -> Result<Vec<Alert>> {
    let (arguments, condition) = newest_first(limit, name, state.map(AlertState::as_str))?;
    let sql =
        format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE {condition} ORDER BY id DESC LIMIT $1");
    let rows = sqlx::query_with(&sql, arguments)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(alert_from_row).collect()
}

pub(crate) async fn get_alert(store: &SqlMetadataStore, id: i64) -> Result<Alert> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    match row {
        Some(row) => alert_from_row(&row),
        None => Err(Error::not_found("alert", id).into()),
    }
}

pub(crate) fn alert_from_row(row: &AnyRow) -> Result<Alert> {
    let severity: String = row.try_get(4)?;
    let state: String = row.try_get(5)?;
    Ok(Alert {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        version: row.try_get(2)?,
        rule: row.try_get(3)?,
        severity: parse_stored("alerts.severity", &severity, |s| s.parse().ok())?,
        state: parse_stored("alerts.state", &state, |s| s.parse().ok())?,
        message: row.try_get(6)?,
        value: row.try_get(7)?,
        threshold: row.try_get(8)?,
        window_id: row.try_get(9)?,
        last_window_id: row.try_get(10)?,
        opened_time: row.try_get(11)?,
        updated_time: row.try_get(12)?,
        resolved_time: row.try_get(13)?,
        feedback_id: row.try_get(14)?,
    })
}
