//! Comparison with the champion on the same rows: the signature, non-inferiority per
//! metric (a seeded paired bootstrap interval of candidate − champion against a margin)
//! and McNemar's test on classification errors.

use bascule_core::{Signature, Stage};
use bascule_stats::metrics::{BootstrapConfig, mcnemar, paired_bootstrap};

use crate::gate::metrics::{Evaluation, MetricName};
use crate::gate::policy::ChampionPolicy;
use crate::gate::report::{ChampionSummary, CheckResult, Comparison, McNemarSummary};

/// Same input names, types and shapes (outputs may differ).
pub fn signature(
    candidate: &Signature,
    champion: &Signature,
    champion_version: i64,
) -> CheckResult {
    let describe = |signature: &Signature| {
        signature
            .inputs
            .iter()
            .map(|i| format!("{} {} {:?}", i.name, i.datatype, i.shape))
            .collect::<Vec<_>>()
            .join(", ")
    };
    CheckResult::judged(
        "champion: input signature compatible",
        candidate.inputs == champion.inputs,
        format!(
            "inputs of version {champion_version}: {}",
            describe(champion)
        ),
        describe(candidate),
    )
}

pub fn compare(
    candidate: &Evaluation,
    champion: &Evaluation,
    policy: &ChampionPolicy,
    champion_version: i64,
    champion_stage: Stage,
) -> (ChampionSummary, Vec<CheckResult>) {
    let config = BootstrapConfig {
        n_resamples: policy.bootstrap.resamples,
        confidence: policy.bootstrap.confidence,
        seed: policy.bootstrap.seed,
    };
    let mut checks = Vec::new();
    let mut comparisons = Vec::new();
    for (name, &margin) in &policy.margins {
        let Some(metric) = MetricName::parse(name) else {
            continue;
        };
        let check = format!("champion: {name} non-inferior (margin {margin})");
        let values = (candidate.metric(metric), champion.metric(metric));
        let (Ok(candidate_value), Ok(champion_value)) = values else {
            checks.push(CheckResult::judged(
                check,
                false,
                "the metric defined for both versions".to_owned(),
                "undefined on this data".to_owned(),
            ));
            continue;
        };
        let interval = paired_bootstrap(candidate.truth_len(), &config, |rows| {
            Ok(candidate.subset(rows).metric(metric)? - champion.subset(rows).metric(metric)?)
        });
        let interval = match interval {
            Ok(interval) => interval,
            Err(error) => {
                checks.push(CheckResult::judged(
                    check,
                    false,
                    "a bootstrap interval of the difference".to_owned(),
                    format!("bootstrap failed: {error}"),
                ));
                continue;
            }
        };
        let (passed, expected) = if metric.higher_is_better() {
            (
                interval.low >= -margin,
                format!("lower bound of (candidate − champion) ≥ −{margin}"),
            )
        } else {
            (
                interval.high <= margin,
                format!("upper bound of (candidate − champion) ≤ {margin}"),
            )
        };
        checks.push(CheckResult::judged(
            check,
            passed,
            expected,
            format!(
                "candidate {candidate_value:.4}, champion {champion_value:.4}, difference {:+.4} in [{:+.4}, {:+.4}] ({:.0}% CI)",
                interval.estimate,
                interval.low,
                interval.high,
                config.confidence * 100.0
            ),
        ));
        comparisons.push(Comparison {
            metric: name.clone(),
            champion: champion_value,
            candidate: candidate_value,
            difference_low: interval.low,
            difference_high: interval.high,
            confidence: config.confidence,
            resamples_used: interval.n_used,
        });
    }
    let mut summary_mcnemar = None;
    if let (Some(candidate_right), Some(champion_right)) = (candidate.correct(), champion.correct())
        && let Ok(test) = mcnemar(&candidate_right, &champion_right)
    {
        // b: candidate right, champion wrong; c: champion right, candidate wrong.
        let pvalue = if test.b + test.c < bascule_stats::metrics::MCNEMAR_EXACT_BELOW {
            test.pvalue_exact
        } else {
            test.pvalue_corrected
        };
        let worse = test.c > test.b && pvalue < policy.mcnemar_alpha;
        checks.push(CheckResult::judged(
            "champion: McNemar test on classification errors",
            !worse,
            format!(
                "the champion not significantly more often right (p ≥ {} or candidate ahead)",
                policy.mcnemar_alpha
            ),
            format!(
                "candidate-only right {}, champion-only right {}, p = {pvalue:.4}",
                test.b, test.c
            ),
        ));
        summary_mcnemar = Some(McNemarSummary {
            candidate_only_right: test.b,
            champion_only_right: test.c,
            pvalue,
        });
    }
    (
        ChampionSummary {
            version: champion_version,
            stage: champion_stage,
            comparisons,
            mcnemar: summary_mcnemar,
        },
        checks,
    )
}
