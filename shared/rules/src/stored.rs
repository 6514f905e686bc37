//! Rules read back from storage: checked as a modify body is, so that no invalid rule enters
//! the program from storage either.

use serde_json::Value;

use crate::body::{required_str, root, UpdateBody};
use crate::error::ValidationError;
use crate::model::Notification;

/// Reads back a rule as [`Notification`] serializes it (the storage format), checking it as a
/// modify body so that no invalid rule enters the program from storage either.
pub fn parse_stored(v: &Value) -> Result<Notification, ValidationError> {
    let body = UpdateBody::from_value(v)?;
    let o = root(v)?;
    let project_id = required_str(o, "project_id", "project_id")?.to_owned();
    let create_time = o
        .get("create_time")
        .and_then(Value::as_i64)
        .ok_or_else(|| ValidationError::invalid("create_time", "must be an integer"))?;
    Ok(body.into_stored(project_id, create_time))
}
