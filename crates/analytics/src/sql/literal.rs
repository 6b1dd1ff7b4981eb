//! Literals as written in code: numbers, `X'…'`, `TIMESTAMP '…'`, `INTERVAL '…' unit`.

use crate::functions::cast;
use crate::plan::TimeUnit;
use crate::value::{SqlType, Value};

/// DECIMAL holds at most 19 significant digits (SQLREF data types).
pub const DECIMAL_DIGITS_MAX: u32 = 19;
/// CHAR and VARCHAR lengths are below 65535 (SQLREF data types: 0 < n < 65535).
pub const STRING_LENGTH_MAX: u32 = 65_534;

/// A numeric literal: INTEGER when it fits, else BIGINT; with a point, DECIMAL; with an
/// exponent, DOUBLE (the SQL standard's literal types).
pub fn number(text: &str) -> Result<(Value, SqlType), String> {
    if let Some(magnitude) = text.strip_prefix('-') {
        if !magnitude.contains(['e', 'E', '.']) {
            // Read with its sign so that the smallest BIGINT is a literal.
            let value: i64 = text.parse().map_err(|_| format!("integer {text} out of the BIGINT range"))?;
            let sql_type = if i32::try_from(value).is_ok() { SqlType::Integer } else { SqlType::BigInt };
            return Ok((Value::Int(value), sql_type));
        }
        let (value, sql_type) = number(magnitude)?;
        return Ok((negate(&value).ok_or_else(|| format!("number {text} out of range"))?, sql_type));
    }
    if text.contains(['e', 'E']) {
        let value: f64 = text.parse().map_err(|_| format!("number {text}"))?;
        if !value.is_finite() {
            return Err(format!("number {text} out of range"));
        }
        return Ok((Value::Double(value), SqlType::Double));
    }
    if let Some((whole, fraction)) = text.split_once('.') {
        let digits = format!("{whole}{fraction}");
        let significant = digits.trim_start_matches('0').len().max(1);
        if significant as u32 > DECIMAL_DIGITS_MAX || fraction.len() as u32 > DECIMAL_DIGITS_MAX {
            return Err(format!("decimal {text} has more than {DECIMAL_DIGITS_MAX} digits"));
        }
        let unscaled: i128 =
            if digits.is_empty() { 0 } else { digits.parse().map_err(|_| format!("number {text}"))? };
        let scale = fraction.len() as u8;
        let precision = (significant as u8).max(scale).max(1);
        return Ok((Value::Decimal(unscaled, scale), SqlType::Decimal { precision, scale }));
    }
    let value: i64 = text.parse().map_err(|_| format!("integer {text} out of the BIGINT range"))?;
    let sql_type = if i32::try_from(value).is_ok() { SqlType::Integer } else { SqlType::BigInt };
    Ok((Value::Int(value), sql_type))
}

/// The negation of a numeric or interval literal, when it has one.
pub fn negate(value: &Value) -> Option<Value> {
    match value {
        Value::Int(v) => v.checked_neg().map(Value::Int),
        Value::Decimal(v, scale) => v.checked_neg().map(|v| Value::Decimal(v, *scale)),
        Value::Double(v) => Some(Value::Double(-v)),
        Value::Interval(v) => v.checked_neg().map(Value::Interval),
        _ => None,
    }
}

/// The bytes of an `X'…'` literal.
pub fn hex(digits: &str) -> Result<Vec<u8>, String> {
    if !digits.len().is_multiple_of(2) {
        return Err(format!("binary literal X'{digits}' has an odd number of digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|at| {
            digits
                .get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("binary literal X'{digits}' is not hexadecimal"))
        })
        .collect()
}

/// `TIMESTAMP '…'`, `DATE '…'`, `TIME '…'`.
pub fn datetime(keyword: &str, text: &str) -> Result<(Value, SqlType), String> {
    let parsed = match keyword {
        "TIMESTAMP" => cast::parse_timestamp(text).map(|ms| (Value::Timestamp(ms), SqlType::Timestamp)),
        "DATE" => cast::parse_date(text).map(|days| (Value::Date(days), SqlType::Date)),
        _ => cast::parse_time(text).map(|ms| (Value::Time(ms), SqlType::Time)),
    };
    parsed.ok_or_else(|| format!("{keyword} literal '{text}'"))
}

/// Checks an interval text against written field precisions: at most `leading` digits
/// in the leading field, at most `fraction` digits after the seconds' point.
pub fn check_interval_precision(text: &str, leading: Option<u32>, fraction: Option<u32>) -> Result<(), String> {
    let body = text.trim();
    let body = body.strip_prefix('-').unwrap_or(body);
    let first_field = body.split([' ', ':', '.']).next().unwrap_or("");
    if let Some(leading) = leading {
        if first_field.len() > leading as usize {
            return Err(format!("interval '{text}' has more than {leading} digits in its leading field"));
        }
    }
    if let Some(fraction) = fraction {
        let written = body.rsplit_once('.').map_or(0, |(_, digits)| digits.len());
        if written > fraction as usize {
            return Err(format!("interval '{text}' has more than {fraction} fraction digits"));
        }
    }
    Ok(())
}

/// The milliseconds of a day-time interval's text for its qualifier: `'10' SECOND`,
/// `'1:30' MINUTE TO SECOND`, `'2 03:04:05.5' DAY TO SECOND`.
pub fn interval_ms(text: &str, leading: TimeUnit, trailing: TimeUnit) -> Result<i64, String> {
    let invalid = || format!("interval '{text}' does not match its qualifier");
    let too_large = || format!("interval '{text}' is past the range of millisecond intervals");
    let order = |unit: TimeUnit| match unit {
        TimeUnit::Day => Some(0usize),
        TimeUnit::Hour => Some(1),
        TimeUnit::Minute => Some(2),
        TimeUnit::Second => Some(3),
        TimeUnit::Month | TimeUnit::Year => None,
    };
    let (first, last) = match (order(leading), order(trailing)) {
        (Some(first), Some(last)) if first <= last => (first, last),
        _ => return Err(format!("interval qualifier {leading:?} TO {trailing:?}")),
    };
    let trimmed = text.trim();
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    // Days are separated from the time fields by a space, the time fields by colons.
    let mut fields: Vec<&str> = Vec::new();
    if first == 0 && last > 0 {
        let (day, rest) = body.split_once(' ').ok_or_else(invalid)?;
        fields.push(day);
        fields.extend(rest.trim_start().split(':'));
    } else {
        fields.extend(body.split(':'));
    }
    if fields.len() != last - first + 1 {
        return Err(invalid());
    }
    const UNIT_MS: [i64; 4] = [86_400_000, 3_600_000, 60_000, 1_000];
    const FIELD_MAX: [i64; 4] = [i64::MAX, 24, 60, 60];
    let mut total: i64 = 0;
    for (offset, field) in fields.iter().enumerate() {
        let unit = first + offset;
        let (whole, fraction) = match field.split_once('.') {
            Some((whole, fraction)) if unit == 3 => (whole, fraction),
            Some(_) => return Err(invalid()),
            None => (*field, ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let value: i64 = whole.parse().map_err(|_| too_large())?;
        if offset > 0 && value >= FIELD_MAX[unit] {
            return Err(invalid());
        }
        let mut millis = value.checked_mul(UNIT_MS[unit]).ok_or_else(too_large)?;
        if !fraction.is_empty() {
            // Milliseconds are the finest the types hold; finer digits are refused
            // rather than rounded away.
            if fraction.len() > 3 {
                return Err(format!("interval '{text}' is finer than a millisecond"));
            }
            let padded = format!("{fraction:0<3}");
            let fraction_ms = padded.parse::<i64>().map_err(|_| invalid())?;
            millis = millis.checked_add(fraction_ms).ok_or_else(too_large)?;
        }
        total = total.checked_add(millis).ok_or_else(too_large)?;
    }
    Ok(if negative { -total } else { total })
}
