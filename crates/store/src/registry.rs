//! Registered models: names, descriptions, tags, and aliases (`champion` → version 3).

use std::collections::HashMap;

use bascule_core::{Error, ModelVersion, RegisteredModel, Tag};
use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Arguments, Row};

use crate::batch::{last_value_per_key, upsert_tags};
use crate::error::{OrAlreadyExists, Result};
use crate::versions::{self, require_version};
use crate::{SqlMetadataStore, now_millis};

pub(crate) async fn create(
    store: &SqlMetadataStore,
    name: &str,
    description: &str,
    tags: &[Tag],
) -> Result<RegisteredModel> {
    let now = now_millis();
    let tags = last_value_per_key(tags);
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO registered_models (name, description, creation_time, last_updated_time) \
         VALUES ($1, $2, $3, $3)",
    )
    .bind(name)
    .bind(description)
    .bind(now)
    .execute(&mut *tx)
    .await
    .or_already_exists("registered model", name)?;
    insert_tags(&mut tx, name, &tags).await?;
    tx.commit().await?;
    Ok(RegisteredModel {
        name: name.to_owned(),
        description: description.to_owned(),
        creation_time: now,
        last_updated_time: now,
        tags: tags.into_iter().cloned().collect(),
        aliases: Vec::new(),
        latest_version: None,
    })
}

pub(crate) async fn get(store: &SqlMetadataStore, name: &str) -> Result<RegisteredModel> {
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, Some(name))
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("registered model", name).into())
}

/// Every registered model, by name.
pub(crate) async fn list(store: &SqlMetadataStore) -> Result<Vec<RegisteredModel>> {
    let mut connection = store.pool.acquire().await?;
    load(&mut connection, None).await
}

pub(crate) async fn set_tag(store: &SqlMetadataStore, name: &str, tag: &Tag) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_model(&mut tx, name).await?;
    insert_tags(&mut tx, name, &[tag]).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn delete_tag(store: &SqlMetadataStore, name: &str, key: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_model(&mut tx, name).await?;
    let result = sqlx::query("DELETE FROM registered_model_tags WHERE name = $1 AND key = $2")
        .bind(name)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("registered model tag", key).into());
    }
    tx.commit().await?;
    Ok(())
}

/// Points `alias` at an existing version, moving it if it pointed elsewhere.
pub(crate) async fn set_alias(
    store: &SqlMetadataStore,
    name: &str,
    alias: &str,
    version: i64,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_version(&mut tx, name, version).await?;
    sqlx::query(
        "INSERT INTO registered_model_aliases (name, alias, version) VALUES ($1, $2, $3) \
         ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
    )
    .bind(name)
    .bind(alias)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn delete_alias(store: &SqlMetadataStore, name: &str, alias: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_model(&mut tx, name).await?;
    let result = sqlx::query("DELETE FROM registered_model_aliases WHERE name = $1 AND alias = $2")
        .bind(name)
        .bind(alias)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("alias", format!("{name}@{alias}")).into());
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn version_by_alias(
    store: &SqlMetadataStore,
    name: &str,
    alias: &str,
) -> Result<ModelVersion> {
    let mut connection = store.pool.acquire().await?;
    let version: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM registered_model_aliases WHERE name = $1 AND alias = $2",
    )
    .bind(name)
    .bind(alias)
    .fetch_optional(&mut *connection)
    .await?;
    let Some(version) = version else {
        require_model(&mut connection, name).await?;
        return Err(Error::not_found("alias", format!("{name}@{alias}")).into());
    };
    versions::load_one(&mut connection, name, version).await
}

/// Refuses with `NotFound` unless the registered model exists.
pub(crate) async fn require_model(connection: &mut AnyConnection, name: &str) -> Result<()> {
    let exists = sqlx::query("SELECT 1 FROM registered_models WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *connection)
        .await?;
    match exists {
        Some(_) => Ok(()),
        None => Err(Error::not_found("registered model", name).into()),
    }
}

async fn insert_tags(connection: &mut AnyConnection, name: &str, tags: &[&Tag]) -> Result<()> {
    let insert = "INSERT INTO registered_model_tags (name, key, value)";
    upsert_tags(connection, insert, "name, key", 1, tags, |arguments| {
        arguments.add(name)
    })
    .await
}

/// Loads one model (`Some(name)`) or all, by name, with tags, aliases and latest version.
async fn load(connection: &mut AnyConnection, name: Option<&str>) -> Result<Vec<RegisteredModel>> {
    // Each query reads a single table (the subquery qualifies its own), so `name` is
    // unambiguous.
    let condition = if name.is_some() {
        "WHERE name = $1"
    } else {
        ""
    };
    let arguments = || -> Result<AnyArguments<'_>> {
        let mut arguments = AnyArguments::default();
        if let Some(name) = name {
            arguments.add(name).map_err(sqlx::Error::Encode)?;
        }
        Ok(arguments)
    };
    let sql = format!(
        "SELECT name, description, creation_time, last_updated_time, \
                (SELECT MAX(v.version) FROM model_versions v WHERE v.name = m.name) \
         FROM registered_models m {condition} ORDER BY name"
    );
    let mut models = Vec::new();
    for row in sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        models.push(RegisteredModel {
            name: row.try_get(0)?,
            description: row.try_get(1)?,
            creation_time: row.try_get(2)?,
            last_updated_time: row.try_get(3)?,
            tags: Vec::new(),
            aliases: Vec::new(),
            latest_version: row.try_get(4)?,
        });
    }
    if models.is_empty() {
        return Ok(models);
    }
    let position: HashMap<String, usize> = models
        .iter()
        .enumerate()
        .map(|(position, model)| (model.name.clone(), position))
        .collect();

    let sql = format!(
        "SELECT name, key, value FROM registered_model_tags {condition} ORDER BY name, key"
    );
    for row in sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<String, _>(0)?) {
            models[position].tags.push(Tag {
                key: row.try_get(1)?,
                value: row.try_get(2)?,
            });
        }
    }
    let sql = format!(
        "SELECT name, alias, version FROM registered_model_aliases {condition} \
         ORDER BY name, alias"
    );
    for row in sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<String, _>(0)?) {
            models[position]
                .aliases
                .push((row.try_get(1)?, row.try_get(2)?));
        }
    }
    Ok(models)
}

pub(crate) async fn set_description(
    store: &SqlMetadataStore,
    name: &str,
    description: &str,
) -> Result<()> {
    let result = sqlx::query(
        "UPDATE registered_models SET description = $1, last_updated_time = $2 WHERE name = $3",
    )
    .bind(description)
    .bind(now_millis())
    .bind(name)
    .execute(&store.pool)
    .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("registered model", name).into());
    }
    Ok(())
}
