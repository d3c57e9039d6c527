//! Webhook deliveries: a JSON event POSTed to each configured URL, signed with
//! HMAC-SHA256 (`X-Bascule-Signature: sha256=<hex>` over the exact body, as GitHub signs
//! its webhooks), retried with exponential backoff on network errors, timeouts, 408, 429
//! and 5xx, given up on other 4xx or after the webhook's attempts. Each delivery is a task
//! in the outbox, so one pending when the server stops is sent after it restarts.

use std::time::Duration;

use bascule_core::{Task, TaskKind, TaskOutcome, now_millis};
use sha2::{Digest, Sha256};

use super::{FeedbackLoop, WebhookConfig};
use crate::LifecycleError;

/// Sends one HTTP POST; the binary wires an HTTP client in (this crate knows no HTTP).
#[async_trait::async_trait]
pub trait WebhookTransport: Send + Sync + std::fmt::Debug {
    /// POSTs `body` with `headers`; returns the status and (the start of) the answer, or
    /// why nothing was answered (connection refused, timeout).
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(u16, String), String>;
}

/// Deliveries claimed per pass.
const DELIVERIES_PER_PASS: usize = 32;
/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret` (RFC 2104).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if secret.len() > BLOCK {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(body)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    let hex: String = outer.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The wait before attempt `attempts + 1`.
pub(crate) fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF)
}

impl FeedbackLoop {
    /// Claims the due deliveries and sends them concurrently.
    pub(super) async fn deliver_webhooks(&self) -> Result<usize, LifecycleError> {
        let registry = &self.inner.registry;
        let longest = registry
            .feedback_config()
            .webhooks
            .iter()
            .map(|hook| hook.timeout)
            .max()
            .unwrap_or(Duration::from_secs(5));
        let lease = (longest + Duration::from_secs(5)).as_millis() as i64;
        let mut claimed = Vec::new();
        while claimed.len() < DELIVERIES_PER_PASS {
            match registry
                .store()
                .claim_task(TaskKind::Webhook, now_millis(), lease)
                .await?
            {
                Some(task) => {
                    self.hold(task.id);
                    claimed.push(task);
                }
                None => break,
            }
        }
        let mut deliveries = tokio::task::JoinSet::new();
        for task in claimed {
            let this = self.clone();
            deliveries.spawn(async move {
                let outcome = this.deliver(&task).await;
                let delivered = matches!(outcome, TaskOutcome::Done { .. });
                if let Err(error) = this
                    .inner
                    .registry
                    .store()
                    .finish_task(task.id, &outcome)
                    .await
                {
                    tracing::error!(%error, task = task.id, "cannot record a delivery");
                }
                this.unhold(task.id);
                delivered
            });
        }
        let mut delivered = 0;
        while let Some(result) = deliveries.join_next().await {
            delivered += usize::from(result.unwrap_or(false));
        }
        Ok(delivered)
    }

    async fn deliver(&self, task: &Task) -> TaskOutcome {
        let config = self.inner.registry.feedback_config();
        let Some(hook) = config.webhooks.iter().find(|hook| hook.name == task.target) else {
            return TaskOutcome::Failed {
                error: format!(
                    "webhook '{}' is no longer in the server's configuration",
                    task.target
                ),
                status: None,
                output: None,
            };
        };
        let body = task.payload.clone().into_bytes();
        let headers = headers(hook, task, &body);
        let answer = self
            .inner
            .transport
            .post(&hook.url, &headers, body, hook.timeout)
            .await;
        let outcome = judge(hook, task, answer);
        if let Some(feedback_id) = task.feedback_id {
            let message = match &outcome {
                TaskOutcome::Done { status, .. } => format!(
                    "{} delivered to webhook '{}' (HTTP {})",
                    task.event,
                    hook.name,
                    status.unwrap_or_default()
                ),
                TaskOutcome::Retry { error, .. } => format!(
                    "{} to webhook '{}': attempt {} failed ({error}); retrying",
                    task.event, hook.name, task.attempts
                ),
                TaskOutcome::Failed { error, .. } => format!(
                    "{} to webhook '{}' failed for good: {error}",
                    task.event, hook.name
                ),
            };
            let kind = match outcome {
                TaskOutcome::Done { .. } => "webhook",
                _ => "error",
            };
            self.inner
                .registry
                .note(feedback_id, kind, super::FEEDBACK_ACTOR, &message)
                .await;
        }
        outcome
    }
}

fn headers(hook: &WebhookConfig, task: &Task, body: &[u8]) -> Vec<(String, String)> {
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), "bascule-webhook".to_owned()),
        ("x-bascule-event".to_owned(), task.event.clone()),
        ("x-bascule-delivery".to_owned(), task.id.to_string()),
        ("x-bascule-attempt".to_owned(), task.attempts.to_string()),
    ];
    if let Some(secret) = &hook.secret {
        headers.push((
            "x-bascule-signature".to_owned(),
            signature(secret.as_bytes(), body),
        ));
    }
    headers
}

fn judge(hook: &WebhookConfig, task: &Task, answer: Result<(u16, String), String>) -> TaskOutcome {
    let (error, status, output) = match answer {
        Ok((status, output)) if (200..300).contains(&status) => {
            return TaskOutcome::Done {
                status: Some(i64::from(status)),
                output: Some(output),
            };
        }
        Ok((status, output)) if !(status == 408 || status == 429 || status >= 500) => {
            return TaskOutcome::Failed {
                error: format!("the endpoint refused the event with HTTP {status}"),
                status: Some(i64::from(status)),
                output: Some(output),
            };
        }
        Ok((status, output)) => (
            format!("HTTP {status}"),
            Some(i64::from(status)),
            Some(output),
        ),
        Err(error) => (error, None, None),
    };
    if task.attempts >= i64::from(hook.max_attempts) {
        return TaskOutcome::Failed {
            error: format!("gave up after {} attempts; last: {error}", task.attempts),
            status,
            output,
        };
    }
    TaskOutcome::Retry {
        error,
        status,
        output,
        next_attempt_time: now_millis() + backoff(task.attempts).as_millis() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test cases 2 and 6 (a key longer than the block).
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            signature(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    fn hook() -> WebhookConfig {
        WebhookConfig {
            name: "research".into(),
            url: "http://127.0.0.1:9/hook".into(),
            secret: None,
            events: Vec::new(),
            max_attempts: 3,
            timeout: Duration::from_secs(1),
        }
    }

    fn task(attempts: i64) -> Task {
        Task {
            id: 1,
            kind: TaskKind::Webhook,
            target: "research".into(),
            feedback_id: None,
            event: "feedback.opened".into(),
            payload: "{}".into(),
            state: bascule_core::TaskState::Running,
            attempts,
            next_attempt_time: 0,
            lease_until: None,
            last_error: None,
            last_status: None,
            output: None,
            created_time: 0,
            updated_time: 0,
            finished_time: None,
        }
    }

    #[test]
    fn answers_are_judged_done_final_or_worth_retrying() {
        let done = judge(&hook(), &task(1), Ok((204, String::new())));
        assert!(matches!(
            done,
            TaskOutcome::Done {
                status: Some(204),
                ..
            }
        ));
        // A client error no retry mends is final at once.
        let refused = judge(&hook(), &task(1), Ok((404, "no such hook".into())));
        assert!(matches!(
            refused,
            TaskOutcome::Failed {
                status: Some(404),
                ..
            }
        ));
        for retried in [
            Ok((503, String::new())),
            Ok((429, String::new())),
            Ok((408, String::new())),
            Err("cannot connect".to_owned()),
        ] {
            let outcome = judge(&hook(), &task(2), retried);
            assert!(matches!(outcome, TaskOutcome::Retry { .. }), "{outcome:?}");
        }
        // Out of attempts: given up, saying how many and why.
        let given_up = judge(&hook(), &task(3), Ok((503, String::new())));
        assert!(
            matches!(&given_up, TaskOutcome::Failed { error, .. } if error.contains("gave up after 3 attempts; last: HTTP 503")),
            "{given_up:?}"
        );
    }

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
