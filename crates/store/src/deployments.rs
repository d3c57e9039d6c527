//! Deployments: which versions serve each model, changed by compare-and-set on a revision
//! in the same transaction as the stage transitions the change implies.

use bascule_core::{Canary, Deployment, DeploymentChange, Error, LifecycleEvent};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError, convert_stored};
use crate::lifecycle::transition_in;
use crate::registry::require_model;
use crate::{SqlMetadataStore, now_millis};

const COLUMNS: &str = "name, live_version, canary_version, canary_percent, shadow_version, \
                       previous_live_version, revision, updated_by, updated_time";

pub(crate) async fn list(store: &SqlMetadataStore) -> Result<Vec<Deployment>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM deployments ORDER BY name"))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn get(store: &SqlMetadataStore, name: &str) -> Result<Option<Deployment>> {
    let mut connection = store.pool.acquire().await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => Ok(Some(from_row(&row)?)),
        None => {
            require_model(&mut connection, name).await?;
            Ok(None)
        }
    }
}

/// Saves the new state if the stored revision is still the expected one, then applies
/// the transitions, all in one transaction.
///
/// The deployment's row is written first, so concurrent changes of one model serialise
/// on it (PostgreSQL's row lock, or the unique key for a first deployment; SQLite's write
/// lock is already held), and the version rows are locked after it, always in that order.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(name = %change.deployment.name, expected = change.expected_revision)
)]
pub(crate) async fn save(
    store: &SqlMetadataStore,
    change: DeploymentChange,
) -> Result<(Deployment, Vec<LifecycleEvent>)> {
    let DeploymentChange {
        mut deployment,
        expected_revision,
        transitions,
    } = change;
    check(&deployment, &transitions)?;
    let name = deployment.name.clone();
    let stale = || -> StoreError {
        Error::FailedPrecondition(format!(
            "the deployment of {name} changed while this change was prepared; retry"
        ))
        .into()
    };
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    if deployment.is_empty() {
        let as_expected = if expected_revision == 0 {
            sqlx::query("SELECT 1 FROM deployments WHERE name = $1")
                .bind(&name)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
        } else {
            sqlx::query("DELETE FROM deployments WHERE name = $1 AND revision = $2")
                .bind(&name)
                .bind(expected_revision)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1
        };
        if !as_expected {
            require_model(&mut tx, &name).await?;
            return Err(stale());
        }
        deployment = Deployment {
            previous_live: None,
            revision: 0,
            ..deployment
        };
    } else {
        deployment.revision = expected_revision + 1;
        deployment.updated_time = now;
        let canary_percent = deployment.canary.map(|canary| i64::from(canary.percent));
        let written = if expected_revision == 0 {
            require_model(&mut tx, &name).await?;
            sqlx::query(&format!(
                "INSERT INTO deployments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&name)
            .bind(deployment.live)
            .bind(deployment.canary.map(|canary| canary.version))
            .bind(canary_percent)
            .bind(deployment.shadow)
            .bind(deployment.previous_live)
            .bind(deployment.revision)
            .bind(&deployment.updated_by)
            .bind(now)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query(
                "UPDATE deployments SET live_version = $1, canary_version = $2, \
                     canary_percent = $3, shadow_version = $4, previous_live_version = $5, \
                     revision = $6, updated_by = $7, updated_time = $8 \
                 WHERE name = $9 AND revision = $10",
            )
            .bind(deployment.live)
            .bind(deployment.canary.map(|canary| canary.version))
            .bind(canary_percent)
            .bind(deployment.shadow)
            .bind(deployment.previous_live)
            .bind(deployment.revision)
            .bind(&deployment.updated_by)
            .bind(now)
            .bind(&name)
            .bind(expected_revision)
            .execute(&mut *tx)
            .await
        };
        match written {
            Ok(result) if result.rows_affected() == 1 => {}
            Ok(_) => {
                require_model(&mut tx, &name).await?;
                return Err(stale());
            }
            Err(error)
                if error
                    .as_database_error()
                    .is_some_and(|error| error.is_unique_violation()) =>
            {
                return Err(stale());
            }
            Err(error) => return Err(error.into()),
        }
    }
    let mut events = Vec::with_capacity(transitions.len());
    for transition in transitions {
        events.push(transition_in(&mut tx, transition).await?);
    }
    tx.commit().await?;
    Ok((deployment, events))
}

/// What integrity needs of a change, before anything is written.
fn check(deployment: &Deployment, transitions: &[bascule_core::Transition]) -> Result<()> {
    if let Some(canary) = deployment.canary
        && !(1..=99).contains(&canary.percent)
    {
        return Err(Error::invalid(format!(
            "a canary takes 1 to 99 percent of the traffic, not {}",
            canary.percent
        ))
        .into());
    }
    if let Some(other) = transitions.iter().find(|t| t.name != deployment.name) {
        return Err(Error::invalid(format!(
            "a deployment change of {} cannot move a version of {}",
            deployment.name, other.name
        ))
        .into());
    }
    Ok(())
}

fn from_row(row: &AnyRow) -> Result<Deployment> {
    let canary_version: Option<i64> = row.try_get(2)?;
    let canary_percent: Option<i64> = row.try_get(3)?;
    let canary = match (canary_version, canary_percent) {
        (Some(version), Some(percent)) => Some(Canary {
            version,
            percent: convert_stored("deployments.canary_percent", percent)?,
        }),
        _ => None,
    };
    Ok(Deployment {
        name: row.try_get(0)?,
        live: row.try_get(1)?,
        canary,
        shadow: row.try_get(4)?,
        previous_live: row.try_get(5)?,
        revision: row.try_get(6)?,
        updated_by: row.try_get(7)?,
        updated_time: row.try_get(8)?,
    })
}
