//! Coercion of record values into the declared SQL types of input columns, following the
//! table of KDA's developer guide ("Mapping JSON data types to SQL data types",
//! `sch-mapping.md`): `null` is NULL for every type; booleans become 1/0, BOOLEAN or the
//! text `true`/`false`; numbers become numbers (no fraction into integers, no overflow),
//! BOOLEAN (0 is false) or their text; strings are parsed into whatever the column
//! declares, truncated silently into character columns; objects and arrays fit only
//! character columns, as their JSON text. Anything else is a coercion error: the row goes
//! to `error_stream`.

use std::fmt::Write as _;

use bytes::Bytes;

use super::datetime::{parse_date, parse_time, parse_timestamp};
use crate::value::{SqlType, Value};

/// One value as a record carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Raw<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// A string's contents (JSON string, CSV field).
    Str(&'a str),
    /// The compact JSON text of an object or array.
    Composite(&'a str),
}

/// Why a value does not fit its column; the caller names the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoerceError(pub String);

/// The most characters of a bad value quoted in an error message.
const QUOTED_VALUE_CHARS_MAX: usize = 64;

fn describe(raw: Raw<'_>) -> String {
    let quoted = |text: &str| {
        let mut out = String::from("\"");
        out.extend(text.chars().take(QUOTED_VALUE_CHARS_MAX));
        if text.chars().nth(QUOTED_VALUE_CHARS_MAX).is_some() {
            out.push('…');
        }
        out.push('"');
        out
    };
    match raw {
        Raw::Null => "null".into(),
        Raw::Bool(value) => value.to_string(),
        Raw::Int(value) => value.to_string(),
        Raw::UInt(value) => value.to_string(),
        Raw::Float(value) => value.to_string(),
        Raw::Str(text) => format!("the string {}", quoted(text)),
        Raw::Composite(text) => format!("the JSON {}", quoted(text)),
    }
}

fn misfit(raw: Raw<'_>, sql_type: SqlType) -> CoerceError {
    CoerceError(format!("{} does not fit {}", describe(raw), sql_type))
}

/// A `Bytes` of `text`: a slice of `source` when `text` lies inside it (no copy), a copy
/// otherwise (unescaped strings, JSON text of composites, number text).
pub(crate) fn share(source: &Bytes, text: &str) -> Bytes {
    let start = source.as_ptr() as usize;
    let at = text.as_ptr() as usize;
    if !text.is_empty() && at >= start && at + text.len() <= start + source.len() {
        source.slice_ref(text.as_bytes())
    } else {
        Bytes::copy_from_slice(text.as_bytes())
    }
}

/// The first `length` characters of `text` (character columns truncate silently).
fn truncate_chars(text: &str, length: u32) -> &str {
    let length = length as usize;
    if text.len() <= length {
        return text;
    }
    match text.char_indices().nth(length) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

fn character(text: &str, sql_type: SqlType, source: &Bytes) -> Value {
    match sql_type {
        SqlType::Char(length) => {
            let cut = truncate_chars(text, length);
            let missing = (length as usize).saturating_sub(cut.chars().count());
            if missing == 0 {
                Value::Str(share(source, cut))
            } else {
                // CHAR(n) is fixed-length: SQL pads it with spaces.
                let mut padded = String::with_capacity(cut.len() + missing);
                padded.push_str(cut);
                padded.extend(std::iter::repeat_n(' ', missing));
                Value::Str(Bytes::from(padded))
            }
        }
        SqlType::Varchar(length) => Value::Str(share(source, truncate_chars(text, length))),
        _ => Value::Null,
    }
}

fn is_character(sql_type: SqlType) -> bool {
    matches!(sql_type, SqlType::Char(_) | SqlType::Varchar(_))
}

/// The range of an integer column.
fn integer_range(sql_type: SqlType) -> Option<(i64, i64)> {
    match sql_type {
        SqlType::TinyInt => Some((i8::MIN.into(), i8::MAX.into())),
        SqlType::SmallInt => Some((i16::MIN.into(), i16::MAX.into())),
        SqlType::Integer => Some((i32::MIN.into(), i32::MAX.into())),
        SqlType::BigInt => Some((i64::MIN, i64::MAX)),
        _ => None,
    }
}

/// Coerces one record value into `sql_type`; `source` is the record, so that strings
/// inside it are shared rather than copied.
pub(crate) fn coerce(raw: Raw<'_>, sql_type: SqlType, source: &Bytes) -> Result<Value, CoerceError> {
    match raw {
        Raw::Null => Ok(Value::Null),
        Raw::Bool(value) => coerce_bool(value, sql_type, source).ok_or_else(|| misfit(raw, sql_type)),
        Raw::Int(value) => coerce_integer(i128::from(value), sql_type, source).ok_or_else(|| misfit(raw, sql_type)),
        Raw::UInt(value) => coerce_integer(i128::from(value), sql_type, source).ok_or_else(|| misfit(raw, sql_type)),
        Raw::Float(value) => coerce_float(value, sql_type).ok_or_else(|| misfit(raw, sql_type)),
        Raw::Str(text) => coerce_text(text, sql_type, source).ok_or_else(|| misfit(raw, sql_type)),
        Raw::Composite(text) if is_character(sql_type) => Ok(character(text, sql_type, source)),
        Raw::Composite(_) => Err(misfit(raw, sql_type)),
    }
}

fn coerce_bool(value: bool, sql_type: SqlType, source: &Bytes) -> Option<Value> {
    let number = i64::from(value);
    match sql_type {
        SqlType::Boolean => Some(Value::Bool(value)),
        SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => Some(Value::Int(number)),
        SqlType::Real => Some(Value::Real(number as f32)),
        SqlType::Double => Some(Value::Double(number as f64)),
        SqlType::Decimal { precision, scale } => decimal_from_integer(i128::from(number), precision, scale),
        SqlType::Char(_) | SqlType::Varchar(_) => {
            Some(character(if value { "true" } else { "false" }, sql_type, source))
        }
        _ => None,
    }
}

fn coerce_integer(value: i128, sql_type: SqlType, source: &Bytes) -> Option<Value> {
    if let Some((min, max)) = integer_range(sql_type) {
        return (i128::from(min)..=i128::from(max)).contains(&value).then(|| Value::Int(value as i64));
    }
    match sql_type {
        SqlType::Boolean => Some(Value::Bool(value != 0)),
        SqlType::Real => Some(Value::Real(value as f32)),
        SqlType::Double => Some(Value::Double(value as f64)),
        SqlType::Decimal { precision, scale } => decimal_from_integer(value, precision, scale),
        SqlType::Char(_) | SqlType::Varchar(_) => Some(character(&value.to_string(), sql_type, source)),
        _ => None,
    }
}

fn coerce_float(value: f64, sql_type: SqlType) -> Option<Value> {
    if let Some((min, max)) = integer_range(sql_type) {
        // A whole number written with a fraction part (`5.0`) fits; `5.5` does not.
        let fits = value.fract() == 0.0 && value >= min as f64 && value <= max as f64;
        return fits.then(|| Value::Int(value as i64));
    }
    match sql_type {
        SqlType::Boolean => Some(Value::Bool(value != 0.0)),
        SqlType::Real => {
            let narrowed = value as f32;
            (narrowed.is_finite() || !value.is_finite()).then_some(Value::Real(narrowed))
        }
        SqlType::Double => Some(Value::Double(value)),
        // Rust prints the shortest text that reads back as the same double.
        SqlType::Decimal { precision, scale } => parse_decimal(&value.to_string(), precision, scale),
        SqlType::Char(_) | SqlType::Varchar(_) => {
            let mut text = value.to_string();
            if value.is_finite() && !text.contains(['.', 'e', 'E']) {
                text.push_str(".0");
            }
            Some(character(&text, sql_type, &Bytes::new()))
        }
        _ => None,
    }
}

fn coerce_text(text: &str, sql_type: SqlType, source: &Bytes) -> Option<Value> {
    if let Some((min, max)) = integer_range(sql_type) {
        let value: i64 = text.trim().parse().ok()?;
        return (min..=max).contains(&value).then_some(Value::Int(value));
    }
    match sql_type {
        SqlType::Boolean => Some(Value::Bool(text.trim().eq_ignore_ascii_case("true"))),
        SqlType::Real => text.trim().parse::<f32>().ok().map(Value::Real),
        SqlType::Double => text.trim().parse::<f64>().ok().map(Value::Double),
        SqlType::Decimal { precision, scale } => parse_decimal(text.trim(), precision, scale),
        SqlType::Char(_) | SqlType::Varchar(_) => Some(character(text, sql_type, source)),
        SqlType::Binary(length) | SqlType::Varbinary(length) => {
            let bytes = parse_hex_literal(text.trim())?;
            (bytes.len() <= length as usize).then(|| Value::Bin(Bytes::from(bytes)))
        }
        SqlType::Date => parse_date(text).map(Value::Date),
        SqlType::Time => parse_time(text).map(Value::Time),
        SqlType::Timestamp => parse_timestamp(text).map(Value::Timestamp),
        _ => None,
    }
}

/// `X'3F67'` (even count of hex digits), the binary literal form the guide names.
fn parse_hex_literal(text: &str) -> Option<Vec<u8>> {
    let digits = text.strip_prefix(['X', 'x'])?.strip_prefix('\'')?.strip_suffix('\'')?;
    if digits.len() % 2 != 0 {
        return None;
    }
    let nibble = |byte: u8| (byte as char).to_digit(16);
    digits.as_bytes().chunks(2).map(|pair| Some((nibble(pair[0])? * 16 + nibble(pair[1])?) as u8)).collect()
}

fn digit_count(value: i128) -> u32 {
    value.unsigned_abs().checked_ilog10().map_or(1, |log| log + 1)
}

fn decimal_from_integer(value: i128, precision: u8, scale: u8) -> Option<Value> {
    let unscaled = value.checked_mul(10i128.checked_pow(u32::from(scale))?)?;
    (digit_count(unscaled) <= u32::from(precision)).then_some(Value::Decimal(unscaled, scale))
}

/// Decimal digits of i128::MAX (170141183460469231731687303715884105727).
const I128_DIGITS: usize = 39;

/// `[-+]digits[.digits][e[-+]digits]` at the column's scale, rounded half away from zero.
pub(crate) fn parse_decimal(text: &str, precision: u8, scale: u8) -> Option<Value> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], body[at + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut digits: Vec<u8> = Vec::with_capacity(whole.len() + fraction.len());
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        // Leading zeros add nothing; dropping them keeps `kept` below the i128 width
        // whenever the value fits, so a huge exponent on zero ("0e2147483647") costs no
        // loop of billions of steps.
        if digits.is_empty() && byte == b'0' {
            continue;
        }
        digits.push(byte - b'0');
    }
    // The value is digits × 10^(exponent - fraction digits); bring it to `scale`.
    let shift = i64::from(exponent) - fraction.len() as i64 + i64::from(scale);
    let kept = (digits.len() as i64 + shift).max(0) as usize;
    if digits.is_empty() {
        return (digit_count(0) <= u32::from(precision)).then_some(Value::Decimal(0, scale));
    }
    if kept > I128_DIGITS {
        // A non-zero first digit followed by more than 38 others does not fit an i128.
        return None;
    }
    let mut unscaled: i128 = 0;
    for position in 0..kept {
        let digit = digits.get(position).copied().unwrap_or(0);
        unscaled = unscaled.checked_mul(10)?.checked_add(i128::from(digit))?;
    }
    if kept < digits.len() && digits[kept] >= 5 {
        unscaled = unscaled.checked_add(1)?;
    }
    let unscaled = if negative { -unscaled } else { unscaled };
    (digit_count(unscaled) <= u32::from(precision)).then_some(Value::Decimal(unscaled, scale))
}

/// The text of a decimal (`-0.05` for `Decimal(-5, 2)`).
pub(crate) fn decimal_text(out: &mut String, unscaled: i128, scale: u8) {
    let digits = unscaled.unsigned_abs().to_string();
    if unscaled < 0 {
        out.push('-');
    }
    let scale = usize::from(scale);
    if scale == 0 {
        out.push_str(&digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        let _ = write!(out, "{whole}.{fraction}");
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fit(raw: Raw<'_>, sql_type: SqlType) -> Result<Value, CoerceError> {
        coerce(raw, sql_type, &Bytes::new())
    }

    fn text(value: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(value.as_bytes()))
    }

    /// One line per cell of the guide's table that Rheo implements.
    #[test]
    fn coercion_table() {
        use SqlType::*;
        let ok =
            |raw, sql_type, expected: Value| assert_eq!(fit(raw, sql_type), Ok(expected), "{raw:?} → {sql_type:?}");
        let bad = |raw, sql_type| assert!(fit(raw, sql_type).is_err(), "{raw:?} → {sql_type:?} must fail");
        // null
        for sql_type in [Boolean, Integer, Varchar(4), Timestamp, Varbinary(4)] {
            ok(Raw::Null, sql_type, Value::Null);
        }
        // booleans
        ok(Raw::Bool(true), Integer, Value::Int(1));
        ok(Raw::Bool(false), Double, Value::Double(0.0));
        ok(Raw::Bool(true), Boolean, Value::Bool(true));
        ok(Raw::Bool(false), Varchar(3), text("fal"));
        ok(Raw::Bool(true), Decimal { precision: 3, scale: 1 }, Value::Decimal(10, 1));
        bad(Raw::Bool(true), Timestamp);
        bad(Raw::Bool(true), Varbinary(4));
        // numbers
        ok(Raw::Int(127), TinyInt, Value::Int(127));
        bad(Raw::Int(128), TinyInt);
        bad(Raw::UInt(u64::MAX), BigInt);
        ok(Raw::Float(5.0), Integer, Value::Int(5));
        bad(Raw::Float(5.5), Integer);
        ok(Raw::Int(0), Boolean, Value::Bool(false));
        ok(Raw::Float(0.25), Boolean, Value::Bool(true));
        ok(Raw::Int(-42), Varchar(8), text("-42"));
        ok(Raw::Float(1.5), Varchar(8), text("1.5"));
        ok(Raw::Float(2.0), Varchar(8), text("2.0"));
        ok(Raw::Float(12.345), Decimal { precision: 5, scale: 2 }, Value::Decimal(1235, 2));
        bad(Raw::Float(1234.5), Decimal { precision: 5, scale: 2 });
        ok(Raw::Float(1.5), Real, Value::Real(1.5));
        bad(Raw::Float(1e300), Real);
        bad(Raw::Int(1_733_480_000_000), Timestamp);
        bad(Raw::Int(1), Date);
        // strings
        ok(Raw::Str(" 42 "), Integer, Value::Int(42));
        bad(Raw::Str("4x"), Integer);
        bad(Raw::Str("3000000000"), Integer);
        ok(Raw::Str("-1.25e1"), Double, Value::Double(-12.5));
        ok(Raw::Str("0.005"), Decimal { precision: 4, scale: 2 }, Value::Decimal(1, 2));
        ok(Raw::Str("TRUE"), Boolean, Value::Bool(true));
        ok(Raw::Str("yes"), Boolean, Value::Bool(false));
        ok(Raw::Str("héllo wörld"), Varchar(5), text("héllo"));
        ok(Raw::Str("ab"), Char(4), text("ab  "));
        ok(Raw::Str("X'3F67'"), Varbinary(2), Value::Bin(Bytes::from_static(&[0x3f, 0x67])));
        bad(Raw::Str("X'3F6'"), Varbinary(4));
        bad(Raw::Str("X'3F67'"), Varbinary(1));
        ok(Raw::Str("1992-02-14"), Date, Value::Date(8079));
        ok(Raw::Str("1992-02-14 18:35:44.0"), Timestamp, Value::Timestamp(698_092_544_000));
        ok(Raw::Str("18:35:44"), Time, Value::Time(66_944_000));
        bad(Raw::Str("yesterday"), Timestamp);
        // objects and arrays
        ok(Raw::Composite("[1,2]"), Varchar(16), text("[1,2]"));
        bad(Raw::Composite("{}"), Integer);
    }

    #[test]
    fn strings_inside_the_record_are_shared_not_copied() {
        let source = Bytes::from_static(b"{\"a\":\"site-17.example\"}");
        let inner = std::str::from_utf8(&source[6..21]).unwrap();
        let Value::Str(shared) = coerce(Raw::Str(inner), SqlType::Varchar(64), &source).unwrap() else {
            panic!("not a string")
        };
        assert_eq!(shared.as_ptr(), source[6..].as_ptr());
    }

    #[test]
    fn decimals_print_with_their_scale() {
        let print = |unscaled, scale| {
            let mut out = String::new();
            decimal_text(&mut out, unscaled, scale);
            out
        };
        assert_eq!(print(12345, 2), "123.45");
        assert_eq!(print(-5, 2), "-0.05");
        assert_eq!(print(7, 0), "7");
        assert_eq!(parse_decimal("-.5", 3, 1), Some(Value::Decimal(-5, 1)));
        assert_eq!(parse_decimal(".", 3, 1), None);
    }

    #[test]
    fn huge_exponents_are_decided_without_a_long_loop() {
        // Each of these once looped about 2e9 times (one step per kept digit).
        assert_eq!(parse_decimal("0e2147483647", 10, 2), Some(Value::Decimal(0, 2)));
        assert_eq!(parse_decimal("-000.000e2147483647", 10, 2), Some(Value::Decimal(0, 2)));
        assert_eq!(parse_decimal("1e2147483647", 38, 2), None);
        assert_eq!(parse_decimal("0001e-2147483648", 10, 2), Some(Value::Decimal(0, 2)));
        assert_eq!(parse_decimal("00012.5e1", 10, 2), Some(Value::Decimal(12500, 2)));
    }
}
