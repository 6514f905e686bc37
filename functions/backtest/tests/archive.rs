//! A backtest over an archive says, per rule, exactly what `POST /traces` of the same files
//! publishes: over a folder (rule bodies, and the project's stored rules), over the same files
//! in S3 on moto, and through the Distributed Map's batch and merge steps.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::{s3_client, S3Objects};
use axum::body::Body;
use axum::http::Request;
use backtest::distributed::{merge, run_batch, Job, ListedObject};
use serde_json::{json, Value};
use test_support::{create_bucket, Moto};
use tower::ServiceExt;

const ACCOUNT: &str = "123456789012";
const DAY_ONE: i64 = 1_764_460_800_000; // 2025-11-30T00:00:00Z

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn iso(ms: i64) -> String {
    let s = ms / 1000;
    let day = s / 86_400;
    // Only the two days of the archive are needed.
    let date = match day - DAY_ONE / 86_400_000 {
        0 => "2025-11-30",
        1 => "2025-12-01",
        _ => unreachable!(),
    };
    let t = s % 86_400;
    format!("{date}T{:02}:{:02}:{:02}Z", t / 3600, t % 3600 / 60, t % 60)
}

/// A CloudTrail log file of `n` records from `start_ms`, a minute apart: S3 calls by
/// `dev-bob` (every third a DeleteBucket).
fn log_file(tag: &str, n: usize, start_ms: i64) -> Vec<u8> {
    let sample: Value = serde_json::from_str(samples::CLOUDTRAIL_S3_DELETE_BUCKET_DENIED).unwrap();
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = sample.clone();
            r["eventID"] = format!("{tag}-{i}").into();
            r["eventName"] = ["DeleteBucket", "PutBucketPolicy", "GetBucketAcl"][i % 3].into();
            r["eventTime"] = iso(start_ms + 60_000 * i as i64).into();
            r
        })
        .collect();
    gzip(&serde_json::to_vec(&json!({ "Records": records })).unwrap())
}

/// A CTS trace file, one trace a line, of the same account: ECS calls by ops-alice.
fn cts_file(n: usize, start_ms: i64) -> Vec<u8> {
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let name = ["deleteServer", "rebootServer"][i % 2];
            json!({"trace_id": format!("cts-{i}"), "trace_name": name,
                "service_type": "ECS", "resource_type": "ecs", "project_id": ACCOUNT,
                "user": {"name": "ops-alice"}, "time": start_ms + 30_000 * i as i64})
            .to_string()
        })
        .collect();
    gzip(lines.join("\n").as_bytes())
}

/// The archive: relative path and bytes of every file.
fn archive() -> Vec<(String, Vec<u8>)> {
    let trail = format!("AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/CloudTrail/eu-west-1");
    vec![
        (
            format!("{trail}/2025/11/30/{ACCOUNT}_CloudTrail_eu-west-1_20251130T0000Z_a.json.gz"),
            log_file("a", 200, DAY_ONE),
        ),
        (
            format!("{trail}/2025/12/01/{ACCOUNT}_CloudTrail_eu-west-1_20251201T0000Z_b.json.gz"),
            log_file("b", 150, DAY_ONE + 86_400_000),
        ),
        (
            format!("AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/CloudTrail-Digest/eu-west-1/2025/12/01/{ACCOUNT}_CloudTrail-Digest_eu-west-1_t_eu-west-1_20251201T000000Z.json.gz"),
            gzip(br#"{"awsAccountId":"123456789012","logFiles":[]}"#),
        ),
        (
            "CloudTraces/eu-west-1/2025/12/01/system/ECS/eu-west-1_CloudTrace_ECS_2025-12-01T00-00-00Z_1a2b.json.gz".into(),
            cts_file(40, DAY_ONE + 86_400_000),
        ),
    ]
}

fn rule_bodies() -> Vec<Value> {
    let topic = format!("urn:smn:eu-west-1:{ACCOUNT}:audit");
    vec![
        json!({"notification_name": "everything", "operation_type": "complete", "topic_id": topic}),
        json!({"notification_name": "bucket_deletes", "operation_type": "customized", "topic_id": topic,
            "operations": [{"service_type": "S3", "resource_type": "bucket", "trace_names": ["DeleteBucket"]}]}),
        json!({"notification_name": "alice", "operation_type": "complete", "topic_id": topic,
            "notify_user_list": [{"user_group": "ops", "user_list": ["ops-alice"]}]}),
        json!({"notification_name": "denied", "operation_type": "complete", "topic_id": topic,
            "filter": {"is_support_filter": true, "condition": "AND", "rule": ["code = AccessDenied", "trace_rating = warning"]}}),
    ]
}

fn write_archive(root: &Path) {
    for (path, bytes) in archive() {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

async fn call(app: &axum::Router, uri: &str, body: Vec<u8>, gzipped: bool) -> (u16, Value) {
    let mut req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json");
    if gzipped {
        req = req.header("content-encoding", "gzip");
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Creates the rules in a local product in `data_dir`, posts every file of the archive, and
/// counts the messages published per rule name (those of rule changes left out).
async fn published_per_rule(data_dir: &Path) -> Vec<(String, u64)> {
    let config = local_server::Config {
        port: 0,
        data_dir: data_dir.to_owned(),
        caller_header: None,
        access_keys_file: None,
        cache_ttl: Duration::ZERO,
        digest_interval: Duration::from_secs(3600),
    };
    let app = local_server::app(&config).unwrap();
    for body in rule_bodies() {
        let uri = format!("/v3/{ACCOUNT}/notifications");
        let (status, created) = call(&app, &uri, body.to_string().into_bytes(), false).await;
        assert_eq!(status, 201, "{created}");
    }
    for (path, bytes) in archive() {
        let (status, summary) = call(&app, "/traces", bytes, true).await;
        assert_eq!(status, 200, "{path}: {summary}");
    }
    let published = std::fs::read_to_string(data_dir.join("published.jsonl")).unwrap();
    let mut counts: Vec<(String, u64)> = rule_bodies()
        .iter()
        .map(|b| (b["notification_name"].as_str().unwrap().to_owned(), 0))
        .collect();
    for line in published.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        let message: Value = serde_json::from_str(line["message"].as_str().unwrap()).unwrap();
        if message["trace"]["service_type"] == "CTS" {
            continue; // a rule change
        }
        let name = message["notification"]["name"].as_str().unwrap();
        counts.iter_mut().find(|(n, _)| n == name).unwrap().1 += 1;
    }
    counts
}

fn backtest(args: &[&str], env: &[(&str, &str)]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_backtest"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn per_rule(report: &Value, what: &str) -> Vec<(String, u64)> {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["notification_name"].as_str().unwrap().to_owned(),
                r[what].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rules_file(dir: &Path) -> PathBuf {
    let path = dir.join("rules.json");
    std::fs::write(&path, serde_json::to_vec(&rule_bodies()).unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_backtest_counts_what_posting_the_files_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    write_archive(&root);
    let data_dir = dir.path().join("data");
    let published = published_per_rule(&data_dir).await;
    assert_eq!(
        published,
        [
            ("everything".into(), 390),
            ("bucket_deletes".into(), 117),
            ("alice".into(), 40),
            ("denied".into(), 350)
        ],
        "the counts the archive was built for"
    );

    let rules = rules_file(dir.path());
    let archive = root.to_str().unwrap();
    let report = backtest(
        &["--archive", archive, "--rules", rules.to_str().unwrap()],
        &[],
    );
    assert_eq!(per_rule(&report, "messages"), published);
    assert_eq!(per_rule(&report, "matches"), published);
    assert_eq!(
        (report["files"].as_u64(), report["records"].as_u64()),
        (Some(3), Some(390))
    );
    let everything = &report["rules"][0];
    let days: Vec<(String, u64)> = everything["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_owned(),
                d["matches"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [("2025-11-30".into(), 200), ("2025-12-01".into(), 190)]
    );
    assert_eq!(everything["top_users"][0]["name"], "dev-bob");
    assert_eq!(everything["samples"][0]["time"], "2025-11-30T00:00:00Z");

    // The project's stored rules, read from a local store, say the same.
    let stored_dir = dir.path().join("stored");
    std::fs::create_dir_all(&stored_dir).unwrap();
    let store = local_adapters::RedbStore::open(stored_dir.join("rules.redb")).unwrap();
    for (i, body) in rule_bodies().iter().enumerate() {
        let rule = rules::CreateBody::from_value(body)
            .unwrap()
            .into_notification(format!("n-{i}"), ACCOUNT.into(), 1);
        ports::NotificationStore::create(&store, &rule)
            .await
            .unwrap();
    }
    drop(store);
    let stored_dir = stored_dir.to_str().unwrap();
    let stored = backtest(
        &[
            "--archive",
            archive,
            "--project",
            ACCOUNT,
            "--data-dir",
            stored_dir,
        ],
        &[],
    );
    assert_eq!(per_rule(&stored, "messages"), published);

    // A time range keeps the second day only.
    let second_day = backtest(
        &[
            "--archive",
            archive,
            "--rules",
            rules.to_str().unwrap(),
            "--from",
            "2025-12-01",
            "--to",
            "2025-12-02",
        ],
        &[],
    );
    assert_eq!(second_day["rules"][0]["matches"], 190);
    assert_eq!(second_day["out_of_range"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_rule_reports_its_digests_and_a_corrupt_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    write_archive(&root);
    std::fs::write(
        root.join("AWSLogs/broken_CloudTrail_x.json.gz"),
        b"\x1f\x8bnot gzip at all",
    )
    .unwrap();
    let rules = dir.path().join("rules.json");
    let body = json!([{"notification_name": "hourly", "operation_type": "complete",
        "digest": {"window_seconds": 3600, "max_messages": 10}}]);
    std::fs::write(&rules, body.to_string()).unwrap();
    let report = backtest(
        &[
            "--archive",
            root.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
        ],
        &[],
    );
    let hourly = &report["rules"][0];
    // File a: 200 minutes (4 hours: 60, 60, 60, 20), file b: 150 minutes (3 hours: 60, 60, 30)
    // and the CTS file's 40 traces in b's first 20 minutes: every hour past 10 sends a digest.
    assert_eq!(hourly["matches"], 390);
    assert_eq!(hourly["digests"], 7);
    assert_eq!(hourly["messages"], 7 * 10 + 7);
    assert_eq!(hourly["digested"], 390 - 70);
    let failed = report["failed_files"][0]["file"].as_str().unwrap();
    assert!(failed.ends_with("broken_CloudTrail_x.json.gz"), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_the_distributed_map_steps_report_what_the_folder_does() {
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    for bucket in ["org-trail", "backtest-results"] {
        create_bucket(&aws, bucket).await;
    }
    let objects = S3Objects::new(s3_client(&aws));
    for (key, bytes) in archive() {
        objects.put("org-trail", &key, bytes).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    write_archive(&root);
    let rules = rules_file(dir.path());
    let from_folder = backtest(
        &[
            "--archive",
            root.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
        ],
        &[],
    );

    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "eu-west-1"),
    ];
    let from_s3 = backtest(
        &[
            "--archive",
            "s3://org-trail/",
            "--rules",
            rules.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(
        per_rule(&from_s3, "messages"),
        per_rule(&from_folder, "messages")
    );
    assert_eq!(from_s3["records"], 390);

    // The map lists every object (digest file included) and hands them over in batches.
    let job = Job {
        bucket: "org-trail".into(),
        prefix: String::new(),
        results_bucket: "backtest-results".into(),
        run: "run-1".into(),
        project_id: None,
        rules: Some(rule_bodies()),
        from: None,
        to: None,
    };
    let listed: Vec<ListedObject> = objects
        .list("org-trail", "")
        .await
        .unwrap()
        .into_iter()
        .map(|o| ListedObject { key: o.key })
        .collect();
    assert_eq!(listed.len(), 4);
    let rules = Arc::new(job.rules(None).await.unwrap());
    for batch in listed.chunks(2) {
        let done = run_batch(&objects, rules.clone(), &job, batch)
            .await
            .unwrap();
        assert!(done
            .tally
            .starts_with("s3://backtest-results/backtests/run-1/tallies/"));
    }
    // A child retried writes its tally again under the same key: nothing counts twice.
    run_batch(&objects, rules.clone(), &job, &listed[..2])
        .await
        .unwrap();
    let (url, report) = merge(&objects, &rules, &job).await.unwrap();
    assert_eq!(url, "s3://backtest-results/backtests/run-1/report.json");
    let report = serde_json::to_value(&report).unwrap();
    assert_eq!(
        per_rule(&report, "messages"),
        per_rule(&from_folder, "messages")
    );
    assert_eq!(report["records"], 390);
    let stored: Value = serde_json::from_slice(
        &objects
            .read_all(&rules::trace::stored::StoredObject {
                bucket: "backtest-results".into(),
                key: "backtests/run-1/report.json".into(),
            })
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored, report);
}
