//! Trace files read as a stream: CloudTrail log files (`{"Records": [...]}`), CTS trace files
//! (a JSON array of traces, one trace per line, or `{"traces": [...]}`), plain or gzipped (told
//! by the bytes, not the name). Bytes are fed as they arrive and records taken out as they are
//! whole, so memory holds one chunk and one record, never the file: a 100 MB file needs no
//! 100 MB, and a gzip bomb stops at the decompressed limit instead of filling memory.
//!
//! ```
//! use trace_files::{Limits, TraceFileReader};
//!
//! let mut file = TraceFileReader::new(Limits::default());
//! file.feed(br#"{"Records": [{"eventName": "A"}, {"eventName": "B"}]}"#);
//! file.finish();
//! let mut names = Vec::new();
//! while let Some(record) = file.next_record().unwrap() {
//!     names.push(String::from_utf8(record.to_vec()).unwrap());
//! }
//! assert_eq!(names, [r#"{"eventName": "A"}"#, r#"{"eventName": "B"}"#]);
//! ```

mod name;
mod split;

use std::io::Write;

use flate2::write::MultiGzDecoder;

pub use name::FileKind;
pub use split::Layout;

use split::Splitter;

/// Why a file could not be read (to its end). A record that is whole but not a valid trace is
/// not a file error: it fails alone, where it is parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is gzip that does not inflate: {0}")]
    Gzip(String),
    #[error("not a trace file: {0}")]
    NotJson(&'static str),
    #[error("the file ends inside a record (truncated)")]
    Truncated,
    #[error("a record is larger than {0} bytes")]
    RecordTooLarge(usize),
    #[error("the file inflates to more than {0} bytes")]
    TooLarge(u64),
}

/// Bounds on one file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Decompressed bytes in all.
    pub max_bytes: u64,
    /// Bytes of one record.
    pub max_record: usize,
}

/// The largest record read: CloudTrail records are at most a few hundred KiB.
pub const MAX_RECORD_BYTES: usize = 8 << 20;

impl Default for Limits {
    /// Files as large as trails write them, and then some (16 GiB decompressed).
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 30,
            max_record: MAX_RECORD_BYTES,
        }
    }
}

/// Compressed bytes inflated at a time: what one step can add to memory, even for a gzip
/// bomb (deflate inflates at most about 1032 to 1).
const STEP: usize = 16 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One file, fed in chunks ([`TraceFileReader::feed`]), records taken out as they are whole
/// ([`TraceFileReader::next_record`]).
#[derive(Debug)]
pub struct TraceFileReader {
    /// Fed bytes not yet inflated (or, for a plain file, not yet split).
    pending: Vec<u8>,
    taken: usize,
    input: Input,
    fed_all: bool,
    ended: bool,
}

enum Input {
    /// Fewer than two bytes came: not known yet whether they are gzip.
    Unknown(Splitter),
    Plain(Splitter),
    Gzip(Box<MultiGzDecoder<Splitter>>),
    /// Only while [`TraceFileReader::decide`] moves the splitter.
    Moving,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Input::Unknown(_) => "Unknown",
            Input::Plain(_) => "Plain",
            Input::Gzip(_) => "Gzip",
            Input::Moving => "Moving",
        })
    }
}

impl TraceFileReader {
    pub fn new(limits: Limits) -> Self {
        TraceFileReader {
            pending: Vec::new(),
            taken: 0,
            input: Input::Unknown(Splitter::new(limits.max_bytes, limits.max_record)),
            fed_all: false,
            ended: false,
        }
    }

    /// The next bytes of the file, as read.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.pending.drain(..self.taken);
        self.taken = 0;
        self.pending.extend_from_slice(bytes);
    }

    /// Every byte was fed: the records left come out, then the file's end is checked.
    pub fn finish(&mut self) {
        self.fed_all = true;
    }

    /// The next whole record; `None` when every fed byte is read (feed more, or, after
    /// [`TraceFileReader::finish`], the file is done). After an error the file is done.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, FileError> {
        let range = loop {
            if let Some(range) = self.splitter().next_record()? {
                break range;
            }
            if self.taken < self.pending.len() {
                if !self.decide() {
                    return Ok(None);
                }
                let end = self.pending.len().min(self.taken + STEP);
                let piece = &self.pending[self.taken..end];
                match &mut self.input {
                    Input::Plain(s) => s.write_all(piece).map_err(file_error)?,
                    Input::Gzip(d) => d
                        .write_all(piece)
                        .and_then(|()| d.flush())
                        .map_err(file_error)?,
                    Input::Unknown(_) | Input::Moving => unreachable!("decided above"),
                }
                self.taken = end;
                continue;
            }
            if !self.fed_all || self.ended {
                return Ok(None);
            }
            self.decide();
            if let Input::Gzip(d) = &mut self.input {
                d.try_finish().map_err(file_error)?;
            }
            self.splitter().end();
            self.ended = true;
        };
        Ok(Some(self.splitter().bytes(range)))
    }

    /// How the records sit in the file, once its first bytes are read.
    pub fn layout(&mut self) -> Option<Layout> {
        self.splitter().layout()
    }

    /// Decompressed bytes read so far.
    pub fn bytes_read(&mut self) -> u64 {
        self.splitter().written()
    }

    /// Bytes held now, fed and decompressed: what the file costs in memory.
    pub fn bytes_held(&mut self) -> usize {
        self.pending.capacity() + self.splitter().buffered()
    }

    fn splitter(&mut self) -> &mut Splitter {
        match &mut self.input {
            Input::Unknown(s) | Input::Plain(s) => s,
            Input::Gzip(d) => d.get_mut(),
            Input::Moving => unreachable!("only inside decide"),
        }
    }

    /// Plain or gzip, from the first two bytes (or fewer, when the file is that short): false
    /// while not known.
    fn decide(&mut self) -> bool {
        if !matches!(self.input, Input::Unknown(_)) {
            return true;
        }
        let start = &self.pending[self.taken..];
        if start.len() < GZIP_MAGIC.len() && !self.fed_all {
            return false;
        }
        let Input::Unknown(splitter) = std::mem::replace(&mut self.input, Input::Moving) else {
            unreachable!("checked above");
        };
        self.input = if start.starts_with(&GZIP_MAGIC) {
            Input::Gzip(Box::new(MultiGzDecoder::new(splitter)))
        } else {
            Input::Plain(splitter)
        };
        true
    }
}

/// The splitter's own error (passed through the decompressor as an I/O error), or the
/// decompressor's.
fn file_error(e: std::io::Error) -> FileError {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<FileError>())
        .cloned()
        .unwrap_or_else(|| FileError::Gzip(e.to_string()))
}

#[cfg(test)]
mod tests;
