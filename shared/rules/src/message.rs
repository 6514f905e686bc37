//! The message a match publishes (contract part 4): a readable subject, the JSON body carrying
//! the trace exactly as received, and attributes for subscription filter policies.

use serde_json::json;

use crate::model::Notification;
use crate::trace::TraceView;

/// Subjects stay below this many ASCII characters.
pub const MAX_SUBJECT: usize = 99;

/// One message for one (rule, trace) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic_id: String,
    pub subject: String,
    /// `{"notification":{id,name,project_id},"trace":<trace>}`, the trace embedded verbatim.
    pub message: String,
    /// String attributes, at most 10, none empty.
    pub attributes: Vec<(&'static str, String)>,
}

/// Renders the message of `rule` firing on a trace; `trace_json` is the trace as received.
pub fn render(rule: &Notification, trace: &TraceView, trace_json: &str) -> Message {
    let head = json!({
        "id": rule.notification_id,
        "name": rule.notification_name,
        "project_id": rule.project_id,
    });
    let message = format!(
        "{{\"notification\":{head},\"trace\":{}}}",
        trace_json.trim()
    );
    let attributes = [
        ("notification_id", Some(rule.notification_id.as_str())),
        ("notification_name", Some(rule.notification_name.as_str())),
        ("service_type", trace.service_type.as_deref()),
        ("resource_type", trace.resource_type.as_deref()),
        ("trace_name", trace.trace_name.as_deref()),
        ("trace_rating", trace.trace_rating.as_deref()),
        ("trace_type", trace.trace_type.as_deref()),
        ("user_name", trace.user_name.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v.to_owned())))
    .collect();
    Message {
        topic_id: rule
            .topic_id
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        subject: subject(trace),
        message,
        attributes,
    }
}

/// `[warning] ECS ecs deleteServer by ops-alice`: printable ASCII only, one line, cut to fit.
pub fn subject(trace: &TraceView) -> String {
    let mut s = String::new();
    if let Some(r) = &trace.trace_rating {
        s.push_str(&format!("[{r}] "));
    }
    for part in [&trace.service_type, &trace.resource_type, &trace.trace_name]
        .into_iter()
        .flatten()
    {
        s.push_str(part);
        s.push(' ');
    }
    if let Some(u) = &trace.user_name {
        s.push_str("by ");
        s.push_str(u);
    }
    let mut out: String = s
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(MAX_SUBJECT)
        .collect();
    if out.is_empty() {
        out.push_str("Key event");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::scan;
    use crate::CreateBody;

    fn rule() -> Notification {
        let body = br#"{"notification_name":"key_ops","operation_type":"complete","topic_id":"urn:smn:r:p:t"}"#;
        CreateBody::parse(body)
            .unwrap()
            .into_notification("n1".into(), "p1".into(), 0)
    }

    #[test]
    fn the_message_carries_the_trace_verbatim() {
        let trace = r#"{"trace_id":"t1","trace_name":"deleteServer","service_type":"ECS","resource_type":"ecs","z":{"b":1,"a":2},"user":{"name":"ops-alice"},"trace_rating":"warning"}"#;
        let m = render(&rule(), &scan(trace).unwrap(), trace);
        assert!(
            m.message.ends_with(&format!("\"trace\":{trace}}}")),
            "key order and spacing kept"
        );
        let v: serde_json::Value = serde_json::from_str(&m.message).unwrap();
        assert_eq!(
            v["notification"],
            serde_json::json!({"id": "n1", "name": "key_ops", "project_id": "p1"})
        );
        assert_eq!(m.subject, "[warning] ECS ecs deleteServer by ops-alice");
        assert_eq!(m.topic_id, "urn:smn:r:p:t");
        let names: Vec<&str> = m.attributes.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "notification_id",
                "notification_name",
                "service_type",
                "resource_type",
                "trace_name",
                "trace_rating",
                "user_name"
            ]
        );
    }

    #[test]
    fn subjects_are_short_printable_ascii_on_one_line() {
        let trace = format!(
            r#"{{"trace_id":"t","trace_name":"{}","service_type":"ECS","resource_type":"ecs","user":{{"name":"é\nvil"}}}}"#,
            "a".repeat(64)
        );
        let s = subject(&scan(&trace).unwrap());
        assert!(
            s.len() <= MAX_SUBJECT && s.is_ascii() && !s.contains('\n'),
            "{s:?}"
        );
        let short = r#"{"trace_id":"t","trace_name":"x","service_type":"S","resource_type":"r","user":{"name":"é\nv"}}"#;
        assert_eq!(subject(&scan(short).unwrap()), "S r x by ??v");
    }
}
