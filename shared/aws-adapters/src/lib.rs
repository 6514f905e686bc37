//! AWS implementations of the notification ports: [`DynamoDbStore`] (rules and dedup records in
//! one table) and [`SnsPublisher`]. Both take SDK clients built once in `main`; the SDK finds
//! local servers (moto) through `AWS_ENDPOINT_URL`.

pub mod access_keys;
pub mod config;
mod dedup;
mod dynamodb_store;
mod sns_publisher;

pub use aws_sdk_dynamodb as dynamodb;
pub use aws_sdk_sns as sns;
pub use dynamodb_store::DynamoDbStore;
pub use sns_publisher::SnsPublisher;
