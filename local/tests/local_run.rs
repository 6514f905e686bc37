//! The local product end to end: a rule created through the API fires for a trace posted right
//! after, and `published.jsonl` carries the trace unchanged.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::Local;
use serde_json::Value;
use tower::ServiceExt;

#[tokio::test]
async fn a_rule_created_through_the_api_fires_for_the_next_trace() {
    let local = Local::new();
    let rule = samples::CREATE_NOTIFICATION_REQUEST.to_owned();
    let project = "24edf66e79d04187acb99a463e610764";
    let (status, _) = local
        .call("POST", &format!("/v3/{project}/notifications"), rule)
        .await;
    assert_eq!(status, 201);

    let trace = samples::CTS_TRACES.lines().next().unwrap().to_owned();
    let (status, summary) = local.call("POST", "/traces", trace.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (summary["traces"].as_u64(), summary["published"].as_u64()),
        (Some(1), Some(1)),
        "{summary}"
    );

    let published = std::fs::read_to_string(local.config.data_dir.join("published.jsonl")).unwrap();
    let line: Value = serde_json::from_str(published.lines().next().unwrap()).unwrap();
    let message = line["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!("\"trace\":{trace}}}")),
        "the trace is carried unchanged"
    );

    let (_, again) = local.call("POST", "/traces", trace).await;
    assert_eq!(
        (again["published"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    let (_, bad) = local
        .call("POST", "/traces", "{\"trace_name\": ".into())
        .await;
    assert_eq!(bad["failures"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn traces_are_taken_as_json_only_so_that_no_web_page_can_post_them() {
    let local = Local::new();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = Request::builder().method("POST").uri("/traces");
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let resp = local
            .app
            .clone()
            .oneshot(req.body(Body::from("{\"trace_id\":\"t\"}")).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 415, "{content_type:?}");
    }
}

#[tokio::test]
async fn a_600_kb_trace_is_published_once_cut_to_fit() {
    let local = Local::new();
    let project = "24edf66e79d04187acb99a463e610764";
    local
        .create_complete(
            project,
            "all_ops",
            &format!("urn:smn:eu-west-1:{project}:key_events"),
        )
        .await;
    let trace = serde_json::json!({"trace_id": "large-1", "trace_name": "putBucketPolicy", "service_type": "OBS",
        "resource_type": "bucket", "project_id": project, "user": {"name": "ops-alice"},
        "request": "q".repeat(300_000), "response": "s".repeat(300_000)})
    .to_string();
    let (_, summary) = local.call("POST", "/traces", trace.clone()).await;
    assert_eq!(summary["published"], 1, "{summary}");
    let (_, again) = local.call("POST", "/traces", trace).await;
    assert_eq!(
        (again["published"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1))
    );

    let published = local.published_lines();
    assert_eq!(published.len(), 1);
    let message = published[0]["message"].as_str().unwrap();
    assert!(message.len() <= SNS_LIMIT, "{}", message.len());
    let body: Value = serde_json::from_str(message).unwrap();
    assert_eq!(
        body["truncated"],
        serde_json::json!(["request", "response"])
    );
    assert_eq!(body["trace"]["trace_id"], "large-1");
}

/// SNS's limit on a message, which the local topic keeps too.
const SNS_LIMIT: usize = 256 * 1024;

#[tokio::test]
async fn function_targets_get_the_trace_under_cts_once_and_email_readers_a_text() {
    let local = Local::new();
    let project = "24edf66e79d04187acb99a463e610764";
    let functions = [
        format!("urn:fss:eu-west-1:{project}:function:default:revoke_sg:latest"),
        "arn:aws:lambda:eu-west-1:123456789012:function:lock-user".to_owned(),
    ];
    for (i, function) in functions.iter().enumerate() {
        let rule = serde_json::json!({
            "notification_name": format!("remediate_{i}"), "operation_type": "complete",
            "topic_id": function,
        });
        local.create(project, &rule).await;
    }
    let topic_rule = samples::CREATE_NOTIFICATION_REQUEST.to_owned();
    local
        .call("POST", &format!("/v3/{project}/notifications"), topic_rule)
        .await;
    let (_, listed) = local
        .call(
            "GET",
            &format!("/v3/{project}/notifications/fun"),
            String::new(),
        )
        .await;
    let listed = listed["notifications"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "the two function rules, not the topic's");
    assert!(listed.iter().all(|n| n["notification_type"] == "fun"));

    let trace = samples::CTS_TRACES.lines().next().unwrap().to_owned();
    for _ in 0..2 {
        let (status, summary) = local.call("POST", "/traces", trace.clone()).await;
        assert_eq!(status, 200, "{summary}");
    }
    let invocations =
        std::fs::read_to_string(local.config.data_dir.join("invocations.jsonl")).unwrap();
    // The complete rules also invoked their functions for the rules' own creation.
    let lines: Vec<&str> = invocations
        .lines()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            !common::is_rule_change(&v["payload"]["cts"])
        })
        .collect();
    assert_eq!(lines.len(), 2, "each function once, the repeat not at all");
    let mut invoked = Vec::new();
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap();
        invoked.push(v["function"].as_str().unwrap().to_owned());
        assert_eq!(v.as_object().unwrap().len(), 2);
        assert_eq!(
            v["payload"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["cts"]
        );
        assert!(
            line.ends_with(&format!(",\"payload\":{{\"cts\":{trace}}}}}")),
            "the trace byte for byte: {line}"
        );
    }
    invoked.sort();
    let mut expected = functions.to_vec();
    expected.sort();
    assert_eq!(invoked, expected);

    let published = local.published_lines();
    let email = published[0]["email"].as_str().unwrap();
    assert!(
        email.contains("What:     ECS deleteServer (ConsoleAction)\n"),
        "{email}"
    );
}

/// A trace that could not be delivered is answered 503 (send it again; only what is missing
/// is published then); one refused for its own content is not a reason to send it again.
#[tokio::test]
async fn a_failed_delivery_is_503_and_a_bad_trace_is_not() {
    let local = Local::new();
    let project = "24edf66e79d04187acb99a463e610764";
    local
        .create_complete(
            project,
            "remediate",
            &format!("urn:fss:eu-west-1:{project}:function:default:lock_user"),
        )
        .await;
    // The functions' file cannot be written: a directory stands in its place (of the file the
    // rule's own creation was written to).
    let invocations = local.config.data_dir.join("invocations.jsonl");
    let _ = std::fs::remove_file(&invocations);
    std::fs::create_dir(&invocations).unwrap();
    let trace =
        serde_json::json!({"trace_id": "t1", "trace_name": "deleteUser", "service_type": "IAM",
        "resource_type": "user", "project_id": project})
        .to_string();
    let (status, summary) = local.call("POST", "/traces", trace.clone()).await;
    assert_eq!(status, 503, "{summary}");
    assert_eq!(summary["published"], 0);
    assert_eq!(summary["failures"].as_array().unwrap().len(), 1);
    let (status, bad) = local
        .call("POST", "/traces", r#"{"trace_id": 1}"#.into())
        .await;
    assert_eq!(status, 200, "{bad}");
    assert_eq!(bad["failures"].as_array().unwrap().len(), 1);
    // In a trace file, a record that is no trace is left out, not retried.
    let (status, bad) = local.call("POST", "/traces", "[1]".into()).await;
    assert_eq!(
        (status, bad["records_refused"].as_u64()),
        (200, Some(1)),
        "{bad}"
    );
    std::fs::remove_dir(&invocations).unwrap();
    let (status, summary) = local.call("POST", "/traces", trace).await;
    assert_eq!(
        (status, summary["published"].as_u64()),
        (200, Some(1)),
        "{summary}"
    );
}
