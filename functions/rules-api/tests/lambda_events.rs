//! The API Gateway request samples in `events/api/` (the same files `cargo lambda invoke
//! --data-file` and `sam local invoke -e` take) through the router as Lambda runs it: the
//! caller's project from the JWT claim or the AK/SK signature, the request from the HTTP API
//! payload.

use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use local_adapters::RedbStore;
use ports::{AccessKey, AccessKeyFile};
use rules_api::lambda::with_gateway_context;
use rules_api::{application, AppState, Authentication, CallerPolicy, ConsoleAuth};
use serde_json::Value;
use tower::ServiceExt;

fn event(name: &str) -> String {
    samples::sample(&format!("api/{name}.json")).to_owned()
}

async fn send(app: &Router, event: &str) -> (u16, Value) {
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
        application(
            AppState::new(store, CallerPolicy::RequestContext),
            Authentication::Policy,
            ConsoleAuth::Open,
            Router::new(),
        ),
        Some("project_id".into()),
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

/// `event` with its authorizer removed and signed with `ak`/`sk` as a Huawei SDK signs the
/// request it describes.
fn signed(event: &str, ak: &str, sk: &str) -> String {
    let mut e: Value = serde_json::from_str(event).unwrap();
    e["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let headers = e["headers"].as_object_mut().unwrap();
    headers.remove("authorization");
    headers.insert(
        "x-sdk-date".into(),
        aksk::format_sdk_date(ports::now_ms() / 1000).into(),
    );
    let query = e["rawQueryString"].as_str().unwrap_or_default();
    let uri = format!("{}?{query}", e["rawPath"].as_str().unwrap());
    let mut req = axum::http::Request::builder()
        .method(e["requestContext"]["http"]["method"].as_str().unwrap())
        .uri(uri);
    for (k, v) in e["headers"].as_object().unwrap() {
        req = req.header(k, v.as_str().unwrap());
    }
    let (parts, ()) = req.body(()).unwrap().into_parts();
    let body = e["body"].as_str().unwrap_or_default().to_owned();
    let auth = aksk::sign(&parts, body.as_bytes(), ak, sk);
    e["headers"]["authorization"] = auth.into();
    e.to_string()
}

#[tokio::test]
async fn in_aksk_mode_signed_events_are_served_and_jwt_claims_count_for_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStore::open(dir.path().join("r.redb")).unwrap());
    let project = "24edf66e79d04187acb99a463e610764";
    let keys = AccessKeyFile::new(vec![AccessKey {
        access_key: "HPUALAMBDAKEY0000001".into(),
        secret_key: "lambda-secret".into(),
        project_id: project.into(),
    }])
    .unwrap();
    let state = AppState::new(store, CallerPolicy::RequestContext);
    let app = with_gateway_context(
        application(
            state,
            Authentication::Signatures(Arc::new(keys)),
            ConsoleAuth::AkSk,
            Router::new(),
        ),
        None,
    );
    let (status, body) = send(&app, &event("create")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("APIGW.0301")),
        "a JWT is no signature"
    );
    assert_eq!(body["request_id"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    let (status, created) = send(
        &app,
        &signed(&event("create"), "HPUALAMBDAKEY0000001", "lambda-secret"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, listed) = send(
        &app,
        &signed(&event("list"), "HPUALAMBDAKEY0000001", "lambda-secret"),
    )
    .await;
    assert_eq!(
        (status, listed["notifications"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{listed}"
    );
    let (status, _) = send(
        &app,
        &signed(&event("list"), "HPUALAMBDAKEY0000001", "wrong"),
    )
    .await;
    assert_eq!(status, 401);
}
