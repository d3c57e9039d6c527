//! Experiments: MLflow's grouping of runs, soft-deleted rather than removed. Experiment 0,
//! `Default`, is created by the first migration, as MLflow clients expect.

use std::collections::HashMap;

use bascule_core::{Error, Experiment, LifecycleState, Tag, ViewType};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, Arguments, Row};

use crate::batch::{last_value_per_key, upsert_tags};
use crate::error::{OrAlreadyExists, Result, parse_stored};
use crate::{SqlMetadataStore, now_millis};

const DEFAULT_EXPERIMENT_ID: i64 = 0;

/// Which experiments a load selects.
enum Select<'a> {
    Id(i64),
    Name(&'a str),
    View(ViewType),
}

impl Select<'_> {
    fn condition(&self) -> &'static str {
        match self {
            Select::Id(_) => "e.experiment_id = $1",
            Select::Name(_) => "e.name = $1",
            Select::View(view) => view_condition(*view),
        }
    }

    fn arguments(&self) -> Result<AnyArguments<'_>> {
        let mut arguments = AnyArguments::default();
        match self {
            Select::Id(id) => arguments.add(*id),
            Select::Name(name) => arguments.add(*name),
            Select::View(_) => Ok(()),
        }
        .map_err(sqlx::Error::Encode)?;
        Ok(arguments)
    }
}

/// The SQL condition a `ViewType` puts on `lifecycle_stage` (a column of experiments and
/// runs only, so unambiguous in their joins with tag, param and metric tables).
pub(crate) fn view_condition(view: ViewType) -> &'static str {
    match view {
        ViewType::ActiveOnly => "lifecycle_stage = 'active'",
        ViewType::DeletedOnly => "lifecycle_stage = 'deleted'",
        ViewType::All => "1 = 1",
    }
}

pub(crate) async fn create(
    store: &SqlMetadataStore,
    name: &str,
    artifact_location: Option<&str>,
    tags: &[Tag],
) -> Result<Experiment> {
    let now = now_millis();
    let tags = last_value_per_key(tags);
    let mut tx = store.begin_write().await?;
    let experiment_id: i64 = sqlx::query(
        "INSERT INTO experiments \
             (name, artifact_location, lifecycle_stage, creation_time, last_update_time) \
         VALUES ($1, $2, 'active', $3, $3) RETURNING experiment_id",
    )
    .bind(name)
    .bind(artifact_location.unwrap_or_default())
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .or_already_exists("experiment", name)?
    .try_get(0)?;
    let artifact_location = match artifact_location {
        Some(location) => location.to_owned(),
        None => {
            let location = format!("mlflow-artifacts:/{experiment_id}");
            sqlx::query("UPDATE experiments SET artifact_location = $1 WHERE experiment_id = $2")
                .bind(&location)
                .bind(experiment_id)
                .execute(&mut *tx)
                .await?;
            location
        }
    };
    insert_tags(&mut tx, experiment_id, &tags).await?;
    tx.commit().await?;
    Ok(Experiment {
        experiment_id,
        name: name.to_owned(),
        artifact_location,
        lifecycle_stage: LifecycleState::Active,
        creation_time: now,
        last_update_time: now,
        tags: tags.into_iter().cloned().collect(),
    })
}

pub(crate) async fn get(store: &SqlMetadataStore, experiment_id: i64) -> Result<Experiment> {
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, Select::Id(experiment_id))
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("experiment", experiment_id).into())
}

pub(crate) async fn get_by_name(store: &SqlMetadataStore, name: &str) -> Result<Experiment> {
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, Select::Name(name))
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("experiment", name).into())
}

pub(crate) async fn list(store: &SqlMetadataStore, view: ViewType) -> Result<Vec<Experiment>> {
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, Select::View(view)).await
}

/// Renames an active experiment; the new name must be free.
pub(crate) async fn rename(
    store: &SqlMetadataStore,
    experiment_id: i64,
    new_name: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_state(&mut tx, experiment_id, LifecycleState::Active, "renamed").await?;
    sqlx::query("UPDATE experiments SET name = $1, last_update_time = $2 WHERE experiment_id = $3")
        .bind(new_name)
        .bind(now_millis())
        .bind(experiment_id)
        .execute(&mut *tx)
        .await
        .or_already_exists("experiment", new_name)?;
    tx.commit().await?;
    Ok(())
}

/// Deletes (softly) or restores an experiment. As in MLflow, its runs follow: deleting
/// an experiment deletes its runs, restoring it restores them all.
pub(crate) async fn set_state(
    store: &SqlMetadataStore,
    experiment_id: i64,
    state: LifecycleState,
) -> Result<()> {
    if experiment_id == DEFAULT_EXPERIMENT_ID && state == LifecycleState::Deleted {
        return Err(Error::invalid("the Default experiment (id 0) cannot be deleted").into());
    }
    let (from, verb) = match state {
        LifecycleState::Deleted => (LifecycleState::Active, "deleted"),
        LifecycleState::Active => (LifecycleState::Deleted, "restored"),
    };
    let mut tx = store.begin_write().await?;
    require_state(&mut tx, experiment_id, from, verb).await?;
    sqlx::query(
        "UPDATE experiments SET lifecycle_stage = $1, last_update_time = $2 \
         WHERE experiment_id = $3",
    )
    .bind(state.as_str())
    .bind(now_millis())
    .bind(experiment_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE experiment_id = $2")
        .bind(state.as_str())
        .bind(experiment_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_tag(store: &SqlMetadataStore, experiment_id: i64, tag: &Tag) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_state(&mut tx, experiment_id, LifecycleState::Active, "tagged").await?;
    insert_tags(&mut tx, experiment_id, &[tag]).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses with `NotFound` or `FailedPrecondition` unless the experiment is in `state`;
/// `verb` says what was being attempted.
async fn require_state(
    connection: &mut AnyConnection,
    experiment_id: i64,
    state: LifecycleState,
    verb: &str,
) -> Result<()> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT lifecycle_stage FROM experiments WHERE experiment_id = $1")
            .bind(experiment_id)
            .fetch_optional(&mut *connection)
            .await?;
    let stored = stored.ok_or_else(|| Error::not_found("experiment", experiment_id))?;
    let stored = parse_stored(
        "experiments.lifecycle_stage",
        &stored,
        LifecycleState::parse,
    )?;
    if stored != state {
        return Err(Error::FailedPrecondition(format!(
            "experiment {experiment_id} is {} and cannot be {verb}",
            stored.as_str()
        ))
        .into());
    }
    Ok(())
}

async fn insert_tags(
    connection: &mut AnyConnection,
    experiment_id: i64,
    tags: &[&Tag],
) -> Result<()> {
    let insert = "INSERT INTO experiment_tags (experiment_id, key, value)";
    upsert_tags(
        connection,
        insert,
        "experiment_id, key",
        1,
        tags,
        |arguments| arguments.add(experiment_id),
    )
    .await
}

/// Loads the selected experiments with their tags, ordered by id, in two queries.
async fn load(connection: &mut AnyConnection, select: Select<'_>) -> Result<Vec<Experiment>> {
    let condition = select.condition();
    let sql = format!(
        "SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, \
                e.creation_time, e.last_update_time \
         FROM experiments e WHERE {condition} ORDER BY e.experiment_id"
    );
    let rows = sqlx::query_with(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    let mut experiments = rows
        .iter()
        .map(experiment_from_row)
        .collect::<Result<Vec<_>>>()?;
    if experiments.is_empty() {
        return Ok(experiments);
    }

    let sql = format!(
        "SELECT t.experiment_id, t.key, t.value \
         FROM experiment_tags t JOIN experiments e ON e.experiment_id = t.experiment_id \
         WHERE {condition} ORDER BY t.experiment_id, t.key"
    );
    let position: HashMap<i64, usize> = experiments
        .iter()
        .enumerate()
        .map(|(position, experiment)| (experiment.experiment_id, position))
        .collect();
    let rows = sqlx::query_with::<Any, _>(&sql, select.arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    for row in rows {
        let experiment_id: i64 = row.try_get(0)?;
        if let Some(&position) = position.get(&experiment_id) {
            let tag = Tag {
                key: row.try_get(1)?,
                value: row.try_get(2)?,
            };
            experiments[position].tags.push(tag);
        }
    }
    Ok(experiments)
}

fn experiment_from_row(row: &AnyRow) -> Result<Experiment> {
    let lifecycle_stage: String = row.try_get(3)?;
    Ok(Experiment {
        experiment_id: row.try_get(0)?,
        name: row.try_get(1)?,
        artifact_location: row.try_get(2)?,
        lifecycle_stage: parse_stored(
            "experiments.lifecycle_stage",
            &lifecycle_stage,
            LifecycleState::parse,
        )?,
        creation_time: row.try_get(4)?,
        last_update_time: row.try_get(5)?,
        tags: Vec::new(),
    })
}
