//! The API Gateway request samples in `events/api/` (the same files `cargo lambda invoke
//! --data-file` and `sam local invoke -e` take) through the router as Lambda runs it: the
//! caller's project from the JWT claim, the request from the HTTP API payload.

use std::sync::Arc;

use axum::body::Body;
use ports::RedbStore;
use rules_api::lambda::with_gateway_context;
use rules_api::{router, AppState, CallerPolicy};
use serde_json::Value;
use tower::ServiceExt;

fn event(name: &str) -> String {
    std::fs::read_to_string(format!("../../events/api/{name}.json")).unwrap()
}

async fn send(app: &axum::Router, event: &str) -> (u16, Value) {
    let req = lambda_http::request::from_str(event).expect("an API Gateway event");
    let (parts, body) = req.into_parts();
    let req = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()["x-request-id"],
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "API Gateway's request id"
    );
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn every_sample_request_is_served_with_the_project_of_its_claim() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStore::open(dir.path().join("r.redb")).unwrap());
    let app = with_gateway_context(
        router(AppState {
            store,
            policy: Arc::new(CallerPolicy::RequestContext),
        }),
        "project_id".into(),
    );
    let (status, created) = send(&app, &event("create")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["notification_id"].as_str().unwrap().to_owned();

    let (status, listed) = send(&app, &event("list")).await;
    assert_eq!(
        (
            status,
            listed["notifications"][0]["notification_id"].as_str()
        ),
        (200, Some(id.as_str()))
    );
    assert_eq!(
        send(&app, &event("quotas")).await.1["resources"][0]["used"],
        1
    );
    assert_eq!(
        send(&app, &event("operations")).await.1["operations"][0]["service_type"],
        "ECS"
    );

    let sample_id = "3f1c2b9e-5a7d-4e8f-9b10-2c3d4e5f6a7b";
    assert_eq!(
        send(&app, &event("modify")).await.0,
        404,
        "the sample id does not exist here"
    );
    let (status, modified) = send(&app, &event("modify").replace(sample_id, &id)).await;
    assert_eq!(
        (status, modified["status"].as_str()),
        (200, Some("disabled"))
    );
    assert_eq!(
        send(&app, &event("delete").replace(sample_id, &id)).await.0,
        204
    );

    let mut other: Value = serde_json::from_str(&event("create")).unwrap();
    other["requestContext"]["authorizer"]["jwt"]["claims"]["project_id"] = "another-project".into();
    assert_eq!(
        send(&app, &other.to_string()).await.1["error_code"],
        "CTS.0013"
    );
}
