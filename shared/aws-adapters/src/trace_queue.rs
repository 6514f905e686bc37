//! The traces of rule changes, sent by the rules API to the trace intake queue: the trace
//! handler takes them from there as any trace.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use ports::{Cause, TraceSink};

#[derive(Debug, Clone)]
pub struct TraceQueue {
    client: Client,
    queue_url: String,
}

impl TraceQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        TraceQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl TraceSink for TraceQueue {
    async fn submit(&self, trace: String) -> Result<(), Cause> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(trace)
            .send()
            .await
            .map(|_| ())
            .map_err(Cause::new)
    }
}
