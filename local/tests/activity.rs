//! Each rule's activity through the local run: `POST /traces` counts, the activity endpoint
//! reports (matches, published alone, digested; the last match), for one rule only.

mod common;

use common::Local;
use serde_json::{json, Value};

const P: &str = "24edf66e79d04187acb99a463e610764";

fn totals(activity: &Value) -> (u64, u64, u64, u64) {
    let hours = activity["hours"].as_array().unwrap();
    let sum = |k: &str| hours.iter().map(|h| h[k].as_u64().unwrap()).sum::<u64>();
    (
        sum("matches"),
        sum("published"),
        sum("digested"),
        sum("failures"),
    )
}

#[tokio::test]
async fn the_activity_endpoint_reports_what_the_handler_did_for_each_rule() {
    let local = Local::new();
    let limited = local
        .create(
            P,
            &json!({"notification_name": "limited", "operation_type": "customized",
                    "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
                    "topic_id": format!("urn:smn:eu-west-1:{P}:key_events"),
                    "digest": {"window_seconds": 86400, "max_messages": 3}}),
        )
        .await;
    let quiet = local
        .create(
            P,
            &json!({"notification_name": "quiet", "operation_type": "customized",
                    "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
                    "topic_id": format!("urn:smn:eu-west-1:{P}:other")}),
        )
        .await;
    let (_, fresh) = local
        .call(
            "GET",
            &format!("/v3/{P}/notifications/{quiet}/activity"),
            String::new(),
        )
        .await;
    assert_eq!(fresh["hours"], json!([]), "{fresh}");
    assert_eq!(fresh["last_match"], Value::Null);

    let traces: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"trace_id": format!("t-{i}"), "trace_name": "deleteServer", "service_type": "ECS",
                   "resource_type": "ecs", "project_id": P, "user": {"name": "ops-alice"}})
        })
        .collect();
    // The flood, in batches of 100, twice.
    for _ in 0..2 {
        for batch in traces.chunks(100) {
            let (status, summary) = local
                .call("POST", "/traces", json!({ "traces": batch }).to_string())
                .await;
            assert_eq!(status, 200, "{summary}");
        }
    }
    let (status, activity) = local
        .call(
            "GET",
            &format!("/v3/{P}/notifications/{limited}/activity"),
            String::new(),
        )
        .await;
    assert_eq!(status, 200, "{activity}");
    assert_eq!(
        totals(&activity),
        (1000, 3, 997, 0),
        "a resend counts no match again"
    );
    assert!(activity["last_match"].as_i64().unwrap() >= activity["since"].as_i64().unwrap());
    assert_eq!(activity["hour_ms"], 3_600_000);
    let (_, other) = local
        .call(
            "GET",
            &format!("/v3/{P}/notifications/{quiet}/activity"),
            String::new(),
        )
        .await;
    assert_eq!(totals(&other), (1000, 1000, 0, 0));

    let (status, missing) = local
        .call(
            "GET",
            &format!("/v3/{P}/notifications/no-such-rule/activity"),
            String::new(),
        )
        .await;
    assert_eq!(
        (status, missing["error_code"].as_str()),
        (404, Some("CTS.0402"))
    );
}
