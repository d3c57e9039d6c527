//! Bascule's artifact store: immutable blobs addressed by the sha256 of their content,
//! on any `object_store` backend — a local folder by default, S3, GCS, Azure or HTTP by
//! URL. Uploads stream through a hasher into a staging object and become visible under
//! `blobs/sha256/<aa>/<digest>` only once complete; every read is verified against the
//! digest.
//!
//! This crate owns the bytes, not their names: which file of which model version or run
//! a blob is lives in the metadata store.

mod digest;
mod store;

pub use digest::{is_valid_digest, sha256_hex};
pub use store::ObjectArtifactStore;
