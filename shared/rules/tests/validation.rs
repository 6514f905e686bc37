//! Every validation rule of contract part 1, at its limit and one past it.

use rules::stored::parse_stored;
use rules::{
    CreateBody, ErrorCode, NotificationType, OperationType, Status, UpdateBody, ValidationError,
};
use serde_json::{json, Value};

const TOPIC: &str = "urn:smn:eu-west-1:24edf66e79d04187acb99a463e610764:key_events";

fn base() -> Value {
    json!({
        "notification_name": "key_ops",
        "operation_type": "customized",
        "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
        "topic_id": TOPIC
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn create_err(body: &Value) -> ValidationError {
    CreateBody::from_value(body).expect_err("body should be rejected")
}

fn assert_rejected(body: &Value, field: &str) {
    let e = create_err(body);
    assert_eq!(e.code, ErrorCode::InvalidRequest, "{e}");
    assert!(e.field.starts_with(field), "error {e} should name {field}");
}

/// `n` distinct trace names spread over `services` services.
fn operations(n: usize, services: usize) -> Value {
    let ops: Vec<Value> = (0..services)
        .map(|s| {
            let names: Vec<String> = (0..n)
                .filter(|i| i % services == s)
                .map(|i| format!("op{i}"))
                .collect();
            json!({"service_type": format!("SVC{s}"), "resource_type": "res", "trace_names": names})
        })
        .collect();
    Value::Array(ops)
}

fn users(groups: usize, per_group: usize) -> Value {
    Value::Array(
        (0..groups)
            .map(|g| {
                let users: Vec<String> = (0..per_group).map(|u| format!("user{g}_{u}")).collect();
                json!({"user_group": format!("group{g}"), "user_list": users})
            })
            .collect(),
    )
}

fn filter(n: usize) -> Value {
    let rules: Vec<String> = (0..n).map(|i| format!("code != {}", 500 + i)).collect();
    json!({"condition": "AND", "is_support_filter": true, "rule": rules})
}

#[test]
fn the_sample_request_is_accepted_and_serialized_as_the_api_shows_it() {
    let body = samples::CREATE_NOTIFICATION_REQUEST.as_bytes();
    let n = CreateBody::parse(body).unwrap().into_notification(
        "id-1".into(),
        "p1".into(),
        1_732_520_000_000,
    );
    assert_eq!(n.status, Status::Enabled);
    let shown = serde_json::to_value(&n).unwrap();
    assert_eq!(shown["notification_type"], "smn");
    assert_eq!(shown["create_time"], 1_732_520_000_000_i64);
    assert_eq!(shown["filter"]["rule"][0], "trace_rating != normal");
    assert_eq!(
        shown["operations"][1]["trace_names"][1],
        "deleteSecurity-group-rule"
    );
    assert!(
        shown.get("agency_name").is_none(),
        "absent optional fields are omitted"
    );
    assert_eq!(
        parse_stored(&shown).unwrap(),
        n,
        "the stored form reads back unchanged"
    );
}

#[test]
fn a_rule_without_topic_is_created_disabled() {
    let mut body = base();
    body.as_object_mut().unwrap().remove("topic_id");
    let n = CreateBody::from_value(&body)
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(n.status, Status::Disabled);
    assert!(!n.is_active());
}

#[test]
fn names_of_64_characters_pass_and_65_fail() {
    assert!(
        CreateBody::from_value(&with(base(), "notification_name", json!("n".repeat(64)))).is_ok()
    );
    assert_rejected(
        &with(base(), "notification_name", json!("n".repeat(65))),
        "notification_name",
    );
    assert_rejected(
        &with(base(), "notification_name", json!("")),
        "notification_name",
    );
    assert_rejected(
        &with(base(), "notification_name", json!("key-ops")),
        "notification_name",
    );
    assert_rejected(
        &with(base(), "notification_name", json!("key\u{200B}ops")),
        "notification_name",
    );
    assert_rejected(
        &with(base(), "notification_name", json!(12)),
        "notification_name",
    );
    assert_rejected(
        &with(base(), "notification_name", Value::Null),
        "notification_name",
    );
}

#[test]
fn a_thousand_trace_names_pass_and_one_more_fails() {
    assert!(CreateBody::from_value(&with(base(), "operations", operations(1000, 10))).is_ok());
    assert_rejected(
        &with(base(), "operations", operations(1001, 10)),
        "operations",
    );
}

#[test]
fn operations_come_back_as_sent_and_repeats_count_toward_the_limit() {
    let ops = json!([
        {"service_type": "ECS", "resource_type": "ecs", "trace_names": ["stopServer", "deleteServer"]},
        {"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]},
    ]);
    let n = CreateBody::from_value(&with(base(), "operations", ops.clone()))
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(serde_json::to_value(&n.operations).unwrap(), ops);
    let mut full = operations(1000, 1);
    full.as_array_mut()
        .unwrap()
        .push(json!({"service_type": "SVC0", "resource_type": "res", "trace_names": ["op0"]}));
    assert_rejected(&with(base(), "operations", full), "operations");
}

#[test]
fn user_groups_come_back_as_sent_and_repeats_count_toward_the_limit() {
    let groups = json!([
        {"user_group": "admin", "user_list": ["bob", "alice", "bob"]},
        {"user_group": "admin", "user_list": ["carol"]},
    ]);
    let n = CreateBody::from_value(&with(base(), "notify_user_list", groups.clone()))
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(serde_json::to_value(&n.notify_user_list).unwrap(), groups);
    let fifty_one = json!([{"user_group": "g", "user_list": vec!["same"; 51]}]);
    assert_rejected(
        &with(base(), "notify_user_list", fifty_one),
        "notify_user_list",
    );
}

#[test]
fn filter_conditions_come_back_exactly_as_written() {
    let filter = json!({"condition": "AND", "is_support_filter": true, "rule": ["code!=200", " trace_rating =warning "]});
    let n = CreateBody::from_value(&with(base(), "filter", filter.clone()))
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(
        serde_json::to_value(n.filter.as_ref().unwrap()).unwrap(),
        filter
    );
}

#[test]
fn an_smn_urn_of_another_project_is_refused() {
    let own = with(base(), "topic_id", json!("urn:smn:eu-west-1:p1:key_events"));
    let n = CreateBody::from_value(&own)
        .unwrap()
        .into_notification("i".into(), "p1".into(), 0);
    assert!(rules::body::check_topic_project(&n).is_ok());
    let n = CreateBody::from_value(&own)
        .unwrap()
        .into_notification("i".into(), "p2".into(), 0);
    let e = rules::body::check_topic_project(&n).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.field.as_str()),
        ("CTS.0003", "topic_id")
    );
}

#[test]
fn a_hundred_services_pass_and_one_more_fails() {
    assert!(CreateBody::from_value(&with(base(), "operations", operations(100, 100))).is_ok());
    assert_rejected(
        &with(base(), "operations", operations(101, 101)),
        "operations",
    );
}

#[test]
fn operation_entries_need_all_three_fields() {
    for (op, field) in [
        (
            json!({"resource_type": "ecs", "trace_names": ["a"]}),
            "operations[0].service_type",
        ),
        (
            json!({"service_type": "ECS", "trace_names": ["a"]}),
            "operations[0].resource_type",
        ),
        (
            json!({"service_type": "ECS", "resource_type": "ecs"}),
            "operations[0].trace_names",
        ),
        (
            json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": []}),
            "operations[0].trace_names",
        ),
        (
            json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": [7]}),
            "operations[0].trace_names[0]",
        ),
        (
            json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": ["1abc"]}),
            "operations[0].trace_names[0]",
        ),
        (
            json!({"service_type": "E CS", "resource_type": "ecs", "trace_names": ["a"]}),
            "operations[0].service_type",
        ),
        (json!("ECS"), "operations[0]"),
    ] {
        assert_rejected(&with(base(), "operations", json!([op])), field);
    }
}

#[test]
fn trace_names_of_64_characters_pass_and_65_fail() {
    let op =
        |n: String| json!([{"service_type": "ECS", "resource_type": "ecs", "trace_names": [n]}]);
    assert!(CreateBody::from_value(&with(
        base(),
        "operations",
        op(format!("a{}", "b".repeat(63)))
    ))
    .is_ok());
    assert_rejected(
        &with(base(), "operations", op(format!("a{}", "b".repeat(64)))),
        "operations[0].trace_names[0]",
    );
}

#[test]
fn customized_needs_operations_and_complete_refuses_them() {
    assert_rejected(&with(base(), "operations", json!([])), "operations");
    let mut no_ops = base();
    no_ops.as_object_mut().unwrap().remove("operations");
    assert_rejected(&no_ops, "operations");
    assert_rejected(
        &with(base(), "operation_type", json!("complete")),
        "operations",
    );
    let complete = with(
        with(base(), "operation_type", json!("complete")),
        "operations",
        json!([]),
    );
    let n = CreateBody::from_value(&complete)
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(n.operation_type, OperationType::Complete);
    assert_eq!(serde_json::to_value(&n).unwrap()["operations"], json!([]));
    assert_rejected(
        &with(base(), "operation_type", json!("all")),
        "operation_type",
    );
}

#[test]
fn typical_is_stored_as_customized_with_the_catalog_preset() {
    let mut body = with(base(), "operation_type", json!("typical"));
    body.as_object_mut().unwrap().remove("operations");
    let n = CreateBody::from_value(&body)
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(n.operation_type, OperationType::Customized);
    assert_eq!(n.operations, rules::catalog::typical_operations());
}

/// The sent operations would be silently replaced by the preset: refused, as for complete.
#[test]
fn typical_and_complete_refuse_operations_and_take_an_empty_list() {
    for preset in ["typical", "complete"] {
        let body = with(base(), "operation_type", json!(preset));
        assert_rejected(&body, "operations");
        let invalid = with(body.clone(), "operations", json!([{"service_type": 7}]));
        assert_rejected(&invalid, "operations");
        assert!(CreateBody::from_value(&with(body, "operations", json!([]))).is_ok());
    }
}

#[test]
fn fifty_users_in_ten_groups_pass_and_one_more_of_either_fails() {
    assert!(CreateBody::from_value(&with(base(), "notify_user_list", users(10, 5))).is_ok());
    assert_rejected(
        &with(base(), "notify_user_list", users(11, 1)),
        "notify_user_list",
    );
    let mut too_many = users(10, 5);
    too_many[0]["user_list"]
        .as_array_mut()
        .unwrap()
        .push(json!("one_more"));
    assert_rejected(
        &with(base(), "notify_user_list", too_many),
        "notify_user_list",
    );
}

#[test]
fn user_groups_need_both_fields() {
    assert_rejected(
        &with(base(), "notify_user_list", json!([{"user_list": ["a"]}])),
        "notify_user_list[0].user_group",
    );
    assert_rejected(
        &with(base(), "notify_user_list", json!([{"user_group": "g"}])),
        "notify_user_list[0].user_list",
    );
    assert_rejected(
        &with(
            base(),
            "notify_user_list",
            json!([{"user_group": "g", "user_list": [""]}]),
        ),
        "notify_user_list[0].user_list[0]",
    );
    assert_rejected(
        &with(
            base(),
            "notify_user_list",
            json!([{"user_group": "g", "user_list": ["a\nb"]}]),
        ),
        "notify_user_list[0].user_list[0]",
    );
}

#[test]
fn six_conditions_pass_and_seven_fail() {
    assert!(CreateBody::from_value(&with(base(), "filter", filter(6))).is_ok());
    assert_rejected(&with(base(), "filter", filter(7)), "filter.rule");
    assert_rejected(&with(base(), "filter", filter(0)), "filter.rule");
}

#[test]
fn a_switched_off_filter_is_kept_but_not_required_to_have_conditions() {
    let off = json!({"is_support_filter": false, "rule": []});
    let n = CreateBody::from_value(&with(base(), "filter", off))
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert!(n.filter.unwrap().active().is_none());
}

#[test]
fn filter_shape_errors_name_the_field() {
    assert_rejected(
        &with(
            base(),
            "filter",
            json!({"condition": "XOR", "is_support_filter": true, "rule": ["code = 200"]}),
        ),
        "filter.condition",
    );
    assert_rejected(
        &with(
            base(),
            "filter",
            json!({"condition": "AND", "rule": ["code = 200"]}),
        ),
        "filter.is_support_filter",
    );
    assert_rejected(
        &with(
            base(),
            "filter",
            json!({"condition": "AND", "is_support_filter": true, "rule": ["colour = red"]}),
        ),
        "filter.rule[0]",
    );
    assert_rejected(
        &with(
            base(),
            "filter",
            json!({"condition": "AND", "is_support_filter": "yes", "rule": ["code = 200"]}),
        ),
        "filter.is_support_filter",
    );
}

#[test]
fn topics_must_have_an_accepted_form_and_set_the_type() {
    assert_rejected(&with(base(), "topic_id", json!("my-topic")), "topic_id");
    let fun = with(
        base(),
        "topic_id",
        json!("arn:aws:lambda:eu-west-1:123456789012:function:audit"),
    );
    let n = CreateBody::from_value(&fun)
        .unwrap()
        .into_notification("i".into(), "p".into(), 0);
    assert_eq!(n.notification_type, NotificationType::Fun);
}

#[test]
fn malformed_bodies_are_invalid_requests() {
    for body in [
        &b""[..],
        b"   ",
        b"{",
        b"[]",
        b"null",
        b"\"x\"",
        b"{\"notification_name\": }",
    ] {
        let e = CreateBody::parse(body).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.field, "body", "{e}");
    }
}

#[test]
fn update_requires_id_and_status_and_a_topic_when_enabled() {
    let update = |extra: Value| {
        let mut b = base();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        UpdateBody::from_value(&b)
    };
    assert!(update(json!({"notification_id": "n1", "status": "enabled"})).is_ok());
    assert!(
        update(json!({"notification_id": "n1", "status": "disabled", "topic_id": null})).is_ok()
    );
    let e = update(json!({"notification_id": "n1", "status": "paused"})).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_str()),
        (ErrorCode::InvalidStatus, "status")
    );
    assert_eq!(
        update(json!({"notification_id": "n1"})).unwrap_err().field,
        "status"
    );
    assert_eq!(
        update(json!({"status": "enabled"})).unwrap_err().field,
        "notification_id"
    );
    let e = update(json!({"notification_id": "n1", "status": "enabled", "topic_id": null}))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_str()),
        (ErrorCode::InvalidRequest, "topic_id")
    );
}

#[test]
fn an_update_keeps_identity_and_creation_time() {
    let created =
        CreateBody::from_value(&base())
            .unwrap()
            .into_notification("n1".into(), "p1".into(), 42);
    let mut b = with(base(), "notification_name", json!("renamed"));
    b["notification_id"] = json!("n1");
    b["status"] = json!("disabled");
    let updated = UpdateBody::from_value(&b).unwrap().apply_to(&created);
    assert_eq!(
        (
            updated.notification_id.as_str(),
            updated.project_id.as_str(),
            updated.create_time
        ),
        ("n1", "p1", 42)
    );
    assert_eq!(
        (updated.notification_name.as_str(), updated.status),
        ("renamed", Status::Disabled)
    );
}

/// Each list-shaped field filled to the API's 1 MiB body limit is refused, naming the field
/// and its limit (`cargo bench -p rules --bench validation` times it: milliseconds).
#[test]
fn a_body_of_one_long_list_is_refused_by_its_limit() {
    let fill = |item: Value| vec![item; 60_000];
    let cases = [
        (
            with(
                base(),
                "notify_user_list",
                json!([{"user_group": "g", "user_list": fill(json!("user-1"))}]),
            ),
            "notify_user_list",
            "at most 50 users",
        ),
        (
            with(
                base(),
                "notify_user_list",
                json!(fill(json!({"user_group": "g", "user_list": ["u"]}))),
            ),
            "notify_user_list",
            "at most 10 user groups",
        ),
        (
            with(
                base(),
                "operations",
                json!([{"service_type": "ECS", "resource_type": "ecs", "trace_names": fill(json!("deleteServer"))}]),
            ),
            "operations",
            "at most 1000 trace names",
        ),
        (
            with(
                base(),
                "operations",
                json!(fill(
                    json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": ["a"]})
                )),
            ),
            "operations",
            "at most 1000 trace names",
        ),
        (
            with(
                base(),
                "filter",
                json!({"is_support_filter": true, "condition": "AND", "rule": fill(json!("code = 200"))}),
            ),
            "filter",
            "at most 6 conditions",
        ),
    ];
    for (body, field, limit) in cases {
        assert!(body.to_string().len() > 500_000);
        let e = create_err(&body);
        assert!(
            e.to_string().contains(field) && e.to_string().contains(limit),
            "{field}: {e}"
        );
    }
}
