//! The digest step, between claiming and publishing: of the claimed pairs of rules that limit
//! their messages, those past their window's first `max_messages` traces are counted into the
//! window's digest (and so done) instead of published. Rules without a digest pass untouched.

use std::collections::BTreeMap;

use ports::{now_ms, Admission, DedupKey, DigestLog, WindowMatch};
use rules::TopicId;

use crate::claim::Pending;
use crate::outcome::{Failures, Summary};

/// The pairs to publish, by topic; the pairs counted into digests; and the claims to give up
/// (pairs left for a retry).
pub(crate) struct Limited {
    pub(crate) by_topic: BTreeMap<TopicId, Vec<Pending>>,
    pub(crate) digested: Vec<DedupKey>,
    pub(crate) released: Vec<DedupKey>,
}

pub(crate) async fn limit(
    digests: &dyn DigestLog,
    by_topic: BTreeMap<TopicId, Vec<Pending>>,
    owner: &str,
    ttl_secs: i64,
    summary: &mut Summary,
    failures: &mut Failures<'_>,
) -> Limited {
    let now = now_ms();
    let mut out = Limited {
        by_topic: BTreeMap::new(),
        digested: Vec::new(),
        released: Vec::new(),
    };
    let mut limited = Vec::new();
    for (topic, group) in by_topic {
        let (with_digest, alone): (Vec<Pending>, Vec<Pending>) =
            group.into_iter().partition(|p| p.digest.is_some());
        if !alone.is_empty() {
            out.by_topic.insert(topic, alone);
        }
        limited.extend(with_digest);
    }
    if limited.is_empty() {
        return out;
    }
    let matches: Vec<WindowMatch> = limited
        .iter()
        .filter_map(|p| {
            let (digest, entry) = p.digest.as_ref()?;
            Some(WindowMatch {
                key: p.key.clone(),
                project_id: p.project_id.clone(),
                window: digest.window(now),
                max_messages: digest.max_messages,
                entry: entry.clone(),
            })
        })
        .collect();
    let admitted = match digests.admit(&matches, owner, now, ttl_secs).await {
        Ok(admitted) => admitted,
        Err(e) => {
            tracing::error!(error = %e, pairs = limited.len(), "cannot count into digests; the items will be retried");
            for p in limited {
                failures.fail(
                    p.item,
                    "the digest log is unavailable; retried later",
                    false,
                );
                out.released.push(p.key);
            }
            return out;
        }
    };
    for (p, admission) in limited.into_iter().zip(admitted) {
        match admission {
            Admission::Alone => out
                .by_topic
                .entry(p.message.topic_id.clone())
                .or_default()
                .push(p),
            Admission::Digested => {
                summary.digested += 1;
                out.digested.push(p.key);
            }
            Admission::Retry => {
                failures.fail(p.item, "its digest window is closing; retried later", false);
                out.released.push(p.key);
            }
        }
    }
    out
}
