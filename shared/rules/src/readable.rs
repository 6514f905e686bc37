//! The text an email subscriber reads: what happened, to which resource, by whom, from where,
//! with what result, when, how it was rated, which rule fired and the trace's id, one line
//! each. A person reads it in a mail client, so it is plain text, each value on one line and
//! cut to a readable length; a field the trace lacks is left out.

use std::borrow::Cow;

use serde::Deserialize;

use crate::model::Notification;
use crate::trace::TraceView;

/// Values longer than this many bytes are cut (with `...`): a line, not a document.
const MAX_VALUE: usize = 200;

/// The fields the view does not hold; everything else of the trace is skipped unread.
#[derive(Deserialize, Default)]
struct Details<'a> {
    #[serde(borrow, default)]
    source_ip: Option<Cow<'a, str>>,
    #[serde(default)]
    time: Option<serde_json::Value>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user: Option<User<'a>>,
}

#[derive(Deserialize, Default)]
struct User<'a> {
    #[serde(borrow, default)]
    domain: Option<Domain<'a>>,
    #[serde(borrow, default)]
    account_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct Domain<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

/// The readable text of `rule` firing on a trace (`trace_json` as received).
pub fn text(rule: &Notification, trace: &TraceView<'_>, trace_json: &str) -> String {
    // A field of an unexpected type leaves the details out, never the message.
    let details: Details<'_> = serde_json::from_str(trace_json).unwrap_or_default();
    let v = |s: &Option<Cow<'_, str>>| s.as_deref().filter(|s| !s.is_empty()).map(one_line);
    let mut out = format!(
        "The key event notification rule \"{}\" matched this operation.\n\n",
        one_line(&rule.notification_name)
    );
    let mut line = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            out.push_str(&format!("{label:<10}{value}\n"));
        }
    };
    let what = [&trace.service_type, &trace.trace_name]
        .into_iter()
        .filter_map(&v)
        .collect::<Vec<_>>()
        .join(" ");
    let kind = v(&trace.trace_type).map_or(String::new(), |t| format!(" ({t})"));
    line("What:", (!what.is_empty()).then(|| format!("{what}{kind}")));
    let resource = [&trace.resource_type, &trace.resource_name]
        .into_iter()
        .filter_map(&v)
        .collect::<Vec<_>>()
        .join(" ");
    let resource = match (resource.is_empty(), v(&trace.resource_id)) {
        (true, id) => id,
        (false, Some(id)) => Some(format!("{resource} ({id})")),
        (false, None) => Some(resource),
    };
    line("Resource:", resource);
    let user = details.user.unwrap_or_default();
    let account = user
        .domain
        .and_then(|d| v(&d.name))
        .or_else(|| v(&user.account_id));
    line(
        "By:",
        match (v(&trace.user_name), account) {
            (Some(u), Some(a)) => Some(format!("{u} (account {a})")),
            (u, None) => u,
            (None, Some(a)) => Some(format!("account {a}")),
        },
    );
    line("From:", v(&details.source_ip));
    line(
        "Result:",
        match (v(&trace.code), v(&details.message)) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (c, None) => c,
            (None, m) => m,
        },
    );
    line("Time:", details.time.as_ref().and_then(utc));
    line("Rating:", v(&trace.trace_rating));
    line("Rule:", Some(one_line(&rule.notification_name)));
    line("Trace id:", v(&trace.trace_id));
    out
}

/// `s` on one line (control characters as spaces), cut to [`MAX_VALUE`] bytes.
fn one_line(s: &str) -> String {
    let mut end = s.len().min(MAX_VALUE);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out: String = s[..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if end < s.len() {
        out.push_str("...");
    }
    out
}

/// Epoch milliseconds (a number, or digits in a string) as `2024-11-25 07:33:20 UTC`.
fn utc(time: &serde_json::Value) -> Option<String> {
    let ms = match time {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    let (days, secs) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ))
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days from 1970-01-01 of a proleptic Gregorian date (the inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_map_to_days_and_back() {
        for days in [-800_000, -1, 0, 11_016, 20_052, 20_423, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn days_map_to_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_052), (2024, 11, 25));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(
            utc(&serde_json::json!(1732520000000u64)).as_deref(),
            Some("2024-11-25 07:33:20 UTC")
        );
        assert_eq!(utc(&serde_json::json!("x")), None);
    }

    #[test]
    fn values_stay_on_one_short_line() {
        assert_eq!(one_line("a\nb\u{7}c"), "a b c");
        let long = one_line(&"é".repeat(300));
        assert!(
            long.len() <= MAX_VALUE + 3 && long.ends_with("..."),
            "{long}"
        );
    }
}
