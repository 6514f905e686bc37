//! The DynamoDB store keeps every store invariant against a real DynamoDB wire protocol (moto),
//! concurrent creates and renames included.

use std::sync::Arc;

use aws_adapters::DynamoDbStore;
use ports::conformance::check_all;
use test_support::{create_rules_table, Moto};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_store_keeps_every_invariant() {
    let moto = Moto::start().await;
    let client = aws_adapters::dynamodb::Client::new(&moto.sdk_config().await);
    create_rules_table(&client, "rules").await;
    check_all(Arc::new(DynamoDbStore::new(client, "rules")), "ddb").await;
}
