use bascule_core::{ErrorCode, MetadataStore};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, new_version, tag};

#[tokio::test(flavor = "multi_thread")]
async fn registered_models_are_created_found_listed_and_tagged() {
    each_backend(|store| async move {
        let tags = [tag("team", "growth")];
        let churn = store
            .create_registered_model("churn", "predicts churn", &tags)
            .await
            .expect("created");
        assert_eq!(
            (churn.name.as_str(), churn.description.as_str()),
            ("churn", "predicts churn")
        );
        assert_eq!(
            (churn.tags.as_slice(), churn.latest_version),
            (tags.as_slice(), None)
        );
        assert!(churn.aliases.is_empty());
        assert_eq!(
            store.get_registered_model("churn").await.expect("found"),
            churn
        );

        let duplicate = store.create_registered_model("churn", "", &[]).await;
        assert_error(
            duplicate,
            ErrorCode::AlreadyExists,
            &["registered model", "churn"],
        );
        assert_not_found(store.get_registered_model("nope").await, "registered model");

        store
            .create_registered_model("anomaly", "", &[])
            .await
            .expect("created");
        let names: Vec<_> = store
            .list_registered_models()
            .await
            .expect("listed")
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["anomaly", "churn"]);

        store
            .set_registered_model_tag("churn", &tag("team", "retention"))
            .await
            .expect("overwritten");
        store
            .set_registered_model_tag("churn", &tag("tier", "1"))
            .await
            .expect("tagged");
        store
            .delete_registered_model_tag("churn", "tier")
            .await
            .expect("deleted");
        let churn = store.get_registered_model("churn").await.expect("found");
        assert_eq!(churn.tags, [tag("team", "retention")]);
        assert_not_found(
            store.delete_registered_model_tag("churn", "tier").await,
            "registered model tag",
        );
        assert_not_found(
            store.set_registered_model_tag("nope", &tag("k", "v")).await,
            "registered model",
        );

        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v2");
        assert_eq!(
            store
                .get_registered_model("churn")
                .await
                .expect("found")
                .latest_version,
            Some(2)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_point_at_one_version_and_move() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v2");

        store.set_alias("churn", "champion", 1).await.expect("set");
        let champion = store
            .get_version_by_alias("churn", "champion")
            .await
            .expect("found");
        assert_eq!(
            (champion.version, champion.aliases.as_slice()),
            (1, ["champion".to_owned()].as_slice())
        );

        store
            .set_alias("churn", "champion", 2)
            .await
            .expect("moved");
        store
            .set_alias("churn", "challenger", 1)
            .await
            .expect("set");
        assert_eq!(
            store
                .get_version_by_alias("churn", "champion")
                .await
                .expect("found")
                .version,
            2
        );
        let model = store.get_registered_model("churn").await.expect("found");
        assert_eq!(
            model.aliases,
            [("challenger".to_owned(), 1), ("champion".to_owned(), 2)]
        );
        assert_eq!(
            store
                .get_model_version("churn", 1)
                .await
                .expect("found")
                .aliases,
            ["challenger"]
        );

        assert_error(
            store.set_alias("churn", "x", 9).await,
            ErrorCode::NotFound,
            &["model version", "churn/9"],
        );
        assert_not_found(store.set_alias("nope", "x", 1).await, "registered model");
        assert_error(
            store.get_version_by_alias("churn", "nope").await,
            ErrorCode::NotFound,
            &["alias", "churn@nope"],
        );
        assert_not_found(
            store.get_version_by_alias("nope", "champion").await,
            "registered model",
        );

        store
            .delete_alias("churn", "champion")
            .await
            .expect("deleted");
        assert_not_found(
            store.get_version_by_alias("churn", "champion").await,
            "alias",
        );
        assert_not_found(store.delete_alias("churn", "champion").await, "alias");
        assert_not_found(
            store.delete_alias("nope", "champion").await,
            "registered model",
        );
        assert!(
            store
                .get_model_version("churn", 2)
                .await
                .expect("found")
                .aliases
                .is_empty()
        );
    })
    .await;
}
