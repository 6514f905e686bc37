//! Handler cost per 1000 traces, counted at the wire: 100 SQS batches of 10 traces over 10
//! projects, 20 % of the traces matching a rule, against moto through a counting proxy. Prints
//! the AWS calls by operation per 1000 traces and checks them against the budget: at most one
//! rules read per project per cache period, at most ⌈matches / 10⌉ SNS calls per topic per
//! batch, one conditional claim per match, the marks batched and each rule's activity written
//! once per period; and each invocation's time. Then it times the window in
//! which a crash could repeat a message on SNS: the one call that marks a batch's pairs
//! published after SNS took them.
//!
//! With `DIGEST_MAX=N`, every rule has a digest (`max_messages` N, a day's window): the calls a
//! flood costs when most matches are counted into digests instead of published.
//!
//! Usage: `cargo bench -p trace-handler --bench handler_cost` (starts its own moto).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::{DynamoDbStore, SnsPublisher};
use ports::NotificationStore;
use rules::CreateBody;
use serde_json::json;
use test_support::faults::FaultProxy;
use test_support::{create_rules_table, Moto};
use trace_handler::Handler;

const PROJECTS: usize = 10;
const TRACES: usize = 1000;
const ACTIVITY_PERIOD: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let moto = Moto::start().await;
    let direct = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&direct);
    create_rules_table(&ddb, "rules").await;
    let sns = aws_adapters::sns::Client::new(&direct);
    let store = DynamoDbStore::new(ddb, "rules");
    let digest_max: Option<u32> = std::env::var("DIGEST_MAX")
        .ok()
        .and_then(|v| v.parse().ok());
    for p in 0..PROJECTS {
        sns.create_topic()
            .name(format!("project{p}_alerts_{p}"))
            .send()
            .await
            .unwrap();
        let body = json!({
            "notification_name": "deletes", "operation_type": "customized",
            "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
            "topic_id": format!("urn:smn:eu-west-1:project{p}:alerts_{p}")
        });
        let mut body = body;
        if let Some(max) = digest_max {
            body["digest"] = json!({"window_seconds": 86_400, "max_messages": max});
        }
        let n = CreateBody::from_value(&body).unwrap().into_notification(
            format!("rule-{p}"),
            format!("project{p}"),
            0,
        );
        store.create(&n).await.unwrap();
    }
    let proxy = FaultProxy::counting(&moto.endpoint).await;
    let counted = moto.sdk_config_via(&proxy.endpoint).await;
    let store = Arc::new(DynamoDbStore::new(
        aws_adapters::dynamodb::Client::new(&counted),
        "rules",
    ));
    let publisher = Arc::new(SnsPublisher::new(
        aws_adapters::sns::Client::new(&counted),
        "arn:aws:sns:eu-west-1:123456789012:",
    ));
    let marks = store.clone();
    // As deployed: rules cached 10 s, activity written every 10 s.
    let handler = Handler::new(
        store.clone(),
        store,
        publisher,
        Duration::from_secs(10),
        3600,
    )
    .with_activity_period(ACTIVITY_PERIOD);

    let mut matches = 0;
    let mut digested = 0;
    let mut sns_budget = 0;
    // (rule, input) pairs with a match: the unit of the activity's and the digests' calls.
    let mut rule_inputs = 0;
    let mut invocations: Vec<f64> = Vec::new();
    let started = Instant::now();
    for batch in 0..TRACES / 10 {
        let mut per_topic: HashMap<usize, usize> = HashMap::new();
        let records: Vec<_> = (0..10)
            .map(|k| {
                let i = batch * 10 + k;
                let project = i % PROJECTS;
                let name = if i % 5 == 0 { "deleteServer" } else { "listServers" };
                if name == "deleteServer" {
                    *per_topic.entry(project).or_default() += 1;
                }
                let trace = json!({"trace_id": format!("t{i}"), "trace_name": name, "service_type": "ECS", "resource_type": "ecs",
                    "project_id": format!("project{project}"), "user": {"name": "ops"}, "trace_rating": "normal"});
                json!({"messageId": format!("m{i}"), "body": trace.to_string(), "eventSource": "aws:sqs"})
            })
            .collect();
        sns_budget += per_topic.values().map(|n| n.div_ceil(10)).sum::<usize>();
        rule_inputs += per_topic.len();
        let invoked = Instant::now();
        let summary = handler
            .handle(&json!({"Records": records}).to_string())
            .await;
        invocations.push(invoked.elapsed().as_secs_f64() * 1e3);
        assert!(summary.failures.is_empty(), "{:?}", summary.failures);
        matches += summary.published + summary.digested;
        digested += summary.digested;
    }
    // What the process still holds, written as Lambda stops it.
    handler.write_activity().await;
    let elapsed = started.elapsed();
    let calls = proxy.calls();
    let per_1000 = |op: &str| calls.get(op).copied().unwrap_or(0) * 1000 / TRACES;
    println!("handler cost: {TRACES} traces in {} batches over {PROJECTS} projects, {matches} matches ({digested} digested), {:.0} ms against moto", TRACES / 10, elapsed.as_secs_f64() * 1e3);
    for (op, n) in &calls {
        println!("  {op}: {} per 1000 traces", n * 1000 / TRACES);
    }
    let total: usize = calls.values().sum();
    println!("  all AWS calls: {} per 1000 traces", total * 1000 / TRACES);
    invocations.sort_by(f64::total_cmp);
    let at = |q: f64| invocations[((invocations.len() - 1) as f64 * q) as usize];
    println!(
        "  invocation (a batch of 10): median {:.1} ms, p90 {:.1} ms, max {:.1} ms against moto",
        at(0.5),
        at(0.9),
        at(1.0)
    );
    assert!(
        per_1000("dynamodb:Query") <= PROJECTS,
        "at most one rules read per project per cache period"
    );
    assert!(
        calls.get("sns:PublishBatch").copied().unwrap_or(0) <= sns_budget,
        "at most ⌈matches / 10⌉ SNS calls per topic per batch ({sns_budget})"
    );
    let count = |op: &str| calls.get(op).copied().unwrap_or(0);
    assert!(count("dynamodb:PutItem") <= matches, "one claim per match");
    // The activity: one update per rule per period the run spans (and the first input's).
    let activity = PROJECTS * (2 + elapsed.as_secs() as usize / ACTIVITY_PERIOD.as_secs() as usize);
    let (updates, batch_writes) = match digest_max {
        // The marks: one batch per input.
        None => (activity, TRACES / 10),
        // And for digests, one window read and one batch of digested pairs per rule per input,
        // plus the windows' alone slots.
        Some(max) => (
            activity + rule_inputs + PROJECTS * max as usize,
            TRACES / 10 + rule_inputs,
        ),
    };
    assert!(
        count("dynamodb:UpdateItem") <= updates && count("dynamodb:BatchWriteItem") <= batch_writes,
        "at most {updates} updates and {batch_writes} batch writes"
    );
    assert!(!calls.contains_key("sns:Publish"), "no unbatched publishes");

    // The window: after SNS took a batch, until its pairs are marked published.
    let keys: Vec<ports::DedupKey> = (0..10)
        .map(|i| ports::DedupKey {
            trace_id: format!("window-{i}"),
            notification_id: "rule-0".into(),
        })
        .collect();
    let mut took: Vec<f64> = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        ports::DedupLog::mark_published(&*marks, &keys, ports::now_ms(), 3600)
            .await
            .unwrap();
        took.push(started.elapsed().as_secs_f64() * 1e3);
    }
    took.sort_by(f64::total_cmp);
    println!(
        "  window (marking a batch of 10 pairs published, one BatchWriteItem): median {:.1} ms, max {:.1} ms against moto",
        took[took.len() / 2],
        took[took.len() - 1]
    );
}
