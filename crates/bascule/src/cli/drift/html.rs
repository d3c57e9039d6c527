//! The drift report as one self-contained HTML page: a summary table, then per feature
//! an inline SVG histogram of reference vs current (shares of each side, on the shared
//! bins) with a text alternative (`<title>`, `<desc>` and a table of the counts). No
//! script, no stylesheet or font from the network.

use std::fmt::Write;
use std::path::Path;

use bascule_monitor::{DriftReport, FeatureDrift, Histogram, Verdict};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const MARGIN_LEFT: f64 = 48.0;
const MARGIN_BOTTOM: f64 = 56.0;
const MARGIN_TOP: f64 = 12.0;
const REFERENCE_COLOUR: &str = "#4c78a8";
const CURRENT_COLOUR: &str = "#f58518";

pub fn render(report: &DriftReport, reference: &Path, current: &Path) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!(
        "Drift report: {} vs {}",
        current.display(),
        reference.display()
    );
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        STYLE,
        escape(&title)
    );
    let _ = writeln!(
        page,
        "<p>Reference <code>{}</code>, current <code>{}</code>. <strong>{} of {} judged features drifted</strong> (drift share {:.1}%); {} of {} features judged. A feature is drifted when its adjusted p-value is below {} and its effect size reaches its floor, with at least {} values on each side.</p>",
        escape(&reference.display().to_string()),
        escape(&current.display().to_string()),
        report.n_drifted,
        report.n_judged,
        report.drift_share * 100.0,
        report.n_judged,
        report.features.len(),
        report.config.alpha,
        report.config.min_sample_size
    );
    summary_table(&mut page, report);
    for (index, feature) in report.features.iter().enumerate() {
        feature_section(&mut page, index, feature);
    }
    page.push_str("</body>\n</html>\n");
    page
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}\
table{border-collapse:collapse;margin:0.5rem 0}td,th{border:1px solid #ccc;padding:0.2rem 0.5rem;text-align:right}\
td:first-child,th:first-child{text-align:left}.drifted{color:#b00020;font-weight:bold}\
.insufficient_data{color:#777}section{margin-top:2rem}svg text{font-size:11px}";

fn summary_table(page: &mut String, report: &DriftReport) {
    page.push_str("<table>\n<thead><tr><th>feature</th><th>test</th><th>statistic</th><th>p (adjusted)</th><th>effect</th><th>effect kind</th><th>floor</th><th>verdict</th></tr></thead>\n<tbody>\n");
    for (index, feature) in report.features.iter().enumerate() {
        let _ = writeln!(
            page,
            "<tr><td><a href=\"#feature-{index}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            escape(&feature.name),
            feature.test.map_or("-", |test| test.as_str()),
            number(feature.statistic),
            number(feature.adjusted_p_value.or(feature.p_value)),
            number(feature.effect_size),
            feature.effect_kind.map_or("-", |kind| kind.as_str()),
            number(feature.threshold),
            feature.verdict.as_str(),
            escape(&verdict_text(&feature.verdict))
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::InsufficientData { reason } => format!("insufficient data: {reason}"),
        other => other.as_str().replace('_', " "),
    }
}

fn number(value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(value) if value != 0.0 && value.abs() < 1e-3 => format!("{value:.3e}"),
        Some(value) => format!("{value:.4}"),
    }
}

fn feature_section(page: &mut String, index: usize, feature: &FeatureDrift) {
    let _ = writeln!(
        page,
        "<section id=\"feature-{index}\">\n<h2>{} <span class=\"{}\">({})</span></h2>",
        escape(&feature.name),
        feature.verdict.as_str(),
        escape(&verdict_text(&feature.verdict))
    );
    let Some(histogram) = &feature.histogram else {
        page.push_str(
            "<p>No histogram: the column has no values to plot on one side.</p>\n</section>\n",
        );
        return;
    };
    let bins = Bins::of(histogram);
    svg(page, index, &feature.name, &bins);
    counts_table(page, &bins);
    page.push_str("</section>\n");
}

/// A histogram as labelled bins with the share of each side in each.
struct Bins {
    labels: Vec<String>,
    reference: Vec<u64>,
    current: Vec<u64>,
    reference_share: Vec<f64>,
    current_share: Vec<f64>,
}

impl Bins {
    fn of(histogram: &Histogram) -> Bins {
        let (labels, reference, current) = histogram.bins();
        let (reference, current) = (reference.to_vec(), current.to_vec());
        let share = |counts: &[u64]| -> Vec<f64> {
            let total = counts.iter().sum::<u64>().max(1) as f64;
            counts.iter().map(|&count| count as f64 / total).collect()
        };
        Bins {
            reference_share: share(&reference),
            current_share: share(&current),
            labels,
            reference,
            current,
        }
    }
}

fn svg(page: &mut String, index: usize, name: &str, bins: &Bins) {
    let n_bins = bins.labels.len().max(1) as f64;
    let plot_width = WIDTH - MARGIN_LEFT - 8.0;
    let plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let top = bins
        .reference_share
        .iter()
        .chain(&bins.current_share)
        .copied()
        .fold(0.0, f64::max)
        .max(1e-12);
    let slot = plot_width / n_bins;
    let bar = (slot * 0.4).max(0.5);
    let largest = |shares: &[f64]| {
        shares
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(bin, share)| {
                format!(
                    "{} ({:.1}%)",
                    bins.labels.get(bin).map_or("", String::as_str),
                    share * 100.0
                )
            })
            .unwrap_or_default()
    };
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"title-{index} desc-{index}\">\n<title id=\"title-{index}\">Histogram of {}: reference (blue) vs current (orange), share of each side per bin</title>\n<desc id=\"desc-{index}\">{} bins. Largest reference bin: {}. Largest current bin: {}. The table below lists every count.</desc>",
        escape(name),
        bins.labels.len(),
        escape(&largest(&bins.reference_share)),
        escape(&largest(&bins.current_share)),
    );
    let baseline = MARGIN_TOP + plot_height;
    let _ = writeln!(
        page,
        "<line x1=\"{MARGIN_LEFT}\" y1=\"{baseline}\" x2=\"{}\" y2=\"{baseline}\" stroke=\"#888\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.0}%</text>\n<text x=\"{}\" y=\"{baseline}\" text-anchor=\"end\">0%</text>",
        WIDTH - 8.0,
        MARGIN_LEFT - 4.0,
        MARGIN_TOP + 10.0,
        top * 100.0,
        MARGIN_LEFT - 4.0,
    );
    for (bin, label) in bins.labels.iter().enumerate() {
        let x = MARGIN_LEFT + slot * bin as f64 + slot * 0.1;
        for (offset, share, colour) in [
            (0.0, bins.reference_share[bin], REFERENCE_COLOUR),
            (bar, bins.current_share[bin], CURRENT_COLOUR),
        ] {
            let height = share / top * plot_height;
            let _ = writeln!(
                page,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{bar:.2}\" height=\"{height:.2}\" fill=\"{colour}\"/>",
                x + offset,
                baseline - height
            );
        }
        // Label at most about 20 bins so the text stays legible.
        let every = (bins.labels.len() / 20).max(1);
        if bin % every == 0 {
            let label_x = x + bar;
            let _ = writeln!(
                page,
                "<text x=\"{label_x:.2}\" y=\"{:.2}\" text-anchor=\"end\" transform=\"rotate(-40 {label_x:.2} {:.2})\">{}</text>",
                baseline + 12.0,
                baseline + 12.0,
                escape(label)
            );
        }
    }
    let _ = writeln!(
        page,
        "<rect x=\"{}\" y=\"{MARGIN_TOP}\" width=\"10\" height=\"10\" fill=\"{REFERENCE_COLOUR}\"/><text x=\"{}\" y=\"{}\">reference</text>\n<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{CURRENT_COLOUR}\"/><text x=\"{}\" y=\"{}\">current</text>\n</svg>",
        WIDTH - 100.0,
        WIDTH - 86.0,
        MARGIN_TOP + 9.0,
        WIDTH - 100.0,
        MARGIN_TOP + 14.0,
        WIDTH - 86.0,
        MARGIN_TOP + 23.0,
    );
}

fn counts_table(page: &mut String, bins: &Bins) {
    page.push_str("<details><summary>Counts per bin</summary>\n<table>\n<thead><tr><th>bin</th><th>reference</th><th>current</th><th>reference %</th><th>current %</th></tr></thead>\n<tbody>\n");
    for (bin, label) in bins.labels.iter().enumerate() {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            escape(label),
            bins.reference[bin],
            bins.current[bin],
            bins.reference_share[bin] * 100.0,
            bins.current_share[bin] * 100.0
        );
    }
    page.push_str("</tbody>\n</table>\n</details>\n");
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
