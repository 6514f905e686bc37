//! Where a scanned trace's fields sit in its JSON, kept with the trace so that reading them
//! again needs no second scan: a borrowed field is a byte range of the text, a field whose
//! escapes had to be decoded is kept decoded.

use std::borrow::Cow;
use std::ops::Range;

use super::TraceView;

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
                let start = (s.as_ptr() as usize).wrapping_sub(json.as_ptr() as usize);
                let range = start..start.wrapping_add(s.len());
                // A borrowed field is a slice of `json`; anything else is kept as it is.
                if json.get(range.clone()).is_some_and(|t| std::ptr::eq(t, *s)) {
                    Span::At(range)
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

/// The twelve fields of a [`TraceView`], in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spans([Span; 12]);

impl Spans {
    pub(crate) fn of(v: &TraceView<'_>, json: &str) -> Spans {
        Spans(
            [
                &v.trace_id,
                &v.project_id,
                &v.trace_name,
                &v.service_type,
                &v.resource_type,
                &v.user_name,
                &v.trace_rating,
                &v.trace_type,
                &v.code,
                &v.api_version,
                &v.resource_id,
                &v.resource_name,
            ]
            .map(|f| Span::of(f, json)),
        )
    }

    pub(crate) fn view<'a>(&'a self, json: &'a str) -> TraceView<'a> {
        let [trace_id, project_id, trace_name, service_type, resource_type, user_name, trace_rating, trace_type, code, api_version, resource_id, resource_name] =
            &self.0;
        TraceView {
            trace_id: trace_id.get(json),
            project_id: project_id.get(json),
            trace_name: trace_name.get(json),
            service_type: service_type.get(json),
            resource_type: resource_type.get(json),
            user_name: user_name.get(json),
            trace_rating: trace_rating.get(json),
            trace_type: trace_type.get(json),
            code: code.get(json),
            api_version: api_version.get(json),
            resource_id: resource_id.get(json),
            resource_name: resource_name.get(json),
        }
    }
}
