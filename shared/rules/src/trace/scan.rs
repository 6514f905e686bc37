//! A single-pass JSON scanner for traces. It checks the whole document (so that it can be
//! embedded verbatim in a message) but keeps only the fields matching needs, as slices of the
//! input. Most of a trace is strings matching never reads (`request` and `response` are
//! escaped JSON), so strings are never walked byte by byte: [`blockmask`] turns each 64-byte
//! block into quote, backslash and control-byte bitmasks, and a string's end, the validity of
//! its escapes and the absence of control bytes are bit operations on them (simdjson's stage 1).

use std::borrow::Cow;

use blockmask::{prefix_xor, Masks, TextError};

use super::{TraceError, TraceView};
use crate::fields::Field;

mod cloudtrail;
mod details;
mod sqs;

pub(crate) use cloudtrail::{cloudtrail_fields, Value};
pub(crate) use details::trace_details;
pub use details::Details;
pub(crate) use sqs::sqs_batch_fields;

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Documents of up to this many 64-byte blocks are indexed on the stack; traces are about
/// 1.2 KB.
const INLINE_BLOCKS: usize = 48;

/// Reads the fields of [`TraceView`] from a CTS trace and checks that the whole input is one
/// valid JSON object carrying string `trace_id`, `trace_name`, `service_type` and
/// `resource_type`.
pub fn scan(json: &str) -> Result<TraceView<'_>, TraceError> {
    scan_bytes(json.as_bytes())
}

/// [`scan`] from bytes, which must be UTF-8 (checked as part of the first stage).
pub fn scan_bytes(bytes: &[u8]) -> Result<TraceView<'_>, TraceError> {
    with_scanner(bytes, |s| {
        s.trace::<false>(&mut false, &mut Details::default())
    })
}

/// [`scan`] with the trace's [`Details`] too, or `None` when the document names at its top a
/// key that tells another input shape (`detail-type`, `eventSource`, `Records`, `Event`): a
/// document to be told apart first.
pub(crate) fn scan_if_trace(
    json: &str,
) -> Result<Option<(TraceView<'_>, Details<'_>)>, TraceError> {
    with_scanner(json.as_bytes(), |s| {
        let mut other_shape = false;
        let mut details = Details::default();
        match s.trace::<true>(&mut other_shape, &mut details) {
            _ if other_shape => Ok(None),
            view => view.map(|view| Some((view, details))),
        }
    })
}

/// Runs the first stage over `bytes` (UTF-8 checked, strings indexed), then `walk` with a
/// scanner at their start.
fn with_scanner<'a, T>(
    bytes: &'a [u8],
    walk: impl FnOnce(&mut Scanner<'a, '_>) -> Result<T, TraceError>,
) -> Result<T, TraceError> {
    let blocks = blockmask::blocks_in(bytes.len());
    let mut inline = [Masks::default(); INLINE_BLOCKS];
    let mut heap = Vec::new();
    let masks: &mut [Masks] = match inline.get_mut(..blocks) {
        Some(on_stack) => on_stack,
        None => {
            heap.resize(blocks, Masks::default());
            &mut heap
        }
    };
    let json = blockmask::classify_text(bytes, masks).map_err(|e| match e {
        TextError::NotUtf8 { valid_up_to } => TraceError::Json {
            offset: valid_up_to,
            what: "not UTF-8",
        },
        TextError::BufferTooSmall => TraceError::Json {
            offset: 0,
            what: "too large to index",
        },
    })?;
    let first_backslash = index_strings(bytes, masks)?;
    walk(&mut Scanner {
        json,
        i: 0,
        masks,
        word: 0,
        quotes: masks.first().map_or(0, |m| m.quotes),
        first_backslash,
    })
}

struct Scalar<'a> {
    text: Option<Cow<'a, str>>,
    is_string: bool,
}

/// An object's key as written, and where its quotes are.
#[derive(Clone, Copy)]
struct Key<'a> {
    raw: &'a [u8],
    open: usize,
    end: usize,
}

/// Why scanning stopped; small, so that the scanner's many results stay cheap.
enum Stop {
    Json { offset: usize, what: &'static str },
    NotAnObject,
}

impl From<Stop> for TraceError {
    fn from(stop: Stop) -> TraceError {
        match stop {
            Stop::Json { offset, what } => TraceError::Json { offset, what },
            Stop::NotAnObject => TraceError::NotAnObject,
        }
    }
}

/// The text of the string between the quotes at `open` and `end`, which holds escapes.
#[cold]
fn decode(json: &str, open: usize, end: usize) -> Step<String> {
    json.get(open..=end)
        .and_then(|quoted| serde_json::from_str::<String>(quoted).ok())
        .ok_or_else(|| fail(open, "invalid escape in a string"))
}

#[cold]
fn fail(offset: usize, what: &'static str) -> Stop {
    Stop::Json { offset, what }
}

type Step<T> = Result<T, Stop>;

/// The scanner's state is plain values, copied rather than borrowed into the functions that
/// cannot be inlined (containers recurse), so that the compiler keeps it in registers.
#[derive(Clone, Copy)]
struct Scanner<'a, 'm> {
    json: &'a str,
    i: usize,
    /// The first stage's masks, `quotes` narrowed to those that open or close strings.
    masks: &'m [Masks],
    /// The string quotes not yet passed: those of `masks[word]` in `quotes`, then those of
    /// the words after it. Strings are read in order and nothing outside them is a quote, so
    /// a string's quotes are always the next two.
    word: usize,
    quotes: u64,
    /// Where the document's first backslash is: strings that end before it have no escapes,
    /// which settles the question for most strings of a trace without looking at the masks.
    first_backslash: usize,
}

/// Narrows each block's quotes to those that open or close strings (the unescaped ones) and
/// checks what the scanner never looks at: the contents of strings (every escape known, no
/// control byte). Every byte outside strings is read by the scanner itself. Returns where the
/// first backslash is.
fn index_strings(b: &[u8], masks: &mut [Masks]) -> Result<usize, TraceError> {
    let mut escape_carry = 0u64;
    let mut controls = 0u64;
    let mut first_backslash = usize::MAX;
    for (k, m) in masks.iter_mut().enumerate() {
        controls |= m.controls;
        if m.backslashes | escape_carry != 0 {
            if first_backslash == usize::MAX && m.backslashes != 0 {
                first_backslash = 64 * k + m.backslashes.trailing_zeros() as usize;
            }
            let escaped = blockmask::escaped_positions(m.backslashes, &mut escape_carry);
            // `\"` and `\\`, nearly every escape of escaped JSON, are known valid from the
            // masks; the others are looked at.
            let mut to_check = escaped & !(m.quotes | m.backslashes);
            m.quotes &= !escaped;
            while to_check != 0 {
                check_escape(b, 64 * k + to_check.trailing_zeros() as usize)?;
                to_check &= to_check - 1;
            }
        }
    }
    if controls == 0 {
        return Ok(first_backslash);
    }
    // Compact JSON has no control bytes at all; pretty-printed JSON has them outside strings.
    let mut in_string = 0u64;
    for (k, m) in masks.iter().enumerate() {
        let inside = prefix_xor(m.quotes) ^ in_string;
        if m.controls & inside != 0 {
            return Err(TraceError::Json {
                offset: 64 * k + (m.controls & inside).trailing_zeros() as usize,
                what: "control character in a string",
            });
        }
        // The last bit of the prefix XOR is the parity of the block's string quotes.
        in_string = 0u64.wrapping_sub(inside >> 63);
    }
    Ok(first_backslash)
}

/// The byte at `at` follows an escaping backslash.
#[inline]
fn check_escape(b: &[u8], at: usize) -> Result<(), TraceError> {
    match b.get(at) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(()),
        Some(b'u')
            if b.get(at + 1..at + 5)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
        {
            Ok(())
        }
        _ => Err(TraceError::Json {
            offset: at.saturating_sub(1),
            what: "invalid escape in a string",
        }),
    }
}

/// Bits below `n` (`n < 64`).
#[inline]
fn low_bits(n: usize) -> u64 {
    (1u64 << n) - 1
}

impl<'a> Scanner<'a, '_> {
    fn fail(&self, what: &'static str) -> Stop {
        fail(self.i, what)
    }

    /// A CTS trace's fields, checked. With `SHAPES` (a trace read from an input), its details
    /// are kept too and `other_shape` is set when a top-level key tells another input shape;
    /// without (matching alone), nothing looks at the keys no field has.
    fn trace<const SHAPES: bool>(
        &mut self,
        other_shape: &mut bool,
        details: &mut Details<'a>,
    ) -> Result<TraceView<'a>, TraceError> {
        let mut view = TraceView::default();
        let mut wrong_type = None;
        self.document::<SHAPES>(&mut view, &mut wrong_type, other_shape, details)?;
        if let Some(field) = wrong_type {
            return Err(TraceError::NotAString(field));
        }
        view.check_identity()?;
        Ok(view)
    }

    /// The whole input: one object, then only whitespace.
    fn document<const SHAPES: bool>(
        &mut self,
        view: &mut TraceView<'a>,
        wrong_type: &mut Option<&'static str>,
        other_shape: &mut bool,
        details: &mut Details<'a>,
    ) -> Step<()> {
        self.ws();
        match self.peek() {
            Some(b'{') => {}
            Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                // Valid JSON that is not an object, or not JSON at all: say which.
                self.skip_value(0)?;
                return Err(Stop::NotAnObject);
            }
            _ => return Err(self.fail("expected a JSON object")),
        }
        self.object(0, |s, key, depth| {
            let Some(field) = s.field(key)? else {
                if SHAPES {
                    let name = s.key_name(key)?;
                    if s.detail(&name, depth, details)? {
                        return Ok(());
                    }
                    *other_shape |= matches!(
                        &*name,
                        b"detail-type" | b"eventSource" | b"Records" | b"Event"
                    );
                }
                return s.skip_value(depth);
            };
            let slot = view.slot_mut(field);
            if let Some(inner) = field.nested() {
                *slot = None;
                if s.peek() != Some(b'{') {
                    return s.skip_value(depth);
                }
                return s.object(depth, |s, key, depth| {
                    if SHAPES && field == Field::User {
                        let name = s.key_name(key)?;
                        if &*name == inner {
                            *slot = s.scalar(depth)?.text;
                        } else if !s.user_detail(&name, depth, details)? {
                            s.skip_value(depth)?;
                        }
                        return Ok(());
                    }
                    if s.key_is(key, inner)? {
                        *slot = s.scalar(depth)?.text;
                        Ok(())
                    } else {
                        s.skip_value(depth)
                    }
                });
            }
            let value = s.scalar(depth)?;
            if !value.is_string && value.text.is_some() {
                *wrong_type = wrong_type.or(field.identity_name());
            }
            *slot = value.text;
            Ok(())
        })?;
        self.only_whitespace_left("unexpected data after the trace")
    }

    /// The whole input: one object, each member given to `member` (as [`Self::object`] does),
    /// then only whitespace; `what` names the document in the error for data after it.
    #[inline(always)]
    fn whole_object<F>(&mut self, what: &'static str, member: F) -> Step<()>
    where
        F: FnMut(&mut Self, Key<'a>, usize) -> Step<()>,
    {
        self.ws();
        if self.peek() != Some(b'{') {
            return Err(self.fail("expected a JSON object"));
        }
        self.object(0, member)?;
        self.only_whitespace_left(what)
    }

    /// The document ends here but for whitespace; `what` says otherwise.
    fn only_whitespace_left(&mut self, what: &'static str) -> Step<()> {
        self.ws();
        if self.i != self.json.len() {
            return Err(self.fail(what));
        }
        Ok(())
    }

    /// The closing quote of the string opened at `open`: the next two string quotes are the
    /// string's own.
    #[inline(always)]
    fn string_end(&mut self, open: usize) -> Step<usize> {
        // Most strings open and close within one block.
        let after_open = self.quotes & self.quotes.wrapping_sub(1);
        if self.quotes != 0 && after_open != 0 {
            debug_assert_eq!(64 * self.word + self.quotes.trailing_zeros() as usize, open);
            self.quotes = after_open & (after_open - 1);
            return Ok(64 * self.word + after_open.trailing_zeros() as usize);
        }
        self.string_end_across_blocks(open)
    }

    /// [`Self::string_end`] for a string whose quotes are not both in the current block.
    #[inline(always)]
    fn string_end_across_blocks(&mut self, open: usize) -> Step<usize> {
        let unterminated = || fail(open, "unterminated string");
        let opening = self.quotes_from(self.quotes).ok_or_else(unterminated)?;
        // Nothing the scanner has passed outside strings was a quote or a backslash (it would
        // have refused either), so the next string quote is this string's opening one.
        debug_assert_eq!(64 * self.word + opening.trailing_zeros() as usize, open);
        let closing = self
            .quotes_from(opening & (opening - 1))
            .ok_or_else(unterminated)?;
        self.quotes = closing & (closing - 1);
        Ok(64 * self.word + closing.trailing_zeros() as usize)
    }

    /// `quotes` if it holds any, else the string quotes of the next block that has some.
    #[inline(always)]
    fn quotes_from(&mut self, mut quotes: u64) -> Option<u64> {
        while quotes == 0 {
            self.word += 1;
            quotes = self.masks.get(self.word)?.quotes;
        }
        Some(quotes)
    }

    /// The text between the quotes at `open` and `end`, as written.
    #[inline(always)]
    fn text(&self, open: usize, end: usize) -> Step<&'a str> {
        self.json
            .get(open + 1..end)
            .ok_or_else(|| fail(open, "a string out of place"))
    }

    /// Whether the string between the quotes at `open` and `end` holds a backslash.
    #[inline(always)]
    fn has_escapes(&self, open: usize, end: usize) -> bool {
        if end <= self.first_backslash {
            return false;
        }
        let backslashes = |w: usize| self.masks.get(w).map_or(0, |m| m.backslashes);
        let (first, last) = (open / 64, end / 64);
        let before_end = backslashes(last) & low_bits(end % 64);
        if first == last {
            return before_end >> (open % 64) != 0;
        }
        before_end != 0
            || backslashes(first) >> (open % 64) != 0
            || (first + 1..last).any(|w| backslashes(w) != 0)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.json.as_bytes().get(self.i).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    /// Walks an object at `self.i` (which is `{`), calling `member` with each key and the
    /// scanner positioned at its value; `member` must consume the value.
    #[inline(always)]
    fn object<F>(&mut self, depth: usize, mut member: F) -> Step<()>
    where
        F: FnMut(&mut Self, Key<'a>, usize) -> Step<()>,
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
            if self.peek() != Some(b'"') {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(self.fail("expected a string key"));
                }
            }
            let open = self.i;
            let end = self.string_end(open)?;
            self.i = end + 1;
            let key = Key {
                raw: (self.json.as_bytes().get(open + 1..end))
                    .ok_or_else(|| fail(open, "a string out of place"))?,
                open,
                end,
            };
            if self.peek() != Some(b':') {
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.fail("expected ':' after a key"));
                }
            }
            self.i += 1;
            self.ws();
            member(self, key, depth + 1)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => {
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
        }
    }

    /// Whether `key` is `name`, escapes decoded. Most keys are compared raw: a name without a
    /// backslash cannot be spelled with escapes, so only a key that differs is checked for them.
    #[inline(always)]
    fn key_is(&mut self, key: Key<'a>, name: &[u8]) -> Step<bool> {
        if key.raw == name {
            return Ok(true);
        }
        self.key_escaped_is(key, |decoded| decoded == name)
    }

    /// The field `key` names, escapes decoded.
    #[inline(always)]
    fn field(&mut self, key: Key<'a>) -> Step<Option<Field>> {
        if let Some(field) = Field::of(key.raw) {
            return Ok(Some(field));
        }
        let mut field = None;
        self.key_escaped_is(key, |decoded| {
            field = Field::of(decoded);
            field.is_some()
        })?;
        Ok(field)
    }

    /// Whether `key` holds escapes and its decoded text passes `test`.
    #[inline(always)]
    fn key_escaped_is(&mut self, key: Key<'a>, test: impl FnOnce(&[u8]) -> bool) -> Step<bool> {
        if !self.has_escapes(key.open, key.end) {
            return Ok(false);
        }
        Ok(test(decode(self.json, key.open, key.end)?.as_bytes()))
    }

    /// Reads a value as comparable text: strings decoded, numbers and booleans as written,
    /// null, objects and arrays as missing.
    #[inline(always)]
    fn scalar(&mut self, depth: usize) -> Step<Scalar<'a>> {
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
    #[inline(always)]
    fn string(&mut self) -> Step<Cow<'a, str>> {
        let open = self.i;
        let end = self.string_end(open)?;
        self.i = end + 1;
        if self.has_escapes(open, end) {
            return decode(self.json, open, end).map(Cow::Owned);
        }
        self.text(open, end).map(Cow::Borrowed)
    }

    /// Moves past a value. Strings and numbers, nearly every value of a trace, are skipped
    /// here too; containers by [`Self::skip_container`], which recurses.
    #[inline(always)]
    fn skip_value(&mut self, depth: usize) -> Step<()> {
        match self.peek() {
            Some(b'"') => {
                self.i = self.string_end(self.i)? + 1;
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'{' | b'[') => {
                *self = self.skip_container(depth)?;
                Ok(())
            }
            _ => Err(self.fail("expected a value")),
        }
    }

    /// Moves past an object or array: a copy of the scanner goes in and comes back, so that
    /// the caller's stays in registers.
    #[inline(never)]
    fn skip_container(mut self, depth: usize) -> Step<Self> {
        if self.peek() == Some(b'{') {
            self.object(depth, |s, _, depth| s.skip_value(depth))?;
        } else {
            self.array(depth)?;
        }
        Ok(self)
    }

    fn array(&mut self, depth: usize) -> Step<()> {
        self.elements(depth, |s, depth| s.skip_value(depth))
    }

    /// Walks the array at `self.i`, `each` reading (or skipping) every element.
    #[inline(always)]
    fn elements<F>(&mut self, depth: usize, mut each: F) -> Step<()>
    where
        F: FnMut(&mut Self, usize) -> Step<()>,
    {
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
            each(self, depth + 1)?;
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

    #[inline(always)]
    fn literal(&mut self, word: &'static [u8]) -> Step<()> {
        if self
            .json
            .as_bytes()
            .get(self.i..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.fail("invalid literal"))
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    #[inline(always)]
    fn number(&mut self) -> Step<()> {
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

    /// Moves past ASCII digits, eight at a time (traces carry 13-digit timestamps).
    #[inline(always)]
    fn digits(&mut self) {
        const LOW_NIBBLES_CLEAR: u64 = 0xf0f0_f0f0_f0f0_f0f0;
        const THREES: u64 = 0x3030_3030_3030_3030;
        while let Some(chunk) = self.json.as_bytes().get(self.i..self.i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            // A byte is a digit when its high nibble is 3, before and after adding 6. A carry
            // out of a byte only disturbs the bytes above it, and that byte is flagged itself.
            let not_digit = ((w & LOW_NIBBLES_CLEAR) ^ THREES)
                | ((w.wrapping_add(0x0606_0606_0606_0606) & LOW_NIBBLES_CLEAR) ^ THREES);
            if not_digit != 0 {
                self.i += (not_digit.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Step<()> {
        let start = self.i;
        self.digits();
        if self.i == start {
            return Err(self.fail("invalid number"));
        }
        Ok(())
    }
}
