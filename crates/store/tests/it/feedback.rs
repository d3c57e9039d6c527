use bascule_core::{
    FeedbackState, FeedbackUpdate, MetadataStore, NewFeedback, NewTask, Role, TaskKind,
    TaskOutcome, TaskState,
};

use crate::backends::each_backend;
use crate::fixtures::{assert_not_found, new_version};
use crate::monitoring::{label, outcome, record, window};

fn new_feedback(alert_ids: Vec<i64>) -> NewFeedback {
    NewFeedback {
        name: "bc".to_owned(),
        version: 1,
        summary: "drift".to_owned(),
        alert_ids,
        window_id: None,
    }
}

fn task(kind: TaskKind, feedback_id: Option<i64>) -> NewTask {
    NewTask {
        kind,
        target: "hook".to_owned(),
        feedback_id,
        event: "feedback.opened".to_owned(),
        payload: "{}".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_opens_feedback_and_later_alerts_extend_the_active_item() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        store
            .insert_predictions(&[record("r0", 1, Role::Live)])
            .await
            .unwrap();
        let first = store
            .predictions_after("bc", 1, Role::Live, 0, 1)
            .await
            .unwrap()[0]
            .id;
        let w = store
            .insert_window(window(first, first))
            .await
            .unwrap()
            .unwrap();
        let alerts = store
            .apply_rule_outcomes(
                "bc",
                1,
                w.id,
                &[outcome("drift_share", true), outcome("metric_drop", true)],
            )
            .await
            .unwrap();
        assert_eq!(store.unassigned_alerts(10).await.unwrap().len(), 2);

        let (item, created) = store
            .open_feedback(new_feedback(vec![alerts[0].id]))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(item.state, FeedbackState::Open);
        let (same, created) = store
            .open_feedback(new_feedback(vec![alerts[1].id]))
            .await
            .unwrap();
        assert!(!created, "an active item is extended, not duplicated");
        assert_eq!(same.id, item.id);
        assert_eq!(same.alert_ids, vec![alerts[0].id, alerts[1].id]);
        assert!(store.unassigned_alerts(10).await.unwrap().is_empty());
        assert_eq!(
            store.get_alert(alerts[1].id).await.unwrap().feedback_id,
            Some(item.id)
        );

        // Only open items may be acknowledged; the refusal names the state.
        let resolved = store
            .update_feedback(
                item.id,
                FeedbackUpdate {
                    to: Some(FeedbackState::Resolved),
                    answered_by: Some(2),
                    ..FeedbackUpdate::default()
                },
            )
            .await
            .unwrap();
        assert!(resolved.resolved_time.is_some());
        let error = store
            .update_feedback(
                item.id,
                FeedbackUpdate {
                    from: vec![FeedbackState::Open],
                    to: Some(FeedbackState::Acknowledged),
                    ..FeedbackUpdate::default()
                },
            )
            .await
            .unwrap_err();
        assert!(error.to_string().contains("resolved"), "{error}");
        // A resolved item no longer absorbs alerts: the next opens a new one.
        let (next, created) = store.open_feedback(new_feedback(vec![])).await.unwrap();
        assert!(created && next.id != item.id);
        assert_not_found(store.get_feedback(9999).await, "feedback item");

        store
            .add_feedback_note(item.id, "opened", "tester", "hello")
            .await
            .unwrap();
        let notes = store.list_feedback_notes(item.id).await.unwrap();
        assert_eq!(notes[0].message, "hello");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_are_claimed_once_until_their_lease_lapses() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        let (item, _) = store.open_feedback(new_feedback(vec![])).await.unwrap();
        let queued = store
            .enqueue_tasks(&[task(TaskKind::Webhook, Some(item.id))])
            .await
            .unwrap();
        let now = bascule_core::now_millis();
        assert!(
            store
                .claim_task(TaskKind::Retrain, now, 1000)
                .await
                .unwrap()
                .is_none()
        );
        let claimed = store
            .claim_task(TaskKind::Webhook, now, 1000)
            .await
            .unwrap()
            .expect("a due task");
        assert_eq!(
            (claimed.id, claimed.state, claimed.attempts),
            (queued[0].id, TaskState::Running, 1)
        );
        assert!(
            store
                .claim_task(TaskKind::Webhook, now, 1000)
                .await
                .unwrap()
                .is_none(),
            "a leased task is not claimed twice"
        );
        // The worker died: once the lease lapses, another claims it.
        let again = store
            .claim_task(TaskKind::Webhook, now + 2000, 1000)
            .await
            .unwrap()
            .expect("claimed again after the lease");
        assert_eq!(again.attempts, 2);
        let retried = store
            .finish_task(
                again.id,
                &TaskOutcome::Retry {
                    error: "HTTP 503".to_owned(),
                    status: Some(503),
                    output: None,
                    next_attempt_time: now + 10_000,
                },
            )
            .await
            .unwrap();
        assert_eq!(retried.state, TaskState::Pending);
        assert_eq!(retried.last_status, Some(503));
        assert!(
            store
                .claim_task(TaskKind::Webhook, now + 5000, 1000)
                .await
                .unwrap()
                .is_none()
        );
        let last = store
            .claim_task(TaskKind::Webhook, now + 10_000, 1000)
            .await
            .unwrap()
            .unwrap();
        let done = store
            .finish_task(
                last.id,
                &TaskOutcome::Done {
                    status: Some(200),
                    output: Some("ok".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!((done.state, done.attempts), (TaskState::Done, 3));
        assert!(done.finished_time.is_some());
        assert_eq!(store.list_tasks(Some(item.id), 10).await.unwrap().len(), 1);
        assert_eq!(
            store.get_task(done.id).await.unwrap().state,
            TaskState::Done
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recent_predictions_are_the_newest_oldest_first_and_may_be_labelled_only() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        let records: Vec<_> = (0..5)
            .map(|i| {
                record(
                    &format!("r{i}"),
                    1,
                    if i == 4 { Role::Shadow } else { Role::Live },
                )
            })
            .collect();
        store.insert_predictions(&records).await.unwrap();
        store
            .insert_labels("bc", &[label("r1", 1.0), label("r3", 0.0)])
            .await
            .unwrap();
        let recent = store
            .recent_predictions("bc", Some(1), 0, false, 2)
            .await
            .unwrap();
        let ids: Vec<&str> = recent
            .iter()
            .map(|p| p.record.request_id.as_str())
            .collect();
        assert_eq!(ids, ["r2", "r3"], "the newest two, oldest first; no shadow");
        let labelled = store
            .recent_predictions("bc", None, 0, true, 10)
            .await
            .unwrap();
        let ids: Vec<&str> = labelled
            .iter()
            .map(|p| p.record.request_id.as_str())
            .collect();
        assert_eq!(ids, ["r1", "r3"]);
        assert_eq!(labelled[0].label, Some(1.0));
        let after = store
            .recent_predictions("bc", None, labelled[0].id, true, 10)
            .await
            .unwrap();
        assert_eq!(after.len(), 1);
    })
    .await;
}
