//! The rules API on AWS Lambda behind API Gateway, with rules in DynamoDB.

use std::sync::Arc;

use aws_adapters::DynamoDbStore;
use lambda_http::{run, tracing, Error};
use rules_api::lambda::with_gateway_context;
use rules_api::{router, AppState, CallerPolicy};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let table = std::env::var("TABLE_NAME")
        .map_err(|_| "TABLE_NAME is not set: the DynamoDB table of rules")?;
    let claim = std::env::var("PROJECT_CLAIM").unwrap_or_else(|_| "project_id".into());
    let aws = aws_adapters::config::loader().load().await;
    let store = DynamoDbStore::new(aws_adapters::dynamodb::Client::new(&aws), table);
    let app = router(AppState {
        store: Arc::new(store),
        policy: Arc::new(CallerPolicy::RequestContext),
    });
    run(with_gateway_context(app, claim)).await
}
