//! The last step: the pairs that went out are marked published (retried: only a pair missing
//! from the log could be published again), and the claims of those that did not are released
//! so that a retry may take them at once.

use std::time::Duration;

use ports::{now_ms, DedupKey, DedupLog};

use crate::send::Sent;

/// Tries at recording published pairs (each a call with its own SDK retries), backing off
/// 100 ms, 200 ms, ... 800 ms between them.
const RECORD_ATTEMPTS: u32 = 5;
const RECORD_FIRST_BACKOFF: Duration = Duration::from_millis(100);

pub(crate) async fn record(dedup: &dyn DedupLog, sent: Sent, owner: &str, ttl_secs: i64) {
    mark_published(dedup, &sent.done, ttl_secs).await;
    if !sent.undone.is_empty() {
        if let Err(e) = dedup.release(&sent.undone, owner).await {
            tracing::warn!(error = %e, pairs = sent.undone.len(), "cannot release claims; they expire by themselves");
        }
    }
}

/// Records published pairs, retrying for a few seconds: the messages went out. (Reporting the
/// item as failed would not help: its redelivery would repeat the same messages.)
async fn mark_published(dedup: &dyn DedupLog, done: &[DedupKey], ttl_secs: i64) {
    if done.is_empty() {
        return;
    }
    let mut wait = RECORD_FIRST_BACKOFF;
    for attempt in 1..=RECORD_ATTEMPTS {
        match dedup.mark_published(done, now_ms(), ttl_secs).await {
            Ok(()) => return,
            Err(e) if attempt == RECORD_ATTEMPTS => {
                tracing::error!(error = %e, pairs = done.len(), "cannot record published pairs; a redelivery may repeat them");
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "recording published pairs failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
}
