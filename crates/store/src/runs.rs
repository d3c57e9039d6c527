//! Runs: creating, updating, soft-deleting and listing them (loading is `run_load`).

use bascule_core::{
    Error, LifecycleState, Metric, NewRun, Run, RunStatus, RunUpdate, Tag, ViewType,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::{last_value_per_key, upsert_tags};
use crate::error::Result;
use crate::run_load::{Select, load};

/// The tag MLflow keeps equal to the run's name.
pub(crate) const RUN_NAME_TAG: &str = "mlflow.runName";

/// Creates a run in an active experiment. As in MLflow, the run's name and its
/// `mlflow.runName` tag are kept equal; a run given neither gets a generated name.
pub(crate) async fn create(store: &SqlMetadataStore, run: NewRun) -> Result<Run> {
    let name_tag = run.tags.iter().rev().find(|tag| tag.key == RUN_NAME_TAG);
    if let (Some(run_name), Some(tag)) = (&run.run_name, name_tag)
        && *run_name != tag.value
    {
        return Err(Error::invalid(format!(
            "the run name '{run_name}' differs from its {RUN_NAME_TAG} tag '{}'",
            tag.value
        ))
        .into());
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let run_name = match (run.run_name, name_tag) {
        (Some(run_name), _) => run_name,
        (None, Some(tag)) => tag.value.clone(),
        (None, None) => format!("run-{}", &run_id[..8]),
    };
    let mut tags = run.tags.clone();
    if name_tag.is_none() {
        tags.push(Tag {
            key: RUN_NAME_TAG.to_owned(),
            value: run_name.clone(),
        });
    }
    let tags = last_value_per_key(&tags);

    let mut tx = store.begin_write().await?;
    let experiment = sqlx::query(
        "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = $1",
    )
    .bind(run.experiment_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("experiment", run.experiment_id))?;
    let (artifact_location, lifecycle_stage): (String, String) =
        (experiment.try_get(0)?, experiment.try_get(1)?);
    if lifecycle_stage != LifecycleState::Active.as_str() {
        return Err(Error::FailedPrecondition(format!(
            "experiment {} is deleted; restore it before creating runs in it",
            run.experiment_id
        ))
        .into());
    }
    let artifact_uri = format!(
        "{}/{run_id}/artifacts",
        artifact_location.trim_end_matches('/')
    );
    let user_id = run.user_id.unwrap_or_default();
    sqlx::query(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, \
                           end_time, artifact_uri, lifecycle_stage) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, 'active')",
    )
    .bind(&run_id)
    .bind(run.experiment_id)
    .bind(&run_name)
    .bind(&user_id)
    .bind(RunStatus::Running.as_str())
    .bind(run.start_time)
    .bind(&artifact_uri)
    .execute(&mut *tx)
    .await?;
    insert_tags(&mut tx, &run_id, &tags).await?;
    tx.commit().await?;
    Ok(Run {
        run_id,
        experiment_id: run.experiment_id,
        run_name,
        user_id,
        status: RunStatus::Running,
        start_time: run.start_time,
        end_time: None,
        artifact_uri,
        lifecycle_stage: LifecycleState::Active,
        metrics: Vec::new(),
        params: Vec::new(),
        tags: tags.into_iter().cloned().collect(),
    })
}

pub(crate) async fn get(store: &SqlMetadataStore, run_id: &str) -> Result<Run> {
    let mut connection = store.pool.acquire().await?;
    load_one(&mut connection, run_id).await
}

/// Updates an active run's status, end time or name (and its name tag with it).
pub(crate) async fn update(
    store: &SqlMetadataStore,
    run_id: &str,
    update: RunUpdate,
) -> Result<Run> {
    let mut tx = store.begin_write().await?;
    require_active(&mut tx, run_id).await?;
    sqlx::query(
        "UPDATE runs SET status = COALESCE($1, status), end_time = COALESCE($2, end_time), \
                         name = COALESCE($3, name) \
         WHERE run_uuid = $4",
    )
    .bind(update.status.map(RunStatus::as_str))
    .bind(update.end_time)
    .bind(update.run_name.as_deref())
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    if let Some(run_name) = update.run_name {
        let tag = Tag {
            key: RUN_NAME_TAG.to_owned(),
            value: run_name,
        };
        insert_tags(&mut tx, run_id, &[&tag]).await?;
    }
    let run = load_one(&mut tx, run_id).await?;
    tx.commit().await?;
    Ok(run)
}

/// Deletes (softly) or restores a run; either is accepted whatever the run's state.
pub(crate) async fn set_state(
    store: &SqlMetadataStore,
    run_id: &str,
    state: LifecycleState,
) -> Result<()> {
    let result = sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE run_uuid = $2")
        .bind(state.as_str())
        .bind(run_id)
        .execute(&store.pool)
        .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("run", run_id).into());
    }
    Ok(())
}

/// The runs of an experiment, newest first.
pub(crate) async fn list(
    store: &SqlMetadataStore,
    experiment_id: i64,
    view: ViewType,
) -> Result<Vec<Run>> {
    let mut connection = store.pool.acquire().await?;
    let exists = sqlx::query("SELECT 1 FROM experiments WHERE experiment_id = $1")
        .bind(experiment_id)
        .fetch_optional(&mut *connection)
        .await?;
    if exists.is_none() {
        return Err(Error::not_found("experiment", experiment_id).into());
    }
    load(&mut connection, Select::Experiment(experiment_id, view)).await
}

/// Refuses with `NotFound` or `FailedPrecondition` unless the run exists and is active
/// (MLflow logs only to active runs).
pub(crate) async fn require_active(connection: &mut AnyConnection, run_id: &str) -> Result<()> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT lifecycle_stage FROM runs WHERE run_uuid = $1")
            .bind(run_id)
            .fetch_optional(&mut *connection)
            .await?;
    match stored {
        None => Err(Error::not_found("run", run_id).into()),
        Some(stage) if stage == LifecycleState::Active.as_str() => Ok(()),
        Some(stage) => Err(Error::FailedPrecondition(format!(
            "run {run_id} is {stage}; restore it before changing it"
        ))
        .into()),
    }
}

pub(crate) async fn insert_tags(
    connection: &mut AnyConnection,
    run_id: &str,
    tags: &[&Tag],
) -> Result<()> {
    let insert = "INSERT INTO run_tags (run_uuid, key, value)";
    upsert_tags(connection, insert, "run_uuid, key", 1, tags, |arguments| {
        arguments.add(run_id)
    })
    .await
}

async fn load_one(connection: &mut AnyConnection, run_id: &str) -> Result<Run> {
    load(connection, Select::Id(run_id))
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("run", run_id).into())
}

/// Reads `key, value, is_nan, timestamp, step` starting at column `first`.
pub(crate) fn metric_from_row(row: &AnyRow, first: usize) -> Result<Metric> {
    let value: f64 = row.try_get(first + 1)?;
    let is_nan: i64 = row.try_get(first + 2)?;
    Ok(Metric {
        key: row.try_get(first)?,
        value: if is_nan == 1 { f64::NAN } else { value },
        timestamp: row.try_get(first + 3)?,
        step: row.try_get(first + 4)?,
    })
}
