//! What every call needs before its use case, as extractors: the project the path names once
//! the caller may act on it, and a JSON body within the size limit. Each refusal is the
//! contract's error.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;

use crate::{declares_json, read_body, ApiError, AppState};

/// The path's `project_id`, checked against the caller and for its form.
pub(crate) struct Project(pub String);

impl FromRequestParts<AppState> for Project {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, s)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let project_id = params
            .get("project_id")
            .cloned()
            .ok_or_else(|| ApiError::BadRequest("project_id is required".into()))?;
        s.policy.authorize(parts, &project_id)?;
        if !rules::limits::is_project_id(&project_id) {
            return Err(ApiError::BadRequest(
                "project_id must be 1-64 characters of A-Z a-z 0-9 _ -".into(),
            ));
        }
        Ok(Project(project_id))
    }
}

/// A body of at most [`crate::MAX_BODY_BYTES`]: JSON, unless it declares another type (400).
pub(crate) struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        if declares_json(&parts.headers) == Some(false) {
            return Err(ApiError::BadRequest(
                "Content-Type must be application/json".into(),
            ));
        }
        Ok(JsonBytes(read_body(&parts.headers, body).await?))
    }
}

/// Values of a query parameter, decoded, in order.
pub(crate) fn query(uri: &axum::http::Uri, key: &str) -> Vec<String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}
