//! The trace handler: every input of contract part 3 split into traces; each trace matched
//! against its project's enabled rules; each (trace, rule) match published once.
//!
//! At-least-once in, exactly once out: each (trace, rule) pair is claimed in the dedup log with a
//! conditional write before it is published, and marked published after; a pair published
//! before is skipped, and a pair another invocation is publishing is left for a retry. An item
//! whose publish failed is reported (in `batchItemFailures` for SQS) so that it is delivered
//! again, and its claim released; a malformed item fails alone. Given a deadline, no publish
//! starts too close to it: what is left is reported for a retry.

mod cache;
#[cfg(feature = "lambda")]
pub mod lambda;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ports::{now_ms, Claim, DedupKey, DedupLog, NotificationStore, Publisher};
use rules::message::{render, Message};
use rules::trace::envelope::{split, Shape};
use serde::Serialize;

pub use cache::{InvalidatingStore, RuleCache, MAX_PROJECTS};

/// How the handler is set up: where rules, dedup records and messages go.
pub struct Handler {
    rules: Arc<RuleCache>,
    dedup: Arc<dyn DedupLog>,
    publisher: Arc<dyn Publisher>,
    dedup_ttl_secs: i64,
    claim_lease_ms: i64,
}

/// One item that was not handled, to be delivered again (or to reach the dead-letter queue).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// Position of the item in its input.
    pub item: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub error: String,
    /// A publish that fails alike on every retry until an operator mends the topic or rule.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub permanent: bool,
    /// The item itself is at fault (malformed, or of another project than the caller's): no
    /// retry will do better.
    #[serde(skip)]
    pub input: bool,
}

/// What one input came to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub traces: usize,
    pub matches: usize,
    pub published: usize,
    /// Matches skipped because they had been published before.
    pub duplicates: usize,
    pub failures: Vec<Failure>,
    #[serde(skip)]
    pub shape: Option<Shape>,
}

impl Summary {
    /// True when some item failed for another reason than its own content: a publish, the
    /// rules or the dedup log failed, and sending the input again may succeed (and publishes
    /// only what is missing).
    pub fn delivery_failed(&self) -> bool {
        self.failures.iter().any(|f| !f.input)
    }
}

/// A published (or failed) match, its message handed over.
struct Target {
    item: usize,
    key: DedupKey,
}

/// A match waiting to be published.
struct Pending {
    item: usize,
    key: DedupKey,
    message: Message,
}

impl Handler {
    pub fn new(
        store: Arc<dyn NotificationStore>,
        dedup: Arc<dyn DedupLog>,
        publisher: Arc<dyn Publisher>,
        cache_ttl: Duration,
        dedup_ttl_secs: i64,
    ) -> Self {
        Handler {
            rules: Arc::new(RuleCache::new(store, cache_ttl)),
            dedup,
            publisher,
            dedup_ttl_secs,
            claim_lease_ms: CLAIM_LEASE_MS,
        }
    }

    /// Claims last `lease` instead of [`CLAIM_LEASE_MS`]; it must outlast an invocation and be
    /// shorter than the source's redelivery delay (SQS's visibility timeout).
    pub fn with_claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease_ms = lease.as_millis() as i64;
        self
    }

    /// The cache of compiled rules, for a store in the same process to invalidate
    /// ([`InvalidatingStore`]).
    pub fn rule_cache(&self) -> Arc<RuleCache> {
        self.rules.clone()
    }

    /// Handles one input of any shape.
    pub async fn handle(&self, input: &str) -> Summary {
        self.handle_for(input, None).await
    }

    /// Handles one input for a caller that may act on `caller_project` only (when given): a
    /// trace of another project fails as an item and publishes nothing.
    pub async fn handle_for(&self, input: &str, caller_project: Option<&str>) -> Summary {
        self.run(input, caller_project, None).await
    }

    /// Handles one input, starting no publish later than [`PUBLISH_MARGIN`] (or half the time
    /// given, if less) before `deadline`, the invocation's: what is left fails, to be retried.
    pub async fn handle_until(&self, input: &str, deadline: Instant) -> Summary {
        self.run(input, None, Some(deadline)).await
    }

    async fn run(
        &self,
        input: &str,
        caller_project: Option<&str>,
        deadline: Option<Instant>,
    ) -> Summary {
        // Half the time given, when that is less than the margin: a short-lived invocation
        // still publishes.
        let margin =
            deadline.map(|d| PUBLISH_MARGIN.min(d.saturating_duration_since(Instant::now()) / 2));
        let (shape, items) = split(input);
        let mut summary = Summary {
            traces: 0,
            matches: 0,
            published: 0,
            duplicates: 0,
            failures: Vec::new(),
            shape: Some(shape),
        };
        let mut failed: BTreeMap<usize, Failure> = BTreeMap::new();
        let mut pending = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let trace = match &item.trace {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(item = i, message_id = ?item.message_id, error = %e, "malformed trace item");
                    refuse(&mut failed, i, item, e.to_string());
                    continue;
                }
            };
            if let Some(caller) = caller_project.filter(|c| *c != trace.project_id()) {
                tracing::warn!(item = i, "a trace of another project than the caller's");
                let why = format!("the trace is of another project than the caller's ({caller})");
                refuse(&mut failed, i, item, why);
                continue;
            }
            summary.traces += 1;
            let compiled = match self.rules.rules(trace.project_id()).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(item = i, project_id = trace.project_id(), error = %e, "cannot read rules");
                    fail(
                        &mut failed,
                        i,
                        item,
                        "rules could not be read".into(),
                        false,
                    );
                    continue;
                }
            };
            let view = trace.view();
            for r in compiled.matches(&view).iter() {
                let rule = &compiled.rules()[r];
                // Compiled rules are the active ones: each has a topic.
                let Some(message) = render(rule, &view, trace.json()) else {
                    continue;
                };
                pending.push(Pending {
                    item: i,
                    key: DedupKey {
                        trace_id: trace.trace_id().to_owned(),
                        notification_id: rule.notification_id.clone(),
                    },
                    message,
                });
            }
        }
        summary.matches = pending.len();
        self.publish(
            pending,
            &items,
            &mut summary,
            &mut failed,
            deadline.zip(margin),
        )
        .await;
        summary.failures = failed.into_values().collect();
        tracing::info!(
            traces = summary.traces,
            matches = summary.matches,
            published = summary.published,
            duplicates = summary.duplicates,
            failures = summary.failures.len(),
            "input handled"
        );
        summary
    }

    async fn publish(
        &self,
        pending: Vec<Pending>,
        items: &[rules::trace::envelope::Item],
        summary: &mut Summary,
        failed: &mut BTreeMap<usize, Failure>,
        deadline: Option<(Instant, Duration)>,
    ) {
        // A pair matched twice in one input (the same trace sent twice) is published once.
        let mut distinct = HashSet::new();
        let pending: Vec<Pending> = pending
            .into_iter()
            .filter(|p| {
                distinct.insert(p.key.clone()) || {
                    summary.duplicates += 1;
                    false
                }
            })
            .collect();
        if pending.is_empty() {
            return;
        }
        let owner = uuid::Uuid::new_v4().to_string();
        let keys: Vec<DedupKey> = pending.iter().map(|p| p.key.clone()).collect();
        let claims = match self
            .dedup
            .claim(&keys, &owner, now_ms(), self.claim_lease_ms)
            .await
        {
            Ok(claims) => claims,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim in the dedup log; the items will be retried");
                for p in &pending {
                    fail(
                        failed,
                        p.item,
                        &items[p.item],
                        "dedup log unavailable".into(),
                        false,
                    );
                }
                return;
            }
        };
        let mut by_topic: BTreeMap<rules::TopicId, Vec<Pending>> = BTreeMap::new();
        for (p, claim) in pending.into_iter().zip(claims) {
            match claim {
                Claim::Published => summary.duplicates += 1,
                Claim::Unavailable => {
                    let why = "the dedup log could not claim it; retried later".into();
                    fail(failed, p.item, &items[p.item], why, false);
                }
                Claim::Busy => {
                    tracing::info!(trace_id = %p.key.trace_id, notification_id = %p.key.notification_id, "being published by another invocation; left for a retry");
                    let why = "being published by another invocation; retried later".into();
                    fail(failed, p.item, &items[p.item], why, false);
                }
                Claim::Claimed => by_topic
                    .entry(p.message.topic_id.clone())
                    .or_default()
                    .push(p),
            }
        }
        let (mut done, mut undone) = (Vec::new(), Vec::new());
        let mut permanent: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
        for (topic, group) in by_topic {
            if deadline.is_some_and(|(d, m)| d.saturating_duration_since(Instant::now()) <= m) {
                tracing::warn!(topic_id = %topic, pairs = group.len(), "too close to the deadline to publish; left for a retry");
                for p in group {
                    let why = "the invocation's time ran out; retried later".into();
                    fail(failed, p.item, &items[p.item], why, false);
                    undone.push(p.key);
                }
                continue;
            }
            let (targets, messages): (Vec<Target>, Vec<Message>) = group
                .into_iter()
                .map(|p| {
                    let target = Target {
                        item: p.item,
                        key: p.key,
                    };
                    (target, p.message)
                })
                .unzip();
            let results = self.publisher.publish(&topic, &messages).await;
            for (p, result) in targets.into_iter().zip(results) {
                match result {
                    Ok(()) => {
                        tracing::info!(trace_id = %p.key.trace_id, notification_id = %p.key.notification_id, "published");
                        summary.published += 1;
                        done.push(p.key);
                    }
                    Err(e) => {
                        if e.is_permanent() {
                            let seen = permanent
                                .entry((p.key.notification_id.clone(), topic.to_string()))
                                .or_insert((0, e.to_string()));
                            seen.0 += 1;
                        } else {
                            tracing::warn!(trace_id = %p.key.trace_id, notification_id = %p.key.notification_id, error = %e, "publish failed; the item will be retried");
                        }
                        fail(
                            failed,
                            p.item,
                            &items[p.item],
                            e.to_string(),
                            e.is_permanent(),
                        );
                        undone.push(p.key);
                    }
                }
            }
        }
        // Once per input and (rule, topic): what an operator must mend.
        for ((notification_id, topic_id), (pairs, error)) in permanent {
            tracing::error!(%notification_id, %topic_id, pairs, %error, "publishing fails until the topic or the rule is mended; the items go to the dead-letter queue after their retries");
        }
        self.record_published(&done).await;
        if !undone.is_empty() {
            if let Err(e) = self.dedup.release(&undone, &owner).await {
                tracing::warn!(error = %e, pairs = undone.len(), "cannot release claims; they expire by themselves");
            }
        }
    }

    /// Records published pairs, retrying for a few seconds: the messages went out, and only a
    /// pair missing from the log could be published again by a redelivery. (Reporting the item
    /// as failed would not help: its redelivery would repeat the same messages.)
    async fn record_published(&self, done: &[DedupKey]) {
        if done.is_empty() {
            return;
        }
        let mut wait = RECORD_FIRST_BACKOFF;
        for attempt in 1..=RECORD_ATTEMPTS {
            match self
                .dedup
                .mark_published(done, now_ms(), self.dedup_ttl_secs)
                .await
            {
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
}

/// How long a claim keeps other invocations off a pair: longer than an invocation runs (30 s),
/// shorter than SQS waits before delivering an item again (180 s).
pub const CLAIM_LEASE_MS: i64 = 60_000;

/// No publish starts later than this before the invocation's deadline: a publish call, its
/// retries included, gives up within 10 s, and marking pairs published needs a little more.
pub const PUBLISH_MARGIN: Duration = Duration::from_secs(12);

/// Records an item's failure (the first reason it failed stays).
fn fail(
    failed: &mut BTreeMap<usize, Failure>,
    item: usize,
    from: &rules::trace::envelope::Item,
    error: String,
    permanent: bool,
) {
    failed.entry(item).or_insert(Failure {
        item,
        message_id: from.message_id.clone(),
        error,
        permanent,
        input: false,
    });
}

/// Records an item that failed for its own content.
fn refuse(
    failed: &mut BTreeMap<usize, Failure>,
    item: usize,
    from: &rules::trace::envelope::Item,
    error: String,
) {
    failed.entry(item).or_insert(Failure {
        item,
        message_id: from.message_id.clone(),
        error,
        permanent: false,
        input: true,
    });
}

/// Tries at recording published pairs (each a call with its own SDK retries), backing off
/// 100 ms, 200 ms, ... 800 ms between them.
const RECORD_ATTEMPTS: u32 = 5;
const RECORD_FIRST_BACKOFF: Duration = Duration::from_millis(100);

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("rules", &self.rules)
            .field("dedup_ttl_secs", &self.dedup_ttl_secs)
            .field("claim_lease_ms", &self.claim_lease_ms)
            .finish_non_exhaustive()
    }
}
