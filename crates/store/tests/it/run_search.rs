//! Run search and run loading as the MLflow API uses them: exact values whatever path
//! loads a run, a page of the best runs by a filtered metric, and where runs without the
//! ordered value go.

use bascule_core::{
    Comparator, MetadataStore, Run, RunSearch, RunUpdate, SearchClause, SearchEntity, SearchOrder,
    SearchValue, ViewType,
};
use bascule_store::SqlMetadataStore;

use crate::backends::each_backend;
use crate::fixtures::{metric, new_run, param, tag};

/// Values a decimal rendering with too few digits would change.
const AWKWARD: [f64; 9] = [
    0.1 + 0.2,
    1.0 / 3.0,
    1e-300,
    f64::MAX,
    f64::MIN_POSITIVE,
    -123_456_789.123_456_79,
    0.123_456_789_012_345_68,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

fn search(experiment_id: i64, clauses: Vec<SearchClause>, order_by: Vec<SearchOrder>) -> RunSearch {
    RunSearch {
        experiment_ids: vec![experiment_id],
        clauses,
        order_by,
        view: ViewType::ActiveOnly,
        max_results: 100,
        offset: 0,
    }
}

fn metric_above(key: &str, threshold: f64) -> SearchClause {
    SearchClause {
        entity: SearchEntity::Metric,
        key: key.to_owned(),
        comparator: Comparator::Gt,
        value: SearchValue::Number(threshold),
    }
}

fn order(entity: SearchEntity, key: &str, ascending: bool) -> SearchOrder {
    SearchOrder {
        entity,
        key: key.to_owned(),
        ascending,
    }
}

fn run_ids(runs: &[Run]) -> Vec<&str> {
    runs.iter().map(|run| run.run_id.as_str()).collect()
}

async fn experiment(store: &SqlMetadataStore, name: &str) -> i64 {
    store
        .create_experiment(name, None, &[])
        .await
        .expect("created")
        .experiment_id
}

#[tokio::test(flavor = "multi_thread")]
async fn loaded_runs_keep_every_value_exactly_whatever_the_path() {
    each_backend(|store| async move {
        let id = experiment(&store, "values").await;
        let run = store.create_run(new_run(id, 1)).await.expect("created");
        let mut metrics: Vec<_> = AWKWARD
            .iter()
            .enumerate()
            .map(|(index, &value)| metric(&format!("m{index}"), value, 5, 1))
            .collect();
        metrics.push(metric("not_a_number", f64::NAN, 5, 1));
        let params = [param("b", "two"), param("a", "ünï'\"cödé")];
        let tags = [tag("z", "last"), tag("a", "[\"json-looking\"]")];
        store
            .log_batch(&run.run_id, &metrics, &params, &tags)
            .await
            .expect("logged");

        let by_id = store.get_run(&run.run_id).await.expect("read");
        let listed = store
            .list_runs(id, ViewType::ActiveOnly)
            .await
            .expect("listed");
        let (found, more) = store
            .search_runs(&search(id, vec![], vec![]))
            .await
            .expect("searched");
        assert!(!more);
        for loaded in [&by_id, &listed[0], &found[0]] {
            let keys: Vec<&str> = loaded.metrics.iter().map(|m| m.key.as_str()).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            assert_eq!(keys, sorted, "metrics sorted by key");
            for (index, &value) in AWKWARD.iter().enumerate() {
                let stored = loaded
                    .metrics
                    .iter()
                    .find(|m| m.key == format!("m{index}"))
                    .expect("metric loaded");
                assert_eq!(stored.value.to_bits(), value.to_bits(), "m{index}");
                assert_eq!((stored.timestamp, stored.step), (5, 1));
            }
            let nan = loaded.metrics.iter().find(|m| m.key == "not_a_number");
            assert!(nan.expect("NaN loaded").value.is_nan());
            assert_eq!(loaded.params, [param("a", "ünï'\"cödé"), param("b", "two")]);
            let tag_keys: Vec<&str> = loaded.tags.iter().map(|t| t.key.as_str()).collect();
            assert_eq!(tag_keys, ["a", "mlflow.runName", "z"]);
            assert_eq!(loaded.tags[0].value, "[\"json-looking\"]");
        }
        // A run with nothing logged loads with empty lists (PostgreSQL aggregates no rows
        // to NULL).
        let bare = store.create_run(new_run(id, 2)).await.expect("created");
        let bare = store.get_run(&bare.run_id).await.expect("read");
        assert!(bare.metrics.is_empty() && bare.params.is_empty());
        assert_eq!(bare.tags.len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_best_runs_by_a_filtered_metric_come_first_ties_newest_first() {
    each_backend(|store| async move {
        let id = experiment(&store, "best").await;
        let other = experiment(&store, "other").await;
        // acc = 0.0, 0.1, …, 0.9 by start time, then a tie at 0.9 and a NaN.
        let mut by_accuracy = Vec::new();
        for index in 0..10 {
            let run = store.create_run(new_run(id, index)).await.expect("created");
            let accuracy = index as f64 / 10.0;
            let metrics = [metric("acc", accuracy, 0, 0), metric("loss", 1.0, 0, 0)];
            store
                .log_batch(&run.run_id, &metrics, &[], &[])
                .await
                .expect("logged");
            by_accuracy.push(run.run_id);
        }
        let tie = store.create_run(new_run(id, 100)).await.expect("created");
        store
            .log_batch(&tie.run_id, &[metric("acc", 0.9, 0, 0)], &[], &[])
            .await
            .expect("logged");
        let nan = store.create_run(new_run(id, 101)).await.expect("created");
        store
            .log_batch(&nan.run_id, &[metric("acc", f64::NAN, 0, 0)], &[], &[])
            .await
            .expect("logged");
        let elsewhere = store.create_run(new_run(other, 1)).await.expect("created");
        store
            .log_batch(&elsewhere.run_id, &[metric("acc", 0.99, 0, 0)], &[], &[])
            .await
            .expect("logged");

        let mut page = search(
            id,
            vec![metric_above("acc", 0.5)],
            vec![order(SearchEntity::Metric, "acc", false)],
        );
        page.max_results = 3;
        let (runs, more) = store.search_runs(&page).await.expect("searched");
        assert!(more);
        // 0.9 twice (the later start first), then 0.8.
        let expected = [
            tie.run_id.as_str(),
            by_accuracy[9].as_str(),
            by_accuracy[8].as_str(),
        ];
        assert_eq!(run_ids(&runs), expected);
        page.offset = 3;
        let (runs, more) = store.search_runs(&page).await.expect("searched");
        assert!(!more, "0.7 and 0.6 are left, then nothing");
        assert_eq!(run_ids(&runs), [&by_accuracy[7], &by_accuracy[6]]);
        assert_eq!(runs[0].metrics.len(), 2);

        // Ascending, and ordered by a metric that is not filtered: runs without it (the
        // tie and the NaN have no loss) come last either way.
        let ascending = search(
            id,
            vec![metric_above("acc", 0.75)],
            vec![order(SearchEntity::Metric, "loss", true)],
        );
        let (runs, _) = store.search_runs(&ascending).await.expect("searched");
        assert_eq!(
            run_ids(&runs),
            [&by_accuracy[9], &by_accuracy[8], &tie.run_id]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_without_an_end_time_come_last_in_both_directions() {
    each_backend(|store| async move {
        let id = experiment(&store, "ends").await;
        let mut ended = Vec::new();
        for index in 0..3 {
            let run = store.create_run(new_run(id, index)).await.expect("created");
            let update = RunUpdate {
                end_time: Some(10 + index),
                ..RunUpdate::default()
            };
            store.update_run(&run.run_id, update).await.expect("ended");
            ended.push(run.run_id);
        }
        let running = store.create_run(new_run(id, 9)).await.expect("created");
        for (ascending, expected) in [
            (true, [&ended[0], &ended[1], &ended[2], &running.run_id]),
            (false, [&ended[2], &ended[1], &ended[0], &running.run_id]),
        ] {
            let by_end = search(
                id,
                vec![],
                vec![order(SearchEntity::Attribute, "end_time", ascending)],
            );
            let (runs, _) = store.search_runs(&by_end).await.expect("searched");
            assert_eq!(run_ids(&runs), expected, "ascending: {ascending}");
        }
    })
    .await;
}
