//! A single-pass JSON scanner for traces. It checks the whole document (so that it can be
//! embedded verbatim in a message) but keeps only the fields matching needs, as slices of the
//! input. Strings are skipped eight bytes at a time: most of a trace is the `request` and
//! `response` strings, which matching never reads.

use std::borrow::Cow;

use super::{TraceError, TraceView};

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Reads the fields of [`TraceView`] from a CTS trace and checks that the whole input is one
/// valid JSON object carrying string `trace_id`, `trace_name`, `service_type` and
/// `resource_type`.
pub fn scan(json: &str) -> Result<TraceView<'_>, TraceError> {
    let mut s = Scanner {
        json,
        b: json.as_bytes(),
        i: 0,
        no_controls: !has_control_bytes(json.as_bytes()),
    };
    s.ws();
    if s.peek() != Some(b'{') {
        return Err(
            if s.i < s.b.len()
                && matches!(
                    s.b[s.i],
                    b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9'
                )
            {
                s.skip_value(0).err().unwrap_or(TraceError::NotAnObject)
            } else {
                s.fail("expected a JSON object")
            },
        );
    }
    let mut view = TraceView::default();
    let mut wrong_type = None;
    s.object(0, |s, key, depth| {
        let slot = match key.as_ref() {
            "trace_id" => &mut view.trace_id,
            "project_id" => &mut view.project_id,
            "trace_name" => &mut view.trace_name,
            "service_type" => &mut view.service_type,
            "resource_type" => &mut view.resource_type,
            "trace_rating" => &mut view.trace_rating,
            "trace_type" => &mut view.trace_type,
            "code" => &mut view.code,
            "api_version" => &mut view.api_version,
            "resource_id" => &mut view.resource_id,
            "resource_name" => &mut view.resource_name,
            "user" => {
                view.user_name = None;
                if s.peek() != Some(b'{') {
                    return s.skip_value(depth);
                }
                return s.object(depth, |s, key, depth| {
                    if key == "name" {
                        view.user_name = s.scalar(depth)?.text;
                        Ok(())
                    } else {
                        s.skip_value(depth)
                    }
                });
            }
            _ => return s.skip_value(depth),
        };
        let value = s.scalar(depth)?;
        if !value.is_string && value.text.is_some() {
            wrong_type = wrong_type.or(IDENTITY.iter().find(|k| **k == key).copied());
        }
        *slot = value.text;
        Ok(())
    })?;
    s.ws();
    if s.i != s.b.len() {
        return Err(s.fail("unexpected data after the trace"));
    }
    if let Some(field) = wrong_type {
        return Err(TraceError::NotAString(field));
    }
    for (name, value) in [
        ("trace_id", &view.trace_id),
        ("trace_name", &view.trace_name),
        ("service_type", &view.service_type),
        ("resource_type", &view.resource_type),
    ] {
        match value {
            None => return Err(TraceError::Missing(name)),
            Some(v) if v.is_empty() => return Err(TraceError::NotAString(name)),
            Some(_) => {}
        }
    }
    if view.project_id.as_deref() == Some("") {
        return Err(TraceError::NotAString("project_id"));
    }
    Ok(view)
}

/// Fields that identify a trace and must be strings when present.
const IDENTITY: [&str; 5] = [
    "trace_id",
    "project_id",
    "trace_name",
    "service_type",
    "resource_type",
];

struct Scalar<'a> {
    text: Option<Cow<'a, str>>,
    is_string: bool,
}

struct Scanner<'a> {
    json: &'a str,
    b: &'a [u8],
    i: usize,
    /// The document holds no byte below 0x20 (no newlines either: compact JSON), so strings
    /// need no check for control characters and can be skipped with `memchr`.
    no_controls: bool,
}

/// Whether any byte is below 0x20, eight bytes at a time (a borrow can only flag bytes above a
/// real one, so "any" is exact).
fn has_control_bytes(b: &[u8]) -> bool {
    let chunks = b.chunks_exact(8);
    let tail = chunks.remainder().iter().any(|&c| c < 0x20);
    let flags = chunks.fold(0u64, |acc, chunk| {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        acc | (w.wrapping_sub(ONES * 0x20) & !w)
    });
    tail || flags & HIGH != 0
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` that is `"`, `\` or a control character (below 0x20).
/// Only the lowest flagged byte is exact (borrows can flag bytes above it), which is all the
/// caller uses.
#[inline]
fn specials(w: u64) -> u64 {
    let quote = w ^ (ONES * b'"' as u64);
    let backslash = w ^ (ONES * b'\\' as u64);
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (zero_quote | zero_backslash | control) & HIGH
}

const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

/// Bit k set where byte k of `w` equals `c` (exact: no borrows between bytes).
#[inline]
fn eq_bits(w: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (ONES * c as u64);
    let equal = !(((x & LOW7) + LOW7) | x) & HIGH;
    // Gathers the eight flags (bit 7 of each byte) into the low byte, byte k to bit k.
    (equal >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bitmasks of the quotes and backslashes of a 64-byte block, bit k for byte k.
#[inline]
fn block_masks(block: &[u8]) -> (u64, u64) {
    let (mut quotes, mut backslashes) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        quotes |= eq_bits(w, b'"') << (8 * k);
        backslashes |= eq_bits(w, b'\\') << (8 * k);
    }
    (quotes, backslashes)
}

/// The positions escaped by a backslash (the character after each escaping backslash), given
/// a block's backslashes; `carry` says whether the block starts escaped.
#[inline]
fn escaped_positions(backslashes: u64, carry: &mut u64) -> u64 {
    let backslashes = backslashes & !*carry;
    let follows_escape = (backslashes << 1) | *carry;
    let odd_sequence_starts = backslashes & !EVEN_BITS & !follows_escape;
    let (sequences_starting_on_even_bits, overflow) =
        odd_sequence_starts.overflowing_add(backslashes);
    *carry = overflow as u64;
    let invert = sequences_starting_on_even_bits << 1;
    (EVEN_BITS ^ invert) & follows_escape
}

/// The first `"` or `\\` at or after `i`. Most strings of a trace are short, so the first 32
/// bytes are searched a word at a time and only longer strings pay for `memchr`'s set-up.
#[inline]
fn find_quote_or_backslash(b: &[u8], mut i: usize) -> Option<usize> {
    for _ in 0..4 {
        let Some(chunk) = b.get(i..i + 8) else {
            return b
                .get(i..)?
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .map(|k| i + k);
        };
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quote = w ^ (ONES * b'"' as u64);
        let backslash = w ^ (ONES * b'\\' as u64);
        let mask = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGH;
        if mask != 0 {
            return Some(i + (mask.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr2(b'"', b'\\', b.get(i..)?).map(|k| i + k)
}

impl<'a> Scanner<'a> {
    fn fail(&self, what: &'static str) -> TraceError {
        TraceError::Json {
            offset: self.i,
            what,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    #[inline]
    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), TraceError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// Walks an object at `self.i` (which is `{`), calling `member` with each key and the
    /// scanner positioned at its value; `member` must consume the value.
    fn object<F>(&mut self, depth: usize, mut member: F) -> Result<(), TraceError>
    where
        F: FnMut(&mut Self, Cow<'a, str>, usize) -> Result<(), TraceError>,
    {
        if depth >= MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.fail("expected a string key"));
            }
            let key = self.string()?;
            self.expect(b':', "expected ':' after a key")?;
            self.ws();
            member(self, key, depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected ',' or '}'")),
            }
        }
    }

    /// Reads a value as comparable text: strings decoded, numbers and booleans as written,
    /// null, objects and arrays as missing.
    fn scalar(&mut self, depth: usize) -> Result<Scalar<'a>, TraceError> {
        let start = self.i;
        match self.peek() {
            Some(b'"') => Ok(Scalar {
                text: Some(self.string()?),
                is_string: true,
            }),
            Some(b'-' | b'0'..=b'9' | b't' | b'f') => {
                self.skip_value(depth)?;
                Ok(Scalar {
                    text: Some(Cow::Borrowed(&self.json[start..self.i])),
                    is_string: false,
                })
            }
            _ => {
                self.skip_value(depth)?;
                Ok(Scalar {
                    text: None,
                    is_string: false,
                })
            }
        }
    }

    /// A string at `self.i` (which is `"`), decoded only when it holds escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, TraceError> {
        let start = self.i;
        let escaped = self.skip_string()?;
        let inner = &self.json[start + 1..self.i - 1];
        if !escaped {
            return Ok(Cow::Borrowed(inner));
        }
        serde_json::from_str::<String>(&self.json[start..self.i])
            .map(Cow::Owned)
            .map_err(|_| TraceError::Json {
                offset: start,
                what: "invalid escape in a string",
            })
    }

    /// Moves past a string at `self.i` (which is `"`); tells whether it held escapes.
    #[inline]
    fn skip_string(&mut self) -> Result<bool, TraceError> {
        if !self.no_controls {
            return self.skip_string_checked();
        }
        match find_quote_or_backslash(self.b, self.i + 1) {
            Some(k) if self.b[k] == b'"' => {
                self.i = k + 1;
                Ok(false)
            }
            Some(k) => self.skip_escaped_rest(k).map(|()| true),
            None => {
                self.i = self.b.len();
                Err(self.fail("unterminated string"))
            }
        }
    }

    /// Finishes a string from its first backslash at `at`. Strings with escapes are mostly
    /// escaped JSON (`request`, `response`) with a backslash every few bytes, so rather than
    /// stopping at each, 64 bytes at a time are turned into quote and backslash bitmasks and
    /// the escaped positions are found with carries (as simdjson does).
    fn skip_escaped_rest(&mut self, mut at: usize) -> Result<(), TraceError> {
        let b = self.b;
        let mut carry = 0u64;
        while at < b.len() {
            let (quotes, backslashes) = match b.get(at..at + 64) {
                Some(block) => block_masks(block),
                None => {
                    let mut padded = [0u8; 64];
                    padded[..b.len() - at].copy_from_slice(&b[at..]);
                    block_masks(&padded)
                }
            };
            let escaped = escaped_positions(backslashes, &mut carry);
            let ends = quotes & !escaped;
            let end = ends.trailing_zeros();
            let mut to_check = escaped
                & if end == 64 {
                    u64::MAX
                } else {
                    (1u64 << end) - 1
                };
            while to_check != 0 {
                let p = at + to_check.trailing_zeros() as usize;
                self.escape_len(p - 1)?;
                to_check &= to_check - 1;
            }
            if ends != 0 {
                self.i = at + end as usize + 1;
                return Ok(());
            }
            at += 64;
        }
        self.i = b.len();
        Err(self.fail("unterminated string"))
    }

    /// The length of the escape sequence at `i` (which is `\`).
    #[inline]
    fn escape_len(&mut self, i: usize) -> Result<usize, TraceError> {
        let b = self.b;
        match b.get(i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(2),
            Some(b'u')
                if b.get(i + 2..i + 6)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
            {
                Ok(6)
            }
            _ => {
                self.i = i;
                Err(self.fail("invalid escape in a string"))
            }
        }
    }

    /// [`Self::skip_string`] for documents that hold control bytes: checks every byte.
    fn skip_string_checked(&mut self) -> Result<bool, TraceError> {
        let b = self.b;
        let mut i = self.i + 1;
        let mut escaped = false;
        loop {
            while let Some(chunk) = b.get(i..i + 8) {
                let mask = specials(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
                if mask != 0 {
                    i += (mask.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
                i += 1;
            }
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    i += match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u')
                            if b.get(i + 2..i + 6)
                                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                        {
                            6
                        }
                        _ => {
                            self.i = i;
                            return Err(self.fail("invalid escape in a string"));
                        }
                    };
                }
                Some(_) => {
                    self.i = i;
                    return Err(self.fail("control character in a string"));
                }
                None => {
                    self.i = i;
                    return Err(self.fail("unterminated string"));
                }
            }
        }
    }

    fn skip_value(&mut self, depth: usize) -> Result<(), TraceError> {
        match self.peek() {
            Some(b'"') => self.skip_string().map(drop),
            Some(b'{') => self.object(depth, |s, _, depth| s.skip_value(depth)),
            Some(b'[') => self.array(depth),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.fail("expected a value")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), TraceError> {
        if depth >= MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.skip_value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected ',' or ']'")),
            }
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), TraceError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.fail("invalid literal"))
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<(), TraceError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.fail("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.one_or_more_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Result<(), TraceError> {
        let start = self.i;
        self.digits();
        if self.i == start {
            return Err(self.fail("invalid number"));
        }
        Ok(())
    }
}
