//! The message a match publishes (contract part 4). To a topic: a readable subject, the JSON
//! body carrying the trace exactly as received, a readable text for email subscribers, and
//! attributes for subscription filter policies. To a function: the payload `{"cts":<trace>}`.
//! Every message fits [`MAX_MESSAGE_BYTES`]: a trace too large for it is cut ([`crate::fit`]) and
//! the cut named in the body.

use serde_json::json;

use crate::model::Notification;
use crate::topic::{NotificationType, TopicId};
use crate::trace::{Details, Trace, TraceView};

/// Subjects stay below this many ASCII characters.
pub const MAX_SUBJECT: usize = 99;
/// The most a message may weigh, subject, body and attributes together: SNS's limit for one
/// message and for one `PublishBatch` call, Lambda's for an asynchronous invocation's payload
/// (the older, smaller one, which FunctionGraph shares), and the local targets' too.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Attribute values are cut to this many bytes: they are for filter policies, which match
/// short values.
pub const MAX_ATTRIBUTE_VALUE: usize = 1024;

/// One message for one (rule, trace) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Where it goes: a topic, or a function.
    pub topic_id: TopicId,
    pub subject: String,
    /// For a topic, `{"notification":{id,name,project_id},"trace":<trace>}`, what SNS sends to
    /// every subscriber but email; for a function, the payload `{"cts":<trace>}`. The trace is
    /// embedded verbatim; when it had to be cut, the body also holds `"truncated":[<what was
    /// cut>]`.
    pub message: String,
    /// For a topic, the readable text its email subscribers get ([`crate::readable`]).
    pub email: Option<String>,
    /// String attributes, at most 10, none empty (topics only).
    pub attributes: Vec<(&'static str, String)>,
    pub notification_id: String,
    pub trace_id: String,
}

impl Message {
    /// A topic (`smn`) or a function (`fun`).
    pub fn target(&self) -> NotificationType {
        self.topic_id.kind()
    }

    /// What the target counts against its limit. A topic counts the subject, the `Message`
    /// string SNS gets ([`Message::sns_message`]) and each attribute's name, type and value; a
    /// function counts its payload.
    pub fn size(&self) -> usize {
        self.weigh(json_string_len)
    }

    /// At least [`Message::size`], found without reading the body: escaping at most
    /// sextuples a byte.
    pub fn size_bound(&self) -> usize {
        self.weigh(|s| 6 * s.len() + 2)
    }

    /// The size, with `as_json_string` the length of a text written as a JSON string.
    fn weigh(&self, as_json_string: impl Fn(&str) -> usize) -> usize {
        if self.target() == NotificationType::Fun {
            return self.message.len();
        }
        let body = match &self.email {
            Some(email) => {
                r#"{"default":,"email":}"#.len()
                    + as_json_string(&self.message)
                    + as_json_string(email)
            }
            None => self.message.len(),
        };
        self.subject.len()
            + body
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + "String".len() + v.len())
                .sum::<usize>()
    }

    /// The `Message` of an SNS publish: with an email text, the per-protocol document of
    /// `MessageStructure: json` (`default` the JSON body, `email` the text); else the body.
    pub fn sns_message(&self) -> String {
        match &self.email {
            Some(email) => json!({"default": self.message, "email": email}).to_string(),
            None => self.message.clone(),
        }
    }
}

/// Appends `s` as a JSON string literal, escaped as serde_json escapes it.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        match escape {
            "" => out.push_str(&format!("\\u{b:04x}")),
            escape => out.push_str(escape),
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

/// The length of `s` as a JSON string literal, quotes included, as serde_json escapes it.
fn json_string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Renders the message of `rule` firing on a trace; `trace_json` is the trace as received.
/// `None` for a rule without a topic, which fires nowhere.
pub fn render(rule: &Notification, trace: &TraceView<'_>, trace_json: &str) -> Option<Message> {
    render_with(rule, trace, trace_json, None)
}

/// [`render`] for a trace read from an input, whose scan kept what the readable text needs
/// (`view` is its view): the trace is not read again.
pub fn render_trace(rule: &Notification, trace: &Trace, view: &TraceView<'_>) -> Option<Message> {
    render_with(rule, view, trace.json(), trace.details())
}

fn render_with(
    rule: &Notification,
    trace: &TraceView<'_>,
    trace_json: &str,
    details: Option<Details<'_>>,
) -> Option<Message> {
    let topic_id = rule.topic_id.clone()?;
    let target = topic_id.kind();
    let head = match target {
        NotificationType::Smn => {
            let mut head = String::with_capacity(160);
            head.push_str("{\"notification\":{\"id\":");
            push_json_string(&mut head, &rule.notification_id);
            head.push_str(",\"name\":");
            push_json_string(&mut head, &rule.notification_name);
            head.push_str(",\"project_id\":");
            push_json_string(&mut head, &rule.project_id);
            head.push_str("},\"trace\":");
            head
        }
        NotificationType::Fun => "{\"cts\":".to_owned(),
    };
    let body = |trace: &str, cut: Option<&[String]>| {
        let mut body = String::with_capacity(head.len() + trace.len() + 1);
        body.push_str(&head);
        body.push_str(trace);
        if let Some(cut) = cut {
            body.push_str(",\"truncated\":");
            body.push_str(&json!(cut).to_string());
        }
        body.push('}');
        body
    };
    let attributes: Vec<(&'static str, String)> = match target {
        NotificationType::Fun => Vec::new(),
        NotificationType::Smn => [
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
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| (k, cut_to(v, MAX_ATTRIBUTE_VALUE)))
        })
        .collect(),
    };
    let mut m = Message {
        topic_id,
        subject: subject(trace),
        message: body(trace_json.trim(), None),
        email: (target == NotificationType::Smn)
            .then(|| crate::readable::text(rule, trace, trace_json, details)),
        attributes,
        notification_id: rule.notification_id.clone(),
        trace_id: trace.trace_id.as_deref().unwrap_or_default().to_owned(),
    };
    // A message that fits at its bound is not measured exactly.
    let mut over = if m.size_bound() <= MAX_MESSAGE_BYTES {
        0
    } else {
        m.size().saturating_sub(MAX_MESSAGE_BYTES)
    };
    // The trace's share: what the envelope and the list of cuts leave, found in a step or two.
    // A byte of the body may weigh more once escaped into the per-protocol document: the
    // excess is taken off the budget in body bytes, at the ratio the last attempt weighed.
    let mut budget = trace_json.trim().len();
    while over > 0 {
        let weight = (m.size() as f64 / m.message.len().max(1) as f64).max(1.0);
        budget = budget.saturating_sub(((over as f64 / weight).ceil() as usize).max(1));
        let (text, cut) = crate::fit::fit(trace_json, budget).unwrap_or_else(|| {
            (
                json!({"trace_id": cut_to(&m.trace_id, 256)}).to_string(),
                vec!["*".to_owned()],
            )
        });
        m.message = body(&text, Some(&cut));
        over = m.size().saturating_sub(MAX_MESSAGE_BYTES);
    }
    Some(m)
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut_to(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// `[warning] ECS ecs deleteServer by ops-alice`: printable ASCII only, one line, cut to fit.
pub fn subject(trace: &TraceView<'_>) -> String {
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
        let m = render(&rule(), &scan(trace).unwrap(), trace).unwrap();
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
        assert_eq!(m.topic_id.as_str(), "urn:smn:r:p:t");
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
    fn strings_are_written_as_serde_json_writes_them() {
        let mut every_control: String = (0u8..0x20).map(char::from).collect();
        every_control.push_str("\"\\/\u{7f}é😀 plain");
        for s in ["", "plain", "a\"b", &every_control] {
            let mut out = String::from("kept");
            push_json_string(&mut out, s);
            assert_eq!(out, format!("kept{}", serde_json::to_string(s).unwrap()));
        }
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

    fn trace_with(extra: serde_json::Value) -> String {
        let mut t = serde_json::json!({
            "trace_id": "b3f7", "trace_name": "putBucketPolicy", "service_type": "OBS",
            "resource_type": "bucket", "resource_id": "rid", "resource_name": "logs", "code": "200",
            "trace_rating": "warning", "trace_type": "ApiCall", "time": 1732520000000u64,
            "source_ip": "203.0.113.24", "user": {"name": "ops-alice", "id": "u1"}
        });
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t.to_string()
    }

    #[test]
    fn a_600_kb_trace_is_cut_to_fit_and_keeps_its_identity() {
        let trace = trace_with(serde_json::json!({
            "request": "q".repeat(300_000), "response": {"body": "s".repeat(300_000)}
        }));
        assert!(trace.len() > 600_000);
        let m = render(&rule(), &scan(&trace).unwrap(), &trace).unwrap();
        assert!(m.size() <= MAX_MESSAGE_BYTES, "{}", m.size());
        let v: serde_json::Value = serde_json::from_str(&m.message).unwrap();
        assert_eq!(v["truncated"], serde_json::json!(["request", "response"]));
        let full: serde_json::Value = serde_json::from_str(&trace).unwrap();
        for field in [
            "trace_id",
            "trace_name",
            "service_type",
            "resource_type",
            "resource_id",
            "resource_name",
            "code",
            "trace_rating",
            "trace_type",
            "time",
            "source_ip",
            "user",
        ] {
            assert_eq!(v["trace"][field], full[field], "{field}");
        }
        assert_eq!(m.trace_id, "b3f7");
    }

    #[test]
    fn a_trace_that_fits_is_not_touched() {
        let trace = trace_with(serde_json::json!({"request": "q".repeat(200_000)}));
        let m = render(&rule(), &scan(&trace).unwrap(), &trace).unwrap();
        assert!(m.message.ends_with(&format!("\"trace\":{trace}}}")));
    }

    #[test]
    fn every_message_fits_whatever_makes_the_trace_large() {
        let escapes = "\u{1}".repeat(100_000);
        let shapes = [
            serde_json::json!({"message": "m".repeat(400_000)}),
            serde_json::json!({"message": escapes}),
            serde_json::json!({"resource_name": "n".repeat(400_000)}),
            serde_json::json!({"trace_name": "t".repeat(300_000), "user": {"name": "u".repeat(300_000)}}),
            serde_json::json!({"trace_id": "i".repeat(400_000)}),
            serde_json::json!({"numbers": (0..100_000).collect::<Vec<u32>>()}),
            serde_json::json!({"nested": {"a": {"b": vec!["x".repeat(1000); 400]}}}),
            serde_json::json!({"many": (0..30_000).map(|i| format!("value-{i}")).collect::<Vec<_>>(), "é": "é".repeat(100_000)}),
        ];
        for (i, extra) in shapes.into_iter().enumerate() {
            let trace = trace_with(extra);
            let m = render(&rule(), &scan(&trace).unwrap(), &trace).unwrap();
            assert!(m.size() <= MAX_MESSAGE_BYTES, "shape {i}: {}", m.size());
            let v: serde_json::Value = serde_json::from_str(&m.message).expect("valid JSON");
            assert!(!v["truncated"].as_array().unwrap().is_empty(), "shape {i}");
            if i != 4 {
                assert_eq!(v["trace"]["trace_id"], "b3f7", "shape {i}");
            }
            assert!(m
                .attributes
                .iter()
                .all(|(_, v)| v.len() <= MAX_ATTRIBUTE_VALUE));
        }
    }
}
