//! AWS implementations of the notification ports: [`DynamoDbStore`] (rules, dedup records,
//! digests and activity in one table), [`SnsPublisher`], with the `functions` feature
//! `LambdaInvoker`, and with `trace-queue` `TraceQueue` (rule changes to the intake queue). All take SDK
//! clients built once in `main`; the SDK finds local servers (moto, `cargo lambda watch`)
//! through `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.

pub mod access_keys;
mod activity_log;
pub mod config;
mod dedup;
mod digest_log;
mod dynamodb_store;
#[cfg(feature = "functions")]
mod lambda_invoker;
mod sns_publisher;
#[cfg(feature = "trace-queue")]
mod trace_queue;

pub use aws_sdk_dynamodb as dynamodb;
#[cfg(feature = "functions")]
pub use aws_sdk_lambda as lambda;
pub use aws_sdk_sns as sns;
#[cfg(feature = "trace-queue")]
pub use aws_sdk_sqs as sqs;
pub use digest_log::DIGEST_MEMBERS_INDEX;
pub use dynamodb_store::DynamoDbStore;
#[cfg(feature = "functions")]
pub use lambda_invoker::{function_arn_prefix, LambdaInvoker};
pub use sns_publisher::SnsPublisher;
#[cfg(feature = "trace-queue")]
pub use trace_queue::TraceQueue;
