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
