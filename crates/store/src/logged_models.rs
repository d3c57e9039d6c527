//! MLflow 3's logged models: a model's metadata before (and after) it is registered; its
//! files live in the artifact tree under `<experiment>/models/<model id>/artifacts`.

use std::collections::HashMap;

use bascule_core::{
    Error, LifecycleState, LoggedModel, LoggedModelStatus, NewLoggedModel, Param, Tag,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

use crate::batch::{last_value_per_key, placeholder_list, upsert_tags};
use crate::error::{Result, parse_stored};
use crate::{SqlMetadataStore, now_millis};

const COLUMNS: &str = "m.model_id, m.experiment_id, m.name, m.artifact_location, m.status, \
                       m.model_type, m.source_run_id, m.lifecycle_stage, m.creation_time, \
                       m.last_updated_time";

pub(crate) async fn create(store: &SqlMetadataStore, model: NewLoggedModel) -> Result<LoggedModel> {
    let model_id = format!("m-{}", uuid::Uuid::new_v4().simple());
    let now = now_millis();
    let tags = last_value_per_key(&model.tags);
    let mut params: Vec<&Param> = Vec::new();
    for param in &model.params {
        match params.iter_mut().find(|kept| kept.key == param.key) {
            Some(kept) => *kept = param,
            None => params.push(param),
        }
    }
    let mut tx = store.begin_write().await?;
    let location: Option<String> = sqlx::query_scalar(
        "SELECT artifact_location FROM experiments \
         WHERE experiment_id = $1 AND lifecycle_stage = 'active'",
    )
    .bind(model.experiment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let location = location.ok_or_else(|| Error::not_found("experiment", model.experiment_id))?;
    let artifact_location = format!(
        "{}/models/{model_id}/artifacts",
        location.trim_end_matches('/')
    );
    sqlx::query(
        "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, status, \
                                    model_type, source_run_id, lifecycle_stage, creation_time, \
                                    last_updated_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)",
    )
    .bind(&model_id)
    .bind(model.experiment_id)
    .bind(&model.name)
    .bind(&artifact_location)
    .bind(LoggedModelStatus::Pending.as_str())
    .bind(&model.model_type)
    .bind(model.source_run_id.as_deref())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_tags(&mut tx, &model_id, &tags).await?;
    for param in &params {
        sqlx::query("INSERT INTO logged_model_params (model_id, key, value) VALUES ($1, $2, $3)")
            .bind(&model_id)
            .bind(&param.key)
            .bind(&param.value)
            .execute(&mut *tx)
            .await?;
    }
    let created = load(&mut tx, Select::Id(&model_id)).await?.pop();
    tx.commit().await?;
    created.ok_or_else(|| Error::not_found("logged model", &model_id).into())
}

pub(crate) async fn get(store: &SqlMetadataStore, model_id: &str) -> Result<LoggedModel> {
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, Select::Id(model_id))
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("logged model", model_id).into())
}

pub(crate) async fn set_status(
    store: &SqlMetadataStore,
    model_id: &str,
    status: LoggedModelStatus,
) -> Result<LoggedModel> {
    let mut tx = store.begin_write().await?;
    let result = sqlx::query(
        "UPDATE logged_models SET status = $1, last_updated_time = $2 WHERE model_id = $3",
    )
    .bind(status.as_str())
    .bind(now_millis())
    .bind(model_id)
    .execute(&mut *tx)
    .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("logged model", model_id).into());
    }
    let model = load(&mut tx, Select::Id(model_id)).await?.pop();
    tx.commit().await?;
    model.ok_or_else(|| Error::not_found("logged model", model_id).into())
}

pub(crate) async fn set_tags(store: &SqlMetadataStore, model_id: &str, tags: &[Tag]) -> Result<()> {
    let tags = last_value_per_key(tags);
    let mut tx = store.begin_write().await?;
    require(&mut tx, model_id).await?;
    insert_tags(&mut tx, model_id, &tags).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn delete_tag(store: &SqlMetadataStore, model_id: &str, key: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require(&mut tx, model_id).await?;
    let result = sqlx::query("DELETE FROM logged_model_tags WHERE model_id = $1 AND key = $2")
        .bind(model_id)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("logged model tag", key).into());
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_state(
    store: &SqlMetadataStore,
    model_id: &str,
    state: LifecycleState,
) -> Result<()> {
    let result = sqlx::query(
        "UPDATE logged_models SET lifecycle_stage = $1, last_updated_time = $2 WHERE model_id = $3",
    )
    .bind(state.as_str())
    .bind(now_millis())
    .bind(model_id)
    .execute(&store.pool)
    .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("logged model", model_id).into());
    }
    Ok(())
}

pub(crate) async fn list(
    store: &SqlMetadataStore,
    experiment_ids: &[i64],
) -> Result<Vec<LoggedModel>> {
    if experiment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, Select::Experiments(experiment_ids)).await
}

async fn require(connection: &mut AnyConnection, model_id: &str) -> Result<()> {
    let exists = sqlx::query("SELECT 1 FROM logged_models WHERE model_id = $1")
        .bind(model_id)
        .fetch_optional(&mut *connection)
        .await?;
    match exists {
        Some(_) => Ok(()),
        None => Err(Error::not_found("logged model", model_id).into()),
    }
}

async fn insert_tags(connection: &mut AnyConnection, model_id: &str, tags: &[&Tag]) -> Result<()> {
    let insert = "INSERT INTO logged_model_tags (model_id, key, value)";
    upsert_tags(connection, insert, "model_id, key", 1, tags, |arguments| {
        arguments.add(model_id)
    })
    .await
}

enum Select<'a> {
    Id(&'a str),
    Experiments(&'a [i64]),
}

/// Loads the selected models, newest first, with their tags and params (by key).
async fn load(connection: &mut AnyConnection, select: Select<'_>) -> Result<Vec<LoggedModel>> {
    let condition = match &select {
        Select::Id(_) => "m.model_id = $1".to_owned(),
        Select::Experiments(ids) => format!(
            "m.experiment_id IN ({}) AND m.lifecycle_stage = 'active'",
            placeholder_list(ids.len(), 0)
        ),
    };
    let arguments = || -> Result<AnyArguments<'_>> {
        let mut arguments = AnyArguments::default();
        match &select {
            Select::Id(model_id) => arguments.add(*model_id),
            Select::Experiments(ids) => ids.iter().try_for_each(|id| arguments.add(*id)),
        }
        .map_err(sqlx::Error::Encode)?;
        Ok(arguments)
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM logged_models m WHERE {condition} \
         ORDER BY m.creation_time DESC, m.model_id"
    );
    let rows = sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    let mut models = rows
        .iter()
        .map(model_from_row)
        .collect::<Result<Vec<_>>>()?;
    if models.is_empty() {
        return Ok(models);
    }
    let position: HashMap<String, usize> = models
        .iter()
        .enumerate()
        .map(|(position, model)| (model.model_id.clone(), position))
        .collect();
    for table in ["logged_model_tags", "logged_model_params"] {
        let sql = format!(
            "SELECT c.model_id, c.key, c.value FROM {table} c \
             JOIN logged_models m ON m.model_id = c.model_id \
             WHERE {condition} ORDER BY c.model_id, c.key"
        );
        for row in sqlx::query_with(&sql, arguments()?)
            .fetch_all(&mut *connection)
            .await?
        {
            let model_id: String = row.try_get(0)?;
            let (key, value): (String, String) = (row.try_get(1)?, row.try_get(2)?);
            if let Some(&position) = position.get(&model_id) {
                if table == "logged_model_tags" {
                    models[position].tags.push(Tag { key, value });
                } else {
                    models[position].params.push(Param { key, value });
                }
            }
        }
    }
    Ok(models)
}

fn model_from_row(row: &AnyRow) -> Result<LoggedModel> {
    let status: String = row.try_get(4)?;
    let lifecycle_stage: String = row.try_get(7)?;
    Ok(LoggedModel {
        model_id: row.try_get(0)?,
        experiment_id: row.try_get(1)?,
        name: row.try_get(2)?,
        artifact_location: row.try_get(3)?,
        status: parse_stored("logged_models.status", &status, LoggedModelStatus::parse)?,
        model_type: row.try_get(5)?,
        source_run_id: row.try_get(6)?,
        lifecycle_stage: parse_stored(
            "logged_models.lifecycle_stage",
            &lifecycle_stage,
            LifecycleState::parse,
        )?,
        creation_time: row.try_get(8)?,
        last_updated_time: row.try_get(9)?,
        tags: Vec::new(),
        params: Vec::new(),
    })
}
