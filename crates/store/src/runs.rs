//! Runs: creating, updating, soft-deleting, and loading them with their latest metrics,
//! params and tags — four queries for one run or for a whole experiment, never one per run.

use std::collections::HashMap;

use bascule_core::{
    Error, LifecycleState, Metric, NewRun, Param, Run, RunStatus, RunUpdate, Tag, ViewType,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::{last_value_per_key, placeholder_list, upsert_tags};
use crate::error::{Result, parse_stored};
use crate::experiments::view_condition;

/// The tag MLflow keeps equal to the run's name.
pub(crate) const RUN_NAME_TAG: &str = "mlflow.runName";

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

/// Loads the selected runs, newest first, with their latest metrics, params and tags
/// (each sorted by key).
pub(crate) async fn load(connection: &mut AnyConnection, select: Select<'_>) -> Result<Vec<Run>> {
    let condition = select.condition();
    let sql = format!(
        "SELECT r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, \
                r.end_time, r.artifact_uri, r.lifecycle_stage \
         FROM runs r WHERE {condition} ORDER BY r.start_time DESC, r.run_uuid"
    );
    let rows = sqlx::query_with(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    let mut runs = rows.iter().map(run_from_row).collect::<Result<Vec<_>>>()?;
    if runs.is_empty() {
        return Ok(runs);
    }
    let position: HashMap<String, usize> = runs
        .iter()
        .enumerate()
        .map(|(position, run)| (run.run_id.clone(), position))
        .collect();

    // Each child table, joined to the same selection of runs, ordered by run then key.
    let children = |table: &str, columns: &str| {
        format!(
            "SELECT c.run_uuid, {columns} FROM {table} c JOIN runs r ON r.run_uuid = c.run_uuid \
             WHERE {condition} ORDER BY c.run_uuid, c.key"
        )
    };
    let sql = children(
        "latest_metrics",
        "c.key, c.value, c.is_nan, c.timestamp, c.step",
    );
    for row in sqlx::query_with(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<String, _>(0)?) {
            runs[position].metrics.push(metric_from_row(&row, 1)?);
        }
    }
    let sql = children("params", "c.key, c.value");
    for row in sqlx::query_with(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<String, _>(0)?) {
            runs[position].params.push(Param {
                key: row.try_get(1)?,
                value: row.try_get(2)?,
            });
        }
    }
    let sql = children("run_tags", "c.key, c.value");
    for row in sqlx::query_with(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<String, _>(0)?) {
            runs[position].tags.push(Tag {
                key: row.try_get(1)?,
                value: row.try_get(2)?,
            });
        }
    }
    Ok(runs)
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

fn run_from_row(row: &AnyRow) -> Result<Run> {
    let status: String = row.try_get(4)?;
    let lifecycle_stage: String = row.try_get(8)?;
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
        metrics: Vec::new(),
        params: Vec::new(),
        tags: Vec::new(),
    })
}
