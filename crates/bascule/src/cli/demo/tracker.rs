//! The demo's status tracker: each lifecycle event, alert and feedback step as it happens,
//! with the numbers behind it, and at the end the Model State of every version — the
//! seed's row of Prototype, Validated, Deployed, Monitored, Improved — read back from the
//! server's event log.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use reqwest::Method;
use serde_json::Value;

use super::MODEL;
use crate::cli::client::Client;

/// The seed's Model State columns, in order.
const STATES: [&str; 5] = [
    "Prototype",
    "Validated",
    "Deployed",
    "Monitored",
    "Improved",
];

pub struct Tracker {
    started: Instant,
    events_seen: BTreeSet<i64>,
    alerts_seen: BTreeSet<i64>,
    notes_seen: BTreeSet<i64>,
    /// Version → the stages it reached.
    reached: BTreeMap<i64, BTreeSet<String>>,
}

impl Tracker {
    pub fn new(started: Instant) -> Self {
        Tracker {
            started,
            events_seen: BTreeSet::new(),
            alerts_seen: BTreeSet::new(),
            notes_seen: BTreeSet::new(),
            reached: BTreeMap::new(),
        }
    }

    fn stamp(&self) -> String {
        format!("[{:>5.1}s]", self.started.elapsed().as_secs_f64())
    }

    pub fn step(&self, message: &str) {
        println!("{} {message}", self.stamp());
    }

    /// Prints what happened since the last look.
    pub async fn catch_up(&mut self, client: &Client) -> anyhow::Result<()> {
        let events: Value = client
            .send(client.request(Method::GET, &format!("/models/{MODEL}/events")))
            .await?;
        for event in events["events"].as_array().into_iter().flatten() {
            let Some(id) = event["id"].as_i64() else {
                continue;
            };
            if !self.events_seen.insert(id) {
                continue;
            }
            let version = event["version"].as_i64().unwrap_or_default();
            let to = event["to"].as_str().unwrap_or("?").to_owned();
            println!(
                "{}   v{version} → {to:<10} {} ({})",
                self.stamp(),
                event["reason"].as_str().unwrap_or(""),
                event["actor"].as_str().unwrap_or("")
            );
            self.reached.entry(version).or_default().insert(to);
        }
        let alerts: Value = client
            .send(client.request(Method::GET, &format!("/models/{MODEL}/alerts?state=open")))
            .await?;
        for alert in alerts["alerts"].as_array().into_iter().flatten() {
            if let Some(id) = alert["id"].as_i64()
                && self.alerts_seen.insert(id)
            {
                println!(
                    "{}   ALERT v{} {}: {}",
                    self.stamp(),
                    alert["version"],
                    alert["rule"].as_str().unwrap_or("?"),
                    alert["message"].as_str().unwrap_or("")
                );
            }
        }
        let feedback: Value = client
            .send(client.request(Method::GET, &format!("/feedback?model={MODEL}")))
            .await?;
        let mut ids: Vec<i64> = feedback["feedback"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item["id"].as_i64())
            .collect();
        ids.sort_unstable();
        for id in ids {
            let detail: Value = client
                .send(client.request(Method::GET, &format!("/feedback/{id}")))
                .await?;
            for note in detail["notes"].as_array().into_iter().flatten() {
                if let Some(note_id) = note["id"].as_i64()
                    && self.notes_seen.insert(note_id)
                {
                    println!(
                        "{}   feedback #{id} [{}] {}",
                        self.stamp(),
                        note["kind"].as_str().unwrap_or("?"),
                        note["message"].as_str().unwrap_or("")
                    );
                }
            }
        }
        Ok(())
    }

    /// Whether the loop closed: a version beat its parent, went live and is monitored.
    pub fn done(&self) -> bool {
        self.reached.iter().any(|(version, stages)| {
            *version > 1 && stages.contains("Improved") && stages.contains("Monitored")
        })
    }

    /// The Model State of every version, from the event log, with the evidence.
    pub async fn print_model_state(&self, client: &Client) -> anyhow::Result<()> {
        let events: Value = client
            .send(client.request(Method::GET, &format!("/models/{MODEL}/events")))
            .await?;
        let versions: Value = client
            .send(client.request(Method::GET, &format!("/models/{MODEL}/versions")))
            .await?;
        let deployment: Value = client
            .send(client.request(Method::GET, &format!("/deployments/{MODEL}")))
            .await?;
        let mut first: BTreeMap<(i64, String), (i64, String)> = BTreeMap::new();
        let mut order = Vec::new();
        let mut start = i64::MAX;
        for event in events["events"].as_array().into_iter().flatten() {
            let version = event["version"].as_i64().unwrap_or_default();
            let to = event["to"].as_str().unwrap_or("?").to_owned();
            let time = event["time"].as_i64().unwrap_or_default();
            start = start.min(time);
            if !first.contains_key(&(version, to.clone())) {
                order.push((version, to.clone()));
                first.insert(
                    (version, to),
                    (time, event["reason"].as_str().unwrap_or("").to_owned()),
                );
            }
        }
        println!("\nModel State — {MODEL}");
        print!("{:<8}", "version");
        for state in STATES {
            print!(" {state:<11}");
        }
        println!(" now");
        let live = deployment["live"].as_i64();
        let canary = deployment["canary"]["version"].as_i64();
        for version in versions["versions"].as_array().into_iter().flatten() {
            let number = version["version"].as_i64().unwrap_or_default();
            print!("{:<8}", format!("v{number}"));
            for state in STATES {
                let cell = match first.get(&(number, state.to_owned())) {
                    Some((time, _)) => {
                        format!("✓ {:.1}s", (time - start) as f64 / 1000.0)
                    }
                    None => "·".to_owned(),
                };
                print!(" {cell:<11}");
            }
            let role = if live == Some(number) {
                " (live)"
            } else if canary == Some(number) {
                " (canary)"
            } else {
                ""
            };
            println!(" {}{role}", version["stage"].as_str().unwrap_or("?"));
        }
        println!("\nwhy each step happened (the event log's reasons):");
        for key in &order {
            if let Some((_, reason)) = first.get(key) {
                println!("  v{} {:<10} {reason}", key.0, key.1);
            }
        }
        Ok(())
    }
}
