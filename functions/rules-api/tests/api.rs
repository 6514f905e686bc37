//! Every call and every error of contract part 1, through the router, on the embedded store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use local_adapters::RedbStore;
use rules_api::{application, AppState, Authentication, CallerPolicy, CallerProject, ConsoleAuth};
use serde_json::{json, Value};
use tower::ServiceExt;

const P: &str = "24edf66e79d04187acb99a463e610764";

struct Api {
    app: Router,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    body: Value,
    request_id: Option<String>,
}

impl Api {
    fn new(policy: CallerPolicy) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path().join("rules.redb")).unwrap();
        let app = application(
            AppState::new(Arc::new(store), policy),
            Authentication::Policy,
            ConsoleAuth::Open,
            Router::new(),
        );
        Api { app, _dir: dir }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let request_id = resp
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status,
            body,
            request_id,
        }
    }

    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> Reply {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json;charset=UTF-8");
        self.send(
            req.body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
                .unwrap(),
        )
        .await
    }

    async fn create(&self, body: Value) -> Reply {
        self.call("POST", &format!("/v3/{P}/notifications"), Some(body))
            .await
    }

    async fn names(&self, kind: &str) -> Vec<String> {
        let r = self
            .call("GET", &format!("/v3/{P}/notifications/{kind}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        r.body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["notification_name"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn rule(name: &str) -> Value {
    json!({
        "notification_name": name,
        "operation_type": "customized",
        "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
        "topic_id": "urn:smn:eu-west-1:24edf66e79d04187acb99a463e610764:key_events"
    })
}

fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["error_code"], code, "{}", r.body);
    assert!(r.body["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(r.request_id.is_some(), "errors carry X-Request-Id too");
}

#[tokio::test]
async fn create_returns_201_with_the_notification_as_cts_shows_it() {
    let api = Api::new(CallerPolicy::TrustPath);
    let body: Value = serde_json::from_str(samples::CREATE_NOTIFICATION_REQUEST).unwrap();
    let r = api.create(body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.request_id.is_some());
    let n = &r.body;
    assert_eq!(n["notification_name"], "prod_key_ops");
    assert_eq!(n["status"], "enabled");
    assert_eq!(n["notification_type"], "smn");
    assert_eq!(n["project_id"], P);
    assert!(n["create_time"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(n["notification_id"].as_str().unwrap().len(), 36);
    assert_eq!(n["filter"]["condition"], "OR");
}

#[tokio::test]
async fn list_view_by_type_and_exact_name() {
    let api = Api::new(CallerPolicy::TrustPath);
    api.create(rule("alpha")).await;
    api.create(rule("beta")).await;
    let mut fun = rule("gamma");
    fun["topic_id"] = json!("arn:aws:lambda:eu-west-1:123456789012:function:audit");
    let created = api.create(fun).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["notification_type"], "fun");
    let mut urn = rule("delta");
    urn["topic_id"] = json!(format!(
        "urn:fss:eu-west-1:{P}:function:default:audit:latest"
    ));
    assert_eq!(api.create(urn).await.body["notification_type"], "fun");
    let mut elsewhere = rule("epsilon");
    elsewhere["topic_id"] = json!("urn:fss:eu-west-1:0ther:function:default:audit");
    assert_error(&api.create(elsewhere).await, 400, "CTS.0003");
    assert_eq!(api.names("smn").await, ["alpha", "beta"]);
    let mut functions = api.names("fun").await;
    functions.sort();
    assert_eq!(functions, ["delta", "gamma"]);
    let one = api
        .call(
            "GET",
            &format!("/v3/{P}/notifications/smn?notification_name=beta"),
            None,
        )
        .await;
    assert_eq!(one.body["notifications"].as_array().unwrap().len(), 1);
    let none = api
        .call(
            "GET",
            &format!("/v3/{P}/notifications/smn?notification_name=bet"),
            None,
        )
        .await;
    assert_eq!(none.body["notifications"], json!([]));
    assert_error(
        &api.call("GET", &format!("/v3/{P}/notifications/email"), None)
            .await,
        400,
        "CTS.0003",
    );
}

#[tokio::test]
async fn modify_disables_enables_and_renames() {
    let api = Api::new(CallerPolicy::TrustPath);
    let created = api.create(rule("alpha")).await.body;
    let mut update = rule("alpha_renamed");
    update["notification_id"] = created["notification_id"].clone();
    update["status"] = json!("disabled");
    let r = api
        .call(
            "PUT",
            &format!("/v3/{P}/notifications"),
            Some(update.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["notification_name"].as_str()
        ),
        (Some("disabled"), Some("alpha_renamed"))
    );
    assert_eq!(r.body["create_time"], created["create_time"]);
    update["status"] = json!("enabled");
    assert_eq!(
        api.call(
            "PUT",
            &format!("/v3/{P}/notifications"),
            Some(update.clone())
        )
        .await
        .body["status"],
        "enabled"
    );
    update["status"] = json!("paused");
    assert_error(
        &api.call(
            "PUT",
            &format!("/v3/{P}/notifications"),
            Some(update.clone()),
        )
        .await,
        400,
        "CTS.0205",
    );
    update["status"] = json!("enabled");
    update["notification_id"] = json!("no-such-id");
    assert_error(
        &api.call("PUT", &format!("/v3/{P}/notifications"), Some(update))
            .await,
        404,
        "CTS.0402",
    );
}

#[tokio::test]
async fn names_are_unique_in_a_project() {
    let api = Api::new(CallerPolicy::TrustPath);
    api.create(rule("alpha")).await;
    let beta = api.create(rule("beta")).await.body;
    assert_error(&api.create(rule("alpha")).await, 400, "CTS.0400");
    let mut rename = rule("alpha");
    rename["notification_id"] = beta["notification_id"].clone();
    rename["status"] = json!("enabled");
    assert_error(
        &api.call("PUT", &format!("/v3/{P}/notifications"), Some(rename))
            .await,
        400,
        "CTS.0400",
    );
    assert_eq!(api.names("smn").await, ["alpha", "beta"]);
}

#[tokio::test]
async fn the_101st_rule_is_refused_and_quotas_count_them() {
    let api = Api::new(CallerPolicy::TrustPath);
    for i in 0..100 {
        assert_eq!(
            api.create(rule(&format!("r{i}"))).await.status,
            StatusCode::CREATED
        );
    }
    assert_error(&api.create(rule("r100")).await, 400, "CTS.0401");
    let q = api.call("GET", &format!("/v3/{P}/quotas"), None).await;
    assert_eq!(
        q.body,
        json!({"resources": [{"type": "smn_notification", "used": 100, "quota": 100}]})
    );
}

#[tokio::test]
async fn delete_takes_comma_lists_and_repeated_parameters_all_or_nothing() {
    let api = Api::new(CallerPolicy::TrustPath);
    let ids: Vec<String> = create_rules(&api, 4).await;
    let gone = api
        .call(
            "DELETE",
            &format!("/v3/{P}/notifications?notification_id={},missing", ids[0]),
            None,
        )
        .await;
    assert_error(&gone, 404, "CTS.0402");
    assert_eq!(api.names("smn").await.len(), 4, "nothing deleted");
    let r = api
        .call(
            "DELETE",
            &format!(
                "/v3/{P}/notifications?notification_id={}%2C{}",
                ids[0], ids[1]
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    let r = api
        .call(
            "DELETE",
            &format!(
                "/v3/{P}/notifications?notification_id={}&notification_id={}",
                ids[2], ids[3]
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(api.names("smn").await.is_empty());
    assert_error(
        &api.call("DELETE", &format!("/v3/{P}/notifications"), None)
            .await,
        400,
        "CTS.0003",
    );
}

async fn create_rules(api: &Api, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            api.create(rule(&format!("d{i}"))).await.body["notification_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

#[tokio::test]
async fn the_operations_catalog_narrows_and_has_a_typical_preset() {
    let api = Api::new(CallerPolicy::TrustPath);
    let all = api
        .call("GET", &format!("/v3/{P}/operations"), None)
        .await
        .body;
    let ecs = api
        .call(
            "GET",
            &format!("/v3/{P}/operations?service_type=ECS&resource_type=ecs"),
            None,
        )
        .await
        .body;
    assert!(
        all["operations"].as_array().unwrap().len() > ecs["operations"].as_array().unwrap().len()
    );
    assert_eq!(ecs["operations"][0]["service_type"], "ECS");
    let typical = api
        .call(
            "GET",
            &format!("/v3/{P}/operations?service_type=ECS&typical=true"),
            None,
        )
        .await
        .body;
    assert!(
        typical["operations"][0]["operation_list"]
            .as_array()
            .unwrap()
            .len()
            < ecs["operations"][0]["operation_list"]
                .as_array()
                .unwrap()
                .len()
    );
    assert_error(
        &api.call(
            "GET",
            &format!("/v3/{P}/operations?resource_type=ecs"),
            None,
        )
        .await,
        400,
        "CTS.0003",
    );
}

#[tokio::test]
async fn broken_bodies_are_400_and_store_nothing() {
    let api = Api::new(CallerPolicy::TrustPath);
    for body in ["", "{", "null", "[]", "{\"notification_name\": 5}", "\u{0}"] {
        let req = Request::post(format!("/v3/{P}/notifications"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        assert_error(&api.send(req).await, 400, "CTS.0003");
    }
    let form = Request::post(format!("/v3/{P}/notifications"))
        .header("content-type", "text/plain")
        .body(Body::from(rule("x").to_string()))
        .unwrap();
    assert_error(&api.send(form).await, 400, "CTS.0003");
    let mut complete_with_ops = rule("x");
    complete_with_ops["operation_type"] = json!("complete");
    assert_error(&api.create(complete_with_ops).await, 400, "CTS.0003");
    assert!(api.names("smn").await.is_empty());
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let api = Api::new(CallerPolicy::TrustPath);
    let big = format!("{{\"notification_name\":\"{}\"}}", "x".repeat(1 << 20));
    let req = Request::post(format!("/v3/{P}/notifications"))
        .header("content-type", "application/json")
        .body(Body::from(big.clone()))
        .unwrap();
    assert_error(&api.send(req).await, 413, "CTS.0413");
    let streamed = Request::post(format!("/v3/{P}/notifications"))
        .body(Body::from_stream(futures_stream(big)))
        .unwrap();
    assert_error(&api.send(streamed).await, 413, "CTS.0413");
}

fn futures_stream(
    s: String,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = s
        .into_bytes()
        .chunks(65536)
        .map(|c| Ok(c.to_vec()))
        .collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let api = Api::new(CallerPolicy::TrustPath);
    assert_error(
        &api.call("GET", "/v2/notifications", None).await,
        404,
        "CTS.0404",
    );
    assert_error(
        &api.call("PATCH", &format!("/v3/{P}/notifications"), None)
            .await,
        405,
        "CTS.0405",
    );
    assert_eq!(api.call("GET", "/health", None).await.body["status"], "ok");
}

#[tokio::test]
async fn a_caller_of_another_project_is_refused_403() {
    let api = Api::new(CallerPolicy::Header("x-project-id".into()));
    let req = |project: &str| {
        Request::post(format!("/v3/{P}/notifications"))
            .header("content-type", "application/json")
            .header("x-project-id", project)
            .body(Body::from(rule("a").to_string()))
            .unwrap()
    };
    assert_error(&api.send(req("other-project")).await, 403, "CTS.0013");
    assert_eq!(api.send(req(P)).await.status, StatusCode::CREATED);

    let gateway = Api::new(CallerPolicy::RequestContext);
    assert_error(
        &gateway.call("GET", &format!("/v3/{P}/quotas"), None).await,
        403,
        "CTS.0013",
    );
    let mut ok = Request::get(format!("/v3/{P}/quotas"))
        .body(Body::empty())
        .unwrap();
    ok.extensions_mut().insert(CallerProject(P.into()));
    assert_eq!(gateway.send(ok).await.status, StatusCode::OK);
    let mut other = Request::get(format!("/v3/{P}/notifications/smn"))
        .body(Body::empty())
        .unwrap();
    other
        .extensions_mut()
        .insert(CallerProject("b-project".into()));
    assert_error(&gateway.send(other).await, 403, "CTS.0013");
}

#[tokio::test]
async fn a_request_id_sent_by_the_caller_is_echoed() {
    let api = Api::new(CallerPolicy::TrustPath);
    let req = Request::get("/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.send(req).await.request_id.as_deref(), Some("abc-123"));
}

/// A store whose every call fails, as a DynamoDB outage would.
struct Unavailable;

#[async_trait::async_trait]
impl ports::NotificationStore for Unavailable {
    async fn create(&self, _: &rules::Notification) -> Result<(), ports::StoreError> {
        Err(ports::StoreError::Write(
            "ProvisionedThroughputExceeded on table rules (internal detail)".into(),
        ))
    }
    async fn update(&self, _: &rules::Notification) -> Result<(), ports::StoreError> {
        Err(ports::StoreError::Write("internal detail".into()))
    }
    async fn delete(&self, _: &str, _: &[String]) -> Result<(), ports::StoreError> {
        Err(ports::StoreError::Write("internal detail".into()))
    }
    async fn get(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<rules::Notification>, ports::StoreError> {
        Err(ports::StoreError::Read("internal detail".into()))
    }
    async fn list(&self, _: &str) -> Result<Vec<rules::Notification>, ports::StoreError> {
        Err(ports::StoreError::Read(
            "connection reset by 10.0.0.7 (internal detail)".into(),
        ))
    }
}

#[async_trait::async_trait]
impl ports::ActivityLog for Unavailable {
    async fn record(&self, _: &[ports::ActivityDelta]) -> Result<(), ports::StoreError> {
        Err(ports::StoreError::Write("internal detail".into()))
    }
    async fn activity(
        &self,
        _: &str,
        _: &str,
        _: i64,
    ) -> Result<ports::Activity, ports::StoreError> {
        Err(ports::StoreError::Read("internal detail".into()))
    }
}

#[tokio::test]
async fn storage_failures_are_500_without_internals() {
    let app = application(
        AppState::new(Arc::new(Unavailable), CallerPolicy::TrustPath),
        Authentication::Policy,
        ConsoleAuth::Open,
        Router::new(),
    );
    let api = Api {
        app,
        _dir: tempfile::tempdir().unwrap(),
    };
    let write = api.create(rule("a")).await;
    assert_error(&write, 500, "CTS.0004");
    let read = api
        .call("GET", &format!("/v3/{P}/notifications/smn"), None)
        .await;
    assert_error(&read, 500, "CTS.0005");
    for r in [&write, &read] {
        assert!(
            !r.body["error_msg"]
                .as_str()
                .unwrap()
                .contains("internal detail"),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn a_caller_of_another_project_cannot_read_change_or_delete_its_rules() {
    let gateway = Api::new(CallerPolicy::RequestContext);
    let as_caller = |project: &str, method: &str, uri: String, body: Option<Value>| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
            .unwrap();
        req.extensions_mut().insert(CallerProject(project.into()));
        req
    };
    let created = gateway
        .send(as_caller(
            P,
            "POST",
            format!("/v3/{P}/notifications"),
            Some(rule("owned")),
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["notification_id"].as_str().unwrap().to_owned();
    let mut change = rule("stolen");
    change["notification_id"] = json!(id);
    change["status"] = json!("disabled");
    for (method, uri, body) in [
        (
            "GET",
            format!("/v3/{P}/notifications/smn?notification_name=owned"),
            None,
        ),
        ("PUT", format!("/v3/{P}/notifications"), Some(change)),
        (
            "DELETE",
            format!("/v3/{P}/notifications?notification_id={id}"),
            None,
        ),
        ("GET", format!("/v3/{P}/quotas"), None),
    ] {
        assert_error(
            &gateway
                .send(as_caller("b-project", method, uri, body))
                .await,
            403,
            "CTS.0013",
        );
    }
    let still = gateway
        .send(as_caller(
            P,
            "GET",
            format!("/v3/{P}/notifications/smn"),
            None,
        ))
        .await;
    assert_eq!(
        still.body["notifications"][0], created.body,
        "unchanged by the other project's caller"
    );
}

#[tokio::test]
async fn a_digest_is_kept_shown_and_each_bad_value_refused_naming_its_field() {
    let api = Api::new(CallerPolicy::TrustPath);
    let mut body = rule("limited");
    body["digest"] = json!({"window_seconds": 300, "max_messages": 3});
    let created = api.create(body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["digest"], body["digest"]);
    let plain = api.create(rule("unlimited")).await.body;
    assert!(
        plain.get("digest").is_none(),
        "absent when not set: {plain}"
    );

    let mut update = body.clone();
    update["notification_id"] = created.body["notification_id"].clone();
    update["status"] = json!("enabled");
    update["digest"] = Value::Null;
    let updated = api
        .call("PUT", &format!("/v3/{P}/notifications"), Some(update))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert!(
        updated.body.get("digest").is_none(),
        "a modify without it removes it"
    );

    for (digest, field) in [
        (
            json!({"window_seconds": 30, "max_messages": 3}),
            "digest.window_seconds",
        ),
        (
            json!({"window_seconds": 300, "max_messages": 5000}),
            "digest.max_messages",
        ),
        (json!({"window_seconds": 300}), "digest.max_messages"),
        (json!("5 a minute"), "digest"),
    ] {
        let mut bad = rule("bad_digest");
        bad["digest"] = digest;
        let r = api.create(bad).await;
        assert_error(&r, 400, "CTS.0003");
        assert!(
            r.body["error_msg"].as_str().unwrap().contains(field),
            "{}",
            r.body
        );
    }
}
