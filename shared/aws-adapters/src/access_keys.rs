//! Access keys in the rules table, for AK/SK signatures on the deployed API:
//! - `K#<access key>` / `KEY`: `secret_key`, `project_id`, `created_at` (epoch ms);
//! - `P#<project>` / `KEYS`: `access_keys`, a map access key → `created_at`: a project's active
//!   keys, at most [`MAX_ACTIVE_KEYS`] (two: rotation is create the new key, move clients, revoke
//!   the old one).
//!
//! Both items change in one transaction. Secrets are never logged; the table is encrypted at
//! rest.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use ports::{now_ms, AccessKey, AccessKeys, StoreError};

use crate::dynamodb_store::{read_err, s, write_err, Outcome};
use crate::DynamoDbStore;

/// Most active keys a project may hold at once.
pub const MAX_ACTIVE_KEYS: usize = 2;

/// Why an access key could not be created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeyAdminError {
    #[error("project {0} already has {MAX_ACTIVE_KEYS} active access keys: revoke one first")]
    TooManyKeys(String),
    #[error("no access key {0}")]
    UnknownKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key_item_key(access_key: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), s(format!("K#{access_key}"))),
        ("sk".into(), s("KEY")),
    ])
}

fn project_keys_key(project_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".into(), s(format!("P#{project_id}"))),
        ("sk".into(), s("KEYS")),
    ])
}

/// `n` characters drawn uniformly from `alphabet` (at most 256 long) with the OS's randomness.
fn random_text(n: usize, alphabet: &[u8]) -> Result<String, StoreError> {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf)
            .map_err(|e| StoreError::Write(format!("no randomness: {e}").into()))?;
        for b in buf.iter().map(|b| usize::from(*b)).filter(|b| *b < limit) {
            if out.len() < n {
                out.push(alphabet[b % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}

/// A new key for `project_id`: a 20-character access key and a 40-character secret, as the
/// Huawei clouds issue them.
pub fn generate_key(project_id: &str) -> Result<AccessKey, StoreError> {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Ok(AccessKey {
        access_key: random_text(20, UPPER)?,
        secret_key: random_text(40, ALNUM)?,
        project_id: project_id.to_owned(),
    })
}

impl DynamoDbStore {
    /// Stores a new active key for its project, unless the project already has
    /// [`MAX_ACTIVE_KEYS`].
    pub async fn add_access_key(&self, key: &AccessKey) -> Result<(), KeyAdminError> {
        let created = AttributeValue::N(now_ms().to_string());
        let mut ensure = project_keys_key(&key.project_id);
        ensure.insert("access_keys".into(), AttributeValue::M(HashMap::new()));
        self.put_if_absent(ensure).await?;
        let claim = Update::builder()
            .table_name(&self.table)
            .set_key(Some(project_keys_key(&key.project_id)))
            .update_expression("SET access_keys.#k = :created")
            .condition_expression("size(access_keys) < :max")
            .expression_attribute_names("#k", &key.access_key)
            .expression_attribute_values(":created", created.clone())
            .expression_attribute_values(":max", AttributeValue::N(MAX_ACTIVE_KEYS.to_string()))
            .build()
            .map_err(write_err)?;
        let mut item = key_item_key(&key.access_key);
        item.insert("secret_key".into(), s(&key.secret_key));
        item.insert("project_id".into(), s(&key.project_id));
        item.insert("created_at".into(), created);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(write_err)?;
        let items = vec![
            TransactWriteItem::builder().update(claim).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        match self.transact(items).await? {
            Outcome::Committed => Ok(()),
            Outcome::ConditionsFailed => Err(KeyAdminError::TooManyKeys(key.project_id.clone())),
            Outcome::Conflict => Err(StoreError::Write(
                "a concurrent change of the project's keys; try again".into(),
            )
            .into()),
        }
    }

    /// Revokes a key: signatures made with it are refused once the API's key cache has
    /// forgotten it.
    pub async fn revoke_access_key(&self, access_key: &str) -> Result<(), KeyAdminError> {
        let key = self
            .find(access_key)
            .await?
            .ok_or_else(|| KeyAdminError::UnknownKey(access_key.to_owned()))?;
        let unclaim = Update::builder()
            .table_name(&self.table)
            .set_key(Some(project_keys_key(&key.project_id)))
            .update_expression("REMOVE access_keys.#k")
            .expression_attribute_names("#k", access_key)
            .build()
            .map_err(write_err)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item_key(access_key)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(write_err)?;
        let items = vec![
            TransactWriteItem::builder().update(unclaim).build(),
            TransactWriteItem::builder().delete(delete).build(),
        ];
        match self.transact(items).await? {
            Outcome::Committed => Ok(()),
            Outcome::ConditionsFailed => Err(KeyAdminError::UnknownKey(access_key.to_owned())),
            Outcome::Conflict => Err(StoreError::Write(
                "a concurrent change of the project's keys; try again".into(),
            )
            .into()),
        }
    }

    /// A project's active access keys (ids only) with their creation times.
    pub async fn list_access_keys(
        &self,
        project_id: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(project_keys_key(project_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(read_err)?;
        let mut keys: Vec<(String, i64)> = out
            .item()
            .and_then(|i| i.get("access_keys"))
            .and_then(|m| m.as_m().ok())
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_n().ok().and_then(|n| n.parse().ok()).unwrap_or(0),
                )
            })
            .collect();
        keys.sort_by_key(|(_, created)| *created);
        Ok(keys)
    }
}

#[async_trait]
impl AccessKeys for DynamoDbStore {
    async fn find(&self, access_key: &str) -> Result<Option<AccessKey>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item_key(access_key)))
            .send()
            .await
            .map_err(read_err)?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let text = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .ok_or_else(|| StoreError::Read(format!("access key item without {k}").into()))
        };
        Ok(Some(AccessKey {
            access_key: access_key.to_owned(),
            secret_key: text("secret_key")?,
            project_id: text("project_id")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_huawei_shape_and_differ() {
        let a = generate_key("p").unwrap();
        let b = generate_key("p").unwrap();
        assert_eq!((a.access_key.len(), a.secret_key.len()), (20, 40));
        assert!(ports::is_access_key(&a.access_key));
        assert!(a.secret_key.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.access_key, b.access_key);
        assert_ne!(a.secret_key, b.secret_key);
    }
}
