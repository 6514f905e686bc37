//! Traces: the fields matching needs, read straight from the JSON bytes ([`scan`]); CloudTrail
//! records normalized to traces ([`cloudtrail`]); and the input envelopes that carry them
//! ([`envelope`]).

pub mod cloudtrail;
pub mod envelope;
mod scan;
mod spans;
pub mod stored;
mod text;

pub use crate::fields::TraceView;

use crate::fields::Field;

pub(crate) use scan::trace_details;
pub use scan::{scan, scan_bytes, Details};
pub(crate) use text::Text;

/// Why a trace, or an input carrying traces, was refused. Each names what was wrong without
/// repeating the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("not valid JSON at byte {offset}: {what}")]
    Json { offset: usize, what: &'static str },
    #[error("a trace must be a JSON object")]
    NotAnObject,
    #[error("required field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} must be a non-empty string")]
    NotAString(&'static str),
    #[error("the trace names no project_id and its envelope gives none")]
    NoProject,
    #[error("project_id must be 1-64 characters of A-Z a-z 0-9 _ - (a CTS project id or an AWS account id)")]
    BadProject,
    #[error("unsupported input: {0}")]
    Unsupported(String),
    /// Not a trace but a storage notification naming trace files (none for S3's test event):
    /// the trace handler reads them; what cannot reach the storage refuses the item.
    #[error("a notification of {} trace file(s), read by the trace handler", .0.len())]
    TraceFiles(Vec<stored::StoredObject>),
}

/// What matching, messages and backtests read of a trace, however it was read.
pub trait Traced {
    fn view(&self) -> TraceView<'_>;
    fn project_id(&self) -> &str;
    fn trace_id(&self) -> &str;
    /// The trace's JSON, as it would be published.
    fn json(&self) -> std::borrow::Cow<'_, str>;
}

impl Traced for Trace {
    fn view(&self) -> TraceView<'_> {
        Trace::view(self)
    }

    fn project_id(&self) -> &str {
        Trace::project_id(self)
    }

    fn trace_id(&self) -> &str {
        Trace::trace_id(self)
    }

    fn json(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(Trace::json(self))
    }
}

/// A valid trace of a known project, holding its JSON exactly as received (or, for a CloudTrail
/// record, as normalized).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    json: Text,
    /// The scan's result, so that [`Trace::view`] reads no byte again.
    spans: spans::Spans,
    /// The envelope's project, when the trace names none of its own.
    envelope_project: Option<Box<str>>,
}

impl Trace {
    /// Checks a CTS trace: valid JSON, an object with string `trace_id`, `trace_name`,
    /// `service_type` and `resource_type`, and a project (its own `project_id`, else
    /// `envelope_project`).
    pub fn from_json(
        json: impl Into<String>,
        envelope_project: Option<&str>,
    ) -> Result<Trace, TraceError> {
        let json = json.into();
        let view = scan(&json)?;
        Trace::of_scanned(&view, None, &json, envelope_project).map(|of| of(Text::Own(json)))
    }

    /// [`Trace::from_json`] for a document that might be another input shape: it is given back
    /// when a top-level key tells one (see [`scan::scan_if_trace`]).
    pub(crate) fn from_json_if_trace(
        json: Text,
        envelope_project: Option<&str>,
    ) -> Result<Result<Trace, TraceError>, Text> {
        let made = match scan::scan_if_trace(json.as_str()) {
            Ok(None) => None,
            Ok(Some((view, details))) => Some(Trace::of_scanned(
                &view,
                Some(&details),
                json.as_str(),
                envelope_project,
            )),
            Err(e) => Some(Err(e)),
        };
        match made {
            None => Err(json),
            Some(made) => Ok(made.map(|of| of(json))),
        }
    }

    /// Checks the project of a scanned trace; gives what makes the trace of its JSON.
    fn of_scanned(
        view: &TraceView<'_>,
        details: Option<&Details<'_>>,
        json: &str,
        envelope_project: Option<&str>,
    ) -> Result<impl FnOnce(Text) -> Trace, TraceError> {
        let (project_id, envelope_project) = match (&view.project_id, envelope_project) {
            (Some(p), _) => (p.as_ref(), None),
            (None, Some(p)) if !p.is_empty() => (p, Some(Box::from(p))),
            _ => return Err(TraceError::NoProject),
        };
        // Only a project that may hold rules: anything else would be looked up (and cached)
        // for nothing.
        if !crate::limits::is_project_id(project_id) {
            return Err(TraceError::BadProject);
        }
        let spans = spans::Spans::of(view, details, json);
        Ok(move |json| Trace {
            json,
            spans,
            envelope_project,
        })
    }

    pub fn json(&self) -> &str {
        self.json.as_str()
    }

    pub fn project_id(&self) -> &str {
        match &self.envelope_project {
            Some(p) => p,
            None => self.spans.text(Field::ProjectId, self.json()),
        }
    }

    pub fn trace_id(&self) -> &str {
        self.spans.text(Field::TraceId, self.json())
    }

    /// The fields matching needs, as the scan that made the trace found them.
    pub fn view(&self) -> TraceView<'_> {
        self.spans.view(self.json())
    }

    /// What a message's readable text needs besides the view, when the scan that made the
    /// trace kept it (traces read from an input).
    pub fn details(&self) -> Option<Details<'_>> {
        self.spans.details(self.json())
    }
}
