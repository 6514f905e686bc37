//! Every way a request can fail, mapped once to the contract's status and `error_code`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ports::StoreError;
use rules::ValidationError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the caller may not act on project {0:?}")]
    Forbidden(String),
    #[error("no such resource: {0}")]
    RouteNotFound(String),
    #[error("method not allowed on this resource")]
    MethodNotAllowed,
    #[error("the body exceeds {0} bytes")]
    TooLarge(usize),
    /// A gzipped body (a trace file) that inflates beyond its bound: refused, not inflated.
    #[error("the body inflates to more than {0} bytes")]
    InflatesTooLarge(u64),
    /// No valid AK/SK signature: answered as the Huawei API Gateway does (`APIGW.0301`).
    #[error("Incorrect IAM authentication information: {why}")]
    Unauthenticated { why: String, request_id: String },
    #[error("no notification named {0:?} in this project")]
    NameNotFound(String),
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Content-Encoding must be gzip or identity")]
    UnsupportedEncoding,
    /// The archive a backtest reads could not be listed.
    #[error("the archive could not be read: {0}")]
    ArchiveRead(String),
    /// The request was not received and answered in time (a stalled client).
    #[error("the request took longer than {0} seconds")]
    RequestTimeout(u64),
}

impl ApiError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid(e) => (StatusCode::BAD_REQUEST, e.code.as_str()),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "CTS.0003"),
            ApiError::Store(StoreError::NameTaken(_)) => (StatusCode::BAD_REQUEST, "CTS.0400"),
            ApiError::Store(StoreError::QuotaExceeded(_)) => (StatusCode::BAD_REQUEST, "CTS.0401"),
            ApiError::Store(StoreError::NotFound(_)) => (StatusCode::NOT_FOUND, "CTS.0402"),
            ApiError::Store(StoreError::Write(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "CTS.0004")
            }
            ApiError::Store(StoreError::Read(_)) | ApiError::ArchiveRead(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "CTS.0005")
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "CTS.0013"),
            ApiError::RouteNotFound(_) => (StatusCode::NOT_FOUND, "CTS.0404"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "CTS.0405"),
            ApiError::TooLarge(_) | ApiError::InflatesTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "CTS.0413")
            }
            ApiError::Unauthenticated { .. } => (StatusCode::UNAUTHORIZED, "APIGW.0301"),
            ApiError::NameNotFound(_) => (StatusCode::NOT_FOUND, "CTS.0402"),
            ApiError::UnsupportedMediaType | ApiError::UnsupportedEncoding => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "CTS.0415")
            }
            ApiError::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "CTS.0408"),
        }
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::Store(StoreError::Write(_)) => "storage write failed; retry later".into(),
            ApiError::Store(StoreError::Read(_)) => "storage read failed; retry later".into(),
            ApiError::ArchiveRead(_) => "the archive could not be read; retry later".into(),
            other => other.to_string(),
        }
    }
}

/// Why a response is an error, carried in its extensions to the request's one log line
/// (written by the request-id middleware, inside the request's span): the full detail, where
/// the body says only what a caller may know.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub error_code: &'static str,
    pub detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut body = json!({"error_code": code, "error_msg": self.public_message()});
        if let ApiError::Unauthenticated { request_id, .. } = &self {
            body["request_id"] = json!(request_id);
        }
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(Refusal {
            error_code: code,
            detail: error_chain(&self),
        });
        response
    }
}

/// An error and its sources, outermost first.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
