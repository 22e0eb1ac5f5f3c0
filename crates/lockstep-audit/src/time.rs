//! RFC 3339 formatting of [`SystemTime`] in UTC, without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `time` as an RFC 3339 UTC timestamp with whole seconds, such as `2026-11-22T10:00:00Z`.
///
/// Sub-second precision is truncated toward the past. Times before 1970 are supported;
/// years outside `0000..=9999` are printed with more digits or a sign and are no longer RFC 3339.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_795_341_600);
/// assert_eq!(lockstep_audit::rfc3339(t), "2026-11-22T10:00:00Z");
/// ```
pub fn rfc3339(time: SystemTime) -> String {
    let secs: i64 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            // Floor: 0.5 s before the epoch is 1969-12-31T23:59:59Z.
            -whole - i64::from(d.subsec_nanos() > 0)
        }
    };
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`, valid over the whole `i64` range used here.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (see the bounds above).
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn check(offset_secs: i64, expected: &str) {
        let t = if offset_secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(offset_secs.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(offset_secs.unsigned_abs())
        };
        assert_eq!(rfc3339(t), expected, "offset {offset_secs}");
    }

    #[test]
    fn formats_known_instants() {
        for (secs, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (59, "1970-01-01T00:00:59Z"),
            (86_399, "1970-01-01T23:59:59Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_164_800, "2024-02-29T00:00:00Z"),
            (1_771_525_800, "2026-02-19T18:30:00Z"),
            (1_795_341_600, "2026-11-22T10:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-86_400, "1969-12-31T00:00:00Z"),
            (-2_208_988_800, "1900-01-01T00:00:00Z"),
        ] {
            check(secs, expected);
        }
    }

    #[test]
    fn truncates_sub_seconds_toward_the_past() {
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(1_999)),
            "1970-01-01T00:00:01Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn agrees_with_a_day_by_day_walk() {
        // Walk forward day by day from 1970 and compare with an independent calendar count.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for day in 0..(366 * 130) {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
