//! An append-only file of JSON lines, the local targets' medium: each append is whole lines,
//! written under a lock and synced to disk before it returns.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Mutex;

pub(crate) struct JsonLines {
    path: PathBuf,
    lock: Mutex<()>,
}

impl JsonLines {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Self {
        JsonLines {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// Appends `lines` (each ending in a newline) and syncs them.
    pub(crate) fn append(&self, lines: &[u8]) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(lines)?;
        file.sync_data()
    }

    /// Every line that parses as JSON (one torn by a crash does not), oldest first.
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
