//! The digest log in the rules table, with single-item writes only (no transactions):
//! - `DIGEST_WINDOWS` / `<end ms, 20 digits>#<project>#<rule>#<start ms, 20 digits>`: one window
//!   of a rule with a digest: `alone`, the string set of traces published alone (grown by a
//!   conditional `ADD` that keeps it within `max_messages`), and `seen`; sorted by the window's
//!   end, so that one `Query` finds the windows that ended.
//! - A digested match is its own dedup record (`D#<trace>` / `N#<rule>`), our claim replaced by
//!   `state` `digested` with its window (`dw`), order (`dat`) and the digest's fields (`tn`, `u`,
//!   `rt`, `r`): counted and done in one write, in `BatchWriteItem`s of 25. The sparse index
//!   [`DIGEST_MEMBERS_INDEX`] lists a window's matches; a pair is one item, so however often it
//!   is written it counts once.
//!
//! A window takes matches until [`CLOSE_AFTER_MS`] after its end by the writer's clock, and its
//! members are read after that, longer than a write takes to land.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use ports::{
    is_past, Admission, CallClock, ClosedWindow, DigestLog, StoreError, WindowMatch, CLOSE_AFTER_MS,
};
use rules::digest::{DigestCounts, DigestEntry, Window};

use crate::dedup::{key as pair_key, n, WRITE_BATCH};
use crate::dynamodb_store::{backoff, read_err, s, write_err};
use crate::DynamoDbStore;

/// The index of digested matches by window (`dw`), in the order counted (`dat`).
pub const DIGEST_MEMBERS_INDEX: &str = "digest-members";
const WINDOWS_PK: &str = "DIGEST_WINDOWS";
const ATTEMPTS: u32 = 8;
/// A window's item is kept this long after the window ends, in case no run forgets it.
const KEEP_AFTER_END_SECS: i64 = 7 * 86_400;

/// A rule's window, as the table names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct WindowId {
    project_id: String,
    notification_id: String,
    window: Window,
}

impl WindowId {
    fn of(m: &WindowMatch) -> WindowId {
        WindowId {
            project_id: m.project_id.clone(),
            notification_id: m.key.notification_id.clone(),
            window: m.window,
        }
    }

    fn sort_key(&self) -> String {
        format!(
            "{:020}#{}#{}#{:020}",
            self.window.end_ms, self.project_id, self.notification_id, self.window.start_ms
        )
    }

    fn parse(sk: &str) -> Option<WindowId> {
        let mut parts = sk.split('#');
        let end_ms = parts.next()?.parse().ok()?;
        let project_id = parts.next()?.to_owned();
        let notification_id = parts.next()?.to_owned();
        let start_ms = parts.next()?.parse().ok()?;
        Some(WindowId {
            project_id,
            notification_id,
            window: Window { start_ms, end_ms },
        })
    }

    fn key(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_owned(), s(WINDOWS_PK)),
            ("sk".to_owned(), s(self.sort_key())),
        ])
    }

    fn expires_at(&self) -> AttributeValue {
        n(self.window.end_ms / 1000 + KEEP_AFTER_END_SECS)
    }
}

fn is_condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    e: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    e.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

fn alone_of(item: Option<&HashMap<String, AttributeValue>>) -> HashSet<String> {
    item.and_then(|i| i.get("alone"))
        .and_then(|a| a.as_ss().ok())
        .map(|ids| ids.iter().cloned().collect())
        .unwrap_or_default()
}

impl DynamoDbStore {
    /// The window's traces published alone; creates the window's item, so that the window is
    /// found when it ends, in the same call.
    async fn touch_window(&self, id: &WindowId) -> Result<HashSet<String>, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(id.key()))
            .update_expression("SET expires_at = :exp")
            .expression_attribute_values(":exp", id.expires_at())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(write_err)?;
        Ok(alone_of(out.attributes()))
    }

    /// Adds `trace_ids` to the window's alone set if it stays within `max`; `None` when it
    /// would not (the set as it is now is returned instead).
    async fn take_alone(
        &self,
        id: &WindowId,
        trace_ids: &[String],
        max: u32,
    ) -> Result<Option<HashSet<String>>, StoreError> {
        let room = i64::from(max) - trace_ids.len() as i64;
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(id.key()))
            .update_expression("ADD alone :ids SET expires_at = :exp")
            .condition_expression("attribute_not_exists(alone) OR size(alone) <= :room")
            .expression_attribute_values(":ids", AttributeValue::Ss(trace_ids.to_vec()))
            .expression_attribute_values(":exp", id.expires_at())
            .expression_attribute_values(":room", n(room))
            .send()
            .await;
        match taken {
            Ok(_) => Ok(None),
            Err(e) if is_condition_failed(&e) => self.touch_window(id).await.map(Some),
            Err(e) => Err(write_err(e)),
        }
    }

    /// Records `pairs` as digested into the window, in `BatchWriteItem`s of 25: each pair's
    /// dedup record becomes its membership of the digest. A pair written twice (a retry, or
    /// another invocation whose lease had run out) is still one item, so counted once.
    async fn digest(
        &self,
        id: &WindowId,
        pairs: &[(usize, &WindowMatch)],
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        for chunk in pairs.chunks(WRITE_BATCH) {
            let mut items = Vec::with_capacity(chunk.len());
            for (order, m) in chunk {
                let e = &m.entry;
                let mut item = pair_key(&m.key);
                item.insert("state".into(), s("digested"));
                item.insert("expires_at".into(), n(now_ms / 1000 + ttl_secs));
                item.insert("dw".into(), s(id.sort_key()));
                item.insert(
                    "dat".into(),
                    s(format!("{now_ms:020}#{order:04}#{}", m.key.trace_id)),
                );
                item.insert("tn".into(), s(&e.trace_name));
                item.insert("rt".into(), s(&e.resource_type));
                if let Some(u) = &e.user {
                    item.insert("u".into(), s(u));
                }
                if let Some(r) = &e.trace_rating {
                    item.insert("r".into(), s(r));
                }
                items.push(item);
            }
            self.batch_put(items).await?;
        }
        Ok(())
    }

    /// Decides the pairs of one window.
    async fn admit_window(
        &self,
        id: &WindowId,
        group: &[&WindowMatch],
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<Vec<Admission>, StoreError> {
        let clock = CallClock::new(now_ms);
        let max = group.first().map_or(0, |m| m.max_messages);
        let mut out = vec![Admission::Retry; group.len()];
        let mut alone = self.touch_window(id).await?;
        let mut candidates: Vec<usize> = Vec::new();
        for (i, m) in group.iter().enumerate() {
            if alone.contains(&m.key.trace_id) {
                out[i] = Admission::Alone;
            } else {
                candidates.push(i);
            }
        }
        if is_past(id.window, clock.now_ms()) {
            return Ok(out);
        }
        for attempt in 0..ATTEMPTS {
            let free = (max as usize).saturating_sub(alone.len());
            let take: Vec<usize> = candidates.iter().copied().take(free).collect();
            if take.is_empty() {
                break;
            }
            let ids: Vec<String> = take
                .iter()
                .map(|&i| group[i].key.trace_id.clone())
                .collect();
            match self.take_alone(id, &ids, max).await? {
                None => {
                    for &i in &take {
                        out[i] = Admission::Alone;
                    }
                    candidates.retain(|i| !take.contains(i));
                    break;
                }
                Some(now) => {
                    alone = now;
                    backoff(attempt).await;
                }
            }
        }
        if is_past(id.window, clock.now_ms()) {
            return Ok(out);
        }
        let pairs: Vec<(usize, &WindowMatch)> = candidates.iter().map(|&i| (i, group[i])).collect();
        match self.digest(id, &pairs, now_ms, ttl_secs).await {
            Ok(()) => candidates
                .iter()
                .for_each(|&i| out[i] = Admission::Digested),
            Err(e) => {
                tracing::warn!(error = %e, pairs = pairs.len(), "digest writes failed; their items will be retried")
            }
        }
        Ok(out)
    }

    /// Every counted match of a window, in the order counted.
    async fn members(&self, id: &WindowId) -> Result<DigestCounts, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DIGEST_MEMBERS_INDEX)
            .key_condition_expression("dw = :dw")
            .expression_attribute_values(":dw", s(id.sort_key()))
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut counts = DigestCounts::default();
        for item in items {
            let item = item.map_err(read_err)?;
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            let pk = text("pk").unwrap_or_default();
            counts.add(&DigestEntry {
                trace_id: pk.strip_prefix("D#").unwrap_or(&pk).to_owned(),
                trace_name: text("tn").unwrap_or_default(),
                user: text("u"),
                resource_type: text("rt").unwrap_or_default(),
                trace_rating: text("r"),
            });
        }
        Ok(counts)
    }

    async fn delete_window(&self, id: &WindowId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(id.key()))
            .send()
            .await
            .map_err(write_err)?;
        Ok(())
    }
}

#[async_trait]
impl DigestLog for DynamoDbStore {
    async fn admit(
        &self,
        matches: &[WindowMatch],
        _owner: &str,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<Vec<Admission>, StoreError> {
        let mut groups: BTreeMap<WindowId, Vec<usize>> = BTreeMap::new();
        for (i, m) in matches.iter().enumerate() {
            groups.entry(WindowId::of(m)).or_default().push(i);
        }
        let mut out = vec![Admission::Retry; matches.len()];
        for (id, indexes) in groups {
            let group: Vec<&WindowMatch> = indexes.iter().map(|&i| &matches[i]).collect();
            let decided = self.admit_window(&id, &group, now_ms, ttl_secs).await?;
            for (i, a) in indexes.into_iter().zip(decided) {
                out[i] = a;
            }
        }
        Ok(out)
    }

    async fn close_windows(&self, now_ms: i64) -> Result<Vec<ClosedWindow>, StoreError> {
        let ended_by_ms = now_ms - CLOSE_AFTER_MS;
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk < :upper")
            .expression_attribute_values(":pk", s(WINDOWS_PK))
            .expression_attribute_values(":upper", s(format!("{:020}", ended_by_ms + 1)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut closed = Vec::new();
        for item in items {
            let item = item.map_err(read_err)?;
            let Some(id) = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| WindowId::parse(sk))
            else {
                continue;
            };
            let counts = self.members(&id).await?;
            if counts.matches == 0 {
                // Only published alone: no digest.
                self.delete_window(&id).await?;
                continue;
            }
            closed.push(ClosedWindow {
                project_id: id.project_id,
                notification_id: id.notification_id,
                window: id.window,
                counts,
            });
        }
        Ok(closed)
    }

    async fn forget_window(&self, window: &ClosedWindow) -> Result<(), StoreError> {
        self.delete_window(&WindowId {
            project_id: window.project_id.clone(),
            notification_id: window.notification_id.clone(),
            window: window.window,
        })
        .await
    }
}
