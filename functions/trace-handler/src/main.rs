//! The trace handler on AWS Lambda: SQS batches (partial batch responses), EventBridge events,
//! direct invokes, and the trace files S3 notifications name (read from S3); rules and dedup
//! records in DynamoDB, messages to SNS, function targets invoked through Lambda. The template's schedule invokes it each minute to publish digests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::{
    function_arn_prefix, s3_client, DynamoDbStore, LambdaInvoker, S3Objects, SnsPublisher,
};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use ports::{env_number, env_required, ConfigError, DEFAULT_DEDUP_TTL_SECS};
use serde_json::value::RawValue;
use trace_handler::lambda::NotAllHandled;
use trace_handler::Handler;

/// Configuration, read once at start; a missing variable stops the function with its name.
struct Config {
    table: String,
    smn_arn_prefix: String,
    cache_ttl: Duration,
    dedup_ttl_secs: i64,
    activity_period: Duration,
}

impl Config {
    fn from_env() -> Result<Config, ConfigError> {
        Ok(Config {
            table: env_required(
                "TABLE_NAME",
                "the DynamoDB table of rules and dedup records",
            )?,
            smn_arn_prefix: env_required(
                "SMN_TOPIC_ARN_PREFIX",
                "arn:<partition>:sns:<region>:<account>: of the deployment",
            )?,
            cache_ttl: Duration::from_secs(env_number("RULES_CACHE_SECONDS", 10)?),
            dedup_ttl_secs: env_number("DEDUP_TTL_SECONDS", DEFAULT_DEDUP_TTL_SECS)? as i64,
            activity_period: Duration::from_secs(env_number("ACTIVITY_WRITE_SECONDS", 0)?),
        })
    }
}

/// The invocation's deadline. Lambda gives it in epoch milliseconds; `cargo lambda watch` gives
/// the timeout itself (milliseconds from now), which no epoch deadline of this century is below.
fn deadline(given_ms: u64, now_ms: i64) -> Instant {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    let left_ms = if given_ms < YEAR_2001_MS {
        given_ms
    } else {
        (given_ms as i64 - now_ms).max(0) as u64
    };
    Instant::now() + Duration::from_millis(left_ms)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let aws = aws_adapters::config::loader().load().await;
    let store = Arc::new(DynamoDbStore::new(
        aws_adapters::dynamodb::Client::new(&aws),
        config.table,
    ));
    let functions = function_arn_prefix(&config.smn_arn_prefix).ok_or_else(|| {
        format!(
            "SMN_TOPIC_ARN_PREFIX must be arn:<partition>:sns:<region>:<account>:, got {:?}",
            config.smn_arn_prefix
        )
    })?;
    let publisher = Arc::new(ports::Targets {
        topics: Arc::new(SnsPublisher::new(
            aws_adapters::sns::Client::new(&aws),
            config.smn_arn_prefix,
        )),
        functions: Arc::new(LambdaInvoker::new(
            aws_adapters::lambda::Client::new(&aws),
            functions,
        )),
    });
    let handler = Arc::new(
        Handler::new(
            store.clone(),
            store,
            publisher,
            config.cache_ttl,
            config.dedup_ttl_secs,
        )
        .with_trace_files(Arc::new(S3Objects::new(s3_client(&aws))))
        .with_activity_period(config.activity_period),
    );
    // Lambda stops an idle environment with SIGTERM (given an extension): the activity the
    // process still holds is written then. Without a period nothing is held, and no extension
    // is registered (`cargo lambda watch` runs no extension that subscribes to no events).
    if !config.activity_period.is_zero() {
        let stopping = handler.clone();
        lambda_runtime::spawn_graceful_shutdown_handler(|| async move {
            stopping.write_activity().await;
        })
        .await;
    }
    run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let handler = handler.clone();
        async move {
            if trace_handler::lambda::is_digest_schedule(event.payload.get()) {
                let run = handler.publish_due_digests(ports::now_ms()).await;
                handler.write_activity().await;
                println!("{}", run.metrics(ports::now_ms()));
                return serde_json::to_value(run).map_err(NotAllHandled::Summary);
            }
            let deadline = deadline(event.context.deadline, ports::now_ms());
            let summary = handler.handle_until(event.payload.get(), deadline).await;
            // CloudWatch reads metrics from this line of the log (Embedded Metric Format).
            println!("{}", summary.metrics(ports::now_ms()));
            summary.lambda_response()
        }
    }))
    .await
}
