//! The Distributed Map's function (template.yaml `BacktestFunction`): tallies one batch of
//! objects, or merges a run's tallies into its report. Rules come from the job (bodies) or
//! from `TABLE_NAME` (a project's stored rules).

use std::sync::Arc;

use aws_adapters::{s3_client, DynamoDbStore, S3Objects};
use backtest::distributed::{merge, run_batch, Step};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};
use ports::{env_required, NotificationStore};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let table = env_required("TABLE_NAME", "the DynamoDB table of rules")?;
    let aws = aws_adapters::config::loader().load().await;
    let objects = S3Objects::new(s3_client(&aws));
    let store: Arc<dyn NotificationStore> = Arc::new(DynamoDbStore::new(
        aws_adapters::dynamodb::Client::new(&aws),
        table,
    ));
    run(service_fn(move |event: LambdaEvent<Step>| {
        let (objects, store) = (objects.clone(), store.clone());
        async move {
            handle(&objects, store, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}

async fn handle(
    objects: &S3Objects,
    store: Arc<dyn NotificationStore>,
    step: Step,
) -> Result<Value, String> {
    match step {
        Step::Batch { items, job } => {
            let rules = Arc::new(job.rules(Some(store)).await?);
            let done = run_batch(objects, rules, &job, &items).await?;
            serde_json::to_value(done).map_err(|e| e.to_string())
        }
        Step::Merge { merge: job } => {
            let rules = job.rules(Some(store)).await?;
            let (report_url, report) = merge(objects, &rules, &job).await?;
            Ok(
                json!({"report": report_url, "files": report.files, "records": report.records,
                "rules": report.rules.iter().map(|r| json!({"notification_name": r.notification_name,
                    "matches": r.matches, "messages": r.messages})).collect::<Vec<_>>()}),
            )
        }
    }
}
