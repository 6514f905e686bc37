//! One publisher for both kinds of target: topic messages to the topic publisher, function
//! payloads to the function invoker.

use std::sync::Arc;

use async_trait::async_trait;
use rules::message::Message;
use rules::{NotificationType, TopicId};

use crate::{PublishError, Publisher};

pub struct Targets {
    pub topics: Arc<dyn Publisher>,
    pub functions: Arc<dyn Publisher>,
}

#[async_trait]
impl Publisher for Targets {
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        let to = match topic.kind() {
            NotificationType::Fun => &self.functions,
            NotificationType::Smn => &self.topics,
        };
        to.publish(topic, messages).await
    }
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Targets").finish_non_exhaustive()
    }
}
