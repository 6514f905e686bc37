//! The local topic: every message appended as one JSON line to a file.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use rules::message::Message;
use rules::TopicId;
use serde::Serialize;

use crate::json_lines::JsonLines;
use ports::{DedupKey, PublishError, Publisher};

/// One line of the local topic, fields in this order.
#[derive(Serialize)]
struct Line<'a> {
    topic_id: &'a str,
    subject: &'a str,
    /// The JSON body: what SNS sends to every subscriber but email.
    message: &'a str,
    /// The readable text SNS sends to email subscribers.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    message_attributes: std::collections::BTreeMap<&'a str, &'a str>,
}

/// Appends `{"topic_id","subject","message","email","message_attributes"}` lines to a file
/// (`$DATA_DIR/published.jsonl` in the local run), synced before `publish` returns.
#[derive(Debug)]
pub struct FileTopic {
    file: Arc<JsonLines>,
}

impl FileTopic {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTopic {
            file: JsonLines::new(path),
        }
    }

    /// Cuts a line a stop tore (run before serving).
    pub fn repair(&self) -> std::io::Result<bool> {
        self.file.repair()
    }

    fn lines(messages: &[Message]) -> std::io::Result<Vec<u8>> {
        let mut lines = Vec::new();
        for m in messages {
            let line = Line {
                topic_id: m.topic_id.as_str(),
                subject: &m.subject,
                message: &m.message,
                email: m.email.as_deref(),
                message_attributes: m.attributes.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            };
            serde_json::to_writer(&mut lines, &line)?;
            lines.push(b'\n');
        }
        Ok(lines)
    }

    /// Which of `wanted` have a message in the file (lines that do not parse, such as one torn
    /// by a crash, count for nothing).
    pub fn pairs_sent(&self, wanted: &HashSet<DedupKey>) -> std::io::Result<HashSet<DedupKey>> {
        let mut found = HashSet::new();
        for line in self.file.values()? {
            let key = line["message"]
                .as_str()
                .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
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
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        // The subject names a user: log the topic and the count only.
        self.file
            .publish(
                topic.as_str(),
                messages,
                Self::lines(messages),
                "published to the local topic",
            )
            .await
    }
}
