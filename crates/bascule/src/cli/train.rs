//! `bascule train`: fits a binary logistic regression (`bascule_stats::logistic`, equal to
//! scikit-learn's `StandardScaler` + `LogisticRegression(C)`) on a CSV or Parquet data
//! set, writes it as ONNX (`bascule_runtime::onnx`) — a bare `.onnx` file or an MLflow
//! model directory — and optionally registers it as a new version the way
//! `bascule models register` does.
//!
//! A retraining trigger runs it with the environment it sets: the exported data set
//! (`BASCULE_EXPORT_PARQUET`), the version being retrained (`BASCULE_PARENT_VERSION`),
//! the feedback that caused it (`BASCULE_FEEDBACK_ID`) and the server (`BASCULE_URL`),
//! so `bascule train --label rain --register rainfall` is the whole command.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use bascule_core::{LoadedModel, Tensor, TensorData};
use bascule_datasets::{ColumnValues, Frame};
use bascule_runtime::TractEngine;
use bascule_runtime::onnx::{LogisticModel, logistic_regression_model};
use bascule_runtime::package::write_model_dir;
use bascule_stats::StatsError;
use bascule_stats::logistic::{LogisticConfig, LogisticFit, fit_logistic};
use clap::Args;
use sha2::{Digest, Sha256};

use super::client::Client;
use super::models::{ModelUpload, register_version};
use super::tracking::{TrainingRun, log_training_run};

/// Rows of the training data written as the MLflow input example.
const EXAMPLE_ROWS: usize = 5;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The training data set: a .csv or .parquet file.
    #[arg(long, env = "BASCULE_EXPORT_PARQUET")]
    data: PathBuf,
    /// The label column: 0 and 1 (1 is the positive class).
    #[arg(long)]
    label: String,
    /// The feature columns, in the model's input order (default: every numeric column but
    /// the label and a row-index column, in file order).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Train on rows START..END only (0-based, END excluded).
    #[arg(long, value_parser = parse_rows, value_name = "START..END")]
    rows: Option<Range<usize>>,
    /// Inverse L2 penalty strength, as scikit-learn's `C`.
    #[arg(long, default_value_t = 1.0)]
    c: f64,
    /// Newton steps allowed before the fit is declared not converged.
    #[arg(long, default_value_t = 100)]
    max_iterations: usize,
    /// Fit on the raw features instead of standardising them first.
    #[arg(long)]
    no_standardize: bool,
    /// Where to write the model: a path ending in .onnx, or a directory to create as an
    /// MLflow model directory. Optional with --register.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Register the model as a new version of this registered model.
    #[arg(long, value_name = "NAME")]
    register: Option<String>,
    /// With --register: the version this one was retrained from.
    #[arg(long, env = "BASCULE_PARENT_VERSION")]
    parent: Option<i64>,
    /// With --register: the feedback (retraining trigger) that produced this version.
    #[arg(long, env = "BASCULE_FEEDBACK_ID")]
    feedback: Option<String>,
    /// The server a retraining trigger names; --server (or BASCULE_SERVER) wins over it.
    #[arg(long = "trigger-server", env = "BASCULE_URL", hide = true)]
    pub trigger_server: Option<String>,
}

fn parse_rows(text: &str) -> Result<Range<usize>, String> {
    let (start, end) = text
        .split_once("..")
        .ok_or_else(|| format!("'{text}' is not START..END (e.g. 0..6000)"))?;
    let number = |part: &str| {
        part.trim()
            .parse::<usize>()
            .map_err(|_| format!("'{part}' in '{text}' is not a row number"))
    };
    let (start, end) = (number(start)?, number(end)?);
    if start >= end {
        return Err(format!("'{text}' selects no rows: START must be below END"));
    }
    Ok(start..end)
}

/// The rows and columns a model is fitted on.
struct TrainingSet {
    feature_names: Vec<String>,
    columns: Vec<Vec<f64>>,
    labels: Vec<f64>,
    /// Each training row's index in the file, for messages.
    row_numbers: Vec<usize>,
    /// Rows of the selection left out because their label is missing (production rows
    /// whose ground truth never arrived, in an export).
    unlabelled: usize,
}

pub async fn run(args: TrainArgs, client: Client) -> anyhow::Result<()> {
    if args.out.is_none() && args.register.is_none() {
        bail!("nothing to do with the model: give --out FILE.onnx|DIR, --register NAME, or both");
    }
    let path = args.data.clone();
    let (frame, digest) = tokio::task::spawn_blocking(move || read_data(&path))
        .await
        .context("the data reader stopped")??;
    let set = training_set(&frame, &args)?;
    let config = LogisticConfig {
        c: args.c,
        max_iterations: args.max_iterations,
        standardize: !args.no_standardize,
        ..LogisticConfig::default()
    };
    let (fit, auc, set) = tokio::task::spawn_blocking(move || fit(set, &config))
        .await
        .context("the fit stopped")??;
    print_fit(&fit, auc, &set, &args);
    let onnx = logistic_regression_model(&LogisticModel {
        means: fit.model.means.clone(),
        scales: fit.model.scales.clone(),
        coefficients: fit.model.coefficients.clone(),
        intercept: fit.model.intercept,
        feature_names: set.feature_names.clone(),
    })?;
    if let Some(out) = &args.out {
        write_model(out, &onnx, &set)?;
        println!("wrote {}", out.display());
    }
    let Some(name) = &args.register else {
        return Ok(());
    };
    let feedback = args
        .feedback
        .clone()
        .filter(|feedback| !feedback.is_empty());
    let run_id = log_training_run(
        &client,
        TrainingRun {
            experiment: name,
            run_name: match args.parent {
                Some(parent) => format!("{name} retrained from v{parent}"),
                None => format!("{name} logistic regression"),
            },
            params: vec![
                ("model", "logistic regression".to_owned()),
                ("C", args.c.to_string()),
                ("standardised", (!args.no_standardize).to_string()),
                ("label", args.label.clone()),
                ("features", set.feature_names.join(",")),
                ("data", args.data.display().to_string()),
                ("data_digest", digest.clone()),
                ("rows", set.labels.len().to_string()),
            ],
            metrics: vec![
                ("training_log_loss", fit.log_loss),
                ("training_roc_auc", auc),
                ("newton_steps", fit.iterations as f64),
            ],
            curve: ("objective_per_row", fit.objectives.clone()),
            tags: [
                Some(("mlflow.source.name", "bascule train".to_owned())),
                feedback.clone().map(|id| ("bascule.feedback_id", id)),
            ]
            .into_iter()
            .flatten()
            .collect(),
            artifact: ("model.onnx", onnx.clone()),
        },
    )
    .await?;
    println!("logged run {run_id} in experiment '{name}'");
    let mut query = vec![
        ("run_id", run_id),
        (
            "description",
            format!(
                "logistic regression (C={}) trained by bascule train on {} rows of {}",
                args.c,
                set.labels.len(),
                args.data.display()
            ),
        ),
        ("source", args.data.display().to_string()),
        ("data_digest", digest),
        (
            "code_ref",
            format!("bascule train {}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    query.extend(args.parent.map(|parent| ("parent", parent.to_string())));
    query.extend(feedback.map(|feedback| ("feedback", feedback)));
    let upload = match &args.out {
        Some(out) => ModelUpload::Path(out),
        None => ModelUpload::Onnx(onnx),
    };
    register_version(&client, name, &query, upload).await
}

/// The data set and the sha256 of its bytes (the version's `data_digest`).
fn read_data(path: &Path) -> anyhow::Result<(Frame, String)> {
    let cannot_read = || format!("cannot read the data set {}", path.display());
    let frame = bascule_datasets::read_path(path).with_context(cannot_read)?;
    let mut file = std::fs::File::open(path).with_context(cannot_read)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(cannot_read)?;
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok((frame, format!("sha256:{digest}")))
}

/// A column a writer added for its row index rather than a feature.
fn is_row_index(name: &str) -> bool {
    name.is_empty() || name.starts_with("Unnamed: ") || name.starts_with("__index_level_")
}

fn numeric<'a>(frame: &'a Frame, name: &str, role: &str) -> anyhow::Result<&'a [f64]> {
    let column = frame.column(name).ok_or_else(|| {
        let names: Vec<&str> = frame.names().collect();
        anyhow!(
            "the data set has no {role} column '{name}' (its columns: {})",
            names.join(", ")
        )
    })?;
    column
        .values
        .as_numeric()
        .ok_or_else(|| anyhow!("the {role} column '{name}' holds text; it must be numeric"))
}

fn training_set(frame: &Frame, args: &TrainArgs) -> anyhow::Result<TrainingSet> {
    let labels = numeric(frame, &args.label, "label")?;
    let feature_names: Vec<String> = match &args.features {
        Some(names) => names.clone(),
        None => frame
            .columns()
            .iter()
            .filter(|column| {
                column.name != args.label
                    && !is_row_index(&column.name)
                    && matches!(column.values, ColumnValues::Numeric(_))
            })
            .map(|column| column.name.clone())
            .collect(),
    };
    if feature_names.is_empty() {
        bail!(
            "the data set has no numeric feature column besides the label '{}'",
            args.label
        );
    }
    let rows = args.rows.clone().unwrap_or(0..frame.n_rows());
    if rows.end > frame.n_rows() {
        bail!(
            "--rows {}..{} goes past the data set's {} rows",
            rows.start,
            rows.end,
            frame.n_rows()
        );
    }
    // A missing label (an empty cell) leaves its row out; any other odd label is refused
    // by the fit, naming its row.
    let row_numbers: Vec<usize> = rows.clone().filter(|&row| !labels[row].is_nan()).collect();
    let unlabelled = rows.len() - row_numbers.len();
    let mut columns = Vec::with_capacity(feature_names.len());
    for name in &feature_names {
        if *name == args.label {
            bail!("the label '{name}' cannot also be a feature");
        }
        let values = numeric(frame, name, "feature")?;
        columns.push(row_numbers.iter().map(|&row| values[row]).collect());
    }
    Ok(TrainingSet {
        feature_names,
        columns,
        labels: row_numbers.iter().map(|&row| labels[row]).collect(),
        row_numbers,
        unlabelled,
    })
}

/// Fits the model and scores it on its own training rows (ROC AUC).
fn fit(
    set: TrainingSet,
    config: &LogisticConfig,
) -> anyhow::Result<(LogisticFit, f64, TrainingSet)> {
    let columns: Vec<&[f64]> = set.columns.iter().map(Vec::as_slice).collect();
    let fit = fit_logistic(&columns, &set.labels, config).map_err(|error| explain(error, &set))?;
    let probabilities = fit.model.predict_proba(&columns)?;
    let auc = bascule_stats::metrics::roc_auc(&set.labels, &probabilities)?;
    Ok((fit, auc, set))
}

/// A fitting error in the data set's terms: column names and row numbers of the file.
fn explain(error: StatsError, set: &TrainingSet) -> anyhow::Error {
    match error {
        StatsError::NonFiniteFeature { column, row, value } => anyhow!(
            "feature '{}' has a missing or non-finite value ({value}) at row {}: drop or impute missing values first",
            set.feature_names[column],
            set.row_numbers.get(row).copied().unwrap_or(row)
        ),
        StatsError::NonFinite { index, value, .. } => anyhow!(
            "the label has a missing or non-finite value ({value}) at row {}",
            set.row_numbers.get(index).copied().unwrap_or(index)
        ),
        StatsError::NotBinary { index, value, .. } => anyhow!(
            "the label holds {value} at row {}: labels must be 0 or 1",
            set.row_numbers.get(index).copied().unwrap_or(index)
        ),
        StatsError::Empty { .. } => anyhow!("the training rows are empty"),
        other => anyhow!(other),
    }
}

fn print_fit(fit: &LogisticFit, auc: f64, set: &TrainingSet, args: &TrainArgs) {
    println!(
        "logistic regression on {} rows x {} features (C={}, {}standardised)",
        set.labels.len(),
        set.feature_names.len(),
        args.c,
        if args.no_standardize { "not " } else { "" }
    );
    println!(
        "  converged in {} Newton steps (gradient {:.1e})",
        fit.iterations, fit.gradient
    );
    if set.unlabelled > 0 {
        println!(
            "  left out {} rows without a label (ground truth not arrived)",
            set.unlabelled
        );
    }
    println!("  training log-loss {:.6}", fit.log_loss);
    println!("  training ROC AUC  {auc:.6}");
    println!("  intercept {:+.6}", fit.model.intercept);
    for (name, coefficient) in set.feature_names.iter().zip(&fit.model.coefficients) {
        println!("  {name:<28} {coefficient:+.6}");
    }
}

/// Writes a bare `.onnx` file, or a new MLflow model directory with an input example of
/// the first training rows.
fn write_model(out: &Path, onnx: &[u8], set: &TrainingSet) -> anyhow::Result<()> {
    if out.extension().is_some_and(|extension| extension == "onnx") {
        return std::fs::write(out, onnx)
            .with_context(|| format!("cannot write {}", out.display()));
    }
    if out.exists() && std::fs::read_dir(out).map_or(true, |mut entries| entries.next().is_some()) {
        bail!(
            "{} already exists and is not an empty directory; choose a new --out",
            out.display()
        );
    }
    let model = TractEngine::new().load_model(onnx)?;
    let n_rows = set.labels.len().min(EXAMPLE_ROWS);
    let example: Vec<f32> = (0..n_rows)
        .flat_map(|row| set.columns.iter().map(move |column| column[row] as f32))
        .collect();
    let example = Tensor::new(
        "input",
        vec![n_rows, set.columns.len()],
        TensorData::Fp32(example),
    )
    .map_err(|message| anyhow!(message))?;
    let files = write_model_dir(onnx, model.signature(), Some(&[example]))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (relative, content) in files {
        let path = out.join(&relative);
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_a_half_open_range() {
        assert_eq!(parse_rows("0..6000"), Ok(0..6000));
        assert_eq!(parse_rows(" 12000 .. 14000 "), Ok(12000..14000));
        assert!(parse_rows("6000").unwrap_err().contains("START..END"));
        assert!(parse_rows("5..5").unwrap_err().contains("below END"));
        assert!(parse_rows("a..5").unwrap_err().contains("'a'"));
    }

    #[test]
    fn index_columns_written_by_pandas_are_not_features() {
        for name in ["", "Unnamed: 0", "__index_level_0__"] {
            assert!(is_row_index(name), "{name}");
        }
        assert!(!is_row_index("temperature"));
    }
}
