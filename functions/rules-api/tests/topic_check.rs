//! On AWS a rule's topic must exist when the rule is created or modified (checked with SNS's
//! `GetTopicAttributes`, here against moto): an unknown topic gets 400 `CTS.0003` naming
//! `topic_id`, and nothing is stored.

use std::sync::Arc;

use aws_adapters::SnsPublisher;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use local_adapters::RedbStore;
use rules_api::{application, AppState, Authentication, CallerPolicy, ConsoleAuth};
use serde_json::{json, Value};
use test_support::Moto;
use tower::ServiceExt;

const P: &str = "24edf66e79d04187acb99a463e610764";

async fn call(app: &Router, method: &str, body: &Value) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(format!("/v3/{P}/notifications"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_on_a_missing_topic_is_refused_at_create_and_modify() {
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    let sns = aws_adapters::sns::Client::new(&aws);
    let dir = tempfile::tempdir().unwrap();
    let app = application(
        AppState::new(
            Arc::new(RedbStore::open(dir.path().join("r.redb")).unwrap()),
            CallerPolicy::TrustPath,
        )
        .with_topics(Arc::new(SnsPublisher::new(
            sns.clone(),
            "arn:aws:sns:eu-west-1:123456789012:",
        ))),
        Authentication::Policy,
        ConsoleAuth::Open,
        Router::new(),
    );
    let rule = |topic: &str| {
        json!({"notification_name": "checked", "operation_type": "complete",
        "topic_id": format!("urn:smn:eu-west-1:{P}:{topic}")})
    };

    let (status, body) = call(&app, "POST", &rule("alerts")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0003")),
        "{body}"
    );
    assert!(
        body["error_msg"].as_str().unwrap().contains("topic_id"),
        "{body}"
    );
    let arn_rule = json!({"notification_name": "by_arn", "operation_type": "complete",
        "topic_id": "arn:aws:sns:eu-west-1:123456789012:nowhere"});
    assert_eq!(call(&app, "POST", &arn_rule).await.0, 400);

    sns.create_topic()
        .name(format!("{P}_alerts"))
        .send()
        .await
        .unwrap();
    let (status, created) = call(&app, "POST", &rule("alerts")).await;
    assert_eq!(status, 201, "{created}");
    let mut modify = rule("elsewhere");
    modify["notification_id"] = created["notification_id"].clone();
    modify["status"] = json!("enabled");
    let (status, body) = call(&app, "PUT", &modify).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0003")),
        "{body}"
    );
    let without_topic = json!({"notification_name": "no_topic", "operation_type": "complete"});
    assert_eq!(
        call(&app, "POST", &without_topic).await.0,
        201,
        "no topic, nothing to check"
    );
}
