//! `bascule drift --reference A --current B`: the offline drift report of two CSV or
//! Parquet files, printed as a table and optionally written as JSON and as a
//! self-contained HTML page. It runs locally (no server): the files are read with
//! `bascule-datasets`, each column becomes a sample (numeric columns numeric, text
//! columns categorical), and `bascule-monitor` measures the columns in parallel.
//!
//! Exit status: 0 when the report was made, whether or not anything drifted (read the
//! verdicts, or `drift_share` in the JSON); non-zero, with a message, when a file cannot
//! be read, a requested column is in neither file, or the configuration is invalid.

mod html;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use bascule_datasets::{ColumnValues, Format, Frame, TextValues};
use bascule_monitor::{
    CategoricalSample, DriftConfig, DriftReport, FeatureDrift, NumericSample, Sample, Verdict,
    finish_report, measure_feature,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The reference data set (.csv or .parquet): what "no drift" looks like.
    #[arg(long)]
    reference: PathBuf,
    /// The current data set (.csv or .parquet), compared with the reference.
    #[arg(long)]
    current: PathBuf,
    /// Only these columns (comma-separated or repeated); default: every column of either file.
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// A TOML drift configuration (alpha, correction, min_sample_size, effect_floors,
    /// per-feature overrides; see docs/monitoring.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a self-contained HTML page with a histogram per feature to this file.
    #[arg(long)]
    html: Option<PathBuf>,
}

pub async fn run(args: DriftArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the configuration {}", path.display()))?;
            toml::from_str::<DriftConfig>(&text)
                .with_context(|| format!("invalid drift configuration in {}", path.display()))?
        }
        None => DriftConfig::default(),
    };
    config.validate()?;
    let report = tokio::task::spawn_blocking(move || compute(&args, &config).map(|r| (args, r)))
        .await
        .context("the drift computation stopped")?;
    let (args, report) = report?;
    print!("{}", table(&report));
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let page = html::render(&report, &args.reference, &args.current);
        std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Two Parquet files are walked a few columns at a time (only those columns decoded,
/// measured, then dropped), so memory holds a handful of columns rather than both files;
/// CSV files are read whole.
fn compute(args: &DriftArgs, config: &DriftConfig) -> anyhow::Result<DriftReport> {
    let is_parquet = |path: &Path| Format::from_path(path) == Some(Format::Parquet);
    let bar = progress_bar();
    if !(is_parquet(&args.reference) && is_parquet(&args.current)) {
        let reference = read(&args.reference, "reference")?;
        let current = read(&args.current, "current")?;
        let pairs = pair_columns(reference, current, &args.columns)?;
        bar.set_length(pairs.len() as u64);
        let features = measure_all(pairs, config, &bar);
        bar.finish_and_clear();
        return Ok(finish_report(features, config)?);
    }
    let names_of = |path: &Path, side: &str| {
        bascule_datasets::read_column_names(path)
            .with_context(|| format!("cannot read the {side} data set {}", path.display()))
    };
    let reference_names = names_of(&args.reference, "reference")?;
    let current_names = names_of(&args.current, "current")?;
    let mut selected: Vec<String> = reference_names.clone();
    selected.extend(
        current_names
            .iter()
            .filter(|name| !reference_names.contains(name))
            .cloned(),
    );
    if !args.columns.is_empty() {
        check_known(&args.columns, &selected)?;
        selected = args.columns.clone();
    }
    bar.set_length(selected.len() as u64);
    let mut features = Vec::with_capacity(selected.len());
    for group in selected.chunks(2 * workers(selected.len())) {
        let read_group = |path: &Path, names: &[String], side: &str| -> anyhow::Result<Frame> {
            let wanted: Vec<&str> = group
                .iter()
                .filter(|name| names.contains(name))
                .map(String::as_str)
                .collect();
            if wanted.is_empty() {
                return Ok(Frame::default());
            }
            bascule_datasets::read_path_columns(path, &wanted)
                .with_context(|| format!("cannot read the {side} data set {}", path.display()))
        };
        let reference = read_group(&args.reference, &reference_names, "reference")?;
        let current = read_group(&args.current, &current_names, "current")?;
        let pairs = pair_columns(reference, current, group)?;
        features.extend(measure_all(pairs, config, &bar));
    }
    bar.finish_and_clear();
    Ok(finish_report(features, config)?)
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("measuring drift [{bar:30}] {pos}/{len} columns {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn workers(n_columns: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(n_columns.max(1))
}

/// Fails naming every wanted column that is in neither data set.
fn check_known(wanted: &[String], known: &[String]) -> anyhow::Result<()> {
    let unknown: Vec<String> = wanted
        .iter()
        .filter(|name| !known.contains(name))
        .map(|name| format!("'{name}'"))
        .collect();
    if !unknown.is_empty() {
        bail!("no column called {} in either data set", unknown.join(", "));
    }
    Ok(())
}

fn read(path: &Path, side: &str) -> anyhow::Result<Frame> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(format!("reading the {side} data {}", path.display()));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let frame = bascule_datasets::read_path(path)
        .with_context(|| format!("cannot read the {side} data set {}", path.display()));
    spinner.finish_and_clear();
    frame
}

/// One column's values on each side (`None`: absent there).
type ColumnPair = (String, Option<ColumnValues>, Option<ColumnValues>);

/// The columns to compare, in reference order then current-only ones; with `wanted`,
/// exactly those, each of which must be in at least one file.
fn pair_columns(
    reference: Frame,
    current: Frame,
    wanted: &[String],
) -> anyhow::Result<Vec<ColumnPair>> {
    let mut current: BTreeMap<String, ColumnValues> = current
        .into_columns()
        .into_iter()
        .map(|column| (column.name, column.values))
        .collect();
    let mut pairs: Vec<ColumnPair> = reference
        .into_columns()
        .into_iter()
        .map(|column| {
            let in_current = current.remove(&column.name);
            (column.name, Some(column.values), in_current)
        })
        .collect();
    pairs.extend(
        current
            .into_iter()
            .map(|(name, values)| (name, None, Some(values))),
    );
    if wanted.is_empty() {
        return Ok(pairs);
    }
    let known: Vec<String> = pairs.iter().map(|pair| pair.0.clone()).collect();
    check_known(wanted, &known)?;
    let mut by_name: BTreeMap<String, ColumnPair> = pairs
        .into_iter()
        .map(|pair| (pair.0.clone(), pair))
        .collect();
    Ok(wanted
        .iter()
        .filter_map(|name| by_name.remove(name))
        .collect())
}

/// Measures the columns on all cores: each worker takes the next column, turns both
/// sides into samples (sorting numeric values in place) and measures it.
fn measure_all(
    pairs: Vec<ColumnPair>,
    config: &DriftConfig,
    bar: &ProgressBar,
) -> Vec<FeatureDrift> {
    let n_columns = pairs.len();
    let queue = Mutex::new(pairs.into_iter().enumerate().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::with_capacity(n_columns));
    std::thread::scope(|scope| {
        for _ in 0..workers(n_columns) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut queue| queue.pop_front());
                    let Ok(Some((index, (name, reference, current)))) = next else {
                        break;
                    };
                    let reference = reference.map(sample_of);
                    let current = current.map(sample_of);
                    let feature =
                        measure_feature(&name, reference.as_ref(), current.as_ref(), config);
                    if let Ok(mut results) = results.lock() {
                        results.push((index, feature));
                    }
                    bar.inc(1);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, feature)| feature).collect()
}

/// A column's values as a sample: numbers as they are (sorted in place, no copy), text
/// as the count of every value.
fn sample_of(values: ColumnValues) -> Sample<'static> {
    match values {
        ColumnValues::Numeric(numbers) => NumericSample::from_values(numbers).into(),
        ColumnValues::Text(text) => category_counts(&text).into(),
    }
}

fn category_counts(text: &TextValues) -> CategoricalSample {
    let mut per_level = vec![0_u64; text.levels().len()];
    let mut missing = 0;
    for &code in text.codes() {
        match per_level.get_mut(code as usize) {
            Some(count) => *count += 1,
            None => missing += 1,
        }
    }
    let counts = text.levels().iter().cloned().zip(per_level).collect();
    CategoricalSample::from_counts(counts, missing)
}

/// The report as a text table, one feature a line, then the drift share.
fn table(report: &DriftReport) -> String {
    let width = report
        .features
        .iter()
        .map(|feature| feature.name.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!(
        "{:<width$}  {:<14} {:>10} {:>10} {:>10}  {:<24} verdict\n",
        "feature", "test", "statistic", "p (adj.)", "effect", "effect kind"
    );
    let number = |value: Option<f64>| value.map_or("-".to_owned(), format_number);
    for feature in &report.features {
        let verdict = match &feature.verdict {
            Verdict::InsufficientData { reason } => format!("insufficient data: {reason}"),
            other => other.as_str().replace('_', " "),
        };
        out.push_str(&format!(
            "{:<width$}  {:<14} {:>10} {:>10} {:>10}  {:<24} {}\n",
            feature.name,
            feature.test.map_or("-", |test| test.as_str()),
            number(feature.statistic),
            number(feature.adjusted_p_value.or(feature.p_value)),
            number(feature.effect_size),
            feature.effect_kind.map_or("-", |kind| kind.as_str()),
            verdict
        ));
    }
    out.push_str(&format!(
        "\ndrift share: {}/{} judged features drifted ({:.1}%); {} of {} features judged\n",
        report.n_drifted,
        report.n_judged,
        report.drift_share * 100.0,
        report.n_judged,
        report.features.len()
    ));
    out
}

/// Four significant digits, in scientific notation when small.
fn format_number(value: f64) -> String {
    if value != 0.0 && value.abs() < 1e-3 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}
