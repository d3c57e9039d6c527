//! Lifecycle transitions and the append-only event log.

use bascule_core::{Error, Evidence, LifecycleEvent, Stage, Transition};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments, Row};

use crate::connect::WriteTransaction;
use crate::error::{Result, parse_stored};
use crate::registry::require_model;
use crate::versions::{self, require_version};
use crate::{SqlMetadataStore, now_millis};

/// Moves a version to `transition.to` if the state machine allows it from the stage the
/// version is in when the transaction commits, and appends the event.
///
/// The first statement touches the version's row: on PostgreSQL that takes the row lock,
/// so a concurrent transition of the same version waits and then reads the stage this one
/// committed; on SQLite the transaction already holds the write lock. The stage update is
/// still a compare-and-set on the stage that was checked, so no interleaving can apply a
/// transition checked against a stale stage. A refused transition writes nothing.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(name = %transition.name, version = transition.version, to = %transition.to)
)]
pub(crate) async fn transition(
    store: &SqlMetadataStore,
    transition: Transition,
) -> Result<LifecycleEvent> {
    let mut tx = store.begin_write().await?;
    let event = transition_in(&mut tx, transition).await?;
    tx.commit().await?;
    Ok(event)
}

/// `transition` inside a write transaction the caller commits (the validation gate
/// records its report in the same transaction).
pub(crate) async fn transition_in(
    tx: &mut WriteTransaction,
    transition: Transition,
) -> Result<LifecycleEvent> {
    let Transition {
        name,
        version,
        to,
        actor,
        reason,
        evidence,
    } = transition;
    let now = now_millis();
    let locked = sqlx::query(
        "UPDATE model_versions SET last_updated_time = $1 WHERE name = $2 AND version = $3",
    )
    .bind(now)
    .bind(&name)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    if locked.rows_affected() == 0 {
        require_model(tx, &name).await?;
        return Err(versions::not_found(&name, version));
    }
    let row = sqlx::query(
        "SELECT stage, parent_version FROM model_versions WHERE name = $1 AND version = $2",
    )
    .bind(&name)
    .bind(version)
    .fetch_one(&mut **tx)
    .await?;
    let stage: String = row.try_get(0)?;
    let from: Stage = parse_stored("model_versions.stage", &stage, |s| s.parse().ok())?;
    let parent_version: Option<i64> = row.try_get(1)?;
    from.check_transition(to, parent_version.is_some())
        .map_err(Error::from)?;

    let changed = sqlx::query(
        "UPDATE model_versions SET stage = $1 WHERE name = $2 AND version = $3 AND stage = $4",
    )
    .bind(to.as_str())
    .bind(&name)
    .bind(version)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(Error::FailedPrecondition(format!(
            "model version {name}/{version} changed stage while moving to {to}; retry"
        ))
        .into());
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO lifecycle_events (name, version, from_stage, to_stage, actor, event_time, \
             reason, evidence_kind, evidence_reference) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&name)
    .bind(version)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(&actor)
    .bind(now)
    .bind(&reason)
    .bind(evidence.as_ref().map(|evidence| evidence.kind.as_str()))
    .bind(
        evidence
            .as_ref()
            .map(|evidence| evidence.reference.as_str()),
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(LifecycleEvent {
        id,
        name,
        version,
        from: Some(from),
        to,
        actor,
        time: now,
        reason,
        evidence,
    })
}

/// The events of a model, or of one of its versions, oldest first.
pub(crate) async fn list_events(
    store: &SqlMetadataStore,
    name: &str,
    version: Option<i64>,
) -> Result<Vec<LifecycleEvent>> {
    let mut connection = store.pool.acquire().await?;
    let mut arguments = AnyArguments::default();
    arguments.add(name).map_err(sqlx::Error::Encode)?;
    let condition = match version {
        Some(version) => {
            arguments.add(version).map_err(sqlx::Error::Encode)?;
            "name = $1 AND version = $2"
        }
        None => "name = $1",
    };
    let sql = format!(
        "SELECT id, name, version, from_stage, to_stage, actor, event_time, reason, \
                evidence_kind, evidence_reference \
         FROM lifecycle_events WHERE {condition} ORDER BY id"
    );
    let rows = sqlx::query_with(&sql, arguments)
        .fetch_all(&mut *connection)
        .await?;
    if rows.is_empty() {
        // Every version has its registration event, so nothing means nothing registered.
        match version {
            Some(version) => require_version(&mut connection, name, version).await?,
            None => require_model(&mut connection, name).await?,
        }
    }
    rows.iter().map(event_from_row).collect()
}

fn event_from_row(row: &AnyRow) -> Result<LifecycleEvent> {
    let parse_stage = |column: &str, value: &str| parse_stored(column, value, |s| s.parse().ok());
    let from: Option<String> = row.try_get(3)?;
    let to: String = row.try_get(4)?;
    let evidence_kind: Option<String> = row.try_get(8)?;
    let evidence_reference: Option<String> = row.try_get(9)?;
    Ok(LifecycleEvent {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        version: row.try_get(2)?,
        from: from
            .map(|from| parse_stage("lifecycle_events.from_stage", &from))
            .transpose()?,
        to: parse_stage("lifecycle_events.to_stage", &to)?,
        actor: row.try_get(5)?,
        time: row.try_get(6)?,
        reason: row.try_get(7)?,
        evidence: evidence_kind
            .zip(evidence_reference)
            .map(|(kind, reference)| Evidence { kind, reference }),
    })
}
