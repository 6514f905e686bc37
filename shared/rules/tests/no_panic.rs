//! Generated inputs for every parser that reads outside data: create / modify bodies, filter
//! conditions, traces, CloudTrail records and handler envelopes. None may panic; each test
//! prints how many inputs it tried. `NO_PANIC_CASES` sets the count (default 3000 each; a
//! long run: `NO_PANIC_CASES=1000000 cargo test --release -p rules --test no_panic`).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rules::filter::Condition;
use rules::trace::envelope::split;
use rules::{CreateBody, UpdateBody};
use serde_json::{json, Value};

fn cases() -> u32 {
    std::env::var("NO_PANIC_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000)
}

fn run<T: std::fmt::Debug>(what: &str, strategy: impl Strategy<Value = T>, check: impl Fn(T)) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |input| {
            check(input);
            Ok(())
        })
        .unwrap();
    println!("{what}: {} generated inputs, no panic", cases());
}

const KEYS: &[&str] = &[
    "notification_name",
    "operation_type",
    "operations",
    "service_type",
    "resource_type",
    "trace_names",
    "notify_user_list",
    "user_group",
    "user_list",
    "topic_id",
    "status",
    "notification_id",
    "filter",
    "condition",
    "is_support_filter",
    "rule",
    "agency_name",
    "trace_id",
    "trace_name",
    "project_id",
    "user",
    "name",
    "code",
    "Records",
    "messageId",
    "body",
    "eventSource",
    "detail-type",
    "detail",
    "traces",
    "eventVersion",
    "eventName",
    "eventID",
    "recipientAccountId",
    "userIdentity",
    "arn",
    "resources",
    "type",
    "errorCode",
    "messageAttributes",
    "stringValue",
];

const STRINGS: &[&str] = &[
    "",
    "ECS",
    "ecs",
    "deleteServer",
    "customized",
    "complete",
    "typical",
    "enabled",
    "disabled",
    "AND",
    "OR",
    "code = 200",
    "trace_rating != normal",
    "urn:smn:r:p:t",
    "arn:aws:sns:eu-west-1:123456789012:t",
    "aws:sqs",
    "AWS API Call via CloudTrail",
    "CTS Trace",
    "ec2.amazonaws.com",
    "AWS::EC2::Instance",
    "a\u{200B}b",
    "\u{0}",
    "é",
    "arn:aws:iam::1:user/x",
    "{\"trace_id\":\"t\"}",
    "1.09",
];

/// JSON values shaped like the inputs: the real keys and plausible strings, nested.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        proptest::sample::select(STRINGS).prop_map(|s| json!(s)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..10).prop_map(
                |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}

/// Bytes near valid JSON: a generated value's text with a few bytes cut, doubled or replaced.
fn near_json() -> impl Strategy<Value = Vec<u8>> {
    (
        json_value(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..4),
    )
        .prop_map(|(v, edits)| {
            let mut bytes = v.to_string().into_bytes();
            for (at, byte, kind) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match kind {
                    0 => {
                        bytes.remove(i);
                    }
                    1 => bytes.insert(i, byte),
                    _ => bytes[i] = byte,
                }
            }
            bytes
        })
}

#[test]
fn bodies_never_panic() {
    run("create and modify bodies (values)", json_value(), |v| {
        let _ = CreateBody::from_value(&v);
        let _ = UpdateBody::from_value(&v);
    });
    run("create and modify bodies (bytes)", near_json(), |b| {
        let _ = CreateBody::parse(&b);
        let _ = UpdateBody::parse(&b);
    });
}

#[test]
fn filter_conditions_never_panic() {
    let condition = prop_oneof![
        ".{0,40}",
        "(code|trace_rating|trace_type|api_version|resource_id|resource_name|x)[ =!]{0,4}.{0,10}",
    ];
    run("filter conditions", condition, |s: String| {
        let _ = Condition::parse(&s);
    });
}

#[test]
fn traces_and_envelopes_never_panic() {
    run("handler inputs (values)", json_value(), |v| {
        let text = v.to_string();
        for item in split(&text).1 {
            if let Ok(t) = item.trace {
                let _ = t.view();
            }
        }
        let _ = rules::trace::scan(&text);
    });
    run("handler inputs (bytes)", near_json(), |b| {
        if let Ok(text) = std::str::from_utf8(&b) {
            let _ = split(text);
            let _ = rules::trace::scan(text);
        }
    });
}
