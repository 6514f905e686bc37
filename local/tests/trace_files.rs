//! `POST /traces` takes whole trace files: CloudTrail log files and CTS trace files, plain or
//! gzipped, well beyond the 1 MiB of an API body; a gzip bomb is refused, not inflated. The
//! API's backtest over the same files, put in the archive folder, counts what they published.

mod common;

use std::io::Write;

use common::Local;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";
const CTS_PROJECT: &str = "24edf66e79d04187acb99a463e610764";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A CloudTrail log file's JSON: `n` copies of the sample record, each its own `eventID`.
fn cloudtrail_log(n: usize) -> Vec<u8> {
    samples::cloudtrail_log("ct", n).into_bytes()
}

fn cts_traces(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            json!({"trace_id": format!("{prefix}-{i}"), "trace_name": "deleteServer",
                "service_type": "ECS", "resource_type": "ecs", "project_id": CTS_PROJECT,
                "user": {"name": "ops-alice"}})
            .to_string()
        })
        .collect()
}

async fn post(local: &Local, body: Vec<u8>, encoding: Option<&str>) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = encoding
        .map(|e| ("content-encoding", e))
        .into_iter()
        .collect();
    common::call_with(&local.app, "POST", "/traces", &headers, body).await
}

fn counts(summary: &Value) -> (u64, u64, u64) {
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    (n("traces"), n("published"), n("duplicates"))
}

#[tokio::test]
async fn a_cloudtrail_log_file_larger_than_an_api_body_is_taken_gzipped_or_plain() {
    let local = Local::new();
    local
        .create_complete(ACCOUNT, "trail", "urn:smn:eu-west-1:123456789012:trail")
        .await;
    let log = cloudtrail_log(3000);
    assert!(log.len() > 2 << 20, "{} bytes", log.len());

    let (status, summary) = post(&local, gzip(&log), Some("gzip")).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(counts(&summary), (3000, 3000, 0), "{summary}");
    assert_eq!(summary["files_read"], 1);
    let pairs = local.published_pairs();
    assert_eq!(pairs.len(), 3000);
    assert!(pairs.iter().any(|(trace, _)| trace == "ct-2999"));

    let (status, summary) = post(&local, log, None).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        counts(&summary),
        (3000, 0, 3000),
        "the plain file again publishes nothing"
    );
}

#[tokio::test]
async fn cts_trace_files_as_lines_as_an_array_and_as_traces_are_taken() {
    let local = Local::new();
    local
        .create_complete(
            CTS_PROJECT,
            "ecs",
            "urn:smn:eu-west-1:24edf66e79d04187acb99a463e610764:ecs",
        )
        .await;
    let lines = cts_traces("line", 5).join("\n");
    let array = format!("[{}]", cts_traces("array", 4).join(","));
    let traces = format!(r#"{{"traces": [{}]}}"#, cts_traces("traces", 3).join(","));
    for (body, n) in [(lines.clone(), 5), (array, 4), (traces.clone(), 3)] {
        let (status, summary) = post(&local, body.into_bytes(), None).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(counts(&summary), (n, n, 0), "{summary}");
    }
    let (status, summary) = post(&local, gzip(lines.as_bytes()), Some("gzip")).await;
    assert_eq!((status, counts(&summary)), (200, (5, 0, 5)), "{summary}");
    let (status, summary) = post(&local, gzip(traces.as_bytes()), Some("GZIP")).await;
    assert_eq!((status, counts(&summary)), (200, (3, 0, 3)), "{summary}");
    assert_eq!(local.published_pairs().len(), 12);
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_and_broken_files_are_bad_requests() {
    let local = Local::new();
    // 72 gzip members of 16 MiB of spaces each: about 1.2 GiB once inflated, 1.2 MB sent.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![b' '; 16 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 72)
        .collect();
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let (status, error) = post(&local, bomb, Some("gzip")).await;
    assert_eq!(status, 413, "{error}");
    assert_eq!(error["error_code"], "CTS.0413");
    assert!(
        error["error_msg"]
            .as_str()
            .unwrap()
            .contains("inflates to more than"),
        "{error}"
    );

    let mut corrupt = gzip(&cloudtrail_log(50));
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 8].copy_from_slice(b"garbage!");
    let truncated = gzip(&cloudtrail_log(50))[..300].to_vec();
    let cases: [(Vec<u8>, Option<&str>, u16); 4] = [
        (corrupt, Some("gzip"), 400),
        (truncated, Some("gzip"), 400),
        (b"[{\"trace_id\": \"x\"".to_vec(), None, 400),
        (b"[]".to_vec(), Some("br"), 415),
    ];
    for (body, encoding, expected) in cases {
        let (status, error) = post(&local, body, encoding).await;
        assert_eq!(status, expected, "{error}");
        assert!(error["error_msg"].is_string(), "{error}");
    }
}

#[tokio::test]
async fn the_apis_backtest_of_the_archive_counts_what_posting_its_files_published() {
    let local = Local::new();
    let ids = [
        local.create_complete(ACCOUNT, "trail", "urn:smn:eu-west-1:123456789012:trail").await,
        local
            .create(
                ACCOUNT,
                &json!({"notification_name": "deletes", "operation_type": "customized",
                    "topic_id": "urn:smn:eu-west-1:123456789012:trail",
                    "operations": [{"service_type": "S3", "resource_type": "bucket", "trace_names": ["DeleteBucket"]}]}),
            )
            .await,
    ];
    let day = local
        .config
        .data_dir
        .join("archive/AWSLogs/123456789012/CloudTrail/eu-west-1/2025/11/30");
    std::fs::create_dir_all(&day).unwrap();
    let mut posted = 0;
    for (i, n) in [40, 25].into_iter().enumerate() {
        let file = gzip(samples::cloudtrail_log(&format!("ct{i}"), n).as_bytes());
        std::fs::write(
            day.join(format!("123456789012_CloudTrail_eu-west-1_x_{i}.json.gz")),
            &file,
        )
        .unwrap();
        let (status, summary) = post(&local, file, Some("gzip")).await;
        assert_eq!(status, 200, "{summary}");
        posted += summary["published"].as_u64().unwrap();
    }
    assert_eq!(posted, 2 * 65);

    let uri = format!("/v3/{ACCOUNT}/notifications/backtest");
    let (status, report) = local
        .call("POST", &uri, json!({"prefix": "AWSLogs/"}).to_string())
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["files"].as_u64(), report["records"].as_u64()),
        (Some(2), Some(65))
    );
    let counts: Vec<(&str, u64)> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["notification_name"].as_str().unwrap(),
                r["messages"].as_u64().unwrap(),
            )
        })
        .collect();
    let published: Vec<(String, u64)> = ["trail", "deletes"]
        .iter()
        .map(|name| {
            let n = local
                .published_lines()
                .iter()
                .filter(|l| {
                    let m: Value = serde_json::from_str(l["message"].as_str().unwrap()).unwrap();
                    m["notification"]["name"] == *name
                })
                .count();
            (name.to_string(), n as u64)
        })
        .collect();
    assert_eq!(
        counts,
        published
            .iter()
            .map(|(n, c)| (n.as_str(), *c))
            .collect::<Vec<_>>()
    );

    // One rule by id, over a range that holds nothing.
    let body = json!({"prefix": "AWSLogs/", "notification_ids": [ids[1]], "from": "2030-01-01"});
    let (status, report) = local.call("POST", &uri, body.to_string()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["rules"].as_array().unwrap().len(),
            report["out_of_range"].as_u64()
        ),
        (1, Some(65))
    );
    // Another project's backtest sees none of this project's traces.
    let other = local.call("POST", "/v3/other-project/notifications/backtest",
        json!({"prefix": "", "rules": [{"notification_name": "all", "operation_type": "complete"}]}).to_string()).await;
    assert_eq!(
        (
            other.0,
            other.1["rules"][0]["matches"].as_u64(),
            other.1["other_projects"].as_u64()
        ),
        (200, Some(0), Some(65))
    );

    let refusals = [
        (json!({}), 400),
        (json!({"prefix": 3}), 400),
        (json!({"prefix": "", "from": "yesterday"}), 400),
        (
            json!({"prefix": "", "notification_ids": ["no-such-rule"]}),
            404,
        ),
        (
            json!({"prefix": "", "rules": [{"notification_name": "x"}]}),
            400,
        ),
    ];
    for (body, expected) in refusals {
        let (status, error) = local.call("POST", &uri, body.to_string()).await;
        assert_eq!(status, expected, "{body}: {error}");
    }
    for i in 0..101 {
        std::fs::write(day.join(format!("more_{i}.json")), b"[]").unwrap();
    }
    let (status, error) = local
        .call("POST", &uri, json!({"prefix": "AWSLogs/"}).to_string())
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error_msg"]
            .as_str()
            .unwrap()
            .contains("make backtest"),
        "{error}"
    );
}
