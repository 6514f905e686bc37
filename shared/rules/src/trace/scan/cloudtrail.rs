//! The fields of a CloudTrail record a trace takes, read by the trace scanner's walk: the whole
//! record checked in one pass over its first-stage masks, only these fields kept (as slices of
//! the record, decoded only when they hold escapes). A key given twice counts as its last, as
//! in any JSON object read whole.

use std::borrow::Cow;

use super::{with_scanner, Key, Scanner, Step};
use crate::trace::TraceError;

/// A string's text, when the value is one.
type Text<'a> = Option<Cow<'a, str>>;

/// A top-level value of a record, as the fields built from it distinguish them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Null,
    Text(Cow<'a, str>),
    /// A number, `true` or `false`, as written.
    Literal(&'a str),
    Container,
}

/// What [`cloudtrail_fields`] keeps of a record.
#[derive(Debug, Default)]
pub(crate) struct RecordFields<'a> {
    pub(crate) event_source: Option<Value<'a>>,
    pub(crate) event_name: Option<Value<'a>>,
    pub(crate) event_id: Option<Value<'a>>,
    pub(crate) event_type: Option<Value<'a>>,
    pub(crate) event_time: Option<Value<'a>>,
    pub(crate) error_code: Option<Value<'a>>,
    pub(crate) error_message: Option<Value<'a>>,
    pub(crate) source_ip: Option<Value<'a>>,
    pub(crate) request_id: Option<Value<'a>>,
    pub(crate) read_only: Option<Value<'a>>,
    pub(crate) recipient_account_id: Option<Value<'a>>,
    pub(crate) session_credential_from_console: Option<Value<'a>>,
    /// `userIdentity`'s string members (none when it is not an object).
    pub(crate) identity: Identity<'a>,
    /// The first string `type` and the first string `ARN` among `resources`' objects.
    pub(crate) resource_type: Option<Cow<'a, str>>,
    pub(crate) resource_arn: Option<Cow<'a, str>>,
}

#[derive(Debug, Default)]
pub(crate) struct Identity<'a> {
    pub(crate) kind: Option<Cow<'a, str>>,
    pub(crate) principal_id: Option<Cow<'a, str>>,
    pub(crate) arn: Option<Cow<'a, str>>,
    pub(crate) account_id: Option<Cow<'a, str>>,
    pub(crate) access_key_id: Option<Cow<'a, str>>,
    pub(crate) user_name: Option<Cow<'a, str>>,
}

/// Reads the fields of a record that must be one JSON object; any other input, or invalid
/// JSON, is an error.
pub(crate) fn cloudtrail_fields(record: &str) -> Result<RecordFields<'_>, TraceError> {
    with_scanner(record.as_bytes(), |s| {
        let mut fields = RecordFields::default();
        s.record(&mut fields)?;
        Ok(fields)
    })
}

impl<'a> RecordFields<'a> {
    fn top(&mut self, key: &[u8]) -> Option<Top<'_, 'a>> {
        Some(Top::Value(match key {
            b"eventSource" => &mut self.event_source,
            b"eventName" => &mut self.event_name,
            b"eventID" => &mut self.event_id,
            b"eventType" => &mut self.event_type,
            b"eventTime" => &mut self.event_time,
            b"errorCode" => &mut self.error_code,
            b"errorMessage" => &mut self.error_message,
            b"sourceIPAddress" => &mut self.source_ip,
            b"requestID" => &mut self.request_id,
            b"readOnly" => &mut self.read_only,
            b"recipientAccountId" => &mut self.recipient_account_id,
            b"sessionCredentialFromConsole" => &mut self.session_credential_from_console,
            b"userIdentity" => return Some(Top::Identity),
            b"resources" => return Some(Top::Resources),
            _ => return None,
        }))
    }
}

enum Top<'f, 'a> {
    Value(&'f mut Option<Value<'a>>),
    Identity,
    Resources,
}

impl<'a> Identity<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<&mut Option<Cow<'a, str>>> {
        Some(match key {
            b"type" => &mut self.kind,
            b"principalId" => &mut self.principal_id,
            b"arn" => &mut self.arn,
            b"accountId" => &mut self.account_id,
            b"accessKeyId" => &mut self.access_key_id,
            b"userName" => &mut self.user_name,
            _ => return None,
        })
    }
}

impl<'a> Scanner<'a, '_> {
    /// The whole input: one object, then only whitespace.
    fn record(&mut self, out: &mut RecordFields<'a>) -> Step<()> {
        self.whole_object("unexpected data after the record", |s, key, depth| {
            let name = s.key_name(key)?;
            match out.top(&name) {
                None => s.skip_value(depth),
                Some(Top::Value(slot)) => {
                    *slot = Some(s.value(depth)?);
                    Ok(())
                }
                Some(Top::Identity) => {
                    out.identity = Identity::default();
                    if s.peek() != Some(b'{') {
                        return s.skip_value(depth);
                    }
                    let identity = &mut out.identity;
                    s.object(depth, |s, key, depth| {
                        match identity.slot(&s.key_name(key)?) {
                            Some(slot) => *slot = s.string_only(depth)?,
                            None => s.skip_value(depth)?,
                        }
                        Ok(())
                    })
                }
                Some(Top::Resources) => {
                    (out.resource_type, out.resource_arn) = (None, None);
                    if s.peek() != Some(b'[') {
                        return s.skip_value(depth);
                    }
                    s.elements(depth, |s, depth| {
                        let (kind, arn) = s.resource(depth)?;
                        out.resource_type = out.resource_type.take().or(kind);
                        out.resource_arn = out.resource_arn.take().or(arn);
                        Ok(())
                    })
                }
            }
        })
    }

    /// One element of `resources`: its `type` and `ARN` when it is an object and they are
    /// strings.
    fn resource(&mut self, depth: usize) -> Step<(Text<'a>, Text<'a>)> {
        let (mut kind, mut arn) = (None, None);
        if self.peek() != Some(b'{') {
            self.skip_value(depth)?;
            return Ok((None, None));
        }
        self.object(depth, |s, key, depth| {
            match &*s.key_name(key)? {
                b"type" => kind = s.string_only(depth)?,
                b"ARN" => arn = s.string_only(depth)?,
                _ => s.skip_value(depth)?,
            }
            Ok(())
        })?;
        Ok((kind, arn))
    }

    /// A key's name, escapes decoded (most keys have none and are borrowed).
    #[inline(always)]
    pub(super) fn key_name(&mut self, key: Key<'a>) -> Step<Cow<'a, [u8]>> {
        if !self.has_escapes(key.open, key.end) {
            return Ok(Cow::Borrowed(key.raw));
        }
        Ok(Cow::Owned(
            super::decode(self.json, key.open, key.end)?.into_bytes(),
        ))
    }

    /// A value: strings decoded, numbers and literals as written.
    pub(super) fn value(&mut self, depth: usize) -> Step<Value<'a>> {
        let start = self.i;
        Ok(match self.peek() {
            Some(b'"') => Value::Text(self.string()?),
            Some(b'n') => {
                self.skip_value(depth)?;
                Value::Null
            }
            Some(b'{' | b'[') => {
                self.skip_value(depth)?;
                Value::Container
            }
            _ => {
                self.skip_value(depth)?;
                Value::Literal(&self.json[start..self.i])
            }
        })
    }

    /// A value's text if it is a string; other values are skipped.
    pub(super) fn string_only(&mut self, depth: usize) -> Step<Text<'a>> {
        if self.peek() == Some(b'"') {
            return self.string().map(Some);
        }
        self.skip_value(depth)?;
        Ok(None)
    }
}
