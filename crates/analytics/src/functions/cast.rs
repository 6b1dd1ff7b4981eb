//! CAST between the types of [`SqlType`], and the text forms of dates and times
//! (`2004-09-30 13:48:23.5`) that literals and casts read and write. The valid pairs are
//! SQLREF's CAST table; the compiler refuses the others.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::args::{double, mismatch, pow10, text};
use super::datetime::{date_of_days, days, epoch_ms, naive, MS_PER_DAY};
use crate::value::{ErrorKind, EvalError, SqlType, Value};

/// `yyyy-MM-dd HH:mm:ss[.fff]` (the time may be left out) as epoch milliseconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(epoch_ms(at.with_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)?));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|date| date.and_hms_opt(0, 0, 0)).map(epoch_ms)
}

/// `yyyy-MM-dd` as days since the epoch.
pub fn parse_date(text: &str) -> Option<i32> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok().and_then(days)
}

/// `HH:mm:ss[.fff]` as milliseconds since midnight.
pub fn parse_time(text: &str) -> Option<u32> {
    let text = text.trim();
    let time =
        NaiveTime::parse_from_str(text, "%H:%M:%S%.f").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M")).ok()?;
    Some(time.num_seconds_from_midnight() * 1000 + time.nanosecond() / 1_000_000)
}

/// The text of a timestamp: `yyyy-MM-dd HH:mm:ss`, with `.fff` when the milliseconds
/// are not zero.
pub fn timestamp_text(ms: i64) -> Option<String> {
    let at = naive(ms)?;
    let millis = at.nanosecond() / 1_000_000;
    Some(if millis == 0 {
        at.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        format!("{}.{millis:03}", at.format("%Y-%m-%d %H:%M:%S"))
    })
}

fn time_text(ms: u32) -> String {
    let (seconds, millis) = (ms / 1000, ms % 1000);
    let base = format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    if millis == 0 {
        base
    } else {
        format!("{base}.{millis:03}")
    }
}

fn interval_text(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (hours, minutes, seconds, millis) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000);
    format!("{sign}{days} {hours:02}:{minutes:02}:{seconds:02}.{millis:03}")
}

/// The unscaled value as decimal text.
pub fn decimal_text(unscaled: i128, scale: u8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// A double as Java's `Double.toString` writes it: `1.0`, `0.001`, `1.0E7`, `1.5E-4`.
pub fn double_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{value}");
        return if text.contains('.') { text } else { format!("{text}.0") };
    }
    let text = format!("{value:E}");
    match text.split_once('E') {
        Some((mantissa, exponent)) if !mantissa.contains('.') => format!("{mantissa}.0E{exponent}"),
        _ => text,
    }
}

/// The text CAST to a string type writes for a value.
fn value_text(value: &Value) -> Result<String, EvalError> {
    Ok(match value {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Int(v) => v.to_string(),
        Value::Real(v) => double_text(f64::from(*v)),
        Value::Double(v) => double_text(*v),
        Value::Decimal(unscaled, scale) => decimal_text(*unscaled, *scale),
        Value::Str(_) => text(value, "CAST")?.to_owned(),
        Value::Bin(_) => return Err(mismatch("CAST", "a value with a text form", value)),
        Value::Date(day) => {
            date_of_days(*day).map(|date| date.format("%Y-%m-%d").to_string()).ok_or_else(|| range("DATE"))?
        }
        Value::Time(ms) => time_text(*ms),
        Value::Timestamp(ms) => timestamp_text(*ms).ok_or_else(|| range("TIMESTAMP"))?,
        Value::Interval(ms) => interval_text(*ms),
    })
}

fn range(to: &str) -> EvalError {
    EvalError::new(ErrorKind::Coercion, format!("CAST: value out of the range of {to}"))
}

fn unreadable(text: &str, to: SqlType) -> EvalError {
    EvalError::new(ErrorKind::Coercion, format!("CAST: '{text}' is not a {}", to))
}

/// The range of an integer type.
pub fn integer_range(ty: SqlType) -> (i64, i64) {
    match ty {
        SqlType::TinyInt => (i64::from(i8::MIN), i64::from(i8::MAX)),
        SqlType::SmallInt => (i64::from(i16::MIN), i64::from(i16::MAX)),
        SqlType::Integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

fn fit_integer(value: i128, to: SqlType) -> Result<Value, EvalError> {
    let (min, max) = integer_range(to);
    if value < i128::from(min) || value > i128::from(max) {
        return Err(range(&to.to_string()));
    }
    Ok(Value::Int(value as i64))
}

/// Reads decimal text (`-12.345`, `1e3`) as unscaled digits at `scale`, rounding half
/// away from zero.
fn parse_decimal(text: &str, scale: u8) -> Option<i128> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        let value: f64 = text.parse().ok()?;
        return double_to_decimal(value, scale);
    }
    let (negative, body) = match text.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if (whole.is_empty() && fraction.is_empty()) || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = usize::from(scale);
    let kept: String = fraction.chars().chain(std::iter::repeat('0')).take(scale).collect();
    let mut unscaled: i128 = format!("{}{kept}", if whole.is_empty() { "0" } else { whole }).parse().ok()?;
    if fraction.as_bytes().get(scale).is_some_and(|digit| *digit >= b'5') {
        unscaled = unscaled.checked_add(1)?;
    }
    Some(if negative { -unscaled } else { unscaled })
}

fn double_to_decimal(value: f64, scale: u8) -> Option<i128> {
    let scaled = (value * 10f64.powi(i32::from(scale))).round();
    if !scaled.is_finite() || scaled.abs() >= 1e38 {
        return None;
    }
    Some(scaled as i128)
}

/// Rescales a decimal, rounding half away from zero when digits are dropped.
fn rescale(unscaled: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        return unscaled.checked_mul(pow10(u32::from(to - from))?);
    }
    let unit = pow10(u32::from(from - to))?;
    let (quotient, remainder) = (unscaled / unit, unscaled % unit);
    let round = remainder.abs().checked_mul(2)? >= unit;
    Some(if round { quotient + unscaled.signum() } else { quotient })
}

fn fit_decimal(unscaled: i128, precision: u8, scale: u8) -> Result<Value, EvalError> {
    let limit = pow10(u32::from(precision)).ok_or_else(|| range("DECIMAL"))?;
    if unscaled.abs() >= limit {
        return Err(range(&format!("DECIMAL({precision},{scale})")));
    }
    Ok(Value::Decimal(unscaled, scale))
}

/// `CAST(value AS to)`.
pub fn cast(value: &Value, to: SqlType) -> Result<Value, EvalError> {
    use SqlType as T;
    if value.is_null() {
        return Ok(Value::Null);
    }
    match to {
        T::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Str(_) => {
                let text = text(value, "CAST")?.trim();
                if text.eq_ignore_ascii_case("TRUE") {
                    Ok(Value::Bool(true))
                } else if text.eq_ignore_ascii_case("FALSE") {
                    Ok(Value::Bool(false))
                } else if text.eq_ignore_ascii_case("UNKNOWN") {
                    Ok(Value::Null)
                } else {
                    Err(unreadable(text, to))
                }
            }
            other => Err(mismatch("CAST to BOOLEAN", "a BOOLEAN or a string", other)),
        },
        T::TinyInt | T::SmallInt | T::Integer | T::BigInt => match value {
            Value::Int(v) => fit_integer(i128::from(*v), to),
            // Toward zero, as Java's narrowing conversions.
            Value::Decimal(unscaled, scale) => {
                fit_integer(unscaled / pow10(u32::from(*scale)).ok_or_else(|| range("DECIMAL"))?, to)
            }
            Value::Real(_) | Value::Double(_) => {
                let v = double(value, "CAST")?;
                if !v.is_finite() || v.abs() >= 1e19 {
                    return Err(range(&to.to_string()));
                }
                fit_integer(v.trunc() as i128, to)
            }
            Value::Str(_) => {
                let text = text(value, "CAST")?.trim();
                let parsed: i128 = text.parse().map_err(|_| unreadable(text, to))?;
                fit_integer(parsed, to)
            }
            other => Err(mismatch("CAST to an integer", "a number or a string", other)),
        },
        T::Decimal { precision, scale } => {
            let unscaled = match value {
                Value::Int(v) => rescale(i128::from(*v), 0, scale),
                Value::Decimal(unscaled, from) => rescale(*unscaled, *from, scale),
                Value::Real(_) | Value::Double(_) => double_to_decimal(double(value, "CAST")?, scale),
                Value::Str(_) => {
                    let text = text(value, "CAST")?;
                    Some(parse_decimal(text, scale).ok_or_else(|| unreadable(text, to))?)
                }
                other => return Err(mismatch("CAST to DECIMAL", "a number or a string", other)),
            };
            fit_decimal(unscaled.ok_or_else(|| range("DECIMAL"))?, precision, scale)
        }
        T::Real | T::Double => {
            let v = match value {
                Value::Str(_) => {
                    let text = text(value, "CAST")?.trim();
                    text.parse::<f64>().map_err(|_| unreadable(text, to))?
                }
                other => double(other, "CAST")?,
            };
            if to == T::Real {
                let narrowed = v as f32;
                if v.is_finite() && !narrowed.is_finite() {
                    return Err(range("REAL"));
                }
                Ok(Value::Real(narrowed))
            } else {
                Ok(Value::Double(v))
            }
        }
        T::Char(length) | T::Varchar(length) => {
            let text = value_text(value)?;
            let chars = text.chars().count();
            let length = length as usize;
            let fitted = if chars > length {
                // Strings are cut to the length (SQL's right truncation of character
                // strings); other values that do not fit are an error (SQLREF's CAST
                // of a date to VARCHAR(9) selects no row).
                if !matches!(value, Value::Str(_)) {
                    return Err(range(&to.to_string()));
                }
                text.chars().take(length).collect()
            } else if matches!(to, T::Char(_)) {
                format!("{text}{}", " ".repeat(length - chars))
            } else {
                text
            };
            Ok(Value::Str(fitted.into()))
        }
        T::Binary(length) | T::Varbinary(length) => match value {
            Value::Bin(bytes) => {
                let length = length as usize;
                if bytes.len() > length {
                    return Err(range(&to.to_string()));
                }
                if matches!(to, T::Binary(_)) && bytes.len() < length {
                    let mut padded = bytes.to_vec();
                    padded.resize(length, 0);
                    return Ok(Value::Bin(padded.into()));
                }
                Ok(Value::Bin(bytes.clone()))
            }
            other => Err(mismatch("CAST to binary", "a binary", other)),
        },
        T::Date => match value {
            Value::Date(day) => Ok(Value::Date(*day)),
            Value::Timestamp(ms) => {
                i32::try_from(ms.div_euclid(MS_PER_DAY)).map(Value::Date).map_err(|_| range("DATE"))
            }
            Value::Str(_) => {
                let text = text(value, "CAST")?;
                parse_date(text).map(Value::Date).ok_or_else(|| unreadable(text, to))
            }
            other => Err(mismatch("CAST to DATE", "a DATE, TIMESTAMP or string", other)),
        },
        T::Time => match value {
            Value::Time(ms) => Ok(Value::Time(*ms)),
            Value::Timestamp(ms) => Ok(Value::Time(ms.rem_euclid(MS_PER_DAY) as u32)),
            Value::Str(_) => {
                let text = text(value, "CAST")?;
                parse_time(text).map(Value::Time).ok_or_else(|| unreadable(text, to))
            }
            other => Err(mismatch("CAST to TIME", "a TIME, TIMESTAMP or string", other)),
        },
        T::Timestamp => match value {
            Value::Timestamp(ms) => Ok(Value::Timestamp(*ms)),
            Value::Date(day) => Ok(Value::Timestamp(i64::from(*day) * MS_PER_DAY)),
            // A time of day on the epoch's date: the value has no date of its own.
            Value::Time(ms) => Ok(Value::Timestamp(i64::from(*ms))),
            Value::Str(_) => {
                let text = text(value, "CAST")?;
                parse_timestamp(text).map(Value::Timestamp).ok_or_else(|| unreadable(text, to))
            }
            other => Err(mismatch("CAST to TIMESTAMP", "a TIMESTAMP, DATE, TIME or string", other)),
        },
        T::IntervalDayTime => match value {
            Value::Interval(ms) => Ok(Value::Interval(*ms)),
            other => Err(mismatch("CAST to INTERVAL", "an interval", other)),
        },
    }
}
