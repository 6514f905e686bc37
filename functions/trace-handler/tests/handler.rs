//! The handler on the embedded store and the file topic, fed the sample inputs in `events/`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use local_adapters::{FileTopic, RedbStore};
use ports::{NotificationStore, PublishError, Publisher};
use rules::message::Message;
use rules::CreateBody;
use rules::TopicId;
use serde_json::{json, Value};
use trace_handler::Handler;

const P: &str = "24edf66e79d04187acb99a463e610764";

fn event(name: &str) -> String {
    samples::sample(name).to_owned()
}

struct Setup {
    dir: tempfile::TempDir,
    store: Arc<RedbStore>,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(RedbStore::open(dir.path().join("rules.redb")).unwrap());
        Setup { dir, store }
    }

    async fn add_rule(&self, project: &str, id: &str, body: Value) {
        let n =
            CreateBody::from_value(&body)
                .unwrap()
                .into_notification(id.into(), project.into(), 1);
        self.store.create(&n).await.unwrap();
    }

    fn handler(&self, publisher: Arc<dyn Publisher>, cache: Duration) -> Handler {
        Handler::new(
            self.store.clone(),
            self.store.clone(),
            publisher,
            cache,
            3600,
        )
    }

    fn topic(&self) -> Arc<FileTopic> {
        Arc::new(FileTopic::new(self.dir.path().join("published.jsonl")))
    }

    fn published(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("published.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn sample_rule() -> Value {
    serde_json::from_str(&event("create-notification-request.json")).unwrap()
}

#[tokio::test]
async fn the_poison_item_alone_is_reported_in_batch_item_failures() {
    let s = Setup::new();
    s.add_rule(P, "n1", sample_rule()).await;
    let summary = s
        .handler(s.topic(), Duration::ZERO)
        .handle(&event("sqs-batch-cts-traces-with-poison.json"))
        .await;
    assert_eq!(
        summary.batch_item_failures(),
        json!({"batchItemFailures": [{"itemIdentifier": "poison-0001"}]})
    );
    assert_eq!(
        (summary.matches, summary.published),
        (2, 2),
        "deleteServer by ops-alice, rebootServer by dev-bob"
    );
}

#[tokio::test]
async fn each_match_is_published_once_with_the_trace_unchanged() {
    let s = Setup::new();
    s.add_rule(P, "n1", sample_rule()).await;
    let handler = s.handler(s.topic(), Duration::ZERO);
    let batch = event("sqs-batch-cts-traces-with-poison.json");
    handler.handle(&batch).await;
    let lines = s.published();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(
        first["topic_id"],
        "urn:smn:eu-west-1:24edf66e79d04187acb99a463e610764:key_events"
    );
    assert_eq!(
        first["subject"],
        "[normal] ECS ecs deleteServer by ops-alice"
    );
    assert_eq!(
        first["message_attributes"]["notification_name"],
        "prod_key_ops"
    );
    let sent_body = serde_json::from_str::<Value>(&batch).unwrap()["Records"][0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = first["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("\"trace\":{sent_body}}}")),
        "the trace is embedded byte for byte"
    );

    let again = handler.handle(&batch).await;
    assert_eq!(
        (again.published, again.duplicates),
        (0, 2),
        "redelivery publishes nothing"
    );
    assert_eq!(s.published().len(), 2);
}

/// Fails every publish while `failing` is set.
struct Flaky {
    inner: Arc<FileTopic>,
    failing: AtomicBool,
}

#[async_trait]
impl Publisher for Flaky {
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        if self.failing.load(Ordering::SeqCst) {
            return messages
                .iter()
                .map(|_| {
                    Err(PublishError::Failed {
                        topic: topic.to_string(),
                        why: "injected".into(),
                    })
                })
                .collect();
        }
        self.inner.publish(topic, messages).await
    }
}

#[tokio::test]
async fn a_failed_publish_is_retried_and_then_delivered_once() {
    let s = Setup::new();
    s.add_rule(P, "n1", sample_rule()).await;
    let flaky = Arc::new(Flaky {
        inner: s.topic(),
        failing: AtomicBool::new(true),
    });
    let handler = s.handler(flaky.clone(), Duration::ZERO);
    let batch = event("sqs-batch-cts-traces-with-poison.json");
    let failed = handler.handle(&batch).await;
    let ids: Vec<_> = failed
        .failures
        .iter()
        .filter_map(|f| f.message_id.clone())
        .collect();
    assert_eq!(
        ids.len(),
        3,
        "two failed publishes and the poison item: {ids:?}"
    );
    assert!(s.published().is_empty());
    flaky.failing.store(false, Ordering::SeqCst);
    let retried = handler.handle(&batch).await;
    assert_eq!((retried.published, retried.duplicates), (2, 0));
    assert_eq!(retried.failures.len(), 1);
    assert_eq!(s.published().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn rules_change_within_the_cache_period() {
    let s = Setup::new();
    let handler = s.handler(s.topic(), Duration::from_millis(300));
    let trace = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    assert_eq!(handler.handle(&trace).await.matches, 0);
    s.add_rule(P, "n1", sample_rule()).await;
    assert_eq!(
        handler.handle(&trace).await.matches,
        0,
        "cached for the period"
    );
    tokio::time::advance(Duration::from_millis(350)).await;
    assert_eq!(
        handler.handle(&trace).await.matches,
        1,
        "seen after the period"
    );
}

#[tokio::test]
async fn cloudtrail_events_fire_rules_of_their_account() {
    let s = Setup::new();
    s.add_rule("123456789012", "sg", json!({
        "notification_name": "sg_opened", "operation_type": "customized",
        "operations": [{"service_type": "EC2", "resource_type": "securitygroup", "trace_names": ["AuthorizeSecurityGroupIngress"]}],
        "topic_id": "arn:aws:sns:eu-west-1:123456789012:alerts"
    })).await;
    s.add_rule(
        "123456789012",
        "root",
        json!({
            "notification_name": "root_login", "operation_type": "complete",
            "notify_user_list": [{"user_group": "root", "user_list": ["root"]}],
            "topic_id": "arn:aws:sns:eu-west-1:123456789012:alerts"
        }),
    )
    .await;
    s.add_rule(P, "other", json!({"notification_name": "everything", "operation_type": "complete", "topic_id": "urn:smn:r:p:t"})).await;
    let handler = s.handler(s.topic(), Duration::ZERO);
    let sg = handler
        .handle(&event("eventbridge-cloudtrail-authorize-sg-ingress.json"))
        .await;
    assert_eq!((sg.traces, sg.published), (1, 1));
    let signin = handler
        .handle(&event("eventbridge-console-signin-root-no-mfa.json"))
        .await;
    assert_eq!(signin.published, 1);
    let subjects: Vec<_> = s
        .published()
        .iter()
        .map(|l| l["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        subjects,
        [
            "[normal] EC2 securitygroup AuthorizeSecurityGroupIngress by ops-alice",
            "[normal] SIGNIN signin ConsoleLogin by root"
        ]
    );
}

/// An IAM call is an event of us-east-1 only; the global-events stack forwards it unchanged
/// (`region` still `us-east-1`) to the deployment's region, where it fires the rule on IAM.
#[tokio::test]
async fn a_global_event_forwarded_from_us_east_1_fires_its_rule() {
    let s = Setup::new();
    let topic = "arn:aws:sns:eu-west-1:123456789012:alerts";
    s.add_rule("123456789012", "keys", json!({
        "notification_name": "access_key_created", "operation_type": "customized",
        "operations": [{"service_type": "IAM", "resource_type": "iam", "trace_names": ["CreateAccessKey", "AttachUserPolicy"]}],
        "topic_id": topic
    })).await;
    s.add_rule("123456789012", "sg", json!({
        "notification_name": "sg_opened", "operation_type": "customized",
        "operations": [{"service_type": "EC2", "resource_type": "securitygroup", "trace_names": ["AuthorizeSecurityGroupIngress"]}],
        "topic_id": topic
    })).await;
    let forwarded = event("eventbridge-forwarded-iam-create-access-key.json");
    assert!(forwarded.contains("\"region\": \"us-east-1\""));
    let handler = s.handler(s.topic(), Duration::ZERO);
    let summary = handler.handle(&forwarded).await;
    assert_eq!((summary.traces, summary.published), (1, 1), "{summary:?}");
    let published = s.published();
    assert_eq!(
        published[0]["subject"],
        "[normal] IAM iam CreateAccessKey by ops-alice"
    );
    assert_eq!(
        published[0]["message_attributes"]["notification_name"],
        "access_key_created"
    );
}

#[tokio::test]
async fn traces_of_one_project_never_fire_rules_of_another() {
    let s = Setup::new();
    s.add_rule("project-b", "b", json!({"notification_name": "all_b", "operation_type": "complete", "topic_id": "urn:smn:r:p:t"})).await;
    let summary = s
        .handler(s.topic(), Duration::ZERO)
        .handle(&event("sqs-batch-cts-traces-with-poison.json"))
        .await;
    assert_eq!((summary.traces, summary.matches), (3, 0));
}

#[tokio::test]
async fn a_direct_batch_is_read_with_the_envelope_project() {
    let s = Setup::new();
    s.add_rule("p-direct", "n", json!({"notification_name": "all", "operation_type": "complete", "topic_id": "urn:smn:r:p:t"})).await;
    let input = json!({"project_id": "p-direct", "traces": [
        {"trace_id": "t1", "trace_name": "deleteServer", "service_type": "ECS", "resource_type": "ecs"},
        {"trace_id": "t2", "trace_name": "deleteServer", "service_type": "ECS", "resource_type": "ecs"},
        {"trace_name": "no id"}
    ]});
    let summary = s
        .handler(s.topic(), Duration::ZERO)
        .handle(&input.to_string())
        .await;
    assert_eq!(
        (summary.traces, summary.published, summary.failures.len()),
        (2, 2, 1)
    );
    assert_eq!(summary.failures[0].item, 2);
}

#[tokio::test]
async fn the_direct_invoke_sample_fires_on_both_traces() {
    let s = Setup::new();
    s.add_rule(
        P,
        "deletes",
        json!({
            "notification_name": "deletes", "operation_type": "customized",
            "operations": [
                {"service_type": "EVS", "resource_type": "evs", "trace_names": ["deleteVolume"]},
                {"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}
            ],
            "topic_id": "urn:smn:eu-west-1:p:key_events"
        }),
    )
    .await;
    let summary = s
        .handler(s.topic(), Duration::ZERO)
        .handle(&event("direct-invoke-batch.json"))
        .await;
    assert_eq!(
        (summary.traces, summary.published, summary.failures.len()),
        (2, 2, 0)
    );
    let attrs: Vec<_> = s
        .published()
        .iter()
        .map(|l| l["message_attributes"]["user_name"].clone())
        .collect();
    assert_eq!(attrs, [json!("ops-alice"), json!("dev-bob")]);
}

/// 30 traces, each matched by both rules of [`two_rules`], in SQS batches of 10.
fn race_batches() -> Vec<String> {
    let sample: Value =
        serde_json::from_str(event("cts-traces.jsonl").lines().next().unwrap()).unwrap();
    (0..3)
        .map(|b| {
            let records: Vec<Value> = (0..10)
                .map(|i| {
                    let mut t = sample.clone();
                    t["trace_id"] = json!(format!("race-{b}-{i}"));
                    json!({"messageId": format!("m-{b}-{i}"), "receiptHandle": "h", "body": t.to_string(),
                           "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {}})
                })
                .collect();
            json!({"Records": records}).to_string()
        })
        .collect()
}

async fn two_rules(s: &Setup) {
    for (id, name) in [("n-a", "audit_a"), ("n-b", "audit_b")] {
        s.add_rule(
            P,
            id,
            json!({"notification_name": name, "operation_type": "complete",
            "topic_id": format!("urn:smn:eu-west-1:{P}:key_events")}),
        )
        .await;
    }
}

/// Each (trace id, notification id) published, with how often.
fn pairs(published: &[Value]) -> std::collections::HashMap<(String, String), usize> {
    let mut out = std::collections::HashMap::new();
    for line in published {
        let m: Value = serde_json::from_str(line["message"].as_str().unwrap()).unwrap();
        let key = (
            m["trace"]["trace_id"].as_str().unwrap().to_owned(),
            m["notification"]["id"].as_str().unwrap().to_owned(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handlers_racing_on_one_batch_publish_every_pair_once() {
    let s = Setup::new();
    two_rules(&s).await;
    let (one, two) = (
        s.handler(s.topic(), Duration::ZERO),
        s.handler(s.topic(), Duration::ZERO),
    );
    for batch in race_batches() {
        let (a, b) = tokio::join!(one.handle(&batch), two.handle(&batch));
        assert_eq!(a.published + b.published, 20, "{a:?} {b:?}");
        println!(
            "race: one published {}, two published {}, left busy {}",
            a.published,
            b.published,
            a.failures.len() + b.failures.len()
        );
        // What one left for a retry (busy), the retry finds published.
        for (summary, handler) in [(a, &one), (b, &two)] {
            if !summary.failures.is_empty() {
                let retry = handler.handle(&batch).await;
                assert_eq!((retry.published, retry.failures.len()), (0, 0), "{retry:?}");
            }
        }
    }
    let published = pairs(&s.published());
    assert_eq!(published.len(), 60);
    assert!(published.values().all(|n| *n == 1), "{published:?}");
}

#[tokio::test]
async fn nothing_is_published_too_close_to_the_deadline_and_a_retry_publishes_it() {
    let s = Setup::new();
    two_rules(&s).await;
    let handler = s.handler(s.topic(), Duration::ZERO);
    let batch = &race_batches()[0];
    let late = handler.handle_until(batch, std::time::Instant::now()).await;
    assert_eq!((late.published, late.failures.len()), (0, 10), "{late:?}");
    assert!(late.failures[0].error.contains("time ran out"));
    assert!(s.published().is_empty());
    let retry = handler
        .handle_until(batch, std::time::Instant::now() + Duration::from_secs(30))
        .await;
    assert_eq!(
        (retry.published, retry.failures.len()),
        (20, 0),
        "claims were released: {retry:?}"
    );
    let metrics = retry.metrics(1_700_000_000_000);
    assert_eq!(
        (metrics["Published"].as_u64(), metrics["Traces"].as_u64()),
        (Some(20), Some(10))
    );
    assert_eq!(
        metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "KeyEventNotifications"
    );
    assert_eq!(late.metrics(0)["FailedRetried"], 10);
}

#[tokio::test]
async fn a_trace_sent_twice_in_one_input_is_published_once() {
    let s = Setup::new();
    two_rules(&s).await;
    let trace = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    let input = json!({"project_id": P, "traces": [serde_json::from_str::<Value>(&trace).unwrap(), serde_json::from_str::<Value>(&trace).unwrap()]});
    let summary = s
        .handler(s.topic(), Duration::ZERO)
        .handle(&input.to_string())
        .await;
    assert_eq!(
        (
            summary.published,
            summary.duplicates,
            summary.failures.len()
        ),
        (2, 2, 0),
        "{summary:?}"
    );
}

/// A project id no rule can have is refused with the item, before any rule is read for it or
/// kept in memory.
#[tokio::test]
async fn traces_naming_impossible_projects_cost_no_memory() {
    let s = Setup::new();
    let handler = s.handler(s.topic(), Duration::from_secs(60));
    let huge = "p".repeat(500_000);
    let traces: Vec<Value> = (0..150)
        .map(|i| {
            json!({"trace_id": format!("t{i}"), "trace_name": "deleteServer", "service_type": "ECS",
                        "resource_type": "ecs", "project_id": format!("{huge}{i}")})
        })
        .chain([
            json!({"trace_id": "t-bad", "trace_name": "x", "service_type": "ECS",
                       "resource_type": "ecs", "project_id": "no/slashes"}),
        ])
        .collect();
    let summary = handler.handle(&json!({"traces": traces}).to_string()).await;
    assert_eq!(summary.traces, 0);
    assert_eq!(summary.failures.len(), 151);
    assert!(
        summary.failures[0].error.contains("project_id must be"),
        "{:?}",
        summary.failures[0]
    );
    assert!(handler.rule_cache().is_empty());
    let fine = handler
        .handle(&json!({"trace_id": "ok", "trace_name": "x", "service_type": "ECS", "resource_type": "ecs",
                        "project_id": "123456789012"}).to_string())
        .await;
    assert_eq!((fine.traces, fine.failures.len()), (1, 0));
    assert_eq!(handler.rule_cache().len(), 1);
}
