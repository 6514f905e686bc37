//! Where a scanned trace's fields sit in its JSON, kept with the trace so that reading them
//! again needs no second scan: a borrowed field is a byte range of the text, a field whose
//! escapes had to be decoded is kept decoded.

use std::borrow::Cow;
use std::ops::Range;

use super::TraceView;
use crate::fields::Field;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Span {
    #[default]
    Missing,
    At(Range<usize>),
    Decoded(Box<str>),
}

impl Span {
    fn of(field: &Option<Cow<'_, str>>, json: &str) -> Span {
        match field {
            None => Span::Missing,
            Some(Cow::Borrowed(s)) => {
                // A borrowed field is a slice of `json` (its bytes lie within it); anything
                // else is kept as it is.
                let start = (s.as_ptr() as usize).wrapping_sub(json.as_ptr() as usize);
                if start <= json.len() && s.len() <= json.len() - start {
                    Span::At(start..start + s.len())
                } else {
                    Span::Decoded((*s).into())
                }
            }
            Some(Cow::Owned(s)) => Span::Decoded(s.as_str().into()),
        }
    }

    fn get<'a>(&'a self, json: &'a str) -> Option<Cow<'a, str>> {
        match self {
            Span::Missing => None,
            Span::At(r) => json.get(r.clone()).map(Cow::Borrowed),
            Span::Decoded(s) => Some(Cow::Borrowed(s)),
        }
    }
}

/// The fields of a [`TraceView`], in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spans([Span; crate::fields::FIELD_COUNT]);

impl Spans {
    pub(crate) fn of(v: &TraceView<'_>, json: &str) -> Spans {
        Spans(v.slots().map(|f| Span::of(f, json)))
    }

    /// The text of `field` ("" when it is missing).
    pub(crate) fn text<'a>(&'a self, field: Field, json: &'a str) -> &'a str {
        match &self.0[field as usize] {
            Span::Missing => "",
            Span::At(r) => json.get(r.clone()).unwrap_or_default(),
            Span::Decoded(s) => s,
        }
    }

    pub(crate) fn view<'a>(&'a self, json: &'a str) -> TraceView<'a> {
        TraceView::from_slots(self.0.each_ref().map(|s| s.get(json)))
    }
}
