//! The trace handler: every input of contract part 3 split into traces; each trace matched
//! against its project's enabled rules; each (trace, rule) match published once.
//!
//! At-least-once in, exactly once out: pairs already in the dedup log are skipped, and a pair
//! is recorded only after its publish succeeded. An item whose publish failed is reported (in
//! `batchItemFailures` for SQS) so that it is delivered again; a malformed item fails alone.

mod cache;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ports::{now_ms, DedupKey, DedupLog, NotificationStore, Publisher};
use rules::message::{render, Message};
use rules::trace::envelope::{split, Shape};
use serde::Serialize;

pub use cache::RuleCache;

/// How the handler is set up: where rules, dedup records and messages go.
pub struct Handler {
    rules: RuleCache,
    dedup: Arc<dyn DedupLog>,
    publisher: Arc<dyn Publisher>,
    dedup_ttl_secs: i64,
}

/// One item that was not handled, to be delivered again (or to reach the dead-letter queue).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// Position of the item in its input.
    pub item: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub error: String,
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
    /// What the Lambda function answers: for SQS, the partial batch response; otherwise the
    /// summary, or an error naming the failed items, so that the invoker retries them.
    pub fn lambda_response(&self) -> Result<serde_json::Value, String> {
        if self.shape == Some(Shape::Sqs) {
            return Ok(self.batch_item_failures());
        }
        if !self.failures.is_empty() {
            let items: Vec<String> = self
                .failures
                .iter()
                .map(|f| format!("item {}: {}", f.item, f.error))
                .collect();
            return Err(items.join("; "));
        }
        serde_json::to_value(self).map_err(|e| e.to_string())
    }

    /// The SQS partial batch response: the failed items' message ids.
    pub fn batch_item_failures(&self) -> serde_json::Value {
        let ids: Vec<_> = self
            .failures
            .iter()
            .filter_map(|f| f.message_id.as_ref())
            .map(|id| serde_json::json!({"itemIdentifier": id}))
            .collect();
        serde_json::json!({"batchItemFailures": ids})
    }
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
            rules: RuleCache::new(store, cache_ttl),
            dedup,
            publisher,
            dedup_ttl_secs,
        }
    }

    /// Handles one input of any shape.
    pub async fn handle(&self, input: &str) -> Summary {
        self.handle_for(input, None).await
    }

    /// Handles one input for a caller that may act on `caller_project` only (when given): a
    /// trace of another project fails as an item and publishes nothing.
    pub async fn handle_for(&self, input: &str, caller_project: Option<&str>) -> Summary {
        let (shape, items) = split(input);
        let mut summary = Summary {
            traces: 0,
            matches: 0,
            published: 0,
            duplicates: 0,
            failures: Vec::new(),
            shape: Some(shape),
        };
        let mut failed: BTreeMap<usize, (Option<String>, String)> = BTreeMap::new();
        let mut pending = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let trace = match &item.trace {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(item = i, message_id = ?item.message_id, error = %e, "malformed trace item");
                    failed.insert(i, (item.message_id.clone(), e.to_string()));
                    continue;
                }
            };
            if let Some(caller) = caller_project.filter(|c| *c != trace.project_id()) {
                tracing::warn!(item = i, "a trace of another project than the caller's");
                failed.insert(
                    i,
                    (
                        item.message_id.clone(),
                        format!("the trace is of another project than the caller's ({caller})"),
                    ),
                );
                continue;
            }
            summary.traces += 1;
            let compiled = match self.rules.rules(trace.project_id()).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(item = i, project_id = trace.project_id(), error = %e, "cannot read rules");
                    failed.insert(
                        i,
                        (item.message_id.clone(), "rules could not be read".into()),
                    );
                    continue;
                }
            };
            let view = trace.view();
            for r in compiled.matches(&view).iter() {
                let rule = &compiled.rules()[r];
                pending.push(Pending {
                    item: i,
                    key: DedupKey {
                        trace_id: trace.trace_id().to_owned(),
                        notification_id: rule.notification_id.clone(),
                    },
                    message: render(rule, &view, trace.json()),
                });
            }
        }
        summary.matches = pending.len();
        self.publish(pending, &items, &mut summary, &mut failed)
            .await;
        summary.failures = failed
            .into_iter()
            .map(|(item, (message_id, error))| Failure {
                item,
                message_id,
                error,
            })
            .collect();
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
        failed: &mut BTreeMap<usize, (Option<String>, String)>,
    ) {
        if pending.is_empty() {
            return;
        }
        let keys: Vec<DedupKey> = pending.iter().map(|p| p.key.clone()).collect();
        let seen = match self.dedup.seen(&keys).await {
            Ok(seen) => seen,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the dedup log; the items will be retried");
                for p in &pending {
                    failed.insert(
                        p.item,
                        (
                            items[p.item].message_id.clone(),
                            "dedup log unavailable".into(),
                        ),
                    );
                }
                return;
            }
        };
        let mut by_topic: HashMap<String, Vec<Pending>> = HashMap::new();
        for (p, seen) in pending.into_iter().zip(seen) {
            if seen {
                summary.duplicates += 1;
            } else {
                by_topic
                    .entry(p.message.topic_id.clone())
                    .or_default()
                    .push(p);
            }
        }
        let mut done = Vec::new();
        for (topic, group) in by_topic {
            let messages: Vec<Message> = group.iter().map(|p| p.message.clone()).collect();
            let results = self.publisher.publish(&topic, &messages).await;
            for (p, result) in group.into_iter().zip(results) {
                match result {
                    Ok(()) => {
                        tracing::info!(trace_id = %p.key.trace_id, notification_id = %p.key.notification_id, "published");
                        summary.published += 1;
                        done.push(p.key);
                    }
                    Err(e) => {
                        tracing::warn!(trace_id = %p.key.trace_id, notification_id = %p.key.notification_id, error = %e, "publish failed; the item will be retried");
                        failed.insert(p.item, (items[p.item].message_id.clone(), e.to_string()));
                    }
                }
            }
        }
        self.record_published(&done).await;
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
            match self.dedup.record(done, now_ms(), self.dedup_ttl_secs).await {
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

/// Tries at recording published pairs (each a call with its own SDK retries), backing off
/// 100 ms, 200 ms, ... 800 ms between them.
const RECORD_ATTEMPTS: u32 = 5;
const RECORD_FIRST_BACKOFF: Duration = Duration::from_millis(100);
