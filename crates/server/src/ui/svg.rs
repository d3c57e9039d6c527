//! Charts as inline SVG, drawn on the server: line charts (a series per feature or metric
//! over windows or steps) and grouped bars (reference vs current histograms, prediction
//! distributions). Every chart carries a `<title>` and a `<desc>` sentence, and is
//! followed by a table of its data, so nothing is said by the picture alone.

use std::fmt::Write as _;

use super::layout::{Esc, number};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 44.0;
/// Rows of a data table before it is thinned (first, last and evenly spaced between).
const MAX_TABLE_ROWS: usize = 60;

pub const PALETTE: [&str; 8] = [
    "#1f5fbf", "#e8710a", "#188038", "#a142f4", "#c5221f", "#12939a", "#7f6000", "#5f6368",
];

/// One line of a line chart: `(x, y)` points in x order.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (a reference level such as the validation figure).
    pub dashed: bool,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            dashed: false,
        }
    }

    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }
}

/// A line chart with a legend, optional fixed y range and a horizontal threshold.
#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    /// Unique on the page (used for `aria-labelledby`).
    pub id: &'a str,
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series>,
    pub y_range: Option<(f64, f64)>,
    pub threshold: Option<(f64, String)>,
    /// Tick labels for x values (window numbers, times); numeric ticks otherwise.
    pub x_ticks: Vec<(f64, String)>,
}

impl<'a> LineChart<'a> {
    pub fn new(id: &'a str, title: &'a str, x_label: &'a str, y_label: &'a str) -> Self {
        LineChart {
            id,
            title,
            x_label,
            y_label,
            series: Vec::new(),
            y_range: None,
            threshold: None,
            x_ticks: Vec::new(),
        }
    }

    /// The chart and, under it, its data as a table.
    pub fn render(&self, out: &mut String) {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let (x_low, x_high) = bounds(points().map(|p| p.0)).unwrap_or((0.0, 1.0));
        let (y_low, y_high) = match self.y_range {
            Some(range) => range,
            None => {
                let threshold = self.threshold.as_ref().map(|t| t.0);
                bounds(points().map(|p| p.1).chain(threshold)).unwrap_or((0.0, 1.0))
            }
        };
        let y_ticks = nice_ticks(y_low, y_high, 5);
        let (y_low, y_high) = (
            y_ticks.first().copied().unwrap_or(y_low).min(y_low),
            y_ticks.last().copied().unwrap_or(y_high).max(y_high),
        );
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let x_of = |x: f64| LEFT + scale(x, x_low, x_high) * plot_w;
        let y_of = |y: f64| TOP + plot_h - scale(y, y_low, y_high) * plot_h;

        self.open(out);
        // Axes, grid and ticks.
        for tick in &y_ticks {
            let y = y_of(*tick);
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e6e9ef\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0,
                number(*tick)
            );
        }
        let baseline = TOP + plot_h;
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{baseline}\" x2=\"{:.1}\" y2=\"{baseline}\" stroke=\"#8a94a6\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{baseline}\" stroke=\"#8a94a6\"/>",
            LEFT + plot_w
        );
        let x_ticks: Vec<(f64, String)> = if self.x_ticks.is_empty() {
            nice_ticks(x_low, x_high, 6)
                .into_iter()
                .filter(|x| (x_low..=x_high).contains(x))
                .map(|x| (x, number(x)))
                .collect()
        } else {
            let every = self.x_ticks.len().div_ceil(8).max(1);
            self.x_ticks.iter().step_by(every).cloned().collect()
        };
        for (x, label) in &x_ticks {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x_of(*x),
                baseline + 14.0,
                Esc(label)
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1})\">{}</text>",
            LEFT + plot_w / 2.0,
            HEIGHT - 6.0,
            Esc(self.x_label),
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
            Esc(self.y_label)
        );
        if let Some((level, label)) = &self.threshold {
            let y = y_of(*level);
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#b3261e\" stroke-dasharray=\"5 4\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#b3261e\">{}</text>",
                LEFT + plot_w,
                LEFT + plot_w - 4.0,
                y - 4.0,
                Esc(label)
            );
        }
        for (index, series) in self.series.iter().enumerate() {
            let colour = PALETTE[index % PALETTE.len()];
            let dash = if series.dashed {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            };
            let path: Vec<String> = series
                .points
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", x_of(*x), y_of(*y)))
                .collect();
            if path.len() > 1 {
                let _ = writeln!(
                    out,
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
                    path.join(" ")
                );
            }
            if series.points.len() <= 60 {
                for (x, y) in &series.points {
                    let _ = write!(
                        out,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{colour}\"/>",
                        x_of(*x),
                        y_of(*y)
                    );
                }
                out.push('\n');
            }
            let legend_y = TOP + 8.0 + 16.0 * index as f64;
            let legend_x = WIDTH - RIGHT + 12.0;
            let _ = writeln!(
                out,
                "<line x1=\"{legend_x}\" y1=\"{legend_y}\" x2=\"{:.1}\" y2=\"{legend_y}\" stroke=\"{colour}\" stroke-width=\"3\"{dash}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                legend_x + 18.0,
                legend_x + 24.0,
                legend_y + 4.0,
                Esc(&truncate(&series.name, 22))
            );
        }
        out.push_str("</svg>\n");
        self.table(out);
    }

    fn open(&self, out: &mut String) {
        let id = Esc(self.id);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
            Esc(self.title),
            Esc(&self.describe())
        );
    }

    /// One sentence per series: where it starts and ends, and its range.
    pub fn describe(&self) -> String {
        let mut text = format!("{} against {}. ", self.y_label, self.x_label);
        for series in &self.series {
            let (Some(first), Some(last)) = (series.points.first(), series.points.last()) else {
                let _ = write!(text, "{}: no points. ", series.name);
                continue;
            };
            let (low, high) = bounds(series.points.iter().map(|p| p.1)).unwrap_or((0.0, 0.0));
            let _ = write!(
                text,
                "{}: {} points, from {} to {} (lowest {}, highest {}). ",
                series.name,
                series.points.len(),
                number(first.1),
                number(last.1),
                number(low),
                number(high)
            );
        }
        if let Some((level, label)) = &self.threshold {
            let _ = write!(text, "Threshold {label} at {}.", number(*level));
        }
        text.trim_end().to_owned()
    }

    fn table(&self, out: &mut String) {
        let mut xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let shown = thin(xs.len());
        let label_of = |x: f64| {
            self.x_ticks
                .iter()
                .find(|(tick, _)| *tick == x)
                .map_or_else(|| number(x), |(_, label)| label.clone())
        };
        let _ = write!(
            out,
            "<details><summary>{} as a table{}</summary>\n<table><thead><tr><th>{}</th>",
            Esc(self.title),
            if shown.len() < xs.len() {
                format!(" ({} of {} rows)", shown.len(), xs.len())
            } else {
                String::new()
            },
            Esc(self.x_label)
        );
        for series in &self.series {
            let _ = write!(out, "<th class=\"num\">{}</th>", Esc(&series.name));
        }
        out.push_str("</tr></thead><tbody>\n");
        for index in shown {
            let x = xs[index];
            let _ = write!(out, "<tr><td>{}</td>", Esc(&label_of(x)));
            for series in &self.series {
                let value = series
                    .points
                    .iter()
                    .find(|p| p.0 == x)
                    .map_or_else(|| "–".to_owned(), |p| number(p.1));
                let _ = write!(out, "<td class=\"num\">{value}</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></details>\n");
    }
}

/// Bars per bin, one bar per group side by side (reference and current), as shares of
/// each group's total; the table beside it gives counts and shares.
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub x_label: &'a str,
    pub labels: Vec<String>,
    /// `(group name, colour, counts per bin)`.
    pub groups: Vec<(String, &'static str, Vec<u64>)>,
}

pub const REFERENCE_COLOUR: &str = "#1f5fbf";
pub const CURRENT_COLOUR: &str = "#e8710a";

impl BarChart<'_> {
    pub fn render(&self, out: &mut String) {
        let shares: Vec<Vec<f64>> = self.groups.iter().map(|g| shares(&g.2)).collect();
        let top = shares
            .iter()
            .flatten()
            .copied()
            .fold(0.0, f64::max)
            .max(1e-12);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM - 16.0;
        let baseline = TOP + plot_h;
        let n_bins = self.labels.len().max(1) as f64;
        let slot = plot_w / n_bins;
        let bar = (slot * 0.8 / self.groups.len().max(1) as f64).max(0.5);
        let id = Esc(self.id);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
            Esc(self.title),
            Esc(&self.describe(&shares))
        );
        for tick in nice_ticks(0.0, top, 4) {
            if tick > top * 1.0001 {
                continue;
            }
            let y = baseline - tick / top * plot_h;
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e6e9ef\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}%</text>",
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0,
                tick * 100.0
            );
        }
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{baseline}\" x2=\"{:.1}\" y2=\"{baseline}\" stroke=\"#8a94a6\"/>",
            LEFT + plot_w
        );
        let every = self.labels.len().div_ceil(10).max(1);
        for (bin, label) in self.labels.iter().enumerate() {
            let x = LEFT + slot * bin as f64 + slot * 0.1;
            for (group, (_, colour, _)) in self.groups.iter().enumerate() {
                let height = shares[group].get(bin).copied().unwrap_or(0.0) / top * plot_h;
                let _ = write!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{height:.1}\" fill=\"{colour}\"/>",
                    x + bar * group as f64,
                    baseline - height
                );
            }
            if bin % every == 0 {
                let label_x = x + slot * 0.4;
                let _ = write!(
                    out,
                    "<text x=\"{label_x:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-30 {label_x:.1} {:.1})\">{}</text>",
                    baseline + 12.0,
                    baseline + 12.0,
                    Esc(&truncate(label, 14))
                );
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1})\">share of each side</text>",
            LEFT + plot_w / 2.0,
            HEIGHT - 4.0,
            Esc(self.x_label),
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
        );
        for (index, (name, colour, _)) in self.groups.iter().enumerate() {
            let y = TOP + 4.0 + 16.0 * index as f64;
            let x = WIDTH - RIGHT + 12.0;
            let _ = writeln!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x + 18.0,
                y + 10.0,
                Esc(name)
            );
        }
        out.push_str("</svg>\n");
        self.table(out, &shares);
    }

    fn describe(&self, shares: &[Vec<f64>]) -> String {
        let mut text = format!("{} bins of {}. ", self.labels.len(), self.x_label);
        for ((name, _, counts), shares) in self.groups.iter().zip(shares) {
            let total: u64 = counts.iter().sum();
            let largest = shares
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(bin, share)| {
                    format!(
                        "largest bin {} ({:.1}%)",
                        self.labels.get(bin).map_or("", String::as_str),
                        share * 100.0
                    )
                })
                .unwrap_or_else(|| "no bins".to_owned());
            let _ = write!(text, "{name}: {total} values, {largest}. ");
        }
        text.trim_end().to_owned()
    }

    fn table(&self, out: &mut String, shares: &[Vec<f64>]) {
        let _ = write!(
            out,
            "<details><summary>{} as a table</summary>\n<table><thead><tr><th>{}</th>",
            Esc(self.title),
            Esc(self.x_label)
        );
        for (name, _, _) in &self.groups {
            let _ = write!(
                out,
                "<th class=\"num\">{0} count</th><th class=\"num\">{0} share</th>",
                Esc(name)
            );
        }
        out.push_str("</tr></thead><tbody>\n");
        for (bin, label) in self.labels.iter().enumerate() {
            let _ = write!(out, "<tr><td>{}</td>", Esc(label));
            for (group, (_, _, counts)) in self.groups.iter().enumerate() {
                let _ = write!(
                    out,
                    "<td class=\"num\">{}</td><td class=\"num\">{:.1}%</td>",
                    counts.get(bin).copied().unwrap_or(0),
                    shares[group].get(bin).copied().unwrap_or(0.0) * 100.0
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></details>\n");
    }
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total = counts.iter().sum::<u64>().max(1) as f64;
    counts.iter().map(|&count| count as f64 / total).collect()
}

/// The lowest and highest finite value, widened when they are equal.
fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (low, high) = values.filter(|v| v.is_finite()).fold(
        None,
        |range: Option<(f64, f64)>, v| match range {
            None => Some((v, v)),
            Some((low, high)) => Some((low.min(v), high.max(v))),
        },
    )?;
    if high > low {
        Some((low, high))
    } else {
        let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        Some((low - pad, high + pad))
    }
}

fn scale(value: f64, low: f64, high: f64) -> f64 {
    if high > low {
        ((value - low) / (high - low)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// About `count` round tick values covering `low..=high` (1, 2 or 5 times a power of ten).
fn nice_ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return vec![low];
    }
    let raw = (high - low) / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude);
    // Ticks are whole multiples of the step, rounded to the step's decimals so float dust
    // (3 × 0.2 = 0.6000000000000001) does not reach the labels.
    let decimals = (-step.log10().floor()).max(0.0) as i32;
    let scale = 10f64.powi(decimals);
    let first = (low / step).floor() as i64;
    let mut ticks = Vec::new();
    for k in first.. {
        let tick = ((k as f64 * step) * scale).round() / scale;
        if tick > high + step * 0.5 || ticks.len() >= 50 {
            break;
        }
        ticks.push(tick);
    }
    ticks
}

/// Which of `n` rows a table shows: all, or the first, the last and evenly spaced ones.
fn thin(n: usize) -> Vec<usize> {
    if n <= MAX_TABLE_ROWS {
        return (0..n).collect();
    }
    let mut rows: Vec<usize> = (0..MAX_TABLE_ROWS)
        .map(|i| i * (n - 1) / (MAX_TABLE_ROWS - 1))
        .collect();
    rows.dedup();
    rows
}

/// At most `max_chars` characters of `text`, the last an ellipsis when cut.
pub(super) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let ticks = nice_ticks(3.2, 97.0, 5);
        assert!(
            ticks[0] <= 3.2 && *ticks.last().unwrap() >= 97.0,
            "{ticks:?}"
        );
    }

    #[test]
    fn a_chart_says_what_it_shows_and_escapes_names() {
        let mut chart = LineChart::new("c", "Drift <share>", "window", "share");
        chart
            .series
            .push(Series::new("dew <point>", vec![(1.0, 0.1), (2.0, 0.6)]));
        chart.threshold = Some((0.3, "alert at 30%".to_owned()));
        let mut out = String::new();
        chart.render(&mut out);
        assert!(out.contains("<title id=\"c-title\">Drift &lt;share&gt;</title>"));
        assert!(out.contains("dew &lt;point&gt;: 2 points, from 0.1000 to 0.6000"));
        assert!(!out.contains("<point>"));
        assert!(out.contains("<table>"));
    }

    #[test]
    fn bars_give_counts_and_shares() {
        let chart = BarChart {
            id: "h",
            title: "Histogram",
            x_label: "dew point",
            labels: vec!["0–1".into(), "1–2".into()],
            groups: vec![
                ("reference".into(), REFERENCE_COLOUR, vec![3, 1]),
                ("current".into(), CURRENT_COLOUR, vec![0, 4]),
            ],
        };
        let mut out = String::new();
        chart.render(&mut out);
        assert!(
            out.contains("reference: 4 values, largest bin 0–1 (75.0%)"),
            "{out}"
        );
        assert!(out.contains("<td class=\"num\">4</td><td class=\"num\">100.0%</td>"));
        assert_eq!(thin(10).len(), 10);
        assert_eq!(thin(1000).len(), MAX_TABLE_ROWS);
        assert_eq!(*thin(1000).last().unwrap(), 999);
    }
}
