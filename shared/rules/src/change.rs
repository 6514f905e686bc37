//! Rule changes as traces: each create, modify, status change and delete made through the API
//! is a CTS trace of the project (service `CTS`, resource type `notification`), so that a rule
//! can notify when someone disables or deletes the rule that watches for them.

use serde_json::json;

use crate::model::Notification;

/// What a call did to a rule; its CTS trace name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    /// A modify that changed more than the status.
    Update,
    /// A modify that changed the status alone (enable or disable).
    UpdateStatus,
    Delete,
}

impl Change {
    /// The change `old` → `new` made by a modify.
    pub fn of_update(old: &Notification, new: &Notification) -> Change {
        let mut same_status = new.clone();
        same_status.status = old.status;
        if new.status != old.status && same_status == *old {
            Change::UpdateStatus
        } else {
            Change::Update
        }
    }

    pub fn trace_name(self) -> &'static str {
        match self {
            Change::Create => "createNotification",
            Change::Update => "updateNotification",
            Change::UpdateStatus => "updateNotificationStatus",
            Change::Delete => "deleteNotification",
        }
    }
}

/// Who made a change, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The access key, the JWT subject, or `anonymous`.
    pub name: String,
    pub source_ip: Option<String>,
}

/// One change of one rule, as the API saw it.
#[derive(Debug, Clone)]
pub struct ChangeRecord<'a> {
    pub trace_id: &'a str,
    pub change: Change,
    /// The rule after the change (before it, for a delete).
    pub rule: &'a Notification,
    pub caller: &'a Caller,
    /// The request: its body, or for a delete its query.
    pub request: &'a str,
    pub code: u16,
    /// The response body (empty for a delete).
    pub response: &'a str,
    pub at_ms: i64,
}

/// The CTS trace of a change. Removing a watcher (disabling, deleting) is rated `warning`.
pub fn change_trace(c: &ChangeRecord<'_>) -> String {
    let disabling = c.change == Change::UpdateStatus && !c.rule.is_active();
    let rating = if c.change == Change::Delete || disabling {
        "warning"
    } else {
        "normal"
    };
    json!({
        "trace_id": c.trace_id,
        "trace_name": c.change.trace_name(),
        "trace_rating": rating,
        "trace_type": "ApiCall",
        "service_type": "CTS",
        "resource_type": "notification",
        "resource_id": c.rule.notification_id,
        "resource_name": c.rule.notification_name,
        "project_id": c.rule.project_id,
        "api_version": "v3",
        "code": c.code.to_string(),
        "source_ip": c.caller.source_ip,
        "user": {"name": c.caller.name},
        "request": c.request,
        "response": c.response,
        "time": c.at_ms,
        "record_time": c.at_ms,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::trace::Trace;
    use crate::CreateBody;

    fn rule() -> Notification {
        CreateBody::parse(
            br#"{"notification_name": "watch", "operation_type": "complete",
                 "topic_id": "urn:smn:eu-west-1:p1:ops"}"#,
        )
        .unwrap()
        .into_notification("n-1".into(), "p1".into(), 5)
    }

    #[test]
    fn a_status_change_alone_is_update_notification_status() {
        let old = rule();
        let mut disabled = old.clone();
        disabled.status = Status::Disabled;
        assert_eq!(Change::of_update(&old, &disabled), Change::UpdateStatus);
        let mut renamed = disabled.clone();
        renamed.notification_name = "watch2".into();
        assert_eq!(Change::of_update(&old, &renamed), Change::Update);
        assert_eq!(Change::of_update(&old, &old), Change::Update);
    }

    #[test]
    fn the_trace_names_the_caller_and_reads_as_any_trace() {
        let mut disabled = rule();
        disabled.status = Status::Disabled;
        let caller = Caller {
            name: "HPUAKEY0001".into(),
            source_ip: Some("203.0.113.9".into()),
        };
        let json = change_trace(&ChangeRecord {
            trace_id: "t-1",
            change: Change::UpdateStatus,
            rule: &disabled,
            caller: &caller,
            request: r#"{"status":"disabled"}"#,
            code: 200,
            response: "{}",
            at_ms: 1_000,
        });
        let trace = Trace::from_json(json, None).unwrap();
        let view = trace.view();
        assert_eq!(view.trace_name.as_deref(), Some("updateNotificationStatus"));
        assert_eq!(view.service_type.as_deref(), Some("CTS"));
        assert_eq!(view.resource_type.as_deref(), Some("notification"));
        assert_eq!(view.user_name.as_deref(), Some("HPUAKEY0001"));
        assert_eq!(view.trace_rating.as_deref(), Some("warning"));
        assert_eq!(view.resource_name.as_deref(), Some("watch"));
        assert_eq!(trace.project_id(), "p1");
        assert!(trace.json().contains(r#""source_ip":"203.0.113.9""#));
    }
}
