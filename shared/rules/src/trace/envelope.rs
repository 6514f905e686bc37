//! The inputs of the trace handler (contract part 3), told apart by shape and split into one
//! item per trace. A malformed item carries its own error and never spoils the others.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::stored::{self, StoredObject};
use super::{cloudtrail, scan, Text, Trace, TraceError, TraceView, Traced};

/// One trace of an input, or why it could not be read.
#[derive(Debug)]
pub struct Item {
    /// The SQS `messageId` it came in, to report in `batchItemFailures`.
    pub message_id: Option<String>,
    pub trace: Result<Trace, TraceError>,
}

/// Which envelope an input came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Sqs,
    EventBridge,
    Direct,
}

/// Only the keys that tell the shapes apart; everything else is left unread.
#[derive(Deserialize, Default)]
struct Probe<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Option<Vec<&'a RawValue>>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    traces: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    project_id: Option<&'a RawValue>,
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<&'a RawValue>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    trace_name: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsRecord {
    message_id: String,
    body: String,
    #[serde(default)]
    message_attributes: Option<SqsAttributes>,
}

#[derive(Deserialize)]
struct SqsAttributes {
    project_id: Option<SqsAttribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsAttribute {
    string_value: Option<String>,
}

/// Splits any handler input into its traces.
pub fn split(input: &str) -> (Shape, Vec<Item>) {
    if let Some(items) = sqs_batch(input) {
        return (Shape::Sqs, items);
    }
    let probe: Probe<'_> = serde_json::from_str(input).unwrap_or_default();
    if let Some(records) = &probe.records {
        if records.iter().all(|r| stored::is_s3_record(r)) {
            let trace = s3_objects(records).and_then(|o| Err(TraceError::TraceFiles(o)));
            return (
                Shape::Direct,
                vec![Item {
                    message_id: None,
                    trace,
                }],
            );
        }
        if records.iter().all(|r| is_sqs_record(r)) {
            return (Shape::Sqs, records.iter().map(|r| sqs_item(r)).collect());
        }
        let items = records
            .iter()
            .map(|r| Item {
                message_id: None,
                trace: cloudtrail::normalize(r, None),
            })
            .collect();
        return (Shape::Direct, items);
    }
    if probe.detail_type.is_some() {
        return (
            Shape::EventBridge,
            vec![Item {
                message_id: None,
                trace: event_bridge(&probe, None),
            }],
        );
    }
    if let Some(traces) = &probe.traces {
        let project = probe
            .project_id
            .and_then(|p| serde_json::from_str::<String>(p.get()).ok());
        let items = traces
            .iter()
            .map(|t| Item {
                message_id: None,
                trace: single(Text::Own(t.get().to_owned()), project.as_deref()),
            })
            .collect();
        return (Shape::Direct, items);
    }
    (
        Shape::Direct,
        vec![Item {
            message_id: None,
            trace: single(Text::Own(input.to_owned()), None),
        }],
    )
}

/// An SQS batch's items, read in one pass of the trace scanner (each body unescaped once, by
/// blocks); `None` for any other input, which the general path reads.
fn sqs_batch(input: &str) -> Option<Vec<Item>> {
    // Lambda writes the key first; an input written otherwise is still read, by the general path.
    if !input.trim_start().starts_with("{\"Records\"") {
        return None;
    }
    let (records, bodies) = scan::sqs_batch_fields(input).ok()??;
    if records
        .iter()
        .any(|r| r.event_source.as_deref() != Some("aws:sqs"))
    {
        return None;
    }
    let bodies = Arc::new(bodies);
    Some(
        records
            .into_iter()
            .map(|r| match (r.message_id, r.body) {
                (Some(message_id), Some(body)) => Item {
                    trace: body.and_then(|range| {
                        let all = bodies.clone();
                        single(Text::Shared { all, range }, r.project_id.as_deref())
                    }),
                    message_id: Some(message_id.into_owned()),
                },
                _ => Item {
                    message_id: None,
                    trace: Err(no_message_id_or_body()),
                },
            })
            .collect(),
    )
}

fn no_message_id_or_body() -> TraceError {
    TraceError::Unsupported("an SQS record needs messageId and body".into())
}

fn is_sqs_record(r: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Source<'a> {
        #[serde(rename = "eventSource", borrow)]
        event_source: Option<&'a str>,
    }
    serde_json::from_str::<Source<'_>>(r.get()).is_ok_and(|s| s.event_source == Some("aws:sqs"))
}

fn sqs_item(r: &RawValue) -> Item {
    match serde_json::from_str::<SqsRecord>(r.get()) {
        Ok(rec) => {
            let project = rec
                .message_attributes
                .and_then(|a| a.project_id?.string_value);
            Item {
                trace: single(Text::Own(rec.body), project.as_deref()),
                message_id: Some(rec.message_id),
            }
        }
        Err(_) => Item {
            message_id: None,
            trace: Err(no_message_id_or_body()),
        },
    }
}

/// One record of a trace file, read: a CloudTrail record (its trace's JSON not written until
/// asked for) or a trace.
#[derive(Debug)]
// A record is read, matched and dropped one at a time on the stack: boxing the larger variant
// would allocate for every record of a trace file.
#[allow(clippy::large_enum_variant)]
pub enum FileRecord<'a> {
    CloudTrail(cloudtrail::Normalized<'a>),
    Trace(Trace),
}

/// Reads one record of a trace file: a CloudTrail record or a CTS trace (or, as anywhere, an
/// EventBridge event carrying one).
pub fn read_file_record(record: &str) -> Result<FileRecord<'_>, TraceError> {
    // Most records of trace files are CloudTrail's: read one straight away (its parse checks
    // it); a record that turns out to name no eventSource of its own (an EventBridge event
    // names one inside its detail) is read as any document.
    if record.contains("\"eventSource\"") {
        match cloudtrail::read(record, None) {
            Err(TraceError::Missing("eventSource")) => {}
            other => return other.map(FileRecord::CloudTrail),
        }
    }
    match single(Text::Own(record.to_owned()), None) {
        Err(TraceError::TraceFiles(_)) => Err(TraceError::Unsupported(
            "a storage notification inside a trace file".into(),
        )),
        other => other.map(FileRecord::Trace),
    }
}

/// One record of a trace file as a trace (see [`read_file_record`]).
pub fn file_record(record: &str) -> Result<Trace, TraceError> {
    match read_file_record(record)? {
        FileRecord::CloudTrail(n) => Trace::from_json(n.json(), None),
        FileRecord::Trace(t) => Ok(t),
    }
}

impl Traced for FileRecord<'_> {
    fn view(&self) -> TraceView<'_> {
        match self {
            FileRecord::CloudTrail(n) => n.view(),
            FileRecord::Trace(t) => t.view(),
        }
    }

    fn project_id(&self) -> &str {
        match self {
            FileRecord::CloudTrail(n) => n.project_id(None).unwrap_or_default(),
            FileRecord::Trace(t) => t.project_id(),
        }
    }

    fn trace_id(&self) -> &str {
        match self {
            FileRecord::CloudTrail(n) => n.trace_id(),
            FileRecord::Trace(t) => t.trace_id(),
        }
    }

    fn json(&self) -> Cow<'_, str> {
        match self {
            FileRecord::CloudTrail(n) => Cow::Owned(n.json()),
            FileRecord::Trace(t) => Cow::Borrowed(t.json()),
        }
    }
}

/// One trace-carrying document: an EventBridge event, a CloudTrail record or a CTS trace.
/// A CTS trace keeps `doc` as its text without a copy.
fn single(doc: Text, envelope_project: Option<&str>) -> Result<Trace, TraceError> {
    // Most documents are CTS traces, read as one straight away; one whose top-level keys tell
    // another shape is probed for it.
    let doc = match Trace::from_json_if_trace(doc, envelope_project) {
        Ok(trace) => return trace,
        Err(doc) => doc,
    };
    let doc = doc.as_str();
    let probe: Probe<'_> = serde_json::from_str(doc).unwrap_or_default();
    if probe.detail_type.is_some() {
        return event_bridge(&probe, envelope_project);
    }
    if let Some(records) = &probe.records {
        return Err(TraceError::TraceFiles(s3_objects(records)?));
    }
    if stored::is_s3_test_event(doc) {
        return Err(TraceError::TraceFiles(Vec::new()));
    }
    // A CloudTrail record is known by these two fields, whatever else it lacks (contract part 3).
    if probe.event_source.is_some() && probe.event_name.is_some() && probe.trace_name.is_none() {
        let record: &RawValue = serde_json::from_str(doc).map_err(|_| TraceError::NotAnObject)?;
        return cloudtrail::normalize(record, envelope_project);
    }
    Trace::from_json(doc, envelope_project)
}

fn event_bridge(probe: &Probe<'_>, envelope_project: Option<&str>) -> Result<Trace, TraceError> {
    let detail_type = probe
        .detail_type
        .and_then(|d| serde_json::from_str::<String>(d.get()).ok())
        .unwrap_or_default();
    let detail = probe.detail.ok_or(TraceError::Missing("detail"))?;
    match detail_type.as_str() {
        "AWS API Call via CloudTrail" | "AWS Console Sign In via CloudTrail" => {
            cloudtrail::normalize(detail, envelope_project)
        }
        "CTS Trace" => Trace::from_json(detail.get(), envelope_project),
        "Object Created" => match stored::object_created(detail) {
            Some(object) => Err(TraceError::TraceFiles(vec![object])),
            None => Err(TraceError::Unsupported(
                "an Object Created event needs detail.bucket.name and detail.object.key".into(),
            )),
        },
        other => Err(TraceError::Unsupported(format!(
            "EventBridge detail-type {other:?}"
        ))),
    }
}

/// The objects an S3 notification's records name, or why they are not one.
fn s3_objects(records: &[&RawValue]) -> Result<Vec<StoredObject>, TraceError> {
    stored::s3_notification(records).ok_or_else(|| {
        TraceError::Unsupported("Records that are not an S3 event notification".into())
    })
}
