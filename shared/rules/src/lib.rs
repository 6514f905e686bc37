//! The contract of key event notifications as code: the notification model and its validation,
//! the trace (CTS, CloudTrail and every input envelope), the compiled matcher and the message a
//! match publishes. Pure: no I/O, no clock, no AWS types; callers pass time and ids in.

pub mod body;
pub mod catalog;
pub mod error;
pub mod explain;
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
