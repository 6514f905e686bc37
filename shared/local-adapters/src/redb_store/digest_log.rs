//! The digest log: per (rule, window), the traces published alone, the digest's counts and
//! whether the window was returned closed, as one JSON value; a pair is digested (counted, and
//! marked published in the dedup log) in the same write transaction.

use std::collections::btree_map::{BTreeMap, Entry};

use async_trait::async_trait;
use redb::ReadableTable;
use rules::digest::DigestCounts;
use serde::{Deserialize, Serialize};

use ports::{
    is_past, Admission, CallClock, ClosedWindow, DigestLog, StoreError, WindowMatch, CLOSE_AFTER_MS,
};

use super::dedup_log::record_published;
use super::keys::{ClaimValue, PairKey, WindowKey};
use super::{read_err, write_err, RedbStore, CLAIMS, DEDUP, EXPIRIES, WINDOWS};

/// What a window holds so far.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WindowState {
    alone: Vec<String>,
    counts: DigestCounts,
    closed: bool,
}

impl WindowState {
    fn read(value: Option<&str>) -> Result<WindowState, StoreError> {
        value.map_or(Ok(WindowState::default()), |v| {
            serde_json::from_str(v).map_err(read_err)
        })
    }
}

#[async_trait]
impl DigestLog for RedbStore {
    async fn admit(
        &self,
        matches: &[WindowMatch],
        owner: &str,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<Vec<Admission>, StoreError> {
        let matches = matches.to_vec();
        let owner = owner.to_owned();
        let expires = now_ms + ttl_secs * 1000;
        let clock = CallClock::new(now_ms);
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            let mut out = Vec::with_capacity(matches.len());
            {
                let mut windows = txn.open_table(WINDOWS).map_err(write_err)?;
                let mut published = txn.open_table(DEDUP).map_err(write_err)?;
                let mut by_expiry = txn.open_table(EXPIRIES).map_err(write_err)?;
                let mut claims = txn.open_table(CLAIMS).map_err(write_err)?;
                let mut states: BTreeMap<String, WindowState> = BTreeMap::new();
                for m in &matches {
                    let window_key =
                        WindowKey::new(&m.project_id, &m.key.notification_id, m.window);
                    let state = match states.entry(window_key.as_str().to_owned()) {
                        Entry::Occupied(e) => e.into_mut(),
                        Entry::Vacant(e) => {
                            let stored = windows.get(window_key.as_str()).map_err(write_err)?;
                            e.insert(WindowState::read(stored.as_ref().map(|v| v.value()))?)
                        }
                    };
                    let trace_id = &m.key.trace_id;
                    let pair = PairKey::new(&m.key);
                    let ours = claims
                        .get(pair.as_str())
                        .map_err(write_err)?
                        .is_some_and(|c| {
                            let (lease_end, by) = ClaimValue::parse(c.value());
                            by == owner && lease_end > now_ms
                        });
                    let admission = if state.alone.contains(trace_id) {
                        Admission::Alone
                    } else if state.closed || !ours || is_past(m.window, clock.now_ms()) {
                        Admission::Retry
                    } else if state.alone.len() < m.max_messages as usize {
                        state.alone.push(trace_id.clone());
                        Admission::Alone
                    } else {
                        state.counts.add(&m.entry);
                        record_published(
                            &mut published,
                            &mut by_expiry,
                            &mut claims,
                            &pair,
                            expires,
                        )?;
                        Admission::Digested
                    };
                    out.push(admission);
                }
                for (key, state) in states {
                    if state.alone.is_empty() && state.counts.matches == 0 {
                        continue;
                    }
                    let value = serde_json::to_string(&state).map_err(write_err)?;
                    windows
                        .insert(key.as_str(), value.as_str())
                        .map_err(write_err)?;
                }
            }
            txn.commit().map_err(write_err)?;
            Ok(out)
        })
        .await
    }

    async fn close_windows(&self, now_ms: i64) -> Result<Vec<ClosedWindow>, StoreError> {
        let ended_by_ms = now_ms - CLOSE_AFTER_MS;
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            let mut closed = Vec::new();
            {
                let mut windows = txn.open_table(WINDOWS).map_err(write_err)?;
                let ended: Vec<(String, String)> = windows
                    .range(..WindowKey::ending_after(ended_by_ms).as_str())
                    .map_err(write_err)?
                    .map(|e| e.map(|(k, v)| (k.value().to_owned(), v.value().to_owned())))
                    .collect::<Result<_, _>>()
                    .map_err(write_err)?;
                for (key, value) in ended {
                    let mut state = WindowState::read(Some(&value))?;
                    let Some((project_id, notification_id, window)) = WindowKey::parse(&key) else {
                        continue;
                    };
                    // A window that only published alone has no digest to send.
                    if state.counts.matches == 0 {
                        windows.remove(key.as_str()).map_err(write_err)?;
                        continue;
                    }
                    if !state.closed {
                        state.closed = true;
                        let value = serde_json::to_string(&state).map_err(write_err)?;
                        windows
                            .insert(key.as_str(), value.as_str())
                            .map_err(write_err)?;
                    }
                    closed.push(ClosedWindow {
                        project_id,
                        notification_id,
                        window,
                        counts: state.counts,
                    });
                }
            }
            txn.commit().map_err(write_err)?;
            Ok(closed)
        })
        .await
    }

    async fn forget_window(&self, window: &ClosedWindow) -> Result<(), StoreError> {
        let key = WindowKey::new(&window.project_id, &window.notification_id, window.window);
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            txn.open_table(WINDOWS)
                .map_err(write_err)?
                .remove(key.as_str())
                .map_err(write_err)?;
            txn.commit().map_err(write_err)
        })
        .await
    }
}
