//! The digest log: for rules that limit their messages, which matches of a window are published
//! alone (the first `max_messages` distinct traces) and which are counted into the window's
//! digest, and the windows whose digest is due.

use async_trait::async_trait;
use rules::digest::{DigestCounts, DigestEntry, Window};

use crate::{DedupKey, StoreError};

/// A claimed pair of a rule with a digest, in the window of the time it is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowMatch {
    pub key: DedupKey,
    pub project_id: String,
    pub window: Window,
    pub max_messages: u32,
    pub entry: DigestEntry,
}

/// What [`DigestLog::admit`] decided for one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// One of the window's first `max_messages` traces: publish it alone, as any pair.
    Alone,
    /// Counted into the window's digest and recorded as done in the dedup log.
    Digested,
    /// Nothing done (its window is closed, or another invocation holds the pair): retry it.
    Retry,
}

/// A window whose digest is due, by rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedWindow {
    pub project_id: String,
    pub notification_id: String,
    pub window: Window,
    pub counts: DigestCounts,
}

impl ClosedWindow {
    /// The dedup key of this window's digest: one message per (rule, window).
    pub fn key(&self) -> DedupKey {
        DedupKey {
            trace_id: self.window.digest_id(),
            notification_id: self.notification_id.clone(),
        }
    }
}

/// Counts digests exactly once. `admit` is idempotent per pair: asking again for a pair of the
/// same window gives the same answer, and a pair is digested (counted and marked done in the
/// dedup log) in one atomic step, only while `owner` holds its claim. A window that is closed
/// counts nothing more.
#[async_trait]
pub trait DigestLog: Send + Sync {
    /// Decides each pair, in order: alone while its (rule, window) has published fewer than
    /// `max_messages` distinct traces (or this trace is one of them), else digested. Digested
    /// pairs are marked published in the dedup log for `ttl_secs`.
    async fn admit(
        &self,
        matches: &[WindowMatch],
        owner: &str,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<Vec<Admission>, StoreError>;
    /// Closes every window that ended at or before `ended_by_ms` and counted a digested match,
    /// and returns the closed windows not yet forgotten (those closed before included).
    async fn close_windows(&self, ended_by_ms: i64) -> Result<Vec<ClosedWindow>, StoreError>;
    /// Forgets a closed window, once its digest is published (or can never be).
    async fn forget_window(&self, window: &ClosedWindow) -> Result<(), StoreError>;
}
