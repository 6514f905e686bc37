//! `make run` killed with SIGKILL in the middle of a stream of traces, restarted and sent
//! everything again publishes every (trace, rule) pair exactly once, alone or in one digest; so
//! do 20 copies of one trace posted at the same moment.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::is_rule_change;
use serde_json::{json, Value};

mod common;

const P: &str = "24edf66e79d04187acb99a463e610764";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(port: u16, data: &Path) -> Child {
    start_with(port, data, &[])
}

fn start_with(port: u16, data: &Path, env: &[(&str, &str)]) -> Child {
    std::fs::create_dir_all(data).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("server.log"))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_local-server"))
        .env("PORT", port.to_string())
        .env("DATA_DIR", data)
        .env_remove("ACCESS_KEYS_FILE")
        .env_remove("CALLER_PROJECT_HEADER")
        .envs(env.iter().copied())
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while post(port, "GET", "/health", "").is_none() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// One request on its own connection; the answer's body, or `None` if the server is gone.
fn post(port: u16, method: &str, path: &str, body: &str) -> Option<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    serde_json::from_str(out.split_once("\r\n\r\n")?.1).ok()
}

fn trace_id(i: usize) -> String {
    format!("stream-{i}")
}

fn trace(i: usize) -> String {
    json!({"trace_id": trace_id(i), "trace_name": "deleteServer", "service_type": "ECS",
           "resource_type": "ecs", "project_id": P, "user": {"name": "ops-alice"}})
    .to_string()
}

/// How often each (trace, rule) pair is in the topic; torn lines are counted apart.
fn published(data: &Path) -> (HashMap<(String, String), usize>, usize) {
    let text = std::fs::read_to_string(data.join("published.jsonl")).unwrap_or_default();
    let (mut pairs, mut torn) = (HashMap::new(), 0);
    for line in text.lines() {
        let Some(m) = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|l| serde_json::from_str::<Value>(l["message"].as_str()?).ok())
        else {
            torn += 1;
            continue;
        };
        if is_rule_change(&m["trace"]) {
            continue;
        }
        let key = (
            m["trace"]["trace_id"].as_str().unwrap().to_owned(),
            m["notification"]["id"].as_str().unwrap().to_owned(),
        );
        *pairs.entry(key).or_insert(0) += 1;
    }
    (pairs, torn)
}

/// How often each trace is in the functions' file.
fn invoked(data: &Path) -> HashMap<String, usize> {
    let text = std::fs::read_to_string(data.join("invocations.jsonl")).unwrap_or_default();
    let mut traces = HashMap::new();
    for line in text.lines() {
        if let Some(id) = serde_json::from_str::<Value>(line)
            .ok()
            .filter(|l| !is_rule_change(&l["payload"]["cts"]))
            .and_then(|l| Some(l["payload"]["cts"]["trace_id"].as_str()?.to_owned()))
        {
            *traces.entry(id).or_insert(0) += 1;
        }
    }
    traces
}

/// Two rules to the topic, one to a function.
fn create_rules(port: u16) {
    let topic = format!("urn:smn:eu-west-1:{P}:key_events");
    let function = format!("urn:fss:eu-west-1:{P}:function:default:stream_fn");
    for (name, target) in [
        ("stream_a", &topic),
        ("stream_b", &topic),
        ("stream_c", &function),
    ] {
        let rule = json!({"notification_name": name, "operation_type": "complete",
            "topic_id": target});
        let created = post(
            port,
            "POST",
            &format!("/v3/{P}/notifications"),
            &rule.to_string(),
        )
        .unwrap();
        assert!(created["notification_id"].is_string(), "{created}");
    }
}

#[test]
fn a_kill_and_a_resend_of_everything_publish_each_pair_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = start(port, &data);
    create_rules(port);
    const TRACES: usize = 300;
    let sender = std::thread::spawn(move || {
        for i in 0..TRACES {
            if post(port, "POST", "/traces", &trace(i)).is_none() {
                return i;
            }
        }
        TRACES
    });
    // Kill it once some traces are through, in the middle of the stream.
    let deadline = Instant::now() + Duration::from_secs(30);
    while published(&data).0.len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let sent_before = sender.join().unwrap();
    assert!(
        sent_before < TRACES,
        "the kill came in the middle of the stream"
    );

    let mut server = start(port, &data);
    for i in 0..TRACES {
        let summary = post(port, "POST", "/traces", &trace(i)).unwrap();
        assert_eq!(summary["failures"], json!([]), "{summary}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let (pairs, torn) = published(&data);
    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    let settled = log
        .lines()
        .find(|l| l.contains("settled the claims"))
        .unwrap_or("no claim was left open");
    println!("killed after {sent_before} of {TRACES} traces; {} pairs published, {torn} torn lines; {settled}", pairs.len());
    assert_eq!(pairs.len(), 2 * TRACES);
    let repeated: Vec<_> = pairs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "published more than once: {repeated:?}"
    );
    let invocations = invoked(&data);
    assert_eq!(invocations.len(), TRACES);
    let repeated: Vec<_> = invocations.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "invoked more than once: {repeated:?}");
}

#[test]
fn twenty_copies_of_one_trace_posted_at_once_publish_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = start(port, &data);
    create_rules(port);
    let senders: Vec<_> = (0..20)
        .map(|_| std::thread::spawn(move || post(port, "POST", "/traces", &trace(7)).unwrap()))
        .collect();
    let summaries: Vec<Value> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    // A copy that found the pair being published is told to retry; the retry finds it done.
    for s in summaries.iter().filter(|s| s["failures"] != json!([])) {
        assert!(
            s["failures"][0]["error"]
                .as_str()
                .unwrap()
                .contains("another invocation"),
            "{s}"
        );
        let retry = post(port, "POST", "/traces", &trace(7)).unwrap();
        assert_eq!(
            (retry["published"].as_u64(), retry["duplicates"].as_u64()),
            (Some(0), Some(3)),
            "{retry}"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let published_total: u64 = summaries
        .iter()
        .map(|s| s["published"].as_u64().unwrap())
        .sum();
    assert_eq!(published_total, 3, "two messages and one invocation");
    let (pairs, _) = published(&data);
    assert_eq!(pairs.len(), 2);
    assert!(pairs.values().all(|n| *n == 1), "{pairs:?}");
    assert_eq!(invoked(&data), HashMap::from([(trace_id(7), 1)]));
}

/// The traces of a rule with a digest: those published alone and those counted in digests, by
/// window, from the topic.
fn alone_and_digested(data: &Path) -> (Vec<String>, Vec<String>, usize) {
    let text = std::fs::read_to_string(data.join("published.jsonl")).unwrap_or_default();
    let (mut alone, mut digested, mut digests) = (Vec::new(), Vec::new(), 0);
    for line in text.lines() {
        let Some(m) = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|l| serde_json::from_str::<Value>(l["message"].as_str()?).ok())
        else {
            continue;
        };
        if let Some(d) = m.get("digest") {
            digests += 1;
            assert_eq!(d["trace_ids_left_out"], 0, "{d}");
            let ids = d["trace_ids"].as_array().unwrap();
            assert_eq!(d["matches"].as_u64().unwrap() as usize, ids.len());
            digested.extend(ids.iter().map(|t| t.as_str().unwrap().to_owned()));
        } else {
            alone.push(m["trace"]["trace_id"].as_str().unwrap().to_owned());
        }
    }
    (alone, digested, digests)
}

#[test]
fn a_kill_in_a_flood_of_a_digest_rule_still_counts_each_match_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let fast = [("DIGEST_INTERVAL_SECONDS", "1")];
    let mut server = start_with(port, &data, &fast);
    let rule = json!({"notification_name": "flood", "operation_type": "customized",
        "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": ["deleteServer"]}],
        "topic_id": format!("urn:smn:eu-west-1:{P}:key_events"),
        "digest": {"window_seconds": 60, "max_messages": 3}});
    let created = post(
        port,
        "POST",
        &format!("/v3/{P}/notifications"),
        &rule.to_string(),
    )
    .unwrap();
    assert!(created["notification_id"].is_string(), "{created}");
    const TRACES: usize = 300;
    let sender = std::thread::spawn(move || {
        for i in 0..TRACES {
            if post(port, "POST", "/traces", &trace(i)).is_none() {
                return i;
            }
        }
        TRACES
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sender.is_finished()
        && alone_and_digested(&data).0.len() < 3
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    server.kill().unwrap();
    server.wait().unwrap();
    let sent_before = sender.join().unwrap();
    assert!(
        sent_before < TRACES,
        "the kill came in the middle of the flood"
    );

    let mut server = start_with(port, &data, &fast);
    for i in 0..TRACES {
        let summary = post(port, "POST", "/traces", &trace(i)).unwrap();
        assert_eq!(summary["failures"], json!([]), "{summary}");
    }
    // Windows close 30 s after they end; a flood may straddle two one-minute windows.
    let deadline = Instant::now() + Duration::from_secs(150);
    let (alone, digested, digests) = loop {
        let found = alone_and_digested(&data);
        if found.0.len() + found.1.len() >= TRACES || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    println!(
        "killed after {sent_before} of {TRACES}; {} alone, {} digested in {digests} digests",
        alone.len(),
        digested.len()
    );
    let mut all: Vec<&String> = alone.iter().chain(&digested).collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a match published or counted twice");
    assert_eq!(
        all.len(),
        TRACES,
        "every match published alone or counted once"
    );
    assert!((1..=2).contains(&digests), "one digest a window: {digests}");
    assert!(
        alone.len() <= 3 * digests.max(1) + 3,
        "at most 3 alone a window: {}",
        alone.len()
    );
}
