//! The artifact tree of the MLflow artifact proxy: which blob each path holds.

use bascule_core::ArtifactEntry;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, convert_stored};
use crate::{SqlMetadataStore, now_millis};

pub(crate) async fn put(store: &SqlMetadataStore, entry: &ArtifactEntry) -> Result<()> {
    let size = i64::try_from(entry.size).map_err(|_| {
        bascule_core::Error::invalid(format!("artifact {} is too large", entry.path))
    })?;
    sqlx::query(
        "INSERT INTO mlflow_artifacts (path, digest, size, updated_time) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (path) DO UPDATE SET digest = excluded.digest, size = excluded.size, \
                                          updated_time = excluded.updated_time",
    )
    .bind(&entry.path)
    .bind(&entry.digest)
    .bind(size)
    .bind(now_millis())
    .execute(&store.pool)
    .await?;
    Ok(())
}

pub(crate) async fn get(store: &SqlMetadataStore, path: &str) -> Result<Option<ArtifactEntry>> {
    let row = sqlx::query("SELECT path, digest, size FROM mlflow_artifacts WHERE path = $1")
        .bind(path)
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// Every file under `directory/` (the whole tree when `directory` is empty), by path. On
/// SQLite (byte order) a range on the primary key: `directory/` ≤ path < `directory0`
/// (`0` follows `/`); PostgreSQL's collation may not order bytes, so it compares prefixes.
pub(crate) async fn list(store: &SqlMetadataStore, directory: &str) -> Result<Vec<ArtifactEntry>> {
    let directory = directory.trim_end_matches('/');
    let rows = if directory.is_empty() {
        sqlx::query("SELECT path, digest, size FROM mlflow_artifacts ORDER BY path")
            .fetch_all(&store.pool)
            .await?
    } else if store.is_sqlite() {
        sqlx::query(
            "SELECT path, digest, size FROM mlflow_artifacts \
             WHERE path >= $1 AND path < $2 ORDER BY path",
        )
        .bind(format!("{directory}/"))
        .bind(format!("{directory}0"))
        .fetch_all(&store.pool)
        .await?
    } else {
        let prefix = format!("{directory}/");
        let sql = format!(
            "SELECT path, digest, size FROM mlflow_artifacts \
             WHERE substr(path, 1, {}) = $1 ORDER BY path",
            prefix.chars().count()
        );
        sqlx::query(&sql)
            .bind(prefix)
            .fetch_all(&store.pool)
            .await?
    };
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(row: &AnyRow) -> Result<ArtifactEntry> {
    Ok(ArtifactEntry {
        path: row.try_get(0)?,
        digest: row.try_get(1)?,
        size: convert_stored("mlflow_artifacts.size", row.try_get(2)?)?,
    })
}
