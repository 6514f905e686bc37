//! Logs at info level carry ids, never secrets or traces: no AK/SK, no Authorization header, no
//! user names, IP addresses or request contents of a trace.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use local_server::app;
use tower::ServiceExt;

mod common;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Info-level JSON logs of this thread, captured until the guard drops.
fn capture_info_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

const AK: &str = "AKIASECRETACCESSKEY1";
const SK: &str = "sk-very-secret-value-0123456789";
const SIGNATURE: &str = "SDK-HMAC-SHA256 Access=AKIASECRETACCESSKEY1, SignedHeaders=host;x-sdk-date, Signature=5f2b9e0c8d";

#[tokio::test(flavor = "current_thread")]
async fn info_logs_hold_no_secrets_and_no_traces() {
    let (captured, _guard) = capture_info_logs();

    let dir = tempfile::tempdir().unwrap();
    let config = common::open_config(dir.path());
    let app = app(&config).unwrap();
    let send = |method: &str, uri: &str, body: String| {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .header("authorization", SIGNATURE)
            .header("x-sdk-date", "20261125T091407Z")
            .header("x-security-token", SK)
            .body(Body::from(body))
            .unwrap();
        app.clone().oneshot(req)
    };
    let project = "24edf66e79d04187acb99a463e610764";
    let rule = samples::CREATE_NOTIFICATION_REQUEST.to_owned();
    send("POST", &format!("/v3/{project}/notifications"), rule)
        .await
        .unwrap();
    send(
        "POST",
        &format!("/v3/{project}/notifications"),
        "{\"notification_name\": \"bad name\"}".into(),
    )
    .await
    .unwrap();
    let batch = samples::sample("sqs-batch-cts-traces-with-poison.json").to_owned();
    let resp = send("POST", "/traces", batch).await.unwrap();
    assert_eq!(resp.status(), 200);
    let cloudtrail = samples::EVENTBRIDGE_SG_INGRESS.to_owned();
    send("POST", "/traces", cloudtrail).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines = logs.lines().count();
    assert!(
        lines >= 6 && logs.contains("published"),
        "the requests were logged: {logs}"
    );
    for secret in [
        AK,
        SK,
        "Signature=5f2b9e0c8d",
        "SDK-HMAC-SHA256",
        "ASIAEXAMPLEKEY000001",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    for private in [
        "ops-alice",
        "dev-bob",
        "203.0.113.24",
        "delete_publicip",
        "web-prod-01",
        "0.0.0.0/0",
    ] {
        assert!(
            !logs.contains(private),
            "trace content {private:?} leaked into the logs"
        );
    }
    println!("log lines checked: {lines}; secrets and trace contents found: 0");
}

/// Each refused or failed request is logged once, in its request's span (with its id), with
/// the error's code and detail.
#[tokio::test(flavor = "current_thread")]
async fn an_error_is_logged_once_with_its_request_id() {
    let (captured, _guard) = capture_info_logs();
    let dir = tempfile::tempdir().unwrap();
    let config = common::open_config(dir.path());
    let req = Request::builder()
        .method("POST")
        .uri("/v3/p1/notifications")
        .header("content-type", "application/json")
        .header("x-request-id", "req-refused-1")
        .body(Body::from(r#"{"notification_name": "bad name!"}"#))
        .unwrap();
    let resp = app(&config).unwrap().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 400);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &serde_json::Value| l["span"]["request_id"] == "req-refused-1")
        .collect();
    assert_eq!(lines.len(), 1, "one line for the request: {logs}");
    let fields = &lines[0]["fields"];
    assert_eq!(fields["message"], "request refused", "{logs}");
    assert_eq!(fields["error_code"], "CTS.0003");
    assert_eq!(fields["status"], 400);
    assert!(fields["error"]
        .as_str()
        .unwrap()
        .contains("notification_name"));
}
