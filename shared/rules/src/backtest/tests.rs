use serde_json::json;

use super::*;
use crate::Trace;

const P: &str = "24edf66e79d04187acb99a463e610764";
const DAY: i64 = 20_423; // 2025-12-01
const T0: i64 = DAY * DAY_MS;

fn rule(id: &str, body: Value) -> Notification {
    let mut body = body;
    body["notification_name"] = id.into();
    CreateBody::from_value(&body)
        .unwrap()
        .into_notification(id.into(), P.into(), 1)
}

fn rules() -> BacktestRules {
    BacktestRules::new(&[
        rule("all", json!({"operation_type": "complete"})),
        rule("limited", json!({"operation_type": "complete",
            "topic_id": format!("urn:smn:eu-west-1:{P}:t"),
            "digest": {"window_seconds": 60, "max_messages": 2}})),
        rule("deletes", json!({"operation_type": "customized",
            "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}]})),
    ], None)
    .unwrap()
}

fn trace(id: &str, name: &str, user: &str, time_ms: Option<i64>) -> Trace {
    let mut t = json!({"trace_id": id, "trace_name": name, "service_type": "ECS",
        "resource_type": "ecs", "project_id": P, "user": {"name": user}});
    if let Some(ms) = time_ms {
        t["time"] = ms.into();
    }
    Trace::from_json(t.to_string(), None).unwrap()
}

/// Five calls in one minute of day one, two on day two, one without a time.
fn traces() -> Vec<Trace> {
    let mut all: Vec<Trace> = (0..5)
        .map(|i| {
            trace(
                &format!("a{i}"),
                if i < 3 { "deleteServer" } else { "stopServer" },
                "alice",
                Some(T0 + 1000 * i),
            )
        })
        .collect();
    all.push(trace("b0", "deleteServer", "bob", Some(T0 + DAY_MS + 5)));
    all.push(trace(
        "b1",
        "startServer",
        "bob",
        Some(T0 + DAY_MS + 70_000),
    ));
    all.push(trace("u", "deleteServer", "carol", None));
    all
}

fn tally_of(rules: &BacktestRules, traces: &[Trace], range: TimeRange) -> Tally {
    let mut tally = Tally::new(rules);
    for t in traces {
        tally.add(rules, &range, t);
    }
    tally
}

#[test]
fn every_rule_counts_its_matches_messages_days_names_and_users() {
    let rules = rules();
    let report = tally_of(&rules, &traces(), TimeRange::default()).report(&rules);
    assert_eq!(
        (report.records, report.first_trace.as_deref()),
        (8, Some("2025-12-01T00:00:00Z"))
    );
    let [all, limited, deletes] = &report.rules[..] else {
        panic!()
    };
    assert_eq!((all.matches, all.messages, all.digests), (8, 8, 0));
    // Day one's minute: 2 alone and a digest of 3; day two: two windows of one each.
    assert_eq!(
        (
            limited.matches,
            limited.messages,
            limited.digests,
            limited.digested
        ),
        (8, 6, 1, 3)
    );
    let days: Vec<(&str, u64, u64)> = limited
        .per_day
        .iter()
        .map(|d| (d.day.as_str(), d.matches, d.messages))
        .collect();
    assert_eq!(days, [("2025-12-01", 5, 3), ("2025-12-02", 2, 2)]);
    assert_eq!((deletes.matches, deletes.messages), (5, 5));
    let names: Vec<(&str, u64)> = all
        .top_trace_names
        .iter()
        .map(|c| (c.name.as_str(), c.count))
        .collect();
    assert_eq!(
        names,
        [("deleteServer", 5), ("stopServer", 2), ("startServer", 1)]
    );
    assert_eq!(all.top_users[0].name, "alice");
    let subjects: Vec<&str> = deletes.samples.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(subjects, ["ECS ecs deleteServer by alice"; 3]);
    assert_eq!(
        deletes.samples[0].time.as_deref(),
        Some("2025-12-01T00:00:00Z")
    );
    let body: Value =
        serde_json::from_str(deletes.samples[0].message.as_ref().unwrap().get()).unwrap();
    assert_eq!(body["trace"]["trace_id"], "a0");
}

#[test]
fn tallies_of_parts_merge_to_the_tally_of_the_whole_in_any_order() {
    let rules = rules();
    let all = traces();
    let whole = tally_of(&rules, &all, TimeRange::default());
    for cut in 0..all.len() {
        let (mut first, second) = (
            tally_of(&rules, &all[cut..], TimeRange::default()),
            tally_of(&rules, &all[..cut], TimeRange::default()),
        );
        first.merge(second).unwrap();
        assert_eq!(first, whole, "cut at {cut}");
    }
    let other =
        BacktestRules::new(&[rule("x", json!({"operation_type": "complete"}))], None).unwrap();
    assert!(Tally::new(&rules).merge(Tally::new(&other)).is_err());
}

#[test]
fn a_time_range_keeps_the_traces_inside_it_and_none_without_a_time() {
    let rules = rules();
    let range = TimeRange {
        from_ms: Some(T0 + DAY_MS),
        to_ms: Some(T0 + 2 * DAY_MS),
    };
    let tally = tally_of(&rules, &traces(), range);
    assert_eq!((tally.records, tally.out_of_range), (8, 6));
    assert_eq!(tally.rules[0].matches, 2);
}

#[test]
fn disabled_rules_and_rules_without_a_topic_are_backtested_too() {
    let mut disabled = rule(
        "off",
        json!({"operation_type": "complete", "topic_id": format!("urn:smn:eu-west-1:{P}:t")}),
    );
    disabled.status = Status::Disabled;
    let rules = BacktestRules::new(
        &[
            disabled,
            rule("no_topic", json!({"operation_type": "complete"})),
        ],
        None,
    )
    .unwrap();
    let report = tally_of(&rules, &traces(), TimeRange::default()).report(&rules);
    assert_eq!(
        report.rules.iter().map(|r| r.matches).collect::<Vec<_>>(),
        [8, 8]
    );
}

#[test]
fn range_bounds_read_as_days_times_or_milliseconds() {
    assert_eq!(TimeRange::parse_bound("2025-12-01"), Some(T0));
    assert_eq!(
        TimeRange::parse_bound("2025-12-01T00:01:05Z"),
        Some(T0 + 65_000)
    );
    assert_eq!(TimeRange::parse_bound(&T0.to_string()), Some(T0));
    assert_eq!(TimeRange::parse_bound("1970-01-01"), Some(0));
    assert_eq!(TimeRange::parse_bound("2024-02-29"), Some(19_782 * DAY_MS));
    for bad in [
        "2025-13-01",
        "yesterday",
        "2025-12-01T25:00:00Z",
        "2025-12-01T10:00:00",
    ] {
        assert_eq!(TimeRange::parse_bound(bad), None, "{bad}");
    }
}

#[test]
fn stored_rules_count_their_projects_traces_only() {
    let all = rule("all", json!({"operation_type": "complete"}));
    let mut other = traces();
    other.push(Trace::from_json(r#"{"trace_id":"o","trace_name":"x","service_type":"ECS","resource_type":"ecs","project_id":"other"}"#, None).unwrap());
    let mine = BacktestRules::new(std::slice::from_ref(&all), Some(P)).unwrap();
    let tally = tally_of(&mine, &other, TimeRange::default());
    assert_eq!((tally.rules[0].matches, tally.other_projects), (8, 1));
    let any = BacktestRules::new(&[all], None).unwrap();
    assert_eq!(
        tally_of(&any, &other, TimeRange::default()).rules[0].matches,
        9
    );
}

#[test]
fn rule_bodies_are_checked_as_create_checks_them_and_errors_name_the_body() {
    let ok = json!({"notification_name": "a", "operation_type": "complete"});
    let rules = rules_of_bodies(std::slice::from_ref(&ok), P).unwrap();
    assert_eq!(
        (
            rules[0].notification_id.as_str(),
            rules[0].project_id.as_str()
        ),
        ("a", P)
    );
    let field = |bodies: &[Value]| rules_of_bodies(bodies, P).unwrap_err().field;
    assert_eq!(field(&[]), "rules");
    assert_eq!(
        field(&[ok.clone(), ok.clone()]),
        "rules[1].notification_name"
    );
    assert_eq!(
        field(&[ok, json!({"notification_name": "b"})]),
        "rules[1].operation_type"
    );
}
