//! AWS CloudTrail records normalized to CTS traces, so that one set of rules covers both. The
//! normalized trace keeps the whole record under `cloudtrail`.

use std::borrow::Cow;

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::scan::{cloudtrail_fields, Value};
use super::{Trace, TraceError, TraceView};

/// Normalizes one CloudTrail record (contract part 2). The trace's project is the record's
/// `recipientAccountId`, else the one its envelope names. A record trimmed of its `eventID` (as
/// people paste them) gets an id derived from its bytes, so that a resend is still one trace.
///
/// Only the fields a trace takes are read (the rest of the record is skipped, not built), and
/// the trace's own fields are written straight out, keys in order, before the record itself.
pub fn normalize(record: &RawValue, envelope_project: Option<&str>) -> Result<Trace, TraceError> {
    normalize_text(record.get(), envelope_project)
}

/// [`normalize`] of a record's text, which the parse that reads its fields also validates.
pub(crate) fn normalize_text(
    record: &str,
    envelope_project: Option<&str>,
) -> Result<Trace, TraceError> {
    Trace::from_json(read(record, envelope_project)?.json(), envelope_project)
}

/// A CloudTrail record read as a trace, its JSON not written yet: what a backtest needs of most
/// records is the view, and the JSON only for the few it keeps as samples.
#[derive(Debug)]
pub struct Normalized<'a> {
    record: &'a str,
    code: Cow<'a, str>,
    warning: bool,
    message: Option<Cow<'a, str>>,
    project_id: Option<Cow<'a, str>>,
    read_only: Option<bool>,
    request_id: Option<Cow<'a, str>>,
    resource_id: Option<Cow<'a, str>>,
    resource_type: String,
    service_type: String,
    source_ip: Option<Cow<'a, str>>,
    time: Option<String>,
    trace_id: Cow<'a, str>,
    trace_name: Cow<'a, str>,
    trace_type: &'static str,
    user: User<'a>,
}

#[derive(Debug)]
struct User<'a> {
    access_key_id: Option<Cow<'a, str>>,
    account_id: Option<Cow<'a, str>>,
    id: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    is_root: bool,
    principal_urn: Option<Cow<'a, str>>,
}

/// Reads a record's fields (contract part 2), refusing what [`Trace::from_json`] would refuse
/// of the trace they make.
pub(crate) fn read<'a>(
    record: &'a str,
    envelope_project: Option<&str>,
) -> Result<Normalized<'a>, TraceError> {
    let r = cloudtrail_fields(record)
        .map_err(|_| TraceError::Unsupported("a CloudTrail record must be a JSON object".into()))?;
    let event_source = required(r.event_source, "eventSource")?;
    let service_label = event_source.split('.').next().unwrap_or(&event_source);
    let resource_type = r
        .resource_type
        .map(|t| t.rsplit("::").next().unwrap_or(&t).to_lowercase())
        .unwrap_or_else(|| service_label.to_owned());
    let identity = r.identity;
    let user_name = identity.user_name.or_else(|| {
        let arn = identity.arn.as_deref()?;
        Some(match arn.rsplit_once('/') {
            Some((_, name)) => Cow::Owned(name.to_owned()),
            None => Cow::Owned(arn.rsplit(':').next().unwrap_or(arn).to_owned()),
        })
    });
    let error_code = text(r.error_code);
    let from_console = match &r.session_credential_from_console {
        Some(Value::Literal(v)) => *v == "true",
        Some(Value::Text(v)) => v == "true",
        _ => false,
    };
    let trace_type = match text(r.event_type).as_deref() {
        Some("AwsConsoleSignIn") => "ConsoleAction",
        _ if from_console => "ConsoleAction",
        Some("AwsServiceEvent") => "SystemAction",
        _ => "ApiCall",
    };
    let trace_id = match required(r.event_id, "eventID") {
        Ok(id) => id,
        Err(TraceError::Missing(_)) => Cow::Owned(derived_trace_id(record)),
        Err(e) => return Err(e),
    };
    let trace_name = required(r.event_name, "eventName")?;
    let project_id = match (
        required(r.recipient_account_id, "recipientAccountId"),
        envelope_project,
    ) {
        (Ok(account), _) => Some(account),
        (Err(TraceError::Missing(_)), Some(_)) => None,
        (Err(e), _) => return Err(e),
    };
    let normalized = Normalized {
        record,
        warning: error_code.is_some(),
        code: error_code.unwrap_or(Cow::Borrowed("200")),
        message: text(r.error_message),
        project_id,
        read_only: match r.read_only {
            Some(Value::Literal(v)) => v.parse::<bool>().ok(),
            _ => None,
        },
        request_id: text(r.request_id),
        resource_id: r.resource_arn,
        resource_type,
        service_type: service_label.to_uppercase(),
        source_ip: text(r.source_ip),
        time: text(r.event_time)
            .as_deref()
            .and_then(rfc3339_millis)
            .map(|ms| ms.to_string()),
        trace_id,
        trace_name,
        trace_type,
        user: User {
            access_key_id: identity.access_key_id,
            account_id: identity.account_id,
            id: identity.principal_id,
            name: user_name,
            is_root: identity.kind.as_deref() == Some("Root"),
            principal_urn: identity.arn,
        },
    };
    // What the scan of the written trace would refuse, in its order.
    for (value, key) in [
        (&normalized.service_type, "service_type"),
        (&normalized.resource_type, "resource_type"),
    ] {
        if value.is_empty() {
            return Err(TraceError::NotAString(key));
        }
    }
    match normalized.project_id(envelope_project) {
        None | Some("") => Err(TraceError::NoProject),
        Some(p) if !crate::limits::is_project_id(p) => Err(TraceError::BadProject),
        Some(_) => Ok(normalized),
    }
}

impl Normalized<'_> {
    /// The project the trace is of (its own, or its envelope's when it names none).
    pub fn project_id<'p>(&'p self, envelope_project: Option<&'p str>) -> Option<&'p str> {
        self.project_id.as_deref().or(envelope_project)
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// The fields matching needs: what scanning [`Normalized::json`] would give.
    pub fn view(&self) -> TraceView<'_> {
        TraceView {
            trace_id: Some(Cow::Borrowed(&self.trace_id)),
            trace_name: Some(Cow::Borrowed(&self.trace_name)),
            service_type: Some(Cow::Borrowed(&self.service_type)),
            resource_type: Some(Cow::Borrowed(&self.resource_type)),
            project_id: borrowed(&self.project_id),
            user_name: borrowed(&self.user.name),
            time: self.time.as_deref().map(Cow::Borrowed),
            code: Some(Cow::Borrowed(&self.code)),
            trace_rating: Some(Cow::Borrowed(self.rating())),
            trace_type: Some(Cow::Borrowed(self.trace_type)),
            resource_id: borrowed(&self.resource_id),
            ..TraceView::default()
        }
    }

    fn rating(&self) -> &'static str {
        if self.warning {
            "warning"
        } else {
            "normal"
        }
    }

    /// The trace's JSON: its fields, keys in order, then the record exactly as received.
    pub fn json(&self) -> String {
        let mut out = Vec::with_capacity(self.record.len() + 640);
        let mut object = JsonObject::new(&mut out);
        object.text("code", &self.code);
        object.text_if("message", self.message.as_deref());
        object.text_if("project_id", self.project_id.as_deref());
        if let Some(read_only) = self.read_only {
            object.raw("read_only", if read_only { "true" } else { "false" });
        }
        object.text_if("request_id", self.request_id.as_deref());
        object.text_if("resource_id", self.resource_id.as_deref());
        object.text("resource_type", &self.resource_type);
        object.text("service_type", &self.service_type);
        object.text_if("source_ip", self.source_ip.as_deref());
        if let Some(ms) = &self.time {
            object.raw("time", ms);
        }
        object.text("trace_id", &self.trace_id);
        object.text("trace_name", &self.trace_name);
        object.text("trace_rating", self.rating());
        object.text("trace_type", self.trace_type);
        object.key("user");
        let user = &self.user;
        let mut fields = JsonObject::new(object.out);
        fields.text_if("access_key_id", user.access_key_id.as_deref());
        fields.text_if("account_id", user.account_id.as_deref());
        fields.text_if("id", user.id.as_deref());
        fields.text_if("name", user.name.as_deref());
        fields.text(
            "principal_is_root_user",
            if user.is_root { "true" } else { "false" },
        );
        fields.text_if("principal_urn", user.principal_urn.as_deref());
        fields.out.push(b'}');
        // Keep the record exactly as received: append it rather than re-serializing it.
        out.extend_from_slice(b",\"cloudtrail\":");
        out.extend_from_slice(self.record.as_bytes());
        out.push(b'}');
        String::from_utf8(out).expect("JSON written from UTF-8 text")
    }
}

fn borrowed<'v>(value: &'v Option<Cow<'_, str>>) -> Option<Cow<'v, str>> {
    value.as_deref().map(Cow::Borrowed)
}

/// A string value's text.
fn text(value: Option<Value<'_>>) -> Option<Cow<'_, str>> {
    match value? {
        Value::Text(t) => Some(t),
        _ => None,
    }
}

/// A field that must be a non-empty string: missing when absent or null.
fn required<'a>(value: Option<Value<'a>>, key: &'static str) -> Result<Cow<'a, str>, TraceError> {
    match value {
        None | Some(Value::Null) => Err(TraceError::Missing(key)),
        Some(Value::Text(t)) if !t.is_empty() => Ok(t),
        Some(_) => Err(TraceError::NotAString(key)),
    }
}

/// Writes a JSON object's members in the order given.
struct JsonObject<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> JsonObject<'o> {
    fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        JsonObject { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
    }

    fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        serde_json::to_writer(&mut *self.out, value).expect("writing to memory does not fail");
    }

    fn text_if(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(key, v);
        }
    }
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
    let days = crate::readable::days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    /// The first implementation (a whole-record DOM), kept as the oracle of the one above. The trace's project is the record's
    /// `recipientAccountId`, else the one its envelope names. A record trimmed of its `eventID` (as
    /// people paste them) gets an id derived from its bytes, so that a resend is still one trace.
    fn reference(record: &RawValue, envelope_project: Option<&str>) -> Result<Trace, TraceError> {
        let r: Map<String, Value> = serde_json::from_str(record.get()).map_err(|_| {
            TraceError::Unsupported("a CloudTrail record must be a JSON object".into())
        })?;
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

    #[test]
    fn the_normalized_trace_is_byte_for_byte_the_references() {
        let sample: Value = serde_json::from_str(include_str!(
            "../../../../events/cloudtrail-record-s3-delete-bucket-denied.json"
        ))
        .unwrap();
        let mut records = vec![sample.clone()];
        // Records as AWS writes them, from the EventBridge samples' details.
        for event in [
            include_str!("../../../../events/eventbridge-cloudtrail-authorize-sg-ingress.json"),
            include_str!("../../../../events/eventbridge-console-signin-root-no-mfa.json"),
            include_str!("../../../../events/eventbridge-forwarded-iam-create-access-key.json"),
        ] {
            let event: Value = serde_json::from_str(event).unwrap();
            records.push(event["detail"].clone());
        }
        let variants: [(&str, Value); 15] = [
            ("eventID", Value::Null),
            ("eventID", json!(7)),
            ("eventID", json!("")),
            ("errorCode", Value::Null),
            ("recipientAccountId", Value::Null),
            ("recipientAccountId", json!(12)),
            ("eventType", json!("AwsConsoleSignIn")),
            ("sessionCredentialFromConsole", json!("true")),
            (
                "userIdentity",
                json!({"type": "Root", "arn": "arn:aws:iam::1:root", "principalId": "1"}),
            ),
            ("userIdentity", json!("not an object")),
            (
                "resources",
                json!([{"ARN": "arn:x"}, {"type": "AWS::EC2::Instance"}, 3]),
            ),
            ("eventName", json!("Put\"Quoted\\ \u{e9}v\u{e8}nement")),
            ("readOnly", json!(true)),
            ("eventTime", json!("2026-11-25T09:14:07.25Z")),
            ("eventSource", json!(".amazonaws.com")),
        ];
        for (key, value) in variants {
            let mut r = sample.clone();
            r[key] = value;
            records.push(r);
        }
        let mut trimmed = sample.clone();
        for key in [
            "eventID",
            "errorCode",
            "resources",
            "userIdentity",
            "sourceIPAddress",
            "requestID",
            "readOnly",
            "eventTime",
            "errorMessage",
        ] {
            trimmed.as_object_mut().unwrap().remove(key);
        }
        records.push(trimmed);
        for record in &records {
            let raw = serde_json::value::to_raw_value(record).unwrap();
            for project in [None, Some("p-1")] {
                assert_eq!(
                    normalize(&raw, project),
                    reference(&raw, project),
                    "{record}"
                );
            }
        }
        let not_an_object = serde_json::value::to_raw_value(&json!([1])).unwrap();
        assert_eq!(
            normalize(&not_an_object, None),
            reference(&not_an_object, None)
        );
    }

    /// What a JSON value cannot hold: keys given twice (the last counts), keys spelled with
    /// escapes, members of odd shapes; then text that is not one JSON object.
    #[test]
    fn records_as_written_read_as_the_reference_reads_them() {
        let sample =
            include_str!("../../../../events/cloudtrail-record-s3-delete-bucket-denied.json")
                .trim();
        let (head, body) = (&sample[..sample.len() - 1], &sample[1..]);
        // Members added after the sample's own, so that they are the ones that count.
        let mut records = [
            r#""event\u004eame":"Escaped""#,
            r#""eventSource":"ec2.amazonaws.com""#,
            r#""userIdentity":{"type":"Root","type":"IAMUser","arn":"arn:aws:iam::1:user/a/b","userName":null}"#,
            r#""userIdentity":{"userName":"n","userName":7,"arn":"arn:aws:iam::1:root"}"#,
            r#""resources":[[1],{"type":7,"ARN":"arn:first"},{"type":"AWS::S3::Bucket","type":null},{"type":"AWS::EC2::VPC","ARN":"arn:second"},{"type":"AWS::IAM::Role"}]"#,
            r#""resources":{"type":"AWS::X::Y"},"userIdentity":[],"eventName":"Last""#,
            r#""readOnly":"true","sessionCredentialFromConsole":true,"errorMessage":{"a":[1,{"b":null}]}"#,
            r#""sessionCredentialFromConsole":"tru\u0065""#,
            r#""readOnly":false,"errorCode":null,"eventType":7"#,
            r#""eventTime":"2026-11-25T09:14:07Z","recipientAccountId":"""#,
            r#""eventID":{"id":1}"#,
        ]
        .map(|member| format!("{head},{member}}}"))
        .to_vec();
        // A member given before the sample's own does not count.
        records.push(format!(r#"{{"eventName":"First",{body}"#));
        for text in &records {
            let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
            for project in [None, Some("p-1")] {
                assert_eq!(normalize(&raw, project), reference(&raw, project), "{text}");
            }
        }
        for text in [
            r#"{"eventSource":"s3.amazonaws.com"} x"#,
            r#"{"a":01}"#,
            r#"{"a":"\u12"}"#,
            r#""text""#,
            "",
        ] {
            assert_eq!(
                read(text, None).unwrap_err(),
                TraceError::Unsupported("a CloudTrail record must be a JSON object".into()),
                "{text}"
            );
        }
    }

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
