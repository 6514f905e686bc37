//! Recording each rule's activity: what each input did for each rule (published alone, counted
//! into a digest, failed to publish), added up in the process by rule and hour and written at
//! most once per period, one write per rule and hour. A pair counts as a match once, when it is
//! done, so redeliveries do not inflate the counts.
//!
//! Why a period: at volume a hot rule's hour is one item that every invocation would update; a
//! process writing its sum every few seconds keeps that item's writes (and their cost) flat as
//! the traffic grows. What a crashed process had not written yet is lost: a period's counts of
//! one process, never a message.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ports::{hour_of, now_ms, ActivityDelta, ActivityLog, DedupKey, HourCounts};

/// Counts held while a write keeps failing; beyond it the oldest hours are dropped.
const MAX_HELD: usize = 10_000;

/// The counts not yet written, by (project, rule, hour), and when they were last written.
#[derive(Debug)]
pub(crate) struct ActivityBuffer {
    every: Duration,
    held: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    counts: BTreeMap<(String, String, i64), (HourCounts, Option<i64>)>,
    written_at: Option<Instant>,
}

impl ActivityBuffer {
    /// Writes at most once per `every`; `Duration::ZERO` writes each input's counts at once.
    pub(crate) fn new(every: Duration) -> Self {
        ActivityBuffer {
            every,
            held: Mutex::new(Held {
                counts: BTreeMap::new(),
                written_at: None,
            }),
        }
    }

    /// Adds up, by rule, what `done`, `digested` and `failed` hold (`projects` names each rule's
    /// project), then writes what is held if the period has passed.
    pub(crate) async fn record(
        &self,
        log: &dyn ActivityLog,
        projects: &HashMap<String, String>,
        done: &[DedupKey],
        digested: &[DedupKey],
        failed: &[DedupKey],
    ) {
        let mut by_rule: BTreeMap<&str, HourCounts> = BTreeMap::new();
        tally(&mut by_rule, done, |c| {
            c.matches += 1;
            c.published += 1;
        });
        tally(&mut by_rule, digested, |c| {
            c.matches += 1;
            c.digested += 1;
        });
        tally(&mut by_rule, failed, |c| c.failures += 1);
        if by_rule.is_empty() {
            return;
        }
        let now = now_ms();
        let due = {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            for (rule, counts) in by_rule {
                let Some(project) = projects.get(rule) else {
                    continue;
                };
                let matched_at = (counts.matches > 0).then_some(now);
                held.add(
                    project.clone(),
                    rule.to_owned(),
                    hour_of(now),
                    counts,
                    matched_at,
                );
            }
            held.written_at.is_none_or(|at| at.elapsed() >= self.every)
        };
        if due {
            self.write(log).await;
        }
    }

    /// Writes every count held, whatever the period; what fails is kept for the next write.
    pub(crate) async fn write(&self, log: &dyn ActivityLog) {
        let deltas: Vec<ActivityDelta> = {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            held.written_at = Some(Instant::now());
            std::mem::take(&mut held.counts)
                .into_iter()
                .map(
                    |((project_id, notification_id, hour_ms), (counts, matched_at_ms))| {
                        ActivityDelta {
                            project_id,
                            notification_id,
                            hour_ms,
                            counts,
                            matched_at_ms,
                        }
                    },
                )
                .collect()
        };
        if deltas.is_empty() {
            return;
        }
        if let Err(e) = log.record(&deltas).await {
            tracing::warn!(error = %e, rules = deltas.len(), "cannot record the rules' activity; kept for the next write");
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            for d in deltas {
                held.add(
                    d.project_id,
                    d.notification_id,
                    d.hour_ms,
                    d.counts,
                    d.matched_at_ms,
                );
            }
        }
    }
}

impl Held {
    fn add(
        &mut self,
        project_id: String,
        notification_id: String,
        hour_ms: i64,
        counts: HourCounts,
        matched_at_ms: Option<i64>,
    ) {
        let entry = self
            .counts
            .entry((project_id, notification_id, hour_ms))
            .or_default();
        entry.0.add(&counts);
        entry.1 = entry.1.max(matched_at_ms);
        while self.counts.len() > MAX_HELD {
            let oldest = self.counts.keys().min_by_key(|(_, _, hour)| *hour).cloned();
            if let Some(key) = oldest {
                tracing::warn!(notification_id = %key.1, hour_ms = key.2, "too much activity held unwritten; an hour's counts dropped");
                self.counts.remove(&key);
            }
        }
    }
}

fn tally<'a>(
    by_rule: &mut BTreeMap<&'a str, HourCounts>,
    keys: &'a [DedupKey],
    add: impl Fn(&mut HourCounts),
) {
    for k in keys {
        add(by_rule.entry(k.notification_id.as_str()).or_default());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;
    use ports::{Activity, StoreError};

    use super::*;

    /// Keeps every call's deltas; fails while `down`.
    #[derive(Default)]
    struct Log {
        calls: Mutex<Vec<Vec<ActivityDelta>>>,
        down: AtomicBool,
    }

    #[async_trait]
    impl ActivityLog for Log {
        async fn record(&self, deltas: &[ActivityDelta]) -> Result<(), StoreError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Write("down".into()));
            }
            self.calls.lock().unwrap().push(deltas.to_vec());
            Ok(())
        }
        async fn activity(&self, _: &str, _: &str, _: i64) -> Result<Activity, StoreError> {
            unreachable!("not read here")
        }
    }

    fn keys(rule: &str, n: usize) -> Vec<DedupKey> {
        (0..n)
            .map(|i| DedupKey {
                trace_id: format!("t{i}"),
                notification_id: rule.into(),
            })
            .collect()
    }

    fn projects() -> HashMap<String, String> {
        HashMap::from([("a".into(), "p1".into()), ("b".into(), "p2".into())])
    }

    #[tokio::test]
    async fn inputs_within_the_period_are_written_as_one_sum_per_rule() {
        let (log, buffer) = (Log::default(), ActivityBuffer::new(Duration::from_secs(60)));
        // The first input writes at once (nothing was written before), the next ones wait.
        buffer
            .record(&log, &projects(), &keys("a", 1), &[], &[])
            .await;
        buffer
            .record(&log, &projects(), &keys("a", 2), &keys("b", 3), &[])
            .await;
        buffer
            .record(&log, &projects(), &[], &[], &keys("a", 1))
            .await;
        assert_eq!(log.calls.lock().unwrap().len(), 1);
        buffer.write(&log).await;
        let calls = log.calls.lock().unwrap();
        let [first, second] = &calls[..] else {
            panic!("two writes: {calls:?}")
        };
        assert_eq!(first.len(), 1);
        let sum = |rule: &str| second.iter().find(|d| d.notification_id == rule).unwrap();
        assert_eq!(
            sum("a").counts,
            HourCounts {
                matches: 2,
                published: 2,
                digested: 0,
                failures: 1
            }
        );
        assert_eq!(
            (sum("a").project_id.as_str(), sum("b").counts.digested),
            ("p1", 3)
        );
        assert!(sum("a").matched_at_ms.is_some());
    }

    #[tokio::test]
    async fn a_zero_period_writes_each_input_and_a_failed_write_is_kept() {
        let (log, buffer) = (Log::default(), ActivityBuffer::new(Duration::ZERO));
        log.down.store(true, Ordering::SeqCst);
        buffer
            .record(&log, &projects(), &keys("a", 2), &[], &[])
            .await;
        log.down.store(false, Ordering::SeqCst);
        buffer
            .record(&log, &projects(), &keys("a", 1), &[], &[])
            .await;
        let calls = log.calls.lock().unwrap();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(
            calls[0][0].counts.matches, 3,
            "the failed input's counts too"
        );
    }
}
