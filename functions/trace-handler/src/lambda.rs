//! What the Lambda function answers and logs for an input: the SQS partial batch response, or
//! the summary (an error naming the failed items, so that the invoker retries them), and the
//! summary as CloudWatch metrics. The local server has none of this.

use crate::{Failure, Summary};
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
        let counts = [
            ("Traces", self.traces),
            ("Matches", self.matches),
            ("Published", self.published),
            ("Duplicates", self.duplicates),
            ("FailedPermanent", permanent),
            ("FailedRetried", self.failures.len() - permanent),
        ];
        let names: Vec<_> = counts
            .iter()
            .map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"}))
            .collect();
        let mut line = serde_json::json!({"_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": METRICS_NAMESPACE, "Dimensions": [[]], "Metrics": names}],
        }});
        for (name, n) in counts {
            line[name] = n.into();
        }
        line
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
