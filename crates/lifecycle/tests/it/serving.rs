//! Deployments and serving over real stores and the real tract engine.

use bascule_core::{Coded, ErrorCode, Role, Stage, Tensor, TensorData};
use bascule_lifecycle::serving::{ChangeRequest, DeployCommand, Serving, ServingConfig};

use crate::{register, registry, transition};

fn request(name: &str, command: DeployCommand) -> ChangeRequest {
    ChangeRequest {
        name: name.to_owned(),
        command,
        actor: "ops".to_owned(),
        reason: None,
    }
}

fn deploy(version: i64, role: Role, percent: Option<u8>) -> DeployCommand {
    DeployCommand::Deploy {
        version,
        role,
        percent,
    }
}

/// The first holdout row of the breast-cancer fixture.
fn first_row() -> Tensor {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/logistic/holdout.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let row: Vec<f32> = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .take(30)
        .map(|v| v.parse().unwrap())
        .collect();
    Tensor::new("input", vec![1, 30], TensorData::Fp32(row)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_validated_versions_deploy_and_every_change_is_an_event() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let v2 = register(&registry, "bc", "mlp/model.onnx", None)
        .await
        .unwrap();
    let serving = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .unwrap();

    let err = serving
        .change(request("bc", deploy(v1, Role::Live, None)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    assert!(err.to_string().contains("Prototype"), "{err}");
    assert!(serving.routes().get("bc").is_none());

    for version in [v1, v2] {
        registry
            .transition(transition("bc", version, Stage::Validated, "passed"))
            .await
            .unwrap();
    }
    let (live, events) = serving
        .change(request("bc", deploy(v1, Role::Live, None)))
        .await
        .unwrap();
    assert_eq!(live.live, Some(v1));
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].to, events[0].actor.as_str()),
        (Stage::Deployed, "ops")
    );
    assert_eq!(events[0].evidence.as_ref().unwrap().kind, "deployment");

    serving
        .change(request("bc", deploy(v2, Role::Canary, Some(20))))
        .await
        .unwrap();
    let (promoted, events) = serving
        .change(request("bc", DeployCommand::Promote))
        .await
        .unwrap();
    assert_eq!(
        (promoted.live, promoted.previous_live),
        (Some(v2), Some(v1))
    );
    assert_eq!((events[0].version, events[0].to), (v1, Stage::Retired));

    let started = std::time::Instant::now();
    let (back, events) = serving
        .change(request("bc", DeployCommand::Rollback))
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(back.live, Some(v1));
    let moves: Vec<_> = events.iter().map(|e| (e.version, e.to)).collect();
    assert_eq!(moves, vec![(v1, Stage::Deployed), (v2, Stage::Retired)]);
    assert_eq!(events[0].reason, "roll back");
    assert_eq!(
        serving
            .routes()
            .get("bc")
            .unwrap()
            .live
            .as_ref()
            .unwrap()
            .version,
        v1
    );
    assert_eq!(
        registry.get_version("bc", v2).await.unwrap().stage,
        Stage::Retired
    );

    let (gone, _) = serving
        .change(request("bc", DeployCommand::Undeploy))
        .await
        .unwrap();
    assert!(gone.is_empty());
    assert!(serving.routes().get("bc").is_none());
    assert_eq!(
        registry.get_version("bc", v1).await.unwrap().stage,
        Stage::Retired
    );
}

/// A registry holding the logistic fixture twice as `bc`, both versions Validated.
async fn two_validated_versions() -> (tempfile::TempDir, bascule_lifecycle::Registry, i64, i64) {
    let (dir, registry) = registry().await;
    let mut versions = Vec::new();
    for _ in 0..2 {
        let version = register(&registry, "bc", "logistic/model.onnx", None)
            .await
            .unwrap();
        registry
            .transition(transition("bc", version, Stage::Validated, "passed"))
            .await
            .unwrap();
        versions.push(version);
    }
    (dir, registry, versions[0], versions[1])
}

#[tokio::test(flavor = "multi_thread")]
async fn predictions_are_answered_logged_and_shadowed() {
    let (_dir, registry, v1, v2) = two_validated_versions().await;
    let serving = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .unwrap();
    serving
        .change(request("bc", deploy(v1, Role::Live, None)))
        .await
        .unwrap();
    serving
        .change(request("bc", deploy(v2, Role::Shadow, None)))
        .await
        .unwrap();

    for i in 0..20 {
        let target = serving.resolve("bc", None, &format!("k{i}")).unwrap();
        assert_eq!((target.version(), target.role()), (v1, Role::Live));
        let outputs = serving
            .predict(&target, vec![first_row()], &format!("r{i}"))
            .await
            .unwrap();
        assert_eq!(outputs[0].data, TensorData::Int64(vec![0]));
    }
    let target = serving.resolve("bc", None, "x").unwrap();
    let err = serving
        .predict(
            &target,
            vec![Tensor::new("input", vec![1, 2], TensorData::Fp32(vec![1.0, 2.0])).unwrap()],
            "bad",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(serving.resolve("bc", Some(9), "x").is_err());
    assert_eq!(
        serving.resolve("nope", None, "x").unwrap_err().code(),
        ErrorCode::NotFound
    );

    // Shadows run off the response path: give them a moment, then flush the log.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let stats = serving.shutdown().await;
    assert_eq!(
        (
            stats.accepted,
            stats.written,
            stats.shed,
            stats.failed,
            stats.queued
        ),
        (40, 40, 0, 0, 0)
    );
    let records = registry
        .store()
        .list_predictions("bc", None, 100)
        .await
        .unwrap();
    assert_eq!(records.len(), 40);
    let shadows: Vec<_> = records.iter().filter(|r| r.role == Role::Shadow).collect();
    assert_eq!(shadows.len(), 20);
    assert!(
        shadows
            .iter()
            .all(|r| r.version == v2 && r.agrees_with_live == Some(true))
    );

    // A restart rebuilds the routing table from the store.
    let restarted = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .unwrap();
    let route = restarted.routes().get("bc").unwrap();
    assert_eq!(route.describe(), format!("live v{v1}, shadow v{v2}"));
    restarted.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_follows_changes_made_by_another() {
    let (_dir, registry, v1, v2) = two_validated_versions().await;
    // Two replicas over one store, each with its own routing table.
    let a = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .unwrap();
    let b = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .unwrap();
    let live_on = |serving: &Serving| {
        serving
            .routes()
            .get("bc")
            .and_then(|route| route.live.as_ref().map(|served| served.version))
    };

    a.change(request("bc", deploy(v1, Role::Live, None)))
        .await
        .unwrap();
    assert_eq!(live_on(&b), None);
    assert_eq!(b.refresh().await.unwrap(), 1);
    assert_eq!(live_on(&b), Some(v1));
    assert_eq!(b.refresh().await.unwrap(), 0, "nothing changed since");

    a.change(request("bc", deploy(v2, Role::Live, None)))
        .await
        .unwrap();
    let follower = b.follow_store(std::time::Duration::from_millis(20));
    let mut waited = 0;
    while live_on(&b) != Some(v2) && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(live_on(&b), Some(v2));
    let target = b.resolve("bc", None, "key").unwrap();
    let outputs = b
        .predict(&target, vec![first_row()], "req-1")
        .await
        .unwrap();
    assert_eq!(outputs.len(), 2);

    a.change(request("bc", DeployCommand::Undeploy))
        .await
        .unwrap();
    let mut waited = 0;
    while b.routes().get("bc").is_some() && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    assert!(
        b.routes().get("bc").is_none(),
        "an undeploy elsewhere drops the route"
    );
    follower.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batched_requests_get_their_own_answers() {
    let batches = sixteen_batched_requests(std::time::Duration::from_millis(50)).await;
    assert!(
        batches < 16,
        "16 concurrent requests ran in {batches} batches"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_that_never_wait_answer_each_request_with_its_own_rows() {
    // Without a wait, batches hold what queued while the run slots were busy: how many
    // depends on timing, the answers do not.
    let batches = sixteen_batched_requests(std::time::Duration::ZERO).await;
    assert!((1..=16).contains(&batches), "{batches} batches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lone_request_does_not_wait_for_company_that_is_not_coming() {
    let max_wait = std::time::Duration::from_secs(30);
    let (_dir, _, serving, _) = batched_bc(max_wait).await;
    assert!(
        serving.arriving("other").is_none(),
        "not batched, not counted"
    );
    let arriving = serving.arriving("bc").expect("bc is batched");
    let target = serving.resolve("bc", None, "key").unwrap();
    drop(arriving);
    // Nothing else is on its way, so the batch runs at once instead of waiting 30 s.
    let answered = tokio::time::timeout(
        max_wait / 2,
        serving.predict(&target, vec![first_row()], "lone"),
    )
    .await
    .expect("the lone request did not wait out the batch's wait");
    assert_eq!(answered.unwrap().len(), 2);
    serving.shutdown().await;
}

/// `bc` v1 deployed live, served in batches of at most 8 rows waiting at most `max_wait`.
async fn batched_bc(
    max_wait: std::time::Duration,
) -> (tempfile::TempDir, bascule_lifecycle::Registry, Serving, i64) {
    use bascule_lifecycle::serving::BatchingConfig;
    let (dir, registry, v1, _) = two_validated_versions().await;
    let mut config = ServingConfig::default();
    config.batching.insert(
        "bc".to_owned(),
        BatchingConfig {
            max_rows: 8,
            max_wait,
        },
    );
    let serving = Serving::start(registry.clone(), config).await.unwrap();
    serving
        .change(request("bc", deploy(v1, Role::Live, None)))
        .await
        .unwrap();
    (dir, registry, serving, v1)
}

/// Sends 16 one-row requests at once to a model batched with `max_wait` and checks each
/// answer and logged row is the request's own; returns the number of batches run.
async fn sixteen_batched_requests(max_wait: std::time::Duration) -> u64 {
    let (_dir, registry, serving, v1) = batched_bc(max_wait).await;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/logistic/holdout.csv");
    let rows: Vec<Tensor> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .take(16)
        .map(|line| {
            let row: Vec<f32> = line
                .split(',')
                .take(30)
                .map(|v| v.parse().unwrap())
                .collect();
            Tensor::new("input", vec![1, 30], TensorData::Fp32(row)).unwrap()
        })
        .collect();
    let plan = registry.load("bc", v1).await.unwrap();
    // All 16 are on their way (as a server counts them while it reads their bodies)
    // before the first is run.
    let arriving: Vec<_> = rows
        .iter()
        .map(|_| serving.arriving("bc").expect("bc is batched"))
        .collect();
    let tasks: Vec<_> = rows
        .iter()
        .zip(arriving)
        .enumerate()
        .map(|(i, (row, arriving))| {
            let (serving, row) = (serving.clone(), row.clone());
            tokio::spawn(async move {
                let target = serving.resolve("bc", None, "key").unwrap();
                drop(arriving);
                serving
                    .predict(&target, vec![row], &format!("req-{i}"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    // A row run alone goes through tract's single-row plan, whose matmul kernel may round
    // the last bit differently from the batch plan's; labels are equal, floats within 1e-6
    // (the rows' answers differ from each other by far more).
    for (task, row) in tasks.into_iter().zip(&rows) {
        let batched = task.await.unwrap();
        let alone = plan.run(vec![row.clone()]).unwrap();
        assert_eq!(batched.len(), alone.len());
        for (batched, alone) in batched.iter().zip(&alone) {
            assert_eq!(
                (&batched.name, &batched.shape, batched.data.datatype()),
                (&alone.name, &alone.shape, alone.data.datatype())
            );
            let (b, a) = (batched.data.to_f64().unwrap(), alone.data.to_f64().unwrap());
            assert!(
                b.iter().zip(&a).all(|(b, a)| (b - a).abs() <= 1e-6),
                "a batched answer differs from the row run alone: {batched:?} against {alone:?}"
            );
        }
    }
    let route = serving.routes().get("bc").unwrap();
    let batcher = route.live.as_ref().unwrap().batcher.as_ref().unwrap();
    let batches = batcher.batches.load(std::sync::atomic::Ordering::Relaxed);
    let requests = batcher.requests.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(requests, 16);
    let stats = serving.shutdown().await;
    assert_eq!(stats.written, 16, "every batched request is logged");
    // The batching queue keeps the inputs it runs, so the log gets a copy: each request's
    // own row.
    for (i, row) in rows.iter().enumerate() {
        let logged = registry
            .store()
            .list_predictions("bc", Some(&format!("req-{i}")), 10)
            .await
            .unwrap();
        assert_eq!(logged.len(), 1, "req-{i}");
        assert_eq!(
            logged[0].inputs,
            vec![row.clone()],
            "req-{i}'s logged inputs"
        );
    }
    batches
}
