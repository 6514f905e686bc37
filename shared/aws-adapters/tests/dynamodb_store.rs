//! The DynamoDB store keeps every store invariant against a real DynamoDB wire protocol (moto),
//! concurrent creates and renames included.

use std::sync::Arc;

use aws_adapters::DynamoDbStore;
use ports::conformance::{check_all, check_dedup};
use test_support::{create_rules_table, Moto};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_store_keeps_every_invariant() {
    let moto = Moto::start().await;
    let client = aws_adapters::dynamodb::Client::new(&moto.sdk_config().await);
    create_rules_table(&client, "rules").await;
    let store = Arc::new(DynamoDbStore::new(client, "rules"));
    check_all(store.clone(), "ddb").await;
    check_dedup(store, "ddb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_keys_are_created_found_rotated_and_revoked() {
    use aws_adapters::access_keys::{generate_key, KeyAdminError};
    use ports::AccessKeys;

    let moto = Moto::start().await;
    let client = aws_adapters::dynamodb::Client::new(&moto.sdk_config().await);
    create_rules_table(&client, "rules").await;
    let store = DynamoDbStore::new(client, "rules");
    let (first, second, third) = (
        generate_key("p1").unwrap(),
        generate_key("p1").unwrap(),
        generate_key("p1").unwrap(),
    );
    store.add_access_key(&first).await.unwrap();
    store.add_access_key(&second).await.unwrap();
    assert!(
        matches!(
            store.add_access_key(&third).await,
            Err(KeyAdminError::TooManyKeys(_))
        ),
        "two active keys a project"
    );
    assert_eq!(
        store.find(&third.access_key).await.unwrap(),
        None,
        "nothing stored"
    );
    assert_eq!(
        store.find(&first.access_key).await.unwrap(),
        Some(first.clone())
    );
    let listed: Vec<String> = store
        .list_access_keys("p1")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&first.access_key) && listed.contains(&second.access_key));

    store.revoke_access_key(&first.access_key).await.unwrap();
    assert_eq!(store.find(&first.access_key).await.unwrap(), None);
    assert!(matches!(
        store.revoke_access_key(&first.access_key).await,
        Err(KeyAdminError::UnknownKey(_))
    ));
    store.add_access_key(&third).await.unwrap();
    assert_eq!(
        store.list_access_keys("p1").await.unwrap().len(),
        2,
        "rotated"
    );
    store
        .add_access_key(&generate_key("p2").unwrap())
        .await
        .unwrap();
}

/// A failed call keeps the SDK's error as its source (what DynamoDB said, for logs and for code
/// that looks inside) while callers see only the variant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_keeps_the_sdk_error_as_its_source() {
    use aws_adapters::dynamodb::error::SdkError;
    use aws_adapters::dynamodb::operation::query::QueryError;
    use ports::{NotificationStore, StoreError};
    use std::error::Error;

    let moto = Moto::start().await;
    let client = aws_adapters::dynamodb::Client::new(&moto.sdk_config().await);
    let store = DynamoDbStore::new(client, "no-such-table");
    let err = store
        .list("p1")
        .await
        .expect_err("the table does not exist");
    assert!(matches!(err, StoreError::Read(_)), "{err:?}");
    let sdk = err
        .source()
        .and_then(Error::source)
        .and_then(|e| e.downcast_ref::<SdkError<QueryError>>())
        .expect("the SDK error, kept whole");
    assert!(sdk
        .as_service_error()
        .is_some_and(QueryError::is_resource_not_found_exception));
    assert!(err.to_string().contains("ResourceNotFound"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_digest_log_counts_each_match_once() {
    let moto = Moto::start().await;
    let client = aws_adapters::dynamodb::Client::new(&moto.sdk_config().await);
    create_rules_table(&client, "rules").await;
    let store = Arc::new(DynamoDbStore::new(client, "rules"));
    ports::conformance::check_digests(store, "ddb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_activity_log_counts_exactly() {
    let moto = Moto::start().await;
    let client = aws_adapters::dynamodb::Client::new(&moto.sdk_config().await);
    create_rules_table(&client, "rules").await;
    ports::conformance::check_activity(Arc::new(DynamoDbStore::new(client, "rules")), "ddb").await;
}
