//! Publishing matches to SNS: `PublishBatch` calls of at most ten entries and 256 KiB in all
//! (each message already fits alone), with string message attributes for subscription filter
//! policies. A FIFO topic's messages carry `MessageGroupId` (the notification id) and
//! `MessageDeduplicationId` (a digest of trace id and notification id), so that SNS's own
//! five-minute deduplication adds to ours. An SMN URN `urn:smn:<region>:<project>:<name>` names the topic
//! `<project>_<name>` of the deployment's account and region.

use aws_sdk_sns::error::BuildError;
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;
use ports::{all_failed, Cause, PublishError, Publisher, TopicCheck, TopicProblem};
use rules::message::Message;
use rules::topic::TopicId;
use rules::NotificationType;

/// Most entries one `PublishBatch` call takes.
const BATCH: usize = 10;
/// Most bytes one `PublishBatch` call takes, all its messages together.
const BATCH_BYTES: usize = rules::message::MAX_MESSAGE_BYTES;

#[derive(Debug)]
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
    pub fn topic_arn(&self, topic: &TopicId) -> Result<String, PublishError> {
        sns_topic_arn(&self.smn_arn_prefix, topic)
    }

    async fn publish_batch(
        &self,
        arn: &str,
        topic_id: &str,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        let failed = |why: String| PublishError::Failed {
            topic: topic_id.to_owned(),
            why: why.into(),
        };
        let mut entries = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            match entry(i, m, arn.ends_with(".fifo")) {
                Ok(e) => entries.push(e),
                Err(why) => return all_failed(messages, || failed(why.to_string())),
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
                            let why =
                                format!("{}: {}", bad.code(), bad.message().unwrap_or_default());
                            *r = Err(classified(topic_id, Some(bad.code()), why.into()));
                        }
                    }
                }
                results
            }
            Err(e) => {
                let code = e.code().map(str::to_owned);
                let why = Cause::new(e);
                all_failed(messages, || {
                    classified(topic_id, code.as_deref(), why.clone())
                })
            }
        }
    }
}

#[async_trait]
impl Publisher for SnsPublisher {
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        let topic_id = topic.as_str();
        let arn = match self.topic_arn(topic) {
            Ok(arn) => arn,
            Err(e) => {
                let why = e.to_string();
                return all_failed(messages, || PublishError::Unsupported {
                    topic: topic_id.to_owned(),
                    why: why.clone(),
                });
            }
        };
        let mut results = Vec::with_capacity(messages.len());
        for batch in batches(messages) {
            results.extend(self.publish_batch(&arn, topic_id, batch).await);
        }
        results
    }
}

/// The SNS topic ARN a topic id publishes to: an SNS ARN as it is; an SMN URN
/// `urn:smn:<region>:<project>:<name>` the topic `<project>_<name>` after `smn_arn_prefix`
/// (`arn:<partition>:sns:<region>:<account>:`, the deployment's).
pub(crate) fn sns_topic_arn(smn_arn_prefix: &str, topic: &TopicId) -> Result<String, PublishError> {
    if topic.kind() == NotificationType::Fun {
        return Err(PublishError::Unsupported {
            topic: topic.as_str().to_owned(),
            why: "function targets are not published through SNS".into(),
        });
    }
    Ok(match topic.sns_topic_name() {
        Some(name) => format!("{smn_arn_prefix}{name}"),
        None => topic.as_str().to_owned(),
    })
}

/// Checks that a rule's topic exists and that this deployment may use it
/// (`GetTopicAttributes`, allowed by the policy on the topics it may publish to).
#[async_trait]
impl TopicCheck for SnsPublisher {
    async fn check(&self, topic: &TopicId) -> Result<(), TopicProblem> {
        let arn = self
            .topic_arn(topic)
            .map_err(|e| TopicProblem::Refused(e.to_string()))?;
        match self
            .client
            .get_topic_attributes()
            .topic_arn(&arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.code() {
                Some("NotFound") => Err(TopicProblem::Refused(format!(
                    "no SNS topic {arn}: create it first"
                ))),
                Some("AuthorizationError") => Err(TopicProblem::Refused(format!(
                    "SNS topic {arn} may not be published to by this deployment (PublishTopicNames)"
                ))),
                _ => Err(TopicProblem::Unchecked(Cause::new(e))),
            },
        }
    }
}

/// Entry `i` of a `PublishBatch` call: with an email text, a per-protocol message
/// (`MessageStructure: json`) whose `default` is the JSON body and `email` the text.
fn entry(i: usize, m: &Message, fifo: bool) -> Result<PublishBatchRequestEntry, BuildError> {
    let mut attributes = HashMap::new();
    for (name, value) in &m.attributes {
        let value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()?;
        attributes.insert((*name).to_owned(), value);
    }
    let mut entry = PublishBatchRequestEntry::builder()
        .id(i.to_string())
        .subject(&m.subject)
        .message(m.sns_message())
        .set_message_attributes(Some(attributes));
    if m.email.is_some() {
        entry = entry.message_structure("json");
    }
    if fifo {
        entry = entry
            .message_group_id(&m.notification_id)
            .message_deduplication_id(deduplication_id(m));
    }
    entry.build()
}

/// SNS error codes that no retry mends: a missing or forbidden topic, an unusable KMS key, a
/// request SNS finds invalid. Throttling, internal errors and timeouts are transient.
fn is_permanent(code: &str) -> bool {
    matches!(
        code,
        "NotFound"
            | "AuthorizationError"
            | "InvalidParameter"
            | "InvalidParameterValue"
            | "InvalidSecurity"
            | "EndpointDisabled"
            | "PlatformApplicationDisabled"
            | "ValidationError"
            | "BatchRequestTooLong"
            | "TooManyEntriesInBatchRequest"
            | "BatchEntryIdsNotDistinct"
            | "EmptyBatchRequest"
            | "InvalidBatchEntryId"
    ) || (code.starts_with("KMS") && code != "KMSThrottling")
}

/// A failed publish, permanent or transient by its error code.
fn classified(topic_id: &str, code: Option<&str>, why: Cause) -> PublishError {
    let topic = topic_id.to_owned();
    if code.is_some_and(is_permanent) {
        PublishError::Permanent { topic, why }
    } else {
        PublishError::Failed { topic, why }
    }
}

/// `messages` in order, cut into runs that one `PublishBatch` takes: at most [`BATCH`] entries
/// and [`BATCH_BYTES`] in all.
pub(crate) fn batches(messages: &[Message]) -> Vec<&[Message]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, m) in messages.iter().enumerate() {
        let size = m.size();
        if i > start && (i - start == BATCH || bytes + size > BATCH_BYTES) {
            out.push(&messages[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

/// The FIFO deduplication id of a (trace, rule) pair: hex SHA-256 of trace id, NUL,
/// notification id (64 characters, within SNS's 128).
pub(crate) fn deduplication_id(m: &Message) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(m.trace_id.as_bytes());
    h.update([0]);
    h.update(m.notification_id.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
            p.topic_arn(&topic("urn:smn:cn-north-4:24edf66e:key_events"))
                .unwrap(),
            "arn:aws:sns:eu-west-1:123456789012:24edf66e_key_events"
        );
        assert_eq!(
            p.topic_arn(&topic("arn:aws:sns:us-east-1:210987654321:alerts"))
                .unwrap(),
            "arn:aws:sns:us-east-1:210987654321:alerts"
        );
        assert!(p
            .topic_arn(&topic("arn:aws:lambda:eu-west-1:123456789012:function:f"))
            .is_err());
    }

    fn topic(id: &str) -> TopicId {
        TopicId::parse(id).unwrap()
    }

    fn message(trace_id: &str, bytes: usize) -> Message {
        Message {
            topic_id: topic("urn:smn:r:p:t"),
            subject: String::new(),
            message: "m".repeat(bytes),
            email: None,
            attributes: Vec::new(),
            notification_id: "n1".into(),
            trace_id: trace_id.into(),
        }
    }

    #[test]
    fn batches_hold_at_most_ten_entries_and_256_kib() {
        let small: Vec<Message> = (0..25).map(|i| message(&i.to_string(), 100)).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 5]);
        let large: Vec<Message> = (0..10)
            .map(|i| message(&i.to_string(), 100 * 1024))
            .collect();
        let sizes: Vec<usize> = batches(&large).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 2, 2, 2, 2]);
        for b in batches(&large) {
            assert!(b.iter().map(Message::size).sum::<usize>() <= BATCH_BYTES);
        }
        let full = [message("a", BATCH_BYTES), message("b", 1)];
        assert_eq!(
            batches(&full).iter().map(|b| b.len()).collect::<Vec<_>>(),
            [1, 1]
        );
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn email_subscribers_get_the_text_and_the_others_the_body() {
        let mut m = message("t1", 0);
        m.message = r#"{"notification":{"id":"n1"},"trace":{"trace_id":"t1"}}"#.into();
        let plain = entry(0, &m, false).unwrap();
        assert_eq!(plain.message(), m.message);
        assert_eq!(plain.message_structure(), None);
        m.email = Some("What:     ECS deleteServer\n".into());
        let e = entry(3, &m, true).unwrap();
        assert_eq!(e.id(), "3");
        assert_eq!(e.message_structure(), Some("json"));
        let doc: serde_json::Value = serde_json::from_str(e.message()).unwrap();
        assert_eq!(doc["default"], m.message.as_str());
        assert_eq!(doc["email"], "What:     ECS deleteServer\n");
        assert_eq!(doc.as_object().unwrap().len(), 2);
        assert_eq!(e.message_group_id(), Some("n1"));
        assert!(e.message().len() + m.subject.len() <= m.size());
    }

    #[test]
    fn deduplication_ids_tell_pairs_apart_and_fit_sns() {
        let a = deduplication_id(&message("t1", 0));
        assert_eq!(
            a,
            deduplication_id(&message("t1", 5)),
            "the body does not count"
        );
        assert_ne!(a, deduplication_id(&message("t2", 0)));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn missing_forbidden_and_invalid_are_permanent_throttling_is_not() {
        for code in [
            "NotFound",
            "AuthorizationError",
            "KMSDisabled",
            "KMSAccessDenied",
            "InvalidParameter",
        ] {
            assert!(
                classified("t", Some(code), "x".into()).is_permanent(),
                "{code}"
            );
        }
        for code in [
            Some("Throttling"),
            Some("InternalError"),
            Some("KMSThrottling"),
            None,
        ] {
            assert!(
                !classified("t", code, "x".into()).is_permanent(),
                "{code:?}"
            );
        }
    }
}
