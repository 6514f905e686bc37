//! Rule changes are traces: a rule watching the notification operations of CTS publishes when
//! another rule is created, disabled, modified or deleted through the API, naming the caller
//! and the source address; a rule's own change fires it only as a normal match would.

mod common;

use common::Local;
use serde_json::{json, Value};

const P: &str = "24edf66e79d04187acb99a463e610764";

/// The traces in the topic of the messages the watcher published, in order.
fn watched(local: &Local, watcher: &str) -> Vec<Value> {
    local
        .topic_lines()
        .iter()
        .filter_map(|l| {
            let m: Value = serde_json::from_str(l["message"].as_str()?).ok()?;
            (m["notification"]["id"] == watcher).then(|| m["trace"].clone())
        })
        .collect()
}

#[tokio::test]
async fn disabling_or_deleting_a_rule_notifies_the_rule_watching_them() {
    let local = Local::new();
    let watcher = local
        .create(
            P,
            &json!({"notification_name": "watch_rules", "operation_type": "customized",
                    "operations": [{"service_type": "CTS", "resource_type": "notification",
                                    "trace_names": ["updateNotification", "updateNotificationStatus", "deleteNotification"]}],
                    "topic_id": format!("urn:smn:eu-west-1:{P}:security")}),
        )
        .await;
    assert!(
        watched(&local, &watcher).is_empty(),
        "its own creation is not watched"
    );
    let target = local
        .create_complete(P, "key_ops", &format!("urn:smn:eu-west-1:{P}:key_events"))
        .await;
    assert!(
        watched(&local, &watcher).is_empty(),
        "createNotification is not watched"
    );

    let body = |status: &str, name: &str| {
        json!({"notification_id": target, "notification_name": name, "operation_type": "complete",
               "status": status, "topic_id": format!("urn:smn:eu-west-1:{P}:key_events")})
        .to_string()
    };
    let (status, _) = local
        .call(
            "PUT",
            &format!("/v3/{P}/notifications"),
            body("disabled", "key_ops"),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = local
        .call(
            "PUT",
            &format!("/v3/{P}/notifications"),
            body("disabled", "key_ops_v2"),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = local
        .call(
            "DELETE",
            &format!("/v3/{P}/notifications?notification_id={target}"),
            String::new(),
        )
        .await;
    assert_eq!(status, 204);

    let traces = watched(&local, &watcher);
    let names: Vec<&str> = traces
        .iter()
        .map(|t| t["trace_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "updateNotificationStatus",
            "updateNotification",
            "deleteNotification"
        ]
    );
    for t in &traces {
        assert_eq!(t["user"]["name"], "anonymous", "no keys configured: {t}");
        assert_eq!(t["service_type"], "CTS");
        assert_eq!(t["resource_type"], "notification");
        assert_eq!(t["resource_id"], target.as_str());
        assert_eq!(t["project_id"], P);
    }
    assert_eq!(traces[0]["trace_rating"], "warning", "disabling a rule");
    assert_eq!(traces[0]["code"], "200");
    let request: Value = serde_json::from_str(traces[0]["request"].as_str().unwrap()).unwrap();
    assert_eq!(request["status"], "disabled");
    assert_eq!(traces[1]["resource_name"], "key_ops_v2");
    assert_eq!(traces[2]["trace_rating"], "warning", "deleting a rule");
    assert_eq!(traces[2]["request"], format!("notification_id={target}"));

    // The watcher's own change is traced and matches it, once, like any operation it watches.
    let own = json!({"notification_id": watcher, "notification_name": "watch_rules",
        "operation_type": "customized", "status": "enabled",
        "operations": [{"service_type": "CTS", "resource_type": "notification",
                        "trace_names": ["updateNotification", "deleteNotification"]}],
        "topic_id": format!("urn:smn:eu-west-1:{P}:security")});
    let (status, _) = local
        .call("PUT", &format!("/v3/{P}/notifications"), own.to_string())
        .await;
    assert_eq!(status, 200);
    let traces = watched(&local, &watcher);
    assert_eq!(traces.len(), 4);
    assert_eq!(traces[3]["resource_id"], watcher.as_str());
}
