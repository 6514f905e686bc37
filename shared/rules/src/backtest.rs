//! Backtests: what rules would have sent over past traces. A [`Tally`] counts the traces of
//! one part of an archive (a file, a batch of files); tallies of the same rules merge in any
//! order, so that an archive may be read by many workers; the [`Report`] is read off the
//! merged tally. Nothing here publishes or claims anything.
//!
//! Digests are counted as the handler would send them, with windows aligned on the traces'
//! own times (the handler aligns them on handling time, seconds later).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::limits::MAX_NOTIFICATIONS_PER_PROJECT;
use crate::matcher::{CompiledRules, TooManyRules};
use crate::message::render;
use crate::model::{Notification, Status};
use crate::readable::{civil_from_days, days_from_civil};
use crate::trace::Traced;
use crate::{CreateBody, TopicId, TraceView, ValidationError};

/// Sample messages kept per rule: the earliest.
pub const SAMPLES: usize = 3;
/// Trace names and users listed per rule: the most frequent.
pub const TOP: usize = 10;

const DAY_MS: i64 = 86_400_000;

/// The rules a backtest runs, each as if it were enabled (a rule is backtested before it is
/// turned on); a rule without a topic gets a stand-in, since nothing is sent.
#[derive(Debug)]
pub struct BacktestRules {
    compiled: CompiledRules,
    /// The project whose traces count (stored rules fire on their project's traces only);
    /// `None`: every trace (rules written for the backtest belong to no project).
    project: Option<String>,
}

impl BacktestRules {
    /// `rules` over the traces of `project`, or of every project.
    pub fn new(rules: &[Notification], project: Option<&str>) -> Result<Self, TooManyRules> {
        let as_enabled: Vec<Notification> = rules
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.status = Status::Enabled;
                r.topic_id = r.topic_id.or_else(|| {
                    TopicId::parse(&format!("urn:smn:backtest:{}:backtest", r.project_id))
                });
                r
            })
            .collect();
        Ok(BacktestRules {
            compiled: CompiledRules::compile(&as_enabled)?,
            project: project.map(str::to_owned),
        })
    }

    pub fn rules(&self) -> &[Notification] {
        self.compiled.rules()
    }

    fn ids(&self) -> Vec<String> {
        self.rules()
            .iter()
            .map(|r| r.notification_id.clone())
            .collect()
    }
}

/// Rules written for a backtest: create bodies, 1 to 100, checked as create checks them, each
/// named (and identified) by its `notification_name`, which must be unique. Errors name the
/// body: `rules[2].notification_name`.
pub fn rules_of_bodies(
    bodies: &[Value],
    project_id: &str,
) -> Result<Vec<Notification>, ValidationError> {
    if bodies.is_empty() || bodies.len() > MAX_NOTIFICATIONS_PER_PROJECT {
        return Err(ValidationError::invalid(
            "rules",
            format!("must hold 1 to {MAX_NOTIFICATIONS_PER_PROJECT} rules"),
        ));
    }
    let mut rules: Vec<Notification> = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        let body = CreateBody::from_value(body).map_err(|mut e| {
            e.field = format!("rules[{i}].{}", e.field);
            e
        })?;
        let name = body.name().to_owned();
        if rules.iter().any(|r| r.notification_name == name) {
            return Err(ValidationError::invalid(
                format!("rules[{i}].notification_name"),
                "is used twice",
            ));
        }
        rules.push(body.into_notification(name, project_id.to_owned(), 0));
    }
    Ok(rules)
}

/// Which traces count, by their `time` (epoch ms, `[from, to)`); traces without a time count
/// only when the range is open on both sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl TimeRange {
    /// Reads a bound: epoch milliseconds, a day (`2026-11-01`, its start) or a UTC time
    /// (`2026-11-01T12:00:00Z`).
    pub fn parse_bound(text: &str) -> Option<i64> {
        if let Ok(ms) = text.parse::<i64>() {
            return Some(ms);
        }
        let (date, time) = text.split_once('T').unwrap_or((text, "00:00:00Z"));
        let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
        let (y, m, day) = (d.next()??, d.next()??, d.next()??);
        let time = time.strip_suffix('Z')?;
        let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
        let (h, min, sec) = (
            t.next()??,
            t.next().unwrap_or(Some(0))?,
            t.next().unwrap_or(Some(0))?,
        );
        if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
            return None;
        }
        Some((days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60 + sec) * 1000)
    }

    fn holds(&self, time_ms: Option<i64>) -> bool {
        match time_ms {
            None => self.from_ms.is_none() && self.to_ms.is_none(),
            Some(t) => self.from_ms.is_none_or(|f| t >= f) && self.to_ms.is_none_or(|e| t < e),
        }
    }
}

/// What part of an archive came to; merged with [`Tally::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The rules counted, by id: only tallies of the same rules merge.
    pub rule_ids: Vec<String>,
    pub files: u64,
    pub records: u64,
    /// Records that are not valid traces.
    pub records_refused: u64,
    /// Traces outside the time range.
    pub out_of_range: u64,
    /// Traces of other projects than the rules'.
    pub other_projects: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Files that could not be read to their end (their records before the fault count).
    pub failed_files: Vec<FailedFile>,
    pub rules: Vec<RuleTally>,
}

/// A file that could not be read to its end, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedFile {
    pub file: String,
    pub error: String,
}

/// One rule's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTally {
    pub matches: u64,
    /// Matches by day (days since the epoch); matches of traces without a time are not here.
    pub by_day: BTreeMap<i64, u64>,
    /// For a rule with a digest: matches by window start (ms).
    pub by_window: BTreeMap<i64, u64>,
    pub by_trace_name: FxHashMap<String, u64>,
    pub by_user: FxHashMap<String, u64>,
    /// The earliest matches' messages, by (time, trace id).
    pub samples: Vec<Sample>,
}

/// A message the rule would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub time_ms: Option<i64>,
    pub trace_id: String,
    pub subject: String,
    /// The message body, JSON.
    pub message: String,
}

impl Sample {
    fn order(&self) -> (i64, &str) {
        (self.time_ms.unwrap_or(i64::MAX), &self.trace_id)
    }
}

/// Tallies of different rules do not merge.
#[derive(Debug, thiserror::Error)]
#[error("tallies of different rules: {0:?} and {1:?}")]
pub struct OtherRules(pub Vec<String>, pub Vec<String>);

impl Tally {
    pub fn new(rules: &BacktestRules) -> Tally {
        Tally {
            rule_ids: rules.ids(),
            rules: vec![RuleTally::default(); rules.rules().len()],
            ..Tally::default()
        }
    }

    /// A record that is not a valid trace.
    pub fn refuse(&mut self) {
        self.records += 1;
        self.records_refused += 1;
    }

    /// Counts one trace against every rule.
    pub fn add(&mut self, rules: &BacktestRules, range: &TimeRange, trace: &impl Traced) {
        self.records += 1;
        if rules
            .project
            .as_deref()
            .is_some_and(|p| p != trace.project_id())
        {
            self.other_projects += 1;
            return;
        }
        let view = trace.view();
        let time_ms = view.time.as_deref().and_then(parse_ms);
        if !range.holds(time_ms) {
            self.out_of_range += 1;
            return;
        }
        if let Some(t) = time_ms {
            self.first_ms = Some(self.first_ms.map_or(t, |f| f.min(t)));
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        }
        for r in rules.compiled.matches(&view).iter() {
            let rule = &rules.rules()[r];
            self.rules[r].add(rule, &view, trace, time_ms);
        }
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: Tally) -> Result<(), OtherRules> {
        if other.rule_ids != self.rule_ids {
            return Err(OtherRules(self.rule_ids.clone(), other.rule_ids));
        }
        self.files += other.files;
        self.records += other.records;
        self.records_refused += other.records_refused;
        self.out_of_range += other.out_of_range;
        self.other_projects += other.other_projects;
        self.first_ms = min_some(self.first_ms, other.first_ms, i64::min);
        self.last_ms = min_some(self.last_ms, other.last_ms, i64::max);
        self.failed_files.extend(other.failed_files);
        self.failed_files.sort_by(|a, b| a.file.cmp(&b.file));
        for (mine, theirs) in self.rules.iter_mut().zip(other.rules) {
            mine.merge(theirs);
        }
        Ok(())
    }

    /// The report of these counts.
    pub fn report(&self, rules: &BacktestRules) -> Report {
        Report {
            files: self.files,
            records: self.records,
            records_refused: self.records_refused,
            out_of_range: self.out_of_range,
            other_projects: self.other_projects,
            first_trace: self.first_ms.map(iso_time),
            last_trace: self.last_ms.map(iso_time),
            failed_files: self.failed_files.clone(),
            rules: rules
                .rules()
                .iter()
                .zip(&self.rules)
                .map(|(rule, tally)| tally.report(rule))
                .collect(),
        }
    }
}

fn min_some(a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

impl RuleTally {
    fn add(
        &mut self,
        rule: &Notification,
        view: &TraceView<'_>,
        trace: &impl Traced,
        time: Option<i64>,
    ) {
        self.matches += 1;
        if let Some(t) = time {
            *self.by_day.entry(t.div_euclid(DAY_MS)).or_default() += 1;
            if let Some(digest) = rule.digest {
                *self.by_window.entry(digest.window(t).start_ms).or_default() += 1;
            }
        }
        count(&mut self.by_trace_name, view.trace_name.as_deref());
        count(&mut self.by_user, view.user_name.as_deref());
        let key = (time.unwrap_or(i64::MAX), trace.trace_id());
        let kept = self.samples.len() < SAMPLES
            || self.samples.last().is_some_and(|last| key < last.order());
        if !kept {
            return;
        }
        if let Some(message) = render(rule, view, &trace.json()) {
            self.keep_sample(Sample {
                time_ms: time,
                trace_id: trace.trace_id().to_owned(),
                subject: message.subject,
                message: message.message,
            });
        }
    }

    fn keep_sample(&mut self, sample: Sample) {
        let at = self
            .samples
            .partition_point(|s| s.order() <= sample.order());
        self.samples.insert(at, sample);
        self.samples.truncate(SAMPLES);
    }

    fn merge(&mut self, other: RuleTally) {
        self.matches += other.matches;
        for (day, n) in other.by_day {
            *self.by_day.entry(day).or_default() += n;
        }
        for (window, n) in other.by_window {
            *self.by_window.entry(window).or_default() += n;
        }
        for (name, n) in other.by_trace_name {
            *self.by_trace_name.entry(name).or_default() += n;
        }
        for (user, n) in other.by_user {
            *self.by_user.entry(user).or_default() += n;
        }
        for sample in other.samples {
            self.keep_sample(sample);
        }
    }

    fn report(&self, rule: &Notification) -> RuleReport {
        // Per window: the first `max_messages` matches alone, the rest in one digest.
        let mut messages_by_day: BTreeMap<i64, u64> = BTreeMap::new();
        let (mut digests, mut digested) = (0, 0);
        match rule.digest {
            Some(d) => {
                for (&start, &n) in &self.by_window {
                    let alone = n.min(u64::from(d.max_messages));
                    let digest = u64::from(n > alone);
                    digests += digest;
                    digested += n - alone;
                    *messages_by_day.entry(start.div_euclid(DAY_MS)).or_default() += alone + digest;
                }
            }
            None => messages_by_day = self.by_day.clone(),
        }
        let dated: u64 = self.by_day.values().sum();
        // Matches of traces without a time are sent alone (no window holds them).
        let undated = self.matches - dated;
        let messages = messages_by_day.values().sum::<u64>() + undated;
        let mut days: Vec<i64> = self
            .by_day
            .keys()
            .chain(messages_by_day.keys())
            .copied()
            .collect();
        days.sort_unstable();
        days.dedup();
        RuleReport {
            notification_id: rule.notification_id.clone(),
            notification_name: rule.notification_name.clone(),
            matches: self.matches,
            messages,
            digests,
            digested,
            per_day: days
                .into_iter()
                .map(|day| DayReport {
                    day: iso_day(day),
                    matches: self.by_day.get(&day).copied().unwrap_or(0),
                    messages: messages_by_day.get(&day).copied().unwrap_or(0),
                })
                .collect(),
            top_trace_names: top(&self.by_trace_name),
            top_users: top(&self.by_user),
            samples: self
                .samples
                .iter()
                .map(|s| SampleReport {
                    time: s.time_ms.map(iso_time),
                    subject: s.subject.clone(),
                    message: RawValue::from_string(s.message.clone()).ok(),
                })
                .collect(),
        }
    }
}

fn count(counts: &mut FxHashMap<String, u64>, value: Option<&str>) {
    let value = value.unwrap_or("(none)");
    match counts.get_mut(value) {
        Some(n) => *n += 1,
        None => {
            counts.insert(value.to_owned(), 1);
        }
    }
}

fn top(counts: &FxHashMap<String, u64>) -> Vec<Counted> {
    let mut all: Vec<Counted> = counts
        .iter()
        .map(|(name, &count)| Counted {
            name: name.clone(),
            count,
        })
        .collect();
    all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    all.truncate(TOP);
    all
}

/// A trace's `time` (epoch ms, a JSON number or numeric string).
fn parse_ms(text: &str) -> Option<i64> {
    text.trim_matches('"')
        .parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().map(|f| f as i64))
}

fn iso_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn iso_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_day(secs.div_euclid(86_400)),
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// What a backtest found, per rule.
#[derive(Debug, Serialize)]
pub struct Report {
    pub files: u64,
    pub records: u64,
    pub records_refused: u64,
    pub out_of_range: u64,
    pub other_projects: u64,
    pub first_trace: Option<String>,
    pub last_trace: Option<String>,
    pub failed_files: Vec<FailedFile>,
    pub rules: Vec<RuleReport>,
}

#[derive(Debug, Serialize)]
pub struct RuleReport {
    pub notification_id: String,
    pub notification_name: String,
    /// Traces the rule fires on.
    pub matches: u64,
    /// Messages it would have sent: each match alone, or for a rule with a digest, the
    /// matches alone within each window's limit plus one digest per window past it.
    pub messages: u64,
    pub digests: u64,
    /// Matches counted into digests rather than sent alone.
    pub digested: u64,
    pub per_day: Vec<DayReport>,
    pub top_trace_names: Vec<Counted>,
    pub top_users: Vec<Counted>,
    pub samples: Vec<SampleReport>,
}

#[derive(Debug, Serialize)]
pub struct DayReport {
    pub day: String,
    pub matches: u64,
    pub messages: u64,
}

#[derive(Debug, Serialize)]
pub struct Counted {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct SampleReport {
    pub time: Option<String>,
    pub subject: String,
    pub message: Option<Box<RawValue>>,
}

#[cfg(test)]
mod tests;
