//! Retrying AWS calls: a pure decision (`decide`) and a loop that sleeps between attempts.
//! The SDK's own retries are turned off (see `clients`) so that this is the only retry layer
//! and License Manager's `RateLimitExceededException`, which the SDK does not retry, is
//! backed off like every other throttle.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use aws_sdk_licensemanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::Observer;
use super::error::{AwsError, ErrorKind};

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait at most this long (full jitter is applied by the caller), then try again.
    RetryAfter(Duration),
    GiveUp,
}

/// Pure: whether attempt number `attempt` (1-based) that failed with `kind` should be retried,
/// and the upper bound of the back-off before the next one.
pub fn decide(policy: &RetryPolicy, kind: ErrorKind, attempt: u32) -> Decision {
    if !kind.is_retryable() || attempt >= policy.max_attempts {
        return Decision::GiveUp;
    }
    let exp = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)));
    Decision::RetryAfter(exp.min(policy.max_delay))
}

/// Full jitter: a uniformly random duration in `[0, bound]`.
pub fn jitter(bound: Duration) -> Duration {
    let millis = bound.as_millis().min(u64::MAX as u128) as u64;
    if millis == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::random_range(0..=millis))
}

/// Runs `call` until it succeeds, fails with an error that must not be retried, or the
/// policy's attempts are spent. `on_retry` sees every error that is retried (for metrics and
/// adaptive concurrency).
pub async fn with_retry<T, F, Fut>(
    policy: &RetryPolicy,
    mut call: F,
    mut on_retry: impl FnMut(&AwsError),
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => match decide(policy, e.kind, attempt) {
                Decision::GiveUp => return Err(e),
                Decision::RetryAfter(bound) => {
                    tracing::debug!(operation = e.operation, code = %e.code, attempt, "retrying AWS call");
                    on_retry(&e);
                    tokio::time::sleep(jitter(bound)).await;
                    attempt += 1;
                }
            },
        }
    }
}

/// One SDK request through [`with_retry`], `observer` seeing every retried error: `send`
/// sends it afresh on each attempt, and a failure is sorted by [`AwsError::from_sdk`] as
/// `op`'s, naming `resource` where one is given. Every adapter's single calls go through here.
pub(crate) async fn request<T, E, F, Fut>(
    policy: &RetryPolicy,
    observer: &Observer,
    op: &'static str,
    resource: Option<&(dyn fmt::Display + Sync)>,
    mut send: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let call = || {
        let sent = send();
        async move {
            sent.await.map_err(|e| {
                let err = AwsError::from_sdk(op, e);
                match resource {
                    Some(r) => err.on(r),
                    None => err,
                }
            })
        }
    };
    with_retry(policy, call, |e| observer.on_retry(e)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_exponentially_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 20,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(
            decide(&p, ErrorKind::Throttled, 1),
            Decision::RetryAfter(Duration::from_millis(100))
        );
        assert_eq!(
            decide(&p, ErrorKind::Throttled, 3),
            Decision::RetryAfter(Duration::from_millis(400))
        );
        assert_eq!(
            decide(&p, ErrorKind::Transient, 10),
            Decision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(decide(&p, ErrorKind::Throttled, 20), Decision::GiveUp);
    }

    #[test]
    fn never_retries_validation_or_access_errors() {
        let p = RetryPolicy::default();
        for k in [
            ErrorKind::Validation,
            ErrorKind::AccessDenied,
            ErrorKind::VersionConflict,
        ] {
            assert_eq!(decide(&p, k, 1), Decision::GiveUp);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_throttles_then_succeeds() {
        let p = RetryPolicy::default();
        let mut calls = 0;
        let mut seen = 0;
        let out = with_retry(
            &p,
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 4 {
                        Err(AwsError::new(
                            "GetGrant",
                            ErrorKind::Throttled,
                            "RateLimitExceededException",
                            "",
                        ))
                    } else {
                        Ok(n)
                    }
                }
            },
            |_| seen += 1,
        )
        .await;
        assert_eq!(out, Ok(4));
        assert_eq!(seen, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_on_validation_at_once() {
        let p = RetryPolicy::default();
        let mut calls = 0;
        let out: Result<(), _> = with_retry(
            &p,
            || {
                calls += 1;
                async {
                    Err(AwsError::new(
                        "CreateGrant",
                        ErrorKind::Validation,
                        "ValidationException",
                        "bad",
                    ))
                }
            },
            |_| {},
        )
        .await;
        assert_eq!(out.unwrap_err().kind, ErrorKind::Validation);
        assert_eq!(calls, 1);
    }
}
