//! Who may act on a project. Behind API Gateway the caller's project comes from the request
//! context (put in the request's extensions as [`CallerProject`] by the Lambda entry point);
//! locally the path is trusted unless a header is configured.

use axum::http::request::Parts;

use crate::ApiError;

/// The caller's project as the API Gateway authorizer established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerProject(pub String);

/// Who the caller is, where something established it: the access key that signed the call, or
/// the JWT subject. Rule changes name it (`anonymous` without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerName(pub String);

/// Where the call came from: the peer's address locally, API Gateway's `sourceIp` on AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIp(pub String);

/// How the caller's project is established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerPolicy {
    /// The project in the path is trusted (local runs).
    TrustPath,
    /// The caller's project is this header (e.g. `X-Project-Id`, which the Huawei Cloud SDKs
    /// send); it must equal the path's.
    Header(String),
    /// The caller's project is the [`CallerProject`] extension; a request without one is
    /// refused.
    RequestContext,
}

impl CallerPolicy {
    /// Refuses with 403 `CTS.0013` a caller who may not act on `project_id`.
    pub fn authorize(&self, parts: &Parts, project_id: &str) -> Result<(), ApiError> {
        let caller = match self {
            CallerPolicy::TrustPath => return Ok(()),
            CallerPolicy::Header(name) => parts
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok()),
            CallerPolicy::RequestContext => parts
                .extensions
                .get::<CallerProject>()
                .map(|c| c.0.as_str()),
        };
        match caller {
            Some(c) if c == project_id => Ok(()),
            _ => Err(ApiError::Forbidden(project_id.to_owned())),
        }
    }
}
