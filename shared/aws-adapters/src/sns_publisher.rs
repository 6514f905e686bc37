//! Publishing matches to SNS: `PublishBatch` in tens, with string message attributes for
//! subscription filter policies. An SMN URN `urn:smn:<region>:<project>:<name>` names the topic
//! `<project>_<name>` of the deployment's account and region.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;
use ports::{PublishError, Publisher};
use rules::message::Message;
use rules::topic::TopicId;
use rules::NotificationType;

/// Most entries one `PublishBatch` call takes.
const BATCH: usize = 10;

pub struct SnsPublisher {
    client: Client,
    /// `arn:<partition>:sns:<region>:<account>:`, the prefix SMN topic names are put after.
    smn_arn_prefix: String,
}

impl SnsPublisher {
    /// `smn_arn_prefix`: `arn:<partition>:sns:<region>:<account>:` of the deployment.
    pub fn new(client: Client, smn_arn_prefix: impl Into<String>) -> Self {
        SnsPublisher {
            client,
            smn_arn_prefix: smn_arn_prefix.into(),
        }
    }

    /// The SNS topic ARN a topic id publishes to.
    pub fn topic_arn(&self, topic_id: &str) -> Result<String, PublishError> {
        let unsupported = |why: &str| PublishError::Unsupported {
            topic: topic_id.to_owned(),
            why: why.to_owned(),
        };
        let topic = TopicId::parse(topic_id).ok_or_else(|| unsupported("not a topic id"))?;
        if topic.kind() == NotificationType::Fun {
            return Err(unsupported(
                "function targets are not published through SNS",
            ));
        }
        Ok(match topic.sns_topic_name() {
            Some(name) => format!("{}{name}", self.smn_arn_prefix),
            None => topic_id.to_owned(),
        })
    }

    async fn publish_batch(
        &self,
        arn: &str,
        topic_id: &str,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        let failed = |why: String| PublishError::Failed {
            topic: topic_id.to_owned(),
            why,
        };
        let mut entries = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            let mut attributes = HashMap::new();
            for (name, value) in &m.attributes {
                match MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                {
                    Ok(v) => {
                        attributes.insert((*name).to_owned(), v);
                    }
                    Err(e) => {
                        return messages
                            .iter()
                            .map(|_| Err(failed(e.to_string())))
                            .collect()
                    }
                }
            }
            let entry = PublishBatchRequestEntry::builder()
                .id(i.to_string())
                .subject(&m.subject)
                .message(&m.message)
                .set_message_attributes(Some(attributes))
                .build();
            match entry {
                Ok(e) => entries.push(e),
                Err(e) => {
                    return messages
                        .iter()
                        .map(|_| Err(failed(e.to_string())))
                        .collect()
                }
            }
        }
        match self
            .client
            .publish_batch()
            .topic_arn(arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                let mut results: Vec<Result<(), PublishError>> = messages
                    .iter()
                    .map(|_| Err(failed("no result for this entry".into())))
                    .collect();
                for ok in out.successful() {
                    if let Some(i) = ok.id().and_then(|id| id.parse::<usize>().ok()) {
                        if let Some(r) = results.get_mut(i) {
                            *r = Ok(());
                        }
                    }
                }
                for bad in out.failed() {
                    if let Ok(i) = bad.id().parse::<usize>() {
                        if let Some(r) = results.get_mut(i) {
                            *r = Err(failed(format!(
                                "{}: {}",
                                bad.code(),
                                bad.message().unwrap_or_default()
                            )));
                        }
                    }
                }
                results
            }
            Err(e) => {
                let why = aws_sdk_sns::error::DisplayErrorContext(e).to_string();
                messages.iter().map(|_| Err(failed(why.clone()))).collect()
            }
        }
    }
}

#[async_trait]
impl Publisher for SnsPublisher {
    async fn publish(&self, topic_id: &str, messages: &[Message]) -> Vec<Result<(), PublishError>> {
        let arn = match self.topic_arn(topic_id) {
            Ok(arn) => arn,
            Err(e) => {
                let why = e.to_string();
                return messages
                    .iter()
                    .map(|_| {
                        Err(PublishError::Unsupported {
                            topic: topic_id.to_owned(),
                            why: why.clone(),
                        })
                    })
                    .collect();
            }
        };
        let mut results = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(BATCH) {
            results.extend(self.publish_batch(&arn, topic_id, chunk).await);
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher() -> SnsPublisher {
        let config = aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .build();
        SnsPublisher::new(
            Client::from_conf(config),
            "arn:aws:sns:eu-west-1:123456789012:",
        )
    }

    #[test]
    fn smn_urns_map_to_a_topic_of_the_deployment() {
        let p = publisher();
        assert_eq!(
            p.topic_arn("urn:smn:cn-north-4:24edf66e:key_events")
                .unwrap(),
            "arn:aws:sns:eu-west-1:123456789012:24edf66e_key_events"
        );
        assert_eq!(
            p.topic_arn("arn:aws:sns:us-east-1:210987654321:alerts")
                .unwrap(),
            "arn:aws:sns:us-east-1:210987654321:alerts"
        );
        assert!(p
            .topic_arn("arn:aws:lambda:eu-west-1:123456789012:function:f")
            .is_err());
    }
}
