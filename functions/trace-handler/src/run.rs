//! One input's handling under way: what it has come to so far and its failed items, with what
//! every step needs to know (the caller, the deadline, the owner of its claims).

use std::time::{Duration, Instant};

use rules::trace::envelope::Item;

use crate::outcome::{Failures, Summary};
use crate::PUBLISH_MARGIN;

pub(crate) struct Run<'a> {
    pub(crate) summary: Summary,
    pub(crate) failures: Failures<'a>,
    /// When given, traces of other projects are refused.
    pub(crate) caller_project: Option<&'a str>,
    /// The invocation's deadline and how long before it no publish starts.
    pub(crate) deadline: Option<(Instant, Duration)>,
    /// Who holds this input's claims: made when the first claim is, since most inputs match
    /// nothing.
    owner: Option<String>,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        summary: Summary,
        items: &'a [Item],
        caller_project: Option<&'a str>,
        deadline: Option<Instant>,
    ) -> Self {
        // Half the time given, when that is less than the margin: a short-lived invocation
        // still publishes.
        let deadline = deadline.map(|d| {
            (
                d,
                PUBLISH_MARGIN.min(d.saturating_duration_since(Instant::now()) / 2),
            )
        });
        Run {
            summary,
            failures: Failures::new(items),
            caller_project,
            deadline,
            owner: None,
        }
    }

    /// Who holds this input's claims (the same for all its rounds).
    pub(crate) fn owner(&mut self) -> String {
        self.owner
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone()
    }

    /// Too close to the deadline for another publish to start.
    pub(crate) fn out_of_time(&self) -> bool {
        out_of_time(self.deadline)
    }

    pub(crate) fn finish(self) -> Summary {
        let mut summary = self.summary;
        summary.failures = self.failures.into_vec();
        tracing::info!(
            traces = summary.traces,
            matches = summary.matches,
            published = summary.published,
            duplicates = summary.duplicates,
            digested = summary.digested,
            files_read = summary.files_read,
            failures = summary.failures.len(),
            "input handled"
        );
        summary
    }
}

/// Whether `deadline` (with its margin) leaves no time for another publish to start.
pub(crate) fn out_of_time(deadline: Option<(Instant, Duration)>) -> bool {
    deadline.is_some_and(|(d, margin)| d.saturating_duration_since(Instant::now()) <= margin)
}
