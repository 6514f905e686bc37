//! AWS CloudTrail records normalized to CTS traces, so that one set of rules covers both. The
//! normalized trace keeps the whole record under `cloudtrail`.

use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{Trace, TraceError};

/// Normalizes one CloudTrail record (contract part 2). The trace's project is the record's
/// `recipientAccountId`, else the one its envelope names. A record trimmed of its `eventID` (as
/// people paste them) gets an id derived from its bytes, so that a resend is still one trace.
pub fn normalize(record: &RawValue, envelope_project: Option<&str>) -> Result<Trace, TraceError> {
    let r: Map<String, Value> = serde_json::from_str(record.get())
        .map_err(|_| TraceError::Unsupported("a CloudTrail record must be a JSON object".into()))?;
    let text = |key: &'static str| -> Result<&str, TraceError> {
        match r.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            None | Some(Value::Null) => Err(TraceError::Missing(key)),
            Some(_) => Err(TraceError::NotAString(key)),
        }
    };
    let event_source = text("eventSource")?;
    let service_label = event_source.split('.').next().unwrap_or(event_source);
    let resource_type = r
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|rs| rs.iter().find_map(|x| x.get("type")?.as_str()))
        .map(|t| t.rsplit("::").next().unwrap_or(t).to_lowercase())
        .unwrap_or_else(|| service_label.to_owned());
    let identity = r.get("userIdentity").cloned().unwrap_or(Value::Null);
    let id_str = |key: &str| identity.get(key).and_then(Value::as_str);
    let user_name = id_str("userName").map(str::to_owned).or_else(|| {
        let arn = id_str("arn")?;
        Some(match arn.rsplit_once('/') {
            Some((_, name)) => name.to_owned(),
            None => arn.rsplit(':').next().unwrap_or(arn).to_owned(),
        })
    });
    let error_code = r.get("errorCode").and_then(Value::as_str);
    let event_type = r.get("eventType").and_then(Value::as_str);
    let from_console = matches!(
        r.get("sessionCredentialFromConsole"),
        Some(Value::Bool(true))
    ) || r
        .get("sessionCredentialFromConsole")
        .and_then(Value::as_str)
        == Some("true");
    let trace_type = match event_type {
        Some("AwsConsoleSignIn") => "ConsoleAction",
        _ if from_console => "ConsoleAction",
        Some("AwsServiceEvent") => "SystemAction",
        _ => "ApiCall",
    };
    let mut user = Map::new();
    if let Some(name) = user_name {
        user.insert("name".into(), json!(name));
    }
    for (to, from) in [
        ("id", "principalId"),
        ("account_id", "accountId"),
        ("access_key_id", "accessKeyId"),
    ] {
        if let Some(v) = id_str(from) {
            user.insert(to.into(), json!(v));
        }
    }
    if let Some(arn) = id_str("arn") {
        user.insert("principal_urn".into(), json!(arn));
    }
    user.insert(
        "principal_is_root_user".into(),
        json!((id_str("type") == Some("Root")).to_string()),
    );
    let mut trace = Map::new();
    let trace_id = match text("eventID") {
        Ok(id) => id.to_owned(),
        Err(TraceError::Missing(_)) => derived_trace_id(record.get()),
        Err(e) => return Err(e),
    };
    trace.insert("trace_id".into(), json!(trace_id));
    trace.insert("trace_name".into(), json!(text("eventName")?));
    trace.insert(
        "trace_rating".into(),
        json!(if error_code.is_some() {
            "warning"
        } else {
            "normal"
        }),
    );
    trace.insert("trace_type".into(), json!(trace_type));
    trace.insert("service_type".into(), json!(service_label.to_uppercase()));
    trace.insert("resource_type".into(), json!(resource_type));
    if let Some(arn) = r
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|rs| rs.iter().find_map(|x| x.get("ARN")?.as_str()))
    {
        trace.insert("resource_id".into(), json!(arn));
    }
    trace.insert("code".into(), json!(error_code.unwrap_or("200")));
    if let Some(ip) = r.get("sourceIPAddress").and_then(Value::as_str) {
        trace.insert("source_ip".into(), json!(ip));
    }
    if let Some(ms) = r
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(rfc3339_millis)
    {
        trace.insert("time".into(), json!(ms));
    }
    if let Some(id) = r.get("requestID").and_then(Value::as_str) {
        trace.insert("request_id".into(), json!(id));
    }
    if let Some(m) = r.get("errorMessage").and_then(Value::as_str) {
        trace.insert("message".into(), json!(m));
    }
    if let Some(ro) = r.get("readOnly").and_then(Value::as_bool) {
        trace.insert("read_only".into(), json!(ro));
    }
    trace.insert("user".into(), Value::Object(user));
    match (text("recipientAccountId"), envelope_project) {
        (Ok(account), _) => {
            trace.insert("project_id".into(), json!(account));
        }
        (Err(TraceError::Missing(_)), Some(_)) => {}
        (Err(e), _) => return Err(e),
    }
    let mut json = serde_json::to_string(&Value::Object(trace)).unwrap_or_default();
    // Keep the record exactly as received: append it rather than re-serializing it.
    json.pop();
    json.push_str(",\"cloudtrail\":");
    json.push_str(record.get());
    json.push('}');
    Trace::from_json(json, envelope_project)
}

/// A UUID-shaped id from the SHA-256 of the record's bytes: the same record, the same id.
fn derived_trace_id(record: &str) -> String {
    let digest = Sha256::digest(record.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `2026-11-25T09:14:07Z` or `2026-11-25T09:14:07.123Z` as epoch milliseconds (UTC only, as
/// CloudTrail writes it).
fn rfc3339_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || !s.ends_with('Z')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let millis = match &s[19..s.len() - 1] {
        "" => 0,
        frac if frac.starts_with('.') && frac.len() > 1 => {
            let digits: String = frac[1..].chars().chain("000".chars()).take(3).collect();
            digits.parse::<i64>().ok()?
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_converts_to_epoch_millis() {
        assert_eq!(rfc3339_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_millis("2026-11-25T09:14:07Z"),
            Some(1_795_598_047_000)
        );
        assert_eq!(
            rfc3339_millis("2024-02-29T23:59:59.5Z"),
            Some(1_709_251_199_500)
        );
        assert_eq!(rfc3339_millis("2026-13-25T09:14:07Z"), None);
        assert_eq!(rfc3339_millis("yesterday"), None);
    }
}
