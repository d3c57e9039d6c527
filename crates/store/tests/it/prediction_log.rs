//! The prediction log's segments: ids across streams and segments, reads that start or
//! end inside a segment, a damaged segment, and a store from before segments.

use std::borrow::Cow;

use bascule_core::{
    MetadataStore, PredictionRecord, Role, Tensor, TensorData, generated_request_id,
    parse_generated_request_id,
};
use bascule_store::SqlMetadataStore;
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, Connection, Executor, PgConnection, SqliteConnection};

use crate::backends::{each_backend, each_empty_database};
use crate::fixtures::new_version;
use crate::monitoring::record;

fn timed(request_id: &str, version: i64, role: Role, time: i64) -> PredictionRecord {
    let mut record = record(request_id, version, role);
    record.time = time;
    record.inputs = vec![
        Tensor::new(
            "input",
            vec![1, 2],
            TensorData::Fp32(vec![time as f32, 0.5]),
        )
        .unwrap(),
    ];
    record
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_of_several_streams_is_numbered_in_one_increasing_sequence() {
    each_backend(|store| async move {
        let mut batch = Vec::new();
        for i in 0..6 {
            batch.push(timed(&format!("r{i}"), 1, Role::Live, i));
            // The shadow answers the same request.
            batch.push(timed(&format!("r{i}"), 2, Role::Shadow, i));
        }
        let mut other = timed("o0", 1, Role::Live, 0);
        other.name = "other".to_owned();
        batch.push(other.clone());
        store.insert_predictions(&batch).await.unwrap();
        store
            .insert_predictions(&[timed("r6", 1, Role::Live, 6)])
            .await
            .unwrap();

        let live = store
            .predictions_after("bc", 1, Role::Live, 0, 100)
            .await
            .unwrap();
        let shadow = store
            .predictions_after("bc", 2, Role::Shadow, 0, 100)
            .await
            .unwrap();
        let request_ids = |logged: &[bascule_core::LoggedPrediction]| {
            logged
                .iter()
                .map(|p| p.record.request_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            request_ids(&live),
            ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]
        );
        assert_eq!(request_ids(&shadow), ["r0", "r1", "r2", "r3", "r4", "r5"]);
        assert_eq!(live[2].record, batch[4]);
        assert_eq!(shadow[2].record, batch[5]);
        // One sequence for every stream: no id twice, each stream's in its records' order,
        // and a later batch after all of an earlier one.
        let mut ids: Vec<i64> = live.iter().chain(&shadow).map(|p| p.id).collect();
        assert!(live.windows(2).all(|w| w[0].id < w[1].id));
        assert!(shadow.windows(2).all(|w| w[0].id < w[1].id));
        assert!(shadow.iter().all(|p| p.id < live[6].id));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 13);

        let of_request = store.list_predictions("bc", Some("r3"), 10).await.unwrap();
        let versions: Vec<_> = of_request.iter().map(|r| (r.version, r.role)).collect();
        assert_eq!(versions, [(2, Role::Shadow), (1, Role::Live)]);
        assert_eq!(
            store.list_predictions("bc", Some("r3"), 1).await.unwrap(),
            [batch[7].clone()]
        );
        assert_eq!(
            store.list_predictions("other", None, 10).await.unwrap(),
            [other]
        );
        assert!(
            store
                .list_predictions("bc", Some("nobody"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        let newest = store.list_predictions("bc", None, 3).await.unwrap();
        let newest: Vec<_> = newest
            .iter()
            .map(|r| (r.request_id.as_str(), r.role))
            .collect();
        assert_eq!(
            newest,
            [
                ("r6", Role::Live),
                ("r5", Role::Shadow),
                ("r4", Role::Shadow)
            ]
        );
    })
    .await;
}

/// Request ids are the callers' own text: quotes, backslashes, control characters and
/// non-ASCII ones, up to the 256 characters serving accepts, each found again under its
/// own record, in a segment large enough to span several statements.
#[tokio::test(flavor = "multi_thread")]
async fn any_request_id_finds_its_record() {
    each_backend(|store| async move {
        let odd = [
            "quote\"d".to_owned(),
            "back\\slash".to_owned(),
            "tab\tand\nnewline".to_owned(),
            "ünïcødé ✓ 予測".to_owned(),
            "x".repeat(256),
            "[\"not\", \"an array\"]".to_owned(),
        ];
        let mut batch: Vec<PredictionRecord> = (0..700)
            .map(|i| timed(&format!("plain-{i}"), 1, Role::Live, i))
            .collect();
        for (i, id) in odd.iter().enumerate() {
            batch.insert(100 * i + 50, timed(id, 1, Role::Live, 1000 + i as i64));
        }
        store.insert_predictions(&batch).await.unwrap();
        for record in [&batch[0], &batch[350], &batch[705]].into_iter().chain(
            batch
                .iter()
                .filter(|record| odd.contains(&record.request_id)),
        ) {
            let found = store
                .list_predictions("bc", Some(&record.request_id), 10)
                .await
                .unwrap();
            assert_eq!(
                found,
                std::slice::from_ref(record),
                "{:?}",
                record.request_id
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_start_and_end_inside_segments() {
    each_backend(|store| async move {
        store.create_model_version(new_version("bc")).await.unwrap();
        // Three batches: three segments of five records, times 0..15.
        for batch in 0..3 {
            let records: Vec<_> = (0..5)
                .map(|i| {
                    let n = batch * 5 + i;
                    timed(&format!("r{n}"), 1, Role::Live, 1000 + n)
                })
                .collect();
            store.insert_predictions(&records).await.unwrap();
        }
        let all = store
            .predictions_after("bc", 1, Role::Live, 0, 100)
            .await
            .unwrap();
        assert_eq!(all.len(), 15);
        let id = |n: usize| all[n].id;

        // From the middle of the first segment into the middle of the third.
        let middle = store
            .predictions_after("bc", 1, Role::Live, id(2), 9)
            .await
            .unwrap();
        assert_eq!(middle.iter().map(|p| p.id).collect::<Vec<_>>(), {
            (3..12).map(id).collect::<Vec<_>>()
        });
        assert_eq!(middle[0].record.time, 1003);

        let pending = store
            .pending_predictions("bc", 1, Role::Live, id(7), 100)
            .await
            .unwrap();
        assert_eq!((pending.count, pending.oldest_time), (7, Some(1008)));
        let at_boundary = store
            .pending_predictions("bc", 1, Role::Live, id(4), 100)
            .await
            .unwrap();
        assert_eq!(
            (at_boundary.count, at_boundary.oldest_time),
            (10, Some(1005))
        );
        let none_left = store
            .pending_predictions("bc", 1, Role::Live, id(14), 100)
            .await
            .unwrap();
        assert_eq!((none_left.count, none_left.oldest_time), (0, None));

        store
            .insert_labels(
                "bc",
                &[bascule_core::Label {
                    request_id: "r6".to_owned(),
                    label: 1.0,
                }],
            )
            .await
            .unwrap();
        let window = store
            .insert_window(bascule_core::NewWindow {
                name: "bc".to_owned(),
                version: 1,
                role: Role::Live,
                first_prediction: id(3),
                last_prediction: id(11),
                start_time: 1003,
                end_time: 1011,
                n_predictions: 9,
                n_labelled: 0,
                drift_share: None,
                report: "{}".to_owned(),
            })
            .await
            .unwrap()
            .unwrap();
        let in_window = store.window_predictions(&window).await.unwrap();
        assert_eq!(
            in_window.iter().map(|p| p.id).collect::<Vec<_>>(),
            (3..12).map(id).collect::<Vec<_>>()
        );
        let labelled: Vec<_> = in_window
            .iter()
            .filter_map(|p| p.label.map(|label| (p.record.request_id.as_str(), label)))
            .collect();
        assert_eq!(labelled, [("r6", 1.0)]);

        let recent = store
            .recent_predictions("bc", Some(1), id(1), false, 4)
            .await
            .unwrap();
        assert_eq!(
            recent.iter().map(|p| p.id).collect::<Vec<_>>(),
            (11..15).map(id).collect::<Vec<_>>()
        );
        let labelled_only = store
            .recent_predictions("bc", None, 0, true, 10)
            .await
            .unwrap();
        assert_eq!(labelled_only.len(), 1);
        assert_eq!(labelled_only[0].id, id(6));
        assert_eq!(labelled_only[0].label, Some(1.0));
    })
    .await;
}

/// Opens the store at `url` in place: opening runs the migrator, whose future is not
/// `Send`, and the test body runs in a spawned task.
fn open(url: &str) -> SqlMetadataStore {
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current()
            .block_on(SqlMetadataStore::connect(url))
            .unwrap()
    })
}

/// Runs `statements` on the database at `url`, over a connection of its own.
async fn execute(url: &str, statements: &[String]) {
    if url.starts_with("sqlite") {
        let mut connection = SqliteConnection::connect(url).await.unwrap();
        for statement in statements {
            connection.execute(statement.as_str()).await.unwrap();
        }
        connection.close().await.unwrap();
    } else {
        let mut connection = PgConnection::connect(url).await.unwrap();
        for statement in statements {
            connection.execute(statement.as_str()).await.unwrap();
        }
        connection.close().await.unwrap();
    }
}

/// The one integer `query` answers on the database at `url`.
async fn scalar(url: &str, query: &str) -> i64 {
    if url.starts_with("sqlite") {
        let mut connection = SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(query)
            .fetch_one(&mut connection)
            .await
            .unwrap()
    } else {
        let mut connection = PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(query)
            .fetch_one(&mut connection)
            .await
            .unwrap()
    }
}

/// Applies the migrations of the schema before segments (0001–0007).
fn migrate_to_rows(url: &str) {
    migrate_through(url, 7);
}

/// Applies the migrations up to and including `version`. Run in place: the migrator's
/// future is not `Send`, and the test body runs in a spawned task.
fn migrate_through(url: &str, version: i64) {
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    let directory = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let mut migrator = Migrator::new(std::path::Path::new(&directory))
                .await
                .unwrap();
            let before: Vec<_> = migrator
                .migrations
                .iter()
                .filter(|migration| migration.version <= version)
                .cloned()
                .collect();
            assert_eq!(before.len() as i64, version);
            migrator.migrations = Cow::Owned(before);
            let mut connection = AnyConnection::connect(url).await.unwrap();
            migrator.run(&mut connection).await.unwrap();
            connection.close().await.unwrap();
        })
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_stored_before_request_runs_join_predictions_logged_after() {
    each_empty_database(|url| async move {
        sqlx::any::install_default_drivers();
        migrate_through(&url, 8);
        let prefix = "0123456789ab";
        let ids = [
            generated_request_id(prefix, 0),
            generated_request_id(prefix, 0x2a),
            generated_request_id(prefix, 0x0123_4567_89ab_cdef),
            generated_request_id(prefix, i64::MAX as u64),
            // Too big for the store's integers, not hex, or not lowercase: rows of their own.
            generated_request_id(prefix, 0xfedc_ba98_7654_3210),
            "0123456789ab-00000000000000zz".to_owned(),
            "0123456789AB-000000000000002a".to_owned(),
            "caller".to_owned(),
        ];
        let mut statements: Vec<String> = ids
            .iter()
            .map(|id| format!("INSERT INTO labels VALUES ('bc', '{id}', 1.0, 5)"))
            .collect();
        // One logged before, under the request rows of schema 0008 (its segment is gone).
        statements.push(format!(
            "INSERT INTO prediction_requests VALUES ('bc', '{}', 50, 1, 'live')",
            ids[2]
        ));
        statements.push("UPDATE prediction_log_ids SET last_id = 100".to_owned());
        execute(&url, &statements).await;

        let store = open(&url);
        // The SQL that parsed the stored labels' ids agrees with the writer's parser.
        for id in &ids {
            let parsed = parse_generated_request_id(id);
            let query = |column: &str| {
                format!(
                    "SELECT COALESCE({column}, -1) FROM labels WHERE request_id = '{id}'"
                )
            };
            let counter = scalar(&url, &query("id_counter")).await;
            assert_eq!(counter, parsed.map_or(-1, |(_, counter)| counter), "{id}");
            let prefixed = scalar(
                &url,
                &format!("SELECT COUNT(*) FROM labels WHERE request_id = '{id}' AND id_prefix = '{prefix}'"),
            )
            .await;
            assert_eq!(prefixed, i64::from(parsed.is_some()), "{id}");
        }
        assert_eq!(store.label_summary("bc").await.unwrap().matched, 1);
        // Predictions logged now find the labels that were waiting for them.
        let records: Vec<_> = ids.iter().map(|id| record(id, 1, Role::Live)).collect();
        store.insert_predictions(&records).await.unwrap();
        assert_eq!(store.label_summary("bc").await.unwrap().matched, 8);
        let labelled = store
            .recent_predictions("bc", None, 0, true, 100)
            .await
            .unwrap();
        let ids: Vec<i64> = labelled.iter().map(|p| p.id).collect();
        assert_eq!(ids, (101..=108).collect::<Vec<_>>());
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_from_before_segments_keeps_its_predictions_and_their_ids() {
    each_empty_database(|url| async move {
        sqlx::any::install_default_drivers();
        migrate_to_rows(&url);
        let mut statements = Vec::new();
        // Rows as the first layout wrote them: both tensor forms, two models, a canary
        // between live rows, and a gap in the ids (PostgreSQL's identity leaves them).
        let le = r#"[{"name":"input","shape":[1,2],"datatype":"FP32","le":"AACAPwAAIEA="}]"#;
        let json = r#"[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1.0,2.5]}]"#;
        let output = r#"[{"name":"label","shape":[1],"datatype":"INT64","data":[1]}]"#;
        let rows = [
            (1, "r1", "bc", 1, "live", le),
            (2, "r2", "bc", 1, "live", json),
            (3, "r3", "bc", 2, "canary", le),
            (4, "r4", "bc", 1, "live", le),
            // Unreadable: it must neither stop the store from opening nor be deleted.
            (5, "r5", "bc", 1, "live", "not json"),
            (6, "r6", "bc", 1, "live", json),
            (7, "o7", "other", 1, "live", le),
        ];
        for (id, request_id, name, version, role, inputs) in rows {
            let identity = if url.starts_with("postgres") {
                "OVERRIDING SYSTEM VALUE"
            } else {
                ""
            };
            statements.push(format!(
                "INSERT INTO predictions (id, request_id, name, version, role, \
                 prediction_time, latency_micros, inputs, outputs, error, agrees_with_live) \
                 {identity} VALUES ({id}, '{request_id}', '{name}', {version}, '{role}', {}, \
                 42, '{inputs}', '{output}', NULL, NULL)",
                1_700_000_000_000_i64 + id
            ));
        }
        statements.push("INSERT INTO labels VALUES ('bc', 'r2', 1.0, 5)".to_owned());
        execute(&url, &statements).await;

        let store = open(&url);
        let live = store
            .predictions_after("bc", 1, Role::Live, 0, 100)
            .await
            .unwrap();
        let summary: Vec<_> = live
            .iter()
            .map(|p| (p.id, p.record.request_id.as_str(), p.label))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "r1", None),
                (2, "r2", Some(1.0)),
                (4, "r4", None),
                (6, "r6", None)
            ]
        );
        // Both forms decode to the same tensors.
        assert_eq!(live[0].record.inputs, live[1].record.inputs);
        assert_eq!(live[0].record, {
            let mut expected = record("r1", 1, Role::Live);
            expected.time = 1_700_000_000_001;
            expected
        });
        let canary = store
            .predictions_after("bc", 2, Role::Canary, 0, 100)
            .await
            .unwrap();
        assert_eq!(canary[0].id, 3);
        let label_summary = store.label_summary("bc").await.unwrap();
        assert_eq!((label_summary.labels, label_summary.matched), (1, 1));

        assert_eq!(
            scalar(&url, "SELECT COUNT(*) FROM predictions_v1 WHERE id = 5").await,
            1
        );
        // New predictions continue after the old ids.
        store
            .insert_predictions(&[record("r8", 1, Role::Live)])
            .await
            .unwrap();
        let after = store
            .predictions_after("bc", 1, Role::Live, 6, 100)
            .await
            .unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].id, 8);
        store.close().await;

        // Opening again moves nothing twice.
        let store = open(&url);
        assert_eq!(
            store.list_predictions("bc", None, 100).await.unwrap().len(),
            6
        );
        assert_eq!(
            store.list_predictions("other", None, 100).await.unwrap()[0].request_id,
            "o7"
        );
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_segment_is_an_error_that_names_it() {
    each_empty_database(|url| async move {
        let store = open(&url);
        store
            .insert_predictions(&[record("r0", 1, Role::Live), record("r1", 1, Role::Live)])
            .await
            .unwrap();
        // Cut the body short, as a torn or edited value would be.
        let cut = if url.starts_with("sqlite") {
            "UPDATE prediction_segments SET body = substr(body, 1, 20)"
        } else {
            "UPDATE prediction_segments SET body = substring(body from 1 for 20)"
        };
        execute(&url, &[cut.to_owned()]).await;
        let error = store.list_predictions("bc", None, 10).await.unwrap_err();
        let message = crate::fixtures::chain(&error);
        assert!(
            message.contains("prediction segment 1..=2 of model 'bc'"),
            "{message}"
        );
        let error = store
            .predictions_after("bc", 1, Role::Live, 0, 10)
            .await
            .unwrap_err();
        assert!(crate::fixtures::chain(&error).contains("prediction segment"));
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_writing_at_once_share_one_sequence_without_gaps() {
    each_empty_database(|url| async move {
        let (first, second) = (open(&url), open(&url));
        let write = |store: SqlMetadataStore, version: i64| {
            tokio::spawn(async move {
                for batch in 0..20 {
                    let records: Vec<_> = (0..25)
                        .map(|i| {
                            let n = batch * 25 + i;
                            timed(&format!("v{version}-{n}"), version, Role::Live, n)
                        })
                        .collect();
                    store.insert_predictions(&records).await.unwrap();
                }
            })
        };
        let writers = [write(first.clone(), 1), write(second.clone(), 2)];
        for writer in writers {
            writer.await.unwrap();
        }
        let mut ids = Vec::new();
        for (store, version) in [(&second, 1), (&first, 2)] {
            let logged = store
                .predictions_after("bc", version, Role::Live, 0, 1000)
                .await
                .unwrap();
            assert_eq!(logged.len(), 500);
            // Each replica's records in the order it wrote them, whichever replica reads.
            assert!(logged.iter().zip(0..).all(|(p, n)| p.record.time == n));
            ids.extend(logged.iter().map(|p| p.id));
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=1000).collect::<Vec<i64>>());
        first.close().await;
        second.close().await;
    })
    .await;
}
