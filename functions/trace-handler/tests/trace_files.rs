//! Trace files in S3 on moto: the bucket notifies the intake queue as S3 does; the handler
//! reads each named file as a stream and publishes every match once, through SQS, a direct
//! invoke and EventBridge, over redelivery, a corrupt file, and a file that fails half way.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::s3::primitives::ByteStream;
use aws_adapters::s3::types::{Event, NotificationConfiguration, QueueConfiguration};
use aws_adapters::{s3_client, DynamoDbStore, S3Objects, SnsPublisher};
use aws_config::SdkConfig;
use ports::{NotificationStore, Publisher};
use rules::CreateBody;
use serde_json::{json, Value};
use test_support::{create_bucket, create_rules_table, drain, subscribed_queue, Moto};
use trace_handler::Handler;

mod common;

use common::{cloudtrail_log_file, gzip, FailFirst, ACCOUNT};

const BUCKET: &str = "org-trail";
const CTS_PROJECT: &str = "24edf66e79d04187acb99a463e610764";

fn log_key(name: &str) -> String {
    format!("AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/30/{ACCOUNT}_CloudTrail_eu-west-1_20261130T1205Z_{name}.json.gz")
}

/// A CTS trace file of `n` traces of [`CTS_PROJECT`], as a JSON array.
fn cts_trace_file(n: usize) -> Vec<u8> {
    let traces: Vec<Value> = (0..n)
        .map(|i| {
            json!({"trace_id": format!("cts-{i}"), "trace_name": "deleteServer",
                "service_type": "ECS", "resource_type": "ecs", "project_id": CTS_PROJECT,
                "user": {"name": "ops-alice"}, "time": 1764504300000i64 + i as i64})
        })
        .collect();
    gzip(&serde_json::to_vec(&traces).unwrap())
}

struct World {
    _moto: Moto,
    aws: SdkConfig,
    store: Arc<DynamoDbStore>,
    intake_url: String,
    trail_queue: String,
    cts_queue: String,
}

/// moto with the rules table, a complete rule per project (each to its topic, a queue
/// subscribed), the bucket, and the bucket's object notifications sent to the intake queue.
async fn world() -> World {
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&aws);
    create_rules_table(&ddb, "rules").await;
    let store = Arc::new(DynamoDbStore::new(ddb, "rules"));
    let (trail_topic, trail_queue) = subscribed_queue(&aws, "trail-events", "trail-sub").await;
    let (cts_topic, cts_queue) = subscribed_queue(&aws, "cts-events", "cts-sub").await;
    for (id, project, topic) in [
        ("n-trail", ACCOUNT, trail_topic),
        ("n-cts", CTS_PROJECT, cts_topic),
    ] {
        let body = json!({"notification_name": id.replace('-', "_"), "operation_type": "complete", "topic_id": topic});
        let rule =
            CreateBody::from_value(&body)
                .unwrap()
                .into_notification(id.into(), project.into(), 1);
        store.create(&rule).await.unwrap();
    }
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let intake_url = sqs
        .create_queue()
        .queue_name("intake")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    create_bucket(&aws, BUCKET).await;
    s3_client(&aws)
        .put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn("arn:aws:sqs:eu-west-1:123456789012:intake")
                        .events(Event::S3ObjectCreated)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    World {
        _moto: moto,
        aws,
        store,
        intake_url,
        trail_queue,
        cts_queue,
    }
}

impl World {
    fn handler(&self, publisher: Arc<dyn Publisher>) -> Handler {
        Handler::new(
            self.store.clone(),
            self.store.clone(),
            publisher,
            Duration::from_secs(10),
            3600,
        )
        .with_trace_files(Arc::new(S3Objects::new(s3_client(&self.aws))))
    }

    fn sns(&self) -> Arc<SnsPublisher> {
        Arc::new(SnsPublisher::new(
            aws_adapters::sns::Client::new(&self.aws),
            "arn:aws:sns:eu-west-1:123456789012:",
        ))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) {
        s3_client(&self.aws)
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
    }

    /// The intake queue's messages (waiting for `n`), as Lambda hands an SQS batch over.
    async fn intake_batch(&self, n: usize) -> String {
        let sqs = aws_sdk_sqs::Client::new(&self.aws);
        let mut records = Vec::new();
        for _ in 0..50 {
            let received = sqs
                .receive_message()
                .queue_url(&self.intake_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            for m in received.messages() {
                records.push(json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                    "body": m.body(), "attributes": {}, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:intake",
                    "awsRegion": "eu-west-1"}));
                sqs.delete_message()
                    .queue_url(&self.intake_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            if records.len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(records.len(), n, "{records:?}");
        json!({ "Records": records }).to_string()
    }

    /// The trace ids published to a queue's topic, each once.
    async fn published(&self, queue: &str) -> Vec<String> {
        let mut ids: Vec<String> = drain(&self.aws, queue)
            .await
            .iter()
            .map(|m| {
                let body: Value = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
                body["trace"]["trace_id"].as_str().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "a trace was published twice");
        ids
    }
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    let mut ids: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_notified_through_sqs_are_read_once_and_a_corrupt_one_fails_alone() {
    let w = world().await;
    let handler = w.handler(w.sns());
    w.put(&log_key("A1"), cloudtrail_log_file("log-a", 30))
        .await;
    w.put(
        &format!("AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/CloudTrail-Digest/eu-west-1/2026/11/30/{ACCOUNT}_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20261130T120000Z.json.gz"),
        gzip(br#"{"awsAccountId":"123456789012","logFiles":[]}"#),
    )
    .await;
    w.put(
        "CloudTraces/eu-west-1/2026/11/30/system/ECS/eu-west-1_CloudTrace_ECS_2026-11-30T12-05-00Z_21d36ced6b2fbbe6.json.gz",
        cts_trace_file(7),
    )
    .await;
    let mut corrupt = gzip(&cloudtrail_log_file("never", 3));
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 8].copy_from_slice(b"garbage!");
    w.put(&log_key("BAD"), corrupt).await;

    // S3's test event (sent when the notification was set up) and one per object.
    let batch = w.intake_batch(5).await;
    let first = handler.handle(&batch).await;
    assert_eq!(
        (first.files_read, first.files_skipped, first.files_failed),
        (2, 1, 1),
        "{first:?}"
    );
    assert_eq!(first.failures.len(), 1, "{first:?}");
    assert!(first.failures[0].error.contains("BAD.json.gz"), "{first:?}");
    let batch_json: Value = serde_json::from_str(&batch).unwrap();
    let bad_message = batch_json["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["body"].as_str().unwrap().contains("BAD.json.gz"))
        .unwrap()["messageId"]
        .clone();
    assert_eq!(
        json!(first.failures[0].message_id),
        bad_message,
        "the corrupt file's message alone is retried"
    );
    assert_eq!(w.published(&w.trail_queue).await, ids("log-a", 30));
    assert_eq!(w.published(&w.cts_queue).await, ids("cts", 7));

    let again = handler.handle(&batch).await;
    assert_eq!((again.published, again.duplicates), (0, 37), "{again:?}");
    assert!(w.published(&w.trail_queue).await.is_empty());
    assert!(w.published(&w.cts_queue).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_and_eventbridge_notifications_are_read_as_well() {
    let w = world().await;
    let handler = w.handler(w.sns());
    w.intake_batch(1).await; // S3's test event
    w.put(&log_key("D1"), cloudtrail_log_file("log-d", 10))
        .await;
    let batch: Value = serde_json::from_str(&w.intake_batch(1).await).unwrap();
    let direct = batch["Records"][0]["body"].as_str().unwrap();
    let summary = handler.handle(direct).await;
    assert_eq!(
        (summary.files_read, summary.published),
        (1, 10),
        "{summary:?}"
    );
    assert_eq!(w.published(&w.trail_queue).await, ids("log-d", 10));

    w.put(&log_key("E1"), cloudtrail_log_file("log-e", 5)).await;
    w.intake_batch(1).await;
    let mut event: Value = serde_json::from_str(samples::EVENTBRIDGE_S3_OBJECT_CREATED).unwrap();
    event["detail"]["bucket"]["name"] = BUCKET.into();
    event["detail"]["object"]["key"] = log_key("E1").into();
    let summary = handler.handle(&event.to_string()).await;
    assert_eq!(
        (summary.files_read, summary.published),
        (1, 5),
        "{summary:?}"
    );
    assert_eq!(w.published(&w.trail_queue).await, ids("log-e", 5));

    // A notification of an object that is gone names nothing to read.
    event["detail"]["object"]["key"] = log_key("GONE").into();
    let summary = handler.handle(&event.to_string()).await;
    assert_eq!((summary.files_skipped, summary.failures.len()), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_fails_half_way_publishes_only_what_is_missing_when_retried() {
    let w = world().await;
    // 510 records: two batches of the handler, the failure in the second.
    let handler = w.handler(Arc::new(FailFirst {
        inner: SnsPublisher::new(
            aws_adapters::sns::Client::new(&w.aws),
            "arn:aws:sns:eu-west-1:123456789012:",
        ),
        trace_id: "log-h-505\"".into(),
        left: AtomicUsize::new(1),
    }));
    w.intake_batch(1).await;
    w.put(&log_key("H1"), cloudtrail_log_file("log-h", 510))
        .await;
    let batch = w.intake_batch(1).await;
    let first = handler.handle(&batch).await;
    assert_eq!(
        (first.published, first.failures.len()),
        (509, 1),
        "{first:?}"
    );
    let mut published = w.published(&w.trail_queue).await;
    assert_eq!(published.len(), 509);
    let retry = handler.handle(&batch).await;
    assert_eq!(
        (retry.published, retry.duplicates, retry.failures.len()),
        (1, 509, 0),
        "{retry:?}"
    );
    published.extend(w.published(&w.trail_queue).await);
    published.sort();
    assert_eq!(published, ids("log-h", 510));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_not_read_in_time_fails_its_item_and_its_retry_reads_it_whole() {
    let w = world().await;
    let handler = w.handler(w.sns());
    w.intake_batch(1).await;
    w.put(&log_key("T1"), cloudtrail_log_file("log-t", 510))
        .await;
    let batch = w.intake_batch(1).await;
    let late = handler
        .handle_until(&batch, std::time::Instant::now())
        .await;
    assert_eq!(
        (
            late.files_read,
            late.files_failed,
            late.published,
            late.failures.len()
        ),
        (0, 1, 0, 1),
        "{late:?}"
    );
    assert!(w.published(&w.trail_queue).await.is_empty());
    let retry = handler.handle(&batch).await;
    assert_eq!((retry.files_read, retry.published), (1, 510), "{retry:?}");
    assert_eq!(w.published(&w.trail_queue).await, ids("log-t", 510));
}
