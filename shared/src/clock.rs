//! The wall clock, read in one place: the pure core is handed the time, never reads it.
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Nanoseconds since the Unix epoch, now.
pub fn now_nanos() -> i128 {
    OffsetDateTime::now_utc().unix_timestamp_nanos()
}

/// Seconds since the Unix epoch, now (grants, expiries and the core's `now`).
pub fn now_epoch() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// An instant as RFC 3339 (UTC, with the nanoseconds the instant has).
pub(crate) fn rfc3339(epoch_nanos: i128) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(epoch_nanos)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .expect("rfc3339 formats any valid time")
}

/// A whole second as RFC 3339 with all nine fraction digits, so that it sorts as text among
/// [`rfc3339`] instants (`…:21.000000000Z` before `…:21.5Z`, where `…:21Z` would sort after).
pub(crate) fn rfc3339_second(epoch: i64) -> String {
    let text = rfc3339(i128::from(epoch) * 1_000_000_000);
    match text.strip_suffix('Z') {
        Some(head) if !head.contains('.') => format!("{head}.000000000Z"),
        _ => text,
    }
}

/// When the invocation being served must have answered: Lambda's deadline for it (epoch
/// milliseconds, from the Runtime API), or none (the CLI, a test calling a handler directly).
///
/// Set once per invocation by the handler ([`Deadline::scope`]) and read where new work is
/// started (the route executor), so an invocation near its end stops starting calls, records what
/// it did and answers, instead of being killed by its timeout halfway through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deadline {
    at_ms: Option<u64>,
}

tokio::task_local! {
    static CURRENT: Deadline;
}

impl Deadline {
    /// No deadline: work runs to its end.
    pub fn none() -> Self {
        Deadline { at_ms: None }
    }

    /// The deadline Lambda gives an invocation (`Lambda-Runtime-Deadline-Ms`).
    pub fn at_epoch_ms(ms: u64) -> Self {
        Deadline { at_ms: Some(ms) }
    }

    /// Time left before the deadline (zero once past it); `None` without one.
    pub fn remaining(&self) -> Option<std::time::Duration> {
        let now_ms = (now_nanos() / 1_000_000).max(0) as u64;
        self.at_ms.map(|at| std::time::Duration::from_millis(at.saturating_sub(now_ms)))
    }

    /// Whether less than `margin` is left: time to stop starting new work.
    pub fn is_near(&self, margin: std::time::Duration) -> bool {
        self.remaining().is_some_and(|left| left < margin)
    }

    /// The deadline of the invocation this code runs for ([`Deadline::none`] outside one).
    pub fn current() -> Self {
        CURRENT.try_with(|d| *d).unwrap_or_default()
    }

    /// Runs `work` as the invocation with this deadline.
    pub async fn scope<F: std::future::Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }
}
