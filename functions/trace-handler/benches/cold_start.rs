//! Cold start of each release binary: from process start to its answer to the first event, with
//! configuration, SDK clients and that event's AWS calls (to moto) included, served by a minimal
//! Lambda Runtime API. 20 runs each; prints the median and the slowest, and the binary sizes.
//!
//! Usage: `cargo build --release -p rules-api -p trace-handler`, copy the two binaries to a
//! directory named by `COLD_START_BINARIES` (else `target/release` is used, where `cargo bench`
//! rebuilds this package's binary with the bench profile), then
//! `cargo bench -p trace-handler --bench cold_start`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_support::runtime_api::RuntimeApi;
use test_support::{create_rules_table, Moto};

const RUNS: usize = 20;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let moto = Moto::start().await;
    let aws = moto.sdk_config().await;
    create_rules_table(&aws_adapters::dynamodb::Client::new(&aws), "rules").await;
    aws_adapters::sns::Client::new(&aws)
        .create_topic()
        .name("24edf66e79d04187acb99a463e610764_key_events")
        .send()
        .await
        .unwrap();
    let functions = [
        ("rules-api", "api/quotas.json", "\"statusCode\":200"),
        (
            "trace-handler",
            "sqs-batch-cts-traces-with-poison.json",
            "poison-0001",
        ),
    ];
    for (name, event, expect) in functions {
        let dir = std::env::var("COLD_START_BINARIES")
            .map_or_else(|_| root().join("target/release"), PathBuf::from);
        let binary = dir.join(name);
        let size = std::fs::metadata(&binary)
            .unwrap_or_else(|_| {
                panic!(
                    "build {} first: cargo build --release -p {name}",
                    binary.display()
                )
            })
            .len();
        let event = samples::sample(event).as_bytes().to_vec();
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let api = RuntimeApi::start(event.clone()).await;
            let started = Instant::now();
            let mut child = Command::new(&binary)
                .env_clear()
                .envs([
                    ("AWS_LAMBDA_RUNTIME_API", api.address.as_str()),
                    ("AWS_LAMBDA_FUNCTION_NAME", name),
                    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
                    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                    ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
                    ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
                    ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
                    ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
                    ("AWS_REGION", "eu-west-1"),
                    ("AWS_ACCESS_KEY_ID", "test"),
                    ("AWS_SECRET_ACCESS_KEY", "test"),
                    ("TABLE_NAME", "rules"),
                    // The sample API events carry a JWT, as behind API Gateway in jwt mode.
                    ("AUTH_MODE", "jwt"),
                    ("PROJECT_CLAIM", "project_id"),
                    (
                        "SMN_TOPIC_ARN_PREFIX",
                        "arn:aws:sns:eu-west-1:123456789012:",
                    ),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the function");
            let (at, answer) = tokio::time::timeout(Duration::from_secs(20), api.answer())
                .await
                .expect("an answer within 20 s");
            let _ = child.kill();
            let _ = child.wait();
            assert!(answer.contains(expect), "{name} answered {answer}");
            times.push(at - started);
        }
        times.sort();
        println!(
            "cold start {name}: median {:.1} ms, slowest {:.1} ms over {RUNS} runs; binary {:.1} MB",
            times[RUNS / 2].as_secs_f64() * 1e3,
            times[RUNS - 1].as_secs_f64() * 1e3,
            size as f64 / 1e6
        );
    }
}
