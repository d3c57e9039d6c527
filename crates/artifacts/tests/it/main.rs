//! The artifact store against a real local folder.

#![allow(clippy::unwrap_used)]

use bascule_artifacts::{ObjectArtifactStore, sha256_hex};
use bascule_core::{ArtifactStore, Coded, ErrorCode};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};

fn store() -> (tempfile::TempDir, ObjectArtifactStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ObjectArtifactStore::local(dir.path()).expect("local store");
    (dir, store)
}

fn chunks(parts: Vec<&'static [u8]>) -> bascule_core::ByteStream<'static> {
    Box::pin(stream::iter(
        parts.into_iter().map(|p| Ok(Bytes::from_static(p))),
    ))
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path)
            } else {
                found.push(path)
            }
        }
    }
    found
}

#[tokio::test]
async fn streamed_upload_is_content_addressed() {
    let (dir, store) = store();
    let blob = store
        .put_stream(chunks(vec![b"hello ", b"bascule"]))
        .await
        .unwrap();
    assert_eq!(blob.digest, sha256_hex(b"hello bascule"));
    assert_eq!(blob.size, 13);
    assert_eq!(
        store.get(&blob.digest).await.unwrap(),
        Bytes::from_static(b"hello bascule")
    );
    assert!(store.exists(&blob.digest).await.unwrap());
    let on_disk = dir
        .path()
        .join("blobs/sha256")
        .join(&blob.digest[..2])
        .join(&blob.digest);
    assert!(on_disk.is_file(), "{on_disk:?}");
    // Nothing left in staging.
    assert_eq!(files_under(dir.path()), vec![on_disk]);
}

#[tokio::test]
async fn same_content_twice_is_one_blob() {
    let (dir, store) = store();
    let a = store.put_bytes(Bytes::from_static(b"same")).await.unwrap();
    let b = store.put_stream(chunks(vec![b"sa", b"me"])).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(files_under(dir.path()).len(), 1);
}

#[tokio::test]
async fn large_upload_spans_many_parts() {
    let (_dir, store) = store();
    let part: &'static [u8] = Box::leak(vec![7u8; 1 << 20].into_boxed_slice());
    let blob = store.put_stream(chunks(vec![part; 12])).await.unwrap();
    assert_eq!(blob.size, 12 << 20);
    let back = store.get(&blob.digest).await.unwrap();
    assert_eq!(back.len(), 12 << 20);
    let streamed: Vec<Bytes> = store
        .get_stream(&blob.digest)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.iter().map(|c| c.len()).sum::<usize>(), 12 << 20);
}

#[tokio::test]
async fn interrupted_upload_leaves_nothing() {
    let (dir, store) = store();
    let broken: bascule_core::ByteStream<'static> = Box::pin(stream::iter(vec![
        Ok(Bytes::from_static(b"partial")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ]));
    let err = store.put_stream(broken).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
    assert!(!store.exists(&sha256_hex(b"partial")).await.unwrap());
}

#[tokio::test]
async fn corruption_is_detected_on_read() {
    let (dir, store) = store();
    let blob = store
        .put_bytes(Bytes::from_static(b"original content"))
        .await
        .unwrap();
    let on_disk = dir
        .path()
        .join("blobs/sha256")
        .join(&blob.digest[..2])
        .join(&blob.digest);
    std::fs::write(&on_disk, b"tampered content").unwrap();
    let err = store.get(&blob.digest).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DataLoss);
    let mut stream = store.get_stream(&blob.digest).await.unwrap();
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item);
    }
    let last = last.expect("at least one item");
    assert_eq!(last.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn unknown_and_malformed_digests() {
    let (_dir, store) = store();
    let missing = sha256_hex(b"never stored");
    assert_eq!(
        store.get(&missing).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert!(!store.exists(&missing).await.unwrap());
    store.delete(&missing).await.unwrap();
    let err = store.get("../../etc/passwd").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[tokio::test]
async fn urls() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let store = ObjectArtifactStore::from_url(&url).unwrap();
    let blob = store.put_bytes(Bytes::from_static(b"x")).await.unwrap();
    assert!(store.exists(&blob.digest).await.unwrap());
    let err = ObjectArtifactStore::from_url("not a url").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    let err = ObjectArtifactStore::from_url("ftp://host/x").unwrap_err();
    assert!(err.to_string().contains("ftp://host/x"), "{err}");
}
