//! The validation gate's records: versioned validation policies, and validation runs
//! recorded in the same transaction as the transition they justify.

use bascule_core::{
    Error, LifecycleEvent, NewValidationRecord, PolicyFormat, StoredPolicy, Transition,
    ValidationRecord,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, parse_stored};
use crate::lifecycle::transition_in;
use crate::registry::require_model;
use crate::versions::require_version;
use crate::{SqlMetadataStore, now_millis};

/// Appends the next version of a model's policy. The model's row is updated first so
/// that concurrent writers of one model's policy are serialised (PostgreSQL row lock;
/// SQLite's write lock is already held).
pub(crate) async fn put_policy(
    store: &SqlMetadataStore,
    name: &str,
    body: &str,
    format: PolicyFormat,
    actor: &str,
) -> Result<StoredPolicy> {
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    let locked = sqlx::query("UPDATE registered_models SET last_updated_time = $1 WHERE name = $2")
        .bind(now)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(Error::not_found("registered model", name).into());
    }
    let policy_version: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(policy_version), 0) + 1 FROM validation_policies WHERE name = $1",
    )
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO validation_policies \
             (name, policy_version, body, format, created_by, created_time) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(name)
    .bind(policy_version)
    .bind(body)
    .bind(format.as_str())
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(StoredPolicy {
        name: name.to_owned(),
        policy_version,
        body: body.to_owned(),
        format,
        created_by: actor.to_owned(),
        time: now,
    })
}

/// The newest policy of a model, `None` if it has none.
pub(crate) async fn get_policy(
    store: &SqlMetadataStore,
    name: &str,
) -> Result<Option<StoredPolicy>> {
    let mut connection = store.pool.acquire().await?;
    let row = sqlx::query(
        "SELECT name, policy_version, body, format, created_by, created_time \
         FROM validation_policies WHERE name = $1 ORDER BY policy_version DESC LIMIT 1",
    )
    .bind(name)
    .fetch_optional(&mut *connection)
    .await?;
    let Some(row) = row else {
        require_model(&mut connection, name).await?;
        return Ok(None);
    };
    let format: String = row.try_get(3)?;
    Ok(Some(StoredPolicy {
        name: row.try_get(0)?,
        policy_version: row.try_get(1)?,
        body: row.try_get(2)?,
        format: parse_stored("validation_policies.format", &format, PolicyFormat::parse)?,
        created_by: row.try_get(4)?,
        time: row.try_get(5)?,
    }))
}

/// Inserts the record and applies the transition in one transaction.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(name = %record.name, version = record.version, passed = record.passed)
)]
pub(crate) async fn record(
    store: &SqlMetadataStore,
    record: NewValidationRecord,
    transition: Transition,
) -> Result<(ValidationRecord, LifecycleEvent)> {
    if (record.name.as_str(), record.version) != (transition.name.as_str(), transition.version) {
        return Err(Error::invalid(format!(
            "a validation record of {}/{} cannot justify a transition of {}/{}",
            record.name, record.version, transition.name, transition.version
        ))
        .into());
    }
    let mut tx = store.begin_write().await?;
    // The transition first: it takes the version's row lock and checks the stage.
    let event = transition_in(&mut tx, transition).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO validation_reports (name, version, report_digest, profile_digest, passed, \
             policy_version, validation_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&record.name)
    .bind(record.version)
    .bind(&record.report_digest)
    .bind(&record.profile_digest)
    .bind(i64::from(record.passed))
    .bind(record.policy_version)
    .bind(event.time)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let stored = ValidationRecord {
        id,
        name: record.name,
        version: record.version,
        report_digest: record.report_digest,
        profile_digest: record.profile_digest,
        passed: record.passed,
        policy_version: record.policy_version,
        time: event.time,
    };
    Ok((stored, event))
}

/// The newest validation record of a version.
pub(crate) async fn latest(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
) -> Result<Option<ValidationRecord>> {
    let mut connection = store.pool.acquire().await?;
    let row = sqlx::query(
        "SELECT id, name, version, report_digest, profile_digest, passed, policy_version, \
                validation_time \
         FROM validation_reports WHERE name = $1 AND version = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(name)
    .bind(version)
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => Ok(Some(record_from_row(&row)?)),
        None => {
            require_version(&mut connection, name, version).await?;
            Ok(None)
        }
    }
}

fn record_from_row(row: &AnyRow) -> Result<ValidationRecord> {
    let passed: i64 = row.try_get(5)?;
    Ok(ValidationRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        version: row.try_get(2)?,
        report_digest: row.try_get(3)?,
        profile_digest: row.try_get(4)?,
        passed: passed == 1,
        policy_version: row.try_get(6)?,
        time: row.try_get(7)?,
    })
}
