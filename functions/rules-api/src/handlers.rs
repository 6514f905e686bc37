//! One function per call of contract part 1. Each authorizes, parses its input into valid
//! values, makes one store call and shows the result.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ports::{hour_of, now_ms, StoreError, TopicProblem, ACTIVITY_DAYS, HOUR_MS};
use rules::change::{change_trace, Caller, Change, ChangeRecord};
use rules::limits::MAX_NOTIFICATIONS_PER_PROJECT;
use rules::{CreateBody, Notification, NotificationType, UpdateBody};
use serde_json::json;

use crate::extract::{
    CatalogFilter, Changer, JsonBody, JsonBytes, NameFilter, NotificationIds, Project,
};
use crate::{ApiError, AppState};

type Result<T> = std::result::Result<T, ApiError>;

/// The list response, fields in the order the API documents them.
#[derive(serde::Serialize)]
struct NotificationList {
    notifications: Vec<Notification>,
}

pub(crate) async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::RouteNotFound(uri.path().chars().take(200).collect())
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

pub(crate) async fn create(
    State(s): State<AppState>,
    Project(project_id): Project,
    Changer(caller): Changer,
    JsonBody(bytes): JsonBytes,
) -> Result<Response> {
    let body = CreateBody::parse(&bytes)?;
    let notification =
        body.into_notification(uuid::Uuid::new_v4().to_string(), project_id, now_ms());
    check_deliverable(&s, &notification).await?;
    s.store.create(&notification).await?;
    tracing::info!(notification_id = %notification.notification_id, "notification created");
    let change = Traced::new(&s, &caller, &bytes);
    change
        .of(Change::Create, &notification, StatusCode::CREATED)
        .await;
    Ok((StatusCode::CREATED, Json(notification)).into_response())
}

pub(crate) async fn update(
    State(s): State<AppState>,
    Project(project_id): Project,
    Changer(caller): Changer,
    JsonBody(bytes): JsonBytes,
) -> Result<Response> {
    let body = UpdateBody::parse(&bytes)?;
    let existing = if body.notification_id().is_empty() {
        // The Terraform provider modifies a rule it has just created before it knows its id.
        s.store
            .list(&project_id)
            .await?
            .into_iter()
            .find(|n| n.notification_name == body.name())
            .ok_or_else(|| ApiError::NameNotFound(body.name().to_owned()))?
    } else {
        s.store
            .get(&project_id, body.notification_id())
            .await?
            .ok_or_else(|| StoreError::NotFound(body.notification_id().to_owned()))?
    };
    let notification = body.apply_to(&existing);
    check_deliverable(&s, &notification).await?;
    s.store.update(&notification).await?;
    tracing::info!(notification_id = %notification.notification_id, status = ?notification.status, "notification modified");
    let change = Change::of_update(&existing, &notification);
    Traced::new(&s, &caller, &bytes)
        .of(change, &notification, StatusCode::OK)
        .await;
    Ok(Json(notification).into_response())
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    Project(project_id): Project,
    Changer(caller): Changer,
    uri: Uri,
    NotificationIds(ids): NotificationIds,
) -> Result<Response> {
    // The rules as they were, for the traces of their deletion.
    let deleted: Vec<Notification> = match &s.changes {
        Some(_) => s
            .store
            .list(&project_id)
            .await?
            .into_iter()
            .filter(|n| ids.contains(&n.notification_id))
            .collect(),
        None => Vec::new(),
    };
    s.store.delete(&project_id, &ids).await?;
    tracing::info!(count = ids.len(), "notifications deleted");
    let change = Traced::new(&s, &caller, uri.query().unwrap_or_default().as_bytes());
    for rule in &deleted {
        change
            .of(Change::Delete, rule, StatusCode::NO_CONTENT)
            .await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A call that changes rules, to be traced: what was asked, by whom.
struct Traced<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    request: std::borrow::Cow<'a, str>,
}

impl<'a> Traced<'a> {
    fn new(state: &'a AppState, caller: &'a Caller, request: &'a [u8]) -> Self {
        Traced {
            state,
            caller,
            request: String::from_utf8_lossy(request),
        }
    }

    /// Hands the trace of `change` to `rule` to the state's sink, if any; a failure is logged,
    /// the change stands.
    async fn of(&self, change: Change, rule: &Notification, status: StatusCode) {
        let Some(sink) = &self.state.changes else {
            return;
        };
        let response = match change {
            Change::Delete => String::new(),
            _ => serde_json::to_string(rule).unwrap_or_default(),
        };
        let trace = change_trace(&ChangeRecord {
            trace_id: &uuid::Uuid::new_v4().to_string(),
            change,
            rule,
            caller: self.caller,
            request: &self.request,
            code: status.as_u16(),
            response: &response,
            at_ms: now_ms(),
        });
        if let Err(e) = sink.submit(trace).await {
            tracing::error!(error = %e, notification_id = %rule.notification_id, trace_name = change.trace_name(), "the rule change could not be traced");
        }
    }
}

pub(crate) async fn list(
    State(s): State<AppState>,
    Project(project_id): Project,
    Path((_, kind)): Path<(String, String)>,
    NameFilter(name): NameFilter,
) -> Result<Response> {
    let kind = NotificationType::parse(&kind)
        .ok_or_else(|| ApiError::BadRequest("notification_type must be smn or fun".into()))?;
    let notifications: Vec<_> = s
        .store
        .list(&project_id)
        .await?
        .into_iter()
        .filter(|n| {
            n.notification_type == kind && name.as_ref().is_none_or(|x| *x == n.notification_name)
        })
        .collect();
    Ok(Json(NotificationList { notifications }).into_response())
}

pub(crate) async fn quotas(
    State(s): State<AppState>,
    Project(project_id): Project,
) -> Result<Response> {
    let used = s.store.list(&project_id).await?.len();
    Ok(Json(json!({"resources": [{"type": "smn_notification", "used": used, "quota": MAX_NOTIFICATIONS_PER_PROJECT}]}))
        .into_response())
}

/// `GET /v3/{p}/notifications/{id}/activity` (our extension): the rule's activity per hour over
/// the days it is kept, and when it last matched.
pub(crate) async fn activity(
    State(s): State<AppState>,
    Project(project_id): Project,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response> {
    s.store
        .get(&project_id, &id)
        .await?
        .ok_or_else(|| StoreError::NotFound(id.clone()))?;
    let since = hour_of(now_ms()) - (ACTIVITY_DAYS * 24 - 1) * HOUR_MS;
    let activity = s.activity.activity(&project_id, &id, since).await?;
    Ok(Json(json!({
        "notification_id": id,
        "since": since,
        "hour_ms": HOUR_MS,
        "last_match": activity.last_match,
        "hours": activity.hours,
    }))
    .into_response())
}

pub(crate) async fn operations(_: Project, filter: CatalogFilter) -> Result<Response> {
    let operations = rules::catalog::entries(
        filter.service.as_deref(),
        filter.resource.as_deref(),
        filter.typical,
    );
    Ok(Json(json!({"operations": operations})).into_response())
}

/// A URN names the rule's own project, and a topic exists where it is checked (on AWS). A
/// function is not looked up: that would need the right to read every function a rule may
/// name; an invocation it refuses fails as permanent and raises the handler's alarm.
pub(crate) async fn check_deliverable(s: &AppState, n: &Notification) -> Result<()> {
    rules::body::check_topic_project(n)?;
    if let (Some(topics), Some(topic), NotificationType::Smn) =
        (&s.topics, &n.topic_id, n.notification_type)
    {
        topics.check(topic).await.map_err(|e| match e {
            TopicProblem::Refused(why) => {
                ApiError::Invalid(rules::ValidationError::invalid("topic_id", why))
            }
            TopicProblem::Unchecked(why) => ApiError::Store(StoreError::Read(why)),
        })?;
    }
    Ok(())
}
