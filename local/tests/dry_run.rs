//! The dry run (`POST /v3/{p}/notifications/test`) answers as the handler does: on the samples
//! of `events/` and on the first 1000 events of the benchmark workload, the rules it says fire
//! are the rules `POST /traces` publishes for; it validates as create does; and it stores and
//! publishes nothing.

mod common;

use std::collections::BTreeSet;

use common::Local;
use serde_json::{json, Value};

const P: &str = "24edf66e79d04187acb99a463e610764";

/// (trace id, notification id) of every trace the dry run of stored rule `id` says fires.
async fn dry_run_pairs(
    local: &Local,
    project: &str,
    id: &str,
    traces: Value,
) -> BTreeSet<(String, String)> {
    let (status, answer) = local
        .call(
            "POST",
            &format!("/v3/{project}/notifications/test"),
            json!({"notification_id": id, "traces": traces}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["fires"] == true)
        .map(|r| (r["trace_id"].as_str().unwrap().to_owned(), id.to_owned()))
        .collect()
}

fn event(name: &str) -> String {
    samples::sample(name).to_owned()
}

#[tokio::test]
async fn on_the_samples_the_dry_run_fires_the_rules_the_handler_publishes_for() {
    let local = Local::new();
    let topic = |p: &str| format!("urn:smn:eu-west-1:{p}:key_events");
    let sample: Value = serde_json::from_str(&event("create-notification-request.json")).unwrap();
    let mut ids = vec![(P, local.create(P, &sample).await)];
    for (project, body) in [
        (
            P,
            json!({"notification_name": "everything", "operation_type": "complete", "topic_id": topic(P)}),
        ),
        (
            P,
            json!({"notification_name": "not_ok", "operation_type": "complete", "topic_id": topic(P),
            "filter": {"is_support_filter": true, "condition": "AND", "rule": ["code != 200", "trace_rating != normal"]}}),
        ),
        (
            "123456789012",
            json!({"notification_name": "root_login", "operation_type": "complete",
            "notify_user_list": [{"user_group": "root", "user_list": ["root"]}],
            "topic_id": "arn:aws:sns:eu-west-1:123456789012:alerts"}),
        ),
        (
            "123456789012",
            json!({"notification_name": "iam_keys", "operation_type": "customized",
            "operations": [{"service_type": "IAM", "resource_type": "iam", "trace_names": ["CreateAccessKey"]}],
            "topic_id": "arn:aws:sns:eu-west-1:123456789012:alerts"}),
        ),
    ] {
        ids.push((project, local.create(project, &body).await));
    }
    let mut inputs: Vec<Value> = event("cts-traces.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for name in [
        "sqs-batch-cts-traces-with-poison.json",
        "eventbridge-cloudtrail-authorize-sg-ingress.json",
        "eventbridge-console-signin-root-no-mfa.json",
        "eventbridge-forwarded-iam-create-access-key.json",
        "cloudtrail-record-s3-delete-bucket-denied.json",
        "direct-invoke-batch.json",
    ] {
        inputs.push(serde_json::from_str(&event(name)).unwrap());
    }
    let mut dry = BTreeSet::new();
    for (project, id) in &ids {
        dry.extend(dry_run_pairs(&local, project, id, Value::Array(inputs.clone())).await);
    }
    assert!(local.published_lines().is_empty(), "the dry run published");
    for input in &inputs {
        local.call("POST", "/traces", input.to_string()).await;
    }
    let published = local.published_pairs();
    assert!(published.len() >= 8, "{published:?}");
    assert_eq!(dry, published);
}

#[tokio::test]
async fn on_the_benchmark_workload_the_dry_run_agrees_with_the_handler() {
    let work = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .args([
            "../bench/gen_workload.py",
            work.path().to_str().unwrap(),
            "1000",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let events: Vec<Value> = std::fs::read_to_string(work.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let project = events[0]["project_id"].as_str().unwrap().to_owned();
    let rules: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("rules_typical_100.json")).unwrap(),
    )
    .unwrap();
    let local = Local::new();
    let mut ids = Vec::new();
    for mut rule in rules {
        rule["topic_id"] = json!(format!("urn:smn:eu-west-1:{project}:t"));
        ids.push(local.create(&project, &rule).await);
    }
    let mut dry = BTreeSet::new();
    for id in &ids {
        // Two halves: each within the 1 MiB a body may hold.
        for half in events.chunks(500) {
            dry.extend(dry_run_pairs(&local, &project, id, Value::Array(half.to_vec())).await);
        }
    }
    assert!(local.published_lines().is_empty(), "the dry run published");
    for half in events.chunks(500) {
        let (status, _) = local
            .call("POST", "/traces", json!({"traces": half}).to_string())
            .await;
        assert_eq!(status, 200);
    }
    let published = local.published_pairs();
    assert!(published.len() > 50, "{}", published.len());
    assert_eq!(dry, published);
}

#[tokio::test]
async fn it_explains_each_check_and_shows_the_exact_message() {
    let local = Local::new();
    let trace = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    let rule = json!({
        "notification_name": "key_ops", "operation_type": "customized",
        "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
        "notify_user_list": [{"user_group": "admin", "user_list": ["ops-alice"]}],
        "topic_id": format!("urn:smn:eu-west-1:{P}:key_events"),
        "filter": {"is_support_filter": true, "condition": "AND", "rule": ["code = 200", "trace_rating != normal"]}
    });
    let raw = format!(r#"{{"notification": {rule}, "traces": {trace}}}"#);
    let (status, answer) = local
        .call("POST", &format!("/v3/{P}/notifications/test"), raw)
        .await;
    assert_eq!(status, 200, "{answer}");
    let result = &answer["results"][0];
    assert_eq!(result["fires"], false);
    assert_eq!(result["decided_by"], "filter");
    let checks: Vec<(&str, bool)> = result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["holds"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        checks,
        [
            ("status", true),
            ("topic", true),
            ("project", true),
            ("operation", true),
            ("user", true),
            ("filter", false)
        ]
    );
    assert_eq!(
        result["checks"][5]["conditions"],
        json!([
            {"rule": "code = 200", "value": "200", "holds": true},
            {"rule": "trace_rating != normal", "value": "normal", "holds": false}
        ])
    );

    let mut or_rule = rule.clone();
    or_rule["filter"]["condition"] = json!("OR");
    let raw = format!(r#"{{"notification": {or_rule}, "traces": {trace}}}"#);
    let (_, answer) = local
        .call("POST", &format!("/v3/{P}/notifications/test"), raw)
        .await;
    let result = &answer["results"][0];
    assert_eq!(result["fires"], true, "{result}");
    let would = &result["would_publish"];
    assert_eq!(
        would["subject"],
        "[normal] ECS ecs deleteServer by ops-alice"
    );
    assert!(would["message"]
        .as_str()
        .unwrap()
        .ends_with(&format!("\"trace\":{trace}}}")));
    assert!(would["email"]
        .as_str()
        .unwrap()
        .contains("By:       ops-alice"));
    assert_eq!(would["message_attributes"]["notification_name"], "key_ops");

    let (_, listed) = local
        .call("GET", &format!("/v3/{P}/notifications/smn"), String::new())
        .await;
    assert_eq!(
        listed["notifications"],
        json!([]),
        "the dry run stored the rule"
    );
    assert!(local.published_lines().is_empty());
}

#[tokio::test]
async fn it_refuses_a_rule_as_create_does_and_names_a_bad_trace() {
    let local = Local::new();
    for bad in [
        json!({"notification_name": "bad name!", "operation_type": "complete"}),
        json!({"notification_name": "n", "operation_type": "customized", "operations": []}),
        json!({"notification_name": "n", "operation_type": "complete", "topic_id": "urn:smn:r:0ther:t"}),
        json!({"notification_name": "n", "operation_type": "complete",
            "filter": {"is_support_filter": true, "condition": "AND", "rule": ["colour = red"]}}),
    ] {
        let created = local
            .call("POST", &format!("/v3/{P}/notifications"), bad.to_string())
            .await;
        let tried = local
            .call(
                "POST",
                &format!("/v3/{P}/notifications/test"),
                json!({"notification": bad, "traces": []}).to_string(),
            )
            .await;
        assert_eq!(created.0, 400);
        assert_eq!(tried, created, "{bad}");
    }
    let (status, answer) = local
        .call(
            "POST",
            &format!("/v3/{P}/notifications/test"),
            json!({"notification_id": "3f1c2b9e-5a7d-4e8f-9b10-2c3d4e5f6a7b", "traces": []})
                .to_string(),
        )
        .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (404, Some("CTS.0402"))
    );
    let (status, answer) = local
        .call(
            "POST",
            &format!("/v3/{P}/notifications/test"),
            json!({"traces": []}).to_string(),
        )
        .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (400, Some("CTS.0003")),
        "{answer}"
    );
    let rule = json!({"notification_name": "n", "operation_type": "complete"});
    for (what, body) in [
        ("notification", json!({"notification": null, "traces": []})),
        ("notification", json!({"notification": "n", "traces": []})),
        (
            "notification",
            json!({"notification": rule, "notification_id": null, "traces": []}),
        ),
        ("notification", json!({"notification_id": 7, "traces": []})),
    ] {
        let (status, answer) = local
            .call(
                "POST",
                &format!("/v3/{P}/notifications/test"),
                body.to_string(),
            )
            .await;
        assert_eq!(
            (
                status,
                answer["error_msg"].as_str().map(|m| m.starts_with(what))
            ),
            (400, Some(true)),
            "{body}: {answer}"
        );
    }
    for not_an_input in [json!(7), json!("trace"), json!(true)] {
        let (status, answer) = local
            .call(
                "POST",
                &format!("/v3/{P}/notifications/test"),
                json!({"notification": rule, "traces": not_an_input}).to_string(),
            )
            .await;
        assert_eq!(
            (
                status,
                answer["error_msg"]
                    .as_str()
                    .map(|m| m.starts_with("traces"))
            ),
            (400, Some(true)),
            "{answer}"
        );
    }
    let (status, answer) = local
        .call(
            "POST",
            &format!("/v3/{P}/notifications/test"),
            json!({"notification": rule, "traces": [{"trace_name": "x"}, event_trace()]})
                .to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("trace_id"),
        "{answer}"
    );
    assert_eq!(
        answer["results"][1]["decided_by"], "status",
        "a rule without topic is disabled"
    );
}

fn event_trace() -> Value {
    serde_json::from_str(event("cts-traces.jsonl").lines().next().unwrap()).unwrap()
}

#[tokio::test]
async fn with_a_digest_it_shows_the_messages_sent_and_the_digest_of_the_rest() {
    let local = Local::new();
    let traces: Vec<Value> = (0..5)
        .map(|i| {
            json!({"trace_id": format!("t-{i}"), "trace_name": "deleteServer", "service_type": "ECS",
                   "resource_type": "ecs", "project_id": P, "user": {"name": "ops-alice"}})
        })
        .collect();
    let rule = json!({
        "notification_name": "key_ops", "operation_type": "complete",
        "topic_id": format!("urn:smn:eu-west-1:{P}:key_events"),
        "digest": {"window_seconds": 300, "max_messages": 2}
    });
    let (status, answer) = local
        .call(
            "POST",
            &format!("/v3/{P}/notifications/test"),
            json!({"notification": rule, "traces": {"traces": traces}}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().unwrap();
    let sent: Vec<bool> = results
        .iter()
        .map(|r| r["would_publish"].is_object())
        .collect();
    let digested: Vec<bool> = results.iter().map(|r| r["digested"] == true).collect();
    assert_eq!(sent, [true, true, false, false, false]);
    assert_eq!(digested, [false, false, true, true, true]);
    let digest = &answer["would_digest"];
    assert_eq!(
        digest["subject"],
        "[digest] key_ops: 3 more matches in 5 min"
    );
    let body: Value = serde_json::from_str(digest["message"].as_str().unwrap()).unwrap();
    assert_eq!(body["digest"]["trace_ids"], json!(["t-2", "t-3", "t-4"]));
    assert_eq!(
        answer["notification"]["digest"],
        json!({"window_seconds": 300, "max_messages": 2})
    );
    assert!(local.published_lines().is_empty());
}
