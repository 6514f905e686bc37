//! Against moto (DynamoDB, SNS, SQS): rules stored in DynamoDB, a topic with a queue subscribed;
//! every expected (rule, trace) pair arrives exactly once over redelivery and injected
//! publish failures.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::{DynamoDbStore, SnsPublisher};
use ports::NotificationStore;
use rules::CreateBody;
use serde_json::Value;
use test_support::{create_rules_table, drain, subscribed_queue, Moto};
use trace_handler::Handler;

mod common;

use common::FailFirst;

const ACCOUNT_PREFIX: &str = "arn:aws:sns:eu-west-1:123456789012:";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_match_arrives_exactly_once_over_redelivery_and_failures() {
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&aws);
    create_rules_table(&ddb, "rules").await;
    let sns = aws_adapters::sns::Client::new(&aws);
    let (_, queue_url) = subscribed_queue(
        &aws,
        "24edf66e79d04187acb99a463e610764_key_events",
        "subscriber",
    )
    .await;

    let store = Arc::new(DynamoDbStore::new(ddb, "rules"));
    let rule = CreateBody::parse(samples::CREATE_NOTIFICATION_REQUEST.as_bytes())
        .unwrap()
        .into_notification("n-1".into(), "24edf66e79d04187acb99a463e610764".into(), 1);
    store.create(&rule).await.unwrap();

    let publisher = Arc::new(FailFirst {
        inner: SnsPublisher::new(sns.clone(), ACCOUNT_PREFIX),
        trace_id: "a170b338-3926-3059-f28c-105d1fb17c23".into(),
        left: AtomicUsize::new(1),
    });
    let handler = Handler::new(
        store.clone(),
        store.clone(),
        publisher,
        Duration::from_secs(10),
        3600,
    );
    let batch = samples::sample("sqs-batch-cts-traces-with-poison.json").to_owned();

    let first = handler.handle(&batch).await;
    let failed: Vec<&str> = first
        .failures
        .iter()
        .filter_map(|f| f.message_id.as_deref())
        .collect();
    assert_eq!(
        failed,
        ["7f26144b-9828-9fcd-59a5-4a7bb1fee08f", "poison-0001"],
        "the injected failure and the poison"
    );
    let delivered = drain(&aws, &queue_url).await;
    assert_eq!(delivered.len(), 1);
    let envelope = &delivered[0];
    assert_eq!(
        envelope["Subject"],
        "[normal] ECS ecs deleteServer by ops-alice"
    );
    assert_eq!(
        envelope["MessageAttributes"]["notification_name"]["Value"],
        "prod_key_ops"
    );
    assert_eq!(
        envelope["MessageAttributes"]["user_name"]["Value"],
        "ops-alice"
    );
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["notification"]["id"], "n-1");
    assert_eq!(
        message["trace"]["trace_id"],
        "36f675cc-81e7-4ef5-e8e2-5d940ed90475"
    );

    let retry = handler.handle(&batch).await;
    assert_eq!(
        (retry.published, retry.duplicates),
        (1, 1),
        "the failed pair goes out, the delivered one is not repeated"
    );
    let delivered = drain(&aws, &queue_url).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0]["Subject"],
        "[warning] ECS ecs rebootServer by dev-bob"
    );

    let redelivery = handler.handle(&batch).await;
    assert_eq!((redelivery.published, redelivery.duplicates), (0, 2));
    assert!(
        drain(&aws, &queue_url).await.is_empty(),
        "redelivery publishes nothing"
    );
}

/// What the template's schedule runs each minute: a flood in a window of a rule that sends one
/// message a minute, then the digest of the closed window, published to SNS once and received
/// by the subscribed queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_windows_digest_reaches_the_subscribed_queue_once() {
    const P: &str = "24edf66e79d04187acb99a463e610764";
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&aws);
    create_rules_table(&ddb, "rules").await;
    let (_, queue_url) = subscribed_queue(&aws, &format!("{P}_key_events"), "subscriber").await;
    let store = Arc::new(DynamoDbStore::new(ddb, "rules"));
    let body = serde_json::json!({
        "notification_name": "key_ops", "operation_type": "complete",
        "topic_id": format!("urn:smn:eu-west-1:{P}:key_events"),
        "digest": {"window_seconds": 60, "max_messages": 1},
    });
    let rule = CreateBody::from_value(&body)
        .unwrap()
        .into_notification("n-1".into(), P.into(), 1);
    store.create(&rule).await.unwrap();
    let handler = Handler::new(
        store.clone(),
        store.clone(),
        Arc::new(SnsPublisher::new(
            aws_adapters::sns::Client::new(&aws),
            ACCOUNT_PREFIX,
        )),
        Duration::from_secs(10),
        3600,
    );
    let traces: Vec<Value> = (0..6)
        .map(|i| {
            serde_json::json!({"trace_id": format!("flood-{i}"), "trace_name": "deleteServer",
                "service_type": "ECS", "resource_type": "ecs", "project_id": P,
                "user": {"name": "ops-alice"}})
        })
        .collect();
    let input = serde_json::json!({ "traces": traces }).to_string();
    let first = handler.handle(&input).await;
    let again = handler.handle(&input).await;
    // A flood that straddles two one-minute windows publishes one more alone.
    assert_eq!(first.published + first.digested, 6, "{first:?}");
    assert_eq!(
        (again.published, again.digested, again.duplicates),
        (0, 0, 6)
    );
    let alone = drain(&aws, &queue_url).await;
    assert_eq!(alone.len(), first.published);

    let later = ports::now_ms() + 60_000 + ports::CLOSE_AFTER_MS;
    let run = handler.publish_due_digests(later).await;
    assert_eq!(run.published, run.windows, "{run:?}");
    let digests = drain(&aws, &queue_url).await;
    assert_eq!(digests.len(), run.published);
    let counted: u64 = digests
        .iter()
        .map(|d| {
            assert!(
                d["Subject"]
                    .as_str()
                    .unwrap()
                    .starts_with("[digest] key_ops: "),
                "{d}"
            );
            let body: Value = serde_json::from_str(d["Message"].as_str().unwrap()).unwrap();
            body["digest"]["matches"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(counted as usize, first.digested);
    assert_eq!(
        handler.publish_due_digests(later).await.windows,
        0,
        "published once"
    );
    assert!(drain(&aws, &queue_url).await.is_empty());
}
