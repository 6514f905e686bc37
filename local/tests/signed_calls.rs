//! With `ACCESS_KEYS_FILE`, every `/v3/...` and `POST /traces` call must be signed (AK/SK,
//! `SDK-HMAC-SHA256`): unsigned, malformed, unknown, wrong, tampered and stale requests get 401
//! `APIGW.0301`, another project's key 403 `CTS.0013`, and none of them changes anything.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use local_server::{app, Config};
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

const P: &str = "24edf66e79d04187acb99a463e610764";
const OTHER: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const AK: &str = "HPUAOWNKEY0000000001";
const SK: &str = "own-secret-key-0000000000000000000000001";
const OTHER_AK: &str = "HPUAOTHERKEY00000001";

struct Local {
    app: axum::Router,
    dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    body: Value,
    request_id: String,
}

/// What a signed request may be made to look like.
#[derive(Clone, Copy)]
enum Signing<'a> {
    Unsigned,
    /// Signed with this key and secret, `skew` seconds away from now.
    Key {
        ak: &'a str,
        sk: &'a str,
        skew: i64,
    },
    /// Signed properly, then the body is changed.
    Tampered,
}

const OWN: Signing<'_> = Signing::Key {
    ak: AK,
    sk: SK,
    skew: 0,
};

impl Local {
    fn new() -> Local {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys.json");
        std::fs::write(
            &keys,
            json!([
                {"access_key": AK, "secret_key": SK, "project_id": P},
                {"access_key": OTHER_AK, "secret_key": "other-secret", "project_id": OTHER}
            ])
            .to_string(),
        )
        .unwrap();
        let config = Config {
            port: 0,
            data_dir: dir.path().join("data"),
            caller_header: None,
            access_keys_file: Some(keys),
            cache_ttl: Duration::ZERO,
            digest_interval: Duration::from_secs(10),
        };
        Local {
            app: app(&config).unwrap(),
            dir,
        }
    }

    async fn call(&self, method: &str, uri: &str, body: &str, signing: Signing<'_>) -> Reply {
        let (mut parts, ()) = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:9000")
            .header("content-type", "application/json;charset=UTF-8")
            .header("x-project-id", P)
            .body(())
            .unwrap()
            .into_parts();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut sent = body.to_owned();
        let (ak, sk, skew) = match signing {
            Signing::Unsigned => ("", "", 0),
            Signing::Key { ak, sk, skew } => (ak, sk, skew),
            Signing::Tampered => {
                sent.push(' ');
                (AK, SK, 0)
            }
        };
        if !ak.is_empty() {
            let date = aksk::format_sdk_date(now + skew);
            parts.headers.insert("x-sdk-date", date.parse().unwrap());
            let auth = aksk::sign(&parts, body.as_bytes(), ak, sk);
            parts.headers.insert("authorization", auth.parse().unwrap());
        }
        let req = Request::from_parts(parts, Body::from(sent));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            request_id,
        }
    }

    async fn names(&self) -> Vec<String> {
        let r = self
            .call("GET", &format!("/v3/{P}/notifications/smn"), "", OWN)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["notification_name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Messages of the traces posted (those of rule changes left out).
    fn published(&self) -> usize {
        let text = std::fs::read_to_string(self.dir.path().join("data/published.jsonl"));
        text.unwrap_or_default()
            .lines()
            .filter(|l| {
                let line: Value = serde_json::from_str(l).unwrap();
                !common::is_rule_change(&common::message_trace(&line))
            })
            .count()
    }
}

fn rule(name: &str) -> String {
    json!({
        "notification_name": name, "operation_type": "complete",
        "topic_id": format!("urn:smn:eu-west-1:{P}:key_events")
    })
    .to_string()
}

fn assert_unauthenticated(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    assert_eq!(r.body["error_code"], "APIGW.0301", "{what}");
    assert!(
        r.body["error_msg"]
            .as_str()
            .unwrap()
            .starts_with("Incorrect IAM authentication information"),
        "{what}"
    );
    assert_eq!(
        r.body["request_id"].as_str(),
        Some(r.request_id.as_str()),
        "{what}"
    );
}

#[tokio::test]
async fn only_requests_signed_with_the_projects_key_act_on_it() {
    let local = Local::new();
    let create = format!("/v3/{P}/notifications");
    assert_eq!(
        local
            .call("POST", &create, &rule("first"), OWN)
            .await
            .status,
        201
    );

    let refused: [(&str, Signing<'_>); 5] = [
        ("unsigned", Signing::Unsigned),
        (
            "unknown key",
            Signing::Key {
                ak: "HPUAUNKNOWN",
                sk: SK,
                skew: 0,
            },
        ),
        (
            "wrong secret",
            Signing::Key {
                ak: AK,
                sk: "not-the-secret",
                skew: 0,
            },
        ),
        ("body changed after signing", Signing::Tampered),
        (
            "16 minutes old",
            Signing::Key {
                ak: AK,
                sk: SK,
                skew: -16 * 60,
            },
        ),
    ];
    for (what, signing) in refused {
        assert_unauthenticated(
            &local.call("POST", &create, &rule("second"), signing).await,
            what,
        );
        let list = local
            .call("GET", &format!("/v3/{P}/notifications/smn"), "", signing)
            .await;
        assert_unauthenticated(&list, what);
    }
    assert_unauthenticated(
        &local
            .call(
                "POST",
                &create,
                &rule("second"),
                Signing::Key {
                    ak: AK,
                    sk: SK,
                    skew: 16 * 60,
                },
            )
            .await,
        "16 minutes ahead",
    );

    let other = Signing::Key {
        ak: OTHER_AK,
        sk: "other-secret",
        skew: 0,
    };
    let r = local.call("POST", &create, &rule("second"), other).await;
    assert_eq!(
        (r.status, r.body["error_code"].as_str()),
        (403, Some("CTS.0013")),
        "{}",
        r.body
    );
    let r = local
        .call("GET", &format!("/v3/{P}/notifications/smn"), "", other)
        .await;
    assert_eq!(r.status, 403);
    let r = local
        .call(
            "DELETE",
            &format!("/v3/{P}/notifications?notification_id=x"),
            "",
            other,
        )
        .await;
    assert_eq!(r.status, 403);

    assert_eq!(
        local.names().await,
        ["first"],
        "nothing stored by a refused request"
    );
    let health = local.call("GET", "/health", "", Signing::Unsigned).await;
    assert_eq!(health.status, 200, "the health check stays open");
}

#[tokio::test]
async fn temporary_credentials_are_refused_clearly() {
    let local = Local::new();
    let (mut parts, ()) = Request::builder()
        .method("GET")
        .uri(format!("/v3/{P}/quotas"))
        .header("host", "h")
        .header("x-security-token", "token")
        .header("x-sdk-date", aksk::format_sdk_date(ports::now_ms() / 1000))
        .body(())
        .unwrap()
        .into_parts();
    let auth = aksk::sign(&parts, b"", AK, SK);
    parts.headers.insert("authorization", auth.parse().unwrap());
    let resp = local
        .app
        .clone()
        .oneshot(Request::from_parts(parts, Body::empty()))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = serde_json::from_slice(
        &axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        body["error_msg"]
            .as_str()
            .unwrap()
            .contains("X-Security-Token"),
        "{body}"
    );
}

#[tokio::test]
async fn traces_are_taken_only_signed_and_only_of_the_callers_project() {
    let local = Local::new();
    let create = format!("/v3/{P}/notifications");
    assert_eq!(
        local
            .call("POST", &create, &rule("all_ops"), OWN)
            .await
            .status,
        201
    );
    let trace = |project: &str, id: &str| {
        json!({"trace_id": id, "trace_name": "deleteServer", "service_type": "ECS", "resource_type": "ecs",
               "trace_rating": "warning", "project_id": project, "user": {"name": "ops-alice"}})
        .to_string()
    };

    assert_unauthenticated(
        &local
            .call("POST", "/traces", &trace(P, "t0"), Signing::Unsigned)
            .await,
        "unsigned trace",
    );
    assert_unauthenticated(
        &local
            .call("POST", "/traces", &trace(P, "t0"), Signing::Tampered)
            .await,
        "tampered trace",
    );
    let other = Signing::Key {
        ak: OTHER_AK,
        sk: "other-secret",
        skew: 0,
    };
    let r = local.call("POST", "/traces", &trace(P, "t1"), other).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["failures"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );
    assert_eq!(r.body["published"], 0);
    assert_eq!(
        local.published(),
        0,
        "a trace of another project publishes nothing"
    );

    // The other project's own trace with the same id publishes nothing here, and does not mark
    // the genuine trace as published.
    let r = local
        .call("POST", "/traces", &trace(OTHER, "t1"), other)
        .await;
    assert_eq!(
        (r.body["traces"].as_u64(), r.body["published"].as_u64()),
        (Some(1), Some(0)),
        "{}",
        r.body
    );
    let r = local.call("POST", "/traces", &trace(P, "t1"), OWN).await;
    assert_eq!(r.body["published"], 1, "{}", r.body);
    assert_eq!(local.published(), 1);
}

/// The console's page loads without a signature (a browser cannot sign a navigation) and tells
/// the page to sign; what the page then calls is checked as any call.
#[tokio::test]
async fn the_console_loads_unsigned_and_its_calls_are_signed() {
    let local = Local::new();
    let req = Request::builder()
        .uri(format!("/console/{P}"))
        .body(Body::empty())
        .unwrap();
    let resp = local.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let page = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(page.contains(r#"<meta name="auth-mode" content="aksk">"#));
    let unsigned = local
        .call(
            "GET",
            &format!("/v3/{P}/notifications/smn"),
            "",
            Signing::Unsigned,
        )
        .await;
    assert_unauthenticated(&unsigned, "the page's calls unsigned");
}

#[tokio::test]
async fn a_rule_change_names_the_key_that_signed_it() {
    let local = Local::new();
    let watcher = json!({"notification_name": "watch_rules", "operation_type": "customized",
        "operations": [{"service_type": "CTS", "resource_type": "notification", "trace_names": ["deleteNotification"]}],
        "topic_id": format!("urn:smn:eu-west-1:{P}:security")});
    let r = local
        .call(
            "POST",
            &format!("/v3/{P}/notifications"),
            &watcher.to_string(),
            OWN,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = local
        .call(
            "POST",
            &format!("/v3/{P}/notifications"),
            &rule("doomed"),
            OWN,
        )
        .await;
    let doomed = r.body["notification_id"].as_str().unwrap().to_owned();
    let r = local
        .call(
            "DELETE",
            &format!("/v3/{P}/notifications?notification_id={doomed}"),
            "",
            OWN,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let text = std::fs::read_to_string(local.dir.path().join("data/published.jsonl")).unwrap();
    let traces: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| serde_json::from_str::<Value>(l["message"].as_str().unwrap()).unwrap())
        // `doomed` watches every operation: its own creation is one of them.
        .filter(|m| m["notification"]["name"] == "watch_rules")
        .map(|m| m["trace"].clone())
        .collect();
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(traces[0]["trace_name"], "deleteNotification");
    assert_eq!(
        traces[0]["user"]["name"], AK,
        "the key's user, not its secret"
    );
    assert!(!text.contains(SK), "the secret is nowhere in the message");
}
