//! Digests: a rule that limits its messages publishes at most `max_messages` a window of
//! `window_seconds` (windows aligned to multiples of it), and every further match of the window
//! is counted into one digest message, published after the window closes. The counts are
//! exact; the digest names the first traces, as many as fit in a message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::ValidationError;
use crate::message::{Message, MAX_MESSAGE_BYTES, MAX_SUBJECT};
use crate::model::Notification;
use crate::topic::NotificationType;
use crate::trace::TraceView;

pub const MIN_WINDOW_SECONDS: u32 = 60;
pub const MAX_WINDOW_SECONDS: u32 = 86_400;
pub const MAX_MESSAGES: u32 = 1000;
/// Trace ids a window keeps for its digest: more than fit in one message.
pub const KEPT_TRACE_IDS: usize = 8000;
/// Values listed per count (`by_user`...); the rest are summed under `"(others)"`.
const LISTED_VALUES: usize = 100;

/// A rule's limit: at most `max_messages` messages a window of `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Digest {
    pub window_seconds: u32,
    pub max_messages: u32,
}

impl Digest {
    /// Reads `"digest": {"window_seconds": W, "max_messages": N}`; errors name the field.
    pub fn parse(v: &Value) -> Result<Digest, ValidationError> {
        let o = v
            .as_object()
            .ok_or_else(|| ValidationError::invalid("digest", "must be an object"))?;
        if let Some(unknown) = o
            .keys()
            .find(|k| !["window_seconds", "max_messages"].contains(&k.as_str()))
        {
            return Err(ValidationError::invalid(
                format!("digest.{unknown}"),
                "is not a digest field (window_seconds, max_messages)",
            ));
        }
        let number = |key: &str, min: u32, max: u32| {
            let path = format!("digest.{key}");
            match o.get(key) {
                None | Some(Value::Null) => Err(ValidationError::invalid(path, "is required")),
                // 300.0 is the integer 300, as JSON Schema reads it.
                Some(v) => v
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && (f64::from(min)..=f64::from(max)).contains(n))
                    .map(|n| n as u32)
                    .ok_or_else(|| {
                        ValidationError::invalid(
                            path,
                            format!("must be an integer in {min}..{max}"),
                        )
                    }),
            }
        };
        Ok(Digest {
            window_seconds: number("window_seconds", MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS)?,
            max_messages: number("max_messages", 0, MAX_MESSAGES)?,
        })
    }

    /// The window holding `at_ms`.
    pub fn window(&self, at_ms: i64) -> Window {
        let len = i64::from(self.window_seconds) * 1000;
        Window {
            start_ms: at_ms.div_euclid(len) * len,
            end_ms: at_ms.div_euclid(len) * len + len,
        }
    }
}

/// A window, `[start_ms, end_ms)` in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Window {
    /// The dedup key's trace id of this window's digest: one digest per (rule, window).
    pub fn digest_id(&self) -> String {
        format!("digest-{}", self.start_ms)
    }
}

/// What one digested match contributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestEntry {
    pub trace_id: String,
    pub trace_name: String,
    pub user: Option<String>,
    pub resource_type: String,
    pub trace_rating: Option<String>,
}

impl DigestEntry {
    pub fn of(trace: &TraceView<'_>) -> DigestEntry {
        let owned = |v: &Option<std::borrow::Cow<'_, str>>| v.as_deref().map(str::to_owned);
        DigestEntry {
            trace_id: owned(&trace.trace_id).unwrap_or_default(),
            trace_name: owned(&trace.trace_name).unwrap_or_default(),
            user: owned(&trace.user_name),
            resource_type: owned(&trace.resource_type).unwrap_or_default(),
            trace_rating: owned(&trace.trace_rating),
        }
    }
}

/// A window's digest so far: exact counts, and the first trace ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestCounts {
    pub matches: u64,
    pub by_trace_name: BTreeMap<String, u64>,
    pub by_user: BTreeMap<String, u64>,
    pub by_resource_type: BTreeMap<String, u64>,
    pub by_trace_rating: BTreeMap<String, u64>,
    /// The first [`KEPT_TRACE_IDS`], in the order they were counted.
    pub trace_ids: Vec<String>,
}

impl DigestCounts {
    pub fn add(&mut self, e: &DigestEntry) {
        self.matches += 1;
        *self.by_trace_name.entry(e.trace_name.clone()).or_default() += 1;
        let unnamed = || "(none)".to_owned();
        *self
            .by_user
            .entry(e.user.clone().unwrap_or_else(unnamed))
            .or_default() += 1;
        *self
            .by_resource_type
            .entry(e.resource_type.clone())
            .or_default() += 1;
        *self
            .by_trace_rating
            .entry(e.trace_rating.clone().unwrap_or_else(unnamed))
            .or_default() += 1;
        if self.trace_ids.len() < KEPT_TRACE_IDS {
            self.trace_ids.push(e.trace_id.clone());
        }
    }
}

/// The most frequent values first, at most [`LISTED_VALUES`], the rest summed.
fn listed(counts: &BTreeMap<String, u64>) -> Map<String, Value> {
    let mut by_count: Vec<(&String, &u64)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut out: Map<String, Value> = by_count
        .iter()
        .take(LISTED_VALUES)
        .map(|(k, v)| ((*k).clone(), json!(v)))
        .collect();
    let others: u64 = by_count.iter().skip(LISTED_VALUES).map(|(_, v)| **v).sum();
    if others > 0 {
        out.insert("(others)".into(), json!(others));
    }
    out
}

/// "5 min", "1 h", "90 s", "1 d".
fn duration(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The digest message of `rule` for `window`; `None` for a rule without a topic or a window
/// with nothing counted. The body lists as many trace ids as fit [`MAX_MESSAGE_BYTES`] and says
/// how many it left out.
pub fn render_digest(
    rule: &Notification,
    window: Window,
    counts: &DigestCounts,
) -> Option<Message> {
    let topic_id = rule.topic_id.clone()?;
    if counts.matches == 0 {
        return None;
    }
    let span = duration((window.end_ms - window.start_ms) / 1000);
    let tail = format!(": {} more matches in {span}", counts.matches);
    let room = MAX_SUBJECT.saturating_sub("[digest] ".len() + tail.len());
    let name: String = rule.notification_name.chars().take(room).collect();
    let subject = format!("[digest] {name}{tail}");
    let mut digest = json!({
        "window_start": window.start_ms,
        "window_end": window.end_ms,
        "matches": counts.matches,
        "by_trace_name": listed(&counts.by_trace_name),
        "by_user": listed(&counts.by_user),
        "by_resource_type": listed(&counts.by_resource_type),
        "by_trace_rating": listed(&counts.by_trace_rating),
    });
    let head = json!({
        "id": rule.notification_id,
        "name": rule.notification_name,
        "project_id": rule.project_id,
    });
    let email = (topic_id.kind() == NotificationType::Smn).then(|| text(rule, window, counts));
    let attributes = match topic_id.kind() {
        NotificationType::Fun => Vec::new(),
        NotificationType::Smn => vec![
            ("notification_id", rule.notification_id.clone()),
            ("notification_name", rule.notification_name.clone()),
            ("digest", "true".to_owned()),
        ],
    };
    let mut m = Message {
        topic_id,
        subject,
        message: String::new(),
        email,
        attributes,
        notification_id: rule.notification_id.clone(),
        trace_id: window.digest_id(),
    };
    // Fewer ids until the message fits: a step or two even for thousands.
    let mut listed_ids = counts.trace_ids.len();
    loop {
        digest["trace_ids"] = json!(&counts.trace_ids[..listed_ids]);
        digest["trace_ids_left_out"] = json!(counts.matches - listed_ids as u64);
        m.message = json!({"notification": head, "digest": digest}).to_string();
        if m.size() <= MAX_MESSAGE_BYTES || listed_ids == 0 {
            return Some(m);
        }
        // An id weighs its bytes, two escaped quotes and a comma in the published document.
        let per_id = counts.trace_ids[..listed_ids]
            .iter()
            .map(|t| t.len() + 5)
            .sum::<usize>()
            / listed_ids;
        let over = m.size() - MAX_MESSAGE_BYTES;
        listed_ids = listed_ids.saturating_sub(over.div_ceil(per_id.max(1)));
    }
}

/// The digest as an email subscriber reads it.
fn text(rule: &Notification, window: Window, counts: &DigestCounts) -> String {
    let mut out = format!(
        "The key event notification rule \"{}\" matched {} operations between {} and {} (UTC) \
         beyond the {} messages it sends a window. This digest counts them.\n",
        rule.notification_name,
        counts.matches,
        utc(window.start_ms),
        utc(window.end_ms),
        rule.digest.map_or(0, |d| d.max_messages),
    );
    for (title, counts) in [
        ("Operations", &counts.by_trace_name),
        ("Users", &counts.by_user),
        ("Resource types", &counts.by_resource_type),
        ("Ratings", &counts.by_trace_rating),
    ] {
        out.push_str(&format!("\n{title}:\n"));
        for (value, n) in listed(counts).iter().take(10) {
            let n = n.as_u64().unwrap_or_default();
            out.push_str(&format!("  {n:>7}  {value}\n"));
        }
    }
    out.push_str(&format!("\nRule id: {}\n", rule.notification_id));
    out
}

/// `2026-12-02 09:35` from epoch milliseconds.
fn utc(ms: i64) -> String {
    let (days, secs) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let (year, month, day) = crate::readable::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs / 3600,
        secs / 60 % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::CreateBody;

    fn rule(digest: &str) -> Notification {
        let body = format!(
            r#"{{"notification_name": "key_ops", "operation_type": "complete",
                "topic_id": "urn:smn:eu-west-1:p1:ops", "digest": {digest}}}"#
        );
        CreateBody::parse(body.as_bytes())
            .unwrap()
            .into_notification("n-1".into(), "p1".into(), 0)
    }

    fn entry(i: usize) -> DigestEntry {
        DigestEntry {
            trace_id: format!("{i:08x}-1111-2222-3333-444444444444"),
            trace_name: ["deleteServer", "stopServer"][i % 2].into(),
            user: Some(format!("user-{}", i % 3)),
            resource_type: "ecs".into(),
            trace_rating: Some("warning".into()),
        }
    }

    #[test]
    fn each_bad_value_names_its_field() {
        for (digest, field) in [
            (
                r#"{"window_seconds": 59, "max_messages": 3}"#,
                "digest.window_seconds",
            ),
            (
                r#"{"window_seconds": 86401, "max_messages": 3}"#,
                "digest.window_seconds",
            ),
            (
                r#"{"window_seconds": 300.5, "max_messages": 3}"#,
                "digest.window_seconds",
            ),
            (r#"{"max_messages": 3}"#, "digest.window_seconds"),
            (
                r#"{"window_seconds": 300, "max_messages": 1001}"#,
                "digest.max_messages",
            ),
            (
                r#"{"window_seconds": 300, "max_messages": -1}"#,
                "digest.max_messages",
            ),
            (
                r#"{"window_seconds": 300, "max_messages": "3"}"#,
                "digest.max_messages",
            ),
            (
                r#"{"window_seconds": 300, "max_messages": 3, "x": 1}"#,
                "digest.x",
            ),
            (r#"[300, 3]"#, "digest"),
        ] {
            let v: Value = serde_json::from_str(digest).unwrap();
            assert_eq!(Digest::parse(&v).unwrap_err().field, field, "{digest}");
        }
        let v = json!({"window_seconds": 60.0, "max_messages": 0});
        assert_eq!(
            Digest::parse(&v).unwrap(),
            Digest {
                window_seconds: 60,
                max_messages: 0
            }
        );
    }

    #[test]
    fn windows_are_aligned_to_their_length() {
        let d = Digest {
            window_seconds: 300,
            max_messages: 3,
        };
        let w = d.window(1_764_668_123_456);
        assert_eq!((w.start_ms % 300_000, w.end_ms - w.start_ms), (0, 300_000));
        assert!(w.start_ms <= 1_764_668_123_456 && 1_764_668_123_456 < w.end_ms);
        assert_eq!(d.window(w.end_ms).start_ms, w.end_ms);
    }

    #[test]
    fn a_digest_counts_exactly_and_reads_well() {
        let rule = rule(r#"{"window_seconds": 300, "max_messages": 3}"#);
        let mut counts = DigestCounts::default();
        (0..397).for_each(|i| counts.add(&entry(i)));
        let w = Window {
            start_ms: 1_796_203_800_000,
            end_ms: 1_796_204_100_000,
        };
        let m = render_digest(&rule, w, &counts).unwrap();
        assert_eq!(m.subject, "[digest] key_ops: 397 more matches in 5 min");
        let body: Value = serde_json::from_str(&m.message).unwrap();
        let d = &body["digest"];
        assert_eq!(d["matches"], 397);
        assert_eq!(d["by_trace_name"]["deleteServer"], 199);
        assert_eq!(d["by_trace_name"]["stopServer"], 198);
        assert_eq!(d["by_user"]["user-0"], 133);
        assert_eq!(d["trace_ids"].as_array().unwrap().len(), 397);
        assert_eq!(d["trace_ids_left_out"], 0);
        assert_eq!(body["notification"]["id"], "n-1");
        let email = m.email.unwrap();
        assert!(
            email.contains("matched 397 operations between 2026-12-02 09:30 and 2026-12-02 09:35"),
            "{email}"
        );
        assert!(email.contains("    199  deleteServer"), "{email}");
        assert_eq!(m.trace_id, "digest-1796203800000");
    }

    #[test]
    fn a_large_digest_fits_a_message_and_says_what_it_left_out() {
        let rule = rule(r#"{"window_seconds": 3600, "max_messages": 0}"#);
        let mut counts = DigestCounts::default();
        (0..10_000).for_each(|i| counts.add(&entry(i)));
        let m = render_digest(&rule, rule.digest.unwrap().window(0), &counts).unwrap();
        assert!(m.size() <= MAX_MESSAGE_BYTES, "{}", m.size());
        assert!(m.subject.len() <= MAX_SUBJECT);
        let d: Value = serde_json::from_str::<Value>(&m.message).unwrap()["digest"].clone();
        let listed = d["trace_ids"].as_array().unwrap().len() as u64;
        assert!(listed > 1000, "as many as fit: {listed}");
        assert_eq!(listed + d["trace_ids_left_out"].as_u64().unwrap(), 10_000);
        assert_eq!(d["matches"], 10_000);
    }

    #[test]
    fn a_long_name_keeps_the_subject_short() {
        let mut rule = rule(r#"{"window_seconds": 86400, "max_messages": 1}"#);
        rule.notification_name = "n".repeat(64);
        let mut counts = DigestCounts::default();
        (0..123_456).for_each(|i| counts.add(&entry(i)));
        let m = render_digest(&rule, rule.digest.unwrap().window(0), &counts).unwrap();
        assert!(m.subject.len() <= MAX_SUBJECT, "{}", m.subject);
        assert!(
            m.subject.ends_with(": 123456 more matches in 1 d"),
            "{}",
            m.subject
        );
    }
}
