//! `bascule models …`: the registry from the command line.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use tokio_util::io::ReaderStream;

use super::client::Client;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Create a registered model.
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List registered models.
    List,
    /// Register a new version from an .onnx file or an MLflow model directory (the model
    /// is created if it does not exist yet).
    Register {
        name: String,
        path: PathBuf,
        /// The version this one was retrained from.
        #[arg(long)]
        parent: Option<i64>,
        /// The feedback item this version answers: it is then validated against its parent
        /// automatically (the parent defaults to the item's version).
        #[arg(long)]
        feedback: Option<i64>,
        /// The run that produced it.
        #[arg(long = "run")]
        run_id: Option<String>,
        /// Digest of the training data set.
        #[arg(long)]
        data_digest: Option<String>,
        /// The code that trained it (a commit, a URL).
        #[arg(long)]
        code_ref: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// The engine to serve it: tract or onnxruntime (default: the first of the
        /// server's engines that can run it).
        #[arg(long)]
        engine: Option<String>,
    },
    /// List a model's versions with their lifecycle stage.
    Versions { name: String },
    /// Show the event log of a model or of one version.
    Events { name: String, version: Option<i64> },
    /// Point an alias (e.g. champion) at a version.
    Alias {
        name: String,
        alias: String,
        version: i64,
    },
}

#[derive(Debug, Deserialize)]
struct Model {
    name: String,
    description: String,
    latest_version: Option<i64>,
    aliases: Vec<Alias>,
}

#[derive(Debug, Deserialize)]
struct Alias {
    alias: String,
    version: i64,
}

#[derive(Debug, Deserialize)]
struct Models {
    models: Vec<Model>,
}

#[derive(Debug, Deserialize)]
struct Version {
    name: String,
    version: i64,
    stage: String,
    format: String,
    created_by: String,
    creation_time: i64,
    lineage: Lineage,
    signature: Option<Signature>,
    aliases: Vec<String>,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Lineage {
    parent_version: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Signature {
    inputs: Vec<Spec>,
    outputs: Vec<Spec>,
}

#[derive(Debug, Deserialize)]
struct Spec {
    name: String,
    datatype: String,
    shape: Vec<i64>,
}

#[derive(Debug, Deserialize)]
struct Versions {
    versions: Vec<Version>,
}

#[derive(Debug, Deserialize)]
struct Event {
    version: i64,
    from: Option<String>,
    to: String,
    actor: String,
    time: i64,
    reason: String,
    evidence: Option<EvidenceRef>,
}

#[derive(Debug, Deserialize)]
struct EvidenceRef {
    kind: String,
    reference: String,
}

#[derive(Debug, Deserialize)]
struct Events {
    events: Vec<Event>,
}

pub async fn run(client: &Client, command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::Create { name, description } => {
            let body = serde_json::json!({ "name": name, "description": description });
            let model: Model = client
                .send(client.request(Method::POST, "/models").json(&body))
                .await?;
            println!("created model {}", model.name);
        }
        ModelsCommand::List => {
            let list: Models = client.send(client.request(Method::GET, "/models")).await?;
            if list.models.is_empty() {
                println!(
                    "no models yet; register one with `bascule models register NAME model.onnx`"
                );
            }
            let rows = list.models.iter().map(|m| {
                let aliases: Vec<_> = m
                    .aliases
                    .iter()
                    .map(|a| format!("{}=v{}", a.alias, a.version))
                    .collect();
                vec![
                    m.name.clone(),
                    m.latest_version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "-".into()),
                    aliases.join(","),
                    m.description.clone(),
                ]
            });
            print_table(
                &["NAME", "LATEST", "ALIASES", "DESCRIPTION"],
                rows.collect(),
            );
        }
        ModelsCommand::Register {
            name,
            path,
            parent,
            feedback,
            run_id,
            data_digest,
            code_ref,
            description,
            engine,
        } => {
            let mut query = vec![
                ("description", description),
                ("source", path.display().to_string()),
            ];
            query.extend(parent.map(|p| ("parent", p.to_string())));
            query.extend(feedback.map(|f| ("feedback", f.to_string())));
            query.extend(run_id.map(|r| ("run_id", r)));
            query.extend(data_digest.map(|d| ("data_digest", d)));
            query.extend(code_ref.map(|c| ("code_ref", c)));
            query.extend(engine.map(|e| ("engine", e)));
            register_version(client, &name, &query, ModelUpload::Path(&path)).await?;
        }
        ModelsCommand::Versions { name } => {
            let list: Versions = client
                .send(client.request(Method::GET, &format!("/models/{name}/versions")))
                .await?;
            if list.versions.is_empty() {
                println!("{name} has no versions yet");
            }
            let rows = list.versions.iter().map(|v| {
                vec![
                    v.version.to_string(),
                    v.stage.clone(),
                    v.format.clone(),
                    v.lineage
                        .parent_version
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "-".into()),
                    v.aliases.join(","),
                    v.created_by.clone(),
                    bascule_core::format_utc(v.creation_time),
                ]
            });
            print_table(
                &[
                    "VERSION", "STAGE", "FORMAT", "PARENT", "ALIASES", "BY", "CREATED",
                ],
                rows.collect(),
            );
        }
        ModelsCommand::Events { name, version } => {
            let path = match version {
                Some(v) => format!("/models/{name}/versions/{v}/events"),
                None => format!("/models/{name}/events"),
            };
            let list: Events = client.send(client.request(Method::GET, &path)).await?;
            let rows = list.events.iter().map(|e| {
                vec![
                    bascule_core::format_utc(e.time),
                    e.version.to_string(),
                    format!("{} -> {}", e.from.as_deref().unwrap_or("(new)"), e.to),
                    e.actor.clone(),
                    e.reason.clone(),
                    e.evidence
                        .as_ref()
                        .map(|ev| format!("{}:{}", ev.kind, ev.reference))
                        .unwrap_or_default(),
                ]
            });
            print_table(
                &[
                    "TIME",
                    "VERSION",
                    "TRANSITION",
                    "ACTOR",
                    "REASON",
                    "EVIDENCE",
                ],
                rows.collect(),
            );
        }
        ModelsCommand::Alias {
            name,
            alias,
            version,
        } => {
            let body = serde_json::json!({ "version": version });
            let request = client
                .request(Method::PUT, &format!("/models/{name}/aliases/{alias}"))
                .json(&body);
            let _: serde_json::Value = client.send(request).await?;
            println!("{name}@{alias} -> version {version}");
        }
    }
    Ok(())
}

/// What a registration uploads: an .onnx file or MLflow model directory on disk, or the
/// bytes of an ONNX model.
#[derive(Debug)]
pub(super) enum ModelUpload<'a> {
    Path(&'a Path),
    Onnx(Vec<u8>),
}

/// Registers a new version of `name` (`POST /models/{name}/versions` with `query`) and
/// prints its number, stage, engine and signature.
pub(super) async fn register_version(
    client: &Client,
    name: &str,
    query: &[(&str, String)],
    upload: ModelUpload<'_>,
) -> anyhow::Result<()> {
    let request = client
        .request(Method::POST, &format!("/models/{name}/versions"))
        .query(query);
    let request = match upload {
        ModelUpload::Path(path) => attach_model(request, path).await?,
        ModelUpload::Onnx(bytes) => request
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes),
    };
    let version: Version = client.send(request).await?;
    let engine = version
        .tags
        .get("bascule.engine")
        .map(|e| format!(", served by {e}"))
        .unwrap_or_default();
    println!(
        "registered {} version {} ({}{engine})",
        version.name, version.version, version.stage
    );
    if let Some(signature) = &version.signature {
        for spec in &signature.inputs {
            println!("  input  {} {} {:?}", spec.name, spec.datatype, spec.shape);
        }
        for spec in &signature.outputs {
            println!("  output {} {} {:?}", spec.name, spec.datatype, spec.shape);
        }
    }
    Ok(())
}

/// Attaches a model to a registration: an .onnx file streamed as the body, or every file
/// of an MLflow model directory as multipart parts named by their relative path.
async fn attach_model(
    request: reqwest::RequestBuilder,
    path: &Path,
) -> anyhow::Result<reqwest::RequestBuilder> {
    let metadata = tokio::fs::metadata(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.is_file() {
        let file = tokio::fs::File::open(path)
            .await
            .with_context(|| format!("cannot open {}", path.display()))?;
        let body = reqwest::Body::wrap_stream(ReaderStream::new(file));
        return Ok(request
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, metadata.len())
            .body(body));
    }
    if !path.join("MLmodel").is_file() {
        bail!(
            "{} is neither an .onnx file nor an MLflow model directory (no MLmodel file)",
            path.display()
        );
    }
    let mut form = Form::new();
    for (relative, absolute) in files_under(path)? {
        let file = tokio::fs::File::open(&absolute)
            .await
            .with_context(|| format!("cannot open {}", absolute.display()))?;
        let length = file.metadata().await?.len();
        let part =
            Part::stream_with_length(reqwest::Body::wrap_stream(ReaderStream::new(file)), length)
                .file_name(relative);
        form = form.part("file", part);
    }
    Ok(request.multipart(form))
}

fn files_under(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((relative, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
}
