//! What the tests against moto share.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_adapters::SnsPublisher;
use ports::{PublishError, Publisher};
use rules::message::Message;
use rules::TopicId;

/// Fails the first `n` publishes of messages whose trace is `trace_id`, then passes through.
pub(crate) struct FailFirst {
    pub(crate) inner: SnsPublisher,
    pub(crate) trace_id: String,
    pub(crate) left: AtomicUsize,
}

#[async_trait]
impl Publisher for FailFirst {
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        let (doomed, passing): (Vec<_>, Vec<_>) =
            messages.iter().enumerate().partition(|(_, m)| {
                m.message.contains(&self.trace_id)
                    && self
                        .left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
            });
        let passing_messages: Vec<Message> = passing.iter().map(|(_, m)| (*m).clone()).collect();
        let mut passed = self
            .inner
            .publish(topic, &passing_messages)
            .await
            .into_iter();
        let mut results: Vec<Option<Result<(), PublishError>>> =
            messages.iter().map(|_| None).collect();
        for (i, _) in &passing {
            results[*i] = passed.next();
        }
        for (i, _) in &doomed {
            results[*i] = Some(Err(PublishError::Failed {
                topic: topic.to_string(),
                why: "injected".into(),
            }));
        }
        results.into_iter().map(Option::unwrap).collect()
    }
}

/// The account of the generated CloudTrail records (their project).
pub(crate) const ACCOUNT: &str = "123456789012";

/// A gzipped CloudTrail log file of `n` records (the sample record, each with its own
/// `eventID` `<id_prefix>-<i>`), as a trail writes it.
pub(crate) fn cloudtrail_log_file(id_prefix: &str, n: usize) -> Vec<u8> {
    gzip(samples::cloudtrail_log(id_prefix, n).as_bytes())
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
