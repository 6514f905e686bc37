//! Publishing the claimed pairs, a topic at a time: none starts too close to the invocation's
//! deadline, and a permanent failure is logged once per rule and topic, not once per pair.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ports::{DedupKey, Publisher};
use rules::message::Message;
use rules::TopicId;

use crate::claim::Pending;
use crate::outcome::{Failures, Summary};

/// Which claimed pairs went out and which did not.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    pub(crate) done: Vec<DedupKey>,
    pub(crate) undone: Vec<DedupKey>,
    /// Pairs whose publish failed (also in `undone`).
    pub(crate) failed: Vec<DedupKey>,
}

/// Publishes each topic's messages, unless `deadline` (the invocation's, with its margin) is
/// too close: those pairs fail for a retry.
pub(crate) async fn publish(
    publisher: &dyn Publisher,
    by_topic: BTreeMap<TopicId, Vec<Pending>>,
    deadline: Option<(Instant, Duration)>,
    summary: &mut Summary,
    failures: &mut Failures<'_>,
) -> Sent {
    let mut sent = Sent::default();
    let mut permanent: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
    for (topic, group) in by_topic {
        if crate::run::out_of_time(deadline) {
            tracing::warn!(topic_id = %topic, pairs = group.len(), "too close to the deadline to publish; left for a retry");
            for p in group {
                failures.fail(
                    p.item,
                    "the invocation's time ran out; retried later",
                    false,
                );
                sent.undone.push(p.key);
            }
            continue;
        }
        let (targets, messages): (Vec<(usize, DedupKey)>, Vec<Message>) = group
            .into_iter()
            .map(|p| ((p.item, p.key), p.message))
            .unzip();
        let results = publisher.publish(&topic, &messages).await;
        for ((item, key), result) in targets.into_iter().zip(results) {
            match result {
                Ok(()) => {
                    tracing::info!(trace_id = %key.trace_id, notification_id = %key.notification_id, "published");
                    summary.published += 1;
                    sent.done.push(key);
                }
                Err(e) => {
                    if e.is_permanent() {
                        let seen = permanent
                            .entry((key.notification_id.clone(), topic.to_string()))
                            .or_insert((0, e.to_string()));
                        seen.0 += 1;
                    } else {
                        tracing::warn!(trace_id = %key.trace_id, notification_id = %key.notification_id, error = %e, "publish failed; the item will be retried");
                    }
                    failures.fail(item, e.to_string(), e.is_permanent());
                    sent.failed.push(key.clone());
                    sent.undone.push(key);
                }
            }
        }
    }
    // Once per input and (rule, topic): what an operator must mend.
    for ((notification_id, topic_id), (pairs, error)) in permanent {
        tracing::error!(%notification_id, %topic_id, pairs, %error, "publishing fails until the topic or the rule is mended; the items go to the dead-letter queue after their retries");
    }
    sent
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use ports::PublishError;
    use rules::trace::envelope::{split, Shape};

    use super::*;
    use crate::claim::tests::pending;

    /// Publishes everything; counts its calls.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    #[async_trait]
    impl Publisher for Counting {
        async fn publish(&self, _: &TopicId, m: &[Message]) -> Vec<Result<(), PublishError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            m.iter().map(|_| Ok(())).collect()
        }
    }

    fn by_topic() -> BTreeMap<TopicId, Vec<Pending>> {
        let mut groups = BTreeMap::new();
        for (item, topic) in [(0, "urn:smn:eu-west-1:p:a"), (1, "urn:smn:eu-west-1:p:b")] {
            let p = pending(item, &format!("t-{item}"), topic);
            groups.insert(p.message.topic_id.clone(), vec![p]);
        }
        groups
    }

    #[tokio::test]
    async fn one_call_per_topic_and_none_too_close_to_the_deadline() {
        let (_, items) = split(r#"{"traces": [{}, {}]}"#);
        let publisher = Counting::default();
        let mut summary = Summary::new(Shape::Direct);
        let mut failures = Failures::new(&items);
        let sent = publish(&publisher, by_topic(), None, &mut summary, &mut failures).await;
        assert_eq!(
            (publisher.0.load(Ordering::SeqCst), sent.done.len()),
            (2, 2)
        );
        assert_eq!(summary.published, 2);

        let publisher = Counting::default();
        let close = Some((
            Instant::now() + Duration::from_secs(5),
            Duration::from_secs(12),
        ));
        let sent = publish(&publisher, by_topic(), close, &mut summary, &mut failures).await;
        assert_eq!(publisher.0.load(Ordering::SeqCst), 0, "nothing starts");
        assert_eq!(sent.undone.len(), 2);
        let failed = failures.into_vec();
        assert_eq!(failed.len(), 2);
        assert!(
            failed.iter().all(|f| !f.input && !f.permanent),
            "retried later"
        );
    }
}
