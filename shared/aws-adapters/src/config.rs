//! How the functions talk to AWS: bounded attempts and timeouts, so that throttling, 5xx and
//! hung connections are retried with backoff well inside the function's time budget, and what
//! still fails is reported (and retried by SQS) instead of timing the function out.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};

/// Attempts per call, the first included (standard retry mode: exponential backoff with jitter,
/// throttling and transient errors only).
pub const MAX_ATTEMPTS: u32 = 4;
/// One attempt gives up after this long.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// A call, retries included, gives up after this long (the functions run for at most 30 s).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// `aws_config` defaults (environment, `AWS_ENDPOINT_URL` included) with the retry and timeout
/// policy above.
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(CALL_TIMEOUT)
                .build(),
        )
}
