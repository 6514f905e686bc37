//! One publisher for both kinds of target: topic messages to the topic publisher, function
//! payloads to the function invoker.

use std::sync::Arc;

use async_trait::async_trait;
use rules::message::Message;
use rules::NotificationType;

use crate::{PublishError, Publisher};

pub struct Targets {
    pub topics: Arc<dyn Publisher>,
    pub functions: Arc<dyn Publisher>,
}

#[async_trait]
impl Publisher for Targets {
    async fn publish(&self, topic_id: &str, messages: &[Message]) -> Vec<Result<(), PublishError>> {
        let to = match messages.first().map(|m| m.target) {
            Some(NotificationType::Fun) => &self.functions,
            _ => &self.topics,
        };
        to.publish(topic_id, messages).await
    }
}
