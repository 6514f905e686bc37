//! `POST /traces`: any input of contract part 3, handled as the trace handler function would,
//! answered with a summary once every message is in the local topic. Only `application/json`
//! is taken, so that a web page cannot post here from a browser; a signed caller's traces must
//! be of its own project.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::routing::post;
use axum::{Json, Router};
use rules_api::{declares_json, read_body, ApiError, CallerProject};
use trace_handler::{Handler, Summary};

pub fn routes(handler: Arc<Handler>) -> Router {
    Router::new()
        .route("/traces", post(intake))
        .with_state(handler)
}

async fn intake(
    State(handler): State<Arc<Handler>>,
    req: Request,
) -> Result<Json<Summary>, ApiError> {
    if declares_json(req.headers()) != Some(true) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let caller = req.extensions().get::<CallerProject>().map(|c| c.0.clone());
    let (parts, body) = req.into_parts();
    let body = read_body(&parts.headers, body).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("body: is required".into()));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body must be UTF-8 JSON".into()))?;
    Ok(Json(handler.handle_for(text, caller.as_deref()).await))
}
