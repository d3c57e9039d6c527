//! Replays days as live traffic: one OIP v2 `infer` request per day (its `id` is
//! `day-N`), a few at a time, paced to a rate; each day's label (did it rain?) is posted
//! [`LABEL_DELAY`] requests later, as ground truth arrives after the prediction.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::MODEL;

/// Requests answered before a day's label is posted.
pub const LABEL_DELAY: usize = 150;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;
/// Labels per call.
const LABEL_BATCH: usize = 50;

pub struct Replay<'a> {
    http: reqwest::Client,
    url: String,
    days: &'a [(Vec<f64>, f64)],
    first_day: usize,
    rate: u32,
    next: usize,
    /// Answered days whose labels are not posted yet.
    answered: Vec<(String, f64)>,
    labelled: usize,
}

impl<'a> Replay<'a> {
    pub fn new(
        url: &str,
        days: &'a [(Vec<f64>, f64)],
        first_day: usize,
        rate: u32,
    ) -> anyhow::Result<Self> {
        Ok(Replay {
            http: reqwest::Client::builder()
                .build()
                .context("cannot build the HTTP client")?,
            url: url.to_owned(),
            days,
            first_day,
            rate: rate.max(1),
            next: 0,
            answered: Vec::new(),
            labelled: 0,
        })
    }

    /// Sends the requests due in the next `span` at the replay's rate, posts the labels
    /// that are due, and returns how many requests it sent (0: the days ran out).
    pub async fn send_for(&mut self, span: Duration) -> anyhow::Result<usize> {
        let started = Instant::now();
        let due = ((f64::from(self.rate) * span.as_secs_f64()).ceil() as usize).max(1);
        let end = (self.next + due).min(self.days.len());
        let mut sent = 0;
        while self.next < end {
            let batch_end = (self.next + CONCURRENCY).min(end);
            let mut requests = tokio::task::JoinSet::new();
            for index in self.next..batch_end {
                let (features, label) = &self.days[index];
                let id = format!("day-{}", self.first_day + index);
                let body = json!({
                    "id": id,
                    "inputs": [{
                        "name": "input",
                        "shape": [1, features.len()],
                        "datatype": "FP32",
                        "data": features,
                    }],
                });
                let request = self
                    .http
                    .post(format!("{}/v2/models/{MODEL}/infer", self.url))
                    .json(&body);
                let label = *label;
                requests.spawn(async move { (id, label, request.send().await) });
            }
            while let Some(joined) = requests.join_next().await {
                let (id, label, response) = joined.context("a replay request panicked")?;
                let response = response.context("cannot reach the demo's server")?;
                if !response.status().is_success() {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    bail!("{id} was refused ({status}): {body}");
                }
                self.answered.push((id, label));
            }
            sent += batch_end - self.next;
            self.next = batch_end;
        }
        self.post_labels(LABEL_DELAY).await?;
        if let Some(rest) = span.checked_sub(started.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        Ok(sent)
    }

    /// Posts every label but the newest `keep_back`.
    async fn post_labels(&mut self, keep_back: usize) -> anyhow::Result<()> {
        while self.answered.len() > keep_back {
            let take = (self.answered.len() - keep_back).min(LABEL_BATCH);
            let batch: Vec<(String, f64)> = self.answered.drain(..take).collect();
            let body: Vec<_> = batch
                .iter()
                .map(|(id, label)| json!({ "request_id": id, "label": label }))
                .collect();
            let response = self
                .http
                .post(format!("{}/api/v1/models/{MODEL}/labels", self.url))
                .header("x-bascule-actor", "bascule-demo")
                .json(&body)
                .send()
                .await
                .context("cannot post labels")?;
            if !response.status().is_success() {
                bail!(
                    "labels were refused: {}",
                    response.text().await.unwrap_or_default()
                );
            }
            self.labelled += batch.len();
        }
        Ok(())
    }

    /// Posts the labels still held back.
    pub async fn finish(&mut self) -> anyhow::Result<()> {
        self.post_labels(0).await
    }

    pub fn sent(&self) -> usize {
        self.next
    }

    pub fn labelled(&self) -> usize {
        self.labelled
    }
}
