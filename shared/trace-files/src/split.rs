//! A trace file's decompressed bytes split into records as they arrive, holding no more than the
//! record being read. The layouts: CloudTrail's `{"Records": [...]}`, CTS's `{"traces": [...]}`,
//! a JSON array of records, and one record per line (any JSON values one after another).
//!
//! Only the structure is read here (strings, brackets, commas); each record is parsed by whoever
//! takes it, so that a malformed record spoils itself alone. Inside records, where nearly every
//! byte is, whole 64-byte blocks are read as bitmasks ([`blockmask::Structure`]): a record's end
//! is found from its brackets outside strings, a few bit operations a block.

use std::io;
use std::ops::Range;

use blockmask::{escaped_positions, prefix_xor, Structure};

use crate::FileError;

/// How the records sit in the file, known from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{"Records": [...]}` or `{"traces": [...]}`: the array must be the object's first key
    /// (as CloudTrail writes it); other keys after it are skipped.
    Container,
    /// `[...]`: each element a record.
    Array,
    /// Values one after another, usually one per line.
    Lines,
}

/// Keys whose array holds the records when an object opens the file.
const CONTAINER_KEYS: [&[u8]; 2] = [b"Records", b"traces"];

/// How far into the file the first key is looked for before the file is read as lines.
const DETECT_WITHIN: usize = 4096;

/// Bytes are taken in as the decompressor writes them ([`io::Write`]); records are handed out
/// as ranges of the buffer by [`Splitter::next_record`].
#[derive(Debug)]
pub(crate) struct Splitter {
    buf: Vec<u8>,
    /// The masks of the whole blocks of `buf` classified so far, block k for `buf[64 * k..]`.
    structure: Vec<Structure>,
    /// Where scanning resumes.
    pos: usize,
    layout: Option<Layout>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The record being read: its first byte, and whether it is a bare scalar (which ends at
    /// the next delimiter rather than at a bracket).
    record: Option<(usize, bool)>,
    /// Records are still to come at their depth (false once a container's array has closed).
    open: bool,
    written: u64,
    max_written: u64,
    max_record: usize,
    eof: bool,
}

impl Splitter {
    pub(crate) fn new(max_written: u64, max_record: usize) -> Self {
        Splitter {
            buf: Vec::with_capacity(64 * 1024),
            structure: Vec::new(),
            pos: 0,
            layout: None,
            depth: 0,
            in_string: false,
            escaped: false,
            record: None,
            open: true,
            written: 0,
            max_written,
            max_record,
            eof: false,
        }
    }

    pub(crate) fn layout(&self) -> Option<Layout> {
        self.layout
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Bytes held: the record being read and what is not scanned yet.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() - self.record.map_or(self.pos, |(start, _)| start)
    }

    pub(crate) fn bytes(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// No more bytes will come: the next calls find the last records, then whether the file
    /// ended where it may.
    pub(crate) fn end(&mut self) {
        self.eof = true;
    }

    /// The next whole record, `None` when more bytes are needed (or, after [`Splitter::end`],
    /// when the file is done).
    pub(crate) fn next_record(&mut self) -> Result<Option<Range<usize>>, FileError> {
        if self.layout.is_none() && !self.detect()? {
            return Ok(None);
        }
        let record_depth = match self.layout {
            Some(Layout::Container) => 2,
            Some(Layout::Array) => 1,
            _ => 0,
        };
        let found = self.scan(record_depth)?;
        if let Some((start, _)) = self.record {
            if self.pos - start > self.max_record {
                return Err(FileError::RecordTooLarge(self.max_record));
            }
        }
        if found.is_none() && self.eof {
            self.check_end()?;
        }
        Ok(found)
    }

    /// Scans from `pos` to the end of the next record at `record_depth`.
    fn scan(&mut self, record_depth: u32) -> Result<Option<Range<usize>>, FileError> {
        let len = self.buf.len();
        while self.pos < len {
            if !self.in_string
                && matches!(self.record, Some((_, false)))
                && self.depth > record_depth
            {
                if let Some(range) = self.inside_record(record_depth) {
                    return Ok(Some(range));
                }
                continue;
            }
            if self.in_string {
                // An escape the last bytes ended in: its escaped byte is the first of these.
                let from = self.pos + usize::from(self.escaped);
                match past_string(&self.buf, from) {
                    Ok(end) => {
                        (self.in_string, self.escaped, self.pos) = (false, false, end);
                        if self.depth == record_depth {
                            if let Some(range) = self.take_record(end) {
                                return Ok(Some(range));
                            }
                        }
                    }
                    Err(escaped) => (self.pos, self.escaped) = (len, escaped),
                }
                continue;
            }
            let byte = self.buf[self.pos];
            if let Some((_, true)) = self.record {
                // A bare scalar ends before its delimiter, which is then read as structure.
                if is_delimiter(byte) {
                    return Ok(self.take_record(self.pos));
                }
                self.pos += 1;
                continue;
            }
            let at_record = self.depth == record_depth && self.open;
            match byte {
                b'"' => {
                    if at_record {
                        self.record = Some((self.pos, false));
                    }
                    self.in_string = true;
                }
                b'{' | b'[' => {
                    if at_record {
                        self.record = Some((self.pos, false));
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        return Err(FileError::NotJson("a bracket closes that never opened"));
                    }
                    self.depth -= 1;
                    if self.depth < record_depth {
                        // The records' array (or the file's object) has closed.
                        self.open = false;
                    } else if self.depth == record_depth && self.record.is_some() {
                        self.pos += 1;
                        let range = self.take_record(self.pos);
                        return Ok(range);
                    }
                }
                b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' => {}
                _ if at_record => self.record = Some((self.pos, true)),
                _ => {}
            }
            self.pos += 1;
        }
        if self.eof {
            if let Some((_, true)) = self.record {
                return Ok(self.take_record(len));
            }
        }
        Ok(None)
    }

    /// Inside a record, below its depth and outside strings (nearly every byte of a file):
    /// the whole blocks by their masks, then the bytes after them one by one, strings jumped
    /// over and brackets counted with the state in locals. Returns the record when it closes;
    /// otherwise stops where the bytes run out, maybe inside a string.
    fn inside_record(&mut self, record_depth: u32) -> Option<Range<usize>> {
        if let Some(range) = self.inside_record_blocks(record_depth) {
            return Some(range);
        }
        if self.in_string {
            return None;
        }
        let buf = &self.buf[..];
        let (mut pos, mut depth) = (self.pos, self.depth);
        while pos < buf.len() {
            match buf[pos] {
                b'"' => match past_string(buf, pos + 1) {
                    Ok(end) => {
                        pos = end;
                        continue;
                    }
                    // The string goes on in bytes not here yet.
                    Err(escaped) => {
                        (self.pos, self.depth) = (buf.len(), depth);
                        (self.in_string, self.escaped) = (true, escaped);
                        return None;
                    }
                },
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == record_depth {
                        (self.pos, self.depth) = (pos + 1, depth);
                        return self.take_record(pos + 1);
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        (self.pos, self.depth) = (pos, depth);
        None
    }

    /// [`Self::inside_record`] over whole blocks: classifies those not yet classified, then
    /// walks the brackets outside strings from `pos`. Stops at the record's end, or at the
    /// first byte of a block not whole yet (setting `in_string` and `escaped` for it).
    fn inside_record_blocks(&mut self, record_depth: u32) -> Option<Range<usize>> {
        let whole = self.buf.len() / 64;
        let classified = self.structure.len();
        if classified < whole {
            self.structure.resize(whole, Structure::default());
            blockmask::classify_structure(
                &self.buf[64 * classified..64 * whole],
                &mut self.structure[classified..],
            );
        }
        let (mut depth, mut escape_carry, mut in_string) = (self.depth, 0u64, 0u64);
        let mut block = self.pos / 64;
        // Bytes before `pos` in its block were read before.
        let mut from = u64::MAX.checked_shl((self.pos % 64) as u32).unwrap_or(0);
        while let Some(s) = self.structure.get(block) {
            let escaped = escaped_positions(s.backslashes & from, &mut escape_carry);
            let inside = prefix_xor(s.quotes & from & !escaped) ^ in_string;
            in_string = 0u64.wrapping_sub(inside >> 63);
            let mut brackets = (s.opens | s.closes) & from & !inside;
            while brackets != 0 {
                let bit = brackets.trailing_zeros();
                if s.opens >> bit & 1 != 0 {
                    depth += 1;
                } else {
                    depth -= 1;
                    if depth == record_depth {
                        let end = 64 * block + bit as usize + 1;
                        (self.pos, self.depth) = (end, depth);
                        return self.take_record(end);
                    }
                }
                brackets &= brackets - 1;
            }
            (block, from) = (block + 1, u64::MAX);
        }
        self.pos = self.pos.max(64 * block);
        self.depth = depth;
        // A backslash outside strings is no escape here; the record's parser refuses it.
        (self.in_string, self.escaped) = (in_string != 0, in_string != 0 && escape_carry != 0);
        None
    }

    fn take_record(&mut self, end: usize) -> Option<Range<usize>> {
        let (start, _) = self.record.take()?;
        Some(start..end)
    }

    fn check_end(&self) -> Result<(), FileError> {
        let whole = !self.in_string && self.depth == 0 && self.record.is_none();
        let closed = self.layout == Some(Layout::Lines) || self.layout.is_none() || !self.open;
        if whole && closed {
            Ok(())
        } else {
            Err(FileError::Truncated)
        }
    }

    /// Tells the layout from the first bytes: false while too few have come to tell. Leading
    /// whitespace is dropped as it comes, so that a file of nothing else holds no memory.
    fn detect(&mut self) -> Result<bool, FileError> {
        if self.written == self.buf.len() as u64 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        let Some(first) = self.buf.iter().position(|b| !b.is_ascii_whitespace()) else {
            self.buf.clear();
            if self.eof {
                self.layout = Some(Layout::Lines);
                return Ok(true);
            }
            return Ok(false);
        };
        self.buf.drain(..first);
        let (layout, depth, pos) = match self.buf[0] {
            b'[' => (Layout::Array, 1, 1),
            b'{' => match container_array(&self.buf[1..]) {
                Some(Some(after)) => (Layout::Container, 2, 1 + after),
                Some(None) => (Layout::Lines, 0, 0),
                None if self.eof || self.buf.len() > DETECT_WITHIN => (Layout::Lines, 0, 0),
                None => return Ok(false),
            },
            _ => return Err(FileError::NotJson("a trace file starts with { or [")),
        };
        self.layout = Some(layout);
        self.depth = depth;
        self.pos = pos;
        Ok(true)
    }

    /// Drops what was handed out or skipped, keeping the record being read.
    fn compact(&mut self) {
        if self.layout.is_none() {
            return;
        }
        let keep = self.record.map_or(self.pos, |(start, _)| start);
        // Whole blocks go, so that the classified ones stay aligned with `buf`.
        let keep = keep / 64 * 64;
        if keep == 0 || keep < self.buf.len() / 2 && keep < 64 * 1024 {
            return;
        }
        self.buf.drain(..keep);
        self.structure
            .drain(..(keep / 64).min(self.structure.len()));
        self.pos -= keep;
        if let Some((start, scalar)) = self.record {
            self.record = Some((start - keep, scalar));
        }
    }
}

/// After an object's `{`: `Some(Some(n))` when its first key is a container key whose value is
/// an array (`n` bytes on is the array's first element), `Some(None)` when it is anything else,
/// `None` when the bytes end before it is known.
fn container_array(bytes: &[u8]) -> Option<Option<usize>> {
    let mut i = skip_whitespace(bytes, 0)?;
    if bytes[i] != b'"' {
        return Some(None);
    }
    let key_end = i + 1 + memchr::memchr(b'"', &bytes[i + 1..])?;
    let key = &bytes[i + 1..key_end];
    if !CONTAINER_KEYS.contains(&key) {
        return Some(None);
    }
    i = skip_whitespace(bytes, key_end + 1)?;
    if bytes[i] != b':' {
        return Some(None);
    }
    i = skip_whitespace(bytes, i + 1)?;
    Some((bytes[i] == b'[').then_some(i + 1))
}

/// Just past the closing quote of the string whose contents start at `from`; when `bytes` end
/// first, whether they end inside an escape.
fn past_string(bytes: &[u8], mut from: usize) -> Result<usize, bool> {
    loop {
        match quote_or_backslash(&bytes[from..]) {
            Some(i) if bytes[from + i] == b'"' => return Ok(from + i + 1),
            Some(i) if from + i + 2 <= bytes.len() => from += i + 2,
            found => return Err(found.is_some()),
        }
    }
}

/// The first `"` or `\\` in `bytes`, eight bytes at a time: the end of a record's string is
/// usually a few bytes away, nearer than a `memchr` call pays for itself.
#[inline]
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` is zero where the word has the byte sought; the lowest flag is exact.
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let hits = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|i| at + i)
}

fn skip_whitespace(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&i| !bytes[i].is_ascii_whitespace())
}

fn is_delimiter(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}')
}

impl io::Write for Splitter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.written += bytes.len() as u64;
        if self.written > self.max_written {
            return Err(io::Error::other(FileError::TooLarge(self.max_written)));
        }
        self.compact();
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn quote_or_backslash_finds_the_first_of_either(
            bytes in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(0x80u8), Just(0u8), any::<u8>()], 0..40),
            filler in 0usize..20,
        ) {
            let mut text = vec![b'a'; filler];
            text.extend_from_slice(&bytes);
            prop_assert_eq!(
                super::quote_or_backslash(&text),
                text.iter().position(|&b| b == b'"' || b == b'\\')
            );
        }
    }
}
