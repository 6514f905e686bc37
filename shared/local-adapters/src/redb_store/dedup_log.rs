//! The dedup log: claims with leases, published pairs with their expiry, and the expired
//! forgotten a batch at a time.

use async_trait::async_trait;
use redb::ReadableTable;

use ports::{Claim, DedupKey, DedupLog, StoreError};

use super::keys::{ClaimValue, ExpiryKey, PairKey};
use super::{write_err, RedbStore, CLAIMS, DEDUP, EXPIRIES, PRUNE_BATCH};

/// Forgets up to [`PRUNE_BATCH`] published pairs expired by `now_ms` (a pair marked again
/// since keeps its later expiry).
fn prune(
    published: &mut redb::Table<'_, &str, i64>,
    by_expiry: &mut redb::Table<'_, &str, ()>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let until = ExpiryKey::until(now_ms);
    let expired: Vec<String> = by_expiry
        .range(..until.as_str())
        .map_err(write_err)?
        .take(PRUNE_BATCH)
        .map(|e| e.map(|(k, _)| k.value().to_owned()))
        .collect::<Result<_, _>>()
        .map_err(write_err)?;
    for entry in &expired {
        by_expiry.remove(entry.as_str()).map_err(write_err)?;
        let Some(key) = ExpiryKey::pair(entry) else {
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

/// Records `pair` as published until `expires` (epoch ms), its claim done.
pub(super) fn record_published(
    published: &mut redb::Table<'_, &str, i64>,
    by_expiry: &mut redb::Table<'_, &str, ()>,
    claims: &mut redb::Table<'_, &str, &str>,
    pair: &PairKey,
    expires: i64,
) -> Result<(), StoreError> {
    published
        .insert(pair.as_str(), expires)
        .map_err(write_err)?;
    by_expiry
        .insert(ExpiryKey::new(expires, pair).as_str(), ())
        .map_err(write_err)?;
    claims.remove(pair.as_str()).map_err(write_err)?;
    Ok(())
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
        let keys: Vec<PairKey> = keys.iter().map(PairKey::new).collect();
        let claim = ClaimValue::new(now_ms + lease_ms, owner);
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
                        .is_some_and(|c| ClaimValue::parse(c.value()).0 > now_ms);
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
        let keys: Vec<PairKey> = keys.iter().map(PairKey::new).collect();
        let expires = now_ms + ttl_secs * 1000;
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut published = txn.open_table(DEDUP).map_err(write_err)?;
                let mut by_expiry = txn.open_table(EXPIRIES).map_err(write_err)?;
                let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
                for k in &keys {
                    record_published(&mut published, &mut by_expiry, &mut claims, k, expires)?;
                }
                prune(&mut published, &mut by_expiry, now_ms)?;
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn release(&self, keys: &[DedupKey], owner: &str) -> Result<(), StoreError> {
        let keys: Vec<PairKey> = keys.iter().map(PairKey::new).collect();
        let owner = owner.to_owned();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
                for k in &keys {
                    let ours = claims
                        .get(k.as_str())
                        .map_err(write_err)?
                        .is_some_and(|c| ClaimValue::parse(c.value()).1 == owner);
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
