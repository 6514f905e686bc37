//! Ports (small traits) for what the handlers need from the outside world: a notification
//! store, a dedup log and a publisher; and the embedded implementations the local run uses:
//! [`RedbStore`] (both store and dedup log, one file) and [`FileTopic`]. The AWS
//! implementations live in the `aws-adapters` crate.

mod access_keys;
mod file_topic;
mod redb_store;

use async_trait::async_trait;
use rules::message::Message;
use rules::Notification;

pub use access_keys::{is_access_key, AccessKey, AccessKeyFile, AccessKeys, CachedAccessKeys};
pub use file_topic::FileTopic;
pub use redb_store::RedbStore;

/// Why a store call failed. Each variant maps to one status and `error_code` of the contract.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("the name {0:?} is already used in this project")]
    NameTaken(String),
    #[error("the project already holds the most notifications allowed ({0})")]
    QuotaExceeded(usize),
    #[error("no notification with id {0:?} in this project")]
    NotFound(String),
    /// A write failed; the detail is for logs, never for callers.
    #[error("storage write failed: {0}")]
    Write(String),
    /// A read failed; the detail is for logs, never for callers.
    #[error("storage read failed: {0}")]
    Read(String),
}

/// Notification rules, per project. Implementations enforce, atomically and under
/// concurrency: at most [`rules::body::MAX_NOTIFICATIONS_PER_PROJECT`] rules a project; names
/// unique in a project (renames included); all-or-nothing batch deletes; no update of a rule
/// that does not exist (so an update never resurrects a deleted rule).
#[async_trait]
pub trait NotificationStore: Send + Sync {
    async fn create(&self, notification: &Notification) -> Result<(), StoreError>;
    /// Replaces a stored rule (same project and id).
    async fn update(&self, notification: &Notification) -> Result<(), StoreError>;
    /// Deletes every id or, if any is unknown, none (`NotFound` names the first unknown).
    async fn delete(&self, project_id: &str, ids: &[String]) -> Result<(), StoreError>;
    async fn get(&self, project_id: &str, id: &str) -> Result<Option<Notification>, StoreError>;
    /// A project's rules, oldest first.
    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError>;
}

/// Remembers which (trace, rule) pairs were published, so that a redelivered trace is not
/// published twice.
#[async_trait]
pub trait DedupLog: Send + Sync {
    /// Which of `keys` were already recorded.
    async fn seen(&self, keys: &[DedupKey]) -> Result<Vec<bool>, StoreError>;
    /// Records `keys` as published, to be forgotten after `ttl_secs`.
    async fn record(&self, keys: &[DedupKey], now_ms: i64, ttl_secs: i64)
        -> Result<(), StoreError>;
}

/// One (trace, rule) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    pub trace_id: String,
    pub notification_id: String,
}

/// Why publishing failed. Every failure leaves the trace to be retried.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("topic {topic} cannot be published to here: {why}")]
    Unsupported { topic: String, why: String },
    #[error("publishing to {topic} failed: {why}")]
    Failed { topic: String, why: String },
}

/// Where matches go. One call publishes messages to one topic; implementations may batch.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes every message (all with the same `topic_id`); returns, per message, whether
    /// it was published.
    async fn publish(&self, topic_id: &str, messages: &[Message]) -> Vec<Result<(), PublishError>>;
}

/// Now, in epoch milliseconds: the time base of `create_time` and dedup expiries.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The embedded stores' key for a project's item: `project` NUL `rest` (NUL cannot appear in
/// project ids or names, which are validated).
fn scoped_key(project_id: &str, rest: &str) -> String {
    format!("{project_id}\u{0}{rest}")
}

#[cfg(feature = "conformance")]
pub mod conformance;
