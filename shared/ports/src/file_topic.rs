//! The local topic: every message appended as one JSON line to a file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use rules::message::Message;
use serde::Serialize;

use crate::{DedupKey, PublishError, Publisher};

/// One line of the local topic, fields in this order.
#[derive(Serialize)]
struct Line<'a> {
    topic_id: &'a str,
    subject: &'a str,
    /// The exact string SNS would get as `Message`.
    message: &'a str,
    message_attributes: std::collections::BTreeMap<&'a str, &'a str>,
}

/// Appends `{"topic_id","subject","message","message_attributes"}` lines to a file
/// (`$DATA_DIR/published.jsonl` in the local run), flushed before `publish` returns.
pub struct FileTopic {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileTopic {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTopic {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    fn append(&self, messages: &[Message]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for m in messages {
            let line = Line {
                topic_id: &m.topic_id,
                subject: &m.subject,
                message: &m.message,
                message_attributes: m.attributes.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            };
            serde_json::to_writer(&mut lines, &line)?;
            lines.push(b'\n');
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&lines)?;
        file.sync_data()
    }
}

impl FileTopic {
    /// Which of `wanted` have a message in the file (lines that do not parse, such as one torn
    /// by a crash, count for nothing).
    pub fn pairs_sent(
        &self,
        wanted: &std::collections::HashSet<DedupKey>,
    ) -> std::io::Result<std::collections::HashSet<DedupKey>> {
        use std::io::BufRead;
        let mut found = std::collections::HashSet::new();
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(e),
        };
        for line in std::io::BufReader::new(file).lines() {
            let key = serde_json::from_str::<serde_json::Value>(&line?)
                .ok()
                .and_then(|l| {
                    serde_json::from_str::<serde_json::Value>(l["message"].as_str()?).ok()
                })
                .and_then(|m| {
                    Some(DedupKey {
                        trace_id: m["trace"]["trace_id"].as_str()?.to_owned(),
                        notification_id: m["notification"]["id"].as_str()?.to_owned(),
                    })
                });
            if let Some(key) = key.filter(|k| wanted.contains(k)) {
                found.insert(key);
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Publisher for FileTopic {
    async fn publish(&self, topic_id: &str, messages: &[Message]) -> Vec<Result<(), PublishError>> {
        match self.append(messages) {
            Ok(()) => {
                // The subject names a user: log the topic and the count only.
                tracing::info!(
                    topic_id,
                    count = messages.len(),
                    "published to the local topic"
                );
                messages.iter().map(|_| Ok(())).collect()
            }
            Err(e) => messages
                .iter()
                .map(|_| {
                    Err(PublishError::Failed {
                        topic: topic_id.to_owned(),
                        why: e.to_string(),
                    })
                })
                .collect(),
        }
    }
}
