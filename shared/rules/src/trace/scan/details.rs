//! The fields of a CTS trace that only its readable text needs (the view does not hold them),
//! read by the trace scanner's walk when a message is rendered.

use std::borrow::Cow;

use super::{with_scanner, Scanner, Step, Value};
use crate::trace::TraceError;

type Text<'a> = Option<Cow<'a, str>>;

/// What [`trace_details`] keeps: string members only (a member of another type is left out),
/// `time` as its text when it is a number or a string.
#[derive(Debug, Default)]
pub(crate) struct Details<'a> {
    pub(crate) source_ip: Text<'a>,
    pub(crate) time: Text<'a>,
    pub(crate) message: Text<'a>,
    pub(crate) user_domain_name: Text<'a>,
    pub(crate) user_account_id: Text<'a>,
}

/// Reads the details of a trace that must be one JSON object.
pub(crate) fn trace_details(trace: &str) -> Result<Details<'_>, TraceError> {
    with_scanner(trace.as_bytes(), |s| {
        let mut out = Details::default();
        s.details(&mut out)?;
        Ok(out)
    })
}

impl<'a> Scanner<'a, '_> {
    fn details(&mut self, out: &mut Details<'a>) -> Step<()> {
        self.whole_object("unexpected data after the trace", |s, key, depth| {
            match &*s.key_name(key)? {
                b"source_ip" => out.source_ip = s.string_only(depth)?,
                b"message" => out.message = s.string_only(depth)?,
                b"time" => {
                    out.time = match s.value(depth)? {
                        Value::Text(t) => Some(t),
                        Value::Literal(l) => Some(Cow::Borrowed(l)),
                        Value::Null | Value::Container => None,
                    }
                }
                b"user" if s.peek() == Some(b'{') => s.object(depth, |s, key, depth| {
                    match &*s.key_name(key)? {
                        b"account_id" => out.user_account_id = s.string_only(depth)?,
                        b"domain" if s.peek() == Some(b'{') => {
                            s.object(depth, |s, key, depth| {
                                if &*s.key_name(key)? == b"name" {
                                    out.user_domain_name = s.string_only(depth)?;
                                    return Ok(());
                                }
                                s.skip_value(depth)
                            })?
                        }
                        _ => s.skip_value(depth)?,
                    }
                    Ok(())
                })?,
                _ => s.skip_value(depth)?,
            }
            Ok(())
        })
    }
}
