//! AWS implementations of the notification ports: [`DynamoDbStore`] (rules, dedup records,
//! digests and activity in one table), [`SnsPublisher`], with the `functions` feature
//! `LambdaInvoker`, with `trace-queue` `TraceQueue` (rule changes to the intake queue), and with
//! `trace-files` `S3Objects` (trace files read and listed). All take SDK
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
#[cfg(feature = "trace-files")]
mod s3_objects;
mod sns_publisher;
#[cfg(feature = "trace-queue")]
mod trace_queue;

pub use aws_sdk_dynamodb as dynamodb;
#[cfg(feature = "functions")]
pub use aws_sdk_lambda as lambda;
#[cfg(feature = "trace-files")]
pub use aws_sdk_s3 as s3;
pub use aws_sdk_sns as sns;
#[cfg(feature = "trace-queue")]
pub use aws_sdk_sqs as sqs;
pub use digest_log::DIGEST_MEMBERS_INDEX;
pub use dynamodb_store::DynamoDbStore;
#[cfg(feature = "functions")]
pub use lambda_invoker::{function_arn_prefix, LambdaInvoker};
#[cfg(feature = "trace-files")]
pub use s3_objects::{s3_client, S3Archive, S3Objects};
pub use sns_publisher::SnsPublisher;
#[cfg(feature = "trace-queue")]
pub use trace_queue::TraceQueue;
