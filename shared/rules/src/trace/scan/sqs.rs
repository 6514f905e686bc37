//! An SQS batch as Lambda hands it over, read by the trace scanner's walk: the whole batch
//! checked in one pass over its first-stage masks, each record's body unescaped by
//! [`blockmask::unescape_into`] (a body is escaped JSON: an escape every ten bytes or so).

use std::borrow::Cow;

use super::{with_scanner, Scanner, Step};
use crate::trace::TraceError;

/// What [`sqs_batch_fields`] keeps of one record; a key given twice counts as its last.
#[derive(Debug, Default)]
pub(crate) struct SqsRecordFields<'a> {
    pub(crate) message_id: Option<Cow<'a, str>>,
    pub(crate) event_source: Option<Cow<'a, str>>,
    /// The body, unescaped; an error when it spells a character that does not exist.
    pub(crate) body: Option<Result<String, TraceError>>,
    /// `messageAttributes.project_id.stringValue`.
    pub(crate) project_id: Option<Cow<'a, str>>,
}

/// The records of `{"Records": [...]}` whose elements are all objects; `None` for valid JSON of
/// any other shape, an error for invalid JSON.
pub(crate) fn sqs_batch_fields(
    input: &str,
) -> Result<Option<Vec<SqsRecordFields<'_>>>, TraceError> {
    with_scanner(input.as_bytes(), |s| {
        s.ws();
        if s.peek() != Some(b'{') {
            s.skip_value(0)?;
            s.only_whitespace_left("unexpected data after the input")?;
            return Ok(None);
        }
        let mut records = None;
        s.object(0, |s, key, depth| {
            if &*s.key_name(key)? != b"Records" {
                return s.skip_value(depth);
            }
            records = s.records(depth)?;
            Ok(())
        })?;
        s.only_whitespace_left("unexpected data after the input")?;
        Ok(records)
    })
}

impl<'a> Scanner<'a, '_> {
    /// `Records`' value: `None` unless it is an array of objects.
    fn records(&mut self, depth: usize) -> Step<Option<Vec<SqsRecordFields<'a>>>> {
        if self.peek() != Some(b'[') {
            self.skip_value(depth)?;
            return Ok(None);
        }
        let mut records = Some(Vec::new());
        self.elements(depth, |s, depth| {
            if s.peek() != Some(b'{') {
                records = None;
                return s.skip_value(depth);
            }
            let record = s.sqs_record(depth)?;
            if let Some(records) = &mut records {
                records.push(record);
            }
            Ok(())
        })?;
        Ok(records)
    }

    fn sqs_record(&mut self, depth: usize) -> Step<SqsRecordFields<'a>> {
        let mut out = SqsRecordFields::default();
        self.object(depth, |s, key, depth| {
            match &*s.key_name(key)? {
                b"messageId" => out.message_id = s.string_only(depth)?,
                b"eventSource" => out.event_source = s.string_only(depth)?,
                b"body" => out.body = s.unescaped_only(depth)?,
                b"messageAttributes" => out.project_id = s.attribute(depth, b"project_id")?,
                _ => s.skip_value(depth)?,
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The `stringValue` of the attribute `name` of the attributes object at `self.i`.
    fn attribute(&mut self, depth: usize, name: &[u8]) -> Step<Option<Cow<'a, str>>> {
        let mut value = None;
        if self.peek() != Some(b'{') {
            self.skip_value(depth)?;
            return Ok(None);
        }
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

    /// A string value's text, unescaped into a `String` of its own; other values are skipped.
    fn unescaped_only(&mut self, depth: usize) -> Step<Option<Result<String, TraceError>>> {
        if self.peek() != Some(b'"') {
            self.skip_value(depth)?;
            return Ok(None);
        }
        let open = self.i;
        let end = self.string_end(open)?;
        self.i = end + 1;
        let text = self.text(open, end)?;
        if !self.has_escapes(open, end) {
            return Ok(Some(Ok(text.to_owned())));
        }
        let mut unescaped = String::new();
        Ok(Some(
            blockmask::unescape_into(text, &mut unescaped)
                .map(|()| unescaped)
                .map_err(|e| TraceError::Json {
                    offset: open + 1 + e.offset,
                    what: "invalid escape in a string",
                }),
        ))
    }
}
