//! Recording each rule's activity: what one input did for each rule (published alone, counted
//! into a digest, failed to publish), added to the rule's hour in one write per rule. A pair
//! counts as a match once, when it is done, so redeliveries do not inflate the counts.

use std::collections::{BTreeMap, HashMap};

use ports::{hour_of, now_ms, ActivityDelta, ActivityLog, DedupKey, HourCounts};

/// Adds up, by rule, what `done`, `digested` and `failed` hold; `projects` names each rule's
/// project.
pub(crate) async fn record(
    log: &dyn ActivityLog,
    projects: &HashMap<String, String>,
    done: &[DedupKey],
    digested: &[DedupKey],
    failed: &[DedupKey],
) {
    let mut by_rule: BTreeMap<&str, HourCounts> = BTreeMap::new();
    tally(&mut by_rule, done, |c| {
        c.matches += 1;
        c.published += 1;
    });
    tally(&mut by_rule, digested, |c| {
        c.matches += 1;
        c.digested += 1;
    });
    tally(&mut by_rule, failed, |c| c.failures += 1);
    if by_rule.is_empty() {
        return;
    }
    let now = now_ms();
    let deltas: Vec<ActivityDelta> = by_rule
        .into_iter()
        .filter_map(|(rule, counts)| {
            Some(ActivityDelta {
                project_id: projects.get(rule)?.clone(),
                notification_id: rule.to_owned(),
                hour_ms: hour_of(now),
                matched_at_ms: (counts.matches > 0).then_some(now),
                counts,
            })
        })
        .collect();
    if let Err(e) = log.record(&deltas).await {
        tracing::warn!(error = %e, rules = deltas.len(), "cannot record the rules' activity; their counts miss this input");
    }
}

fn tally<'a>(
    by_rule: &mut BTreeMap<&'a str, HourCounts>,
    keys: &'a [DedupKey],
    add: impl Fn(&mut HourCounts),
) {
    for k in keys {
        add(by_rule.entry(k.notification_id.as_str()).or_default());
    }
}
