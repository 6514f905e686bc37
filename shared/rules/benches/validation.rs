//! What refusing a hostile body costs: for each list-shaped field, a create body of about
//! 1 MiB (the API's limit) made of that list alone, parsed and validated; prints the time per
//! body. Validation counts before it looks inside, so each is refused in time linear in its
//! size. Usage: `cargo bench -p rules --bench validation`.

use std::time::Instant;

use rules::CreateBody;
use serde_json::{json, Value};

/// Repeats `item` until the body holds about 1 MiB.
fn filled(item: Value, wrap: impl Fn(Vec<Value>) -> Value) -> Vec<u8> {
    let n = (1 << 20) / (item.to_string().len() + 1);
    wrap(vec![item; n]).to_string().into_bytes()
}

fn main() {
    let base = |extra: Value| {
        let mut b = json!({"notification_name": "n", "operation_type": "customized",
            "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["a"]}],
            "topic_id": "urn:smn:r:p:t"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "users in one group",
            filled(json!("user-0001"), |v| {
                base(json!({"notify_user_list": [{"user_group": "g", "user_list": v}]}))
            }),
        ),
        (
            "user groups",
            filled(json!({"user_group": "g", "user_list": ["u"]}), |v| {
                base(json!({"notify_user_list": v}))
            }),
        ),
        (
            "trace names in one operation",
            filled(json!("deleteServer"), |v| {
                base(
                    json!({"operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": v}]}),
                )
            }),
        ),
        (
            "operations",
            filled(
                json!({"service_type": "ECS", "resource_type": "ecs", "trace_names": ["a"]}),
                |v| base(json!({"operations": v})),
            ),
        ),
        (
            "services",
            filled(
                json!({"service_type": "S", "resource_type": "r", "trace_names": []}),
                |v| base(json!({"operations": v})),
            ),
        ),
        (
            "filter conditions",
            filled(json!("code = 200"), |v| {
                base(json!({"filter": {"is_support_filter": true, "condition": "AND", "rule": v}}))
            }),
        ),
    ];
    for (name, body) in &bodies {
        let runs = 20;
        let started = Instant::now();
        for _ in 0..runs {
            let refused = CreateBody::parse(body).is_err();
            assert!(refused, "{name}: a 1 MiB body was accepted");
        }
        let per = started.elapsed().as_secs_f64() * 1e3 / runs as f64;
        println!(
            "bench validation {name:<30} body_bytes={:>8} ms_per_body={per:.2}",
            body.len()
        );
    }
}
