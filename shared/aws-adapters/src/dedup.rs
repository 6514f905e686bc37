//! The dedup log in the rules table: `D#<trace id>` / `N#<notification id>` items whose
//! `expires_at` (epoch seconds) is the table's TTL attribute. Reads go in `BatchGetItem`s of
//! 100 and writes in `BatchWriteItem`s of 25, the most DynamoDB takes; unprocessed keys are
//! retried with backoff.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use ports::{DedupKey, DedupLog, StoreError};

use crate::dynamodb_store::{backoff, read_err, s, write_err};
use crate::DynamoDbStore;

const READ_BATCH: usize = 100;
const WRITE_BATCH: usize = 25;
const ATTEMPTS: u32 = 8;

fn key(k: &DedupKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(format!("D#{}", k.trace_id))),
        ("sk".to_owned(), s(format!("N#{}", k.notification_id))),
    ])
}

/// Each key once: a batch request may not name an item twice.
fn distinct(keys: &[DedupKey]) -> Vec<&DedupKey> {
    let mut unique: Vec<&DedupKey> = keys.iter().collect();
    unique
        .sort_by(|a, b| (&a.trace_id, &a.notification_id).cmp(&(&b.trace_id, &b.notification_id)));
    unique.dedup();
    unique
}

#[async_trait]
impl DedupLog for DynamoDbStore {
    async fn seen(&self, keys: &[DedupKey]) -> Result<Vec<bool>, StoreError> {
        let now_secs = ports::now_ms() / 1000;
        let mut live: std::collections::HashSet<(String, String)> =
            std::collections::HashSet::new();
        let unique = distinct(keys);
        for chunk in unique.chunks(READ_BATCH) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|k| key(k)).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(read_err)?,
            );
            let mut attempt = 0;
            while let Some(keys_and_attributes) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys_and_attributes)
                    .send()
                    .await
                    .map_err(|e| read_err(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let expires = item
                        .get("expires_at")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse::<i64>().ok());
                    if expires.is_none_or(|e| e > now_secs) {
                        let text = |k: &str| {
                            item.get(k)
                                .and_then(|v| v.as_s().ok())
                                .cloned()
                                .unwrap_or_default()
                        };
                        live.insert((text("pk"), text("sk")));
                    }
                }
                request = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .filter(|k| !k.keys().is_empty());
                if request.is_some() {
                    attempt += 1;
                    if attempt >= ATTEMPTS {
                        return Err(read_err("dedup reads stayed unprocessed"));
                    }
                    backoff(attempt).await;
                }
            }
        }
        Ok(keys
            .iter()
            .map(|k| {
                live.contains(&(
                    format!("D#{}", k.trace_id),
                    format!("N#{}", k.notification_id),
                ))
            })
            .collect())
    }

    async fn record(
        &self,
        keys: &[DedupKey],
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let expires_at = AttributeValue::N((now_ms / 1000 + ttl_secs).to_string());
        let unique = distinct(keys);
        for chunk in unique.chunks(WRITE_BATCH) {
            let mut writes = Vec::with_capacity(chunk.len());
            for k in chunk {
                let mut item = key(k);
                item.insert("expires_at".into(), expires_at.clone());
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
                    .map_err(|e| write_err(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
                writes = out
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                if !writes.is_empty() {
                    attempt += 1;
                    if attempt >= ATTEMPTS {
                        return Err(write_err("dedup writes stayed unprocessed"));
                    }
                    backoff(attempt).await;
                }
            }
        }
        Ok(())
    }
}
