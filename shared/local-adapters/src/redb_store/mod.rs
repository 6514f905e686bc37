//! The embedded store of the local run: one redb file holding rules, name claims and dedup
//! records. redb runs one write transaction at a time, so every invariant is checked and
//! written in a single transaction. This module opens the file and reopens it after an I/O
//! error; [`rule_store`] is the notification store, [`dedup_log`] the dedup log,
//! [`digest_log`] the digests' windows, [`activity_log`] each rule's activity,
//! [`recovery`] what a restart settles, [`keys`] the typed keys of all of them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use redb::{Database, TableDefinition};

use ports::{Cause, StoreError};

mod activity_log;
mod dedup_log;
mod digest_log;
mod keys;
mod recovery;
mod rule_store;

/// [`keys::ScopedKey`] (project, id) → the rule as the API shows it.
const RULES: TableDefinition<'_, &str, &str> = TableDefinition::new("notifications");
/// [`keys::ScopedKey`] (project, name) → id: the claim that keeps names unique.
const NAMES: TableDefinition<'_, &str, &str> = TableDefinition::new("notification_names");
/// [`keys::PairKey`] → expiry, epoch ms: published pairs.
const DEDUP: TableDefinition<'_, &str, i64> = TableDefinition::new("published");
/// [`keys::ExpiryKey`] → (): published pairs by expiry, so that forgetting the expired costs
/// what they are, not what the table holds.
const EXPIRIES: TableDefinition<'_, &str, ()> = TableDefinition::new("published_by_expiry");
/// Expired pairs forgotten at most per mark, so that no write grows long.
const PRUNE_BATCH: usize = 1000;
/// [`keys::PairKey`] → [`keys::ClaimValue`] (lease end, owner): pairs being published.
const CLAIMS: TableDefinition<'_, &str, &str> = TableDefinition::new("claims");
/// [`keys::WindowKey`] (rule, window) → what the window holds: the traces published alone,
/// the digest's counts, whether it is closed (JSON).
const WINDOWS: TableDefinition<'_, &str, &str> = TableDefinition::new("digest_windows");
/// [`keys::HourKey`] (rule, hour) → the hour's counts and last match (JSON).
const ACTIVITY: TableDefinition<'_, &str, &str> = TableDefinition::new("activity");

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
        failed: fn(Cause) -> StoreError,
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

pub(super) fn write_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Write(Cause::new(e))
}

pub(super) fn read_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Read(Cause::new(e))
}

impl RedbStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let db = Database::create(&path).map_err(write_err)?;
        let txn = db.begin_write().map_err(write_err)?;
        for table in [RULES, NAMES, CLAIMS, WINDOWS, ACTIVITY] {
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
        self.off_thread(f, StoreError::Write).await
    }

    /// Runs a read's work off the async threads; its failures are read failures.
    async fn reading<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.off_thread(f, StoreError::Read).await
    }

    async fn off_thread<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
        failed: fn(Cause) -> StoreError,
    ) -> Result<T, StoreError> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || file.with(f, failed))
            .await
            .map_err(|e| failed(Cause::new(e)))?
    }
}
