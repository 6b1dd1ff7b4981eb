//! The typed values that condition operators compare: dates (ISO 8601 or epoch seconds),
//! numbers and CIDR blocks, read from policies and from request context values.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time as nanoseconds since the Unix epoch (negative before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant(i128);

const NANOS_PER_SECOND: i128 = 1_000_000_000;

impl Instant {
    pub(crate) fn from_system_time(time: SystemTime) -> Instant {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Instant(after.as_nanos() as i128),
            Err(before) => Instant(-(before.duration().as_nanos() as i128)),
        }
    }
}

/// Reads a date as IAM's `Date*` operators accept it: ISO 8601 (`2026-12-06`,
/// `2026-12-06T16:15:00Z`, with fractions of a second and `±hh:mm` offsets; no zone means
/// UTC) or whole seconds since the epoch (`aws:EpochTime`).
pub(crate) fn parse_date(text: &str) -> Option<Instant> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i128 = text.parse().ok()?;
        return seconds.checked_mul(NANOS_PER_SECOND).map(Instant);
    }
    let mut cursor = Cursor { text: text.as_bytes(), at: 0 };
    let year = cursor.digits(4)? as i64;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0u32, 0u32, 0u32, 0i128);
    let mut offset_seconds: i64 = 0;
    if cursor.peek().is_some() {
        cursor.expect(b'T').or_else(|| cursor.expect(b't'))?;
        hour = cursor.digits(2)?;
        cursor.expect(b':')?;
        minute = cursor.digits(2)?;
        if cursor.peek() == Some(b':') {
            cursor.at += 1;
            second = cursor.digits(2)?;
            if matches!(cursor.peek(), Some(b'.' | b',')) {
                cursor.at += 1;
                nanos = cursor.fraction_nanos()?;
            }
        }
        match cursor.peek() {
            None => {}
            Some(b'Z' | b'z') => cursor.at += 1,
            Some(sign @ (b'+' | b'-')) => {
                cursor.at += 1;
                let hours = cursor.digits(2)? as i64;
                if cursor.peek() == Some(b':') {
                    cursor.at += 1;
                }
                let minutes = if cursor.peek().is_some() { cursor.digits(2)? as i64 } else { 0 };
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let offset = hours * 3600 + minutes * 60;
                offset_seconds = if sign == b'+' { offset } else { -offset };
            }
            Some(_) => return None,
        }
        if cursor.peek().is_some() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second) - offset_seconds;
    Some(Instant(i128::from(seconds) * NANOS_PER_SECOND + nanos))
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    fn digits(&mut self, count: usize) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + count)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += count;
        Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    /// Fractions of a second: up to nanoseconds kept, further digits read and dropped.
    fn fraction_nanos(&mut self) -> Option<i128> {
        let start = self.at;
        let mut nanos: i128 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            let position = self.at - start;
            if position < 9 {
                nanos += i128::from(d - b'0') * 10i128.pow(8 - position as u32);
            }
            self.at += 1;
        }
        (self.at > start).then_some(nanos)
    }
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Reads a number as the `Numeric*` operators do (integers and decimals).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let plausible =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    plausible.then(|| text.parse::<f64>().ok()).flatten().filter(|n| n.is_finite())
}

/// A CIDR block of `IpAddress`/`NotIpAddress` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    /// Whether `address` is in the block. An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`,
    /// as dual-stack sockets report it) counts as the IPv4 address.
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => prefix_equal(&net.octets(), &addr.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(addr)) => prefix_equal(&net.octets(), &addr.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_equal(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn seconds(text: &str) -> i128 {
        parse_date(text).unwrap().0 / NANOS_PER_SECOND
    }

    #[test]
    fn iso_8601_dates_and_epoch_seconds() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), 0);
        assert_eq!(seconds("2020-01-01"), 1_577_836_800);
        assert_eq!(seconds("2020-01-01T00:00:00Z"), 1_577_836_800);
        assert_eq!(seconds("2020-01-01T02:00:00+02:00"), 1_577_836_800);
        assert_eq!(seconds("2019-12-31T19:00:00-0500"), 1_577_836_800);
        assert_eq!(seconds("2020-01-01T00:00"), 1_577_836_800);
        assert_eq!(seconds("1577836800"), 1_577_836_800);
        assert_eq!(parse_date("2020-01-01T00:00:00.5Z").unwrap().0, 1_577_836_800 * NANOS_PER_SECOND + 500_000_000);
        assert_eq!(seconds("2024-02-29T12:00:00Z"), 1_709_208_000);
        assert_eq!(seconds("1969-12-31T23:59:59Z"), -1);
        for bad in [
            "",
            "2020-01",
            "2020-13-01",
            "2021-02-29",
            "2020-01-01T25:00:00Z",
            "2020-01-01T00:00:00Q",
            "yesterday",
            "2020-01-01T00:00:00+25:00",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn system_time_and_parsed_dates_agree() {
        let t = UNIX_EPOCH + Duration::from_secs(1_577_836_800);
        assert_eq!(Instant::from_system_time(t), parse_date("2020-01-01T00:00:00Z").unwrap());
        assert_eq!(
            Instant::from_system_time(UNIX_EPOCH - Duration::from_secs(1)),
            parse_date("1969-12-31T23:59:59Z").unwrap()
        );
    }

    #[test]
    fn cidr_blocks() {
        let block = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(block.contains("203.0.113.7".parse().unwrap()));
        assert!(!block.contains("203.0.114.7".parse().unwrap()));
        assert!(block.contains("::ffff:203.0.113.7".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        assert!(!v6.contains("203.0.113.7".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.1").unwrap().contains("10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("10.1.2.3/13").unwrap().contains("10.7.0.0".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "::/129", "host"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-2.5"), Some(-2.5));
        assert_eq!(parse_number("ten"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
    }
}
