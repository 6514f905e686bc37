//! After a stop: the claims a killed process left open, settled against what its topic and
//! functions files show went out, before this process serves.

use std::collections::{HashMap, HashSet};

use redb::{Database, ReadableTable, ReadableTableMetadata};

use ports::{DedupKey, StoreError};

use super::keys::PairKey;
use super::{read_err, write_err, RedbStore, CLAIMS, DEDUP};

impl RedbStore {
    /// The pairs claimed and not yet marked published or released: after a crash, those whose
    /// messages may or may not have gone out.
    pub fn open_claims(&self) -> Result<Vec<DedupKey>, StoreError> {
        self.file.with(open_claims, StoreError::Read)
    }

    /// How many published pairs are remembered (expired ones go as later pairs are marked).
    pub fn remembered(&self) -> Result<usize, StoreError> {
        self.file.with(
            |db| {
                let txn = db.begin_read().map_err(read_err)?;
                let published = txn.open_table(DEDUP).map_err(read_err)?;
                Ok(published.len().map_err(read_err)? as usize)
            },
            StoreError::Read,
        )
    }

    /// The topic (or function) of every stored rule that has one, by notification id: what a
    /// pair's message went to, when only its ids are known.
    pub fn targets_by_id(&self) -> Result<HashMap<String, String>, StoreError> {
        self.file
            .with(super::rule_store::targets_by_id, StoreError::Read)
    }

    /// Settles the claims a stopped process left open, before this one serves: those whose
    /// message is in the topic (`sent`) are marked published, the others dropped, so that a
    /// resend publishes each pair once. Only one process opens the file, so no open claim is
    /// another live process's.
    pub fn settle_open_claims(
        &self,
        sent: &HashSet<DedupKey>,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        self.file.with(
            |db| settle_open_claims(db, sent, now_ms, ttl_secs),
            StoreError::Write,
        )
    }
}

fn open_claims(db: &Database) -> Result<Vec<DedupKey>, StoreError> {
    let txn = db.begin_read().map_err(read_err)?;
    let claims = txn.open_table(CLAIMS).map_err(read_err)?;
    let mut out = Vec::new();
    for entry in claims.iter().map_err(read_err)? {
        let (key, _) = entry.map_err(read_err)?;
        out.extend(PairKey::parse(key.value()));
    }
    Ok(out)
}

fn settle_open_claims(
    db: &Database,
    sent: &HashSet<DedupKey>,
    now_ms: i64,
    ttl_secs: i64,
) -> Result<(), StoreError> {
    let open = open_claims(db)?;
    let txn = db.begin_write().map_err(write_err)?;
    {
        let mut published = txn.open_table(DEDUP).map_err(write_err)?;
        let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
        for k in &open {
            let key = PairKey::new(k);
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
