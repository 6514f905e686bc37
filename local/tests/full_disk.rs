//! The local server on a disk that fills up: a small tmpfs as `DATA_DIR`. While the disk is
//! full, traces are answered 503 (never "handled" when their records were not written) and no
//! torn line is left; once space returns, the store works again without a restart and a resend
//! publishes exactly the pairs still missing. Skipped, with a message, where tmpfs cannot be
//! mounted (not root).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::call;
use local_adapters::FileTopic;
use local_server::{app, Config};
use ports::Publisher;
use serde_json::{json, Value};

const P: &str = "24edf66e79d04187acb99a463e610764";

/// A tmpfs of `size`, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallDisk { path, _dir: dir }),
            Ok(out) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs here ({})",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount ({e})");
                None
            }
        }
    }

    /// Fills what is left; the filler file.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

fn traces(from: usize, to: usize) -> String {
    let traces: Vec<Value> = (from..to)
        .map(|i| json!({"trace_id": format!("disk-{i}"), "trace_name": "deleteServer", "service_type": "ECS",
                        "resource_type": "ecs", "project_id": P, "user": {"name": "ops-alice"},
                        "request": "r".repeat(2000)}))
        .collect();
    json!({ "traces": traces }).to_string()
}

/// Every line of a file parses; how often each (trace id, target) pair is in it.
fn pairs(data: &Path) -> HashMap<(String, String), usize> {
    let mut out = HashMap::new();
    for (file, id_of) in [
        (
            "published.jsonl",
            (|l: &Value| {
                let m: Value = serde_json::from_str(l["message"].as_str()?).ok()?;
                if common::is_rule_change(&m["trace"]) {
                    return None;
                }
                Some((
                    m["trace"]["trace_id"].as_str()?.to_owned(),
                    m["notification"]["id"].as_str()?.to_owned(),
                ))
            }) as fn(&Value) -> Option<(String, String)>,
        ),
        ("invocations.jsonl", |l: &Value| {
            if common::is_rule_change(&l["payload"]["cts"]) {
                return None;
            }
            Some((
                l["payload"]["cts"]["trace_id"].as_str()?.to_owned(),
                l["function"].as_str()?.to_owned(),
            ))
        }),
    ] {
        let text = std::fs::read_to_string(data.join(file)).unwrap_or_default();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|_| panic!("a torn line in {file}: {line:.80}"));
            if let Some(pair) = id_of(&v) {
                *out.entry(pair).or_insert(0) += 1;
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_and_repeats_nothing() {
    let Some(disk) = SmallDisk::mount("6m") else {
        return;
    };
    let data = disk.path.join("data");
    let config = Config {
        port: 0,
        data_dir: data.clone(),
        caller_header: None,
        access_keys_file: None,
        cache_ttl: Duration::from_secs(300),
        digest_interval: Duration::from_secs(10),
    };
    let app = app(&config).unwrap();
    for (name, target) in [
        ("to_topic_a", format!("urn:smn:eu-west-1:{P}:key_events")),
        ("to_topic_b", format!("urn:smn:eu-west-1:{P}:key_events")),
        (
            "to_function",
            format!("urn:fss:eu-west-1:{P}:function:default:lock_user"),
        ),
    ] {
        let rule =
            json!({"notification_name": name, "operation_type": "complete", "topic_id": target});
        let (status, body) = call(
            &app,
            "POST",
            &format!("/v3/{P}/notifications"),
            rule.to_string(),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, first) = call(&app, "POST", "/traces", traces(0, 20)).await;
    assert_eq!(
        (status, first["published"].as_u64()),
        (200, Some(60)),
        "{first}"
    );

    let filler = disk.fill();
    let mut refused = 0;
    for round in 0..3 {
        let (status, summary) = call(
            &app,
            "POST",
            "/traces",
            traces(20 + round * 20, 40 + round * 20),
        )
        .await;
        assert_ne!(status, 200, "handled on a full disk: {summary}");
        assert_eq!(status, 503, "{summary}");
        assert!(!summary["failures"].as_array().unwrap().is_empty());
        refused += 1;
    }
    assert_eq!(refused, 3);
    pairs(&data); // no torn line while full

    std::fs::remove_file(filler).unwrap();
    // Space is back: resending everything publishes what is missing, each pair once.
    let mut answered = 0;
    for _ in 0..3 {
        let (status, summary) = call(&app, "POST", "/traces", traces(0, 80)).await;
        if status == 200 {
            assert_eq!(summary["failures"], json!([]), "{summary}");
            answered += 1;
            break;
        }
    }
    assert_eq!(answered, 1, "the store did not recover without a restart");
    let found = pairs(&data);
    assert_eq!(found.len(), 80 * 3, "every pair of the 80 traces");
    let repeated: Vec<_> = found.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "published twice: {repeated:?}");
}

#[tokio::test]
async fn a_write_the_disk_cannot_take_leaves_the_file_as_it_was() {
    let Some(disk) = SmallDisk::mount("64k") else {
        return;
    };
    let path = disk.path.join("published.jsonl");
    let topic = Arc::new(FileTopic::new(&path));
    let trace = json!({"trace_id": "t", "trace_name": "x", "service_type": "S", "resource_type": "r", "project_id": P});
    let rule = rules::CreateBody::from_value(
        &json!({"notification_name": "n", "operation_type": "complete",
        "topic_id": format!("urn:smn:r:{P}:t")}),
    )
    .unwrap()
    .into_notification("n1".into(), P.into(), 0);
    let small = trace.to_string();
    let view = rules::trace::scan(&small).unwrap();
    let message = rules::message::render(&rule, &view, &small).unwrap();
    assert!(topic
        .publish(&message.topic_id, std::slice::from_ref(&message))
        .await[0]
        .is_ok());
    let before = std::fs::read(&path).unwrap();
    // A batch larger than the disk: it fails, and the file keeps only whole lines.
    let many = vec![message; 200];
    assert!(topic.publish(&many[0].topic_id, &many).await[0].is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
