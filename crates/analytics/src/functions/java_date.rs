//! Java `SimpleDateFormat` patterns, as CHAR_TO_TIMESTAMP and TIMESTAMP_TO_CHAR take
//! them (SQLREF points to the Java class): letters are fields, `'…'` quotes literal
//! text (`''` is a quote), anything else is literal. Times are UTC.
//!
//! Supported letters: G y M d D E u a H k K h m s S z Z X. Others (week fields, `F`,
//! `L`, `Y`) are refused with an error naming them. Parsing is strict where Java's
//! default is lenient (a month 13 is an error, not January of the next year) except
//! for `h`/`K` read without `a`, where 13 to 23 are taken as the hour of the day; and
//! like Java it stops at the end of the pattern, so text after it is not read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use chrono::{Datelike, NaiveDate, Timelike};

use super::datetime::{epoch_ms, naive};

/// Patterns longer than this are refused (they are written by hand in code).
pub const PATTERN_CHARS_MAX: usize = 256;
/// Compiled patterns kept per thread; past it the cache is emptied.
pub const PATTERN_CACHE_MAX: usize = 64;

thread_local! {
    static COMPILED: RefCell<HashMap<String, Rc<[Element]>>> = RefCell::new(HashMap::new());
}

/// The compiled form of a pattern, from the per-thread cache (a query usually applies
/// one pattern to every row).
fn compiled(pattern: &str) -> Result<Rc<[Element]>, String> {
    if let Some(elements) = COMPILED.with(|cache| cache.borrow().get(pattern).cloned()) {
        return Ok(elements);
    }
    let elements: Rc<[Element]> = compile(pattern)?.into();
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= PATTERN_CACHE_MAX {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), Rc::clone(&elements));
    });
    Ok(elements)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

#[derive(Debug, Clone, PartialEq)]
enum Element {
    Field { letter: char, count: usize },
    Literal(String),
}

fn compile(pattern: &str) -> Result<Vec<Element>, String> {
    if pattern.chars().count() > PATTERN_CHARS_MAX {
        return Err(format!("date pattern longer than {PATTERN_CHARS_MAX} characters"));
    }
    let mut elements = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            let mut literal = String::new();
            if chars.peek() == Some(&'\'') {
                chars.next();
                literal.push('\'');
            } else {
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(other) => literal.push(other),
                        None => return Err(format!("date pattern '{pattern}' has an unclosed quote")),
                    }
                }
            }
            push_literal(&mut elements, &literal);
        } else if c.is_ascii_alphabetic() {
            if !"GyMdDEuaHkKhmsSzZX".contains(c) {
                return Err(format!("date pattern letter '{c}' is not supported"));
            }
            let mut count = 1;
            while chars.peek() == Some(&c) {
                chars.next();
                count += 1;
            }
            elements.push(Element::Field { letter: c, count });
        } else {
            push_literal(&mut elements, &c.to_string());
        }
    }
    Ok(elements)
}

fn push_literal(elements: &mut Vec<Element>, text: &str) {
    if let Some(Element::Literal(previous)) = elements.last_mut() {
        previous.push_str(text);
    } else {
        elements.push(Element::Literal(text.to_owned()));
    }
}

/// Formats epoch milliseconds with a pattern.
pub fn format(pattern: &str, ms: i64) -> Result<String, String> {
    let elements = compiled(pattern)?;
    let at = naive(ms).ok_or_else(|| format!("timestamp {ms} out of range"))?;
    let mut out = String::new();
    for element in elements.iter() {
        let (letter, count) = match element {
            Element::Literal(text) => {
                out.push_str(text);
                continue;
            }
            Element::Field { letter, count } => (*letter, *count),
        };
        let number = |value: i64, out: &mut String| out.push_str(&format!("{value:0count$}"));
        match letter {
            'G' => out.push_str(if at.year() > 0 { "AD" } else { "BC" }),
            'y' if count == 2 => number(i64::from(at.year().rem_euclid(100)), &mut out),
            'y' => number(i64::from(at.year()), &mut out),
            'M' if count >= 4 => out.push_str(MONTHS[at.month0() as usize]),
            'M' if count == 3 => out.push_str(&MONTHS[at.month0() as usize][..3]),
            'M' => number(i64::from(at.month()), &mut out),
            'd' => number(i64::from(at.day()), &mut out),
            'D' => number(i64::from(at.ordinal()), &mut out),
            'E' => {
                let name = WEEKDAYS[at.weekday().num_days_from_monday() as usize];
                out.push_str(if count >= 4 { name } else { &name[..3] });
            }
            'u' => number(i64::from(at.weekday().number_from_monday()), &mut out),
            'a' => out.push_str(if at.hour() < 12 { "AM" } else { "PM" }),
            'H' => number(i64::from(at.hour()), &mut out),
            'k' => number(i64::from(if at.hour() == 0 { 24 } else { at.hour() }), &mut out),
            'K' => number(i64::from(at.hour() % 12), &mut out),
            'h' => number(i64::from(if at.hour() % 12 == 0 { 12 } else { at.hour() % 12 }), &mut out),
            'm' => number(i64::from(at.minute()), &mut out),
            's' => number(i64::from(at.second()), &mut out),
            'S' => number(i64::from(at.nanosecond() / 1_000_000), &mut out),
            'z' => out.push_str("UTC"),
            'Z' => out.push_str("+0000"),
            _ => out.push('Z'),
        }
    }
    Ok(out)
}

/// The fields read so far; unread ones default to 1970-01-01 00:00:00.000 UTC.
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    day_of_year: Option<u32>,
    hour: u32,
    pm: Option<bool>,
    twelve_hour: bool,
    minute: u32,
    second: u32,
    millisecond: u32,
    offset_minutes: i32,
    bc: bool,
}

/// Parses text with a pattern into epoch milliseconds.
pub fn parse(pattern: &str, input: &str) -> Result<i64, String> {
    let elements = compiled(pattern)?;
    let bad = || format!("'{input}' does not match the date pattern '{pattern}'");
    let mut fields = Fields {
        year: 1970,
        month: 1,
        day: 1,
        day_of_year: None,
        hour: 0,
        pm: None,
        twelve_hour: false,
        minute: 0,
        second: 0,
        millisecond: 0,
        offset_minutes: 0,
        bc: false,
    };
    let mut rest = input;
    for (index, element) in elements.iter().enumerate() {
        let (letter, count) = match element {
            Element::Literal(text) => {
                rest = rest.strip_prefix(text.as_str()).ok_or_else(bad)?;
                continue;
            }
            Element::Field { letter, count } => (*letter, *count),
        };
        // A numeric field directly followed by another reads exactly its width
        // (`yyyyMMdd`); otherwise it reads every digit there is.
        let next_is_number = matches!(
            elements.get(index + 1),
            Some(Element::Field { letter, count }) if is_numeric_field(*letter, *count)
        );
        let width = if next_is_number { count } else { 10 };
        match letter {
            'M' if count >= 3 => {
                let (month, after) = read_name(rest, &MONTHS).ok_or_else(bad)?;
                fields.month = month as u32 + 1;
                rest = after;
            }
            'E' => {
                let (_, after) = read_name(rest, &WEEKDAYS).ok_or_else(bad)?;
                rest = after;
            }
            'G' => {
                let (era, after) = read_name(rest, &["AD", "BC"]).ok_or_else(bad)?;
                fields.bc = era == 1;
                rest = after;
            }
            'a' => {
                let (half, after) = read_name(rest, &["AM", "PM"]).ok_or_else(bad)?;
                fields.pm = Some(half == 1);
                rest = after;
            }
            'z' | 'Z' | 'X' => {
                let (offset, after) = read_offset(rest).ok_or_else(bad)?;
                fields.offset_minutes = offset;
                rest = after;
            }
            _ => {
                let (value, after) = read_number(rest, width).ok_or_else(bad)?;
                rest = after;
                let value32 = u32::try_from(value).map_err(|_| bad())?;
                match letter {
                    'y' if count == 2 && value < 100 => fields.year = 2000 + value32 as i32,
                    'y' => fields.year = i32::try_from(value).map_err(|_| bad())?,
                    'M' => fields.month = value32,
                    'd' => fields.day = value32,
                    'D' => fields.day_of_year = Some(value32),
                    'u' => {}
                    'H' => fields.hour = value32,
                    'k' => fields.hour = if value32 == 24 { 0 } else { value32 },
                    'K' => {
                        fields.hour = value32;
                        fields.twelve_hour = true;
                    }
                    'h' => {
                        fields.hour = if value32 == 12 { 0 } else { value32 };
                        fields.twelve_hour = true;
                    }
                    'm' => fields.minute = value32,
                    's' => fields.second = value32,
                    _ => fields.millisecond = value32,
                }
            }
        }
    }
    // `hh` with 13 to 23 reads as the hour of the day, as Java's (lenient) parser does:
    // SQLREF's CHAR_TO_TIMESTAMP template is 'yyyy-MM-dd hh:mm:ss' and data written
    // with it is often on a 24-hour clock.
    if fields.hour > 23 || (fields.twelve_hour && fields.pm.is_some() && fields.hour > 11) {
        return Err(bad());
    }
    if fields.pm == Some(true) {
        fields.hour += 12;
    }
    let year = if fields.bc { 1 - fields.year } else { fields.year };
    let date = match fields.day_of_year {
        Some(ordinal) => NaiveDate::from_yo_opt(year, ordinal),
        None => NaiveDate::from_ymd_opt(year, fields.month, fields.day),
    }
    .ok_or_else(bad)?;
    let at = date.and_hms_milli_opt(fields.hour, fields.minute, fields.second, fields.millisecond).ok_or_else(bad)?;
    Ok(epoch_ms(at) - i64::from(fields.offset_minutes) * 60_000)
}

fn is_numeric_field(letter: char, count: usize) -> bool {
    matches!(letter, 'y' | 'd' | 'D' | 'u' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S') || (letter == 'M' && count < 3)
}

fn read_number(text: &str, width: usize) -> Option<(i64, &str)> {
    let digits = text.bytes().take(width).take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    Some((text[..digits].parse().ok()?, &text[digits..]))
}

/// A full or three-letter name, case-insensitive: its index and the rest.
fn read_name<'t>(text: &'t str, names: &[&str]) -> Option<(usize, &'t str)> {
    for (index, name) in names.iter().enumerate() {
        for candidate in [*name, name.get(..3).unwrap_or(name)] {
            if let Some(prefix) = text.get(..candidate.len()) {
                if prefix.eq_ignore_ascii_case(candidate) {
                    return Some((index, &text[candidate.len()..]));
                }
            }
        }
    }
    None
}

/// `Z`, `UTC`, `GMT`, `+hh`, `+hhmm`, `+hh:mm`: minutes east of UTC and the rest.
fn read_offset(text: &str) -> Option<(i32, &str)> {
    for zero in ["UTC", "GMT", "Z"] {
        if let Some(rest) = text.strip_prefix(zero) {
            return Some((0, rest));
        }
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, rest) = read_number(&text[1..], 2)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (minutes, rest) = read_number(rest, 2).unwrap_or((0, rest));
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((sign * (hours as i32 * 60 + minutes as i32), rest))
}
