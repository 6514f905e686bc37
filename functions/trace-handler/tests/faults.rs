//! Faults between the handler and AWS (moto behind a fault-injecting proxy): throttling, 500s
//! and hung requests, in a steady trickle and in a burst. Calls are retried with backoff; items
//! that still fail come back as batch item failures and are redelivered, as SQS would; in the
//! end every expected (trace, rule) pair has been published exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::{DynamoDbStore, SnsPublisher};
use ports::NotificationStore;
use rules::{CompiledRules, CreateBody};
use serde_json::{json, Value};
use test_support::faults::{Fault, FaultProxy, Plan};
use test_support::{create_rules_table, drain, subscribed_queue, Moto};
use trace_handler::Handler;

const P: &str = "24edf66e79d04187acb99a463e610764";
/// Claims held by a failed attempt run out this fast here (the handler's are 60 s, SQS's
/// redelivery 180 s): the test waits this long before each redelivery.
const LEASE: Duration = Duration::from_millis(300);

fn rules() -> Vec<rules::Notification> {
    let sample = CreateBody::parse(samples::CREATE_NOTIFICATION_REQUEST.as_bytes()).unwrap();
    let everything = CreateBody::from_value(&json!({"notification_name": "audit_all", "operation_type": "complete", "topic_id": format!("urn:smn:r:{P}:key_events")})).unwrap();
    let bob = CreateBody::from_value(&json!({
        "notification_name": "bob_watch", "operation_type": "complete", "topic_id": format!("urn:smn:r:{P}:key_events"),
        "notify_user_list": [{"user_group": "dev", "user_list": ["dev-bob"]}]
    }))
    .unwrap();
    [sample, everything, bob]
        .into_iter()
        .enumerate()
        .map(|(i, b)| b.into_notification(format!("rule-{i}"), P.into(), i as i64))
        .collect()
}

/// 60 traces from the samples, each with its own id, in SQS batches of 10.
fn batches() -> Vec<Vec<(String, String)>> {
    let samples: Vec<Value> = samples::CTS_TRACES
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: Vec<(String, String)> = (0..60)
        .map(|i| {
            let mut t = samples[i % samples.len()].clone();
            t["trace_id"] = json!(format!("trace-{i:03}"));
            (format!("msg-{i:03}"), t.to_string())
        })
        .collect();
    records.chunks(10).map(<[_]>::to_vec).collect()
}

fn sqs_event(records: &[(String, String)]) -> String {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, body)| json!({"messageId": id, "receiptHandle": "h", "body": body, "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {}}))
        .collect();
    json!({"Records": records}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pair_is_delivered_exactly_once_through_injected_faults() {
    let moto = Moto::start().await;
    let direct = moto.sdk_config().await;
    let ddb = aws_adapters::dynamodb::Client::new(&direct);
    create_rules_table(&ddb, "rules").await;
    let (_, queue) = subscribed_queue(&direct, &format!("{P}_key_events"), "subscriber").await;
    let direct_store = DynamoDbStore::new(ddb, "rules");
    let rules = rules();
    for r in &rules {
        direct_store.create(r).await.unwrap();
    }

    // A throttle every 7th request, a 500 every 7th (offset), a hang every 37th, and a burst
    // of 100 failures in a row that outlasts the four attempts of every call in flight (claims
    // run 16 at a time).
    let plan: Plan = Arc::new(|n| match n {
        40..=139 => Some(Fault::ServerError),
        _ if n % 37 == 11 => Some(Fault::Hang),
        _ if n % 7 == 3 => Some(Fault::Throttle),
        _ if n % 7 == 5 => Some(Fault::ServerError),
        _ => None,
    });
    let proxy = FaultProxy::start(&moto.endpoint, plan).await;
    let faulty = moto.sdk_config_via(&proxy.endpoint).await;
    let store = Arc::new(DynamoDbStore::new(
        aws_adapters::dynamodb::Client::new(&faulty),
        "rules",
    ));
    let publisher = Arc::new(SnsPublisher::new(
        aws_adapters::sns::Client::new(&faulty),
        "arn:aws:sns:eu-west-1:123456789012:",
    ));
    let handler = Handler::new(
        store.clone(),
        store,
        publisher,
        Duration::from_secs(60),
        3600,
    )
    .with_claim_lease(LEASE);

    let compiled = CompiledRules::compile(&rules).unwrap();
    let mut expected: HashMap<(String, String), usize> = HashMap::new();
    let (mut redeliveries, mut reported) = (0, 0);
    for batch in batches() {
        for (_, body) in &batch {
            let view = rules::trace::scan(body).unwrap();
            for r in compiled.matches(&view).iter() {
                *expected
                    .entry((
                        view.trace_id.as_deref().unwrap().to_owned(),
                        compiled.rules()[r].notification_id.clone(),
                    ))
                    .or_default() += 1;
            }
        }
        let mut pending = batch;
        for round in 0.. {
            assert!(round < 20, "items still failing after 20 deliveries");
            let summary = handler.handle(&sqs_event(&pending)).await;
            let failed: Vec<String> = summary
                .failures
                .iter()
                .filter_map(|f| f.message_id.clone())
                .collect();
            if failed.is_empty() {
                break;
            }
            // SQS delivers a failed item again after its visibility timeout, by which time the
            // claims of a failed attempt have run out.
            tokio::time::sleep(LEASE + Duration::from_millis(50)).await;
            reported += failed.len();
            redeliveries += 1;
            pending.retain(|(id, _)| failed.contains(id));
        }
    }

    let mut delivered: HashMap<(String, String), usize> = HashMap::new();
    for envelope in drain(&direct, &queue).await {
        let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        let key = (
            message["trace"]["trace_id"].as_str().unwrap().to_owned(),
            message["notification"]["id"].as_str().unwrap().to_owned(),
        );
        *delivered.entry(key).or_default() += 1;
    }
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    let lost = expected
        .keys()
        .filter(|k| !delivered.contains_key(*k))
        .count();
    println!(
        "requests {}, faults injected {}, items reported for redelivery {reported} over {redeliveries} redeliveries, pairs expected {}, delivered {}, duplicates {duplicates}, lost {lost}",
        proxy.requests(),
        proxy.injected(),
        expected.len(),
        delivered.len()
    );
    assert!(
        proxy.injected() >= 20 && reported > 0,
        "the faults did bite"
    );
    assert_eq!(delivered, expected);
}
