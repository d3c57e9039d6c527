//! `bascule labels NAME FILE.csv`, `bascule windows NAME`, `bascule alerts [NAME]`: ground
//! truth in bulk, and what monitoring made of the traffic.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::Client;

/// Labels per request; the server takes at most 100,000 per call.
const LABELS_PER_CALL: usize = 10_000;

#[derive(Debug, Args)]
pub struct LabelsArgs {
    /// The registered model the requests went to.
    name: String,
    /// A CSV file with a header naming `request_id` and `label` columns (others ignored).
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct WindowsArgs {
    name: String,
    /// Only this version's windows.
    #[arg(long)]
    version: Option<i64>,
    /// How many of the newest windows.
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// Print the windows as JSON, reports included.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only this model's alerts.
    name: Option<String>,
    /// Resolved alerts too (default: open ones only).
    #[arg(long)]
    all: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Receipt {
    stored: u64,
    replaced: u64,
    unknown: u64,
    unknown_examples: Vec<String>,
}

pub async fn labels(client: &Client, args: LabelsArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let labels = parse_labels_csv(&text)
        .with_context(|| format!("{} is not a labels file", args.file.display()))?;
    if labels.is_empty() {
        bail!("{} holds no labels", args.file.display());
    }
    let bar = ProgressBar::new(labels.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("posting labels [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut total = Receipt::default();
    for chunk in labels.chunks(LABELS_PER_CALL) {
        let body: Vec<Value> = chunk
            .iter()
            .map(|(id, label)| json!({ "request_id": id, "label": label }))
            .collect();
        let receipt: Receipt = client
            .send(
                client
                    .request(Method::POST, &format!("/models/{}/labels", args.name))
                    .json(&body),
            )
            .await?;
        total.stored += receipt.stored;
        total.replaced += receipt.replaced;
        total.unknown += receipt.unknown;
        if total.unknown_examples.len() < 10 {
            total.unknown_examples.extend(receipt.unknown_examples);
            total.unknown_examples.truncate(10);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    println!(
        "stored {} labels for {} ({} replaced earlier labels)",
        total.stored, args.name, total.replaced
    );
    if total.unknown > 0 {
        println!(
            "{} labels match no logged prediction yet (kept; they join when one is logged), e.g. {}",
            total.unknown,
            total.unknown_examples.join(", ")
        );
    }
    Ok(())
}

/// Reads `request_id` and `label` from a CSV with a header (RFC 4180 quoting).
fn parse_labels_csv(text: &str) -> anyhow::Result<Vec<(String, f64)>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        bail!("the file is empty");
    };
    let header = split_csv_line(header);
    let position = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(id_at), Some(label_at)) = (position("request_id"), position("label")) else {
        bail!(
            "the header must name 'request_id' and 'label' columns (it has {})",
            header.join(", ")
        );
    };
    let mut labels = Vec::new();
    for (index, line) in lines {
        let fields = split_csv_line(line);
        let (Some(id), Some(label)) = (fields.get(id_at), fields.get(label_at)) else {
            bail!("line {}: too few fields", index + 1);
        };
        let value: f64 = match label.trim() {
            "true" | "True" => 1.0,
            "false" | "False" => 0.0,
            other => other
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .with_context(|| format!("line {}: label '{other}' is not a number", index + 1))?,
        };
        if id.is_empty() {
            bail!("line {}: empty request_id", index + 1);
        }
        labels.push((id.clone(), value));
    }
    Ok(labels)
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

pub async fn windows(client: &Client, args: WindowsArgs) -> anyhow::Result<()> {
    let mut path = format!("/models/{}/windows?limit={}", args.name, args.limit);
    if let Some(version) = args.version {
        path.push_str(&format!("&version={version}"));
    }
    let answer: Value = client.send(client.request(Method::GET, &path)).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let windows = answer["windows"].as_array().cloned().unwrap_or_default();
    if windows.is_empty() {
        println!(
            "no monitoring windows for {} yet: a window closes after its predictions \
             (1000 by default; the policy's [monitoring] window)",
            args.name
        );
        return Ok(());
    }
    println!(
        "{:>6}  {:>7}  {:<6}  {:>7}  {:>8}  {:>6}  {:>8}  {:<24}  drifted",
        "window", "version", "role", "preds", "labelled", "drift", "p99 ms", "live vs validation"
    );
    for window in windows.iter().rev() {
        let report = &window["report"];
        let drifted: Vec<String> = window["drifted_features"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let metric = report["performance"]["metrics"]
            .as_array()
            .and_then(|metrics| metrics.iter().find(|m| !m["value"].is_null()))
            .map(|m| {
                format!(
                    "{} {:.3} vs {:.3}",
                    m["name"].as_str().unwrap_or("?"),
                    m["value"].as_f64().unwrap_or(f64::NAN),
                    m["validation"].as_f64().unwrap_or(f64::NAN)
                )
            })
            .unwrap_or_else(|| "no labels".to_owned());
        println!(
            "{:>6}  {:>7}  {:<6}  {:>7}  {:>8}  {:>6}  {:>8}  {:<24}  {}",
            window["id"].to_string(),
            window["version"].to_string(),
            window["role"].as_str().unwrap_or("?"),
            window["n_predictions"].to_string(),
            window["n_labelled"].to_string(),
            window["drift_share"]
                .as_f64()
                .map_or("-".to_owned(), |s| format!("{:.0}%", s * 100.0)),
            report["health"]["latency_ms"]["p99"]
                .as_f64()
                .map_or("-".to_owned(), |p| format!("{p:.3}")),
            metric,
            if drifted.is_empty() {
                "-".to_owned()
            } else {
                drifted.join(", ")
            }
        );
    }
    Ok(())
}

pub async fn alerts(client: &Client, args: AlertsArgs) -> anyhow::Result<()> {
    let state = if args.all { "" } else { "state=open&" };
    let path = match &args.name {
        Some(name) => format!("/models/{name}/alerts?{state}limit=100"),
        None => format!("/alerts?{state}limit=100"),
    };
    let answer: Value = client.send(client.request(Method::GET, &path)).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let alerts = answer["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        println!("no {}alerts", if args.all { "" } else { "open " });
        return Ok(());
    }
    for alert in alerts {
        println!(
            "#{} {} v{} {} [{} {}] window {}: {}",
            alert["id"],
            alert["name"].as_str().unwrap_or("?"),
            alert["version"],
            alert["rule"].as_str().unwrap_or("?"),
            alert["severity"].as_str().unwrap_or("?"),
            alert["state"].as_str().unwrap_or("?"),
            alert["window_id"],
            alert["message"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_csv_with_quotes_and_extra_columns() {
        let text = "when,request_id,label\n1,\"a,1\",1\n2,b,0.5\n3,\"c\"\"q\",true\n";
        let labels = parse_labels_csv(text).expect("valid file");
        assert_eq!(
            labels,
            vec![
                ("a,1".to_owned(), 1.0),
                ("b".to_owned(), 0.5),
                ("c\"q".to_owned(), 1.0)
            ]
        );
    }

    #[test]
    fn labels_csv_refuses_what_it_cannot_read() {
        let no_header = parse_labels_csv("id,value\n1,2\n").unwrap_err();
        assert!(no_header.to_string().contains("request_id"), "{no_header}");
        let bad_label = parse_labels_csv("request_id,label\nx,yes\n").unwrap_err();
        assert!(bad_label.to_string().contains("line 2"), "{bad_label}");
        assert!(parse_labels_csv("").is_err());
    }
}
