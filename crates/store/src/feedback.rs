//! The feedback loop's records: feedback items (at most one active per model version:
//! later alerts extend it), their append-only history, and the outbox of durable tasks
//! claimed with leases so a worker that dies leaves its task to the next one.

use bascule_core::{
    Alert, Error, FeedbackExport, FeedbackItem, FeedbackNote, FeedbackState, FeedbackUpdate,
    LoggedPrediction, Millis, NewFeedback, NewTask, Task, TaskKind, TaskOutcome,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments, Row};

use crate::error::{Result, parse_stored};
use crate::monitoring::{ALERT_COLUMNS, alert_from_row, newest_first};
use crate::predictions::{self, Filter, Order};
use crate::{SqlMetadataStore, now_millis};

const FEEDBACK_COLUMNS: &str = "id, name, version, state, summary, alert_ids, window_id, export, \
                                candidate_version, answered_by, opened_time, updated_time, \
                                resolved_time";

const TASK_COLUMNS: &str = "id, kind, target, feedback_id, event, payload, state, attempts, \
                            next_attempt_time, lease_until, last_error, last_status, output, \
                            created_time, updated_time, finished_time";

pub(crate) async fn unassigned_alerts(store: &SqlMetadataStore, limit: i64) -> Result<Vec<Alert>> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE state = 'open' AND feedback_id IS NULL \
         ORDER BY id LIMIT $1"
    );
    let rows = sqlx::query(&sql)
        .bind(limit.max(0))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(alert_from_row).collect()
}

pub(crate) async fn open_feedback(
    store: &SqlMetadataStore,
    feedback: NewFeedback,
) -> Result<(FeedbackItem, bool)> {
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    let lock = if store.is_sqlite() { "" } else { " FOR UPDATE" };
    let sql = format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback \
         WHERE name = $1 AND version = $2 AND state <> 'resolved'{lock}"
    );
    let active = sqlx::query(&sql)
        .bind(&feedback.name)
        .bind(feedback.version)
        .fetch_optional(&mut *tx)
        .await?;
    let (item, created) = match active {
        Some(row) => {
            let mut item = feedback_from_row(&row)?;
            for id in &feedback.alert_ids {
                if !item.alert_ids.contains(id) {
                    item.alert_ids.push(*id);
                }
            }
            item.window_id = feedback.window_id.or(item.window_id);
            let sql = format!(
                "UPDATE feedback SET alert_ids = $1, window_id = $2, updated_time = $3 \
                 WHERE id = $4 RETURNING {FEEDBACK_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(encode_ids(&item.alert_ids))
                .bind(item.window_id)
                .bind(now)
                .bind(item.id)
                .fetch_one(&mut *tx)
                .await?;
            (feedback_from_row(&row)?, false)
        }
        None => {
            let sql = format!(
                "INSERT INTO feedback (name, version, state, summary, alert_ids, window_id, \
                     opened_time, updated_time) \
                 VALUES ($1, $2, 'open', $3, $4, $5, $6, $6) RETURNING {FEEDBACK_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(&feedback.name)
                .bind(feedback.version)
                .bind(&feedback.summary)
                .bind(encode_ids(&feedback.alert_ids))
                .bind(feedback.window_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            (feedback_from_row(&row)?, true)
        }
    };
    for id in &feedback.alert_ids {
        sqlx::query("UPDATE alerts SET feedback_id = $1 WHERE id = $2")
            .bind(item.id)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((item, created))
}

pub(crate) async fn get_feedback(store: &SqlMetadataStore, id: i64) -> Result<FeedbackItem> {
    let sql = format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    match row {
        Some(row) => feedback_from_row(&row),
        None => Err(Error::not_found("feedback item", id).into()),
    }
}

pub(crate) async fn list_feedback(
    store: &SqlMetadataStore,
    name: Option<&str>,
    state: Option<FeedbackState>,
    limit: i64,
) -> Result<Vec<FeedbackItem>> {
    let (arguments, condition) = newest_first(limit, name, state.map(FeedbackState::as_str))?;
    let sql = format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE {condition} ORDER BY id DESC LIMIT $1"
    );
    let rows = sqlx::query_with(&sql, arguments)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(feedback_from_row).collect()
}

pub(crate) async fn set_feedback_export(
    store: &SqlMetadataStore,
    id: i64,
    export: &FeedbackExport,
) -> Result<()> {
    let body = serde_json::to_string(export)
        .map_err(|error| Error::internal("cannot encode a feedback export", error))?;
    let done = sqlx::query("UPDATE feedback SET export = $1, updated_time = $2 WHERE id = $3")
        .bind(body)
        .bind(now_millis())
        .bind(id)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("feedback item", id).into());
    }
    Ok(())
}

pub(crate) async fn update_feedback(
    store: &SqlMetadataStore,
    id: i64,
    update: FeedbackUpdate,
) -> Result<FeedbackItem> {
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    let lock = if store.is_sqlite() { "" } else { " FOR UPDATE" };
    let sql = format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE id = $1{lock}");
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await? else {
        return Err(Error::not_found("feedback item", id).into());
    };
    let item = feedback_from_row(&row)?;
    if !update.from.is_empty() && !update.from.contains(&item.state) {
        return Err(Error::FailedPrecondition(format!(
            "feedback item {id} is {}; this applies only to items that are {}",
            item.state,
            update
                .from
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ))
        .into());
    }
    let state = update.to.unwrap_or(item.state);
    let resolved_time = match state {
        FeedbackState::Resolved => item.resolved_time.or(Some(now)),
        _ => None,
    };
    let sql = format!(
        "UPDATE feedback SET state = $1, candidate_version = $2, answered_by = $3, \
             resolved_time = $4, updated_time = $5 WHERE id = $6 RETURNING {FEEDBACK_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(state.as_str())
        .bind(update.candidate_version.or(item.candidate_version))
        .bind(update.answered_by.or(item.answered_by))
        .bind(resolved_time)
        .bind(now)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let updated = feedback_from_row(&row)?;
    tx.commit().await?;
    Ok(updated)
}

pub(crate) async fn add_feedback_note(
    store: &SqlMetadataStore,
    feedback_id: i64,
    kind: &str,
    actor: &str,
    message: &str,
) -> Result<FeedbackNote> {
    let row = sqlx::query(
        "INSERT INTO feedback_notes (feedback_id, time, kind, actor, message) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id, feedback_id, time, kind, actor, message",
    )
    .bind(feedback_id)
    .bind(now_millis())
    .bind(kind)
    .bind(actor)
    .bind(message)
    .fetch_one(&store.pool)
    .await?;
    note_from_row(&row)
}

pub(crate) async fn list_feedback_notes(
    store: &SqlMetadataStore,
    feedback_id: i64,
) -> Result<Vec<FeedbackNote>> {
    let rows = sqlx::query(
        "SELECT id, feedback_id, time, kind, actor, message FROM feedback_notes \
         WHERE feedback_id = $1 ORDER BY id",
    )
    .bind(feedback_id)
    .fetch_all(&store.pool)
    .await?;
    rows.iter().map(note_from_row).collect()
}

pub(crate) async fn enqueue_tasks(
    store: &SqlMetadataStore,
    tasks: &[NewTask],
) -> Result<Vec<Task>> {
    let now = now_millis();
    let sql = format!(
        "INSERT INTO tasks (kind, target, feedback_id, event, payload, state, attempts, \
             next_attempt_time, created_time, updated_time) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6) RETURNING {TASK_COLUMNS}"
    );
    let mut tx = store.begin_write().await?;
    let mut stored = Vec::with_capacity(tasks.len());
    for task in tasks {
        let row = sqlx::query(&sql)
            .bind(task.kind.as_str())
            .bind(&task.target)
            .bind(task.feedback_id)
            .bind(&task.event)
            .bind(&task.payload)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        stored.push(task_from_row(&row)?);
    }
    tx.commit().await?;
    Ok(stored)
}

pub(crate) async fn claim_task(
    store: &SqlMetadataStore,
    kind: TaskKind,
    now: Millis,
    lease_ms: i64,
) -> Result<Option<Task>> {
    let due = "kind = $1 AND ((state = 'pending' AND next_attempt_time <= $2) \
               OR (state = 'running' AND lease_until < $2))";
    // PostgreSQL: replicas claim different tasks (SKIP LOCKED); SQLite: one writer at a time.
    let lock = if store.is_sqlite() {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    };
    let sql = format!(
        "UPDATE tasks SET state = 'running', lease_until = $3, attempts = attempts + 1, \
             updated_time = $2 \
         WHERE id = (SELECT id FROM tasks WHERE {due} ORDER BY id LIMIT 1{lock}) AND {due} \
         RETURNING {TASK_COLUMNS}"
    );
    let mut tx = store.begin_write().await?;
    let row = sqlx::query(&sql)
        .bind(kind.as_str())
        .bind(now)
        .bind(now.saturating_add(lease_ms))
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    row.as_ref().map(task_from_row).transpose()
}

pub(crate) async fn finish_task(
    store: &SqlMetadataStore,
    id: i64,
    outcome: &TaskOutcome,
) -> Result<Task> {
    let now = now_millis();
    let (state, error, status, output, next, finished) = match outcome {
        TaskOutcome::Done { status, output } => ("done", None, status, output, None, Some(now)),
        TaskOutcome::Retry {
            error,
            status,
            output,
            next_attempt_time,
        } => (
            "pending",
            Some(error),
            status,
            output,
            Some(*next_attempt_time),
            None,
        ),
        TaskOutcome::Failed {
            error,
            status,
            output,
        } => ("failed", Some(error), status, output, None, Some(now)),
    };
    let sql = format!(
        "UPDATE tasks SET state = $1, last_error = $2, last_status = $3, output = $4, \
             next_attempt_time = COALESCE($5, next_attempt_time), lease_until = NULL, \
             finished_time = $6, updated_time = $7 \
         WHERE id = $8 RETURNING {TASK_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(state)
        .bind(error.map(String::as_str))
        .bind(*status)
        .bind(output.as_deref())
        .bind(next)
        .bind(finished)
        .bind(now)
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    match row {
        Some(row) => task_from_row(&row),
        None => Err(Error::not_found("task", id).into()),
    }
}

pub(crate) async fn get_task(store: &SqlMetadataStore, id: i64) -> Result<Task> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&store.pool)
        .await?;
    match row {
        Some(row) => task_from_row(&row),
        None => Err(Error::not_found("task", id).into()),
    }
}

pub(crate) async fn list_tasks(
    store: &SqlMetadataStore,
    feedback_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Task>> {
    let mut arguments = AnyArguments::default();
    arguments.add(limit.max(0)).map_err(sqlx::Error::Encode)?;
    let mut condition = "TRUE";
    if let Some(feedback_id) = feedback_id {
        arguments.add(feedback_id).map_err(sqlx::Error::Encode)?;
        condition = "feedback_id = $2";
    }
    let sql =
        format!("SELECT {TASK_COLUMNS} FROM tasks WHERE {condition} ORDER BY id DESC LIMIT $1");
    let rows = sqlx::query_with(&sql, arguments)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(task_from_row).collect()
}

/// A model's newest answered (live and canary) predictions with ids above `after`, of one
/// version when given, with labels only when `labelled_only`; oldest first.
pub(crate) async fn recent_predictions(
    store: &SqlMetadataStore,
    name: &str,
    version: Option<i64>,
    after: i64,
    labelled_only: bool,
    limit: i64,
) -> Result<Vec<LoggedPrediction>> {
    let limit = limit.max(0);
    let records = if labelled_only {
        // The labels find their predictions: there are usually far fewer of them.
        let mut arguments = AnyArguments::default();
        arguments.add(name).map_err(sqlx::Error::Encode)?;
        arguments.add(after).map_err(sqlx::Error::Encode)?;
        arguments.add(limit).map_err(sqlx::Error::Encode)?;
        let mut version_condition = "";
        if let Some(version) = version {
            arguments.add(version).map_err(sqlx::Error::Encode)?;
            version_condition = "AND r.version = $4";
        }
        let sql = format!(
            "SELECT r.prediction_id FROM labelled_predictions r \
             WHERE r.name = $1 AND r.prediction_id > $2 AND r.role IN ('live', 'canary') \
               {version_condition} \
             ORDER BY r.prediction_id DESC LIMIT $3"
        );
        let ids: Vec<i64> = sqlx::query_scalar_with(&sql, arguments)
            .fetch_all(&store.pool)
            .await?;
        predictions::holding(store, name, ids).await?
    } else {
        let filter = Filter {
            version,
            role: None,
            answered_only: true,
        };
        let limit = limit as usize;
        let newest = predictions::walk(store, name, filter, (after, None), limit, Order::Newest);
        let mut newest = newest.await?;
        newest.reverse();
        newest
    };
    predictions::with_labels(store, name, records).await
}

fn encode_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

fn feedback_from_row(row: &AnyRow) -> Result<FeedbackItem> {
    let state: String = row.try_get(3)?;
    let alert_ids: String = row.try_get(5)?;
    let export: Option<String> = row.try_get(7)?;
    Ok(FeedbackItem {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        version: row.try_get(2)?,
        state: parse_stored("feedback.state", &state, |s| s.parse().ok())?,
        summary: row.try_get(4)?,
        alert_ids: parse_stored("feedback.alert_ids", &alert_ids, |s| {
            serde_json::from_str(s).ok()
        })?,
        window_id: row.try_get(6)?,
        export: export
            .map(|body| parse_stored("feedback.export", &body, |s| serde_json::from_str(s).ok()))
            .transpose()?,
        candidate_version: row.try_get(8)?,
        answered_by: row.try_get(9)?,
        opened_time: row.try_get(10)?,
        updated_time: row.try_get(11)?,
        resolved_time: row.try_get(12)?,
    })
}

fn note_from_row(row: &AnyRow) -> Result<FeedbackNote> {
    Ok(FeedbackNote {
        id: row.try_get(0)?,
        feedback_id: row.try_get(1)?,
        time: row.try_get(2)?,
        kind: row.try_get(3)?,
        actor: row.try_get(4)?,
        message: row.try_get(5)?,
    })
}

fn task_from_row(row: &AnyRow) -> Result<Task> {
    let kind: String = row.try_get(1)?;
    let state: String = row.try_get(6)?;
    Ok(Task {
        id: row.try_get(0)?,
        kind: parse_stored("tasks.kind", &kind, |s| s.parse().ok())?,
        target: row.try_get(2)?,
        feedback_id: row.try_get(3)?,
        event: row.try_get(4)?,
        payload: row.try_get(5)?,
        state: parse_stored("tasks.state", &state, |s| s.parse().ok())?,
        attempts: row.try_get(7)?,
        next_attempt_time: row.try_get(8)?,
        lease_until: row.try_get(9)?,
        last_error: row.try_get(10)?,
        last_status: row.try_get(11)?,
        output: row.try_get(12)?,
        created_time: row.try_get(13)?,
        updated_time: row.try_get(14)?,
        finished_time: row.try_get(15)?,
    })
}
