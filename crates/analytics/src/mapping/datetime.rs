//! Day numbers and the text forms of DATE, TIME and TIMESTAMP that records carry in and
//! out. The text is scanned and written by hand rather than through `chrono`'s format
//! strings: it runs once per value on the throughput-critical path, and the forms are
//! fixed.

use chrono::{Datelike, NaiveDate};

const MS_PER_DAY: i64 = 86_400_000;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Days since 1970-01-01 of a proleptic Gregorian date, `None` when it does not exist.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE)
}

/// The date (year, month, day) of a day number since 1970-01-01; `None` past chrono's
/// range (about ±262,000 years).
pub(crate) fn civil_from_days(days: i64) -> Option<(i64, u32, u32)> {
    let date = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + UNIX_EPOCH_DAYS_FROM_CE).ok()?)?;
    Some((i64::from(date.year()), date.month(), date.day()))
}

/// A cursor over ASCII digits and separators.
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.at;
        let mut value: u32 = 0;
        while self.at < self.bytes.len() && self.at - start < max && self.bytes[self.at].is_ascii_digit() {
            value = value * 10 + u32::from(self.bytes[self.at] - b'0');
            self.at += 1;
        }
        (self.at - start >= min).then_some(value)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(matched);
        matched
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// `yyyy-M-d` (month and day of one or two digits).
    fn date(&mut self) -> Option<i32> {
        let year = self.digits(4, 4)?;
        if !self.eat(b'-') {
            return None;
        }
        let month = self.digits(1, 2)?;
        if !self.eat(b'-') {
            return None;
        }
        let day = self.digits(1, 2)?;
        i32::try_from(days_from_civil(i64::from(year), month, day)?).ok()
    }

    /// `H:mm[:ss[.fraction]]`, milliseconds since midnight; digits past the millisecond
    /// are dropped (TIMESTAMP and TIME keep milliseconds).
    fn time(&mut self) -> Option<u32> {
        let hour = self.digits(1, 2)?;
        if !self.eat(b':') {
            return None;
        }
        let minute = self.digits(2, 2)?;
        let mut second = 0;
        let mut millis = 0;
        if self.eat(b':') {
            second = self.digits(2, 2)?;
            if self.eat(b'.') {
                let start = self.at;
                let fraction = self.digits(1, 9)?;
                let digits = (self.at - start) as u32;
                millis = if digits >= 3 { fraction / 10u32.pow(digits - 3) } else { fraction * 10u32.pow(3 - digits) };
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(((hour * 60 + minute) * 60 + second) * 1000 + millis)
    }
}

fn scanner(text: &str) -> Scanner<'_> {
    Scanner { bytes: text.trim().as_bytes(), at: 0 }
}

/// `yyyy-MM-dd`, as days since 1970-01-01.
pub(crate) fn parse_date(text: &str) -> Option<i32> {
    let mut scan = scanner(text);
    let days = scan.date()?;
    scan.done().then_some(days)
}

/// `HH:mm[:ss[.SSS]]`, as milliseconds since midnight.
pub(crate) fn parse_time(text: &str) -> Option<u32> {
    let mut scan = scanner(text);
    let millis = scan.time()?;
    scan.done().then_some(millis)
}

/// `yyyy-MM-dd[( |T)HH:mm[:ss[.fraction]]][Z]`, as epoch milliseconds (UTC: KDA's
/// timestamps carry no zone).
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let mut scan = scanner(text);
    let days = scan.date()?;
    let mut millis = 0;
    if scan.eat(b' ') || scan.eat(b'T') {
        millis = scan.time()?;
    }
    scan.eat(b'Z');
    scan.done().then_some(i64::from(days) * MS_PER_DAY + i64::from(millis))
}

fn push_number(out: &mut Vec<u8>, value: i64, width: usize) {
    let text = value.unsigned_abs().to_string();
    if value < 0 {
        out.push(b'-');
    }
    for _ in text.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(text.as_bytes());
}

/// `yyyy-MM-dd`.
pub(crate) fn write_date(out: &mut Vec<u8>, days: i64) {
    // A value out of chrono's range prints as its day number (no TIMESTAMP reaches it).
    let Some((year, month, day)) = civil_from_days(days) else {
        out.extend_from_slice(days.to_string().as_bytes());
        return;
    };
    push_number(out, year, 4);
    out.push(b'-');
    push_number(out, i64::from(month), 2);
    out.push(b'-');
    push_number(out, i64::from(day), 2);
}

/// `HH:mm:ss.SSS`.
pub(crate) fn write_time(out: &mut Vec<u8>, millis_of_day: i64) {
    let seconds = millis_of_day / 1000;
    push_number(out, seconds / 3600, 2);
    out.push(b':');
    push_number(out, seconds / 60 % 60, 2);
    out.push(b':');
    push_number(out, seconds % 60, 2);
    out.push(b'.');
    push_number(out, millis_of_day % 1000, 3);
}

/// `yyyy-MM-dd HH:mm:ss.SSS`.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, epoch_ms: i64) {
    write_date(out, epoch_ms.div_euclid(MS_PER_DAY));
    out.push(b' ');
    write_time(out, epoch_ms.rem_euclid(MS_PER_DAY));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn timestamp_text(epoch_ms: i64) -> String {
        let mut out = Vec::new();
        write_timestamp(&mut out, epoch_ms);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn civil_days_round_trip_across_eras() {
        for days in (-800_000..800_000).step_by(997) {
            let (year, month, day) = civil_from_days(days).unwrap();
            assert_eq!(days_from_civil(year, month, day), Some(days), "{year}-{month}-{day}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2023, 2, 29), None);
    }

    #[test]
    fn timestamps_parse_in_the_forms_records_carry() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_timestamp("1992-02-14"), Some(8079 * MS_PER_DAY));
        assert_eq!(parse_timestamp("1992-02-14 18:35:44.0"), Some(698_092_544_000));
        assert_eq!(parse_timestamp("2018-08-01T20:17:20.797945"), Some(1_533_154_640_797));
        assert_eq!(parse_timestamp("2024-12-06T10:00:00Z"), Some(1_733_479_200_000));
        assert_eq!(parse_timestamp("2023-02-29 00:00:00"), None);
        assert_eq!(parse_timestamp("2024-01-01 24:00:00"), None);
        assert_eq!(parse_timestamp("2024-01-01 10:00:00 junk"), None);
        assert_eq!(parse_timestamp("12345"), None);
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_time("18:35:44.5"), Some(66_944_500));
    }

    #[test]
    fn timestamps_format_with_milliseconds_before_and_after_the_epoch() {
        assert_eq!(timestamp_text(0), "1970-01-01 00:00:00.000");
        assert_eq!(timestamp_text(1_733_480_000_123), "2024-12-06 10:13:20.123");
        assert_eq!(timestamp_text(-1), "1969-12-31 23:59:59.999");
    }
}
