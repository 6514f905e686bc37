//! A catalogue of malformed requests: each gets the contract's status and `error_code`, and the
//! store file is byte-for-byte unchanged afterwards.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use local_adapters::RedbStore;
use rules_api::{application, AppState, Authentication, CallerPolicy, ConsoleAuth};
use serde_json::{json, Value};
use tower::ServiceExt;

const P: &str = "24edf66e79d04187acb99a463e610764";

fn good() -> Value {
    json!({
        "notification_name": "fresh_name",
        "operation_type": "customized",
        "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
        "topic_id": format!("urn:smn:eu-west-1:{P}:key_events")
    })
}

fn with(key: &str, value: Value) -> Vec<u8> {
    let mut b = good();
    b[key] = value;
    b.to_string().into_bytes()
}

fn without(key: &str) -> Vec<u8> {
    let mut b = good();
    b.as_object_mut().unwrap().remove(key);
    b.to_string().into_bytes()
}

fn op(v: Value) -> Vec<u8> {
    with("operations", json!([v]))
}

fn filter(rule: Value) -> Vec<u8> {
    with(
        "filter",
        json!({"is_support_filter": true, "condition": "AND", "rule": rule}),
    )
}

struct Case {
    name: &'static str,
    method: &'static str,
    uri: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn post(name: &'static str, body: Vec<u8>, status: u16, code: &'static str) -> Case {
    Case {
        name,
        method: "POST",
        uri: format!("/v3/{P}/notifications"),
        content_type: Some("application/json"),
        body,
        status,
        code,
    }
}

fn put(name: &'static str, body: Value, status: u16, code: &'static str) -> Case {
    Case {
        name,
        method: "PUT",
        uri: format!("/v3/{P}/notifications"),
        content_type: Some("application/json"),
        body: body.to_string().into_bytes(),
        status,
        code,
    }
}

fn bare(
    name: &'static str,
    method: &'static str,
    uri: String,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method,
        uri,
        content_type: None,
        body: Vec::new(),
        status,
        code,
    }
}

fn catalogue(existing_id: &str, other_name: &str) -> Vec<Case> {
    let long = |n: usize| "a".repeat(n);
    let update = |patch: Value| {
        let mut b = good();
        b["notification_id"] = json!(existing_id);
        b["status"] = json!("enabled");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut deep_body = format!(
        "{{\"notification_name\":\"x\",\"operation_type\":\"customized\",\"operations\":{deep}}}"
    )
    .into_bytes();
    let cases = vec![
        post("empty body", b"".to_vec(), 400, "CTS.0003"),
        post("whitespace body", b"  \n ".to_vec(), 400, "CTS.0003"),
        post("truncated JSON", b"{\"notification_name\":".to_vec(), 400, "CTS.0003"),
        post("JSON array", b"[]".to_vec(), 400, "CTS.0003"),
        post("JSON string", b"\"hello\"".to_vec(), 400, "CTS.0003"),
        post("JSON null", b"null".to_vec(), 400, "CTS.0003"),
        post("JSON number", b"42".to_vec(), 400, "CTS.0003"),
        post("trailing garbage", [good().to_string().as_bytes(), b"}"].concat(), 400, "CTS.0003"),
        post("non-UTF-8 bytes", [b"{\"notification_name\":\"".as_slice(), &[0xff, 0xfe], b"\"}"].concat(), 400, "CTS.0003"),
        post("NUL in JSON", b"{\"notification_name\":\"a\0\"}".to_vec(), 400, "CTS.0003"),
        post("single quotes", b"{'notification_name':'a'}".to_vec(), 400, "CTS.0003"),
        post("deep nesting", std::mem::take(&mut deep_body), 400, "CTS.0003"),
        post("name missing", without("notification_name"), 400, "CTS.0003"),
        post("name null", with("notification_name", Value::Null), 400, "CTS.0003"),
        post("name number", with("notification_name", json!(7)), 400, "CTS.0003"),
        post("name array", with("notification_name", json!(["a"])), 400, "CTS.0003"),
        post("name empty", with("notification_name", json!("")), 400, "CTS.0003"),
        post("name 65 chars", with("notification_name", json!(long(65))), 400, "CTS.0003"),
        post("name 10k chars", with("notification_name", json!(long(10_000))), 400, "CTS.0003"),
        post("name with space", with("notification_name", json!("a b")), 400, "CTS.0003"),
        post("name with hyphen", with("notification_name", json!("a-b")), 400, "CTS.0003"),
        post("name with newline", with("notification_name", json!("a\nb")), 400, "CTS.0003"),
        post("name with zero-width space", with("notification_name", json!("a\u{200B}b")), 400, "CTS.0003"),
        post("name with BOM", with("notification_name", json!("\u{FEFF}ab")), 400, "CTS.0003"),
        post("name non-ASCII", with("notification_name", json!("règle")), 400, "CTS.0003"),
        post("name taken", with("notification_name", json!(other_name)), 400, "CTS.0400"),
        post("duplicate key, last invalid", br#"{"notification_name":"ok_name","notification_name":"bad name","operation_type":"complete"}"#.to_vec(), 400, "CTS.0003"),
        post("operation_type missing", without("operation_type"), 400, "CTS.0003"),
        post("operation_type unknown", with("operation_type", json!("all")), 400, "CTS.0003"),
        post("operation_type wrong case", with("operation_type", json!("Customized")), 400, "CTS.0003"),
        post("operation_type bool", with("operation_type", json!(true)), 400, "CTS.0003"),
        post("operations object", with("operations", json!({"service_type": "ECS"})), 400, "CTS.0003"),
        post("operations empty for customized", with("operations", json!([])), 400, "CTS.0003"),
        post("operations given for complete", with("operation_type", json!("complete")), 400, "CTS.0003"),
        post("operation without service", op(json!({"resource_type": "ecs", "trace_names": ["a"]})), 400, "CTS.0003"),
        post("operation service null", op(json!({"service_type": null, "resource_type": "ecs", "trace_names": ["a"]})), 400, "CTS.0003"),
        post("operation service empty", op(json!({"service_type": "", "resource_type": "ecs", "trace_names": ["a"]})), 400, "CTS.0003"),
        post("operation resource number", op(json!({"service_type": "ECS", "resource_type": 1, "trace_names": ["a"]})), 400, "CTS.0003"),
        post("trace_names string", op(json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": "deleteServer"})), 400, "CTS.0003"),
        post("trace_names empty", op(json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": []})), 400, "CTS.0003"),
        post("trace name starts with digit", op(json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": ["1delete"]})), 400, "CTS.0003"),
        post("trace name with space", op(json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": ["delete server"]})), 400, "CTS.0003"),
        post("trace name null", op(json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": [null]})), 400, "CTS.0003"),
        post("users object", with("notify_user_list", json!({"user_group": "g"})), 400, "CTS.0003"),
        post("user group missing", with("notify_user_list", json!([{"user_list": ["a"]}])), 400, "CTS.0003"),
        post("user list empty", with("notify_user_list", json!([{"user_group": "g", "user_list": []}])), 400, "CTS.0003"),
        post("user name control char", with("notify_user_list", json!([{"user_group": "g", "user_list": ["a\u{7}"]}])), 400, "CTS.0003"),
        post("user name 65 chars", with("notify_user_list", json!([{"user_group": "g", "user_list": [long(65)]}])), 400, "CTS.0003"),
        post("eleven user groups", with("notify_user_list", Value::Array((0..11).map(|i| json!({"user_group": format!("g{i}"), "user_list": ["u"]})).collect())), 400, "CTS.0003"),
        post("fifty-one users", with("notify_user_list", json!([{"user_group": "g", "user_list": (0..51).map(|i| format!("u{i}")).collect::<Vec<_>>()}])), 400, "CTS.0003"),
        post("topic number", with("topic_id", json!(5)), 400, "CTS.0003"),
        post("topic free text", with("topic_id", json!("my topic")), 400, "CTS.0003"),
        post("topic ARN bad account", with("topic_id", json!("arn:aws:sns:eu-west-1:123:t")), 400, "CTS.0003"),
        post("function URN of another project", with("topic_id", json!("urn:fss:eu-west-1:0ther:function:default:f")), 400, "CTS.0003"),
        post("function URN without a function", with("topic_id", json!(format!("urn:fss:eu-west-1:{P}:function:default"))), 400, "CTS.0003"),
        post("filter string", with("filter", json!("code = 200")), 400, "CTS.0003"),
        post("filter without switch", with("filter", json!({"condition": "AND", "rule": ["code = 200"]})), 400, "CTS.0003"),
        post("filter condition XOR", with("filter", json!({"is_support_filter": true, "condition": "XOR", "rule": ["code = 200"]})), 400, "CTS.0003"),
        post("filter no rules", filter(json!([])), 400, "CTS.0003"),
        post("filter seven rules", filter(json!(["code = 1", "code = 2", "code = 3", "code = 4", "code = 5", "code = 6", "code = 7"])), 400, "CTS.0003"),
        post("filter unknown field", filter(json!(["user = alice"])), 400, "CTS.0003"),
        post("filter bad operator", filter(json!(["code >= 400"])), 400, "CTS.0003"),
        post("filter no value", filter(json!(["code ="])), 400, "CTS.0003"),
        post("filter bad rating", filter(json!(["trace_rating = critical"])), 400, "CTS.0003"),
        post("filter rule number", filter(json!([200])), 400, "CTS.0003"),
        post("agency 65 chars", with("agency_name", json!(long(65))), 400, "CTS.0003"),
        post("body over 1 MiB", [b"{\"notification_name\":\"".as_slice(), "a".repeat(1 << 20).as_bytes(), b"\"}"].concat(), 413, "CTS.0413"),
        Case { content_type: Some("text/plain"), ..post("text/plain body", good().to_string().into_bytes(), 400, "CTS.0003") },
        Case { content_type: Some("application/x-www-form-urlencoded"), ..post("form body", b"notification_name=a".to_vec(), 400, "CTS.0003") },
        put("update without id", { let mut b = update(json!({})); b.as_object_mut().unwrap().remove("notification_id"); b }, 400, "CTS.0003"),
        put("update without status", { let mut b = update(json!({})); b.as_object_mut().unwrap().remove("status"); b }, 400, "CTS.0003"),
        put("update status paused", update(json!({"status": "paused"})), 400, "CTS.0205"),
        put("update status Enabled", update(json!({"status": "Enabled"})), 400, "CTS.0205"),
        put("update status number", update(json!({"status": 1})), 400, "CTS.0003"),
        put("update enabled without topic", update(json!({"topic_id": null})), 400, "CTS.0003"),
        put("update unknown id", update(json!({"notification_id": "no-such-id"})), 404, "CTS.0402"),
        put("update onto a taken name", update(json!({"notification_name": other_name})), 400, "CTS.0400"),
        put("update invalid operations", update(json!({"operations": []})), 400, "CTS.0003"),
        bare("delete without ids", "DELETE", format!("/v3/{P}/notifications"), 400, "CTS.0003"),
        bare("delete empty id", "DELETE", format!("/v3/{P}/notifications?notification_id="), 400, "CTS.0003"),
        bare("delete only commas", "DELETE", format!("/v3/{P}/notifications?notification_id=,,"), 400, "CTS.0003"),
        bare("delete with an unknown id", "DELETE", format!("/v3/{P}/notifications?notification_id={existing_id},nope"), 404, "CTS.0402"),
        bare("list unknown type", "GET", format!("/v3/{P}/notifications/email"), 400, "CTS.0003"),
        bare("operations resource without service", "GET", format!("/v3/{P}/operations?resource_type=ecs"), 400, "CTS.0003"),
        bare("operations typical=yes", "GET", format!("/v3/{P}/operations?typical=yes"), 400, "CTS.0003"),
        bare("project id with dot", "GET", "/v3/a.b/quotas".into(), 400, "CTS.0003"),
        bare("project id 65 chars", "GET", format!("/v3/{}/quotas", long(65)), 400, "CTS.0003"),
        bare("project id percent-encoded NUL", "GET", "/v3/a%00b/quotas".into(), 400, "CTS.0003"),
        bare("unknown path", "GET", "/v3/notifications".into(), 404, "CTS.0404"),
        bare("unknown version", "GET", format!("/v2/{P}/notifications/smn"), 404, "CTS.0404"),
        bare("root", "GET", "/".into(), 404, "CTS.0404"),
        bare("PATCH notifications", "PATCH", format!("/v3/{P}/notifications"), 405, "CTS.0405"),
        bare("GET notifications without type", "GET", format!("/v3/{P}/notifications"), 405, "CTS.0405"),
        bare("POST quotas", "POST", format!("/v3/{P}/quotas"), 405, "CTS.0405"),
        bare("DELETE health", "DELETE", "/health".into(), 405, "CTS.0405"),
    ];
    cases
}

#[tokio::test]
async fn every_malformed_request_gets_its_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.redb");
    let app = application(
        AppState::new(
            Arc::new(RedbStore::open(&path).unwrap()),
            CallerPolicy::TrustPath,
        ),
        Authentication::Policy,
        ConsoleAuth::Open,
        Router::new(),
    );
    let send = |method: &str, uri: &str, ct: Option<&str>, body: Vec<u8>| {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        app.clone().oneshot(req.body(Body::from(body)).unwrap())
    };
    let mut ids = Vec::new();
    for name in ["first_rule", "second_rule"] {
        let mut b = good();
        b["notification_name"] = json!(name);
        let resp = send(
            "POST",
            &format!("/v3/{P}/notifications"),
            Some("application/json"),
            b.to_string().into_bytes(),
        )
        .await
        .unwrap();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        ids.push(
            serde_json::from_slice::<Value>(&bytes).unwrap()["notification_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let before = std::fs::read(&path).unwrap();
    let cases = catalogue(&ids[0], "second_rule");
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let resp = send(c.method, &c.uri, c.content_type, c.body.clone())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let has_id = resp.headers().contains_key("x-request-id");
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status != c.status
            || body["error_code"] != c.code
            || !body["error_msg"].is_string()
            || !has_id
        {
            wrong.push(format!("{}: got {status} {body}", c.name));
        }
    }
    println!(
        "bad requests tried: {}, answered as the contract says: {}",
        cases.len(),
        cases.len() - wrong.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the store file changed"
    );
}
