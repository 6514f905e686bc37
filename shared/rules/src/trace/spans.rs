//! Where a scanned trace's fields sit in its JSON, kept with the trace so that reading them
//! again needs no second scan: a borrowed field is a byte range of the text, a field whose
//! escapes had to be decoded is kept decoded. Ranges are two `u32`s, so that a trace (moved
//! from the scan to its input's item to the handler) stays small.

use std::borrow::Cow;

use super::scan::Details;
use super::TraceView;
use crate::fields::{Field, FIELD_COUNT};

/// A field's place: `len` with [`DECODED`] set counts in [`Spans::decoded`], else in the JSON;
/// `start` [`MISSING`] for a field the trace lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

const MISSING: Span = Span {
    start: u32::MAX,
    len: 0,
};
const DECODED: u32 = 1 << 31;

/// The fields of a [`TraceView`], in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spans {
    at: [Span; FIELD_COUNT],
    /// The details' places, when the scan kept them.
    details: Option<[Span; 4]>,
    /// The fields that are not slices of the JSON, one after the other.
    decoded: String,
}

impl Spans {
    pub(crate) fn of(v: &TraceView<'_>, details: Option<&Details<'_>>, json: &str) -> Spans {
        let mut decoded = String::new();
        let mut span_of = |field: &Option<Cow<'_, str>>| match field {
            None => MISSING,
            Some(text) => borrowed_span(text, json).unwrap_or_else(|| {
                let start = decoded.len();
                decoded.push_str(text);
                // A trace is far below 2 GiB (requests are 1 MiB at most); were it not, its
                // fields would read as cut or missing, never out of bounds.
                Span {
                    start: start.try_into().unwrap_or(u32::MAX - 1),
                    len: (text.len() as u32 & !DECODED) | DECODED,
                }
            }),
        };
        let at = v.slots().map(&mut span_of);
        let details = details.map(|d| d.slots().map(&mut span_of));
        Spans {
            at,
            details,
            decoded,
        }
    }

    /// The details, when the scan kept them.
    pub(crate) fn details<'a>(&'a self, json: &'a str) -> Option<Details<'a>> {
        let spans = self.details?;
        Some(Details::from_slots(
            spans.map(|s| self.get(s, json).map(Cow::Borrowed)),
        ))
    }

    /// The text of `field` ("" when it is missing).
    pub(crate) fn text<'a>(&'a self, field: Field, json: &'a str) -> &'a str {
        self.get(self.at[field as usize], json).unwrap_or_default()
    }

    pub(crate) fn view<'a>(&'a self, json: &'a str) -> TraceView<'a> {
        TraceView::from_slots(self.at.map(|s| self.get(s, json).map(Cow::Borrowed)))
    }

    fn get<'a>(&'a self, span: Span, json: &'a str) -> Option<&'a str> {
        if span == MISSING {
            return None;
        }
        let (text, len) = match span.len & DECODED {
            0 => (json, span.len),
            _ => (self.decoded.as_str(), span.len & !DECODED),
        };
        let start = span.start as usize;
        text.get(start..start + len as usize)
    }
}

/// Where `s` sits in `json`, when it is a slice of it (a decoded field is a string of its own,
/// elsewhere in memory) that two `u32`s can say.
fn borrowed_span(s: &str, json: &str) -> Option<Span> {
    let start = (s.as_ptr() as usize).wrapping_sub(json.as_ptr() as usize);
    if start > json.len() || s.len() > json.len() - start {
        return None;
    }
    Some(Span {
        start: start.try_into().ok()?,
        len: u32::try_from(s.len())
            .ok()
            .filter(|len| len & DECODED == 0)?,
    })
}
