//! A trace's JSON text: its own, or its part of a text the traces of one input share (an SQS
//! batch's bodies are unescaped into one buffer, one allocation a batch instead of one a
//! trace).

use std::ops::Range;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) enum Text {
    Own(String),
    Shared {
        all: Arc<String>,
        range: Range<usize>,
    },
}

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Own(s) => s,
            Text::Shared { all, range } => all.get(range.clone()).unwrap_or_default(),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}
