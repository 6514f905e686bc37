//! Sustained `POST /traces` on the local server over loopback: `CLIENTS` keep-alive clients post
//! single traces (one in five matching a rule, each match published to the file topic and
//! recorded in the dedup log) for `SECONDS`; prints throughput and latency percentiles.
//!
//! Usage: `cargo bench -p local-server --bench intake_load` (`CLIENTS`, `SECONDS` to change;
//! `RULES` rules in the project, the sample and others that never match, default 1;
//! `CACHE_SECONDS` as `RULES_CACHE_SECONDS`, default the local server's 300, 0 to read and
//! compile the rules for every trace).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use local_server::{app, Config};
use serde_json::json;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (clients, seconds) = (setting("CLIENTS", 16) as usize, setting("SECONDS", 5));
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        port: 0,
        data_dir: dir.path().to_owned(),
        caller_header: None,
        access_keys_file: None,
        cache_ttl: Duration::from_secs(setting("CACHE_SECONDS", 300)),
        digest_interval: Duration::from_secs(10),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = axum::serve(listener, app(&config).unwrap());
    tokio::spawn(async move { server.await });

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let rule = samples::CREATE_NOTIFICATION_REQUEST.as_bytes().to_vec();
    let project = "24edf66e79d04187acb99a463e610764";
    let req = hyper::Request::post(format!("{base}/v3/{project}/notifications"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(rule)))
        .unwrap();
    assert_eq!(client.request(req).await.unwrap().status(), 201);
    let rules = setting("RULES", 1);
    for i in 1..rules {
        let other = json!({"notification_name": format!("other_{i}"), "operation_type": "customized",
            "operations": [{"service_type": "ECS", "resource_type": "ecs", "trace_names": [format!("op{i}")]}],
            "topic_id": format!("urn:smn:eu-west-1:{project}:key_events")});
        let req = hyper::Request::post(format!("{base}/v3/{project}/notifications"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(other.to_string())))
            .unwrap();
        assert_eq!(client.request(req).await.unwrap().status(), 201);
    }

    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, base, next) = (client.clone(), base.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let name = if i % 5 == 0 { "deleteServer" } else { "listServers" };
                    let trace = json!({"trace_id": format!("load-{i}"), "trace_name": name, "service_type": "ECS",
                        "resource_type": "ecs", "project_id": project, "user": {"name": "ops-alice"},
                        "trace_rating": "warning", "trace_type": "ApiCall", "code": "200"});
                    let req = hyper::Request::post(format!("{base}/traces"))
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(trace.to_string())))
                        .unwrap();
                    let started = Instant::now();
                    let resp = client.request(req).await.unwrap();
                    assert_eq!(resp.status(), 200);
                    resp.into_body().collect().await.unwrap();
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    let published = std::fs::read_to_string(dir.path().join("published.jsonl"))
        .unwrap()
        .lines()
        .count();
    println!(
        "local POST /traces: {clients} clients for {seconds} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} requests, {published} published",
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        all.len()
    );
}
