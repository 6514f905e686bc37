//! What the Lambda function answers and logs for an input: the SQS partial batch response, or
//! the summary (an error naming the failed items, so that the invoker retries them), and the
//! summary as CloudWatch metrics. The local server has none of this.

use crate::{DigestRun, Failure, Summary};
use rules::trace::envelope::Shape;

/// The CloudWatch namespace of the handler's metrics.
pub const METRICS_NAMESPACE: &str = "KeyEventNotifications";

/// A direct or EventBridge invoke whose traces were not all handled: the invocation fails, so
/// that Lambda retries it (and then sends it to the function's failure destination).
#[derive(Debug, thiserror::Error)]
pub enum NotAllHandled {
    #[error("{}", failed_items(.0))]
    Items(Vec<Failure>),
    #[error("the summary could not be written")]
    Summary(#[source] serde_json::Error),
}

impl From<NotAllHandled> for lambda_runtime::Diagnostic {
    fn from(e: NotAllHandled) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "TracesNotHandled".into(),
            error_message: e.to_string(),
        }
    }
}

fn failed_items(failures: &[Failure]) -> String {
    let items: Vec<String> = failures
        .iter()
        .map(|f| format!("item {}: {}", f.item, f.error))
        .collect();
    items.join("; ")
}

impl Summary {
    /// What the Lambda function answers: for SQS, the partial batch response; otherwise the
    /// summary, or an error naming the failed items, so that the invoker retries them.
    pub fn lambda_response(&self) -> Result<serde_json::Value, NotAllHandled> {
        if self.shape == Some(Shape::Sqs) {
            return Ok(self.batch_item_failures());
        }
        if !self.failures.is_empty() {
            return Err(NotAllHandled::Items(self.failures.clone()));
        }
        serde_json::to_value(self).map_err(NotAllHandled::Summary)
    }

    /// The summary as a CloudWatch Embedded Metric Format line (namespace
    /// `KeyEventNotifications`): CloudWatch turns it into metrics from the function's log,
    /// with no call to make. Failed items count as `FailedPermanent` (a topic or rule to mend)
    /// or `FailedRetried` (anything a retry may mend).
    pub fn metrics(&self, timestamp_ms: i64) -> serde_json::Value {
        let permanent = self.failures.iter().filter(|f| f.permanent).count();
        emf_line(
            timestamp_ms,
            &[
                ("Traces", self.traces),
                ("Matches", self.matches),
                ("Published", self.published),
                ("Duplicates", self.duplicates),
                ("Digested", self.digested),
                ("TraceFilesRead", self.files_read),
                ("TraceFilesFailed", self.files_failed),
                ("RecordsRefused", self.records_refused),
                ("FailedPermanent", permanent),
                ("FailedRetried", self.failures.len() - permanent),
            ],
        )
    }

    /// The SQS partial batch response: the failed items' message ids.
    pub fn batch_item_failures(&self) -> serde_json::Value {
        let ids: Vec<_> = self
            .failures
            .iter()
            .filter_map(|f| f.message_id.as_ref())
            .map(|id| serde_json::json!({"itemIdentifier": id}))
            .collect();
        serde_json::json!({"batchItemFailures": ids})
    }
}

/// One Embedded Metric Format line of `counts`, in [`METRICS_NAMESPACE`].
fn emf_line(timestamp_ms: i64, counts: &[(&str, usize)]) -> serde_json::Value {
    let names: Vec<_> = counts
        .iter()
        .map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut line = serde_json::json!({"_aws": {
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{"Namespace": METRICS_NAMESPACE, "Dimensions": [[]], "Metrics": names}],
    }});
    for (name, n) in counts {
        line[*name] = (*n).into();
    }
    line
}

/// The input a schedule sends to publish the digests of closed windows: `{"publish_digests":
/// true}` (the template's), or a plain EventBridge scheduled event.
pub fn is_digest_schedule(input: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        publish_digests: bool,
        #[serde(rename = "detail-type", default)]
        detail_type: Option<String>,
        #[serde(default)]
        source: Option<String>,
    }
    serde_json::from_str::<Probe>(input).is_ok_and(|p| {
        p.publish_digests
            || (p.detail_type.as_deref() == Some("Scheduled Event")
                && matches!(p.source.as_deref(), Some("aws.events" | "aws.scheduler")))
    })
}

impl DigestRun {
    /// The run as an Embedded Metric Format line: `DigestsFailed` feeds the template's alarm.
    pub fn metrics(&self, timestamp_ms: i64) -> serde_json::Value {
        emf_line(
            timestamp_ms,
            &[
                ("DigestWindows", self.windows),
                ("DigestsPublished", self.published),
                ("DigestsDropped", self.dropped),
                ("DigestsFailed", self.failed),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedules_input_and_a_scheduled_event_publish_digests_and_traces_do_not() {
        assert!(is_digest_schedule(r#"{"publish_digests": true}"#));
        assert!(is_digest_schedule(
            r#"{"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}"#
        ));
        assert!(!is_digest_schedule(r#"{"publish_digests": false}"#));
        assert!(!is_digest_schedule(samples::EVENTBRIDGE_SG_INGRESS));
        assert!(!is_digest_schedule(
            samples::CTS_TRACES.lines().next().unwrap()
        ));
        assert!(!is_digest_schedule("not json"));
    }
}
