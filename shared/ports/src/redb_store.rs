//! The embedded store of the local run: one redb file holding rules, name claims and dedup
//! records. redb runs one write transaction at a time, so every invariant is checked and
//! written in a single transaction.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableTable, TableDefinition};
use rules::body::{parse_stored, MAX_NOTIFICATIONS_PER_PROJECT};
use rules::Notification;

use crate::{scoped_key, DedupKey, DedupLog, NotificationStore, StoreError};

/// (project NUL id) → the rule as the API shows it.
const RULES: TableDefinition<&str, &str> = TableDefinition::new("notifications");
/// (project NUL name) → id: the claim that keeps names unique.
const NAMES: TableDefinition<&str, &str> = TableDefinition::new("notification_names");
/// (trace id NUL notification id) → expiry, epoch ms.
const DEDUP: TableDefinition<&str, i64> = TableDefinition::new("published");

/// Notification store and dedup log in one embedded database file.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
}

fn write_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Write(e.to_string())
}

fn read_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Read(e.to_string())
}

impl RedbStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(write_err)?;
        let txn = db.begin_write().map_err(write_err)?;
        for table in [RULES, NAMES] {
            txn.open_table(table).map_err(write_err)?;
        }
        txn.open_table(DEDUP).map_err(write_err)?;
        txn.commit().map_err(write_err)?;
        Ok(RedbStore { db: Arc::new(db) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| StoreError::Write(format!("storage task failed: {e}")))?
    }
}

fn to_json(n: &Notification) -> Result<String, StoreError> {
    serde_json::to_string(n).map_err(write_err)
}

fn from_json(s: &str) -> Result<Notification, StoreError> {
    let v: serde_json::Value = serde_json::from_str(s).map_err(read_err)?;
    parse_stored(&v).map_err(read_err)
}

/// Keys of one project: `project NUL ...` sorts between these two.
fn project_range(project_id: &str) -> (String, String) {
    (format!("{project_id}\u{0}"), format!("{project_id}\u{1}"))
}

#[async_trait]
impl NotificationStore for RedbStore {
    async fn create(&self, notification: &Notification) -> Result<(), StoreError> {
        let n = notification.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut rules = txn.open_table(RULES).map_err(write_err)?;
                let mut names = txn.open_table(NAMES).map_err(write_err)?;
                let (from, to) = project_range(&n.project_id);
                let used = rules
                    .range(from.as_str()..to.as_str())
                    .map_err(write_err)?
                    .count();
                if used >= MAX_NOTIFICATIONS_PER_PROJECT {
                    return Err(StoreError::QuotaExceeded(MAX_NOTIFICATIONS_PER_PROJECT));
                }
                let name_key = scoped_key(&n.project_id, &n.notification_name);
                if names.get(name_key.as_str()).map_err(write_err)?.is_some() {
                    return Err(StoreError::NameTaken(n.notification_name.clone()));
                }
                names
                    .insert(name_key.as_str(), n.notification_id.as_str())
                    .map_err(write_err)?;
                let key = scoped_key(&n.project_id, &n.notification_id);
                rules
                    .insert(key.as_str(), to_json(&n)?.as_str())
                    .map_err(write_err)?;
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn update(&self, notification: &Notification) -> Result<(), StoreError> {
        let n = notification.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut rules = txn.open_table(RULES).map_err(write_err)?;
                let mut names = txn.open_table(NAMES).map_err(write_err)?;
                let key = scoped_key(&n.project_id, &n.notification_id);
                let old = match rules.get(key.as_str()).map_err(write_err)? {
                    Some(json) => from_json(json.value())?,
                    None => return Err(StoreError::NotFound(n.notification_id.clone())),
                };
                if old.notification_name != n.notification_name {
                    let new_name = scoped_key(&n.project_id, &n.notification_name);
                    if names.get(new_name.as_str()).map_err(write_err)?.is_some() {
                        return Err(StoreError::NameTaken(n.notification_name.clone()));
                    }
                    names
                        .remove(scoped_key(&n.project_id, &old.notification_name).as_str())
                        .map_err(write_err)?;
                    names
                        .insert(new_name.as_str(), n.notification_id.as_str())
                        .map_err(write_err)?;
                }
                rules
                    .insert(key.as_str(), to_json(&n)?.as_str())
                    .map_err(write_err)?;
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn delete(&self, project_id: &str, ids: &[String]) -> Result<(), StoreError> {
        let (project_id, ids) = (project_id.to_owned(), ids.to_vec());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut rules = txn.open_table(RULES).map_err(write_err)?;
                let mut names = txn.open_table(NAMES).map_err(write_err)?;
                for id in &ids {
                    let removed = rules
                        .remove(scoped_key(&project_id, id).as_str())
                        .map_err(write_err)?;
                    let Some(json) = removed else {
                        // Returning drops the transaction uncommitted: nothing is deleted.
                        return Err(StoreError::NotFound(id.clone()));
                    };
                    let name = from_json(json.value())?.notification_name;
                    names
                        .remove(scoped_key(&project_id, &name).as_str())
                        .map_err(write_err)?;
                }
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn get(&self, project_id: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        let key = scoped_key(project_id, id);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let rules = txn.open_table(RULES).map_err(read_err)?;
            let found = rules.get(key.as_str()).map_err(read_err)?;
            found.map(|json| from_json(json.value())).transpose()
        })
        .await
    }

    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError> {
        let (from, to) = project_range(project_id);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let rules = txn.open_table(RULES).map_err(read_err)?;
            let mut out = Vec::new();
            for entry in rules.range(from.as_str()..to.as_str()).map_err(read_err)? {
                let (_, json) = entry.map_err(read_err)?;
                out.push(from_json(json.value())?);
            }
            out.sort_by(|a, b| {
                (a.create_time, &a.notification_id).cmp(&(b.create_time, &b.notification_id))
            });
            Ok(out)
        })
        .await
    }
}

fn dedup_key(k: &DedupKey) -> String {
    format!("{}\u{0}{}", k.trace_id, k.notification_id)
}

#[async_trait]
impl DedupLog for RedbStore {
    async fn seen(&self, keys: &[DedupKey]) -> Result<Vec<bool>, StoreError> {
        let keys: Vec<String> = keys.iter().map(dedup_key).collect();
        let now_ms = crate::now_ms();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let table = txn.open_table(DEDUP).map_err(read_err)?;
            keys.iter()
                .map(|k| {
                    let expires = table.get(k.as_str()).map_err(read_err)?.map(|e| e.value());
                    Ok(expires.is_some_and(|e| e > now_ms))
                })
                .collect()
        })
        .await
    }

    async fn record(
        &self,
        keys: &[DedupKey],
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let keys: Vec<String> = keys.iter().map(dedup_key).collect();
        let expires = now_ms + ttl_secs * 1000;
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut table = txn.open_table(DEDUP).map_err(write_err)?;
                for k in &keys {
                    table.insert(k.as_str(), expires).map_err(write_err)?;
                }
            }
            txn.commit().map_err(write_err)
        })
        .await
    }
}
