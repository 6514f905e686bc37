//! AK/SK signatures on every call that reads or changes a project (`/v3/...`, `POST /traces`):
//! the request is verified against its access key's secret, and the key's project becomes the
//! caller's ([`CallerProject`]), which each handler then compares with the project it acts on.
//! The signature covers the body, so the body is read here, once, and handed on.

use std::sync::Arc;

use aksk::Authorization;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use ports::{now_ms, AccessKeys};

use crate::{ApiError, CallerProject, MAX_BODY_BYTES};

/// Verifies the signature of every `/v3/...` and `/traces` request of `app`; other paths
/// (`/health`) stay open. Put [`crate::with_request_ids`] around the result.
pub fn with_signatures(app: Router, keys: Arc<dyn AccessKeys>) -> Router {
    app.layer(axum::middleware::from_fn_with_state(keys, verify))
}

async fn verify(State(keys): State<Arc<dyn AccessKeys>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !(path.starts_with("/v3/") || path == "/traces") {
        return next.run(req).await;
    }
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match verified(keys.as_ref(), req).await {
        Ok(req) => next.run(req).await,
        Err(Refusal::Unsigned(e)) => ApiError::Unauthenticated {
            why: e.to_string(),
            request_id,
        }
        .into_response(),
        Err(Refusal::Other(e)) => e.into_response(),
    }
}

enum Refusal {
    Unsigned(aksk::SignatureError),
    Other(ApiError),
}

impl From<aksk::SignatureError> for Refusal {
    fn from(e: aksk::SignatureError) -> Self {
        Refusal::Unsigned(e)
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Other(e)
    }
}

/// The request with its body read and its caller's project attached, once its signature holds.
async fn verified(keys: &dyn AccessKeys, req: Request) -> Result<Request, Refusal> {
    let auth = Authorization::from_headers(req.headers())?;
    let key = keys
        .find(&auth.access_key)
        .await
        .map_err(ApiError::from)?
        .ok_or(aksk::SignatureError::UnknownKey)?;
    let (mut parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(ApiError::TooLarge(MAX_BODY_BYTES).into());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY_BYTES))?;
    auth.verify(&parts, &bytes, &key.secret_key, now_ms() / 1000)?;
    tracing::debug!(access_key = %key.access_key, project_id = %key.project_id, "signature verified");
    parts.extensions.insert(CallerProject(key.project_id));
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
