//! The text an email subscriber reads: what happened, to which resource, by whom, from where,
//! with what result, when, how it was rated, which rule fired and the trace's id, one line
//! each. A person reads it in a mail client, so it is plain text, each value on one line and
//! cut to a readable length; a field the trace lacks is left out.

use std::borrow::Cow;

use crate::model::Notification;
use crate::trace::{Details, TraceView};

/// Values longer than this many bytes are cut (with `...`): a line, not a document.
const MAX_VALUE: usize = 200;

/// Labels are padded to this many columns.
const LABEL_WIDTH: usize = 10;

/// The readable text of `rule` firing on a trace (`trace_json` as received); what the view does
/// not hold is in `details`, or read from the trace when they are not given.
pub fn text(
    rule: &Notification,
    trace: &TraceView<'_>,
    trace_json: &str,
    details: Option<Details<'_>>,
) -> String {
    // A member of an unexpected type is left out, never the message.
    let details =
        details.unwrap_or_else(|| crate::trace::trace_details(trace_json).unwrap_or_default());
    let mut out = String::with_capacity(640);
    out.push_str("The key event notification rule \"");
    push_one_line(&mut out, &rule.notification_name);
    out.push_str("\" matched this operation.\n\n");
    line(&mut out, "What:", |out| {
        if join(out, [v(&trace.service_type), v(&trace.trace_name)]) {
            if let Some(kind) = v(&trace.trace_type) {
                push_all(out, [" (", kind, ")"]);
            }
        }
    });
    line(&mut out, "Resource:", |out| {
        let named = join(out, [v(&trace.resource_type), v(&trace.resource_name)]);
        match (named, v(&trace.resource_id)) {
            (true, Some(id)) => push_all(out, [" (", id, ")"]),
            (false, Some(id)) => push_one_line(out, id),
            (_, None) => {}
        }
    });
    let account = v(&details.user_domain_name).or(v(&details.user_account_id));
    line(&mut out, "By:", |out| {
        match (v(&trace.user_name), account) {
            (Some(u), Some(a)) => push_all(out, [u, " (account ", a, ")"]),
            (Some(u), None) => push_one_line(out, u),
            (None, Some(a)) => push_all(out, ["account ", a]),
            (None, None) => {}
        }
    });
    line(&mut out, "From:", |out| {
        push_all(out, v(&details.source_ip))
    });
    line(&mut out, "Result:", |out| {
        join_with(out, ": ", [v(&trace.code), v(&details.message)]);
    });
    line(&mut out, "Time:", |out| {
        if let Some(time) = trace.time.as_deref().and_then(utc) {
            out.push_str(&time);
        }
    });
    line(&mut out, "Rating:", |out| {
        push_all(out, v(&trace.trace_rating))
    });
    line(&mut out, "Rule:", |out| {
        push_one_line(out, &rule.notification_name)
    });
    line(&mut out, "Trace id:", |out| {
        push_all(out, v(&trace.trace_id))
    });
    out
}

/// A field's text, when present and not empty.
fn v<'s>(field: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    field.as_deref().filter(|s| !s.is_empty())
}

/// A line of `label` (padded) and what `value` writes; no line when it writes nothing.
fn line(out: &mut String, label: &str, value: impl FnOnce(&mut String)) {
    let start = out.len();
    out.push_str(label);
    out.extend(std::iter::repeat_n(
        ' ',
        LABEL_WIDTH.saturating_sub(label.len()),
    ));
    let value_start = out.len();
    value(out);
    if out.len() == value_start {
        out.truncate(start);
    } else {
        out.push('\n');
    }
}

/// Writes each part with [`push_one_line`].
fn push_all<'s>(out: &mut String, parts: impl IntoIterator<Item = &'s str>) {
    for part in parts {
        push_one_line(out, part);
    }
}

/// Writes the present values separated by spaces; tells whether any was.
fn join<const N: usize>(out: &mut String, values: [Option<&str>; N]) -> bool {
    join_with(out, " ", values)
}

fn join_with<const N: usize>(out: &mut String, separator: &str, values: [Option<&str>; N]) -> bool {
    let mut any = false;
    for value in values.into_iter().flatten() {
        if any {
            out.push_str(separator);
        }
        push_one_line(out, value);
        any = true;
    }
    any
}

/// Writes `s` on one line (control characters as spaces), cut to [`MAX_VALUE`] bytes.
fn push_one_line(out: &mut String, s: &str) {
    let mut end = s.len().min(MAX_VALUE);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let kept = &s[..end];
    if kept.bytes().any(|b| b.is_ascii_control() || b >= 0x80) {
        out.extend(kept.chars().map(|c| if c.is_control() { ' ' } else { c }));
    } else {
        out.push_str(kept);
    }
    if end < s.len() {
        out.push_str("...");
    }
}

/// Epoch milliseconds (a number's text, or digits in a string) as `2024-11-25 07:33:20 UTC`.
fn utc(time: &str) -> Option<String> {
    let ms: i64 = time.parse().ok()?;
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
            utc("1732520000000").as_deref(),
            Some("2024-11-25 07:33:20 UTC")
        );
        assert_eq!(utc("x"), None);
    }

    #[test]
    fn values_stay_on_one_short_line() {
        let one_line = |s: &str| {
            let mut out = String::new();
            push_one_line(&mut out, s);
            out
        };
        assert_eq!(one_line("a\nb\u{7}c"), "a b c");
        let long = one_line(&"é".repeat(300));
        assert!(
            long.len() <= MAX_VALUE + 3 && long.ends_with("..."),
            "{long}"
        );
    }
}
