use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bascule_core::{ArtifactStore, BlobRef, ByteStream, Error, Result};
use bytes::Bytes;
use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::digest::{is_valid_digest, sha256_hex};

const WHAT: &str = "artifact store";

/// `ArtifactStore` on an `object_store` backend.
#[derive(Debug, Clone)]
pub struct ObjectArtifactStore {
    inner: Arc<dyn ObjectStore>,
    /// Prefix inside the backend (the path part of the URL).
    root: ObjectPath,
    description: String,
}

impl ObjectArtifactStore {
    /// A store in a local folder, created if missing.
    pub fn local(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| unavailable(e.into()))?;
        let inner = LocalFileSystem::new_with_prefix(dir).map_err(|e| unavailable(e.into()))?;
        Ok(ObjectArtifactStore {
            inner: Arc::new(inner),
            root: ObjectPath::default(),
            description: dir.display().to_string(),
        })
    }

    /// A store at any URL `object_store` understands: `file:///abs/dir`, `s3://bucket/prefix`,
    /// `gs://…`, `az://…`, `https://…`. Credentials come from the backend's usual
    /// environment variables (`AWS_ACCESS_KEY_ID`, …).
    pub fn from_url(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::invalid(format!("artifact store URL '{url}' is not a URL: {e}")))?;
        if parsed.scheme() == "file" {
            let dir = parsed.to_file_path().map_err(|()| {
                Error::invalid(format!(
                    "artifact store URL '{url}' is not an absolute file path"
                ))
            })?;
            return Self::local(&dir);
        }
        let options = std::env::vars().filter(|(key, _)| {
            ["AWS_", "GOOGLE_", "AZURE_"]
                .iter()
                .any(|prefix| key.starts_with(prefix))
        });
        let (inner, root) = object_store::parse_url_opts(&parsed, options).map_err(|e| {
            Error::invalid(format!("artifact store URL '{url}' is not supported: {e}"))
        })?;
        Ok(ObjectArtifactStore {
            inner: Arc::from(inner),
            root,
            description: redact(&parsed),
        })
    }

    /// Where the store is, for logs (no credentials).
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn blob_path(&self, digest: &str) -> Result<ObjectPath> {
        if !is_valid_digest(digest) {
            return Err(Error::invalid(format!(
                "'{digest}' is not a sha256 digest (64 lower-case hex characters)"
            )));
        }
        Ok(self.child(&format!("blobs/sha256/{}/{digest}", &digest[..2])))
    }

    fn child(&self, relative: &str) -> ObjectPath {
        let mut path = self.root.clone();
        for part in relative.split('/') {
            path = path.child(part);
        }
        path
    }

    /// Moves a complete staging object to its content address.
    async fn publish(&self, staging: &ObjectPath, digest: &str) -> Result<()> {
        let target = self.blob_path(digest)?;
        // Identical content may already be there; the rename then overwrites it with the
        // same bytes, which is harmless and keeps this one round trip.
        self.inner
            .rename(staging, &target)
            .await
            .map_err(store_error)
    }
}

#[async_trait]
impl ArtifactStore for ObjectArtifactStore {
    async fn put_stream(&self, mut stream: ByteStream<'_>) -> Result<BlobRef> {
        let staging = self.child(&format!("uploads/{}", uuid::Uuid::new_v4().simple()));
        let upload = self
            .inner
            .put_multipart(&staging)
            .await
            .map_err(store_error)?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => {
                    hasher.update(&chunk);
                    size += chunk.len() as u64;
                    writer.write(&chunk);
                }
                Err(source) => {
                    // Nothing was published: abort removes the partial staging object.
                    let _ = writer.abort().await;
                    return Err(Error::invalid(format!(
                        "the upload was interrupted: {source}"
                    )));
                }
            }
        }
        writer.finish().await.map_err(store_error)?;
        let digest = hex::encode(hasher.finalize());
        self.publish(&staging, &digest).await?;
        Ok(BlobRef { digest, size })
    }

    async fn put_bytes(&self, bytes: Bytes) -> Result<BlobRef> {
        let digest = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        let staging = self.child(&format!("uploads/{}", uuid::Uuid::new_v4().simple()));
        self.inner
            .put(&staging, bytes.into())
            .await
            .map_err(store_error)?;
        self.publish(&staging, &digest).await?;
        Ok(BlobRef { digest, size })
    }

    async fn get(&self, digest: &str) -> Result<Bytes> {
        let path = self.blob_path(digest)?;
        let bytes = self
            .inner
            .get(&path)
            .await
            .map_err(|e| not_found_or(e, digest))?
            .bytes()
            .await
            .map_err(store_error)?;
        let actual = sha256_hex(&bytes);
        if actual != digest {
            return Err(Error::DataLoss(format!(
                "blob {digest} was read back with digest {actual}: the stored content is corrupt"
            )));
        }
        Ok(bytes)
    }

    async fn get_stream(&self, digest: &str) -> Result<ByteStream<'static>> {
        let path = self.blob_path(digest)?;
        let source = self
            .inner
            .get(&path)
            .await
            .map_err(|e| not_found_or(e, digest))?
            .into_stream();
        Ok(Box::pin(
            VerifiedStream::new(source, digest.to_owned()).into_stream(),
        ))
    }

    async fn exists(&self, digest: &str) -> Result<bool> {
        let path = self.blob_path(digest)?;
        match self.inner.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn delete(&self, digest: &str) -> Result<()> {
        let path = self.blob_path(digest)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}

/// Hashes a download as it passes and turns a mismatch into a final error item.
struct VerifiedStream {
    source: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
    hasher: Sha256,
    expected: String,
}

impl VerifiedStream {
    fn new(
        source: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
        expected: String,
    ) -> Self {
        VerifiedStream {
            source,
            hasher: Sha256::new(),
            expected,
        }
    }

    fn into_stream(self) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
        futures::stream::unfold(Some(self), |state| async move {
            let mut state = state?;
            match state.source.next().await {
                Some(Ok(chunk)) => {
                    state.hasher.update(&chunk);
                    Some((Ok(chunk), Some(state)))
                }
                Some(Err(e)) => Some((Err(std::io::Error::other(e)), None)),
                None => {
                    let actual = hex::encode(state.hasher.finalize());
                    if actual == state.expected {
                        None
                    } else {
                        let message = format!(
                            "blob {} was read back with digest {actual}: the stored content is corrupt",
                            state.expected
                        );
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                message,
                            )),
                            None,
                        ))
                    }
                }
            }
        })
    }
}

fn not_found_or(error: object_store::Error, digest: &str) -> Error {
    match error {
        object_store::Error::NotFound { .. } => Error::not_found("blob", digest),
        other => store_error(other),
    }
}

fn store_error(error: object_store::Error) -> Error {
    unavailable(Box::new(error))
}

fn unavailable(source: Box<dyn std::error::Error + Send + Sync>) -> Error {
    Error::Unavailable { what: WHAT, source }
}

fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.set_query(None);
    shown.to_string()
}
