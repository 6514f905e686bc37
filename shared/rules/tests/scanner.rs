//! The trace scanner agrees with serde_json: on generated traces it reads the same fields, and
//! on mutated documents it accepts exactly what serde_json accepts.

use proptest::prelude::*;
use serde_json::{json, Value};

/// Strings rich in what JSON must escape: quotes, backslashes, controls, non-ASCII.
fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just('\n'),
            Just('\u{1}'),
            Just('é'),
            Just('😀'),
            proptest::char::range('a', 'z'),
        ],
        0..150,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn trace() -> impl Strategy<Value = Value> {
    (
        tricky_string(),
        tricky_string(),
        tricky_string(),
        tricky_string(),
        any::<bool>(),
        0..1000u32,
        0..40usize,
    )
        .prop_map(
            |(name, user, request, resource_name, numeric, code, copies)| {
                json!({
                    "trace_id": "t-1",
                    "trace_name": format!("a{name}"),
                    "request": request,
                    // Long enough, often, that the scanner's index leaves the stack for the heap.
                    "response": request.repeat(copies),
                    "service_type": "ECS",
                    "resource_type": "ecs",
                    "user": {"id": "u", "name": user, "domain": {"name": "x"}},
                    "nested": [1, -2.5e3, true, null, {"k": [request.clone()]}],
                    "resource_name": resource_name,
                    "code": if numeric { json!(code) } else { json!(code.to_string()) },
                })
            },
        )
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn scanned_fields_equal_serde_fields(t in trace(), pretty in any::<bool>()) {
        let doc = if pretty { serde_json::to_string_pretty(&t).unwrap() } else { t.to_string() };
        let view = rules::trace::scan(&doc).unwrap();
        prop_assert_eq!(view.trace_name.as_deref().map(str::to_owned), text(&t["trace_name"]));
        prop_assert_eq!(view.user_name.as_deref().map(str::to_owned), text(&t["user"]["name"]));
        prop_assert_eq!(view.resource_name.as_deref().map(str::to_owned), text(&t["resource_name"]));
        prop_assert_eq!(view.code.as_deref().map(str::to_owned), text(&t["code"]));
    }

    #[test]
    fn mutated_documents_are_accepted_exactly_when_serde_accepts_them(
        t in trace(),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![Just(b'"'), Just(b'\\'), Just(b'}'), Just(b','), Just(1u8), Just(b'x')], any::<bool>()), 1..4),
    ) {
        let mut bytes = t.to_string().into_bytes();
        for (at, byte, insert) in cuts {
            let i = at.index(bytes.len());
            if insert { bytes.insert(i, byte) } else { bytes.remove(i); }
        }
        let Ok(doc) = String::from_utf8(bytes) else { return Ok(()) };
        let serde_ok = serde_json::from_str::<Value>(&doc).ok().is_some_and(|v| {
            ["trace_id", "trace_name", "service_type", "resource_type"]
                .iter()
                .all(|k| v.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty()))
        });
        prop_assert_eq!(rules::trace::scan(&doc).is_ok(), serde_ok, "{}", doc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// From bytes, UTF-8 is checked along the way: a document is accepted exactly when it is
    /// UTF-8 and accepted as text.
    #[test]
    fn bytes_are_accepted_exactly_when_they_are_utf8_and_the_text_is(
        t in trace(),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![Just(0xffu8), Just(0xc3), Just(0xa9), Just(0x80), Just(b'"')]), 0..3),
    ) {
        let mut bytes = t.to_string().into_bytes();
        for (at, byte) in cuts {
            let i = at.index(bytes.len());
            bytes.insert(i, byte);
        }
        let as_text = std::str::from_utf8(&bytes).ok().map(|s| rules::trace::scan(s).map(|v| v.trace_name.map(|n| n.into_owned())));
        let from_bytes = rules::trace::scan_bytes(&bytes).map(|v| v.trace_name.map(|n| n.into_owned()));
        match as_text {
            Some(expected) => prop_assert_eq!(from_bytes, expected),
            None => prop_assert!(from_bytes.is_err()),
        }
    }
}

/// `text` as a JSON string literal, each character written as `pick` says: as itself (escaped
/// where JSON requires), or as `\u` escapes (a surrogate pair beyond the first plane), or `/`
/// as `\/`.
fn json_literal(text: &str, pick: &[u8]) -> String {
    let mut out = String::from("\"");
    for (n, c) in text.chars().enumerate() {
        if pick.get(n % pick.len().max(1)).is_some_and(|p| p % 4 == 0) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else if c == '/' {
            out.push_str("\\/");
        } else {
            let quoted = serde_json::to_string(&c.to_string()).unwrap();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
    out.push('"');
    out
}

fn sqs_batch(bodies: &[String]) -> String {
    let records: Vec<String> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            format!(r#"{{"messageId":"m{n}","receiptHandle":"r","body":{body},"attributes":{{}},"messageAttributes":{{}},"eventSource":"aws:sqs","awsRegion":"eu-west-1"}}"#)
        })
        .collect();
    format!(r#"{{"Records":[{}]}}"#, records.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// An SQS batch's bodies, however their characters are escaped, become traces whose text
    /// is the body serde_json reads.
    #[test]
    fn sqs_bodies_are_unescaped_as_serde_unescapes_them(
        traces in proptest::collection::vec(trace(), 1..4),
        pick in proptest::collection::vec(any::<u8>(), 1..50),
    ) {
        let bodies: Vec<String> = traces.iter().map(|t| {
            let mut t = t.clone();
            t["project_id"] = "p1".into();
            t["path"] = "/v1/servers/ünï/😀".into();
            t.to_string()
        }).collect();
        let literals: Vec<String> = bodies.iter().map(|b| json_literal(b, &pick)).collect();
        let batch = sqs_batch(&literals);
        for (literal, body) in literals.iter().zip(&bodies) {
            prop_assert_eq!(&serde_json::from_str::<String>(literal).unwrap(), body);
        }
        let (shape, items) = rules::trace::envelope::split(&batch);
        prop_assert_eq!(shape, rules::trace::envelope::Shape::Sqs);
        prop_assert_eq!(items.len(), bodies.len());
        for (n, (item, body)) in items.iter().zip(&bodies).enumerate() {
            prop_assert_eq!(item.message_id.clone(), Some(format!("m{n}")));
            let trace = item.trace.as_ref().unwrap();
            prop_assert_eq!(trace.json(), body.as_str());
        }
    }
}

#[test]
fn half_a_surrogate_pair_fails_its_sqs_item_alone() {
    let good = r#"{"trace_id":"t1","trace_name":"deleteServer","service_type":"ECS","resource_type":"ecs","project_id":"p1"}"#;
    let pair = json_literal(&good.replace("ECS", "E😀S"), &[0]);
    for half in [r"\ud83d", r"\ude00", r"\ud83d\u0041"] {
        let lone = json_literal(good, &[1]).replace("deleteServer", &format!("delete{half}Server"));
        let batch = sqs_batch(&[json_literal(good, &[1]), lone, pair.clone()]);
        let (shape, items) = rules::trace::envelope::split(&batch);
        assert_eq!(shape, rules::trace::envelope::Shape::Sqs);
        assert!(items[0].trace.is_ok());
        let error = items[1].trace.as_ref().unwrap_err().to_string();
        assert!(error.contains("invalid escape"), "{half}: {error}");
        assert_eq!(items[1].message_id.as_deref(), Some("m1"));
        let trace = items[2].trace.as_ref().unwrap();
        assert_eq!(trace.view().service_type.as_deref(), Some("E😀S"));
    }
}

fn detail_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(5)),
        Just(json!({"name": "x"})),
        tricky_string().prop_map(Value::String),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A trace read from an SQS batch renders the message that reading its text again renders:
    /// the details its scan kept are the ones the walk reads, duplicates, escaped keys and
    /// values of other types included.
    #[test]
    fn details_kept_by_the_scan_render_as_the_walk_reads_them(
        t in trace(),
        (ip, message, account, domain_name) in (detail_value(), detail_value(), detail_value(), detail_value()),
        domain_is_object in any::<bool>(),
        escaped_key in any::<bool>(),
        message_twice in any::<bool>(),
        pick in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let mut t = t;
        t["project_id"] = "p1".into();
        t["source_ip"] = ip;
        t["message"] = message;
        t["user"]["account_id"] = account;
        t["user"]["domain"] = if domain_is_object { json!({"name": domain_name}) } else { domain_name };
        let mut body = t.to_string();
        if escaped_key {
            body = body.replacen("\"source_ip\"", "\"source\\u005fip\"", 1);
        }
        if message_twice {
            body = body.replacen('{', "{\"message\":\"said first\",", 1);
        }
        let batch = sqs_batch(&[json_literal(&body, &pick)]);
        let (_, items) = rules::trace::envelope::split(&batch);
        let trace = items[0].trace.as_ref().unwrap();
        prop_assert!(trace.details().is_some());
        let rule = rules::CreateBody::parse(
            br#"{"notification_name":"n","operation_type":"complete","topic_id":"urn:smn:r:p1:t"}"#,
        )
        .unwrap()
        .into_notification("n1".into(), "p1".into(), 0);
        let view = trace.view();
        let kept = rules::message::render_trace(&rule, trace, &view).unwrap();
        let read_again = rules::message::render(&rule, &view, trace.json()).unwrap();
        prop_assert_eq!(kept.email.clone(), read_again.email.clone());
        prop_assert_eq!(kept, read_again);
    }
}
