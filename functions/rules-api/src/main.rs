//! The rules API on AWS Lambda behind API Gateway, with rules in DynamoDB. `AUTH_MODE` says
//! who the caller is: `aksk` (default) verifies the Huawei clients' AK/SK signatures here, with
//! keys in the rules table; `jwt` trusts API Gateway's JWT authorizer and its `PROJECT_CLAIM`.
//! A rule's topic is checked to exist in SNS (`SMN_TOPIC_ARN_PREFIX` maps SMN URNs) when the
//! rule is created or modified. Every rule change is a trace, sent to the trace intake queue
//! (`TRACE_QUEUE_URL`). Backtests read the trace bucket (`ARCHIVE_BUCKET`). The console
//! (`/console/`) is served beside the API.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::{DynamoDbStore, S3Archive, S3Objects, SnsPublisher, TraceQueue};
use axum::Router;
use lambda_http::{run, tracing, Error};
use ports::CachedAccessKeys;
use rules_api::lambda::with_gateway_context;
use rules_api::{application, AppState, Authentication, CallerPolicy, ConsoleAuth};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let table = std::env::var("TABLE_NAME")
        .map_err(|_| "TABLE_NAME is not set: the DynamoDB table of rules")?;
    let mode = std::env::var("AUTH_MODE").unwrap_or_else(|_| "aksk".into());
    let smn_arn_prefix = std::env::var("SMN_TOPIC_ARN_PREFIX").map_err(|_| {
        "SMN_TOPIC_ARN_PREFIX is not set: arn:<partition>:sns:<region>:<account>: of the deployment"
    })?;
    let aws = aws_adapters::config::loader().load().await;
    let store = Arc::new(DynamoDbStore::new(
        aws_adapters::dynamodb::Client::new(&aws),
        table,
    ));
    let mut state =
        AppState::new(store.clone(), CallerPolicy::RequestContext).with_topics(Arc::new(
            SnsPublisher::new(aws_adapters::sns::Client::new(&aws), smn_arn_prefix),
        ));
    match std::env::var("TRACE_QUEUE_URL") {
        Ok(url) if !url.is_empty() => {
            state = state.with_change_traces(Arc::new(TraceQueue::new(
                aws_adapters::sqs::Client::new(&aws),
                url,
            )));
        }
        _ => tracing::warn!("TRACE_QUEUE_URL is not set: rule changes are not traced"),
    }
    // Backtests through the API read the trace bucket, when the deployment has one.
    if let Ok(bucket) = std::env::var("ARCHIVE_BUCKET") {
        if !bucket.is_empty() {
            let objects = S3Objects::new(aws_adapters::s3_client(&aws));
            state = state.with_archive(Arc::new(S3Archive::new(objects, bucket)));
        }
    }
    let app = match mode.as_str() {
        "aksk" => {
            let cache = ports::env_number("ACCESS_KEYS_CACHE_SECONDS", 60)?;
            let keys = CachedAccessKeys::new(store, Duration::from_secs(cache));
            let auth = Authentication::Signatures(Arc::new(keys));
            let app = application(state, auth, ConsoleAuth::AkSk, Router::new());
            with_gateway_context(app, None)
        }
        "jwt" => {
            let claim = std::env::var("PROJECT_CLAIM").unwrap_or_else(|_| "project_id".into());
            let app = application(
                state,
                Authentication::Policy,
                ConsoleAuth::Jwt,
                Router::new(),
            );
            with_gateway_context(app, Some(claim))
        }
        other => return Err(format!("AUTH_MODE must be aksk or jwt, got {other:?}").into()),
    };
    run(app).await
}
