//! Digests through the handler, on the embedded store and the file topic: a flood of matches
//! publishes `max_messages` alone and counts the rest into one digest, whatever resends or
//! concurrent handlers do; a rule without a digest is untouched.

use std::sync::Arc;
use std::time::Duration;

use local_adapters::{FileTopic, RedbStore};
use ports::NotificationStore;
use rules::CreateBody;
use serde_json::{json, Value};
use trace_handler::Handler;

const P: &str = "24edf66e79d04187acb99a463e610764";

struct Setup {
    dir: tempfile::TempDir,
    store: Arc<RedbStore>,
}

impl Setup {
    async fn new(digest: Option<Value>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(RedbStore::open(dir.path().join("rules.redb")).unwrap());
        let mut body = json!({
            "notification_name": "key_ops",
            "operation_type": "customized",
            "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
            "topic_id": format!("urn:smn:eu-west-1:{P}:key_events"),
        });
        if let Some(d) = digest {
            body["digest"] = d;
        }
        let n = CreateBody::from_value(&body)
            .unwrap()
            .into_notification("n-1".into(), P.into(), 1);
        store.create(&n).await.unwrap();
        Setup { dir, store }
    }

    fn handler(&self) -> Handler {
        Handler::new(
            self.store.clone(),
            self.store.clone(),
            Arc::new(FileTopic::new(self.dir.path().join("published.jsonl"))),
            Duration::from_secs(60),
            3600,
        )
    }

    fn published(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("published.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// (messages published alone, digests) in the topic.
    fn messages(&self) -> (Vec<Value>, Vec<Value>) {
        self.published()
            .into_iter()
            .partition(|m| !m["subject"].as_str().unwrap().starts_with("[digest]"))
    }
}

/// SQS batches of ten, each record a `deleteServer` trace of its own.
fn flood(traces: usize) -> Vec<String> {
    let records: Vec<Value> = (0..traces)
        .map(|i| {
            let trace = json!({
                "trace_id": format!("00000000-0000-4000-8000-{i:012}"),
                "trace_name": "deleteServer", "service_type": "ECS", "resource_type": "ecs",
                "trace_rating": "warning", "project_id": P,
                "user": {"name": format!("user-{}", i % 4)},
            });
            json!({"messageId": format!("m-{i}"), "body": trace.to_string(),
                   "eventSource": "aws:sqs"})
        })
        .collect();
    records
        .chunks(10)
        .map(|c| json!({"Records": c}).to_string())
        .collect()
}

async fn send(handler: &Handler, batches: &[String]) -> usize {
    let mut digested = 0;
    for b in batches {
        let summary = handler.handle(b).await;
        assert!(summary.failures.is_empty(), "{:?}", summary.failures);
        digested += summary.digested;
    }
    digested
}

/// After the day's window has ended and closed.
fn after_today() -> i64 {
    let day = 86_400_000;
    (ports::now_ms() / day + 1) * day + ports::CLOSE_AFTER_MS
}

const DAILY_3: &str = r#"{"window_seconds": 86400, "max_messages": 3}"#;

fn digest_of(s: &Setup) -> Value {
    let (alone, digests) = s.messages();
    assert_eq!(alone.len(), 3, "three published alone");
    assert_eq!(digests.len(), 1, "one digest");
    let body: Value = serde_json::from_str(digests[0]["message"].as_str().unwrap()).unwrap();
    body["digest"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_gives_max_messages_and_one_digest_counting_the_rest() {
    let s = Setup::new(Some(serde_json::from_str(DAILY_3).unwrap())).await;
    let handler = s.handler();
    let batches = flood(1000);
    assert_eq!(send(&handler, &batches).await, 997);
    assert_eq!(
        send(&handler, &batches).await,
        0,
        "a resend counts nothing again"
    );
    let (alone, digests) = s.messages();
    assert_eq!(
        (alone.len(), digests.len()),
        (3, 0),
        "no digest before the window closes"
    );

    let before = handler.publish_due_digests(ports::now_ms()).await;
    assert_eq!(before.windows, 0, "the window is open: {before:?}");
    let run = handler.publish_due_digests(after_today()).await;
    assert_eq!((run.windows, run.published), (1, 1), "{run:?}");
    let d = digest_of(&s);
    assert_eq!(d["matches"], 997);
    assert_eq!(d["by_trace_name"]["deleteServer"], 997);
    assert_eq!(
        d["by_user"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        997
    );
    assert_eq!(d["trace_ids"].as_array().unwrap().len(), 997);

    let again = handler.publish_due_digests(after_today()).await;
    assert_eq!(again.windows, 0, "a digest is published once: {again:?}");
    assert_eq!(s.published().len(), 4);

    let activity = ports::ActivityLog::activity(&*s.store, P, "n-1", 0)
        .await
        .unwrap();
    let mut total = ports::HourCounts::default();
    activity.hours.iter().for_each(|h| total.add(&h.counts));
    assert_eq!(
        (
            total.matches,
            total.published,
            total.digested,
            total.failures
        ),
        (1000, 3, 997, 0),
        "the resend counted no match again"
    );
    assert!(activity.last_match.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_handlers_at_once_count_each_match_once() {
    let s = Setup::new(Some(serde_json::from_str(DAILY_3).unwrap())).await;
    let batches = Arc::new(flood(400));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (handler, batches) = (Arc::new(s.handler()), batches.clone());
            tokio::spawn(async move {
                let mut digested = 0;
                // Busy pairs fail their item; sent again, as SQS would, until none fails.
                for _ in 0..50 {
                    let mut failed = false;
                    for b in batches.iter() {
                        let summary = handler.handle(b).await;
                        digested += summary.digested;
                        failed |= !summary.failures.is_empty();
                    }
                    if !failed {
                        break;
                    }
                }
                digested
            })
        })
        .collect();
    let mut digested = 0;
    for r in runs {
        digested += r.await.unwrap();
    }
    assert_eq!(digested, 397);
    let run = s.handler().publish_due_digests(after_today()).await;
    assert_eq!(run.published, 1, "{run:?}");
    assert_eq!(digest_of(&s)["matches"], 397);
}

#[tokio::test]
async fn a_window_without_overflow_sends_no_digest_and_a_rule_without_digest_every_match() {
    let s = Setup::new(Some(serde_json::from_str(DAILY_3).unwrap())).await;
    let handler = s.handler();
    assert_eq!(send(&handler, &flood(3)).await, 0);
    let run = handler.publish_due_digests(after_today()).await;
    assert_eq!(run.windows, 0, "{run:?}");
    assert_eq!(s.messages().0.len(), 3);

    let plain = Setup::new(None).await;
    let handler = plain.handler();
    assert_eq!(send(&handler, &flood(50)).await, 0);
    assert_eq!(handler.publish_due_digests(after_today()).await.windows, 0);
    let (alone, digests) = plain.messages();
    assert_eq!((alone.len(), digests.len()), (50, 0));
}
