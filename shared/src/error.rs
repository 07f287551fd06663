//! One error type for every function, with the retryable / non-retryable split Lambda needs:
//! retryable errors are worth a retry (throttling, 5xx, timeouts, a dependency down); the rest
//! will fail the same way again (bad event, bad config, access denied).
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),

    /// Messages quote what was wrong, cut to a bounded excerpt: an event is never logged whole.
    #[error("malformed event: {}", excerpt(.0))]
    BadEvent(String),

    #[error("{operation} failed: {code}: {message}")]
    Aws { operation: &'static str, code: String, message: String, retryable: bool },

    #[error("{0}")]
    Unexpected(String),

    /// A connection accepted but not yet `active` when the bounded wait ended: its routes are
    /// wired by the next sweep (or a retry).
    #[error("{pcx} was accepted but is not active after {waited:?}; the next sweep wires its routes")]
    NotActiveYet { pcx: String, waited: std::time::Duration },

    /// A call AWS answered without doing all it was asked (keys left unprocessed, a
    /// `ReturnValue` of false): worth a retry.
    #[error("{operation} did not complete: {what}")]
    Incomplete { operation: &'static str, what: String },

    /// Some items of a batch (e.g. one pcx of a sweep) failed; the rest were done.
    #[error("{failed} of {total} items failed: {}", .errors.join("; "))]
    Partial { failed: usize, total: usize, errors: Vec<String>, retryable: bool },
}

/// Codes that mean "try again later", across EC2 (query), DynamoDB/STS and S3 protocols.
const RETRYABLE_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalException",
    "ServiceUnavailable",
    "Unavailable",
    "TransactionConflictException",
];

/// Whether an AWS error code (of a call, or of one entry of a batch) is worth a retry.
pub(crate) fn is_retryable_code(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code)
}

impl Error {
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Aws { retryable, .. } | Error::Partial { retryable, .. } => *retryable,
            Error::NotActiveYet { .. } | Error::Incomplete { .. } => true,
            Error::Config(_) | Error::BadEvent(_) | Error::Unexpected(_) => false,
        }
    }

    /// The AWS error code, when this came from an AWS call.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Classifies an SDK failure: the service's error code when it sent one, else the transport
    /// failure (timeouts and connection failures are retryable).
    pub fn aws<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (code, message, retryable) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("Unknown").to_string();
                let status = service.raw().status().as_u16();
                let retryable = RETRYABLE_CODES.contains(&code.as_str()) || status >= 500;
                (code, e.message().unwrap_or_default().to_string(), retryable)
            }
            SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into(), true),
            SdkError::DispatchFailure(d) => ("DispatchFailure".into(), describe_dispatch(d), true),
            SdkError::ResponseError(_) => ("ResponseError".into(), source_chain(&err), true),
            _ => ("ConstructionFailure".into(), source_chain(&err), false),
        };
        Error::Aws { operation, code, message, retryable }
    }
}

fn describe_dispatch(d: &aws_smithy_runtime_api::client::result::DispatchFailure) -> String {
    let kind = if d.is_timeout() {
        "timeout"
    } else if d.is_io() {
        "connection failed"
    } else {
        "dispatch failure"
    };
    match d.as_connector_error() {
        Some(c) => format!("{kind} ({})", source_chain(c)),
        None => kind.to_string(),
    }
}

/// An error and its causes on one line (credential errors hide the STS answer in a source).
pub(crate) fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![part(err)];
    let mut cur = err.source();
    while let Some(e) = cur {
        parts.push(part(e));
        cur = e.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// One link of an error chain. An AWS error's metadata displays as its `Debug` form (request id
/// and all); a person reading a report wants its code and message.
fn part(err: &(dyn std::error::Error + 'static)) -> String {
    match err.downcast_ref::<aws_smithy_types::error::ErrorMetadata>() {
        Some(meta) => match (meta.code(), meta.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => err.to_string(),
        },
        None => err.to_string(),
    }
}

/// The longest part of an offending input an error message repeats.
const EXCERPT_CHARS: usize = 300;

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} more characters)", &text[..cut], text[cut..].chars().count()),
    }
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Config(_) => "Config",
            Error::BadEvent(_) => "BadEvent",
            Error::Aws { .. } => "Aws",
            Error::Unexpected(_) => "Unexpected",
            Error::Partial { .. } => "Partial",
            Error::NotActiveYet { .. } => "NotActiveYet",
            Error::Incomplete { .. } => "Incomplete",
        };
        let class = if e.is_retryable() { "Retryable" } else { "NonRetryable" };
        Diagnostic { error_type: format!("{class}.{kind}"), error_message: e.to_string() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_event_messages_are_bounded() {
        let short = Error::BadEvent("no detail.eventName".into());
        assert_eq!(short.to_string(), "malformed event: no detail.eventName");
        let long = Error::BadEvent(format!("unsupported source `{}`", "x".repeat(7000)));
        let text = long.to_string();
        assert!(text.len() < 400, "{} characters", text.len());
        assert!(text.ends_with("(6721 more characters)"), "{text}");
    }

    #[test]
    fn an_aws_error_in_a_chain_reads_as_its_code_and_message() {
        #[derive(Debug, thiserror::Error)]
        #[error("service error")]
        struct Outer(#[source] aws_smithy_types::error::ErrorMetadata);
        let meta = aws_smithy_types::error::ErrorMetadata::builder()
            .code("AccessDenied")
            .message("not authorized to perform sts:AssumeRole")
            .custom("aws_request_id", "32ff452a")
            .build();
        let text = source_chain(&Outer(meta));
        assert_eq!(text, "service error: AccessDenied: not authorized to perform sts:AssumeRole");
    }
}
