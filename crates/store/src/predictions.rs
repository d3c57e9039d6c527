//! The prediction log: every answered request of every serving version, appended in
//! batches by the serving layer's writer task.

mod encoding;

use bascule_core::{Error, PredictionRecord, Role, Tensor};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::insert_rows;
use crate::error::{Result, parse_stored};

const COLUMNS: &str = "request_id, name, version, role, prediction_time, latency_micros, inputs, \
                       outputs, error, agrees_with_live";
const N_COLUMNS: usize = 10;

/// Appends the records in one transaction, a few hundred rows per statement.
#[tracing::instrument(level = "debug", skip_all, fields(n_records = records.len()))]
pub(crate) async fn insert(store: &SqlMetadataStore, records: &[PredictionRecord]) -> Result<u64> {
    if records.is_empty() {
        return Ok(0);
    }
    let encoded = records
        .iter()
        .map(|record| Ok((encode(&record.inputs)?, encode(&record.outputs)?)))
        .collect::<Result<Vec<_>>>()?;
    let rows: Vec<(&PredictionRecord, &(String, String))> = records.iter().zip(&encoded).collect();
    let mut tx = store.begin_write().await?;
    let inserted = insert_rows(
        &mut tx,
        &format!("INSERT INTO predictions ({COLUMNS})"),
        "",
        N_COLUMNS,
        &rows,
        |arguments, (record, (inputs, outputs))| {
            arguments.add(record.request_id.as_str())?;
            arguments.add(record.name.as_str())?;
            arguments.add(record.version)?;
            arguments.add(record.role.as_str())?;
            arguments.add(record.time)?;
            arguments.add(record.latency_micros)?;
            arguments.add(inputs.as_str())?;
            arguments.add(outputs.as_str())?;
            arguments.add(record.error.as_deref())?;
            arguments.add(record.agrees_with_live.map(i64::from))
        },
    )
    .await?;
    tx.commit().await?;
    Ok(inserted)
}

/// The newest records of a model, or of one request, newest first.
pub(crate) async fn list(
    store: &SqlMetadataStore,
    name: &str,
    request_id: Option<&str>,
    limit: i64,
) -> Result<Vec<PredictionRecord>> {
    let mut arguments = AnyArguments::default();
    arguments.add(name).map_err(sqlx::Error::Encode)?;
    arguments.add(limit.max(0)).map_err(sqlx::Error::Encode)?;
    let condition = match request_id {
        Some(request_id) => {
            arguments.add(request_id).map_err(sqlx::Error::Encode)?;
            "name = $1 AND request_id = $3"
        }
        None => "name = $1",
    };
    let sql =
        format!("SELECT {COLUMNS} FROM predictions WHERE {condition} ORDER BY id DESC LIMIT $2");
    let rows = sqlx::query_with(&sql, arguments)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

fn encode(tensors: &[Tensor]) -> Result<String> {
    Ok(encoding::encode(tensors)
        .map_err(|error| Error::internal("cannot encode a prediction's tensors", error))?)
}

fn decode(column: &str, text: &str) -> Result<Vec<Tensor>> {
    parse_stored(column, text, encoding::decode)
}

fn from_row(row: &AnyRow) -> Result<PredictionRecord> {
    record_from_row(row, 0)
}

/// A record from the columns of [`COLUMNS`], starting at column `at`.
pub(crate) fn record_from_row(row: &AnyRow, at: usize) -> Result<PredictionRecord> {
    let role: String = row.try_get(at + 3)?;
    let inputs: String = row.try_get(at + 6)?;
    let outputs: String = row.try_get(at + 7)?;
    let agrees: Option<i64> = row.try_get(at + 9)?;
    Ok(PredictionRecord {
        request_id: row.try_get(at)?,
        name: row.try_get(at + 1)?,
        version: row.try_get(at + 2)?,
        role: parse_stored("predictions.role", &role, |role| role.parse::<Role>().ok())?,
        time: row.try_get(at + 4)?,
        latency_micros: row.try_get(at + 5)?,
        inputs: decode("predictions.inputs", &inputs)?,
        outputs: decode("predictions.outputs", &outputs)?,
        error: row.try_get(at + 8)?,
        agrees_with_live: agrees.map(|agrees| agrees == 1),
    })
}
