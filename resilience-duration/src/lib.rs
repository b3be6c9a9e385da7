//! The duration grammar of [`resilience`](https://docs.rs/resilience): `"250ms"`,
//! `"1.5s"`, `"2m"`, `"1h30m"`, `"90 s"`, in the units `ns`, `us`, `ms`, `s`, `m` and `h`.
//!
//! One parser for the attributes (`#[timeout("250ms")]`, read at compile time by
//! `resilience-macros`) and for configuration files (read at run time by
//! `resilience-runtime`'s `config` feature), so a duration means the same in both.
//!
//! ```
//! use resilience_duration::{parse, DurationError};
//! assert_eq!(parse("1h30m"), Ok(5400 * 1_000_000_000));
//! assert_eq!(parse("5"), Err(DurationError::NoUnit("5".into())));
//! ```

#![warn(missing_docs)]

/// Nanoseconds in a second.
pub const SECOND: u128 = 1_000_000_000;
const UNITS: &str = "`ns`, `us`, `ms`, `s`, `m` and `h`";

/// Why a duration could not be read; each says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not a duration at all.
    Malformed,
    /// A negative duration.
    Negative,
    /// More than a `std::time::Duration` holds.
    TooLarge,
    /// A number in a string without a unit: `"5"`, or the `30` of `"1m30"`.
    NoUnit(String),
    /// A unit not in the grammar, such as `sec`.
    UnknownUnit(String),
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::Malformed => write!(
                f,
                "expected a duration such as \"250ms\", \"30s\", \"1h30m\" or a number of seconds; the units are {UNITS}"
            ),
            DurationError::Negative => f.write_str("a duration cannot be negative"),
            DurationError::TooLarge => f.write_str("duration too large: it must fit a `std::time::Duration`"),
            DurationError::NoUnit(number) => write!(
                f,
                "`{number}` needs a unit, such as \"{number}s\"; the units are {UNITS} (a number of seconds is written without quotes)"
            ),
            DurationError::UnknownUnit(unit) => match unit_meant(unit) {
                Some(meant) => write!(f, "unknown unit `{unit}`; did you mean `{meant}`? The units are {UNITS}"),
                None => write!(f, "unknown unit `{unit}`; the units are {UNITS}"),
            },
        }
    }
}

/// The unit people write `unit` for.
fn unit_meant(unit: &str) -> Option<&'static str> {
    Some(match unit.to_lowercase().as_str() {
        "nanos" | "nanosecond" | "nanoseconds" | "nsec" => "ns",
        "micros" | "microsecond" | "microseconds" | "usec" => "us",
        "millis" | "milli" | "millisecond" | "milliseconds" | "msec" | "msecs" => "ms",
        "sec" | "secs" | "second" | "seconds" => "s",
        "min" | "mins" | "minute" | "minutes" => "m",
        "hr" | "hrs" | "hour" | "hours" => "h",
        _ => return None,
    })
}

/// A duration in nanoseconds: `"250ms"`, `"1.5s"`, `"2m"`, `"1h30m"`, `"90 s"`.
///
/// # Errors
///
/// A [`DurationError`] that says what is accepted.
///
/// ```
/// assert_eq!(resilience_duration::parse("1.5s"), Ok(1_500_000_000));
/// assert!(resilience_duration::parse("1 sec").is_err());
/// ```
pub fn parse(text: &str) -> Result<u128, DurationError> {
    let mut rest = text.trim();
    if rest.starts_with('-') {
        return Err(DurationError::Negative);
    }
    if rest.is_empty() {
        return Err(DurationError::Malformed);
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_len);
        if number.is_empty() {
            return Err(DurationError::Malformed);
        }
        let tail = tail.trim_start();
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => SECOND,
            "m" => 60 * SECOND,
            "h" => 3600 * SECOND,
            "" => return Err(DurationError::NoUnit(number.to_owned())),
            other => return Err(DurationError::UnknownUnit(other.to_owned())),
        };
        total = total
            .checked_add(decimal(number, scale)?)
            .ok_or(DurationError::TooLarge)?;
        rest = tail.trim_start();
    }
    if total / SECOND > u128::from(u64::MAX) {
        return Err(DurationError::TooLarge);
    }
    Ok(total)
}

/// `digits` (such as `1.25`) times `scale`, exactly; digits finer than a nanosecond are
/// dropped. A bare number of seconds is `decimal(digits, SECOND)`.
///
/// # Errors
///
/// [`DurationError::Malformed`] for anything but digits with one optional point;
/// [`DurationError::TooLarge`] beyond a `std::time::Duration`.
///
/// ```
/// use resilience_duration::{decimal, SECOND};
/// assert_eq!(decimal("0.25", SECOND), Ok(250_000_000));
/// ```
pub fn decimal(digits: &str, scale: u128) -> Result<u128, DurationError> {
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !(whole.is_empty() && fraction.is_empty())
        && whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(DurationError::Malformed);
    }
    let whole: u128 = match whole {
        "" => 0,
        digits => digits.parse().map_err(|_| DurationError::TooLarge)?,
    };
    let mut value = whole.checked_mul(scale).ok_or(DurationError::TooLarge)?;
    let mut unit = scale;
    for digit in fraction.chars().take(30) {
        unit /= 10;
        value += u128::from(digit.to_digit(10).unwrap_or(0)) * unit;
    }
    if value / SECOND > u128::from(u64::MAX) {
        return Err(DurationError::TooLarge);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ms = 1_000_000;
        assert_eq!(parse("250ms"), Ok(250 * ms));
        assert_eq!(parse("1.5s"), Ok(1500 * ms));
        assert_eq!(parse("2m"), Ok(120_000 * ms));
        assert_eq!(parse("1h30m"), Ok(5_400_000 * ms));
        assert_eq!(parse(" 90 s "), Ok(90_000 * ms));
        assert_eq!(parse("0.001s"), Ok(ms));
        assert_eq!(parse("10us"), Ok(10_000));
        assert_eq!(parse("0s"), Ok(0));
        assert_eq!(parse("-1s"), Err(DurationError::Negative));
        assert_eq!(parse("5"), Err(DurationError::NoUnit("5".into())));
        assert_eq!(parse("1m30"), Err(DurationError::NoUnit("30".into())));
        assert_eq!(
            parse("1 sec"),
            Err(DurationError::UnknownUnit("sec".into()))
        );
        assert_eq!(
            parse("100 millis"),
            Err(DurationError::UnknownUnit("millis".into()))
        );
        assert_eq!(parse("99999999999999999999h"), Err(DurationError::TooLarge));
        for bad in ["", "s", "1..5s", "1e3s"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decimal("0.25", SECOND), Ok(250 * ms));
        assert_eq!(decimal(".", SECOND), Err(DurationError::Malformed));
    }
}
