//! Delivery within what SNS enforces, against moto behind a proxy that enforces SNS's 256 KiB
//! limits (moto does not): large traces are delivered completely, in batches packed by size;
//! FIFO topics get their group and deduplication ids.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::{DynamoDbStore, SnsPublisher};
use ports::NotificationStore;
use rules::CreateBody;
use serde_json::{json, Value};
use test_support::faults::FaultProxy;
use test_support::{create_rules_table, drain, subscribed_queue, Moto};
use trace_handler::Handler;

const P: &str = "24edf66e79d04187acb99a463e610764";
const PREFIX: &str = "arn:aws:sns:eu-west-1:123456789012:";

fn sqs_batch(traces: &[String]) -> String {
    let records: Vec<Value> = traces
        .iter()
        .enumerate()
        .map(|(i, body)| json!({"messageId": format!("m{i}"), "receiptHandle": "h", "body": body, "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {}}))
        .collect();
    json!({"Records": records}).to_string()
}

fn trace(i: usize, request_bytes: usize) -> String {
    json!({"trace_id": format!("big-{i}"), "trace_name": "putBucketPolicy", "service_type": "OBS",
           "resource_type": "bucket", "trace_rating": "warning", "project_id": P,
           "user": {"name": "ops-alice"}, "request": "r".repeat(request_bytes)})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_traces_are_delivered_completely_and_fifo_topics_get_their_ids() {
    let moto = Moto::start().await;
    let direct = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&direct);
    create_rules_table(&ddb, "rules").await;
    let (_, queue) = subscribed_queue(&direct, &format!("{P}_key_events"), "subscriber").await;
    let sns = aws_adapters::sns::Client::new(&direct);
    let fifo = sns
        .create_topic()
        .name("audit.fifo")
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "false")
        .send()
        .await
        .unwrap();
    let fifo_arn = fifo.topic_arn().unwrap().to_owned();

    let store = Arc::new(DynamoDbStore::new(ddb, "rules"));
    let everything = |name: &str, topic: &str| {
        CreateBody::from_value(
            &json!({"notification_name": name, "operation_type": "complete", "topic_id": topic}),
        )
        .unwrap()
        .into_notification(format!("id-{name}"), P.into(), 1)
    };
    store
        .create(&everything(
            "all_ops",
            &format!("urn:smn:eu-west-1:{P}:key_events"),
        ))
        .await
        .unwrap();

    let proxy = FaultProxy::counting(&moto.endpoint).await;
    let via_proxy = moto.sdk_config_via(&proxy.endpoint).await;
    let publisher = SnsPublisher::new(aws_adapters::sns::Client::new(&via_proxy), PREFIX);
    let handler = Handler::new(
        store.clone(),
        store.clone(),
        Arc::new(publisher),
        Duration::ZERO,
        3600,
    );

    // Ten 100 KB traces: one PublishBatch of ten would be ~1 MB, which SNS refuses.
    let traces: Vec<String> = (0..10).map(|i| trace(i, 100_000)).collect();
    let summary = handler.handle(&sqs_batch(&traces)).await;
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!(summary.published, 10);
    assert!(
        proxy.calls()["sns:PublishBatch"] >= 5,
        "{:?}",
        proxy.calls()
    );
    let delivered = drain(&direct, &queue).await;
    assert_eq!(delivered.len(), 10);
    for m in &delivered {
        let body: Value = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
        assert_eq!(
            body["trace"]["request"].as_str().map(str::len),
            Some(100_000),
            "not cut: it fits"
        );
    }

    // A 600 KB trace is cut to fit, and says so.
    let summary = handler.handle(&trace(99, 600_000)).await;
    assert_eq!(
        (summary.published, summary.failures.len()),
        (1, 0),
        "{summary:?}"
    );
    let delivered = drain(&direct, &queue).await;
    let body: Value = serde_json::from_str(delivered[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(body["truncated"], json!(["request"]));
    assert_eq!(body["trace"]["trace_id"], "big-99");

    // The proxy refuses what SNS refuses: a batch over 256 KiB.
    let refused = aws_adapters::sns::Client::new(&via_proxy)
        .publish()
        .topic_arn(format!("{PREFIX}{P}_key_events"))
        .message("x".repeat(300_000))
        .send()
        .await;
    assert!(refused.is_err(), "the size check is live");

    // A FIFO topic: without MessageGroupId SNS refuses every publish.
    store
        .create(&everything("fifo_ops", &fifo_arn))
        .await
        .unwrap();
    let summary = handler.handle(&trace(70, 10)).await;
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!(summary.published, 2, "to both topics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_handlers_publish_once_and_a_missing_topic_fails_until_it_returns() {
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&aws);
    create_rules_table(&ddb, "rules").await;
    let (_, live_queue) = subscribed_queue(&aws, &format!("{P}_live"), "live-subscriber").await;
    let store = Arc::new(DynamoDbStore::new(ddb, "rules"));
    for (name, topic) in [("to_live", "live"), ("to_gone", "gone")] {
        let n = CreateBody::from_value(
            &json!({"notification_name": name, "operation_type": "complete",
            "topic_id": format!("urn:smn:eu-west-1:{P}:{topic}")}),
        )
        .unwrap()
        .into_notification(format!("id-{name}"), P.into(), 1);
        store.create(&n).await.unwrap();
    }
    let handler = || {
        let publisher = SnsPublisher::new(aws_adapters::sns::Client::new(&aws), PREFIX);
        Handler::new(
            store.clone(),
            store.clone(),
            Arc::new(publisher),
            Duration::ZERO,
            3600,
        )
    };
    let (one, two) = (handler(), handler());
    let traces: Vec<String> = (0..10).map(|i| trace(i, 10)).collect();
    let batch = sqs_batch(&traces);

    let (a, b) = tokio::join!(one.handle(&batch), two.handle(&batch));
    assert_eq!(
        a.published + b.published,
        10,
        "each live pair once: {a:?} {b:?}"
    );
    let permanent = a
        .failures
        .iter()
        .chain(&b.failures)
        .filter(|f| f.permanent)
        .count();
    assert!(permanent > 0, "the missing topic's failures are permanent");
    assert!(
        a.metrics(0)["FailedPermanent"].as_u64().unwrap()
            + b.metrics(0)["FailedPermanent"].as_u64().unwrap()
            > 0
    );
    assert_eq!(drain(&aws, &live_queue).await.len(), 10);

    // The topic returns; a redrive of the batch delivers what was missing, once.
    let (_, gone_queue) = subscribed_queue(&aws, &format!("{P}_gone"), "gone-subscriber").await;
    let redrive = one.handle(&batch).await;
    assert_eq!(
        (
            redrive.published,
            redrive.duplicates,
            redrive.failures.len()
        ),
        (10, 10, 0),
        "{redrive:?}"
    );
    assert_eq!(drain(&aws, &gone_queue).await.len(), 10);
    assert!(
        drain(&aws, &live_queue).await.is_empty(),
        "nothing published twice"
    );
}
