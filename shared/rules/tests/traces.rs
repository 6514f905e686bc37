//! Traces in every input shape of contract part 3, read from the sample files in `events/`.

use rules::trace::envelope::{split, Shape};
use rules::trace::{scan, TraceError};

fn event(name: &str) -> String {
    samples::sample(name).to_owned()
}

#[test]
fn every_sample_cts_trace_scans_to_the_fields_serde_reads() {
    for line in event("cts-traces.jsonl").lines() {
        let view = scan(line).unwrap();
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |x: &serde_json::Value| match x {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        assert_eq!(view.trace_id.as_deref(), v["trace_id"].as_str());
        assert_eq!(view.trace_name.as_deref(), v["trace_name"].as_str());
        assert_eq!(view.user_name.as_deref(), v["user"]["name"].as_str());
        assert_eq!(
            view.code.as_deref().map(str::to_owned),
            text(&v["code"]),
            "code as string or number"
        );
        assert_eq!(view.resource_name.as_deref(), v["resource_name"].as_str());
        assert_eq!(view.project_id.as_deref(), v["project_id"].as_str());
    }
}

#[test]
fn the_poison_item_alone_fails_in_the_sqs_batch() {
    let (shape, items) = split(&event("sqs-batch-cts-traces-with-poison.json"));
    assert_eq!(shape, Shape::Sqs);
    let failed: Vec<_> = items
        .iter()
        .filter(|i| i.trace.is_err())
        .map(|i| i.message_id.as_deref())
        .collect();
    assert_eq!(failed, [Some("poison-0001")]);
    assert!(items.len() > 1);
    for item in items.iter().filter(|i| i.trace.is_ok()) {
        assert_eq!(
            item.trace.as_ref().unwrap().project_id(),
            "24edf66e79d04187acb99a463e610764"
        );
    }
}

#[test]
fn the_sqs_project_attribute_routes_a_trace_without_project() {
    let batch = serde_json::json!({"Records": [{
        "messageId": "m1", "eventSource": "aws:sqs", "body": r#"{"trace_id":"t1","trace_name":"deleteServer","service_type":"ECS","resource_type":"ecs"}"#,
        "messageAttributes": {"project_id": {"stringValue": "p-from-attribute", "dataType": "String"}}
    }, {
        "messageId": "m2", "eventSource": "aws:sqs", "body": r#"{"trace_id":"t2","trace_name":"deleteServer","service_type":"ECS","resource_type":"ecs"}"#
    }]});
    let (_, items) = split(&batch.to_string());
    assert_eq!(
        items[0].trace.as_ref().unwrap().project_id(),
        "p-from-attribute"
    );
    assert_eq!(items[1].trace.as_ref().unwrap_err(), &TraceError::NoProject);
}

#[test]
fn a_cloudtrail_api_call_via_eventbridge_is_normalized() {
    let (shape, items) = split(&event("eventbridge-cloudtrail-authorize-sg-ingress.json"));
    assert_eq!(shape, Shape::EventBridge);
    let trace = items[0].trace.as_ref().unwrap();
    assert_eq!(trace.project_id(), "123456789012");
    let v = trace.view();
    assert_eq!(v.service_type.as_deref(), Some("EC2"));
    assert_eq!(v.resource_type.as_deref(), Some("securitygroup"));
    assert_eq!(
        v.trace_name.as_deref(),
        Some("AuthorizeSecurityGroupIngress")
    );
    assert_eq!(
        v.trace_id.as_deref(),
        Some("0a6c8f1e-3d5b-4f7a-9c2e-1b4d6f8a0c3e")
    );
    assert_eq!(v.user_name.as_deref(), Some("ops-alice"));
    assert_eq!(
        v.trace_type.as_deref(),
        Some("ConsoleAction"),
        "sessionCredentialFromConsole"
    );
    assert_eq!(
        (v.code.as_deref(), v.trace_rating.as_deref()),
        (Some("200"), Some("normal"))
    );
    let full: serde_json::Value = serde_json::from_str(trace.json()).unwrap();
    assert_eq!(full["time"], 1_795_598_047_000_i64);
    assert_eq!(full["source_ip"], "203.0.113.24");
    assert_eq!(
        full["cloudtrail"]["eventName"], "AuthorizeSecurityGroupIngress",
        "the record is kept"
    );
}

#[test]
fn a_root_console_sign_in_is_a_console_action_by_root() {
    let (_, items) = split(&event("eventbridge-console-signin-root-no-mfa.json"));
    let v = items[0].trace.as_ref().unwrap().view().clone();
    assert_eq!(v.user_name.as_deref(), Some("root"));
    assert_eq!(v.trace_type.as_deref(), Some("ConsoleAction"));
    assert_eq!(
        (v.service_type.as_deref(), v.resource_type.as_deref()),
        (Some("SIGNIN"), Some("signin"))
    );
    assert_eq!(v.trace_name.as_deref(), Some("ConsoleLogin"));
}

#[test]
fn a_denied_cloudtrail_record_is_a_warning_with_its_error_code() {
    let (shape, items) = split(&event("cloudtrail-record-s3-delete-bucket-denied.json"));
    assert_eq!(shape, Shape::Direct);
    let trace = items[0].trace.as_ref().unwrap();
    let v = trace.view();
    assert_eq!(
        (v.code.as_deref(), v.trace_rating.as_deref()),
        (Some("AccessDenied"), Some("warning"))
    );
    assert_eq!(
        (v.service_type.as_deref(), v.resource_type.as_deref()),
        (Some("S3"), Some("bucket"))
    );
    assert_eq!(
        (v.user_name.as_deref(), v.trace_type.as_deref()),
        (Some("dev-bob"), Some("ApiCall"))
    );
}

#[test]
fn assumed_role_users_are_named_by_their_session_and_service_events_are_system_actions() {
    let record = serde_json::json!({
        "eventVersion": "1.09", "eventSource": "kms.amazonaws.com", "eventName": "RotateKey", "eventID": "e1",
        "eventType": "AwsServiceEvent", "recipientAccountId": "123456789012",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/Admin/carol"}
    });
    let (_, items) = split(&record.to_string());
    let v = items[0].trace.as_ref().unwrap().view().clone();
    assert_eq!(v.user_name.as_deref(), Some("carol"));
    assert_eq!(v.trace_type.as_deref(), Some("SystemAction"));
    assert_eq!(v.resource_type.as_deref(), Some("kms"));
}

#[test]
fn cts_trace_events_and_direct_batches_are_read() {
    let line = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    let eb =
        format!(r#"{{"version":"0","detail-type":"CTS Trace","source":"cts","detail":{line}}}"#);
    let (shape, items) = split(&eb);
    assert_eq!(shape, Shape::EventBridge);
    assert_eq!(
        items[0].trace.as_ref().unwrap().json(),
        line,
        "the trace is kept as received"
    );

    let direct = format!(r#"{{"project_id":"p9","traces":[{line},{{"trace_id":"x"}}]}}"#);
    let (_, items) = split(&direct);
    assert_eq!(items.len(), 2);
    assert!(items[0].trace.is_ok());
    assert_eq!(
        items[1].trace.as_ref().unwrap_err(),
        &TraceError::Missing("trace_name")
    );

    let (_, items) = split(&line);
    assert_eq!(
        items[0].trace.as_ref().unwrap().trace_id(),
        "36f675cc-81e7-4ef5-e8e2-5d940ed90475"
    );
}

#[test]
fn unknown_eventbridge_detail_types_are_refused() {
    let (_, items) =
        split(r#"{"detail-type":"EC2 Instance State-change Notification","detail":{}}"#);
    assert!(matches!(items[0].trace, Err(TraceError::Unsupported(_))));
}

#[test]
fn malformed_json_is_refused_with_its_offset_and_never_panics() {
    let good = r#"{"trace_id":"t","trace_name":"a","service_type":"S","resource_type":"r"}"#;
    assert!(scan(good).is_ok());
    for bad in [
        "",
        "[]",
        "{",
        r#"{"trace_id":"t""#,
        r#"{"trace_id":"t\x"}"#,
        "{\"trace_id\":\"t\u{1}\"}",
        r#"{"trace_id":01}"#,
        r#"{"trace_id":"t",}"#,
        r#"{"trace_id":"t"} extra"#,
        r#"{"a":[1,2,]}"#,
        r#"{"a":tru}"#,
        r#"{"a":-}"#,
        r#"{"a":1.}"#,
        r#"{"a":1e}"#,
    ] {
        assert!(scan(bad).is_err(), "{bad:?} was accepted");
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(scan(&deep), Err(TraceError::Json { .. })));
}

#[test]
fn identity_fields_must_be_strings() {
    assert_eq!(
        scan(r#"{"trace_id":7,"trace_name":"a","service_type":"S","resource_type":"r"}"#),
        Err(TraceError::NotAString("trace_id"))
    );
    assert_eq!(
        scan(r#"{"trace_id":"t","trace_name":"a","service_type":"S","resource_type":""}"#),
        Err(TraceError::NotAString("resource_type"))
    );
}

#[test]
fn escaped_keys_and_values_are_decoded() {
    let v = scan(r#"{"trace_\u0069d":"t","trace_name":"del\u0065te","service_type":"S","resource_type":"r","user":{"n\u0061me":"\u00e9ve"}}"#).unwrap();
    assert_eq!(v.trace_id.as_deref(), Some("t"));
    assert_eq!(v.trace_name.as_deref(), Some("delete"));
    assert_eq!(v.user_name.as_deref(), Some("éve"));
}

/// A trace's fields read back equal what a fresh scan finds, escaped fields included.
#[test]
fn a_traces_view_is_what_its_scan_found() {
    let mut docs: Vec<String> = event("cts-traces.jsonl")
        .lines()
        .map(str::to_owned)
        .collect();
    docs.push(
        r#"{"trace_id":"t\u0031","trace_name":"de\"lete","service_type":"ECS","resource_type":"ecs","project_id":"p1","user":{"name":"\u00e9ve"},"code":403}"#
            .to_owned(),
    );
    for doc in docs {
        let trace = rules::Trace::from_json(doc.clone(), None).unwrap();
        assert_eq!(trace.view(), scan(&doc).unwrap(), "{doc}");
    }
}

/// Records as people paste them from consoles and rule tests: `eventSource` and `eventName`
/// make a CloudTrail record, whatever else is missing.
#[test]
fn trimmed_cloudtrail_records_are_known_by_event_source_and_name() {
    let trimmed = serde_json::json!({
        "eventSource": "ec2.amazonaws.com", "eventName": "TerminateInstances",
        "recipientAccountId": "123456789012"
    });
    let (shape, items) = split(&trimmed.to_string());
    assert_eq!(shape, Shape::Direct);
    let trace = items[0].trace.as_ref().unwrap();
    let v = trace.view();
    assert_eq!(trace.project_id(), "123456789012");
    assert_eq!(
        (v.service_type.as_deref(), v.resource_type.as_deref()),
        (Some("EC2"), Some("ec2"))
    );
    assert_eq!(
        (
            v.trace_name.as_deref(),
            v.code.as_deref(),
            v.trace_rating.as_deref()
        ),
        (Some("TerminateInstances"), Some("200"), Some("normal"))
    );
    assert_eq!(v.trace_type.as_deref(), Some("ApiCall"));
    // No eventID: the id is the record's own, the same at every resend, another for another.
    let again = split(&trimmed.to_string()).1;
    assert_eq!(
        again[0].trace.as_ref().unwrap().trace_id(),
        trace.trace_id()
    );
    assert_eq!(trace.trace_id().len(), 36, "{}", trace.trace_id());
    let other = serde_json::json!({
        "eventSource": "ec2.amazonaws.com", "eventName": "StopInstances",
        "recipientAccountId": "123456789012"
    });
    let other = split(&other.to_string()).1;
    assert_ne!(
        other[0].trace.as_ref().unwrap().trace_id(),
        trace.trace_id()
    );
}

#[test]
fn trimmed_records_in_an_sqs_batch_take_the_attributes_project_when_they_name_none() {
    let record = |name: &str, extra: serde_json::Value| {
        let mut r = serde_json::json!({"eventSource": "iam.amazonaws.com", "eventName": name});
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r.to_string()
    };
    let batch = serde_json::json!({"Records": [
        {"messageId": "m1", "eventSource": "aws:sqs",
         "body": record("CreateAccessKey", serde_json::json!({"eventID": "e-1", "recipientAccountId": "111122223333"})),
         "messageAttributes": {"project_id": {"stringValue": "p-attribute", "dataType": "String"}}},
        {"messageId": "m2", "eventSource": "aws:sqs", "body": record("DeleteUser", serde_json::json!({})),
         "messageAttributes": {"project_id": {"stringValue": "p-attribute", "dataType": "String"}}},
        {"messageId": "m3", "eventSource": "aws:sqs", "body": record("AttachUserPolicy", serde_json::json!({}))}
    ]});
    let (shape, items) = split(&batch.to_string());
    assert_eq!(shape, Shape::Sqs);
    let first = items[0].trace.as_ref().unwrap();
    assert_eq!(
        (first.trace_id(), first.project_id()),
        ("e-1", "111122223333"),
        "the record's own account wins"
    );
    let second = items[1].trace.as_ref().unwrap();
    assert_eq!(second.project_id(), "p-attribute");
    assert_eq!(second.view().trace_name.as_deref(), Some("DeleteUser"));
    assert!(
        matches!(
            items[2].trace,
            Err(TraceError::Missing("recipientAccountId"))
        ),
        "{:?}",
        items[2].trace
    );
}

/// A CTS trace that happens to carry an `eventSource` member is still a CTS trace.
#[test]
fn a_cts_trace_with_event_fields_stays_a_cts_trace() {
    let trace = serde_json::json!({
        "trace_id": "t-1", "trace_name": "deleteServer", "service_type": "ECS", "resource_type": "ecs",
        "project_id": "p1", "eventSource": "x", "eventName": "y"
    });
    let (_, items) = split(&trace.to_string());
    let v = items[0].trace.as_ref().unwrap().view().clone();
    assert_eq!(v.trace_name.as_deref(), Some("deleteServer"));
    assert_eq!(v.service_type.as_deref(), Some("ECS"));
}

/// Each sample CloudTrail record's service, and its operation under the service's own label,
/// are in the operations catalog, so a rule picked from it fires on such records.
#[test]
fn a_cloudtrail_records_service_label_finds_its_service_in_the_catalog() {
    for name in [
        "eventbridge-cloudtrail-authorize-sg-ingress.json",
        "eventbridge-console-signin-root-no-mfa.json",
        "eventbridge-forwarded-iam-create-access-key.json",
        "cloudtrail-record-s3-delete-bucket-denied.json",
    ] {
        let (_, items) = split(&event(name));
        let v = items[0].trace.as_ref().unwrap().view().clone();
        let service = v.service_type.as_deref().unwrap();
        let label = service.to_lowercase();
        let listed = rules::catalog::entries(Some(service), Some(&label), false);
        let trace_name = v.trace_name.as_deref().unwrap();
        assert!(
            listed
                .iter()
                .any(|e| e.operation_list.iter().any(|o| o == trace_name)),
            "{name}: {service} {label} {trace_name} is not in the catalog"
        );
    }
}

const LOG_FILE_KEY: &str = "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2026/11/30/111122223333_CloudTrail_us-east-1_20261130T1205Z_Ab12Cd34Ef56Gh78.json.gz";

fn named_files(item: &rules::trace::envelope::Item) -> Vec<String> {
    match &item.trace {
        Err(TraceError::TraceFiles(objects)) => objects.iter().map(|o| o.to_string()).collect(),
        other => panic!("not a notification of trace files: {other:?}"),
    }
}

#[test]
fn s3_notifications_name_their_files_direct_in_sqs_and_through_eventbridge() {
    let expected = [format!("s3://org-trail-logs/{LOG_FILE_KEY}")];
    let (shape, items) = split(&event("s3-notification-cloudtrail-log-file.json"));
    assert_eq!((shape, items.len()), (Shape::Direct, 1));
    assert_eq!(named_files(&items[0]), expected);

    let (shape, items) = split(&event("eventbridge-s3-object-created.json"));
    assert_eq!(shape, Shape::EventBridge);
    assert_eq!(named_files(&items[0]), expected);

    // In an SQS batch the notification is a body, next to a trace and S3's test event.
    let trace = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-30T12:00:00.000Z","Bucket":"org-trail-logs","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}"#;
    let record = |id: &str, body: &str| {
        serde_json::json!({"messageId": id, "receiptHandle": "h", "body": body, "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:intake", "awsRegion": "us-east-1"})
    };
    let batch = serde_json::json!({"Records": [
        record("m1", &event("s3-notification-cloudtrail-log-file.json")),
        record("m2", &trace),
        record("m3", test_event),
    ]});
    let (shape, items) = split(&batch.to_string());
    assert_eq!(shape, Shape::Sqs);
    assert_eq!(named_files(&items[0]), expected);
    assert_eq!(items[0].message_id.as_deref(), Some("m1"));
    assert!(items[1].trace.is_ok());
    assert_eq!(named_files(&items[2]), Vec::<String>::new());
}

#[test]
fn only_created_objects_are_named_and_keys_are_decoded() {
    let mut notification: serde_json::Value =
        serde_json::from_str(&event("s3-notification-cloudtrail-log-file.json")).unwrap();
    let created = notification["Records"][0].clone();
    let mut removed = created.clone();
    removed["eventName"] = "ObjectRemoved:Delete".into();
    let mut spaced = created.clone();
    spaced["s3"]["object"]["key"] =
        "CloudTraces/cn-north-4/2026/11/30/my+tracker/ECS/x%3Dy.json.gz".into();
    notification["Records"] = serde_json::json!([created, removed, spaced]);
    let (_, items) = split(&notification.to_string());
    assert_eq!(
        named_files(&items[0]),
        [
            format!("s3://org-trail-logs/{LOG_FILE_KEY}"),
            "s3://org-trail-logs/CloudTraces/cn-north-4/2026/11/30/my tracker/ECS/x=y.json.gz"
                .into()
        ]
    );
}

#[test]
fn a_trace_files_records_are_read_as_live_traces_are() {
    use rules::trace::envelope::file_record;
    let record = event("cloudtrail-record-s3-delete-bucket-denied.json");
    let from_file = file_record(&record).unwrap();
    let (_, live) = split(&record);
    assert_eq!(&from_file, live[0].trace.as_ref().unwrap());
    let cts = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    assert_eq!(file_record(&cts).unwrap().json(), cts);
    assert!(matches!(
        file_record(&event("s3-notification-cloudtrail-log-file.json")),
        Err(TraceError::Unsupported(_))
    ));
    // An EventBridge event names its eventSource inside its detail: it is read as live.
    let wrapped = event("eventbridge-cloudtrail-authorize-sg-ingress.json");
    let (_, live) = split(&wrapped);
    assert_eq!(
        &file_record(&wrapped).unwrap(),
        live[0].trace.as_ref().unwrap()
    );
}
