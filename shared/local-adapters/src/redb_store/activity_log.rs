//! Each rule's activity: per (rule, hour), the hour's counts and the last match time, as JSON;
//! recording a rule's hour forgets its hours older than the activity is kept.

use async_trait::async_trait;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use ports::{Activity, ActivityDelta, ActivityLog, Hour, HourCounts, StoreError, HOUR_MS};

use super::keys::HourKey;
use super::{read_err, write_err, RedbStore, ACTIVITY};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    counts: HourCounts,
    last_match: Option<i64>,
}

#[async_trait]
impl ActivityLog for RedbStore {
    async fn record(&self, deltas: &[ActivityDelta]) -> Result<(), StoreError> {
        let deltas = deltas.to_vec();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(write_err)?;
            {
                let mut hours = txn.open_table(ACTIVITY).map_err(write_err)?;
                for d in &deltas {
                    let key = HourKey::new(&d.project_id, &d.notification_id, d.hour_ms);
                    let mut stored: Stored = match hours.get(key.as_str()).map_err(write_err)? {
                        Some(v) => serde_json::from_str(v.value()).map_err(write_err)?,
                        None => Stored::default(),
                    };
                    stored.counts.add(&d.counts);
                    stored.last_match = stored.last_match.max(d.matched_at_ms);
                    let value = serde_json::to_string(&stored).map_err(write_err)?;
                    hours
                        .insert(key.as_str(), value.as_str())
                        .map_err(write_err)?;
                    let kept_from = d.hour_ms - ports::ACTIVITY_DAYS * 24 * HOUR_MS;
                    let old =
                        HourKey::range(&d.project_id, &d.notification_id, i64::MIN, kept_from);
                    let expired: Vec<String> = hours
                        .range(old.0.as_str()..old.1.as_str())
                        .map_err(write_err)?
                        .map(|e| e.map(|(k, _)| k.value().to_owned()))
                        .collect::<Result<_, _>>()
                        .map_err(write_err)?;
                    for k in expired {
                        hours.remove(k.as_str()).map_err(write_err)?;
                    }
                }
            }
            txn.commit().map_err(write_err)
        })
        .await
    }

    async fn activity(
        &self,
        project_id: &str,
        notification_id: &str,
        since_ms: i64,
    ) -> Result<Activity, StoreError> {
        let (from, to) = HourKey::range(project_id, notification_id, since_ms, i64::MAX);
        self.reading(move |db| {
            let txn = db.begin_read().map_err(read_err)?;
            let hours = txn.open_table(ACTIVITY).map_err(read_err)?;
            let mut activity = Activity::default();
            for entry in hours.range(from.as_str()..to.as_str()).map_err(read_err)? {
                let (k, v) = entry.map_err(read_err)?;
                let Some(hour) = HourKey::hour(k.value()) else {
                    continue;
                };
                let stored: Stored = serde_json::from_str(v.value()).map_err(read_err)?;
                activity.last_match = activity.last_match.max(stored.last_match);
                activity.hours.push(Hour {
                    hour,
                    counts: stored.counts,
                });
            }
            Ok(activity)
        })
        .await
    }
}
