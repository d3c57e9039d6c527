//! The data set exported with a feedback item: the version's recent production traffic,
//! one row per predicted row — request id, prediction id, time, the features (read out of
//! the logged tensors with the gate's input mapping), the prediction (and class
//! probabilities) and the ground-truth label where it arrived, under the label column's
//! name from validation, so the export trains like the original data. Written as CSV and
//! Parquet to the artifact store.

use bascule_core::{Error, FeedbackExport, FeedbackItem, LoggedPrediction};
use bascule_datasets::{Column, Format, Frame};
use bytes::Bytes;

use super::FEEDBACK_ACTOR;
use crate::gate::ReferenceProfile;
use crate::gate::metrics::Predictions;
use crate::gate::policy::Task;
use crate::monitoring::window::{self, Values};
use crate::{LifecycleError, Registry};

/// A production data set read back out of the log, with what it covers.
pub(crate) struct ProductionData {
    pub frame: Frame,
    pub labelled: u64,
    pub first_prediction: i64,
    pub last_prediction: i64,
}

impl Registry {
    /// Writes the item's export and records it on the item.
    pub(crate) async fn export_feedback(
        &self,
        item: &FeedbackItem,
    ) -> Result<FeedbackItem, LifecycleError> {
        let limit = self.feedback_config().export_rows as i64;
        let predictions = self
            .store()
            .recent_predictions(&item.name, Some(item.version), 0, false, limit)
            .await?;
        let data = self
            .production_data(&item.name, item.version, predictions)
            .await?;
        let columns: Vec<String> = data.frame.names().map(str::to_owned).collect();
        let rows = data.frame.n_rows() as u64;
        let (csv, parquet) = tokio::task::spawn_blocking(move || encode(&data.frame))
            .await
            .map_err(|error| Error::internal("the export failed", error))??;
        let csv_blob = self.artifacts().put_bytes(csv).await?;
        let parquet_blob = self.artifacts().put_bytes(parquet).await?;
        let export = FeedbackExport {
            csv_digest: csv_blob.digest,
            csv_size: csv_blob.size,
            parquet_digest: parquet_blob.digest,
            parquet_size: parquet_blob.size,
            rows,
            labelled: data.labelled,
            columns,
            first_prediction: data.first_prediction,
            last_prediction: data.last_prediction,
            created_time: bascule_core::now_millis(),
        };
        self.store().set_feedback_export(item.id, &export).await?;
        self.note(
            item.id,
            "export",
            FEEDBACK_ACTOR,
            &format!(
                "exported {rows} rows ({} labelled) of production traffic, predictions {}..{}",
                export.labelled, export.first_prediction, export.last_prediction
            ),
        )
        .await;
        Ok(self.store().get_feedback(item.id).await?)
    }

    /// The bytes of an item's export, as CSV or Parquet.
    pub async fn feedback_export(
        &self,
        id: i64,
        format: Format,
    ) -> Result<(FeedbackExport, Bytes), LifecycleError> {
        let item = self.store().get_feedback(id).await?;
        let Some(export) = item.export else {
            return Err(Error::not_found("export of feedback item", id).into());
        };
        let digest = match format {
            Format::Csv => &export.csv_digest,
            Format::Parquet => &export.parquet_digest,
        };
        let bytes = self.artifacts().get(digest).await?;
        Ok((export, bytes))
    }

    /// Logged predictions as a data set with the version's features and label column.
    pub(crate) async fn production_data(
        &self,
        name: &str,
        version: i64,
        predictions: Vec<LoggedPrediction>,
    ) -> Result<ProductionData, LifecycleError> {
        let Some((_, report)) = self.validation_report(name, version).await? else {
            return Err(Error::FailedPrecondition(format!(
                "{name} version {version} has no validation report, so its features cannot be named"
            ))
            .into());
        };
        let Some(profile) = self.reference_profile(name, version).await? else {
            return Err(Error::FailedPrecondition(format!(
                "{name} version {version} has no reference profile"
            ))
            .into());
        };
        let answered: Vec<LoggedPrediction> = predictions
            .into_iter()
            .filter(|p| p.record.error.is_none() && !p.record.outputs.is_empty())
            .collect();
        if answered.is_empty() {
            return Err(Error::FailedPrecondition(format!(
                "{name} version {version} has no answered predictions to export"
            ))
            .into());
        }
        let label = report.data.label.clone();
        let task = report.task;
        let data = tokio::task::spawn_blocking(move || build(&profile, &answered, task, &label))
            .await
            .map_err(|error| Error::internal("building a production data set failed", error))??;
        Ok(data)
    }
}

fn build(
    profile: &ReferenceProfile,
    answered: &[LoggedPrediction],
    task: Task,
    label: &str,
) -> Result<ProductionData, LifecycleError> {
    let refs: Vec<&LoggedPrediction> = answered.iter().collect();
    let predicted = window::window_predictions(&refs, task)
        .map_err(|reason| {
            Error::FailedPrecondition(format!("cannot read the predictions: {reason}"))
        })?
        .ok_or_else(|| Error::FailedPrecondition("no predictions to export".to_owned()))?;
    let mut request_ids = Vec::new();
    let mut prediction_ids = Vec::new();
    let mut times = Vec::new();
    let mut versions = Vec::new();
    let mut roles = Vec::new();
    let mut labels = Vec::new();
    for logged in answered {
        let rows = logged
            .record
            .inputs
            .first()
            .and_then(|t| t.shape.first())
            .copied()
            .unwrap_or(0);
        for _ in 0..rows {
            request_ids.push(Some(logged.record.request_id.clone()));
            prediction_ids.push(logged.id as f64);
            times.push(logged.record.time as f64);
            versions.push(logged.record.version as f64);
            roles.push(Some(logged.record.role.as_str().to_owned()));
            // A label belongs to a request; only a one-row request's row can carry it.
            labels.push(match (rows, logged.label) {
                (1, Some(label)) => label,
                _ => f64::NAN,
            });
        }
    }
    let mut columns = vec![
        Column::text("request_id", request_ids),
        Column::numeric("prediction_id", prediction_ids),
        Column::numeric("time", times),
        Column::numeric("version", versions),
        Column::text("role", roles),
    ];
    for (feature, values) in window::features(profile, answered) {
        columns.push(match values {
            Values::Numeric(values) => Column::numeric(feature, values),
            Values::Text(values) => Column::text(feature, values),
        });
    }
    match &predicted {
        Predictions::Classes {
            predicted,
            probabilities,
            n_classes,
        } => {
            columns.push(Column::numeric(
                "prediction",
                predicted.iter().map(|&c| c as f64).collect(),
            ));
            for class in 0..*n_classes {
                columns.push(Column::numeric(
                    format!("probability_{class}"),
                    probabilities
                        .chunks(*n_classes)
                        .map(|row| row.get(class).copied().unwrap_or(f64::NAN))
                        .collect(),
                ));
            }
        }
        Predictions::Values(values) => columns.push(Column::numeric("prediction", values.clone())),
    }
    let labelled = labels.iter().filter(|l| !l.is_nan()).count() as u64;
    columns.push(Column::numeric(label, labels));
    let frame = Frame::new(columns)
        .map_err(|error| Error::internal("the export's columns disagree in length", error))?;
    Ok(ProductionData {
        frame,
        labelled,
        first_prediction: answered.first().map_or(0, |p| p.id),
        last_prediction: answered.last().map_or(0, |p| p.id),
    })
}

/// The frame as CSV and as Parquet.
pub(crate) fn encode(frame: &Frame) -> Result<(Bytes, Bytes), LifecycleError> {
    Ok((
        Bytes::from(to_bytes(frame, Format::Csv)?),
        Bytes::from(to_bytes(frame, Format::Parquet)?),
    ))
}

pub(crate) fn to_bytes(frame: &Frame, format: Format) -> Result<Vec<u8>, LifecycleError> {
    let mut bytes = Vec::new();
    let written = match format {
        Format::Csv => bascule_datasets::write_csv(frame, &mut bytes),
        Format::Parquet => bascule_datasets::write_parquet(frame, &mut bytes),
    };
    written.map_err(|error| Error::internal("cannot encode the export", error))?;
    Ok(bytes)
}
