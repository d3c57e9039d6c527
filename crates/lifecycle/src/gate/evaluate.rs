//! The CPU part of a validation, run on a blocking thread: read the data, run the
//! model (and the champion), compute metrics, run every check, build the profile.

use std::sync::Arc;

use bascule_core::{LoadedModel, Stage};
use bascule_datasets::Format;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::checks::{self, agreement, champion, latency, sanity, slices};
use super::features::{input_tensors, label_values, map_features};
use super::inference::{output_roles, predictions, run_all, truth};
use super::metrics::{Evaluation, MetricName};
use super::policy::{ChampionPolicy, Policy};
use super::profile::{self, ReferenceProfile};
use super::report::{CheckStatus, DataSummary, REPORT_SCHEMA, SliceResult, ValidationReport};
use super::{GateError, features};
use crate::jobs::Progress;

pub struct Input {
    pub name: String,
    pub version: i64,
    pub data: Bytes,
    pub format: Format,
    pub label: String,
    pub policy: Policy,
    pub policy_version: Option<i64>,
    pub model: Arc<dyn LoadedModel>,
    /// The champion's version, stage and loaded model.
    pub champion: Option<(i64, Stage, Arc<dyn LoadedModel>)>,
    /// The engine that serves the version.
    pub engine: String,
    /// The version on every other engine, for the agreement check.
    pub other_engines: Vec<agreement::OtherEngine>,
    /// Data sets whose metrics are reported, not judged: name, bytes, format.
    pub also_report: Vec<(String, Bytes, Format)>,
    pub progress: Arc<Progress>,
}

pub struct Evaluated {
    pub report: ValidationReport,
    pub profile: ReferenceProfile,
}

pub fn run(input: Input) -> Result<Evaluated, GateError> {
    let progress = input.progress.clone();
    progress.phase("reading the data set", 0);
    let digest = hex(&Sha256::digest(&input.data));
    let frame = bascule_datasets::read_bytes(input.data, input.format)?;
    if frame.n_rows() == 0 {
        return Err(GateError::Data("the data set has no rows".to_owned()));
    }
    let policy = &input.policy;
    let labels = label_values(&frame, &input.label)?;
    let missing_slices: Vec<&str> = policy
        .slice_columns()
        .filter(|c| frame.column(c).is_none())
        .collect();
    if !missing_slices.is_empty() {
        return Err(GateError::Policy(format!(
            "slices: the data set has no column {} (its columns: {})",
            features::quoted(&missing_slices),
            features::quoted(frame.names())
        )));
    }
    let slice_columns: Vec<&str> = policy.slice_columns().collect();
    let signature = input.model.signature().clone();
    let mapping = map_features(
        &frame,
        &signature,
        &policy.features,
        &input.label,
        &slice_columns,
    )?;
    let inputs = input_tensors(&frame, &mapping)?;
    let n_rows = frame.n_rows();

    progress.phase("running the model", n_rows);
    let outputs = run_all(&*input.model, &inputs, n_rows, |done| {
        progress.set_done(done)
    })?;
    let roles = output_roles(&outputs, n_rows, policy.task)?;
    let task = roles.task;
    let predicted = predictions(&outputs, &roles)?;
    let evaluation = Evaluation {
        truth: truth(labels, &input.label, &predicted)?,
        predictions: predicted,
    };
    let wrong_task: Vec<&String> = policy
        .thresholds
        .keys()
        .chain(policy.champion.iter().flat_map(|c| c.margins.keys()))
        .filter(|name| MetricName::parse(name).is_some_and(|m| !m.applies_to(task)))
        .collect();
    if !wrong_task.is_empty() {
        return Err(GateError::Policy(format!(
            "the policy names metric(s) {} that do not apply to {}, the task of this model",
            features::quoted(wrong_task),
            task.describe()
        )));
    }

    let task_metrics = MetricName::for_task(task);
    let metrics = checks::metric_values(&evaluation, &task_metrics);
    let mut all_checks = vec![sanity::finite_outputs(&outputs)];
    all_checks.extend(sanity::probabilities(&outputs, &roles));
    let repeat_rows = n_rows.min(sanity::REPEAT_ROWS);
    let first_rows: Vec<_> = inputs.iter().map(|t| t.rows(0, repeat_rows)).collect();
    let again = input.model.run(first_rows).map_err(GateError::Inference)?;
    all_checks.push(sanity::repeatable(&outputs, &again, repeat_rows));
    progress.phase("comparing engines", n_rows);
    let (agreement_entries, agreement_checks) = agreement::check(
        &input.engine,
        &outputs,
        input.other_engines,
        &inputs,
        n_rows,
        &progress,
    );
    all_checks.extend(agreement_checks);
    all_checks.extend(checks::threshold_checks(
        "threshold: ",
        &metrics,
        &policy.thresholds,
    ));

    progress.phase("slices", 0);
    let mut slice_results = Vec::new();
    for slice in &policy.slices {
        let (results, slice_checks) = slices::evaluate(
            &frame,
            &evaluation,
            slice,
            &task_metrics,
            &policy.thresholds,
        )?;
        slice_results.extend(results);
        all_checks.extend(slice_checks);
    }

    for (name, data, format) in &input.also_report {
        progress.phase("reporting on another data set", 0);
        let reported = report_only(
            &*input.model,
            policy,
            &input.label,
            &task_metrics,
            (name, data.clone(), *format),
        )?;
        slice_results.push(reported);
    }

    let mut champion_summary = None;
    if let (Some(champion_policy), Some((version, stage, model))) =
        (&policy.champion, &input.champion)
    {
        let signature_check = champion::signature(&signature, model.signature(), *version);
        let compatible = signature_check.status == CheckStatus::Passed;
        all_checks.push(signature_check);
        if compatible {
            progress.phase("comparing with the champion", n_rows);
            let (summary, comparison_checks) = compare_with_champion(
                &**model,
                &progress,
                &inputs,
                n_rows,
                &evaluation,
                champion_policy,
                (*version, *stage),
                labels,
                &input.label,
            )?;
            champion_summary = Some(summary);
            all_checks.extend(comparison_checks);
        }
    }

    let mut latency_result = None;
    if let Some(latency_policy) = &policy.latency {
        progress.phase("measuring latency", 0);
        let (result, latency_checks) =
            latency::measure(&*input.model, &inputs, n_rows, latency_policy)?;
        latency_result = Some(result);
        all_checks.extend(latency_checks);
    }

    progress.phase("profiling the data", 0);
    let profile = profile::build(&frame, &mapping, &input.label, &evaluation.predictions);
    let passed = all_checks.iter().all(|c| c.status != CheckStatus::Failed);
    let report = ValidationReport {
        schema: REPORT_SCHEMA,
        model: input.name,
        version: input.version,
        passed,
        decision: if passed {
            Stage::Validated
        } else {
            Stage::Rejected
        },
        task,
        policy_version: input.policy_version,
        engine: input.engine,
        data: DataSummary {
            rows: n_rows,
            features: mapping.columns().into_iter().map(str::to_owned).collect(),
            label: input.label,
            digest,
            format: match input.format {
                Format::Csv => "csv".to_owned(),
                Format::Parquet => "parquet".to_owned(),
            },
        },
        metrics,
        checks: all_checks,
        slices: slice_results,
        champion: champion_summary,
        latency: latency_result,
        agreement: agreement_entries,
        profile_digest: String::new(),
        started: 0,
        duration_ms: 0,
    };
    Ok(Evaluated { report, profile })
}

/// The version's metrics on a data set it is not judged on, as a slice `data set = NAME`.
fn report_only(
    model: &dyn LoadedModel,
    policy: &Policy,
    label: &str,
    metrics: &[MetricName],
    (name, data, format): (&str, Bytes, Format),
) -> Result<SliceResult, GateError> {
    let frame = bascule_datasets::read_bytes(data, format)?;
    let labels = label_values(&frame, label)?;
    let mapping = map_features(&frame, model.signature(), &policy.features, label, &[])?;
    let tensors = input_tensors(&frame, &mapping)?;
    let n_rows = frame.n_rows();
    let outputs = run_all(model, &tensors, n_rows, |_| {})?;
    let roles = output_roles(&outputs, n_rows, policy.task)?;
    let predicted = predictions(&outputs, &roles)?;
    let evaluation = Evaluation {
        truth: truth(labels, label, &predicted)?,
        predictions: predicted,
    };
    Ok(SliceResult {
        column: "data set".to_owned(),
        slice: name.to_owned(),
        rows: n_rows,
        judged: false,
        metrics: checks::metric_values(&evaluation, metrics),
    })
}

#[allow(clippy::too_many_arguments)]
fn compare_with_champion(
    model: &dyn LoadedModel,
    progress: &Progress,
    inputs: &[bascule_core::Tensor],
    n_rows: usize,
    candidate: &Evaluation,
    policy: &ChampionPolicy,
    (version, stage): (i64, Stage),
    labels: &[f64],
    label: &str,
) -> Result<(super::report::ChampionSummary, Vec<super::CheckResult>), GateError> {
    let outputs = run_all(model, inputs, n_rows, |done| progress.set_done(done))?;
    let roles = output_roles(&outputs, n_rows, None)?;
    let predicted = predictions(&outputs, &roles)?;
    let champion = Evaluation {
        truth: truth(labels, label, &predicted)?,
        predictions: predicted,
    };
    if std::mem::discriminant(&champion.truth) != std::mem::discriminant(&candidate.truth) {
        return Err(GateError::Output(format!(
            "the champion (version {version}) solves {}, not the candidate's task",
            roles.task.describe()
        )));
    }
    Ok(champion::compare(
        candidate, &champion, policy, version, stage,
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
