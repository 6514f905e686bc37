//! Trace files: each object a notification names is read as a stream (gunzipped while it
//! arrives), its records handled a batch at a time as live traces are. A file that fails half
//! way fails its item; the retry reads it whole again and publishes only what is missing, since
//! every pair is claimed in the dedup log.

use ports::{ObjectBody, ObjectError};
use rules::trace::envelope::{file_record, Item, Shape};
use rules::trace::stored::StoredObject;
use rules::trace::{Trace, TraceError};
use trace_files::{FileError, FileKind, Limits, TraceFileReader};

use crate::run::Run;
use crate::{Handler, Summary};

/// Records matched and published together: the claims of one batch are one round of writes.
const FILE_BATCH: usize = 500;

impl Handler {
    /// Handles one whole trace file (CloudTrail's `{"Records": [...]}` or a CTS trace file,
    /// plain or gzipped) within `limits`, as one item; with the file's fault, if it has one
    /// (the records before it are handled).
    pub async fn handle_file(
        &self,
        name: &str,
        body: Box<dyn ObjectBody>,
        limits: Limits,
        caller_project: Option<&str>,
    ) -> (Summary, Option<FileError>) {
        let items = [Item {
            message_id: None,
            trace: Err(TraceError::TraceFiles(Vec::new())),
        }];
        let mut run = Run::new(Summary::new(Shape::Direct), &items, caller_project, None);
        let fault = match self.read_file(0, body, limits, &mut run).await {
            Ok(()) => None,
            Err(e) => {
                file_failed(0, name, &e, &mut run);
                match e {
                    Unread::File(e) => Some(e),
                    Unread::Object(_) | Unread::OutOfTime => None,
                }
            }
        };
        (run.finish(), fault)
    }

    /// Reads one object a notification of item `i` names, unless its name says it holds no
    /// traces.
    pub(crate) async fn read_object(&self, i: usize, object: &StoredObject, run: &mut Run<'_>) {
        let name = object.to_string();
        let kind = FileKind::of(&object.key);
        if kind != FileKind::Traces {
            tracing::info!(file = %name, ?kind, "not a trace file; skipped");
            run.summary.files_skipped += 1;
            return;
        }
        let Some(objects) = &self.objects else {
            tracing::error!(file = %name, "a trace file, but no storage to read it from");
            run.failures.fail(
                i,
                format!("{name}: this handler reads no trace files"),
                true,
            );
            return;
        };
        let read = match objects.open(object).await {
            Ok(body) => self.read_file(i, body, Limits::default(), run).await,
            Err(ObjectError::Missing(_)) => {
                tracing::warn!(file = %name, "a notified trace file is gone; skipped");
                run.summary.files_skipped += 1;
                return;
            }
            Err(e) => Err(Unread::Object(e)),
        };
        if let Err(e) = read {
            file_failed(i, &name, &e, run);
        }
    }

    /// Reads a file to its end, handling its records a batch at a time.
    async fn read_file(
        &self,
        i: usize,
        mut body: Box<dyn ObjectBody>,
        limits: Limits,
        run: &mut Run<'_>,
    ) -> Result<(), Unread> {
        let mut reader = TraceFileReader::new(limits);
        let mut batch: Vec<Trace> = Vec::with_capacity(FILE_BATCH);
        loop {
            let chunk = body.next_chunk().await.map_err(Unread::Object)?;
            match &chunk {
                Some(bytes) => reader.feed(bytes),
                None => reader.finish(),
            }
            loop {
                match reader.next_record() {
                    Ok(Some(record)) => match std::str::from_utf8(record)
                        .map_err(|_| TraceError::Unsupported("a record that is not UTF-8".into()))
                        .and_then(file_record)
                    {
                        Ok(trace) => batch.push(trace),
                        Err(e) => {
                            tracing::warn!(item = i, error = %e, "a record of a trace file refused");
                            run.summary.records_refused += 1;
                        }
                    },
                    Ok(None) => break,
                    Err(e) => return Err(Unread::File(e)),
                }
                if batch.len() == FILE_BATCH {
                    self.handle_traces(batch.iter().map(|t| (i, t)).collect(), run)
                        .await;
                    batch.clear();
                    // The rest would be read for nothing (and could outrun the invocation,
                    // failing its other items too): the retry reads the file again.
                    if run.out_of_time() {
                        return Err(Unread::OutOfTime);
                    }
                }
            }
            if chunk.is_none() {
                break;
            }
        }
        self.handle_traces(batch.iter().map(|t| (i, t)).collect(), run)
            .await;
        run.summary.files_read += 1;
        Ok(())
    }
}

/// Why a file was not read to its end.
#[derive(Debug, thiserror::Error)]
enum Unread {
    #[error(transparent)]
    File(FileError),
    #[error(transparent)]
    Object(ObjectError),
    #[error("the invocation's time ran out before the file's end")]
    OutOfTime,
}

/// The file's item fails, to be retried (and, failing again, to reach the dead-letter queue).
fn file_failed(i: usize, name: &str, error: &Unread, run: &mut Run<'_>) {
    tracing::error!(file = %name, error = %error, "trace file not read");
    run.summary.files_failed += 1;
    run.failures.fail(i, format!("{name}: {error}"), false);
}
