//! The little calendar arithmetic rate limits need, over `lockstep_state::time`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2026-02-19T18:30:00Z` for `time` (whole seconds, UTC).
pub(crate) fn format_rfc3339(time: SystemTime) -> String {
    lockstep_state::time::rfc3339(time)
}

/// Whole seconds from now until `time`, 0 when it has passed.
pub(crate) fn seconds_until(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::now())
        .map_or(0, |d| d.as_secs_f64().ceil() as u64)
}

/// A time given as seconds since the Unix epoch.
pub(crate) fn from_epoch(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP dates take.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    lockstep_state::time::parse_http_date(s)
        .and_then(|secs| u64::try_from(secs).ok())
        .map(from_epoch)
}
