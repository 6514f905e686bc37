//! The contract of key event notifications as code: the notification model and its validation,
//! the trace (CTS, CloudTrail and every input envelope), the compiled matcher and the message a
//! match publishes. Pure: no I/O, no clock, no AWS types; callers pass time and ids in.
//!
//! A rule from the body `POST /v3/{project_id}/notifications` takes, compiled with the
//! project's others, matched against a trace, and the message its topic gets:
//!
//! ```
//! use rules::message::render;
//! use rules::{CompiledRules, CreateBody, Trace};
//!
//! let project = "24edf66e79d04187acb99a463e610764";
//! let body = format!(r#"{{
//!     "notification_name": "key_ops", "operation_type": "customized",
//!     "operations": [{{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}}],
//!     "topic_id": "urn:smn:eu-west-1:{project}:key_events",
//!     "filter": {{"is_support_filter": true, "condition": "AND", "rule": ["code != 500"]}}
//! }}"#);
//! // Validated as the API validates it; the caller gives the id and the creation time.
//! let rule = CreateBody::parse(body.as_bytes())?.into_notification("rule-1".into(), project.into(), 0);
//! let compiled = CompiledRules::compile([&rule]).expect("one rule is within the limit");
//!
//! let trace = Trace::from_json(format!(r#"{{
//!     "trace_id": "36f675cc-81e7-4ef5-e8e2-5d940ed90475", "trace_name": "deleteServer",
//!     "service_type": "ECS", "resource_type": "ecs", "resource_name": "web-prod-01",
//!     "code": "200", "trace_rating": "normal", "user": {{"name": "ops-alice"}},
//!     "project_id": "{project}"
//! }}"#), None)?;
//! let view = trace.view();
//! let fired: Vec<usize> = compiled.matches(&view).iter().collect();
//! assert_eq!(fired, [0]);
//!
//! let message = render(&compiled.rules()[0], &view, trace.json()).expect("the rule has a topic");
//! assert_eq!(message.subject, "[normal] ECS ecs deleteServer by ops-alice");
//! assert!(message.message.starts_with(r#"{"notification":{"id":"rule-1""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backtest;
pub mod body;
pub mod catalog;
pub mod change;
pub mod digest;
pub mod error;
pub mod explain;
mod fields;
pub mod filter;
mod fit;
pub mod limits;
pub mod matcher;
pub mod message;
pub mod model;
pub mod readable;
pub mod stored;
pub mod topic;
pub mod trace;

pub use body::{CreateBody, UpdateBody};
pub use error::{ErrorCode, ValidationError};
pub use matcher::{CompiledRules, Fired};
pub use model::{Notification, OperationType, Status};
pub use topic::{NotificationType, TopicId};
pub use trace::{Trace, TraceError, TraceView};
