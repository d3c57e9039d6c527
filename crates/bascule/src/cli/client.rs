//! A small client for Bascule's REST API that turns error bodies into readable errors.

use anyhow::{Context, anyhow};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub struct Client {
    base: String,
    actor: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(server: &str, actor: String) -> anyhow::Result<Self> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(anyhow!(
                "--server '{server}' must be an http:// or https:// URL"
            ));
        }
        let http = reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client { base, actor, http })
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
            .header("x-bascule-actor", &self.actor)
    }

    /// A request to a path outside `/api/v1` (the MLflow-compatible API).
    pub fn request_root(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("x-bascule-actor", &self.actor)
    }

    /// Sends a request and decodes a JSON answer, or fails with the server's message.
    pub async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> anyhow::Result<T> {
        let response = self.send_raw(request).await?;
        response
            .json::<T>()
            .await
            .context("the server's answer is not the expected JSON")
    }

    pub async fn send_raw(&self, request: RequestBuilder) -> anyhow::Result<Response> {
        let response = request
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the Bascule server at {} ({e}); is `bascule server` running? (--server / BASCULE_SERVER)", self.base))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or(body);
        Err(anyhow!("{message} (HTTP {})", status.as_u16()))
    }
}
