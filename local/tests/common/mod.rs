//! What the local server's tests share: the whole local product on a fresh data directory,
//! open to all (no keys), called in process.
#![allow(dead_code)] // each test file uses its own part

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use local_server::{app, Config};
use serde_json::Value;
use tower::ServiceExt;

pub(crate) struct Local {
    pub app: axum::Router,
    pub config: Config,
    _dir: tempfile::TempDir,
}

/// The local product's settings for tests: data under `dir`, open to all, no cache period.
pub(crate) fn open_config(dir: &std::path::Path) -> Config {
    Config {
        port: 0,
        data_dir: dir.join("data"),
        caller_header: None,
        access_keys_file: None,
        cache_ttl: Duration::ZERO,
        digest_interval: Duration::from_secs(10),
    }
}

impl Local {
    pub(crate) fn new() -> Local {
        let dir = tempfile::tempdir().unwrap();
        let config = open_config(dir.path());
        Local {
            app: app(&config).unwrap(),
            config,
            _dir: dir,
        }
    }

    pub(crate) async fn call(&self, method: &str, uri: &str, body: String) -> (u16, Value) {
        call(&self.app, method, uri, body).await
    }

    /// Creates a rule on every operation of `project`, to `target`; its id.
    pub(crate) async fn create_complete(&self, project: &str, name: &str, target: &str) -> String {
        let rule = serde_json::json!({"notification_name": name, "operation_type": "complete",
            "topic_id": target});
        self.create(project, &rule).await
    }

    /// Creates the rule; its id.
    pub(crate) async fn create(&self, project: &str, body: &Value) -> String {
        let (status, created) = self
            .call(
                "POST",
                &format!("/v3/{project}/notifications"),
                body.to_string(),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        created["notification_id"].as_str().unwrap().to_owned()
    }

    /// The topic's lines of the traces posted, those of rule changes left out.
    pub(crate) fn published_lines(&self) -> Vec<Value> {
        self.topic_lines()
            .into_iter()
            .filter(|l| !is_rule_change(&message_trace(l)))
            .collect()
    }

    /// Every line of the local topic.
    pub(crate) fn topic_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.config.data_dir.join("published.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// (trace id, notification id) of every message in the local topic.
    pub(crate) fn published_pairs(&self) -> BTreeSet<(String, String)> {
        self.published_lines()
            .iter()
            .map(|l| {
                let m: Value = serde_json::from_str(l["message"].as_str().unwrap()).unwrap();
                (
                    m["trace"]["trace_id"].as_str().unwrap().to_owned(),
                    m["notification"]["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// The trace a topic line's message carries (null for a digest).
pub(crate) fn message_trace(line: &Value) -> Value {
    line["message"]
        .as_str()
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .map_or(Value::Null, |m| m["trace"].clone())
}

/// A trace the API made of a rule change (which `complete` rules match like any other).
pub(crate) fn is_rule_change(trace: &Value) -> bool {
    trace["service_type"] == "CTS" && trace["resource_type"] == "notification"
}

/// One JSON call to `app` in process: status and parsed body (null when there is none).
pub(crate) async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: String,
) -> (u16, Value) {
    call_with(app, method, uri, &[], body.into_bytes()).await
}

/// [`call`] with more headers than the JSON content type, and any bytes as the body.
pub(crate) async fn call_with(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
