//! The console: the Key Event Notifications page at `/console/{project_id}` (and `/console/`,
//! which asks for the project), plain HTML, CSS and JavaScript compiled into the binary. The
//! page calls this origin's API as any client does; it signs with AK/SK (WebCrypto) or sends a
//! bearer token, as the deployment authenticates, with credentials typed for the session.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// How the page authenticates its calls: as the API it serves checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleAuth {
    /// No check (the local server without `ACCESS_KEYS_FILE`).
    Open,
    /// AK/SK signatures, made in the browser with keys typed for the session.
    AkSk,
    /// A bearer token typed for the session.
    Jwt,
}

impl ConsoleAuth {
    fn name(self) -> &'static str {
        match self {
            ConsoleAuth::Open => "open",
            ConsoleAuth::AkSk => "aksk",
            ConsoleAuth::Jwt => "jwt",
        }
    }
}

const PAGE: &str = include_str!("console/index.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

/// Everything from this origin, nothing inline, no frames: the page works offline and a
/// injected string cannot run.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, to merge beside the API's.
pub fn console(auth: ConsoleAuth) -> Router {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(page))
        .route("/console/{project_id}", get(page))
        .route(
            "/console/assets/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/console/assets/console.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/console/assets/samples.json", get(sample_traces))
        .with_state(auth)
}

async fn page(State(auth): State<ConsoleAuth>) -> Response {
    let mut response = asset(
        "text/html; charset=utf-8",
        PAGE.replace("{{AUTH_MODE}}", auth.name()),
    );
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn asset(content_type: &'static str, body: impl Into<String>) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("content-security-policy", HeaderValue::from_static(POLICY));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The traces the Test box offers: the samples of `events/`, one per input shape.
async fn sample_traces() -> Response {
    let cts = samples::CTS_TRACES;
    let mut list: Vec<serde_json::Value> = cts
        .lines()
        .take(3)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|t| {
            let name = format!(
                "CTS trace: {} {} by {}",
                t["service_type"].as_str().unwrap_or_default(),
                t["trace_name"].as_str().unwrap_or_default(),
                t["user"]["name"].as_str().unwrap_or_default()
            );
            serde_json::json!({"name": name, "input": t})
        })
        .collect();
    for (name, text) in [
        (
            "EventBridge: security group opened (AuthorizeSecurityGroupIngress)",
            samples::EVENTBRIDGE_SG_INGRESS,
        ),
        (
            "EventBridge: root console login without MFA",
            samples::EVENTBRIDGE_ROOT_SIGN_IN,
        ),
        (
            "CloudTrail record: S3 DeleteBucket denied",
            samples::CLOUDTRAIL_S3_DELETE_BUCKET_DENIED,
        ),
    ] {
        if let Ok(input) = serde_json::from_str::<serde_json::Value>(text) {
            list.push(serde_json::json!({"name": name, "input": input}));
        }
    }
    asset(
        "application/json",
        serde_json::Value::Array(list).to_string(),
    )
}
