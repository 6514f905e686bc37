//! An append-only file of JSON lines, the local targets' medium. Each append is whole lines,
//! written under a lock, synced to disk, off the async threads; a write that fails (a full
//! disk) is cut back so that no torn line is left for the next one to be glued to, and a line
//! torn by a crash is cut at start.

use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ports::PublishError;
use rules::message::Message;

#[derive(Debug)]
pub(crate) struct JsonLines {
    path: PathBuf,
    lock: Mutex<()>,
}

impl JsonLines {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Arc<Self> {
        Arc::new(JsonLines {
            path: path.into(),
            lock: Mutex::new(()),
        })
    }

    /// Appends `lines` (each ending in a newline) and syncs them, or leaves the file as it was.
    pub(crate) async fn append(self: &Arc<Self>, lines: Vec<u8>) -> std::io::Result<()> {
        let file = self.clone();
        tokio::task::spawn_blocking(move || file.append_now(&lines))
            .await
            .map_err(std::io::Error::other)?
    }

    fn append_now(&self, lines: &[u8]) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let before = file.metadata()?.len();
        let written = file.write_all(lines).and_then(|()| file.sync_data());
        if let Err(e) = written {
            if let Err(cut) = file.set_len(before).and_then(|()| file.sync_data()) {
                tracing::error!(path = %self.path.display(), error = %cut, "cannot cut a failed write back; the file is repaired at the next start");
            }
            return Err(e);
        }
        Ok(())
    }

    /// Appends the lines of `messages` (or fails them all), as a publisher answers: one
    /// result a message. `done` is logged with the target and the count only (the lines may
    /// name users).
    pub(crate) async fn publish(
        self: &Arc<Self>,
        target: &str,
        messages: &[Message],
        lines: std::io::Result<Vec<u8>>,
        done: &'static str,
    ) -> Vec<Result<(), PublishError>> {
        let appended = match lines {
            Ok(lines) => self.append(lines).await,
            Err(e) => Err(e),
        };
        match appended {
            Ok(()) => {
                tracing::info!(topic_id = target, count = messages.len(), "{done}");
                messages.iter().map(|_| Ok(())).collect()
            }
            Err(e) => {
                let why = ports::Cause::new(e);
                ports::all_failed(messages, || PublishError::Failed {
                    topic: target.to_owned(),
                    why: why.clone(),
                })
            }
        }
    }

    /// Cuts a last line left without its newline by a crash; true when there was one.
    pub(crate) fn repair(&self) -> std::io::Result<bool> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut end = len;
        let mut block = vec![0u8; 64 * 1024];
        // Back from the end to the last newline.
        while end > 0 {
            let start = end.saturating_sub(block.len() as u64);
            let chunk = &mut block[..(end - start) as usize];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(chunk)?;
            if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
                end = start + i as u64 + 1;
                break;
            }
            end = start;
        }
        if end == len {
            return Ok(false);
        }
        file.set_len(end)?;
        file.sync_data()?;
        tracing::warn!(path = %self.path.display(), cut_bytes = len - end, "cut a line torn by a stop");
        Ok(true)
    }

    /// Every line that parses as JSON, oldest first.
    pub(crate) fn values(&self) -> std::io::Result<Vec<serde_json::Value>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            if let Ok(v) = serde_json::from_str(&line?) {
                out.push(v);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_and_whole_lines_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        let whole = "{\"a\":1}\n".repeat(20_000);
        std::fs::write(&path, format!("{whole}{{\"torn\":")).unwrap();
        let file = JsonLines::new(&path);
        assert!(file.repair().unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
        assert!(!file.repair().unwrap(), "nothing more to cut");
        std::fs::write(&path, "{\"torn\":").unwrap();
        assert!(file.repair().unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
