//! The CTS v3 key event notifications API (contract part 1) as an axum router over a
//! [`NotificationStore`]. The same router runs under Lambda (`lambda_http`), under
//! `cargo lambda watch` and in the local server.

mod auth;
mod backtest;
mod console;
mod dry_run;
mod error;
mod extract;
mod handlers;
#[cfg(feature = "lambda")]
pub mod lambda;
mod signature;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ports::{AccessKeys, ActivityLog, Archive, NotificationStore, TopicCheck, TraceSink};
use tracing::Instrument;

pub use auth::{CallerName, CallerPolicy, CallerProject, SourceIp};
pub use console::{console, ConsoleAuth};
pub use error::{ApiError, Refusal};
pub use extract::{JsonBody, JsonBytes, JsonOnly};

/// Largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Largest body of `POST /traces` (of the local server), which takes whole trace files.
pub const MAX_TRACE_FILE_BYTES: usize = 64 << 20;

/// The largest body a path takes.
pub(crate) fn body_limit(path: &str) -> usize {
    if path == "/traces" {
        MAX_TRACE_FILE_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// Reads a body of at most `limit` bytes (413 beyond, refused at once when the
/// `Content-Length` says so).
pub(crate) async fn read_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge(limit))
}

/// Whether the `Content-Type` is `application/json` (parameters aside); `None` when absent.
pub(crate) fn declares_json(headers: &axum::http::HeaderMap) -> Option<bool> {
    let value = headers.get(axum::http::header::CONTENT_TYPE)?;
    let media = value.to_str().unwrap_or_default().split(';').next()?;
    Some(media.trim().eq_ignore_ascii_case("application/json"))
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn NotificationStore>,
    /// Each rule's activity, as the trace handler records it.
    pub activity: Arc<dyn ActivityLog>,
    pub policy: Arc<CallerPolicy>,
    /// Where a rule's topic is checked to exist (on AWS); `None`: every well-formed topic does.
    pub topics: Option<Arc<dyn TopicCheck>>,
    /// Where the traces of rule changes go; `None`: they are not traced.
    pub changes: Option<Arc<dyn TraceSink>>,
    /// The trace files backtests read; `None`: no backtests.
    pub archive: Option<Arc<dyn Archive>>,
}

impl AppState {
    /// Rules and their activity in `store`; every well-formed topic taken.
    pub fn new<S: NotificationStore + ActivityLog + 'static>(
        store: Arc<S>,
        policy: CallerPolicy,
    ) -> AppState {
        AppState {
            store: store.clone(),
            activity: store,
            policy: Arc::new(policy),
            topics: None,
            changes: None,
            archive: None,
        }
    }

    /// Backtests read the trace files of `archive`.
    pub fn with_archive(mut self, archive: Arc<dyn Archive>) -> AppState {
        self.archive = Some(archive);
        self
    }

    /// Makes every rule change a trace, handed to `sink`.
    pub fn with_change_traces(mut self, sink: Arc<dyn TraceSink>) -> AppState {
        self.changes = Some(sink);
        self
    }

    /// Checks that a rule's topic exists when it is saved.
    pub fn with_topics(mut self, topics: Arc<dyn TopicCheck>) -> AppState {
        self.topics = Some(topics);
        self
    }
}

/// How callers are authenticated: the one thing in which the ways the application runs differ.
#[derive(Clone)]
pub enum Authentication {
    /// Nothing is verified here: the state's [`CallerPolicy`] names the caller (a gateway
    /// authorizer's claim, a header a trusted proxy sets, or anyone at all).
    Policy,
    /// AK/SK signatures on every project route, verified with these keys.
    Signatures(Arc<dyn AccessKeys>),
}

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Authentication::Policy => "Policy",
            Authentication::Signatures(_) => "Signatures",
        })
    }
}

/// The whole application, built here alone for every way it runs: on Lambda in either auth
/// mode, under `cargo lambda watch`, in the local server (which adds `POST /traces` as a
/// project route) and in the tests. From the outside in:
/// 1. request ids and each request's log line, on every route;
/// 2. the signature check, on the project routes only (a route layer: `/health` and the
///    console stay open, an unknown path is 404 before any check);
/// 3. the handlers, with the contract's 404 and 405 as fallbacks.
pub fn application(
    state: AppState,
    authentication: Authentication,
    console_auth: ConsoleAuth,
    project_routes: Router,
) -> Router {
    let mut project = api_routes(state).merge(project_routes);
    if let Authentication::Signatures(keys) = authentication {
        project = project.route_layer(axum::middleware::from_fn_with_state(
            keys,
            signature::verify,
        ));
    }
    let open = Router::new()
        .route("/health", get(handlers::health))
        .merge(console(console_auth));
    let app = project
        .merge(open)
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed);
    app.layer(axum::middleware::from_fn(request_id))
}

/// The routes of contract part 1 that act on a project.
fn api_routes(state: AppState) -> Router {
    let notifications = axum::routing::post(handlers::create)
        .put(handlers::update)
        .delete(handlers::delete);
    Router::new()
        .route("/v3/{project_id}/notifications", notifications)
        .route(
            "/v3/{project_id}/notifications/{notification_type}",
            get(handlers::list),
        )
        .route(
            "/v3/{project_id}/notifications/test",
            axum::routing::post(dry_run::dry_run),
        )
        .route(
            "/v3/{project_id}/notifications/backtest",
            axum::routing::post(backtest::backtest),
        )
        .route(
            "/v3/{project_id}/notifications/{notification_id}/activity",
            get(handlers::activity),
        )
        .route("/v3/{project_id}/quotas", get(handlers::quotas))
        .route("/v3/{project_id}/operations", get(handlers::operations))
        .with_state(state)
}

/// Gives every response an `X-Request-Id` (the caller's, when it sent a sane one) and logs one
/// line per request: method, route, status, latency. Never bodies or credentials.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .filter(|v| {
            v.len() <= 128
                && v.to_str()
                    .is_ok_and(|s| s.bytes().all(|b| b.is_ascii_graphic()))
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .expect("a UUID is a header value")
        });
    // Inner layers (the signature check) answer with the same id.
    req.headers_mut().insert("x-request-id", id.clone());
    let span = tracing::info_span!("request", request_id = %id.to_str().unwrap_or_default());
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    // One line per request; an error's detail (never a body or a credential) goes in it.
    span.in_scope(|| match response.extensions_mut().remove::<Refusal>() {
        Some(r) if status.is_server_error() => {
            tracing::error!(%method, path, status = status.as_u16(), latency_ms, error_code = r.error_code, error = %r.detail, "request failed")
        }
        Some(r) => {
            tracing::info!(%method, path, status = status.as_u16(), latency_ms, error_code = r.error_code, error = %r.detail, "request refused")
        }
        None => tracing::info!(%method, path, status = status.as_u16(), latency_ms, "handled"),
    });
    response.headers_mut().insert("x-request-id", id);
    response
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("policy", &self.policy)
            .field("checks_topics", &self.topics.is_some())
            .field("traces_changes", &self.changes.is_some())
            .finish_non_exhaustive()
    }
}
