//! The handler's whole path on the matcher benchmark's workload, as Lambda hands it over: the
//! events of `events.jsonl` in SQS batches of 10 (each body the event as a JSON string), each
//! batch's bytes → split → traces → matched against `rules_typical_100.json` → messages
//! rendered (body, email text, attributes, size fitted) → claimed, published to an in-memory
//! publisher and marked published, through the real `Handler` with in-memory ports. Prints
//! `bench handler_typical_100 traces_per_sec=<N>` (median of the runs) and writes
//! `handler_typical_100.out` in the matcher benchmark's format (`<index>\t<sorted names>`), to
//! be equal to its `typical_100.out`.
//!
//! Usage: `cargo bench -p handler-path-bench --bench handler_path -- <workload dir> <out dir> [runs]`

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ports::{
    Activity, ActivityDelta, ActivityLog, Admission, Claim, ClosedWindow, DedupKey, DedupLog,
    DigestLog, HourCounts, NotificationStore, PublishError, Publisher, StoreError, WindowMatch,
};
use rules::message::Message;
use rules::{CreateBody, Notification, TopicId};
use trace_handler::Handler;

const PROJECT: &str = "07066c6fc90025a02f6dc01e105b286e";
const SET: &str = "typical_100";

/// The rule set, as a store that holds nothing else.
struct Rules(Vec<Notification>);

#[async_trait]
impl NotificationStore for Rules {
    async fn create(&self, _: &Notification) -> Result<(), StoreError> {
        unreachable!("the benchmark only reads rules")
    }
    async fn update(&self, _: &Notification) -> Result<(), StoreError> {
        unreachable!("the benchmark only reads rules")
    }
    async fn delete(&self, _: &str, _: &[String]) -> Result<(), StoreError> {
        unreachable!("the benchmark only reads rules")
    }
    async fn get(&self, _: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        Ok(self.0.iter().find(|n| n.notification_id == id).cloned())
    }
    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|n| n.project_id == project_id)
            .cloned()
            .collect())
    }
}

/// Claims, published pairs and the rules' activity in memory.
#[derive(Default)]
struct Memory {
    published: Mutex<HashSet<DedupKey>>,
    activity: Mutex<HashMap<(String, String, i64), HourCounts>>,
}

#[async_trait]
impl ActivityLog for Memory {
    async fn record(&self, deltas: &[ActivityDelta]) -> Result<(), StoreError> {
        let mut hours = self.activity.lock().unwrap();
        for d in deltas {
            let key = (d.project_id.clone(), d.notification_id.clone(), d.hour_ms);
            hours.entry(key).or_default().add(&d.counts);
        }
        Ok(())
    }
    async fn activity(&self, _: &str, _: &str, _: i64) -> Result<Activity, StoreError> {
        unreachable!("the benchmark only records activity")
    }
}

#[async_trait]
impl DedupLog for Memory {
    async fn claim(
        &self,
        keys: &[DedupKey],
        _: &str,
        _: i64,
        _: i64,
    ) -> Result<Vec<Claim>, StoreError> {
        let published = self.published.lock().unwrap();
        Ok(keys
            .iter()
            .map(|k| {
                if published.contains(k) {
                    Claim::Published
                } else {
                    Claim::Claimed
                }
            })
            .collect())
    }
    async fn mark_published(&self, keys: &[DedupKey], _: i64, _: i64) -> Result<(), StoreError> {
        self.published.lock().unwrap().extend(keys.iter().cloned());
        Ok(())
    }
    async fn release(&self, _: &[DedupKey], _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The workload's rules have no digest: nothing is ever admitted or closed.
#[async_trait]
impl DigestLog for Memory {
    async fn admit(
        &self,
        _: &[WindowMatch],
        _: &str,
        _: i64,
        _: i64,
    ) -> Result<Vec<Admission>, StoreError> {
        unreachable!("the workload's rules have no digest")
    }
    async fn close_windows(&self, _: i64) -> Result<Vec<ClosedWindow>, StoreError> {
        Ok(Vec::new())
    }
    async fn forget_window(&self, _: &ClosedWindow) -> Result<(), StoreError> {
        unreachable!("no window is ever closed")
    }
}

/// Keeps, per trace, the notification ids it was published for.
#[derive(Default)]
struct Sink {
    fired: Mutex<HashMap<String, Vec<String>>>,
    bytes: Mutex<usize>,
}

#[async_trait]
impl Publisher for Sink {
    async fn publish(&self, _: &TopicId, messages: &[Message]) -> Vec<Result<(), PublishError>> {
        let mut fired = self.fired.lock().unwrap();
        let mut bytes = self.bytes.lock().unwrap();
        for m in messages {
            *bytes += m.message.len();
            fired
                .entry(m.trace_id.clone())
                .or_default()
                .push(m.notification_id.clone());
        }
        messages.iter().map(|_| Ok(())).collect()
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let workload = PathBuf::from(
        args.first()
            .map(String::as_str)
            .unwrap_or("bench-work/workload"),
    );
    let out_dir = PathBuf::from(args.get(1).map(String::as_str).unwrap_or("bench-work/out"));
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    fs::create_dir_all(&out_dir).expect("create the output directory");

    let events = fs::read_to_string(workload.join("events.jsonl")).expect("read events.jsonl");
    let lines: Vec<&str> = events.lines().filter(|l| !l.is_empty()).collect();
    let bodies: Vec<serde_json::Value> = serde_json::from_slice(
        &fs::read(workload.join(format!("rules_{SET}.json"))).expect("read rules"),
    )
    .expect("rules JSON");
    let notifications: Vec<Notification> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut b = b.clone();
            b["topic_id"] = format!("urn:smn:eu-west-1:{PROJECT}:key_events").into();
            CreateBody::from_value(&b)
                .unwrap_or_else(|e| panic!("rule {i}: {e}"))
                .into_notification(format!("{SET}-{i}"), PROJECT.into(), 0)
        })
        .collect();
    let names: HashMap<String, String> = notifications
        .iter()
        .map(|n| (n.notification_id.clone(), n.notification_name.clone()))
        .collect();

    // What Lambda hands over: SQS batches of 10, bodies as JSON strings.
    let batches: Vec<String> = lines
        .chunks(10)
        .enumerate()
        .map(|(b, chunk)| {
            let records: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    serde_json::json!({
                        "messageId": format!("m-{b}-{i}"),
                        "receiptHandle": format!("rh-{b}-{i}"),
                        "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1732520000000"},
                        "messageAttributes": {},
                        "md5OfBody": "0",
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:trace-intake",
                        "awsRegion": "eu-west-1"
                    })
                })
                .collect();
            serde_json::json!({ "Records": records }).to_string()
        })
        .collect();
    let input_bytes: usize = batches.iter().map(String::len).sum();
    eprintln!(
        "events: {} in {} SQS batches ({:.0} bytes a batch)",
        lines.len(),
        batches.len(),
        input_bytes as f64 / batches.len() as f64
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let store = Arc::new(Rules(notifications));
    let mut rates = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let sink = Arc::new(Sink::default());
        // A fresh dedup log each run: every match is published again.
        let handler = Handler::new(
            store.clone(),
            Arc::new(Memory::default()),
            sink.clone(),
            Duration::from_secs(3600),
            3600,
        );
        let (traces, published) = runtime.block_on(async {
            let (mut traces, mut published) = (0, 0);
            let start = Instant::now();
            for batch in &batches {
                let summary = handler.handle(batch).await;
                traces += summary.traces;
                published += summary.published;
                assert!(summary.failures.is_empty(), "{:?}", summary.failures);
            }
            rates.push(traces as f64 / start.elapsed().as_secs_f64());
            (traces, published)
        });
        assert_eq!(traces, lines.len());
        last = Some((sink, published));
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!("bench handler_{SET} traces_per_sec={median:.0}");
    let (sink, published) = last.expect("one run");
    eprintln!(
        "  handler_{SET}: runs={} min={:.0} max={:.0} published={published} message_bytes={}",
        rates.len(),
        rates[0],
        rates[rates.len() - 1],
        sink.bytes.lock().unwrap()
    );

    // The output, in the matcher benchmark's format: trace ids are the events' own.
    let fired = sink.fired.lock().unwrap();
    let mut out = std::io::BufWriter::new(
        fs::File::create(out_dir.join(format!("handler_{SET}.out"))).expect("create .out"),
    );
    for (i, line) in lines.iter().enumerate() {
        let trace_id = serde_json::from_str::<serde_json::Value>(line).expect("event JSON")
            ["trace_id"]
            .as_str()
            .expect("trace_id")
            .to_owned();
        let mut fired_names: Vec<&str> = fired
            .get(&trace_id)
            .map(|ids| ids.iter().map(|id| names[id].as_str()).collect())
            .unwrap_or_default();
        fired_names.sort_unstable();
        writeln!(out, "{i}\t{}", fired_names.join(",")).expect("write .out");
    }
    out.flush().expect("flush .out");
}
