//! The digest log: for rules that limit their messages, which matches of a window are published
//! alone (the first `max_messages` distinct traces) and which are counted into the window's
//! digest, and the windows whose digest is due.

use async_trait::async_trait;
use rules::digest::{DigestCounts, DigestEntry, Window};

use crate::{DedupKey, StoreError};

/// Windows take matches until this long after they end, and are read only after: a write
/// started before then has landed by then (the SDK gives up on an operation after 10 s), and a
/// handler that comes later retries its match in a new window.
pub const CLOSE_AFTER_MS: i64 = 30_000;

/// Whether `window` takes no more matches at `now_ms`: it ended [`CLOSE_AFTER_MS`] before.
pub fn is_past(window: Window, now_ms: i64) -> bool {
    now_ms >= window.end_ms + CLOSE_AFTER_MS
}

/// A call's clock: the caller's `now_ms` at its start, advanced by the time the call takes.
#[derive(Debug, Clone, Copy)]
pub struct CallClock {
    at_start_ms: i64,
    started: std::time::Instant,
}

impl CallClock {
    pub fn new(now_ms: i64) -> CallClock {
        CallClock {
            at_start_ms: now_ms,
            started: std::time::Instant::now(),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.at_start_ms + self.started.elapsed().as_millis() as i64
    }
}

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
/// dedup log) in one atomic step, for `owner`, who claimed it; a pair digested twice counts once. A window takes matches
/// until it is past, and is read only after.
#[async_trait]
pub trait DigestLog: Send + Sync {
    /// Decides each pair, in order: alone while its (rule, window) has published fewer than
    /// `max_messages` distinct traces (or this trace is one of them), else digested; retry
    /// when the window is [past](is_past) at `now_ms` (the caller's clock) plus the time the
    /// call has taken. Digested pairs are marked published in the dedup log for `ttl_secs`.
    async fn admit(
        &self,
        matches: &[WindowMatch],
        owner: &str,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<Vec<Admission>, StoreError>;
    /// The windows [past](is_past) at `now_ms` that counted a digested match and are not yet
    /// forgotten (those returned before included); past windows without one are forgotten.
    async fn close_windows(&self, now_ms: i64) -> Result<Vec<ClosedWindow>, StoreError>;
    /// Forgets a closed window, once its digest is published (or can never be).
    async fn forget_window(&self, window: &ClosedWindow) -> Result<(), StoreError>;
}

/// What the trace handler records in: the dedup log, the digest log and the rules' activity,
/// one store.
pub trait Ledger: crate::DedupLog + DigestLog + crate::ActivityLog {}

impl<T: crate::DedupLog + DigestLog + crate::ActivityLog + ?Sized> Ledger for T {}
