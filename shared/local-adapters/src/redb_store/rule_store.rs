//! The notification store: rules and the name claims that keep names unique in a project,
//! each change one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use redb::{Database, ReadableTable};
use rules::limits::MAX_NOTIFICATIONS_PER_PROJECT;
use rules::stored::parse_stored;
use rules::Notification;

use ports::{NotificationStore, StoreError};

use super::keys::{ProjectRange, ScopedKey};
use super::{read_err, write_err, RedbStore, NAMES, RULES};

fn to_json(n: &Notification) -> Result<String, StoreError> {
    serde_json::to_string(n).map_err(write_err)
}

pub(super) fn from_json(s: &str) -> Result<Notification, StoreError> {
    let v: serde_json::Value = serde_json::from_str(s).map_err(read_err)?;
    parse_stored(&v).map_err(read_err)
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
                let range = ProjectRange::new(&n.project_id);
                let used = rules
                    .range(range.start.as_str()..range.end.as_str())
                    .map_err(write_err)?
                    .count();
                if used >= MAX_NOTIFICATIONS_PER_PROJECT {
                    return Err(StoreError::QuotaExceeded(MAX_NOTIFICATIONS_PER_PROJECT));
                }
                let name_key = ScopedKey::new(&n.project_id, &n.notification_name);
                if names.get(name_key.as_str()).map_err(write_err)?.is_some() {
                    return Err(StoreError::NameTaken(n.notification_name.clone()));
                }
                names
                    .insert(name_key.as_str(), n.notification_id.as_str())
                    .map_err(write_err)?;
                let key = ScopedKey::new(&n.project_id, &n.notification_id);
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
                let key = ScopedKey::new(&n.project_id, &n.notification_id);
                let old = match rules.get(key.as_str()).map_err(write_err)? {
                    Some(json) => from_json(json.value())?,
                    None => return Err(StoreError::NotFound(n.notification_id.clone())),
                };
                if old.notification_name != n.notification_name {
                    let new_name = ScopedKey::new(&n.project_id, &n.notification_name);
                    if names.get(new_name.as_str()).map_err(write_err)?.is_some() {
                        return Err(StoreError::NameTaken(n.notification_name.clone()));
                    }
                    names
                        .remove(ScopedKey::new(&n.project_id, &old.notification_name).as_str())
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
                        .remove(ScopedKey::new(&project_id, id).as_str())
                        .map_err(write_err)?;
                    let Some(json) = removed else {
                        // Returning drops the transaction uncommitted: nothing is deleted.
                        return Err(StoreError::NotFound(id.clone()));
                    };
                    let name = from_json(json.value())?.notification_name;
                    names
                        .remove(ScopedKey::new(&project_id, &name).as_str())
                        .map_err(write_err)?;
                }
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn get(&self, project_id: &str, id: &str) -> Result<Option<Notification>, StoreError> {
        let key = ScopedKey::new(project_id, id);
        self.reading(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let rules = txn.open_table(RULES).map_err(read_err)?;
            let found = rules.get(key.as_str()).map_err(read_err)?;
            found.map(|json| from_json(json.value())).transpose()
        })
        .await
    }

    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError> {
        let range = ProjectRange::new(project_id);
        self.reading(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let rules = txn.open_table(RULES).map_err(read_err)?;
            let mut out = Vec::new();
            for entry in rules
                .range(range.start.as_str()..range.end.as_str())
                .map_err(read_err)?
            {
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

/// The topic (or function) of every stored rule that has one, by notification id.
pub(super) fn targets_by_id(db: &Database) -> Result<HashMap<String, String>, StoreError> {
    let txn = db.begin_read().map_err(read_err)?;
    let rules = txn.open_table(RULES).map_err(read_err)?;
    let mut out = HashMap::new();
    for entry in rules.iter().map_err(read_err)? {
        let (_, rule) = entry.map_err(read_err)?;
        let n = from_json(rule.value())?;
        if let Some(topic) = n.topic_id {
            out.insert(n.notification_id, topic.as_str().to_owned());
        }
    }
    Ok(out)
}
