//! What subscribers receive for the sample traces of `events/`: email readers a short text,
//! every other subscriber the JSON body, a function `{"cts": <trace>}`; all within the limit.

use rules::message::{render, Message, MAX_MESSAGE_BYTES};
use rules::trace::envelope::split;
use rules::{CreateBody, Notification, Trace};

fn event(name: &str) -> String {
    samples::sample(name).to_owned()
}

fn rule(topic_id: &str) -> Notification {
    let body = serde_json::json!({
        "notification_name": "key_ops", "operation_type": "complete", "topic_id": topic_id,
    });
    CreateBody::from_value(&body)
        .unwrap()
        .into_notification("n1".into(), "p1".into(), 0)
}

fn topic_rule() -> Notification {
    rule("urn:smn:eu-west-1:p1:key_events")
}

fn traces(input: &str) -> Vec<Trace> {
    split(input)
        .1
        .into_iter()
        .map(|i| i.trace.unwrap())
        .collect()
}

fn message(rule: &Notification, trace: &Trace) -> Message {
    render(rule, &trace.view(), trace.json()).expect("the rule has a topic")
}

#[test]
fn an_email_reader_gets_what_happened_in_a_few_lines() {
    let trace = &traces(event("cts-traces.jsonl").lines().next().unwrap())[0];
    let m = message(&topic_rule(), trace);
    assert_eq!(
        m.email.as_deref(),
        Some(
            "The key event notification rule \"key_ops\" matched this operation.\n\n\
             What:     ECS deleteServer (ConsoleAction)\n\
             Resource: ecs web-prod-01 (42d39b4a-19b7-4ee2-b01b-a9f1353b4c54)\n\
             By:       ops-alice (account acme-prod)\n\
             From:     203.0.113.24\n\
             Result:   200\n\
             Time:     2024-11-25 07:33:20 UTC\n\
             Rating:   normal\n\
             Rule:     key_ops\n\
             Trace id: 36f675cc-81e7-4ef5-e8e2-5d940ed90475\n"
        )
    );
    assert_eq!(m.subject, "[normal] ECS ecs deleteServer by ops-alice");
}

#[test]
fn a_refused_cloudtrail_call_reads_with_its_error() {
    let trace = &traces(&event("cloudtrail-record-s3-delete-bucket-denied.json"))[0];
    let email = message(&topic_rule(), trace).email.unwrap();
    for line in [
        "What:     S3 DeleteBucket (ApiCall)\n",
        "Resource: bucket (arn:aws:s3:::acme-invoices)\n",
        "By:       dev-bob (account 123456789012)\n",
        "From:     203.0.113.24\n",
        "Time:     2026-11-25 09:14:07 UTC\n",
        "Rating:   warning\n",
        "Trace id: 7d2e4f60-8a1b-4c3d-9e5f-a0b1c2d3e4f5\n",
    ] {
        assert!(email.contains(line), "{line:?} missing from:\n{email}");
    }
    assert!(email.contains("Result:   AccessDenied: "), "{email}");
}

#[test]
fn every_sample_has_a_readable_text_within_the_limit() {
    let mut all = Vec::new();
    for line in event("cts-traces.jsonl").lines() {
        all.extend(traces(line));
    }
    for name in [
        "cloudtrail-record-s3-delete-bucket-denied.json",
        "eventbridge-cloudtrail-authorize-sg-ingress.json",
        "eventbridge-console-signin-root-no-mfa.json",
        "direct-invoke-batch.json",
    ] {
        all.extend(traces(&event(name)));
    }
    assert!(all.len() >= 10, "{}", all.len());
    for trace in &all {
        let m = message(&topic_rule(), trace);
        let email = m.email.as_deref().unwrap();
        assert!(email.contains(&format!("Trace id: {}\n", trace.trace_id())));
        assert!(email.lines().all(|l| l.len() < 260), "{email}");
        let body: serde_json::Value = serde_json::from_str(&m.message).unwrap();
        let sent: serde_json::Value = serde_json::from_str(trace.json()).unwrap();
        assert_eq!(body["trace"], sent);
        let sns: serde_json::Value = serde_json::from_str(&m.sns_message()).unwrap();
        assert_eq!(sns["default"], m.message.as_str());
        assert_eq!(sns["email"], email);
        assert!(m.size() <= MAX_MESSAGE_BYTES);
    }
}

#[test]
fn the_size_counts_the_per_protocol_document_as_sns_receives_it() {
    let trace = &traces(event("cts-traces.jsonl").lines().next().unwrap())[0];
    let m = message(&topic_rule(), trace);
    let attributes: usize = m
        .attributes
        .iter()
        .map(|(k, v)| k.len() + "String".len() + v.len())
        .sum();
    assert_eq!(
        m.size(),
        m.subject.len() + m.sns_message().len() + attributes
    );
}

#[test]
fn a_trace_full_of_quotes_is_cut_to_fit_once_escaped() {
    // 200 KB of quotes fit raw, but escaped twice over (a JSON string in a JSON string) they
    // do not.
    let trace = serde_json::json!({
        "trace_id": "t1", "trace_name": "updatePolicy", "service_type": "IAM",
        "resource_type": "policy", "project_id": "p1", "user": {"name": "ops-alice"},
        "request": "\"".repeat(200_000),
    })
    .to_string();
    let trace = &traces(&trace)[0];
    let m = message(&topic_rule(), trace);
    assert!(m.size() <= MAX_MESSAGE_BYTES, "{}", m.size());
    let body: serde_json::Value = serde_json::from_str(&m.message).unwrap();
    assert_eq!(body["truncated"], serde_json::json!(["request"]));
    assert_eq!(body["trace"]["trace_id"], "t1");
}

#[test]
fn a_function_receives_the_trace_as_sent_under_cts() {
    let line = event("cts-traces.jsonl").lines().next().unwrap().to_owned();
    let trace = &traces(&line)[0];
    for target in [
        "arn:aws:lambda:eu-west-1:123456789012:function:audit",
        "urn:fss:eu-west-1:p1:function:default:audit:latest",
    ] {
        let m = message(&rule(target), trace);
        assert_eq!(m.message, format!("{{\"cts\":{line}}}"));
        assert_eq!(m.email, None);
        assert!(m.attributes.is_empty());
        assert_eq!(m.size(), m.message.len());
        assert_eq!(m.topic_id.as_str(), target);
    }
}

#[test]
fn a_function_payload_too_large_is_cut_and_says_so() {
    let trace = serde_json::json!({
        "trace_id": "t1", "trace_name": "putObject", "service_type": "OBS",
        "resource_type": "object", "project_id": "p1", "user": {"name": "ops-alice"},
        "request": "q".repeat(400_000),
    })
    .to_string();
    let trace = &traces(&trace)[0];
    let m = message(&rule("urn:fss:r:p1:function:default:audit"), trace);
    assert!(m.message.len() <= MAX_MESSAGE_BYTES);
    let payload: serde_json::Value = serde_json::from_str(&m.message).unwrap();
    assert_eq!(payload["cts"]["trace_id"], "t1");
    assert_eq!(payload["truncated"], serde_json::json!(["request"]));
}

#[test]
fn the_bound_is_never_below_the_size() {
    for line in event("cts-traces.jsonl").lines() {
        for trace in traces(line) {
            for r in [
                topic_rule(),
                rule("urn:fss:eu-west-1:p1:function:default:f"),
            ] {
                let m = message(&r, &trace);
                assert!(m.size_bound() >= m.size());
            }
        }
    }
    let quotes = serde_json::json!({"trace_id": "t", "trace_name": "x", "service_type": "S",
        "resource_type": "r", "project_id": "p1", "request": "\"\u{1}".repeat(1000)})
    .to_string();
    let m = message(&topic_rule(), &traces(&quotes)[0]);
    assert!(m.size_bound() >= m.size());
}
