//! The trace handler: every input of contract part 3 split into traces; each trace matched
//! against its project's enabled rules; each (trace, rule) match published once.
//!
//! At-least-once in, exactly once out: each (trace, rule) pair is claimed in the dedup log with a
//! conditional write before it is published, and marked published after; a pair published
//! before is skipped, and a pair another invocation is publishing is left for a retry. An item
//! whose publish failed is reported (in `batchItemFailures` for SQS) so that it is delivered
//! again, and its claim released; a malformed item fails alone. Given a deadline, no publish
//! starts too close to it: what is left is reported for a retry.

mod activity;
mod cache;
mod claim;
mod digests;
mod files;
#[cfg(feature = "lambda")]
pub mod lambda;
mod limit;
mod outcome;
mod record;
mod run;
mod send;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ports::{DedupKey, Ledger, NotificationStore, ObjectSource, Publisher};
use rules::digest::DigestEntry;
use rules::message::render_trace;
use rules::trace::envelope::split;
use rules::trace::{Trace, TraceError};

pub use cache::{InvalidatingStore, RuleCache, MAX_PROJECTS};
pub use digests::DigestRun;
pub use outcome::{Failure, Summary};

use claim::Pending;
use run::Run;

/// How the handler is set up: where rules, dedup records and messages go.
pub struct Handler {
    rules: Arc<RuleCache>,
    ledger: Arc<dyn Ledger>,
    publisher: Arc<dyn Publisher>,
    /// Where the trace files that notifications name are read; `None`: such items fail.
    objects: Option<Arc<dyn ObjectSource>>,
    dedup_ttl_secs: i64,
    claim_lease_ms: i64,
    activity: activity::ActivityBuffer,
}

/// How long a claim keeps other invocations off a pair: longer than an invocation runs (30 s),
/// shorter than SQS waits before delivering an item again (180 s).
pub const CLAIM_LEASE_MS: i64 = 60_000;

/// No publish starts later than this before the invocation's deadline: a publish call, its
/// retries included, gives up within 10 s, and marking pairs published needs a little more.
pub const PUBLISH_MARGIN: Duration = Duration::from_secs(12);

impl Handler {
    pub fn new(
        store: Arc<dyn NotificationStore>,
        ledger: Arc<dyn Ledger>,
        publisher: Arc<dyn Publisher>,
        cache_ttl: Duration,
        dedup_ttl_secs: i64,
    ) -> Self {
        Handler {
            rules: Arc::new(RuleCache::new(store, cache_ttl)),
            ledger,
            publisher,
            objects: None,
            dedup_ttl_secs,
            claim_lease_ms: CLAIM_LEASE_MS,
            activity: activity::ActivityBuffer::new(Duration::ZERO),
        }
    }

    /// Writes the rules' activity at most once per `period` (added up in the process between
    /// writes) instead of once per input; [`Handler::write_activity`] writes what is held.
    pub fn with_activity_period(mut self, period: Duration) -> Self {
        self.activity = activity::ActivityBuffer::new(period);
        self
    }

    /// Writes the activity held in the process now: before the process stops.
    pub async fn write_activity(&self) {
        self.activity.write(&*self.ledger).await;
    }

    /// Reads the trace files that storage notifications name from `objects`.
    pub fn with_trace_files(mut self, objects: Arc<dyn ObjectSource>) -> Self {
        self.objects = Some(objects);
        self
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

    /// Split, match, then publish in steps: claim (grouped by topic), limit (digests), publish,
    /// record (each rule's activity, and the dedup log). The trace files an input names are
    /// read after its traces, a batch of records at a time, each batch through the same steps.
    async fn run(
        &self,
        input: &str,
        caller_project: Option<&str>,
        deadline: Option<Instant>,
    ) -> Summary {
        let (shape, items) = split(input);
        let mut run = Run::new(Summary::new(shape), &items, caller_project, deadline);
        let mut traces = Vec::with_capacity(items.len());
        let mut files = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match &item.trace {
                Ok(trace) => traces.push((i, trace)),
                Err(TraceError::TraceFiles(objects)) => {
                    files.extend(objects.iter().map(|o| (i, o)));
                }
                Err(e) => {
                    tracing::warn!(item = i, message_id = ?item.message_id, error = %e, "malformed trace item");
                    run.failures.refuse(i, e.to_string());
                }
            }
        }
        self.handle_traces(traces, &mut run).await;
        for (i, object) in files {
            self.read_object(i, object, &mut run).await;
        }
        run.finish()
    }

    /// Matches `traces` (each with its item) and publishes what they match.
    async fn handle_traces(&self, traces: Vec<(usize, &Trace)>, run: &mut Run<'_>) {
        let pending = self.match_traces(traces, run).await;
        run.summary.matches += pending.len();
        let pending = claim::distinct(pending, &mut run.summary);
        if pending.is_empty() {
            return;
        }
        let owner = run.owner();
        let (summary, failures) = (&mut run.summary, &mut run.failures);
        let projects: HashMap<String, String> = pending
            .iter()
            .map(|p| (p.key.notification_id.clone(), p.project_id.clone()))
            .collect();
        let by_topic = claim::claim(
            &*self.ledger,
            pending,
            &owner,
            self.claim_lease_ms,
            summary,
            failures,
        )
        .await;
        let limited = limit::limit(
            &*self.ledger,
            by_topic,
            &owner,
            self.dedup_ttl_secs,
            summary,
            failures,
        )
        .await;
        let mut sent = send::publish(
            &*self.publisher,
            limited.by_topic,
            run.deadline,
            summary,
            failures,
        )
        .await;
        sent.undone.extend(limited.released);
        self.activity
            .record(
                &*self.ledger,
                &projects,
                &sent.done,
                &limited.digested,
                &sent.failed,
            )
            .await;
        record::record(&*self.ledger, sent, &owner, self.dedup_ttl_secs).await;
    }

    /// Each trace of the caller's project against its project's rules: the messages of its
    /// matches.
    async fn match_traces(&self, traces: Vec<(usize, &Trace)>, run: &mut Run<'_>) -> Vec<Pending> {
        let mut pending = Vec::new();
        // An input's traces are nearly always of one project: its rules are taken from the
        // cache once, not once per trace.
        let mut last: Option<(&str, Arc<rules::CompiledRules>)> = None;
        for (i, trace) in traces {
            if let Some(caller) = run.caller_project.filter(|c| *c != trace.project_id()) {
                tracing::warn!(item = i, "a trace of another project than the caller's");
                run.failures.refuse(
                    i,
                    format!("the trace is of another project than the caller's ({caller})"),
                );
                continue;
            }
            run.summary.traces += 1;
            if last
                .as_ref()
                .is_none_or(|(project, _)| *project != trace.project_id())
            {
                match self.rules.rules(trace.project_id()).await {
                    Ok(compiled) => last = Some((trace.project_id(), compiled)),
                    Err(e) => {
                        tracing::error!(item = i, project_id = trace.project_id(), error = %e, "cannot read rules");
                        run.failures.fail(i, "rules could not be read", false);
                        continue;
                    }
                }
            }
            let Some((_, compiled)) = &last else {
                continue;
            };
            let view = trace.view();
            for r in compiled.matches(&view).iter() {
                let rule = &compiled.rules()[r];
                // Compiled rules are the active ones: each has a topic.
                let Some(message) = render_trace(rule, trace, &view) else {
                    continue;
                };
                pending.push(Pending {
                    item: i,
                    key: DedupKey {
                        trace_id: trace.trace_id().to_owned(),
                        notification_id: rule.notification_id.clone(),
                    },
                    project_id: trace.project_id().to_owned(),
                    message,
                    digest: rule.digest.map(|d| (d, DigestEntry::of(&view))),
                });
            }
        }
        pending
    }
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("rules", &self.rules)
            .field("dedup_ttl_secs", &self.dedup_ttl_secs)
            .field("claim_lease_ms", &self.claim_lease_ms)
            .finish_non_exhaustive()
    }
}
