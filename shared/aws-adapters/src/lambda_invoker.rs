//! Function targets: each message's payload `{"cts": <trace>}` handed to Lambda with an
//! asynchronous invoke (`InvocationType: Event`), as FunctionGraph receives CTS's. Lambda queues
//! the event and answers at once; the function's own retries and failure destination take it
//! from there. A FunctionGraph URN `urn:fss:<region>:<project>:function:<package>:<name>[:<version>]`
//! invokes the deployment's function `<project>_<name>` (its version as qualifier).

use async_trait::async_trait;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::Client;
use futures_util::future::join_all;
use ports::{all_failed, Cause, PublishError, Publisher};
use rules::message::Message;
use rules::topic::TopicId;

/// Invocations in flight at once for one call.
const CONCURRENT_INVOKES: usize = 16;

#[derive(Debug)]
pub struct LambdaInvoker {
    client: Client,
    /// `arn:<partition>:lambda:<region>:<account>:function:`, the deployment's own functions.
    own_prefix: String,
}

/// The deployment's function ARN prefix from its SNS topic ARN prefix (both name the
/// partition, region and account): `arn:aws:sns:eu-west-1:123456789012:` gives
/// `arn:aws:lambda:eu-west-1:123456789012:function:`.
pub fn function_arn_prefix(sns_topic_arn_prefix: &str) -> Option<String> {
    let rest = sns_topic_arn_prefix.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(":sns:")?;
    Some(format!("arn:{partition}:lambda:{rest}function:"))
}

impl LambdaInvoker {
    /// `own_prefix`: see [`function_arn_prefix`].
    pub fn new(client: Client, own_prefix: impl Into<String>) -> Self {
        LambdaInvoker {
            client,
            own_prefix: own_prefix.into(),
        }
    }

    /// The `FunctionName` and `Qualifier` to invoke for a topic id. The deployment's own
    /// functions are named by name alone, which Lambda reads as this account and region (and
    /// local emulators route by); any other ARN is passed as it is.
    pub fn target(&self, topic: &TopicId) -> Result<(String, Option<String>), PublishError> {
        let topic_id = topic.as_str();
        let unsupported = |why: &str| PublishError::Unsupported {
            topic: topic_id.to_owned(),
            why: why.to_owned(),
        };
        if let Some((name, version)) = topic.fss_function() {
            return Ok((name, version.map(str::to_owned)));
        }
        let arn = topic
            .lambda_arn_parts()
            .ok_or_else(|| unsupported("not a function: topics are published through SNS"))?;
        let own = format!(
            "arn:{}:lambda:{}:{}:function:",
            arn.partition, arn.region, arn.account
        );
        Ok(if own == self.own_prefix {
            (arn.name.to_owned(), arn.qualifier.map(str::to_owned))
        } else {
            (topic_id.to_owned(), None)
        })
    }

    async fn invoke(
        &self,
        topic_id: &str,
        name: &str,
        qualifier: Option<&str>,
        m: &Message,
    ) -> Result<(), PublishError> {
        let sent = self
            .client
            .invoke()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(m.message.as_bytes()))
            .send()
            .await;
        match sent {
            Ok(out) if out.function_error().is_none() => Ok(()),
            Ok(out) => Err(PublishError::Failed {
                topic: topic_id.to_owned(),
                why: format!(
                    "the function failed: {}",
                    out.function_error().unwrap_or_default()
                )
                .into(),
            }),
            Err(e) => {
                let topic = topic_id.to_owned();
                let code = e.code().map(str::to_owned);
                let why = Cause::new(e);
                Err(if code.as_deref().is_some_and(is_permanent) {
                    PublishError::Permanent { topic, why }
                } else {
                    PublishError::Failed { topic, why }
                })
            }
        }
    }
}

#[async_trait]
impl Publisher for LambdaInvoker {
    async fn publish(
        &self,
        topic: &TopicId,
        messages: &[Message],
    ) -> Vec<Result<(), PublishError>> {
        let topic_id = topic.as_str();
        let (name, qualifier) = match self.target(topic) {
            Ok(t) => t,
            Err(e) => {
                let why = e.to_string();
                return all_failed(messages, || PublishError::Unsupported {
                    topic: topic_id.to_owned(),
                    why: why.clone(),
                });
            }
        };
        let mut results = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(CONCURRENT_INVOKES) {
            let calls = chunk
                .iter()
                .map(|m| self.invoke(topic_id, &name, qualifier.as_deref(), m));
            results.extend(join_all(calls).await);
        }
        results
    }
}

/// Lambda error codes that no retry mends: a missing or forbidden function, a payload it
/// refuses, an unusable KMS key. Throttling, service errors and a function being updated are
/// transient.
fn is_permanent(code: &str) -> bool {
    matches!(
        code,
        "ResourceNotFoundException"
            | "AccessDeniedException"
            | "InvalidParameterValueException"
            | "InvalidRequestContentException"
            | "RequestTooLargeException"
            | "UnsupportedMediaTypeException"
            | "RecursiveInvocationException"
    ) || (code.starts_with("KMS") && code.ends_with("Exception"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoker() -> LambdaInvoker {
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .build();
        LambdaInvoker::new(
            Client::from_conf(config),
            "arn:aws:lambda:eu-west-1:123456789012:function:",
        )
    }

    fn target(topic_id: &str) -> Option<(String, Option<String>)> {
        invoker().target(&TopicId::parse(topic_id)?).ok()
    }

    #[test]
    fn functions_are_named_as_lambda_reads_them() {
        let own = |n: &str, q: Option<&str>| Some((n.to_owned(), q.map(str::to_owned)));
        assert_eq!(
            target("arn:aws:lambda:eu-west-1:123456789012:function:audit"),
            own("audit", None)
        );
        assert_eq!(
            target("arn:aws:lambda:eu-west-1:123456789012:function:audit:live"),
            own("audit", Some("live"))
        );
        let elsewhere = "arn:aws:lambda:us-east-1:210987654321:function:audit:7";
        assert_eq!(target(elsewhere), own(elsewhere, None));
        assert_eq!(
            target("urn:fss:cn-north-4:24edf66e:function:default:audit:latest"),
            own("24edf66e_audit", None)
        );
        assert_eq!(
            target("urn:fss:cn-north-4:24edf66e:function:default:audit:v2"),
            own("24edf66e_audit", Some("v2"))
        );
        assert_eq!(target("urn:smn:r:p:key_events"), None);
        assert_eq!(
            function_arn_prefix("arn:aws-cn:sns:cn-north-1:123456789012:").as_deref(),
            Some("arn:aws-cn:lambda:cn-north-1:123456789012:function:")
        );
    }

    #[test]
    fn a_missing_or_forbidden_function_is_permanent_throttling_is_not() {
        for code in [
            "ResourceNotFoundException",
            "AccessDeniedException",
            "KMSDisabledException",
            "RequestTooLargeException",
        ] {
            assert!(is_permanent(code), "{code}");
        }
        for code in [
            "TooManyRequestsException",
            "ServiceException",
            "ResourceConflictException",
            "EC2ThrottledException",
        ] {
            assert!(!is_permanent(code), "{code}");
        }
    }
}
