//! The dedup log in the rules table: `D#<trace id>` / `N#<notification id>` items with `state`
//! `claimed` (with `owner` and `lease_until_ms`) or `published`, and `expires_at` (epoch
//! seconds, the table's TTL attribute). A pair is claimed by a conditional `PutItem` (absent,
//! expired, or a claim whose lease ran out), published, then marked published in
//! `BatchWriteItem`s of 25; a publish that failed releases its claim with a conditional
//! `DeleteItem`. Items written before claims existed have no `state`: they count as published.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use ports::{Claim, DedupKey, DedupLog, StoreError};

use crate::dynamodb_store::{backoff, read_err, s, write_err};
use crate::DynamoDbStore;

pub(crate) const WRITE_BATCH: usize = 25;
const ATTEMPTS: u32 = 8;
/// Claims and releases in flight at once: one conditional write per pair.
const CONCURRENT_WRITES: usize = 16;

pub(crate) fn key(k: &DedupKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(format!("D#{}", k.trace_id))),
        ("sk".to_owned(), s(format!("N#{}", k.notification_id))),
    ])
}

pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Each key once: a batch request may not name an item twice.
fn distinct(keys: &[DedupKey]) -> Vec<&DedupKey> {
    let mut unique: Vec<&DedupKey> = keys.iter().collect();
    unique
        .sort_by(|a, b| (&a.trace_id, &a.notification_id).cmp(&(&b.trace_id, &b.notification_id)));
    unique.dedup();
    unique
}

impl DynamoDbStore {
    /// Puts every item (at most 25), again and again while some stay unprocessed.
    pub(crate) async fn batch_put(
        &self,
        items: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<(), StoreError> {
        let mut writes = Vec::with_capacity(items.len());
        for item in items {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(write_err)?;
            writes.push(WriteRequest::builder().put_request(put).build());
        }
        let mut attempt = 0;
        while !writes.is_empty() {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, writes)
                .send()
                .await
                .map_err(write_err)?;
            writes = out
                .unprocessed_items()
                .and_then(|u| u.get(&self.table))
                .cloned()
                .unwrap_or_default();
            if !writes.is_empty() {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(StoreError::Write("batch writes stayed unprocessed".into()));
                }
                backoff(attempt).await;
            }
        }
        Ok(())
    }

    async fn claim_one(
        &self,
        k: &DedupKey,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Claim, StoreError> {
        let until = now_ms + lease_ms;
        let mut item = key(k);
        item.insert("state".into(), s("claimed"));
        item.insert("owner".into(), s(owner));
        item.insert("lease_until_ms".into(), n(until));
        // Swept by TTL if the claimant never comes back.
        item.insert("expires_at".into(), n(until / 1000 + 1));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now_s OR (#state = :claimed AND lease_until_ms < :now_ms)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now_s", n(now_ms / 1000))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":claimed", s("claimed"))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Claimed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                self.existing_claim(k, owner).await
            }
            Err(e) => Err(write_err(e)),
        }
    }

    async fn release_one(&self, k: &DedupKey, owner: &str) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(k)))
            .condition_expression("#state = :claimed AND #owner = :owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(write_err(e)),
        }
    }

    /// What holds a pair that could not be claimed.
    async fn existing_claim(&self, k: &DedupKey, owner: &str) -> Result<Claim, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k)))
            .consistent_read(true)
            .send()
            .await
            .map_err(read_err)?;
        let text = |name: &str| {
            out.item()
                .and_then(|i| i.get(name))
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
        };
        Ok(match (out.item(), text("state")) {
            // Released or swept since the write failed: another try will tell.
            (None, _) => Claim::Busy,
            // Our own claim: a retried write whose first attempt had landed.
            (Some(_), Some("claimed")) if text("owner") == Some(owner) => Claim::Claimed,
            (Some(_), Some("claimed")) => Claim::Busy,
            (Some(_), _) => Claim::Published,
        })
    }
}

#[async_trait]
impl DedupLog for DynamoDbStore {
    async fn claim(
        &self,
        keys: &[DedupKey],
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<Claim>, StoreError> {
        // A key named twice is claimed once: its second place finds it busy.
        let unique = distinct(keys);
        let writes: Vec<_> = unique
            .iter()
            .map(|k| self.claim_one(k, owner, now_ms, lease_ms))
            .collect();
        let found: Vec<Result<Claim, StoreError>> = stream::iter(writes)
            .buffered(CONCURRENT_WRITES)
            .collect()
            .await;
        // A pair whose claim failed is left for a retry; the others go on.
        let claims: HashMap<&DedupKey, Claim> = unique
            .into_iter()
            .zip(found)
            .map(|(k, r)| {
                (
                    k,
                    r.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "a claim failed; its item will be retried");
                        Claim::Unavailable
                    }),
                )
            })
            .collect();
        let mut first = std::collections::HashSet::new();
        Ok(keys
            .iter()
            .map(|k| match claims[k] {
                Claim::Claimed if !first.insert(k) => Claim::Busy,
                c => c,
            })
            .collect())
    }

    async fn mark_published(
        &self,
        keys: &[DedupKey],
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let expires_at = n(now_ms / 1000 + ttl_secs);
        for chunk in distinct(keys).chunks(WRITE_BATCH) {
            let mut items = Vec::with_capacity(chunk.len());
            for k in chunk {
                let mut item = key(k);
                item.insert("state".into(), s("published"));
                item.insert("expires_at".into(), expires_at.clone());
                items.push(item);
            }
            self.batch_put(items).await?;
        }
        Ok(())
    }

    async fn release(&self, keys: &[DedupKey], owner: &str) -> Result<(), StoreError> {
        let deletes: Vec<_> = distinct(keys)
            .into_iter()
            .map(|k| self.release_one(k, owner))
            .collect();
        stream::iter(deletes)
            .buffer_unordered(CONCURRENT_WRITES)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }
}
