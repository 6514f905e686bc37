//! The local function target: every invocation appended as one JSON line to a file.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use rules::message::Message;
use rules::TopicId;

use crate::json_lines::JsonLines;
use ports::{PublishError, Publisher};

/// Appends `{"function": <topic_id>, "payload": {"cts": <trace>}}` lines to a file
/// (`$DATA_DIR/invocations.jsonl` in the local run), synced before `publish` returns. The
/// payload is written as the function would receive it, the trace's bytes unchanged but for
/// line breaks between its tokens, which become spaces so that one invocation stays one line.
#[derive(Debug)]
pub struct FileFunctions {
    file: Arc<JsonLines>,
}

impl FileFunctions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileFunctions {
            file: JsonLines::new(path),
        }
    }

    /// Cuts a line a stop tore (run before serving).
    pub fn repair(&self) -> std::io::Result<bool> {
        self.file.repair()
    }

    fn lines(function: &str, messages: &[Message]) -> std::io::Result<Vec<u8>> {
        let function = serde_json::to_string(function)?;
        let mut lines = Vec::new();
        for m in messages {
            lines.extend_from_slice(b"{\"function\":");
            lines.extend_from_slice(function.as_bytes());
            lines.extend_from_slice(b",\"payload\":");
            // Line breaks in JSON text can only be whitespace between tokens (inside strings
            // they are escaped), so spaces in their place leave the payload the same JSON.
            lines.extend(m.message.bytes().map(|b| match b {
                b'\n' | b'\r' => b' ',
                b => b,
            }));
            lines.extend_from_slice(b"}\n");
        }
        Ok(lines)
    }

    /// Which (function, trace id) pairs of `wanted` have an invocation in the file.
    pub fn invoked(
        &self,
        wanted: &HashSet<(String, String)>,
    ) -> std::io::Result<HashSet<(String, String)>> {
        let mut found = HashSet::new();
        for line in self.file.values()? {
            if let (Some(f), Some(t)) = (
                line["function"].as_str(),
                line["payload"]["cts"]["trace_id"].as_str(),
            ) {
                let pair = (f.to_owned(), t.to_owned());
                if wanted.contains(&pair) {
                    found.insert(pair);
                }
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Publisher for FileFunctions {
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        self.file
            .publish(
                topic.as_str(),
                messages,
                Self::lines(topic.as_str(), messages),
                "invoked the local function",
            )
            .await
    }
}
