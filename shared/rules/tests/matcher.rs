//! The compiled matcher agrees with a plain loop over the rules (the oracle, written straight
//! from contract part 4 over `serde_json::Value`) on random rules and traces.

use proptest::prelude::*;
use rules::filter::{Joiner, Op};
use rules::{CompiledRules, CreateBody, Notification, OperationType, UpdateBody};
use serde_json::{json, Value};

const SERVICES: [&str; 3] = ["ECS", "VPC", "IAM"];
const RESOURCES: [&str; 2] = ["ecs", "user"];
const NAMES: [&str; 4] = ["deleteServer", "login", "stopServer", "createVpc"];
const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
const FIELDS: [(&str, &[&str]); 6] = [
    ("code", &["200", "403", "500"]),
    ("trace_rating", &["normal", "warning", "incident"]),
    ("trace_type", &["ApiCall", "ConsoleAction", "SystemAction"]),
    ("api_version", &["v1", "v2"]),
    ("resource_id", &["id-1", "id-2"]),
    ("resource_name", &["web 1", "db"]),
];

/// The oracle: does `rule` fire on `trace`?
fn fires(rule: &Notification, trace: &Value) -> bool {
    let s = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let field = |name: &str| s(&trace[name]);
    if !rule.is_active() {
        return false;
    }
    let op_ok = rule.operation_type == OperationType::Complete
        || rule.operations.iter().any(|op| {
            Some(&op.service_type) == field("service_type").as_ref()
                && Some(&op.resource_type) == field("resource_type").as_ref()
                && field("trace_name").is_some_and(|n| op.trace_names.contains(&n))
        });
    let user = s(&trace["user"]["name"]);
    let user_ok = rule.notify_user_list.is_empty()
        || rule
            .notify_user_list
            .iter()
            .any(|g| user.as_ref().is_some_and(|u| g.user_list.contains(u)));
    let filter_ok = match rule.filter.as_ref().and_then(|f| f.active()) {
        None => true,
        Some((joiner, conds)) => {
            let mut holds = conds.iter().map(|c| {
                let equal = field(c.field.name()).as_deref() == Some(c.value.as_str());
                (c.op == Op::Eq) == equal
            });
            match joiner {
                Joiner::And => holds.all(|b| b),
                Joiner::Or => holds.any(|b| b),
            }
        }
    };
    op_ok && user_ok && filter_ok
}

fn pick<T: Clone + std::fmt::Debug + 'static>(xs: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(xs)
}

fn rule_body() -> impl Strategy<Value = Value> {
    let op = (
        pick(&SERVICES),
        pick(&RESOURCES),
        proptest::sample::subsequence(NAMES.to_vec(), 1..=4),
    );
    let cond = (0..6usize, any::<bool>(), 0..3usize).prop_map(|(f, eq, v)| {
        let (name, values) = FIELDS[f];
        format!(
            "{name} {} {}",
            if eq { "=" } else { "!=" },
            values[v % values.len()]
        )
    });
    (
        any::<bool>(),
        proptest::collection::vec(op, 1..4),
        proptest::collection::vec(proptest::sample::subsequence(USERS.to_vec(), 1..=2), 0..3),
        proptest::option::of((any::<bool>(), any::<bool>(), proptest::collection::vec(cond, 1..=6))),
        any::<bool>(),
        0..10u8,
    )
        .prop_map(|(complete, ops, groups, filter, has_topic, disabled)| {
            let mut body = json!({
                "notification_name": "r",
                "operation_type": if complete { "complete" } else { "customized" },
                "operations": if complete { json!([]) } else {
                    Value::Array(ops.into_iter().map(|(s, r, n)| json!({"service_type": s, "resource_type": r, "trace_names": n})).collect())
                },
                "notify_user_list": groups.into_iter().enumerate()
                    .map(|(i, u)| json!({"user_group": format!("g{i}"), "user_list": u})).collect::<Vec<_>>(),
                "notification_id": "n",
                "status": if disabled == 0 { "disabled" } else { "enabled" },
            });
            if has_topic {
                body["topic_id"] = json!("urn:smn:r1:p1:t");
            }
            if let Some((on, and, rule)) = filter {
                body["filter"] = json!({"is_support_filter": on, "condition": if and { "AND" } else { "OR" }, "rule": rule});
            }
            body
        })
}

fn trace() -> impl Strategy<Value = Value> {
    let maybe = |xs: &'static [&'static str]| proptest::option::weighted(0.85, pick(xs));
    (
        pick(&SERVICES),
        pick(&RESOURCES),
        pick(&NAMES),
        maybe(&USERS),
        proptest::collection::vec(proptest::option::weighted(0.8, 0..3usize), 6),
        any::<bool>(),
    )
        .prop_map(|(s, r, n, user, fields, numeric_code)| {
            let mut t = json!({"trace_id": "t", "trace_name": n, "service_type": s, "resource_type": r, "project_id": "p1"});
            if let Some(u) = user {
                t["user"] = json!({"name": u, "id": "x"});
            }
            for (i, v) in fields.into_iter().enumerate() {
                if let Some(v) = v {
                    let (name, values) = FIELDS[i];
                    let value = values[v % values.len()];
                    t[name] = match (name, numeric_code) {
                        ("code", true) => json!(value.parse::<u32>().unwrap()),
                        _ => json!(value),
                    };
                }
            }
            t
        })
}

fn notification(i: usize, body: &Value) -> Notification {
    let mut body = body.clone();
    body["notification_name"] = json!(format!("r{i}"));
    body["notification_id"] = json!(format!("n{i}"));
    let stored =
        CreateBody::from_value(&body)
            .unwrap()
            .into_notification(format!("n{i}"), "p1".into(), 0);
    match UpdateBody::from_value(&body) {
        Ok(update) => update.apply_to(&stored),
        Err(_) => stored,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn compiled_matcher_agrees_with_the_loop_over_rules(
        bodies in proptest::collection::vec(rule_body(), 0..12),
        traces in proptest::collection::vec(trace(), 1..20),
    ) {
        let rules: Vec<Notification> = bodies.iter().enumerate().map(|(i, b)| notification(i, b)).collect();
        let compiled = CompiledRules::compile(&rules).unwrap();
        for t in &traces {
            let text = t.to_string();
            let view = rules::trace::scan(&text).unwrap();
            let got: Vec<&str> = compiled.matches(&view).iter().map(|i| compiled.rules()[i].notification_id.as_str()).collect();
            let want: Vec<&str> = rules.iter().filter(|r| fires(r, t)).map(|r| r.notification_id.as_str()).collect();
            prop_assert_eq!(got, want, "trace {}", text);
        }
    }
}

#[test]
fn the_sample_rule_fires_on_exactly_the_traces_it_names() {
    let body = samples::CREATE_NOTIFICATION_REQUEST.as_bytes();
    let rule = CreateBody::parse(body)
        .unwrap()
        .into_notification("n1".into(), "p".into(), 0);
    let compiled = CompiledRules::compile([&rule]).unwrap();
    let fired: Vec<String> = samples::CTS_TRACES
        .lines()
        .filter(|l| !compiled.matches(&rules::trace::scan(l).unwrap()).is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["trace_name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // deleteServer: ops-alice, ConsoleAction; rebootServer: dev-bob, warning; loginFailed:
    // acme-admin, incident. deleteCredential (acme-admin, normal ApiCall) fails the filter.
    assert_eq!(fired, ["deleteServer", "rebootServer", "loginFailed"]);
}

#[test]
fn disabled_rules_and_rules_without_topic_never_fire() {
    let mut body = rules_body_complete();
    body["status"] = json!("disabled");
    let disabled = notification(0, &body);
    let compiled = CompiledRules::compile([&disabled]).unwrap();
    assert!(compiled.rules().is_empty());
}

fn rules_body_complete() -> Value {
    json!({"notification_name": "all", "operation_type": "complete", "topic_id": "urn:smn:r:p:t", "notification_id": "n", "status": "enabled"})
}

#[test]
fn more_than_128_active_rules_are_refused() {
    let rule = notification(0, &rules_body_complete());
    let many = vec![rule; 129];
    assert!(CompiledRules::compile(&many).is_err());
    assert_eq!(
        CompiledRules::compile(&many[..128]).unwrap().rules().len(),
        128
    );
}
