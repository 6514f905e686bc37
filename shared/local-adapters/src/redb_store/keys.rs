//! The embedded store's keys, typed: each is built and read back here alone, in the string
//! form the database file has always held (so that an existing `rules.redb` still opens).
//! NUL separates parts: it cannot appear in project ids, names or ids, which are validated.

use ports::DedupKey;
use rules::digest::Window;

const SEP: char = '\u{0}';

/// A project's item (a rule by id, or a name's claim): `project NUL rest`.
pub(super) struct ScopedKey(String);

impl ScopedKey {
    pub(super) fn new(project_id: &str, rest: &str) -> Self {
        ScopedKey(format!("{project_id}{SEP}{rest}"))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every key of one project sorts within `start..end`.
pub(super) struct ProjectRange {
    pub(super) start: String,
    pub(super) end: String,
}

impl ProjectRange {
    pub(super) fn new(project_id: &str) -> Self {
        ProjectRange {
            start: format!("{project_id}{SEP}"),
            end: format!("{project_id}\u{1}"),
        }
    }
}

/// A (trace, rule) pair: `trace id NUL notification id`.
pub(super) struct PairKey(String);

impl PairKey {
    pub(super) fn new(k: &DedupKey) -> Self {
        PairKey(format!("{}{SEP}{}", k.trace_id, k.notification_id))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// The pair a stored key names; `None` for a key that is not one.
    pub(super) fn parse(key: &str) -> Option<DedupKey> {
        let (trace_id, notification_id) = key.split_once(SEP)?;
        Some(DedupKey {
            trace_id: trace_id.to_owned(),
            notification_id: notification_id.to_owned(),
        })
    }
}

/// A published pair by its expiry: `expiry as 20 digits NUL pair`, so that keys sort by time.
pub(super) struct ExpiryKey(String);

impl ExpiryKey {
    pub(super) fn new(expires_ms: i64, pair: &PairKey) -> Self {
        ExpiryKey(format!("{}{SEP}{}", Self::until(expires_ms), pair.as_str()))
    }

    /// Every key of a pair expired before `now_ms` sorts before this.
    pub(super) fn until(now_ms: i64) -> String {
        format!("{:020}", now_ms.max(0))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// The pair key within a stored expiry key.
    pub(super) fn pair(key: &str) -> Option<&str> {
        Some(key.split_once(SEP)?.1)
    }
}

/// A claim's value: `<lease end, epoch ms> <owner>`.
pub(super) struct ClaimValue(String);

impl ClaimValue {
    pub(super) fn new(lease_end_ms: i64, owner: &str) -> Self {
        ClaimValue(format!("{lease_end_ms} {owner}"))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// The lease end and owner of a stored claim.
    pub(super) fn parse(value: &str) -> (i64, &str) {
        let (until, owner) = value.split_once(' ').unwrap_or((value, ""));
        (until.parse().unwrap_or(0), owner)
    }
}

/// A (rule, window) of a digest: `end as 20 digits NUL project NUL rule NUL start as 20
/// digits`, so that windows sort by when they end.
pub(super) struct WindowKey(String);

impl WindowKey {
    pub(super) fn new(project_id: &str, notification_id: &str, window: Window) -> Self {
        WindowKey(format!(
            "{:020}{SEP}{project_id}{SEP}{notification_id}{SEP}{:020}",
            window.end_ms, window.start_ms
        ))
    }

    /// The first key of the windows ending after `ms`.
    pub(super) fn ending_after(ms: i64) -> String {
        format!("{:020}", ms.saturating_add(1))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// (project, rule, window) of a stored key; `None` for a key that is not one.
    pub(super) fn parse(key: &str) -> Option<(String, String, Window)> {
        let mut parts = key.split(SEP);
        let end_ms = parts.next()?.parse().ok()?;
        let project = parts.next()?.to_owned();
        let rule = parts.next()?.to_owned();
        let start_ms = parts.next()?.parse().ok()?;
        Some((project, rule, Window { start_ms, end_ms }))
    }
}

/// A rule's hour of activity: `project NUL rule NUL hour as 20 digits (offset to be positive)`.
pub(super) struct HourKey(String);

impl HourKey {
    /// Hours are offset by this so that every i64 sorts as its 20 digits.
    const OFFSET: i128 = 1 << 63;

    pub(super) fn new(project_id: &str, notification_id: &str, hour_ms: i64) -> Self {
        HourKey(format!(
            "{project_id}{SEP}{notification_id}{SEP}{:020}",
            i128::from(hour_ms) + Self::OFFSET
        ))
    }

    /// The keys of the rule's hours in `[from_ms, to_ms)`.
    pub(super) fn range(
        project_id: &str,
        notification_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> (String, String) {
        (
            Self::new(project_id, notification_id, from_ms).0,
            Self::new(project_id, notification_id, to_ms).0,
        )
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// The hour a stored key names.
    pub(super) fn hour(key: &str) -> Option<i64> {
        let digits = key.rsplit(SEP).next()?;
        i64::try_from(digits.parse::<i128>().ok()? - Self::OFFSET).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_files_format_and_read_back() {
        let pair = DedupKey {
            trace_id: "t-1".into(),
            notification_id: "n-1".into(),
        };
        let key = PairKey::new(&pair);
        assert_eq!(key.as_str(), "t-1\u{0}n-1");
        assert_eq!(PairKey::parse(key.as_str()), Some(pair));
        let expiry = ExpiryKey::new(42, &key);
        assert_eq!(expiry.as_str(), "00000000000000000042\u{0}t-1\u{0}n-1");
        assert_eq!(ExpiryKey::pair(expiry.as_str()), Some(key.as_str()));
        assert!(expiry.as_str() < ExpiryKey::until(43).as_str());
        assert_eq!(ScopedKey::new("p", "id").as_str(), "p\u{0}id");
        let range = ProjectRange::new("p");
        assert!(range.start.as_str() <= "p\u{0}id" && "p\u{0}id" < range.end.as_str());
        assert!(!("p2\u{0}id" >= range.start.as_str() && "p2\u{0}id" < range.end.as_str()));
        assert_eq!(
            ClaimValue::parse(ClaimValue::new(7, "owner a").as_str()),
            (7, "owner a")
        );
    }
}
