//! Ports (small traits) for what the handlers need from the outside world: a notification
//! store, a dedup log, a publisher, access keys and a topic check, with the conformance suite
//! every store passes. The implementations sit on one axis: `local-adapters` (embedded, for the
//! local run) and `aws-adapters` (DynamoDB, SNS, Lambda).
//!
//! A new implementation proves itself against the conformance suite (feature `conformance`):
//! here a dedup log in memory, claims and all, checked as the embedded and DynamoDB ones are.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//!
//! use async_trait::async_trait;
//! use ports::{Claim, DedupKey, DedupLog, StoreError};
//!
//! /// Published pairs (until when) and claims (lease end, owner).
//! #[derive(Debug, Default)]
//! struct MemoryLog {
//!     pairs: Mutex<(HashMap<DedupKey, i64>, HashMap<DedupKey, (i64, String)>)>,
//! }
//!
//! #[async_trait]
//! impl DedupLog for MemoryLog {
//!     async fn claim(&self, keys: &[DedupKey], owner: &str, now_ms: i64, lease_ms: i64)
//!         -> Result<Vec<Claim>, StoreError> {
//!         let mut pairs = self.pairs.lock().unwrap();
//!         let (published, claims) = &mut *pairs;
//!         Ok(keys.iter().map(|k| {
//!             if published.get(k).is_some_and(|&until| until > now_ms) {
//!                 Claim::Published
//!             } else if claims.get(k).is_some_and(|(until, _)| *until > now_ms) {
//!                 Claim::Busy
//!             } else {
//!                 claims.insert(k.clone(), (now_ms + lease_ms, owner.to_owned()));
//!                 Claim::Claimed
//!             }
//!         }).collect())
//!     }
//!
//!     async fn mark_published(&self, keys: &[DedupKey], now_ms: i64, ttl_secs: i64)
//!         -> Result<(), StoreError> {
//!         let mut pairs = self.pairs.lock().unwrap();
//!         for k in keys {
//!             pairs.0.insert(k.clone(), now_ms + ttl_secs * 1000);
//!             pairs.1.remove(k);
//!         }
//!         Ok(())
//!     }
//!
//!     async fn release(&self, keys: &[DedupKey], owner: &str) -> Result<(), StoreError> {
//!         let mut pairs = self.pairs.lock().unwrap();
//!         for k in keys {
//!             if pairs.1.get(k).is_some_and(|(_, o)| o == owner) {
//!                 pairs.1.remove(k);
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! tokio::runtime::Runtime::new().unwrap().block_on(
//!     ports::conformance::check_dedup(Arc::new(MemoryLog::default()), "memory"),
//! );
//! ```

mod access_keys;
mod activity;
mod cause;
mod config;
mod digest;
mod objects;
mod targets;

use async_trait::async_trait;
use rules::message::Message;
use rules::{Notification, TopicId};

pub use access_keys::{is_access_key, AccessKey, AccessKeyFile, AccessKeys, CachedAccessKeys};
pub use activity::{
    hour_of, Activity, ActivityDelta, ActivityLog, Hour, HourCounts, ACTIVITY_DAYS, HOUR_MS,
};
pub use cause::Cause;
pub use config::{env_number, env_required, ConfigError, KeyListError};
pub use digest::{
    is_past, Admission, CallClock, ClosedWindow, DigestLog, Ledger, WindowMatch, CLOSE_AFTER_MS,
};
pub use objects::{Archive, InMemoryBody, ObjectBody, ObjectError, ObjectSource};
pub use targets::Targets;

/// Why a store call failed. Each variant maps to one status and `error_code` of the contract.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("the name {0:?} is already used in this project")]
    NameTaken(String),
    #[error("the project already holds the most notifications allowed ({0})")]
    QuotaExceeded(usize),
    #[error("no notification with id {0:?} in this project")]
    NotFound(String),
    /// A write failed; the detail is for logs, never for callers.
    #[error("storage write failed: {0}")]
    Write(#[source] Cause),
    /// A read failed; the detail is for logs, never for callers.
    #[error("storage read failed: {0}")]
    Read(#[source] Cause),
}

/// Notification rules, per project. Implementations enforce, atomically and under
/// concurrency: at most [`rules::limits::MAX_NOTIFICATIONS_PER_PROJECT`] rules a project; names
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

/// What a claim on a (trace, rule) pair found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Claimed now: publish it, then mark it published (or release it).
    Claimed,
    /// Published before: a redelivery, not to publish again.
    Published,
    /// Claimed by another invocation whose lease is running: leave it for a retry.
    Busy,
    /// The store could not tell now (it failed for this pair): leave it for a retry.
    Unavailable,
}

/// Remembers which (trace, rule) pairs were published, and lets one invocation at a time
/// publish each: a pair is claimed with a conditional write (absent, or its claim or record
/// expired), published, then marked published. A crash after the claim loses nothing: the
/// claim expires and a retry claims the pair again.
#[async_trait]
pub trait DedupLog: Send + Sync {
    /// Claims, in order, each pair that is neither published nor claimed under a running lease,
    /// for `owner` until `now_ms + lease_ms`.
    async fn claim(
        &self,
        keys: &[DedupKey],
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<Claim>, StoreError>;
    /// Records `keys` as published, to be forgotten after `ttl_secs`.
    async fn mark_published(
        &self,
        keys: &[DedupKey],
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError>;
    /// Gives up `owner`'s claims on `keys` (not published), so that a retry may claim them at
    /// once; claims of other owners are left alone.
    async fn release(&self, keys: &[DedupKey], owner: &str) -> Result<(), StoreError>;
}

/// One (trace, rule) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    pub trace_id: String,
    pub notification_id: String,
}

/// Why publishing failed. Every failure leaves the trace to be retried (and, past the queue's
/// retries, in the dead-letter queue).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("topic {topic} cannot be published to here: {why}")]
    Unsupported { topic: String, why: String },
    /// Throttling, a 5xx, a timeout: a retry may well succeed.
    #[error("publishing to {topic} failed: {why}")]
    Failed {
        topic: String,
        #[source]
        why: Cause,
    },
    /// The topic does not exist, may not be published to, its key is unusable, or the request
    /// was refused as invalid: retries fail alike until an operator mends it.
    #[error("publishing to {topic} failed and will until mended: {why}")]
    Permanent {
        topic: String,
        #[source]
        why: Cause,
    },
}

impl PublishError {
    /// True when retrying cannot help before someone mends the topic or the rule.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PublishError::Unsupported { .. } | PublishError::Permanent { .. }
        )
    }
}

/// Where matches go. One call publishes messages to one topic (or invokes one function);
/// implementations may batch.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes every message (all with the same `topic_id`); returns, per message, whether
    /// it was published.
    async fn publish(&self, topic: &TopicId, messages: &[Message])
        -> Vec<Result<(), PublishError>>;
}

/// The same failure for every message of one call: the target, not a message, failed.
pub fn all_failed(
    messages: &[Message],
    error: impl Fn() -> PublishError,
) -> Vec<Result<(), PublishError>> {
    messages.iter().map(|_| Err(error())).collect()
}

/// Where the API sends the traces of rule changes, to be matched like any other trace: the trace
/// handler in the same process locally, the trace intake queue on AWS.
#[async_trait]
pub trait TraceSink: Send + Sync {
    /// Hands over one trace (a CTS trace's JSON); an error means it was not taken.
    async fn submit(&self, trace: String) -> Result<(), Cause>;
}

/// Why a topic cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TopicProblem {
    /// The topic does not exist or may not be published to: the rule is refused.
    #[error("{0}")]
    Refused(String),
    /// It could not be checked now.
    #[error("the topic could not be checked: {0}")]
    Unchecked(#[source] Cause),
}

/// Checks, when a rule is created or modified, that its topic exists and may be published to,
/// as CTS refuses a topic that does not exist.
#[async_trait]
pub trait TopicCheck: Send + Sync {
    async fn check(&self, topic: &TopicId) -> Result<(), TopicProblem>;
}

/// How long a published (trace, rule) pair is remembered, by default: four days, longer than
/// any source redelivers (SQS keeps a message at most 4 days by default, then the dead-letter
/// queue's redrive starts a new delivery).
pub const DEFAULT_DEDUP_TTL_SECS: u64 = 345_600;

/// Now, in epoch milliseconds: the time base of `create_time` and dedup expiries.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(feature = "conformance")]
pub mod conformance;
