//! `POST /traces`: any input of contract part 3, handled as the trace handler function would,
//! answered with a summary once every message is in the local topic. Only `application/json`
//! is taken, so that a web page cannot post here from a browser; a signed caller's traces must
//! be of its own project.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use rules_api::{ApiError, CallerProject, JsonBody, JsonOnly};
use trace_handler::{Handler, Summary};

pub(crate) fn routes(handler: Arc<Handler>) -> Router {
    Router::new()
        .route("/traces", post(intake))
        .with_state(handler)
}

/// 200 with the summary when every item was handled or refused for its own content; 503 with
/// the summary when something else failed (a publish, the store), so that the sender sends the
/// input again: only the pairs still missing are published then.
async fn intake(
    State(handler): State<Arc<Handler>>,
    caller: Option<Extension<CallerProject>>,
    JsonBody(body): JsonOnly,
) -> Result<Response, ApiError> {
    let caller = caller.map(|Extension(c)| c.0);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("body: is required".into()));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body must be UTF-8 JSON".into()))?;
    let summary: Summary = handler.handle_for(text, caller.as_deref()).await;
    if summary.delivery_failed() {
        let retry = [(RETRY_AFTER, HeaderValue::from_static("1"))];
        return Ok((StatusCode::SERVICE_UNAVAILABLE, retry, Json(summary)).into_response());
    }
    Ok(Json(summary).into_response())
}
