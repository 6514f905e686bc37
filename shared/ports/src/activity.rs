//! Each rule's activity: per hour, how many matches it had, how many messages it published,
//! how many matches went into digests and how many failed; and when it last matched. The trace
//! handler records sums of inputs, one delta per rule and hour; the API reads it back.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// How long activity is kept.
pub const ACTIVITY_DAYS: i64 = 14;
pub const HOUR_MS: i64 = 3_600_000;

/// One hour's counts of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCounts {
    pub matches: u64,
    pub published: u64,
    pub digested: u64,
    pub failures: u64,
}

impl HourCounts {
    pub fn is_empty(&self) -> bool {
        *self == HourCounts::default()
    }

    pub fn add(&mut self, other: &HourCounts) {
        self.matches += other.matches;
        self.published += other.published;
        self.digested += other.digested;
        self.failures += other.failures;
    }
}

/// What some inputs added to a rule's hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityDelta {
    pub project_id: String,
    pub notification_id: String,
    /// The hour's start, epoch ms.
    pub hour_ms: i64,
    pub counts: HourCounts,
    /// When the rule last matched in those inputs, if it did.
    pub matched_at_ms: Option<i64>,
}

/// One hour of a rule's activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hour {
    pub hour: i64,
    #[serde(flatten)]
    pub counts: HourCounts,
}

/// A rule's recorded activity: the hours with any, oldest first, and its last match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub hours: Vec<Hour>,
    pub last_match: Option<i64>,
}

/// The start of the hour holding `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

#[async_trait]
pub trait ActivityLog: Send + Sync {
    /// Adds each delta to its rule's hour (atomically per hour), keeping the latest match time.
    async fn record(&self, deltas: &[ActivityDelta]) -> Result<(), StoreError>;
    /// The rule's hours from `since_ms` on, and its last match.
    async fn activity(
        &self,
        project_id: &str,
        notification_id: &str,
        since_ms: i64,
    ) -> Result<Activity, StoreError>;
}
