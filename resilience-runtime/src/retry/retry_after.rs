//! Reading a server's `Retry-After` header (RFC 9110 §10.2.3), for a `retry_after` hook.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAY: i64 = 24 * 3600;

/// The wait a `Retry-After` header value asks for, as seen at `now`: delta-seconds (`"120"`)
/// or an HTTP-date in any of the three forms RFC 9110 says a recipient accepts
/// (`"Sun, 06 Nov 1994 08:49:37 GMT"`, the obsolete `"Sunday, 06-Nov-94 08:49:37 GMT"` and
/// `"Sun Nov  6 08:49:37 1994"`). A date already past asks for no wait; a value that is
/// neither gives `None`.
///
/// Made for a `retry_after` hook, which `#[retry]` and [`Retry::layer`](crate::Retry::layer)
/// use to set the next wait (capped at `max_delay`):
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use resilience::parse_retry_after;
///
/// struct HttpError { retry_after: Option<String> }
///
/// fn server_hint(error: &HttpError) -> Option<Duration> {
///     parse_retry_after(error.retry_after.as_deref()?, SystemTime::now())
/// }
///
/// assert_eq!(server_hint(&HttpError { retry_after: Some("120".into()) }), Some(Duration::from_secs(120)));
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_767); // 08:49:27 that day
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim_matches([' ', '\t']);
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits that overflow `u64` still mean "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let now_secs = match now.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).ok()?,
        Err(before) => -i64::try_from(before.duration().as_secs()).ok()?,
    };
    let at = http_date(value, now_secs)?;
    let at = match u64::try_from(at) {
        Ok(secs) => UNIX_EPOCH.checked_add(Duration::from_secs(secs))?,
        Err(_) => UNIX_EPOCH.checked_sub(Duration::from_secs(at.unsigned_abs()))?,
    };
    Some(at.duration_since(now).unwrap_or_default())
}

/// Seconds since the Unix epoch of an HTTP-date; `now` (the same) resolves the two-digit
/// years of the obsolete RFC 850 form.
fn http_date(value: &str, now: i64) -> Option<i64> {
    if let Some((weekday, rest)) = value.split_once(", ") {
        let fields: Vec<&str> = rest.split(' ').collect();
        if DAYS.contains(&weekday) {
            // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
            let [day, month, year, time, "GMT"] = fields[..] else {
                return None;
            };
            return instant(digits(year, 4)?, month, digits(day, 2)?, time);
        }
        if LONG_DAYS.contains(&weekday) {
            // RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`.
            let [date, time, "GMT"] = fields[..] else {
                return None;
            };
            let date: Vec<&str> = date.split('-').collect();
            let [day, month, year] = date[..] else {
                return None;
            };
            let (day, year) = (digits(day, 2)?, digits(year, 2)?);
            // RFC 9110: a year that would be more than 50 years in the future is the most
            // recent past year with the same last two digits.
            let this_year = 1970 + now.div_euclid(DAY * 146_097 / 400);
            let mut full = this_year - this_year.rem_euclid(100) + year;
            if full > this_year + 50 {
                full -= 100;
            }
            return instant(full, month, day, time);
        }
        return None;
    }
    // asctime: `Sun Nov  6 08:49:37 1994`, the day padded with a space.
    let (weekday, rest) = value.split_once(' ')?;
    let (month, rest) = rest.split_once(' ')?;
    let (day, rest) = match rest.strip_prefix(' ') {
        Some(rest) => (digits(rest.get(..1)?, 1)?, rest.get(1..)?),
        None => (digits(rest.get(..2)?, 2)?, rest.get(2..)?),
    };
    let fields: Vec<&str> = rest.strip_prefix(' ')?.split(' ').collect();
    let [time, year] = fields[..] else {
        return None;
    };
    if !DAYS.contains(&weekday) {
        return None;
    }
    instant(digits(year, 4)?, month, day, time)
}

/// Seconds since the Unix epoch of a UTC date and `HH:MM:SS` time, if they exist.
fn instant(year: i64, month: &str, day: i64, time: &str) -> Option<i64> {
    let month = 1 + MONTHS.iter().position(|&m| m == month)? as i64;
    let fields: Vec<&str> = time.split(':').collect();
    let [hour, minute, second] = fields[..] else {
        return None;
    };
    let (hour, minute, second) = (digits(hour, 2)?, digits(minute, 2)?, digits(second, 2)?);
    // 60 is a leap second, which IMF-fixdate allows.
    if !(1..=days_in_month(year, month)).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second)
}

/// Exactly `len` ASCII digits.
fn digits(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example.
    const EXAMPLE: u64 = 784_111_777;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn delta_seconds() {
        let now = at(EXAMPLE);
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(" 120\t", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-1", "1.5", "12s", "+3"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn the_three_date_forms_of_rfc_9110() {
        let now = at(EXAMPLE - 90);
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(date, now),
                Some(Duration::from_secs(90)),
                "{date}"
            );
        }
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", at(0)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tue, 29 Feb 2000 23:59:60 GMT", at(951_868_800 - 1)),
            Some(Duration::from_secs(1)),
            "a leap day and a leap second"
        );
    }

    #[test]
    fn a_past_date_asks_for_no_wait() {
        let now = at(EXAMPLE + 3600);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn two_digit_years_are_at_most_fifty_years_ahead() {
        // In 2026, `76` is 2076 and `77` is 1977.
        let now = at(1_780_000_000);
        let in_2076 = parse_retry_after("Sunday, 01-Nov-76 00:00:00 GMT", now).unwrap();
        assert!(in_2076 > Duration::from_secs(49 * 365 * 86_400));
        assert_eq!(
            parse_retry_after("Tuesday, 01-Nov-77 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn malformed_dates_are_refused() {
        let now = at(EXAMPLE);
        for bad in [
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Dim, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "tomorrow",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
