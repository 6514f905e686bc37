//! The fields of a CTS trace that only its readable text needs (the view does not hold them):
//! kept by the scan of a trace read from an input, else read by the scanner's walk when a
//! message is rendered. Both read them through [`Scanner::detail`] and [`Scanner::user_detail`].

use std::borrow::Cow;

use super::{with_scanner, Key, Scanner, Step};
use crate::trace::TraceError;

type Text<'a> = Option<Cow<'a, str>>;

/// String members only (a member of another type reads as missing); a key given twice counts
/// as its last.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Details<'a> {
    pub(crate) source_ip: Text<'a>,
    pub(crate) message: Text<'a>,
    pub(crate) user_domain_name: Text<'a>,
    pub(crate) user_account_id: Text<'a>,
}

impl<'a> Details<'a> {
    /// The fields in a fixed order, for keeping them as spans.
    pub(crate) fn slots(&self) -> [&Text<'a>; 4] {
        [
            &self.source_ip,
            &self.message,
            &self.user_domain_name,
            &self.user_account_id,
        ]
    }

    pub(crate) fn from_slots(
        [source_ip, message, user_domain_name, user_account_id]: [Text<'a>; 4],
    ) -> Self {
        Details {
            source_ip,
            message,
            user_domain_name,
            user_account_id,
        }
    }
}

/// Reads the details of a trace that must be one JSON object.
pub(crate) fn trace_details(trace: &str) -> Result<Details<'_>, TraceError> {
    with_scanner(trace.as_bytes(), |s| {
        let mut out = Details::default();
        s.whole_object("unexpected data after the trace", |s, key, depth| {
            let name = s.key_name(key)?;
            if s.detail(&name, depth, &mut out)? {
                return Ok(());
            }
            if &*name == b"user" && s.peek() == Some(b'{') {
                return s.object(depth, |s, key, depth| {
                    let name = s.key_name(key)?;
                    if !s.user_detail(&name, depth, &mut out)? {
                        s.skip_value(depth)?;
                    }
                    Ok(())
                });
            }
            s.skip_value(depth)
        })?;
        Ok(out)
    })
}

impl<'a> Scanner<'a, '_> {
    /// Reads the value of the top-level member `name` into `out` if it is a detail; tells
    /// whether it was.
    #[inline(always)]
    pub(super) fn detail(
        &mut self,
        name: &[u8],
        depth: usize,
        out: &mut Details<'a>,
    ) -> Step<bool> {
        let slot = match name {
            b"source_ip" => &mut out.source_ip,
            b"message" => &mut out.message,
            _ => return Ok(false),
        };
        *slot = self.string_only(depth)?;
        Ok(true)
    }

    /// Reads the value of the member `name` of `user` into `out` if it is a detail (or holds
    /// one); tells whether it was.
    #[inline(always)]
    pub(super) fn user_detail(
        &mut self,
        name: &[u8],
        depth: usize,
        out: &mut Details<'a>,
    ) -> Step<bool> {
        match name {
            b"account_id" => out.user_account_id = self.string_only(depth)?,
            b"domain" if self.peek() == Some(b'{') => {
                self.object(depth, |s, key: Key<'a>, depth| {
                    if &*s.key_name(key)? == b"name" {
                        out.user_domain_name = s.string_only(depth)?;
                        return Ok(());
                    }
                    s.skip_value(depth)
                })?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
