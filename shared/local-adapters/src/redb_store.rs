//! The embedded store of the local run: one redb file holding rules, name claims and dedup
//! records. redb runs one write transaction at a time, so every invariant is checked and
//! written in a single transaction.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use rules::limits::MAX_NOTIFICATIONS_PER_PROJECT;
use rules::stored::parse_stored;
use rules::Notification;

use ports::{Claim, DedupKey, DedupLog, NotificationStore, StoreError};

use crate::scoped_key;

/// (project NUL id) → the rule as the API shows it.
const RULES: TableDefinition<'_, &str, &str> = TableDefinition::new("notifications");
/// (project NUL name) → id: the claim that keeps names unique.
const NAMES: TableDefinition<'_, &str, &str> = TableDefinition::new("notification_names");
/// (trace id NUL notification id) → expiry, epoch ms: published pairs.
const DEDUP: TableDefinition<'_, &str, i64> = TableDefinition::new("published");
/// (expiry as 20 digits NUL trace id NUL notification id) → (): published pairs by expiry, so
/// that forgetting the expired costs what they are, not what the table holds.
const EXPIRIES: TableDefinition<'_, &str, ()> = TableDefinition::new("published_by_expiry");
/// Expired pairs forgotten at most per mark, so that no write grows long.
const PRUNE_BATCH: usize = 1000;
/// (trace id NUL notification id) → `<lease end, epoch ms> <owner>`: pairs being published.
const CLAIMS: TableDefinition<'_, &str, &str> = TableDefinition::new("claims");

/// Notification store and dedup log in one embedded database file.
#[derive(Debug, Clone)]
pub struct RedbStore {
    file: Arc<File>,
}

/// The open database, and where it lives: after a failed write (a full disk, say) redb
/// refuses every transaction until the file is opened again, which [`File::recover`] does.
#[derive(Debug)]
struct File {
    path: PathBuf,
    db: RwLock<Option<Database>>,
}

impl File {
    /// Runs `f` on the database (`failed` makes its error when there is none).
    fn with<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError>,
        failed: fn(String) -> StoreError,
    ) -> Result<T, StoreError> {
        let result = {
            let db = self.db.read().unwrap_or_else(|e| e.into_inner());
            match db.as_ref() {
                Some(db) => f(db),
                None => Err(failed(
                    "the database could not be opened again after an I/O error".into(),
                )),
            }
        };
        // Only a storage failure can have left the database refusing transactions.
        if matches!(result, Err(StoreError::Write(_) | StoreError::Read(_))) {
            self.recover();
        }
        result
    }

    /// Opens the file again if the last I/O error left the database refusing transactions
    /// (or closed), so that writes resume as soon as the disk takes them.
    fn recover(&self) {
        let poisoned = match self.db.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
            None => true,
            Some(db) => matches!(
                db.begin_write(),
                Err(redb::TransactionError::Storage(
                    redb::StorageError::PreviousIo
                ))
            ),
        };
        if !poisoned {
            return;
        }
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        // Closed first: one process may hold the file open once.
        *db = None;
        match Database::create(&self.path) {
            Ok(reopened) => {
                tracing::warn!(path = %self.path.display(), "reopened the database after an I/O error");
                *db = Some(reopened);
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "cannot reopen the database; trying again at the next call");
            }
        }
    }
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
        let path = path.as_ref().to_owned();
        let db = Database::create(&path).map_err(write_err)?;
        let txn = db.begin_write().map_err(write_err)?;
        for table in [RULES, NAMES, CLAIMS] {
            txn.open_table(table).map_err(write_err)?;
        }
        txn.open_table(DEDUP).map_err(write_err)?;
        txn.open_table(EXPIRIES).map_err(write_err)?;
        txn.commit().map_err(write_err)?;
        Ok(RedbStore {
            file: Arc::new(File {
                path,
                db: RwLock::new(Some(db)),
            }),
        })
    }

    /// Runs a write transaction's work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.off_thread(f, write_err).await
    }

    /// Runs a read's work off the async threads; its failures are read failures.
    async fn reading<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.off_thread(f, read_err).await
    }

    async fn off_thread<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
        failed: fn(String) -> StoreError,
    ) -> Result<T, StoreError> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || file.with(f, failed))
            .await
            .map_err(|e| failed(format!("storage task failed: {e}")))?
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
        self.reading(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let rules = txn.open_table(RULES).map_err(read_err)?;
            let found = rules.get(key.as_str()).map_err(read_err)?;
            found.map(|json| from_json(json.value())).transpose()
        })
        .await
    }

    async fn list(&self, project_id: &str) -> Result<Vec<Notification>, StoreError> {
        let (from, to) = project_range(project_id);
        self.reading(move |db| {
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

/// A claim's lease end and owner.
fn parse_claim(value: &str) -> (i64, &str) {
    let (until, owner) = value.split_once(' ').unwrap_or((value, ""));
    (until.parse().unwrap_or(0), owner)
}

impl RedbStore {
    /// The pairs claimed and not yet marked published or released: after a crash, those whose
    /// messages may or may not have gone out.
    pub fn open_claims(&self) -> Result<Vec<DedupKey>, StoreError> {
        self.file.with(open_claims, read_err)
    }

    /// How many published pairs are remembered (expired ones go as later pairs are marked).
    pub fn remembered(&self) -> Result<usize, StoreError> {
        self.file.with(
            |db| {
                let txn = db.begin_read().map_err(read_err)?;
                let published = txn.open_table(DEDUP).map_err(read_err)?;
                Ok(published.len().map_err(read_err)? as usize)
            },
            read_err,
        )
    }

    /// The topic (or function) of every stored rule that has one, by notification id: what a
    /// pair's message went to, when only its ids are known.
    pub fn targets_by_id(&self) -> Result<std::collections::HashMap<String, String>, StoreError> {
        self.file.with(targets_by_id, read_err)
    }

    /// Settles the claims a stopped process left open, before this one serves: those whose
    /// message is in the topic (`sent`) are marked published, the others dropped, so that a
    /// resend publishes each pair once. Only one process opens the file, so no open claim is
    /// another live process's.
    pub fn settle_open_claims(
        &self,
        sent: &std::collections::HashSet<DedupKey>,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        self.file.with(
            |db| settle_open_claims(db, sent, now_ms, ttl_secs),
            write_err,
        )
    }
}

fn expiry_key(expires: i64, key: &str) -> String {
    format!("{:020}\u{0}{key}", expires.max(0))
}

/// Forgets up to [`PRUNE_BATCH`] published pairs expired by `now_ms` (a pair marked again
/// since keeps its later expiry).
fn prune(
    published: &mut redb::Table<'_, &str, i64>,
    by_expiry: &mut redb::Table<'_, &str, ()>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let until = format!("{:020}", now_ms.max(0));
    let expired: Vec<String> = by_expiry
        .range(..until.as_str())
        .map_err(write_err)?
        .take(PRUNE_BATCH)
        .map(|e| e.map(|(k, _)| k.value().to_owned()))
        .collect::<Result<_, _>>()
        .map_err(write_err)?;
    for entry in &expired {
        by_expiry.remove(entry.as_str()).map_err(write_err)?;
        let Some((_, key)) = entry.split_once('\u{0}') else {
            continue;
        };
        let still_expired = published
            .get(key)
            .map_err(write_err)?
            .is_some_and(|e| e.value() <= now_ms);
        if still_expired {
            published.remove(key).map_err(write_err)?;
        }
    }
    Ok(())
}

fn open_claims(db: &Database) -> Result<Vec<DedupKey>, StoreError> {
    let txn = db.begin_read().map_err(read_err)?;
    let claims = txn.open_table(CLAIMS).map_err(read_err)?;
    let mut out = Vec::new();
    for entry in claims.iter().map_err(read_err)? {
        let (key, _) = entry.map_err(read_err)?;
        if let Some((trace_id, notification_id)) = key.value().split_once('\u{0}') {
            out.push(DedupKey {
                trace_id: trace_id.to_owned(),
                notification_id: notification_id.to_owned(),
            });
        }
    }
    Ok(out)
}

fn targets_by_id(db: &Database) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let txn = db.begin_read().map_err(read_err)?;
    let rules = txn.open_table(RULES).map_err(read_err)?;
    let mut out = std::collections::HashMap::new();
    for entry in rules.iter().map_err(read_err)? {
        let (_, rule) = entry.map_err(read_err)?;
        let n = from_json(rule.value())?;
        if let Some(topic) = n.topic_id {
            out.insert(n.notification_id, topic.as_str().to_owned());
        }
    }
    Ok(out)
}

fn settle_open_claims(
    db: &Database,
    sent: &std::collections::HashSet<DedupKey>,
    now_ms: i64,
    ttl_secs: i64,
) -> Result<(), StoreError> {
    let open = open_claims(db)?;
    let txn = db.begin_write().map_err(write_err)?;
    {
        let mut published = txn.open_table(DEDUP).map_err(write_err)?;
        let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
        for k in &open {
            let key = dedup_key(k);
            if sent.contains(k) {
                published
                    .insert(key.as_str(), now_ms + ttl_secs * 1000)
                    .map_err(write_err)?;
            }
            claims.remove(key.as_str()).map_err(write_err)?;
        }
    }
    txn.commit().map_err(write_err)
}

#[async_trait]
impl DedupLog for RedbStore {
    async fn claim(
        &self,
        keys: &[DedupKey],
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<Claim>, StoreError> {
        let keys: Vec<String> = keys.iter().map(dedup_key).collect();
        let claim = format!("{} {owner}", now_ms + lease_ms);
        self.blocking(move |db| {
            // One write transaction at a time: the check and the claim are atomic.
            let txn = db.begin_write().map_err(write_err)?;
            let mut out = Vec::with_capacity(keys.len());
            {
                let published = txn.open_table(DEDUP).map_err(write_err)?;
                let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
                for k in &keys {
                    let live = published.get(k.as_str()).map_err(write_err)?;
                    if live.is_some_and(|e| e.value() > now_ms) {
                        out.push(Claim::Published);
                        continue;
                    }
                    let running = claims
                        .get(k.as_str())
                        .map_err(write_err)?
                        .is_some_and(|c| parse_claim(c.value()).0 > now_ms);
                    if running {
                        out.push(Claim::Busy);
                    } else {
                        claims
                            .insert(k.as_str(), claim.as_str())
                            .map_err(write_err)?;
                        out.push(Claim::Claimed);
                    }
                }
            }
            txn.commit().map_err(write_err)?;
            Ok(out)
        })
        .await
    }

    async fn mark_published(
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
                let mut published = txn.open_table(DEDUP).map_err(write_err)?;
                let mut by_expiry = txn.open_table(EXPIRIES).map_err(write_err)?;
                let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
                for k in &keys {
                    published.insert(k.as_str(), expires).map_err(write_err)?;
                    by_expiry
                        .insert(expiry_key(expires, k).as_str(), ())
                        .map_err(write_err)?;
                    claims.remove(k.as_str()).map_err(write_err)?;
                }
                prune(&mut published, &mut by_expiry, now_ms)?;
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn release(&self, keys: &[DedupKey], owner: &str) -> Result<(), StoreError> {
        let keys: Vec<String> = keys.iter().map(dedup_key).collect();
        let owner = owner.to_owned();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
                for k in &keys {
                    let ours = claims
                        .get(k.as_str())
                        .map_err(write_err)?
                        .is_some_and(|c| parse_claim(c.value()).1 == owner);
                    if ours {
                        claims.remove(k.as_str()).map_err(write_err)?;
                    }
                }
            }
            txn.commit().map_err(write_err)
        })
        .await
    }
}
