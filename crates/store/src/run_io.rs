//! What runs take in (data sets, logged models) and give out (logged models).

use std::collections::HashMap;

use bascule_core::{Dataset, DatasetInput, Error, ModelLink, RunIo, Tag};
use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::{ROWS_PER_STATEMENT, insert_rows, placeholder_list};
use crate::error::Result;
use crate::runs::require_active;

const INPUT: &str = "input";
const OUTPUT: &str = "output";

pub(crate) async fn log_inputs(
    store: &SqlMetadataStore,
    run_id: &str,
    datasets: &[DatasetInput],
    models: &[ModelLink],
) -> Result<()> {
    let tags: Vec<String> = datasets
        .iter()
        .map(|input| serde_json::to_string(&input.tags))
        .collect::<Result<_, _>>()
        .map_err(|error| Error::internal("cannot encode data set tags", error))?;
    let rows: Vec<(&DatasetInput, &String)> = datasets.iter().zip(&tags).collect();
    let mut tx = store.begin_write().await?;
    require_active(&mut tx, run_id).await?;
    let insert = "INSERT INTO run_dataset_inputs \
                  (run_uuid, name, digest, source_type, source, schema, profile, tags)";
    insert_rows(
        &mut tx,
        insert,
        "ON CONFLICT DO NOTHING",
        8,
        &rows,
        |arguments, (input, tags)| {
            let dataset = &input.dataset;
            arguments.add(run_id)?;
            arguments.add(dataset.name.as_str())?;
            arguments.add(dataset.digest.as_str())?;
            arguments.add(dataset.source_type.as_str())?;
            arguments.add(dataset.source.as_str())?;
            arguments.add(dataset.schema.as_deref())?;
            arguments.add(dataset.profile.as_deref())?;
            arguments.add(tags.as_str())
        },
    )
    .await?;
    link_models(&mut tx, run_id, INPUT, models).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn log_outputs(
    store: &SqlMetadataStore,
    run_id: &str,
    models: &[ModelLink],
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    require_active(&mut tx, run_id).await?;
    link_models(&mut tx, run_id, OUTPUT, models).await?;
    tx.commit().await?;
    Ok(())
}

async fn link_models(
    connection: &mut AnyConnection,
    run_id: &str,
    direction: &str,
    models: &[ModelLink],
) -> Result<()> {
    let insert = "INSERT INTO run_model_links (run_uuid, direction, model_id, step)";
    insert_rows(
        connection,
        insert,
        "ON CONFLICT (run_uuid, direction, model_id) DO UPDATE SET step = excluded.step",
        4,
        models,
        |arguments, model| {
            arguments.add(run_id)?;
            arguments.add(direction)?;
            arguments.add(model.model_id.as_str())?;
            arguments.add(model.step)
        },
    )
    .await?;
    Ok(())
}

/// The inputs and outputs of each run, in the order given: two queries per chunk of runs.
pub(crate) async fn load(store: &SqlMetadataStore, run_ids: &[String]) -> Result<Vec<RunIo>> {
    let mut result: Vec<RunIo> = run_ids
        .iter()
        .map(|run_id| RunIo {
            run_id: run_id.clone(),
            ..RunIo::default()
        })
        .collect();
    let position: HashMap<&str, usize> = run_ids
        .iter()
        .enumerate()
        .map(|(position, run_id)| (run_id.as_str(), position))
        .collect();
    let mut connection = store.pool.acquire().await?;
    for chunk in run_ids.chunks(ROWS_PER_STATEMENT) {
        let arguments = || -> Result<AnyArguments<'_>> {
            let mut arguments = AnyArguments::default();
            for run_id in chunk {
                arguments
                    .add(run_id.as_str())
                    .map_err(sqlx::Error::Encode)?;
            }
            Ok(arguments)
        };
        let list = placeholder_list(chunk.len(), 0);
        let sql = format!(
            "SELECT run_uuid, name, digest, source_type, source, schema, profile, tags \
             FROM run_dataset_inputs WHERE run_uuid IN ({list}) ORDER BY run_uuid, name, digest"
        );
        for row in sqlx::query_with(&sql, arguments()?)
            .fetch_all(&mut *connection)
            .await?
        {
            let run_id: String = row.try_get(0)?;
            let tags: String = row.try_get(7)?;
            let tags: Vec<Tag> = serde_json::from_str(&tags)
                .map_err(|error| Error::internal("stored data set tags are not JSON", error))?;
            if let Some(&position) = position.get(run_id.as_str()) {
                result[position].dataset_inputs.push(DatasetInput {
                    dataset: Dataset {
                        name: row.try_get(1)?,
                        digest: row.try_get(2)?,
                        source_type: row.try_get(3)?,
                        source: row.try_get(4)?,
                        schema: row.try_get(5)?,
                        profile: row.try_get(6)?,
                    },
                    tags,
                });
            }
        }
        let sql = format!(
            "SELECT run_uuid, direction, model_id, step FROM run_model_links \
             WHERE run_uuid IN ({list}) ORDER BY run_uuid, step, model_id"
        );
        for row in sqlx::query_with(&sql, arguments()?)
            .fetch_all(&mut *connection)
            .await?
        {
            let run_id: String = row.try_get(0)?;
            let direction: String = row.try_get(1)?;
            let link = ModelLink {
                model_id: row.try_get(2)?,
                step: row.try_get(3)?,
            };
            if let Some(&position) = position.get(run_id.as_str()) {
                let io = &mut result[position];
                if direction == INPUT {
                    io.model_inputs.push(link);
                } else {
                    io.model_outputs.push(link);
                }
            }
        }
    }
    Ok(result)
}
