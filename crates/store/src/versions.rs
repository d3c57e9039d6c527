//! Model versions: registration (numbering, files, lineage, signature and the first
//! lifecycle event, in one transaction), loading, and tags.

use std::collections::{BTreeSet, HashMap};

use bascule_core::{
    ArtifactFile, Error, Lineage, ModelFormat, ModelVersion, ModelVersionStatus, NewModelVersion,
    Signature, Stage, Tag,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

use crate::batch::{insert_rows, last_value_per_key, upsert_tags};
use crate::error::{Result, StoreError, convert_stored, parse_stored};
use crate::registry::require_model;
use crate::{SqlMetadataStore, now_millis};

/// Registers the next version of a model as `Prototype`.
///
/// Concurrent registrations of one model are serialised by updating the model's row
/// first: on PostgreSQL that takes its row lock until commit (so the `MAX(version) + 1`
/// read after it sees every committed version); on SQLite the transaction already holds
/// the database's write lock (`BEGIN IMMEDIATE`).
#[tracing::instrument(level = "debug", skip_all, fields(name = %new.name))]
pub(crate) async fn create(store: &SqlMetadataStore, new: NewModelVersion) -> Result<ModelVersion> {
    let mut paths = BTreeSet::new();
    for file in &new.files {
        if !paths.insert(file.path.as_str()) {
            return Err(Error::invalid(format!("file '{}' is listed twice", file.path)).into());
        }
    }
    let signature = new
        .signature
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|error| Error::internal("cannot encode the model signature", error))?;
    let tags = last_value_per_key(&new.tags);
    let now = now_millis();

    let mut tx = store.begin_write().await?;
    if new.create_model {
        sqlx::query(
            "INSERT INTO registered_models (name, description, creation_time, last_updated_time) \
             VALUES ($1, '', $2, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&new.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let locked = sqlx::query("UPDATE registered_models SET last_updated_time = $1 WHERE name = $2")
        .bind(now)
        .bind(&new.name)
        .execute(&mut *tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(Error::not_found("registered model", &new.name).into());
    }
    if let Some(parent) = new.lineage.parent_version {
        require_version(&mut tx, &new.name, parent).await?;
    }
    let version: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = $1",
    )
    .bind(&new.name)
    .fetch_one(&mut *tx)
    .await?;

    sqlx::query(
        "INSERT INTO model_versions (name, version, creation_time, last_updated_time, \
             description, source, run_id, status, stage, format, created_by, signature, \
             parent_version, data_digest, code_ref) \
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&new.name)
    .bind(version)
    .bind(now)
    .bind(&new.description)
    .bind(&new.source)
    .bind(new.run_id.as_deref())
    .bind(ModelVersionStatus::Ready.as_str())
    .bind(Stage::Prototype.as_str())
    .bind(new.format.as_str())
    .bind(&new.actor)
    .bind(signature.as_deref())
    .bind(new.lineage.parent_version)
    .bind(new.lineage.data_digest.as_deref())
    .bind(new.lineage.code_ref.as_deref())
    .execute(&mut *tx)
    .await?;

    let insert = "INSERT INTO model_version_files (name, version, path, digest, size)";
    insert_rows(&mut tx, insert, "", 5, &new.files, |arguments, file| {
        arguments.add(new.name.as_str())?;
        arguments.add(version)?;
        arguments.add(file.path.as_str())?;
        arguments.add(file.digest.as_str())?;
        arguments.add(i64::try_from(file.size)?)
    })
    .await?;
    insert_tags(&mut tx, &new.name, version, &tags).await?;
    sqlx::query(
        "INSERT INTO lifecycle_events (name, version, from_stage, to_stage, actor, event_time, \
             reason, evidence_kind, evidence_reference) \
         VALUES ($1, $2, NULL, $3, $4, $5, $6, NULL, NULL)",
    )
    .bind(&new.name)
    .bind(version)
    .bind(Stage::Prototype.as_str())
    .bind(&new.actor)
    .bind(now)
    .bind(&new.reason)
    .execute(&mut *tx)
    .await?;

    let model_version = load_one(&mut tx, &new.name, version).await?;
    tx.commit().await?;
    Ok(model_version)
}

pub(crate) async fn get(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
) -> Result<ModelVersion> {
    let mut connection = store.pool.acquire().await?;
    load_one(&mut connection, name, version).await
}

/// The versions of a model, oldest first.
pub(crate) async fn list(store: &SqlMetadataStore, name: &str) -> Result<Vec<ModelVersion>> {
    let mut connection = store.pool.acquire().await?;
    let versions = load(&mut connection, name, None).await?;
    if versions.is_empty() {
        require_model(&mut connection, name).await?;
    }
    Ok(versions)
}

pub(crate) async fn set_tag(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    tag: &Tag,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_version(&mut tx, name, version).await?;
    insert_tags(&mut tx, name, version, &[tag]).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses with `NotFound` (of the model, or else of the version) unless the version exists.
pub(crate) async fn require_version(
    connection: &mut AnyConnection,
    name: &str,
    version: i64,
) -> Result<()> {
    let exists = sqlx::query("SELECT 1 FROM model_versions WHERE name = $1 AND version = $2")
        .bind(name)
        .bind(version)
        .fetch_optional(&mut *connection)
        .await?;
    if exists.is_none() {
        require_model(connection, name).await?;
        return Err(not_found(name, version));
    }
    Ok(())
}

pub(crate) fn not_found(name: &str, version: i64) -> StoreError {
    Error::not_found("model version", format!("{name}/{version}")).into()
}

async fn insert_tags(
    connection: &mut AnyConnection,
    name: &str,
    version: i64,
    tags: &[&Tag],
) -> Result<()> {
    let insert = "INSERT INTO model_version_tags (name, version, key, value)";
    upsert_tags(
        connection,
        insert,
        "name, version, key",
        2,
        tags,
        |arguments| {
            arguments.add(name)?;
            arguments.add(version)
        },
    )
    .await
}

pub(crate) async fn load_one(
    connection: &mut AnyConnection,
    name: &str,
    version: i64,
) -> Result<ModelVersion> {
    match load(connection, name, Some(version)).await?.pop() {
        Some(model_version) => Ok(model_version),
        None => {
            require_model(connection, name).await?;
            Err(not_found(name, version))
        }
    }
}

/// Loads one version or all versions of a model, with files (by path), tags (by key) and
/// aliases (by name): four queries whatever the number of versions.
async fn load(
    connection: &mut AnyConnection,
    name: &str,
    version: Option<i64>,
) -> Result<Vec<ModelVersion>> {
    let condition = if version.is_some() {
        "name = $1 AND version = $2"
    } else {
        "name = $1"
    };
    let arguments = || -> Result<AnyArguments<'_>> {
        let mut arguments = AnyArguments::default();
        arguments.add(name).map_err(sqlx::Error::Encode)?;
        if let Some(version) = version {
            arguments.add(version).map_err(sqlx::Error::Encode)?;
        }
        Ok(arguments)
    };
    let sql = format!(
        "SELECT name, version, creation_time, last_updated_time, description, source, run_id, \
                status, stage, format, created_by, signature, parent_version, data_digest, \
                code_ref \
         FROM model_versions WHERE {condition} ORDER BY version"
    );
    let rows = sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?;
    let mut versions = rows
        .iter()
        .map(version_from_row)
        .collect::<Result<Vec<_>>>()?;
    if versions.is_empty() {
        return Ok(versions);
    }
    let position: HashMap<i64, usize> = versions
        .iter()
        .enumerate()
        .map(|(position, v)| (v.version, position))
        .collect();

    let sql = format!(
        "SELECT version, path, digest, size FROM model_version_files WHERE {condition} \
         ORDER BY version, path"
    );
    for row in sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<i64, _>(0)?) {
            let size = convert_stored("model_version_files.size", row.try_get(3)?)?;
            let file = ArtifactFile {
                path: row.try_get(1)?,
                digest: row.try_get(2)?,
                size,
            };
            versions[position].files.push(file);
        }
    }
    let sql = format!(
        "SELECT version, key, value FROM model_version_tags WHERE {condition} \
         ORDER BY version, key"
    );
    for row in sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<i64, _>(0)?) {
            versions[position].tags.push(Tag {
                key: row.try_get(1)?,
                value: row.try_get(2)?,
            });
        }
    }
    let sql = format!(
        "SELECT version, alias FROM registered_model_aliases WHERE {condition} \
         ORDER BY version, alias"
    );
    for row in sqlx::query_with(&sql, arguments()?)
        .fetch_all(&mut *connection)
        .await?
    {
        if let Some(&position) = position.get(&row.try_get::<i64, _>(0)?) {
            versions[position].aliases.push(row.try_get(1)?);
        }
    }
    Ok(versions)
}

fn version_from_row(row: &AnyRow) -> Result<ModelVersion> {
    let status: String = row.try_get(7)?;
    let stage: String = row.try_get(8)?;
    let format: String = row.try_get(9)?;
    let signature: Option<String> = row.try_get(11)?;
    let signature = signature
        .map(|json| serde_json::from_str::<Signature>(&json))
        .transpose()
        .map_err(|error| StoreError::Corrupt {
            what: format!("model_versions.signature is not a signature: {error}"),
        })?;
    Ok(ModelVersion {
        name: row.try_get(0)?,
        version: row.try_get(1)?,
        creation_time: row.try_get(2)?,
        last_updated_time: row.try_get(3)?,
        description: row.try_get(4)?,
        source: row.try_get(5)?,
        run_id: row.try_get(6)?,
        status: parse_stored("model_versions.status", &status, ModelVersionStatus::parse)?,
        stage: parse_stored("model_versions.stage", &stage, |s| s.parse().ok())?,
        format: parse_stored("model_versions.format", &format, ModelFormat::parse)?,
        created_by: row.try_get(10)?,
        signature,
        lineage: Lineage {
            parent_version: row.try_get(12)?,
            data_digest: row.try_get(13)?,
            code_ref: row.try_get(14)?,
        },
        files: Vec::new(),
        tags: Vec::new(),
        aliases: Vec::new(),
    })
}

pub(crate) async fn set_description(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    description: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_version(&mut tx, name, version).await?;
    sqlx::query(
        "UPDATE model_versions SET description = $1, last_updated_time = $2 \
         WHERE name = $3 AND version = $4",
    )
    .bind(description)
    .bind(crate::now_millis())
    .bind(name)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn delete_tag(
    store: &SqlMetadataStore,
    name: &str,
    version: i64,
    key: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_version(&mut tx, name, version).await?;
    let result =
        sqlx::query("DELETE FROM model_version_tags WHERE name = $1 AND version = $2 AND key = $3")
            .bind(name)
            .bind(version)
            .bind(key)
            .execute(&mut *tx)
            .await?;
    if result.rows_affected() == 0 {
        return Err(Error::not_found("model version tag", key).into());
    }
    tx.commit().await?;
    Ok(())
}
