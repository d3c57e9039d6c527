use bascule_core::{ErrorCode, MetadataStore};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, metric, new_run, param, tag};

#[tokio::test(flavor = "multi_thread")]
async fn metric_history_is_kept_and_the_latest_follows_mlflow() {
    each_backend(|store| async move {
        let run = store.create_run(new_run(0, 1)).await.expect("created");
        let id = run.run_id.as_str();
        let first = [
            metric("loss", 0.9, 100, 0),
            metric("loss", 0.5, 200, 1),
            metric("acc", 0.7, 100, 0),
        ];
        store.log_batch(id, &first, &[], &[]).await.expect("logged");
        // Same step, earlier timestamp: history only.
        store
            .log_batch(id, &[metric("loss", 0.7, 150, 1)], &[], &[])
            .await
            .expect("logged");
        // Same step and timestamp, larger value: the new latest.
        store
            .log_batch(id, &[metric("loss", 0.6, 200, 1)], &[], &[])
            .await
            .expect("logged");
        // An earlier step, logged last: history only.
        store
            .log_batch(id, &[metric("loss", 0.1, 50, 0)], &[], &[])
            .await
            .expect("logged");
        // The very same point again: kept once.
        store
            .log_batch(id, &[metric("loss", 0.9, 100, 0)], &[], &[])
            .await
            .expect("logged");

        let run = store.get_run(id).await.expect("found");
        assert_eq!(
            run.metrics,
            [metric("acc", 0.7, 100, 0), metric("loss", 0.6, 200, 1)]
        );
        let history = store.get_metric_history(id, "loss").await.expect("history");
        let expected = [
            metric("loss", 0.1, 50, 0),
            metric("loss", 0.9, 100, 0),
            metric("loss", 0.7, 150, 1),
            metric("loss", 0.5, 200, 1),
            metric("loss", 0.6, 200, 1),
        ];
        assert_eq!(history, expected);
        assert!(
            store
                .get_metric_history(id, "never-logged")
                .await
                .expect("empty")
                .is_empty()
        );
        assert_not_found(store.get_metric_history("nope", "loss").await, "run");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn within_one_batch_the_latest_point_wins_whatever_its_position() {
    each_backend(|store| async move {
        let run = store.create_run(new_run(0, 1)).await.expect("created");
        let batch = [
            metric("loss", 0.3, 300, 3),
            metric("loss", 0.9, 100, 1),
            metric("loss", f64::NAN, 200, 2),
            metric("loss", f64::INFINITY, 250, 2),
        ];
        store
            .log_batch(&run.run_id, &batch, &[], &[])
            .await
            .expect("logged");
        let latest = store.get_run(&run.run_id).await.expect("found").metrics;
        assert_eq!(latest, [metric("loss", 0.3, 300, 3)]);
        let history = store
            .get_metric_history(&run.run_id, "loss")
            .await
            .expect("history");
        assert_eq!(history.len(), 4);
        assert!(
            history[1].value.is_nan(),
            "NaN survives the round trip: {history:?}"
        );
        assert_eq!(history[2].value, f64::INFINITY);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_param_rejects_the_whole_batch() {
    each_backend(|store| async move {
        let run = store.create_run(new_run(0, 1)).await.expect("created");
        let id = run.run_id.as_str();
        store
            .log_batch(id, &[], &[param("lr", "0.1"), param("depth", "3")], &[])
            .await
            .expect("logged");
        store
            .log_batch(id, &[], &[param("lr", "0.1")], &[])
            .await
            .expect("the same value again is fine");

        let batch = store
            .log_batch(
                id,
                &[metric("loss", 1.0, 1, 0)],
                &[param("new", "x"), param("lr", "0.2")],
                &[tag("t", "1")],
            )
            .await;
        assert_error(
            batch,
            ErrorCode::InvalidArgument,
            &["'lr'", "'0.1'", "'0.2'", "immutable"],
        );
        let run = store.get_run(id).await.expect("found");
        assert_eq!(run.params, [param("depth", "3"), param("lr", "0.1")]);
        assert!(run.metrics.is_empty(), "{:?}", run.metrics);
        assert!(!run.tags.contains(&tag("t", "1")));

        let twice = store
            .log_batch(id, &[], &[param("k", "1"), param("k", "2")], &[])
            .await;
        assert_error(twice, ErrorCode::InvalidArgument, &["'k'", "twice"]);
        store
            .log_batch(id, &[], &[param("k", "1"), param("k", "1")], &[])
            .await
            .expect("a repeat is fine");
        assert_not_found(
            store.log_batch("nope", &[], &[param("k", "1")], &[]).await,
            "run",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_tags_are_overwritten_and_deleted() {
    each_backend(|store| async move {
        let run = store.create_run(new_run(0, 1)).await.expect("created");
        let id = run.run_id.as_str();
        store
            .log_batch(id, &[], &[], &[tag("a", "1"), tag("b", "2"), tag("a", "0")])
            .await
            .expect("logged");
        store
            .log_batch(id, &[], &[], &[tag("a", "3")])
            .await
            .expect("overwritten");
        store.delete_run_tag(id, "b").await.expect("deleted");
        let tags = store.get_run(id).await.expect("found").tags;
        assert_eq!(tags, [tag("a", "3"), tag("mlflow.runName", &run.run_name)]);
        assert_not_found(store.delete_run_tag(id, "b").await, "run tag");
        assert_not_found(store.delete_run_tag("nope", "a").await, "run");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_mlflow_batch_is_logged_at_once() {
    each_backend(|store| async move {
        let run = store.create_run(new_run(0, 1)).await.expect("created");
        let metrics: Vec<_> = (0..1_000_i64)
            .map(|i| metric(&format!("m{}", i % 10), i as f64, 1_000 + i, i / 10))
            .collect();
        let params: Vec<_> = (0..100)
            .map(|i| param(&format!("p{i}"), &i.to_string()))
            .collect();
        let tags: Vec<_> = (0..100)
            .map(|i| tag(&format!("t{i}"), &i.to_string()))
            .collect();
        let started = std::time::Instant::now();
        store
            .log_batch(&run.run_id, &metrics, &params, &tags)
            .await
            .expect("logged");
        eprintln!(
            "1,000 metrics + 100 params + 100 tags in {:?}",
            started.elapsed()
        );

        let run = store.get_run(&run.run_id).await.expect("found");
        assert_eq!(
            (run.metrics.len(), run.params.len(), run.tags.len()),
            (10, 100, 101)
        );
        assert_eq!(run.metrics[0], metric("m0", 990.0, 1_990, 99));
        let history = store
            .get_metric_history(&run.run_id, "m3")
            .await
            .expect("history");
        assert_eq!(history.len(), 100);
        assert!(history.windows(2).all(|pair| pair[0].step < pair[1].step));
    })
    .await;
}
