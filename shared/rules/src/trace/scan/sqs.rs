//! An SQS batch as Lambda hands it over, read by the trace scanner's walk: the whole batch
//! checked in one pass over its first-stage masks, the records' bodies unescaped by
//! [`blockmask::unescape_into`] (a body is escaped JSON: an escape every eight bytes or so)
//! one after the other into one buffer.

use std::borrow::Cow;
use std::ops::Range;

use super::{with_scanner, Scanner, Step};
use crate::trace::TraceError;

/// What [`sqs_batch_fields`] keeps of one record; a key given twice counts as its last.
#[derive(Debug, Default)]
pub(crate) struct SqsRecordFields<'a> {
    pub(crate) message_id: Option<Cow<'a, str>>,
    pub(crate) event_source: Option<Cow<'a, str>>,
    /// Where the body is in the buffer of unescaped bodies; an error when it spells a
    /// character that does not exist.
    pub(crate) body: Option<Result<Range<usize>, TraceError>>,
    /// `messageAttributes.project_id.stringValue`.
    pub(crate) project_id: Option<Cow<'a, str>>,
}

/// An SQS batch's records and the buffer of their unescaped bodies.
pub(crate) type Batch<'a> = Option<(Vec<SqsRecordFields<'a>>, String)>;

/// The records of `{"Records": [...]}` whose elements are all objects, and the buffer of their
/// unescaped bodies; `None` when `Records` is missing or not such an array, an error when the
/// input is not one JSON object.
pub(crate) fn sqs_batch_fields(input: &str) -> Result<Batch<'_>, TraceError> {
    // Unescaping never lengthens: the input's length (and the unescaper's slack for its
    // whole stores) is room enough for every body.
    let mut bodies = String::with_capacity(input.len() + 64);
    with_scanner(input.as_bytes(), |s| {
        let mut records = None;
        s.whole_object("unexpected data after the input", |s, key, depth| {
            if &*s.key_name(key)? != b"Records" {
                return s.skip_value(depth);
            }
            records = s.records(depth, &mut bodies)?;
            Ok(())
        })?;
        Ok(records.map(|records| (records, bodies)))
    })
}

impl<'a> Scanner<'a, '_> {
    /// `Records`' value: `None` unless it is an array of objects.
    fn records(
        &mut self,
        depth: usize,
        bodies: &mut String,
    ) -> Step<Option<Vec<SqsRecordFields<'a>>>> {
        if self.peek() != Some(b'[') {
            self.skip_value(depth)?;
            return Ok(None);
        }
        // Lambda hands over up to 10 records a batch unless told otherwise.
        let mut records = Some(Vec::with_capacity(10));
        self.elements(depth, |s, depth| {
            if s.peek() != Some(b'{') {
                records = None;
                return s.skip_value(depth);
            }
            let record = s.sqs_record(depth, bodies)?;
            if let Some(records) = &mut records {
                records.push(record);
            }
            Ok(())
        })?;
        Ok(records)
    }

    fn sqs_record(&mut self, depth: usize, bodies: &mut String) -> Step<SqsRecordFields<'a>> {
        let mut out = SqsRecordFields::default();
        self.object(depth, |s, key, depth| {
            match &*s.key_name(key)? {
                b"messageId" => out.message_id = s.string_only(depth)?,
                b"eventSource" => out.event_source = s.string_only(depth)?,
                b"body" => out.body = s.unescaped_only(depth, bodies)?,
                b"messageAttributes" => out.project_id = s.attribute(depth, b"project_id")?,
                _ => s.skip_value(depth)?,
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The `stringValue` of the attribute `name` of the attributes object at `self.i`.
    fn attribute(&mut self, depth: usize, name: &[u8]) -> Step<Option<Cow<'a, str>>> {
        if self.peek() != Some(b'{') {
            self.skip_value(depth)?;
            return Ok(None);
        }
        let mut value = None;
        self.object(depth, |s, key, depth| {
            if &*s.key_name(key)? != name || s.peek() != Some(b'{') {
                return s.skip_value(depth);
            }
            value = None;
            s.object(depth, |s, key, depth| {
                if &*s.key_name(key)? == b"stringValue" {
                    value = s.string_only(depth)?;
                    return Ok(());
                }
                s.skip_value(depth)
            })
        })?;
        Ok(value)
    }

    /// A string value's text, unescaped onto the end of `out`: where it is there. Other values
    /// are skipped.
    fn unescaped_only(
        &mut self,
        depth: usize,
        out: &mut String,
    ) -> Step<Option<Result<Range<usize>, TraceError>>> {
        if self.peek() != Some(b'"') {
            self.skip_value(depth)?;
            return Ok(None);
        }
        let open = self.i;
        let end = self.string_end(open)?;
        self.i = end + 1;
        let text = self.text(open, end)?;
        let start = out.len();
        if !self.has_escapes(open, end) {
            out.push_str(text);
            return Ok(Some(Ok(start..out.len())));
        }
        Ok(Some(
            blockmask::unescape_into(text, out)
                .map(|()| start..out.len())
                .map_err(|e| TraceError::Json {
                    offset: open + 1 + e.offset,
                    what: "invalid escape in a string",
                }),
        ))
    }
}
