//! AK/SK signatures on every call that reads or changes a project (`/v3/...`, `POST /traces`):
//! the request is verified against its access key's secret, and the key's project becomes the
//! caller's ([`CallerProject`]), which each handler then compares with the project it acts on.
//! The signature covers the body, so the body is read here, once, and handed on.

use std::sync::Arc;

use aksk::Authorization;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ports::{now_ms, AccessKeys};

use crate::{body_limit, read_body, ApiError, CallerName, CallerProject};

/// Verifies the request's signature (a route layer of the project routes: see
/// [`crate::application`]).
pub(crate) async fn verify(
    State(keys): State<Arc<dyn AccessKeys>>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match verified(keys.as_ref(), req, request_id).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The request with its body read and its caller's project attached, once its signature holds.
async fn verified(
    keys: &dyn AccessKeys,
    req: Request,
    request_id: String,
) -> Result<Request, ApiError> {
    let unsigned = |e: aksk::SignatureError| ApiError::Unauthenticated {
        why: e.to_string(),
        request_id: request_id.clone(),
    };
    let auth = Authorization::from_headers(req.headers()).map_err(unsigned)?;
    let key = keys
        .find(&auth.access_key)
        .await?
        .ok_or_else(|| unsigned(aksk::SignatureError::UnknownKey))?;
    let (mut parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, body_limit(parts.uri.path())).await?;
    auth.verify(&parts, &bytes, &key.secret_key, now_ms() / 1000)
        .map_err(unsigned)?;
    tracing::debug!(access_key = %key.access_key, project_id = %key.project_id, "signature verified");
    parts.extensions.insert(CallerProject(key.project_id));
    parts.extensions.insert(CallerName(key.access_key));
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
