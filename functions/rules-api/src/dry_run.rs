//! `POST /v3/{project_id}/notifications/test` (our extension): a rule, given as a create body
//! or by `notification_id`, tried on traces given in any shape the trace handler takes. Per
//! trace: whether it fires, each check with what it compared, and what would be published; for
//! a rule with a digest, the traces taken as one window, which matches the digest would count
//! and the digest itself.
//! It validates the rule as create does, and stores and publishes nothing.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ports::now_ms;
use rules::digest::{render_digest, DigestCounts, DigestEntry};
use rules::explain::{explain, Explanation};
use rules::message::{render, Message};
use rules::trace::envelope::split;
use rules::{CreateBody, Notification, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::extract::{JsonBody, JsonBytes, Project};
use crate::handlers::check_deliverable;
use crate::{ApiError, AppState};

#[derive(Deserialize)]
struct DryRunBody<'a> {
    /// Present (`null` included) or absent: a `null` rule or id is refused, not ignored.
    #[serde(default, deserialize_with = "present")]
    notification: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    notification_id: Option<serde_json::Value>,
    #[serde(borrow, default)]
    traces: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct DryRun {
    /// The rule tried, as the API shows it.
    notification: Notification,
    results: Vec<TraceResult>,
    /// For a rule with a digest, the traces taken as one window: the digest the matches past
    /// `max_messages` would be counted into.
    #[serde(skip_serializing_if = "Option::is_none")]
    would_digest: Option<Published>,
}

#[derive(Serialize)]
struct TraceResult {
    /// Position of the trace among those given.
    item: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
    /// Why the item is not a trace the handler takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    explanation: Option<Explanation>,
    /// What would be published (or the payload a function would get) when it fires.
    #[serde(skip_serializing_if = "Option::is_none")]
    would_publish: Option<Published>,
    /// It fires past the window's `max_messages`: counted into the digest, not published.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    digested: bool,
}

impl From<Message> for Published {
    fn from(m: Message) -> Published {
        Published {
            topic_id: m.topic_id.to_string(),
            subject: m.subject,
            message: m.message,
            email: m.email,
            message_attributes: m.attributes.into_iter().collect(),
        }
    }
}

#[derive(Serialize)]
struct Published {
    topic_id: String,
    subject: String,
    /// The JSON body (for a function, its payload), exactly as it would be sent.
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    message_attributes: std::collections::BTreeMap<&'static str, String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

pub(crate) async fn dry_run(
    State(s): State<AppState>,
    Project(project_id): Project,
    JsonBody(bytes): JsonBytes,
) -> Result<Response, ApiError> {
    let body: DryRunBody<'_> = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::Invalid(ValidationError::invalid(
            "body",
            format!("must be {{\"notification\" or \"notification_id\", \"traces\"}}: {e}"),
        ))
    })?;
    let rule = match (body.notification, body.notification_id) {
        (Some(spec), None) if spec.is_object() => {
            let rule = CreateBody::from_value(&spec)?.into_notification(
                uuid::Uuid::new_v4().to_string(),
                project_id.clone(),
                now_ms(),
            );
            check_deliverable(&s, &rule).await?;
            rule
        }
        (None, Some(serde_json::Value::String(id))) => s
            .store
            .get(&project_id, &id)
            .await?
            .ok_or(ApiError::Store(ports::StoreError::NotFound(id)))?,
        _ => {
            return Err(ApiError::Invalid(ValidationError::invalid(
                "notification",
                "give either a rule (notification, an object as create takes it) or notification_id (a string)",
            )))
        }
    };
    let traces = body
        .traces
        .ok_or_else(|| ValidationError::invalid("traces", "is required"))?;
    if !traces.get().starts_with(['{', '[']) {
        return Err(ApiError::Invalid(ValidationError::invalid(
            "traces",
            "must be a handler input (a JSON object) or a list of them",
        )));
    }
    // One input of any shape, or a list of them.
    let inputs: Vec<&RawValue> = match serde_json::from_str::<Vec<&RawValue>>(traces.get()) {
        Ok(list) => list,
        Err(_) => vec![traces],
    };
    let mut results: Vec<TraceResult> = Vec::new();
    let mut digest = DigestCounts::default();
    let mut fired = 0usize;
    for input in inputs {
        for item in split(input.get()).1 {
            let n = results.len();
            results.push(match item.trace {
                Err(e) => TraceResult {
                    item: n,
                    trace_id: None,
                    error: Some(e.to_string()),
                    explanation: None,
                    would_publish: None,
                    digested: false,
                },
                Ok(trace) => {
                    let view = trace.view();
                    let explanation = explain(&rule, &view, trace.project_id());
                    let digested = explanation.fires
                        && rule
                            .digest
                            .is_some_and(|d| fired >= d.max_messages as usize);
                    fired += usize::from(explanation.fires);
                    if digested {
                        digest.add(&DigestEntry::of(&view));
                    }
                    let would_publish = (explanation.fires && !digested)
                        .then(|| render(&rule, &view, trace.json()))
                        .flatten()
                        .map(Published::from);
                    TraceResult {
                        item: n,
                        trace_id: Some(trace.trace_id().to_owned()),
                        error: None,
                        explanation: Some(explanation),
                        would_publish,
                        digested,
                    }
                }
            });
        }
    }
    let would_digest = rule
        .digest
        .and_then(|d| render_digest(&rule, d.window(now_ms()), &digest))
        .map(Published::from);
    Ok(Json(DryRun {
        notification: rule,
        results,
        would_digest,
    })
    .into_response())
}
