//! The engine: a file's bytes, fed as they are read, tallied record by record against the
//! rules. The same for a folder's files, an S3 object's stream and a Distributed Map batch.

use ports::ObjectSource;
use rules::backtest::{BacktestRules, FailedFile, Tally, TimeRange};
use rules::trace::envelope::read_file_record;
use rules::trace::stored::StoredObject;
use trace_files::{FileError, Limits, TraceFileReader};

/// One file being tallied.
#[derive(Debug)]
pub struct FileTally {
    name: String,
    range: TimeRange,
    reader: TraceFileReader,
    tally: Tally,
}

impl FileTally {
    pub fn new(name: impl Into<String>, rules: &BacktestRules, range: TimeRange) -> Self {
        FileTally {
            name: name.into(),
            range,
            reader: TraceFileReader::new(Limits::default()),
            tally: Tally::new(rules),
        }
    }

    /// Tallies the records `bytes` complete.
    pub fn feed(&mut self, rules: &BacktestRules, bytes: &[u8]) -> Result<(), FileError> {
        self.reader.feed(bytes);
        self.drain(rules)
    }

    /// The file's tally; a file that could not be read to its end counts the records before
    /// the fault and names itself among the failed files.
    pub fn finish(mut self, rules: &BacktestRules, fault: Option<String>) -> Tally {
        let fault = fault.or_else(|| {
            self.reader.finish();
            self.drain(rules).err().map(|e| e.to_string())
        });
        self.tally.files += 1;
        if let Some(error) = fault {
            tracing::warn!(file = %self.name, %error, "trace file not read to its end");
            self.tally.failed_files.push(FailedFile {
                file: self.name,
                error,
            });
        }
        self.tally
    }

    /// Decompressed bytes read so far.
    pub fn bytes_read(&mut self) -> u64 {
        self.reader.bytes_read()
    }

    fn drain(&mut self, rules: &BacktestRules) -> Result<(), FileError> {
        while let Some(record) = self.reader.next_record()? {
            match std::str::from_utf8(record).ok().map(read_file_record) {
                Some(Ok(trace)) => self.tally.add(rules, &self.range, &trace),
                _ => self.tally.refuse(),
            }
        }
        Ok(())
    }
}

/// Tallies one whole file read from `read`, in chunks of `chunk` bytes.
pub fn tally_read(
    name: &str,
    rules: &BacktestRules,
    range: TimeRange,
    mut read: impl std::io::Read,
    mut on_chunk: impl FnMut(u64),
) -> Tally {
    let mut file = FileTally::new(name, rules, range);
    let mut buf = vec![0u8; 256 * 1024];
    let fault = loop {
        match read.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => {
                if let Err(e) = file.feed(rules, &buf[..n]) {
                    break Some(e.to_string());
                }
                on_chunk(n as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Some(e.to_string()),
        }
    };
    file.finish(rules, fault)
}

/// Tallies one object of `source`, read as a stream.
pub async fn tally_object(
    source: &dyn ObjectSource,
    object: &StoredObject,
    rules: &BacktestRules,
    range: TimeRange,
    progress: Option<&crate::progress::Progress>,
) -> Tally {
    let mut file = FileTally::new(object.to_string(), rules, range);
    let fault = match source.open(object).await {
        Err(e) => Some(e.to_string()),
        Ok(mut body) => loop {
            match body.next_chunk().await {
                Ok(None) => break None,
                Ok(Some(chunk)) => {
                    if let Some(p) = progress {
                        p.read(chunk.len() as u64);
                    }
                    if let Err(e) = file.feed(rules, &chunk) {
                        break Some(e.to_string());
                    }
                }
                Err(e) => break Some(e.to_string()),
            }
        },
    };
    file.finish(rules, fault)
}
