//! `POST /traces`: any input of contract part 3, handled as the trace handler function would,
//! or a whole trace file (a CloudTrail log file, a CTS trace file: plain, or with
//! `Content-Encoding: gzip`), answered with a summary once every message is in the local topic.
//! Only `application/json` is taken, so that a web page cannot post here from a browser; a
//! signed caller's traces must be of its own project.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{CONTENT_ENCODING, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use ports::InMemoryBody;
use rules_api::{ApiError, CallerProject, JsonBody, JsonOnly, MAX_BODY_BYTES};
use serde::de::IgnoredAny;
use trace_files::{FileError, Limits, MAX_RECORD_BYTES};
use trace_handler::{Handler, Summary};

/// What one trace file may inflate to: a gzip bomb is refused at this point, not inflated.
pub(crate) const MAX_TRACE_FILE_INFLATED: u64 = 1 << 30;

pub(crate) fn routes(handler: Arc<Handler>) -> Router {
    Router::new()
        .route("/traces", post(intake))
        .with_state(handler)
}

/// 200 with the summary when every item was handled or refused for its own content; 503 with
/// the summary when something else failed (a publish, the store), so that the sender sends the
/// input again: only the pairs still missing are published then. A trace file that cannot be
/// read to its end is 400 (413 when it inflates too far); its records before the fault are
/// handled, and sending the mended file publishes only what is missing.
async fn intake(
    State(handler): State<Arc<Handler>>,
    caller: Option<Extension<CallerProject>>,
    headers: HeaderMap,
    JsonBody(body): JsonOnly,
) -> Result<Response, ApiError> {
    let caller = caller.map(|Extension(c)| c.0);
    let gzipped = match headers.get(CONTENT_ENCODING).map(HeaderValue::to_str) {
        None => false,
        Some(Ok(e)) if e.eq_ignore_ascii_case("gzip") => true,
        Some(Ok(e)) if e.eq_ignore_ascii_case("identity") => false,
        Some(_) => return Err(ApiError::UnsupportedEncoding),
    };
    if !gzipped && body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("body: is required".into()));
    }
    let summary = if gzipped || is_trace_file(&body) {
        let limits = Limits {
            max_bytes: MAX_TRACE_FILE_INFLATED,
            max_record: MAX_RECORD_BYTES,
        };
        let file = Box::new(InMemoryBody::new(body.to_vec()));
        match handler
            .handle_file("POST /traces", file, limits, caller.as_deref())
            .await
        {
            (_, Some(FileError::TooLarge(n))) => return Err(ApiError::InflatesTooLarge(n)),
            (_, Some(e)) => return Err(ApiError::BadRequest(format!("the trace file: {e}"))),
            (summary, None) => summary,
        }
    } else {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::BadRequest("the body must be UTF-8 JSON".into()))?;
        handler.handle_for(text, caller.as_deref()).await
    };
    respond(summary)
}

fn respond(summary: Summary) -> Result<Response, ApiError> {
    if summary.delivery_failed() {
        let retry = [(RETRY_AFTER, HeaderValue::from_static("1"))];
        return Ok((StatusCode::SERVICE_UNAVAILABLE, retry, Json(summary)).into_response());
    }
    Ok(Json(summary).into_response())
}

/// A plain body is a trace file, rather than one input, when it is larger than an input may
/// be, a JSON array, or several JSON values (one trace per line).
fn is_trace_file(body: &[u8]) -> bool {
    if body.len() > MAX_BODY_BYTES {
        return true;
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return true;
    }
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<IgnoredAny>();
    values.next().is_some_and(|v| v.is_ok()) && values.next().is_some()
}
