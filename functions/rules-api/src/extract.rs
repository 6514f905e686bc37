//! What every call needs before its use case, as extractors: the project the path names once
//! the caller may act on it, a JSON body within the size limit, and each call's query
//! parameters with their limits. Each refusal is the contract's error.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;

use rules::change::Caller;

use crate::{body_limit, declares_json, read_body, ApiError, AppState, CallerName, SourceIp};

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

/// Who made the call and from where, for the trace of a rule change: the name a signature or an
/// authorizer established (`anonymous` without one) and the source address.
pub(crate) struct Changer(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Changer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let name = parts
            .extensions
            .get::<CallerName>()
            .map_or_else(|| "anonymous".to_owned(), |c| c.0.clone());
        let source_ip = parts
            .extensions
            .get::<SourceIp>()
            .map(|ip| ip.0.clone())
            .or_else(|| {
                parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|peer| peer.0.ip().to_string())
            });
        Ok(Changer(Caller { name, source_ip }))
    }
}

/// A body of at most [`crate::MAX_BODY_BYTES`] ([`crate::MAX_TRACE_FILE_BYTES`] for `POST
/// /traces`), JSON by its `Content-Type`. The API's calls
/// take a body that declares no type ([`JsonBytes`]: another type is 400, as CTS answers);
/// `POST /traces` takes only one that declares JSON ([`JsonOnly`]: anything else, a missing
/// type included, is 415, so that no web page can post there from a browser).
#[derive(Debug)]
pub struct JsonBody<const DECLARED: bool>(pub Bytes);

/// The API's bodies: JSON unless another type is declared.
pub type JsonBytes = JsonBody<false>;
/// Bodies that must declare `application/json`.
pub type JsonOnly = JsonBody<true>;

impl<S: Send + Sync, const DECLARED: bool> FromRequest<S> for JsonBody<DECLARED> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        match (declares_json(&parts.headers), DECLARED) {
            (Some(true), _) | (None, false) => {}
            (_, true) => return Err(ApiError::UnsupportedMediaType),
            (Some(false), false) => {
                return Err(ApiError::BadRequest(
                    "Content-Type must be application/json".into(),
                ))
            }
        }
        Ok(JsonBody(
            read_body(&parts.headers, body, body_limit(parts.uri.path())).await?,
        ))
    }
}

/// Most ids one delete takes: a batch is one DynamoDB transaction (at most 100 items: one per
/// rule plus the project's name claims), with room to spare.
const MAX_DELETE_IDS: usize = 50;

/// `?notification_id=a,b` (or repeated): 1 to 50 distinct ids, in order.
#[derive(Debug)]
pub(crate) struct NotificationIds(pub Vec<String>);

impl<S: Send + Sync> FromRequestParts<S> for NotificationIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut ids: Vec<String> = Vec::new();
        for id in query(&parts.uri, "notification_id")
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
        {
            if id.is_empty() || id.len() > 64 {
                return Err(ApiError::BadRequest(
                    "notification_id must be a comma-separated list of ids".into(),
                ));
            }
            // Counted as they come, so that a long list costs at most 50 comparisons an id.
            if !ids.iter().any(|x| x == id) {
                ids.push(id.to_owned());
                if ids.len() > MAX_DELETE_IDS {
                    return Err(ApiError::BadRequest(format!(
                        "at most {MAX_DELETE_IDS} notification ids at once"
                    )));
                }
            }
        }
        if ids.is_empty() {
            return Err(ApiError::BadRequest("notification_id is required".into()));
        }
        Ok(NotificationIds(ids))
    }
}

/// `?notification_name=`: the exact name a list is narrowed to, if any.
#[derive(Debug)]
pub(crate) struct NameFilter(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for NameFilter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(NameFilter(
            query(&parts.uri, "notification_name").into_iter().next(),
        ))
    }
}

/// `?service_type=&resource_type=&typical=`: the part of the catalog asked for.
#[derive(Debug)]
pub(crate) struct CatalogFilter {
    pub service: Option<String>,
    pub resource: Option<String>,
    pub typical: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for CatalogFilter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let service = query(&parts.uri, "service_type").into_iter().next();
        let resource = query(&parts.uri, "resource_type").into_iter().next();
        if resource.is_some() && service.is_none() {
            return Err(ApiError::BadRequest(
                "resource_type needs service_type".into(),
            ));
        }
        let typical = match query(&parts.uri, "typical").into_iter().next().as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::BadRequest("typical must be true or false".into())),
        };
        Ok(CatalogFilter {
            service,
            resource,
            typical,
        })
    }
}

/// Values of a query parameter, decoded, in order.
fn query(uri: &axum::http::Uri, key: &str) -> Vec<String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}
