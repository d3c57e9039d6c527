use bascule_core::{
    AlertState, Label, MetadataStore, NewWindow, PredictionRecord, Role, RuleOutcome, Severity,
    Tensor, TensorData,
};

use crate::backends::each_backend;
use crate::fixtures::{assert_not_found, new_version};

pub(crate) fn record(request_id: &str, version: i64, role: Role) -> PredictionRecord {
    PredictionRecord {
        request_id: request_id.to_owned(),
        name: "bc".to_owned(),
        version,
        role,
        time: 1_700_000_000_000,
        latency_micros: 42,
        inputs: vec![Tensor::new("input", vec![1, 2], TensorData::Fp32(vec![1.0, 2.5])).unwrap()],
        outputs: vec![Tensor::new("label", vec![1], TensorData::Int64(vec![1])).unwrap()],
        error: None,
        agrees_with_live: None,
    }
}

/// The ids the log gave `bc` v1's live predictions, oldest first.
async fn logged_ids(store: &impl MetadataStore) -> Vec<i64> {
    store
        .predictions_after("bc", 1, Role::Live, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect()
}

pub(crate) fn label(request_id: &str, value: f64) -> Label {
    Label {
        request_id: request_id.to_owned(),
        label: value,
    }
}

pub(crate) fn window(first: i64, last: i64) -> NewWindow {
    NewWindow {
        name: "bc".to_owned(),
        version: 1,
        role: Role::Live,
        first_prediction: first,
        last_prediction: last,
        start_time: 1,
        end_time: 2,
        n_predictions: last - first + 1,
        n_labelled: 0,
        drift_share: Some(0.25),
        report: "{}".to_owned(),
    }
}

pub(crate) fn outcome(rule: &str, firing: bool) -> RuleOutcome {
    RuleOutcome {
        rule: rule.to_owned(),
        severity: Severity::Critical,
        firing,
        message: format!("{rule} firing={firing}"),
        value: Some(0.5),
        threshold: Some(0.3),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_predictions_count_a_version_and_role_up_to_the_limit() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        store.create_model_version(new_version("bc")).await.unwrap();
        let empty = store
            .pending_predictions("bc", 1, Role::Live, 0, 10)
            .await
            .unwrap();
        assert_eq!((empty.count, empty.oldest_time), (0, None));

        let mut records: Vec<_> = (0..5)
            .map(|i| {
                let mut record = record(&format!("r{i}"), 1, Role::Live);
                record.time += i;
                record
            })
            .collect();
        records.push(record("canary", 2, Role::Canary));
        records.push(record("shadow", 1, Role::Shadow));
        store.insert_predictions(&records).await.unwrap();
        let ids = logged_ids(&store).await;

        let all = store
            .pending_predictions("bc", 1, Role::Live, 0, 10)
            .await
            .unwrap();
        assert_eq!((all.count, all.oldest_time), (5, Some(1_700_000_000_000)));
        let capped = store
            .pending_predictions("bc", 1, Role::Live, 0, 3)
            .await
            .unwrap();
        assert_eq!(capped.count, 3);
        let after = store
            .pending_predictions("bc", 1, Role::Live, ids[1], 10)
            .await
            .unwrap();
        assert_eq!(
            (after.count, after.oldest_time),
            (3, Some(1_700_000_000_002))
        );
        let canary = store
            .pending_predictions("bc", 2, Role::Canary, 0, 10)
            .await
            .unwrap();
        assert_eq!(canary.count, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_resumes_at_the_first_write_batch_stamped_at_or_after_a_time() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        let t = 1_700_000_000_000;
        // Three write batches (each one segment): ids 1..=3 at t, 4..=5 at t+100, 6 at t+200.
        for (n, time) in [(3, t), (2, t + 100), (1, t + 200)] {
            let batch: Vec<_> = (0..n)
                .map(|i| {
                    let mut record = record(&format!("r{time}-{i}"), 1, Role::Live);
                    record.time = time + i;
                    record
                })
                .collect();
            store.insert_predictions(&batch).await.unwrap();
        }
        let ids = logged_ids(&store).await;
        assert_eq!(ids.len(), 6);
        let since = |after: i64, time: i64| {
            let store = &store;
            async move {
                store
                    .first_prediction_since("bc", 1, Role::Live, after, time)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(since(0, t).await, Some(ids[0]));
        // t+50 falls inside no batch's start: the next batch's first prediction.
        assert_eq!(since(0, t + 50).await, Some(ids[3]));
        assert_eq!(since(0, t + 100).await, Some(ids[3]));
        // Past the cursor only: inside the batch the cursor falls in, right after it.
        assert_eq!(since(ids[3], t + 100).await, Some(ids[4]));
        assert_eq!(since(ids[4], t).await, Some(ids[5]));
        assert_eq!(since(ids[5], t).await, None);
        assert_eq!(
            since(0, t + 201).await,
            None,
            "nothing stamped that late yet"
        );
        let other = store
            .first_prediction_since("bc", 1, Role::Canary, 0, t)
            .await
            .unwrap();
        assert_eq!(other, None, "another role's stream");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_join_predictions_by_request_id_and_unknown_ones_are_counted() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        let records: Vec<_> = (0..4)
            .map(|i| record(&format!("r{i}"), 1, Role::Live))
            .collect();
        store.insert_predictions(&records).await.unwrap();

        let receipt = store
            .insert_labels(
                "bc",
                &[label("r0", 1.0), label("r1", 0.0), label("ghost", 1.0)],
            )
            .await
            .unwrap();
        assert_eq!(
            (receipt.stored, receipt.replaced, receipt.unknown),
            (3, 0, 1)
        );
        assert_eq!(receipt.unknown_examples, vec!["ghost".to_owned()]);
        // A later label replaces the earlier one; duplicates in one call: the last wins.
        let receipt = store
            .insert_labels("bc", &[label("r1", 0.0), label("r1", 1.0)])
            .await
            .unwrap();
        assert_eq!(
            (receipt.stored, receipt.replaced, receipt.unknown),
            (1, 1, 0)
        );
        let summary = store.label_summary("bc").await.unwrap();
        assert_eq!(
            (summary.labels, summary.matched, summary.unmatched),
            (3, 2, 1)
        );

        let logged = store
            .predictions_after("bc", 1, Role::Live, 0, 10)
            .await
            .unwrap();
        let labels: Vec<Option<f64>> = logged.iter().map(|p| p.label).collect();
        assert_eq!(labels, vec![Some(1.0), Some(1.0), None, None]);
        assert!(logged.windows(2).all(|w| w[0].id < w[1].id));
        let rest = store
            .predictions_after("bc", 1, Role::Live, logged[1].id, 10)
            .await
            .unwrap();
        assert_eq!(rest.len(), 2);
        assert!(
            store
                .insert_labels("bc", &[label("r0", f64::NAN)])
                .await
                .is_err(),
            "a label must be a finite number"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_is_stored_once_and_relabelled_when_labels_arrive() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        let records: Vec<_> = (0..4)
            .map(|i| record(&format!("r{i}"), 1, Role::Live))
            .collect();
        store.insert_predictions(&records).await.unwrap();
        let ids = logged_ids(&store).await;
        assert_eq!(store.last_window("bc", 1, Role::Live).await.unwrap(), None);
        let stored = store
            .insert_window(window(ids[0], ids[3]))
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(stored.n_predictions, 4);
        assert_eq!(
            store.insert_window(window(ids[0], ids[3])).await.unwrap(),
            None,
            "a second replica's copy is refused"
        );
        assert_eq!(
            store.last_window("bc", 1, Role::Live).await.unwrap(),
            Some(stored.clone())
        );
        assert_eq!(store.window_predictions(&stored).await.unwrap().len(), 4);

        assert!(
            store
                .windows_with_new_labels("bc", 0)
                .await
                .unwrap()
                .is_empty()
        );
        // Labels received after the window's report: it needs recomputing (a label
        // stored in the same millisecond counts as after).
        store
            .insert_labels("bc", &[label("r2", 1.0)])
            .await
            .unwrap();
        let stale = store.windows_with_new_labels("bc", 0).await.unwrap();
        assert_eq!(
            stale.iter().map(|w| w.id).collect::<Vec<_>>(),
            vec![stored.id]
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        store
            .update_window(stored.id, 1, "{\"x\":1}")
            .await
            .unwrap();
        let updated = store.get_window("bc", stored.id).await.unwrap();
        assert_eq!(
            (updated.n_labelled, updated.report.as_str()),
            (1, "{\"x\":1}")
        );
        assert!(
            store
                .windows_with_new_labels("bc", 0)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.list_windows("bc", Some(2), 10).await.unwrap(), vec![]);
        assert_eq!(store.list_windows("bc", None, 10).await.unwrap().len(), 1);
        assert_not_found(
            store.get_window("bc", stored.id + 1).await,
            "monitoring window",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_open_once_stay_open_while_firing_and_resolve_when_cleared() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        store
            .insert_predictions(&[record("r0", 1, Role::Live), record("r1", 1, Role::Live)])
            .await
            .unwrap();
        let ids = logged_ids(&store).await;
        let w1 = store
            .insert_window(window(ids[0], ids[0]))
            .await
            .unwrap()
            .unwrap();
        let w2 = store
            .insert_window(window(ids[1], ids[1]))
            .await
            .unwrap()
            .unwrap();

        let opened = store
            .apply_rule_outcomes(
                "bc",
                1,
                w1.id,
                &[outcome("drift_share", true), outcome("error_rate", false)],
            )
            .await
            .unwrap();
        assert_eq!(opened.len(), 1, "a rule that does not fire opens nothing");
        assert_eq!(opened[0].state, AlertState::Open);
        let extended = store
            .apply_rule_outcomes("bc", 1, w2.id, &[outcome("drift_share", true)])
            .await
            .unwrap();
        assert_eq!(extended[0].id, opened[0].id, "deduplicated while firing");
        assert_eq!(
            (extended[0].window_id, extended[0].last_window_id),
            (w1.id, w2.id)
        );
        let resolved = store
            .apply_rule_outcomes("bc", 1, w2.id, &[outcome("drift_share", false)])
            .await
            .unwrap();
        assert_eq!(resolved[0].state, AlertState::Resolved);
        assert!(resolved[0].resolved_time.is_some());
        let reopened = store
            .apply_rule_outcomes("bc", 1, w2.id, &[outcome("drift_share", true)])
            .await
            .unwrap();
        assert_ne!(reopened[0].id, opened[0].id, "a new episode is a new alert");

        let open = store
            .list_alerts(Some("bc"), Some(AlertState::Open), 10)
            .await
            .unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(store.list_alerts(None, None, 10).await.unwrap().len(), 2);
        assert_eq!(
            store
                .list_alerts(Some("other"), None, 10)
                .await
                .unwrap()
                .len(),
            0
        );
        assert_eq!(store.get_alert(open[0].id).await.unwrap(), open[0]);
        assert_not_found(store.get_alert(999).await, "alert");
    })
    .await;
}

/// A generated request id (the log indexes these by runs of counters, not a row each).
fn generated(prefix: &str, counter: u64) -> String {
    bascule_core::generated_request_id(prefix, counter)
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_join_generated_ids_through_runs_whatever_order_the_records_came_in() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        store.create_model_version(new_version("bc")).await.unwrap();
        let (p, q) = ("00000000000a", "fffffffffff0");
        // A label that arrives before its prediction is logged is unknown until it is.
        let early = store
            .insert_labels("bc", &[label(&generated(p, 5), 0.0)])
            .await
            .unwrap();
        assert_eq!(early.unknown, 1);

        // Requests finish out of the order they arrived in: counters swapped in pairs,
        // callers' ids and another process's between them, 7 never logged (a gap), 3
        // twice (a caller reusing an id), and the shadow's copies in reverse.
        let mut records = Vec::new();
        for counter in [1, 0, 3, 2, 5, 4, 8, 6, 9, 3] {
            records.push(record(&generated(p, counter), 1, Role::Live));
            if counter == 2 {
                records.push(record("caller-a", 1, Role::Live));
                records.push(record(&generated(q, 2), 1, Role::Live));
            }
        }
        records.push(record("caller-b", 1, Role::Live));
        for counter in [9, 8, 6, 5, 4, 3, 2, 1, 0] {
            records.push(record(&generated(p, counter), 2, Role::Shadow));
        }
        store.insert_predictions(&records).await.unwrap();
        let summary = store.label_summary("bc").await.unwrap();
        assert_eq!((summary.labels, summary.matched), (1, 1));

        let receipt = store
            .insert_labels(
                "bc",
                &[
                    label(&generated(p, 0), 1.0),
                    label(&generated(p, 3), 1.0),
                    label(&generated(p, 9), 0.0),
                    label(&generated(q, 2), 1.0),
                    label("caller-a", 0.0),
                    label(&generated(p, 7), 1.0),
                    label(&generated(p, 999), 1.0),
                ],
            )
            .await
            .unwrap();
        assert_eq!((receipt.stored, receipt.unknown), (7, 2));
        let mut unknown = receipt.unknown_examples.clone();
        unknown.sort();
        assert_eq!(unknown, vec![generated(p, 7), generated(p, 999)]);
        let summary = store.label_summary("bc").await.unwrap();
        assert_eq!((summary.labels, summary.matched), (8, 6));

        // Each logged record carries its own request's label.
        let live = store
            .predictions_after("bc", 1, Role::Live, 0, 100)
            .await
            .unwrap();
        assert_eq!(live.len(), 13);
        let expected = |id: &str| match id {
            _ if id == generated(p, 0) || id == generated(p, 3) || id == generated(q, 2) => {
                Some(1.0)
            }
            _ if id == generated(p, 5) || id == generated(p, 9) || id == "caller-a" => Some(0.0),
            _ => None,
        };
        for prediction in &live {
            assert_eq!(
                prediction.label,
                expected(&prediction.record.request_id),
                "{}",
                prediction.record.request_id
            );
        }
        // The labelled export finds them through the index: both copies of 3, no shadow.
        let labelled = store
            .recent_predictions("bc", None, 0, true, 100)
            .await
            .unwrap();
        let mut ids: Vec<String> = labelled
            .iter()
            .map(|p| p.record.request_id.clone())
            .collect();
        ids.sort();
        let mut want = vec![
            generated(p, 0),
            generated(p, 3),
            generated(p, 3),
            generated(p, 5),
            generated(p, 9),
            generated(q, 2),
            "caller-a".to_owned(),
        ];
        want.sort();
        assert_eq!(ids, want);
        assert!(
            labelled
                .iter()
                .all(|p| p.label == expected(&p.record.request_id))
        );

        // Every id finds all its records, and only them.
        for id in [generated(p, 3), generated(p, 8), generated(q, 2)] {
            let found = store.list_predictions("bc", Some(&id), 10).await.unwrap();
            let roles: Vec<Role> = found.iter().map(|r| r.role).collect();
            assert!(found.iter().all(|r| r.request_id == id), "{id}");
            let want = match id.as_str() {
                _ if id == generated(p, 3) => vec![Role::Shadow, Role::Live, Role::Live],
                _ if id == generated(q, 2) => vec![Role::Live],
                _ => vec![Role::Shadow, Role::Live],
            };
            assert_eq!(roles, want, "{id}: newest first");
        }
        assert!(
            store
                .list_predictions("bc", Some(&generated(p, 7)), 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A window over the shadow's records needs recomputing for the labels of its ids.
        let shadow = store
            .predictions_after("bc", 2, Role::Shadow, 0, 100)
            .await
            .unwrap();
        let mut window = window(shadow[0].id, shadow[8].id);
        window.version = 2;
        window.role = Role::Shadow;
        // Labels from the same millisecond as the report count as after it.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let stored = store.insert_window(window).await.unwrap().expect("stored");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert!(
            store
                .windows_with_new_labels("bc", 0)
                .await
                .unwrap()
                .is_empty()
        );
        store
            .insert_labels("bc", &[label(&generated(p, 8), 1.0)])
            .await
            .unwrap();
        let stale = store.windows_with_new_labels("bc", 0).await.unwrap();
        assert_eq!(stale.iter().map(|w| w.id).collect::<Vec<_>>(), [stored.id]);
    })
    .await;
}
