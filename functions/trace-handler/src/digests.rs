//! Publishing digests: every window that ended [`ports::CLOSE_AFTER_MS`] ago is closed, and its
//! digest published once, as any pair: claimed in the dedup log under the window's digest id,
//! published, marked published, then the window is forgotten. A digest whose publish failed
//! stays closed and is tried again at the next run.

use ports::{now_ms, Claim, ClosedWindow, Ledger, NotificationStore, Publisher};
use rules::digest::render_digest;
use serde::Serialize;

use crate::Handler;

/// What one run of [`Handler::publish_due_digests`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct DigestRun {
    /// Closed windows found.
    pub windows: usize,
    pub published: usize,
    /// Digests published before (a run that stopped after publishing): forgotten now.
    pub duplicates: usize,
    /// Windows whose rule is gone or has no topic any more: their digest cannot be sent.
    pub dropped: usize,
    /// Digests that could not be published now: tried again at the next run.
    pub failed: usize,
}

impl Handler {
    /// Publishes the digest of every window that ended [`ports::CLOSE_AFTER_MS`] before
    /// `now_ms_at`.
    pub async fn publish_due_digests(&self, now_ms_at: i64) -> DigestRun {
        let mut run = DigestRun::default();
        let closed = match self.ledger.close_windows(now_ms_at).await {
            Ok(closed) => closed,
            Err(e) => {
                tracing::error!(error = %e, "cannot close digest windows; trying again at the next run");
                run.failed += 1;
                return run;
            }
        };
        run.windows = closed.len();
        let owner = uuid::Uuid::new_v4().to_string();
        for window in closed {
            let outcome = publish_one(
                &*self.ledger,
                self.rules.store(),
                &*self.publisher,
                &window,
                &owner,
                self.dedup_ttl_secs,
            )
            .await;
            match outcome {
                Outcome::Published => run.published += 1,
                Outcome::Duplicate => run.duplicates += 1,
                Outcome::Dropped => run.dropped += 1,
                Outcome::Failed => run.failed += 1,
            }
        }
        if run.windows > 0 {
            tracing::info!(
                windows = run.windows,
                published = run.published,
                duplicates = run.duplicates,
                dropped = run.dropped,
                failed = run.failed,
                "digests handled"
            );
        }
        run
    }
}

enum Outcome {
    Published,
    Duplicate,
    Dropped,
    Failed,
}

async fn publish_one(
    ledger: &dyn Ledger,
    store: &dyn NotificationStore,
    publisher: &dyn Publisher,
    window: &ClosedWindow,
    owner: &str,
    ttl_secs: i64,
) -> Outcome {
    let (project_id, notification_id) = (&window.project_id, &window.notification_id);
    let rule = match store.get(project_id, notification_id).await {
        Ok(rule) => rule,
        Err(e) => {
            tracing::error!(%project_id, %notification_id, error = %e, "cannot read the digest's rule; trying again at the next run");
            return Outcome::Failed;
        }
    };
    let Some(message) = rule.and_then(|rule| render_digest(&rule, window.window, &window.counts))
    else {
        tracing::warn!(%project_id, %notification_id, matches = window.counts.matches, "the rule is gone or has no topic: its digest cannot be sent");
        return forget(ledger, window, Outcome::Dropped).await;
    };
    let key = window.key();
    let claimed = ledger
        .claim(
            std::slice::from_ref(&key),
            owner,
            now_ms(),
            crate::CLAIM_LEASE_MS,
        )
        .await;
    match claimed.as_deref() {
        Ok([Claim::Claimed]) => {}
        Ok([Claim::Published]) => return forget(ledger, window, Outcome::Duplicate).await,
        Ok(_) => return Outcome::Failed,
        Err(e) => {
            tracing::error!(%notification_id, error = %e, "cannot claim a digest; trying again at the next run");
            return Outcome::Failed;
        }
    }
    let topic = message.topic_id.clone();
    let published = publisher
        .publish(&topic, std::slice::from_ref(&message))
        .await
        .into_iter()
        .next()
        .unwrap_or(Ok(()));
    match published {
        Ok(()) => {
            tracing::info!(%notification_id, window_start = window.window.start_ms, matches = window.counts.matches, "digest published");
            if let Err(e) = ledger
                .mark_published(std::slice::from_ref(&key), now_ms(), ttl_secs)
                .await
            {
                tracing::error!(%notification_id, error = %e, "cannot record a published digest; it may be sent again");
            }
            forget(ledger, window, Outcome::Published).await
        }
        Err(e) => {
            tracing::error!(%notification_id, topic_id = %topic, permanent = e.is_permanent(), error = %e, "publishing a digest failed; trying again at the next run");
            if let Err(e) = ledger.release(std::slice::from_ref(&key), owner).await {
                tracing::warn!(error = %e, "cannot release a digest's claim; it expires by itself");
            }
            Outcome::Failed
        }
    }
}

async fn forget(ledger: &dyn Ledger, window: &ClosedWindow, outcome: Outcome) -> Outcome {
    match ledger.forget_window(window).await {
        Ok(()) => outcome,
        Err(e) => {
            tracing::warn!(notification_id = %window.notification_id, error = %e, "cannot forget a digest window; the next run finds it done");
            outcome
        }
    }
}
