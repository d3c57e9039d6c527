//! Small builders for test data, and error inspection.

use bascule_core::{
    ArtifactFile, Coded, Error, ErrorCode, Evidence, Lineage, Metric, ModelFormat, NewModelVersion,
    NewRun, Param, Stage, Tag, Transition,
};

pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

pub fn param(key: &str, value: &str) -> Param {
    Param {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

pub fn metric(key: &str, value: f64, timestamp: i64, step: i64) -> Metric {
    Metric {
        key: key.to_owned(),
        value,
        timestamp,
        step,
    }
}

pub fn new_run(experiment_id: i64, start_time: i64) -> NewRun {
    NewRun {
        experiment_id,
        run_name: None,
        user_id: Some("ada".to_owned()),
        start_time,
        tags: vec![],
    }
}

/// A version of `name` with one file, creating the model if needed.
pub fn new_version(name: &str) -> NewModelVersion {
    NewModelVersion {
        name: name.to_owned(),
        description: String::new(),
        source: format!("file:///models/{name}"),
        run_id: None,
        format: ModelFormat::Onnx,
        lineage: Lineage::default(),
        signature: None,
        files: vec![file("model.onnx", 'a', 1234)],
        tags: vec![],
        actor: "ada".to_owned(),
        reason: "first cut".to_owned(),
        create_model: true,
    }
}

pub fn file(path: &str, digest_char: char, size: u64) -> ArtifactFile {
    ArtifactFile {
        path: path.to_owned(),
        digest: digest_char.to_string().repeat(64),
        size,
    }
}

pub fn transition(name: &str, version: i64, to: Stage) -> Transition {
    Transition {
        name: name.to_owned(),
        version,
        to,
        actor: "grace".to_owned(),
        reason: format!("moving to {to}"),
        evidence: None,
    }
}

pub fn evidence(kind: &str, reference: &str) -> Option<Evidence> {
    Some(Evidence {
        kind: kind.to_owned(),
        reference: reference.to_owned(),
    })
}

/// Asserts `result` failed with `code` and a message containing every one of `words`.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
    code: ErrorCode,
    words: &[&str],
) -> Error {
    let error = result.expect_err("an error");
    assert_eq!(error.code(), code, "{error}");
    let message = error.to_string();
    for word in words {
        assert!(message.contains(word), "'{word}' missing from: {message}");
    }
    error
}

/// Asserts `result` is `NotFound` of `kind`.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, Error>, kind: &str) {
    match result {
        Err(Error::NotFound { kind: found, .. }) => assert_eq!(found, kind),
        other => panic!("expected NotFound {{ kind: {kind} }}, got {other:?}"),
    }
}

/// An error and all its sources, as one line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
