//! What one input came to: the counts, and the items that failed (each with its first reason),
//! kept by [`Failures`] as the steps of the handler record them.

use std::collections::BTreeMap;

use rules::trace::envelope::{Item, Shape};
use serde::Serialize;

/// One item that was not handled, to be delivered again (or to reach the dead-letter queue).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// Position of the item in its input.
    pub item: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub error: String,
    /// A publish that fails alike on every retry until an operator mends the topic or rule.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub permanent: bool,
    /// The item itself is at fault (malformed, or of another project than the caller's): no
    /// retry will do better.
    #[serde(skip)]
    pub input: bool,
}

/// What one input came to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub traces: usize,
    pub matches: usize,
    pub published: usize,
    /// Matches skipped because they had been published before.
    pub duplicates: usize,
    /// Matches counted into a digest instead of published alone.
    #[serde(skip_serializing_if = "is_zero")]
    pub digested: usize,
    /// Trace files read to their end.
    #[serde(skip_serializing_if = "is_zero")]
    pub files_read: usize,
    /// Objects named that hold no traces (digest files, other files) or are gone.
    #[serde(skip_serializing_if = "is_zero")]
    pub files_skipped: usize,
    /// Trace files that could not be read (corrupt, not JSON, unreachable): their items fail.
    #[serde(skip_serializing_if = "is_zero")]
    pub files_failed: usize,
    /// Records of trace files that are not valid traces: logged and left out.
    #[serde(skip_serializing_if = "is_zero")]
    pub records_refused: usize,
    pub failures: Vec<Failure>,
    #[serde(skip)]
    pub shape: Option<Shape>,
}

impl Summary {
    pub(crate) fn new(shape: Shape) -> Self {
        Summary {
            traces: 0,
            matches: 0,
            published: 0,
            duplicates: 0,
            digested: 0,
            files_read: 0,
            files_skipped: 0,
            files_failed: 0,
            records_refused: 0,
            failures: Vec::new(),
            shape: Some(shape),
        }
    }

    /// True when some item failed for another reason than its own content: a publish, the
    /// rules or the dedup log failed, and sending the input again may succeed (and publishes
    /// only what is missing).
    pub fn delivery_failed(&self) -> bool {
        self.failures.iter().any(|f| !f.input)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The failed items of one input, by position; the first reason an item failed stays.
#[derive(Debug)]
pub(crate) struct Failures<'a> {
    items: &'a [Item],
    by_item: BTreeMap<usize, Failure>,
}

impl<'a> Failures<'a> {
    pub(crate) fn new(items: &'a [Item]) -> Self {
        Failures {
            items,
            by_item: BTreeMap::new(),
        }
    }

    /// An item that failed to be delivered (a retry may succeed), or failed `permanent`ly.
    pub(crate) fn fail(&mut self, item: usize, error: impl Into<String>, permanent: bool) {
        self.record(item, error.into(), permanent, false);
    }

    /// An item that failed for its own content.
    pub(crate) fn refuse(&mut self, item: usize, error: impl Into<String>) {
        self.record(item, error.into(), false, true);
    }

    fn record(&mut self, item: usize, error: String, permanent: bool, input: bool) {
        let message_id = self.items[item].message_id.clone();
        self.by_item.entry(item).or_insert(Failure {
            item,
            message_id,
            error,
            permanent,
            input,
        });
    }

    pub(crate) fn into_vec(self) -> Vec<Failure> {
        self.by_item.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rules::trace::envelope::split;

    #[test]
    fn an_items_first_failure_stays_and_input_faults_do_not_ask_for_a_retry() {
        let (_, items) = split(r#"{"traces": [{"trace_id": "a"}, {"trace_id": "b"}]}"#);
        let mut failures = Failures::new(&items);
        failures.refuse(1, "malformed");
        failures.fail(1, "publish failed", false);
        failures.fail(0, "topic gone", true);
        let list = failures.into_vec();
        assert_eq!(
            list.iter()
                .map(|f| (f.item, f.error.as_str(), f.permanent, f.input))
                .collect::<Vec<_>>(),
            [
                (0, "topic gone", true, false),
                (1, "malformed", false, true)
            ]
        );
        let mut summary = Summary::new(Shape::Direct);
        summary.failures = list[1..].to_vec();
        assert!(!summary.delivery_failed(), "only the input's own fault");
        summary.failures = list;
        assert!(summary.delivery_failed());
    }
}
