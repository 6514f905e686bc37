//! The first steps of publishing: a pair matched twice in one input is published once, and
//! each pair is claimed in the dedup log; the claimed pairs are grouped by topic.

use std::collections::{BTreeMap, HashSet};

use ports::{now_ms, Claim, DedupKey, DedupLog};
use rules::digest::{Digest, DigestEntry};
use rules::message::Message;
use rules::TopicId;

use crate::outcome::{Failures, Summary};

/// A match waiting to be published.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) item: usize,
    pub(crate) key: DedupKey,
    pub(crate) project_id: String,
    pub(crate) message: Message,
    /// The rule's digest and what this match would add to it; `None` for rules without one.
    pub(crate) digest: Option<(Digest, DigestEntry)>,
}

/// `pending` without the pairs already seen in this input (counted as duplicates).
pub(crate) fn distinct(pending: Vec<Pending>, summary: &mut Summary) -> Vec<Pending> {
    let mut seen = HashSet::new();
    pending
        .into_iter()
        .filter(|p| {
            seen.insert(p.key.clone()) || {
                summary.duplicates += 1;
                false
            }
        })
        .collect()
}

/// Claims every pair for `owner`; the claimed ones by topic. Pairs published before count as
/// duplicates; pairs another invocation holds, or the log could not claim, fail for a retry.
pub(crate) async fn claim(
    dedup: &dyn DedupLog,
    pending: Vec<Pending>,
    owner: &str,
    lease_ms: i64,
    summary: &mut Summary,
    failures: &mut Failures<'_>,
) -> BTreeMap<TopicId, Vec<Pending>> {
    let mut by_topic: BTreeMap<TopicId, Vec<Pending>> = BTreeMap::new();
    let keys: Vec<DedupKey> = pending.iter().map(|p| p.key.clone()).collect();
    let claims = match dedup.claim(&keys, owner, now_ms(), lease_ms).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::error!(error = %e, "cannot claim in the dedup log; the items will be retried");
            for p in &pending {
                failures.fail(p.item, "dedup log unavailable", false);
            }
            return by_topic;
        }
    };
    for (p, claim) in pending.into_iter().zip(claims) {
        match claim {
            Claim::Published => summary.duplicates += 1,
            Claim::Unavailable => {
                failures.fail(
                    p.item,
                    "the dedup log could not claim it; retried later",
                    false,
                );
            }
            Claim::Busy => {
                tracing::info!(trace_id = %p.key.trace_id, notification_id = %p.key.notification_id, "being published by another invocation; left for a retry");
                failures.fail(
                    p.item,
                    "being published by another invocation; retried later",
                    false,
                );
            }
            Claim::Claimed => by_topic
                .entry(p.message.topic_id.clone())
                .or_default()
                .push(p),
        }
    }
    by_topic
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::outcome::Summary;
    use rules::trace::envelope::Shape;

    /// A pending pair of item `item`, to `topic`.
    pub(crate) fn pending(item: usize, trace: &str, topic: &str) -> Pending {
        let topic_id = TopicId::parse(topic).unwrap();
        Pending {
            item,
            key: DedupKey {
                trace_id: trace.into(),
                notification_id: "n-1".into(),
            },
            project_id: "p".into(),
            digest: None,
            message: Message {
                topic_id,
                subject: "s".into(),
                message: "{}".into(),
                email: None,
                attributes: Vec::new(),
                notification_id: "n-1".into(),
                trace_id: trace.into(),
            },
        }
    }

    #[test]
    fn a_pair_matched_twice_in_one_input_is_kept_once() {
        let topic = "urn:smn:eu-west-1:p:t";
        let mut summary = Summary::new(Shape::Direct);
        let kept = distinct(
            vec![
                pending(0, "a", topic),
                pending(1, "a", topic),
                pending(2, "b", topic),
            ],
            &mut summary,
        );
        assert_eq!(kept.iter().map(|p| p.item).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(summary.duplicates, 1);
    }
}
