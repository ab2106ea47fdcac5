//! One error type for every AWS call, sorted once into the classes the rest of the tool
//! acts on. The classification is a pure function of the error code, message and HTTP status.

use std::fmt;

use aws_sdk_licensemanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// What the caller can do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// Rate limited: back off and try again.
    Throttled,
    /// The request may not have arrived or its answer was lost (connection, timeout, 5xx): try again.
    Transient,
    /// The grant's version moved since it was read: re-read it, then decide.
    VersionConflict,
    /// The resource does not exist.
    NotFound,
    /// The caller is not allowed to do this.
    AccessDenied,
    /// The request was refused as invalid. Retrying it unchanged cannot help.
    Validation,
    /// A quota (2,000 grants per license, 5 SCPs per target, ...) was reached.
    Quota,
    /// What the request would create exists already (an Organizations policy of that name, or
    /// that attachment).
    AlreadyExists,
    /// The resource is in a state that forbids the request (a policy still attached somewhere
    /// cannot be deleted).
    Conflict,
    /// Anything else.
    Other,
}

impl ErrorKind {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// A failed AWS call: which operation, on what, and what AWS said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    pub resource: Option<String>,
    pub kind: ErrorKind,
    /// The AWS error code (`ValidationException`, ...) or a short transport description.
    pub code: String,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.operation)?;
        if let Some(r) = &self.resource {
            write!(f, " on {r}")?;
        }
        write!(f, " failed: {}", self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl AwsError {
    pub fn new(
        operation: &'static str,
        kind: ErrorKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            operation,
            resource: None,
            kind,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn on(mut self, resource: impl fmt::Display) -> Self {
        self.resource = Some(resource.to_string());
        self
    }

    /// A response that lacks a member the API documents as always present.
    pub fn missing(operation: &'static str, member: &str) -> Self {
        AwsError::new(
            operation,
            ErrorKind::Other,
            "MalformedResponse",
            format!("the response has no valid {member}"),
        )
    }

    /// Sorts an SDK error into an `AwsError`.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = service.err().code().unwrap_or("Unknown").to_owned();
                let message = service.err().message().unwrap_or_default().to_owned();
                let kind = classify(&code, &message, status);
                AwsError::new(operation, kind, code, message)
            }
            SdkError::TimeoutError(_) => AwsError::new(
                operation,
                ErrorKind::Transient,
                "Timeout",
                "the request timed out",
            ),
            SdkError::DispatchFailure(d) => {
                let chain = source_chain(&err);
                // Identity resolution fails here too (an assume-role call refused, no
                // credentials at all): retrying cannot help, and it is an access problem.
                if !d.is_io() && !d.is_timeout() && is_credentials_failure(&chain) {
                    return AwsError::new(
                        operation,
                        ErrorKind::AccessDenied,
                        "CredentialsError",
                        format!("could not get credentials: {}", short(&chain)),
                    );
                }
                let kind = if d.is_user() {
                    ErrorKind::Other
                } else {
                    ErrorKind::Transient
                };
                AwsError::new(operation, kind, "DispatchFailure", chain)
            }
            SdkError::ResponseError(_) => AwsError::new(
                operation,
                ErrorKind::Transient,
                "ResponseError",
                source_chain(&err),
            ),
            _ => AwsError::new(operation, ErrorKind::Other, "SdkError", source_chain(&err)),
        }
    }
}

fn source_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

fn is_credentials_failure(chain: &str) -> bool {
    let c = chain.to_ascii_lowercase();
    c.contains("credential") || c.contains("identity") || c.contains("assumerole")
}

/// The last, most specific parts of an error chain, without debug dumps: each part is cut
/// where a `Debug` rendering (quotes, braces) begins.
fn short(chain: &str) -> String {
    let parts: Vec<&str> = chain
        .split(": ")
        .map(|p| p.split(['"', '{', '(']).next().unwrap_or("").trim())
        .filter(|p| !p.is_empty())
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    for p in parts {
        if !kept.contains(&p) {
            kept.push(p);
        }
    }
    let tail = kept.len().saturating_sub(3);
    kept[tail..].join(": ")
}

/// The retry-relevant class of an AWS error, from its code, message and HTTP status.
pub fn classify(code: &str, message: &str, http_status: u16) -> ErrorKind {
    match code {
        "RateLimitExceededException"
        | "TooManyRequestsException"
        | "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "RequestThrottledException"
        | "RequestLimitExceeded"
        | "SlowDown"
        | "PriorRequestNotComplete" => ErrorKind::Throttled,
        "ConcurrentModificationException" => ErrorKind::Throttled,
        "ServerInternalException"
        | "ServiceException"
        | "InternalFailure"
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "ServiceUnavailable" => ErrorKind::Transient,
        "AccessDeniedException"
        | "AuthorizationException"
        | "AccessDenied"
        | "AWSOrganizationsNotInUseException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredTokenException" => ErrorKind::AccessDenied,
        "ResourceLimitExceededException"
        | "LicenseUsageException"
        | "ConstraintViolationException" => ErrorKind::Quota,
        "DuplicatePolicyException" | "DuplicatePolicyAttachmentException" => {
            ErrorKind::AlreadyExists
        }
        "PolicyInUseException" | "ConflictException" => ErrorKind::Conflict,
        "ServiceQuotaExceededException" => ErrorKind::Quota,
        "InternalServerException" => ErrorKind::Transient,
        "PolicyNotAttachedException" => ErrorKind::NotFound,
        "ResourceNotFoundException"
        | "AccountNotFoundException"
        | "OrganizationalUnitNotFoundException"
        | "ParentNotFoundException"
        | "ChildNotFoundException"
        | "NoEntitlementsAllowedException"
        | "NoSuchEntity" => ErrorKind::NotFound,
        "ValidationException" | "InvalidParameterValueException" | "InvalidInputException" => {
            if is_version_conflict(message) {
                ErrorKind::VersionConflict
            } else {
                ErrorKind::Validation
            }
        }
        _ if http_status >= 500 => ErrorKind::Transient,
        _ if code.ends_with("NotFoundException") => ErrorKind::NotFound,
        _ => ErrorKind::Other,
    }
}

/// License Manager reports a stale `Version` / `SourceVersion` as a ValidationException whose
/// message says the version "doesn't match the latest version N in our records".
fn is_version_conflict(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("latest version") || (m.contains("version") && m.contains("doesn't match"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &str, message: &str, status: u16, expect: ErrorKind) {
        assert_eq!(
            classify(code, message, status),
            expect,
            "{code} / {message} / {status}"
        );
    }

    #[test]
    fn classification() {
        check("RateLimitExceededException", "", 400, ErrorKind::Throttled);
        check("TooManyRequestsException", "", 400, ErrorKind::Throttled);
        check("ServerInternalException", "", 500, ErrorKind::Transient);
        check("SomethingNew", "", 503, ErrorKind::Transient);
        check(
            "ValidationException",
            "A grant cannot be deleted since the version provided doesn't match the latest version 3 in our records",
            400,
            ErrorKind::VersionConflict,
        );
        check(
            "ValidationException",
            "Principals must have exactly one",
            400,
            ErrorKind::Validation,
        );
        check("AccessDeniedException", "", 400, ErrorKind::AccessDenied);
        check("ResourceLimitExceededException", "", 400, ErrorKind::Quota);
        check("ResourceNotFoundException", "", 400, ErrorKind::NotFound);
        check("AccountNotFoundException", "", 400, ErrorKind::NotFound);
        check("SomethingNew", "", 400, ErrorKind::Other);
        // Organizations policies.
        check(
            "DuplicatePolicyException",
            "",
            400,
            ErrorKind::AlreadyExists,
        );
        check(
            "DuplicatePolicyAttachmentException",
            "",
            400,
            ErrorKind::AlreadyExists,
        );
        check("PolicyNotFoundException", "", 400, ErrorKind::NotFound);
        check("PolicyNotAttachedException", "", 400, ErrorKind::NotFound);
        check("TargetNotFoundException", "", 400, ErrorKind::NotFound);
        check("PolicyInUseException", "", 400, ErrorKind::Conflict);
        check("ConstraintViolationException", "", 400, ErrorKind::Quota);
    }

    #[test]
    fn credential_failures_are_recognised_and_shortened() {
        let chain = "dispatch failure: other: an error occurred while loading credentials: \
                     ProviderError { source: \"x\" }: service error: AccessDenied: \
                     arn:aws:iam::111122223333:root is not authorized to perform: \
                     sts:AssumeRole on resource: arn:aws:iam::999999999999:role/Nope\", aws_request_id: \"1\" }";
        assert!(is_credentials_failure(chain));
        assert!(!is_credentials_failure("io error: connection refused"));
        assert_eq!(
            short(chain),
            "arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999999999999:role/Nope"
        );
    }

    #[test]
    fn only_throttling_and_transient_are_retryable() {
        assert!(ErrorKind::Throttled.is_retryable());
        assert!(ErrorKind::Transient.is_retryable());
        for k in [
            ErrorKind::VersionConflict,
            ErrorKind::NotFound,
            ErrorKind::AccessDenied,
            ErrorKind::Validation,
            ErrorKind::Quota,
            ErrorKind::AlreadyExists,
            ErrorKind::Conflict,
            ErrorKind::Other,
        ] {
            assert!(!k.is_retryable(), "{k:?}");
        }
    }
}
