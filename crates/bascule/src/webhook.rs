//! The HTTP client behind webhook deliveries (the lifecycle crate knows no HTTP).

use std::time::Duration;

use bascule_lifecycle::feedback::WebhookTransport;

/// The most of an endpoint's answer kept with a delivery.
const ANSWER_TAIL: usize = 2048;

#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ReqwestTransport { client })
    }
}

#[async_trait::async_trait]
impl WebhookTransport for ReqwestTransport {
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(u16, String), String> {
        let mut request = self.client.post(url).timeout(timeout).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|error| describe(&error))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let start = text.len().saturating_sub(ANSWER_TAIL);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        Ok((status, text[start..].to_owned()))
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer before the timeout".to_owned()
    } else if error.is_connect() {
        format!("cannot connect: {error}")
    } else {
        error.to_string()
    }
}
