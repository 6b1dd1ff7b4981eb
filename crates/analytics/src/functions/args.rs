//! Reading arguments as the types the signatures promised, and comparing values.

use std::cmp::Ordering;

use crate::limits::VALUE_BYTES_MAX;
use crate::value::{ErrorKind, EvalError, Value};

/// The text of a string value.
pub fn text<'v>(value: &'v Value, what: &str) -> Result<&'v str, EvalError> {
    match value {
        Value::Str(bytes) => std::str::from_utf8(bytes)
            .map_err(|_| EvalError::new(ErrorKind::Coercion, format!("{what}: the text is not valid UTF-8"))),
        other => Err(mismatch(what, "a string", other)),
    }
}

/// An integer value.
pub fn int(value: &Value, what: &str) -> Result<i64, EvalError> {
    match value {
        Value::Int(v) => Ok(*v),
        other => Err(mismatch(what, "an integer", other)),
    }
}

/// A numeric value as a double.
pub fn double(value: &Value, what: &str) -> Result<f64, EvalError> {
    match value {
        Value::Int(v) => Ok(*v as f64),
        Value::Real(v) => Ok(f64::from(*v)),
        Value::Double(v) => Ok(*v),
        Value::Decimal(unscaled, scale) => Ok(*unscaled as f64 / 10f64.powi(i32::from(*scale))),
        other => Err(mismatch(what, "a number", other)),
    }
}

/// The `index`th argument (the compiler checked the count; a short list is an error,
/// not a panic).
pub fn arg<'a>(args: &'a [Value], index: usize, what: &str) -> Result<&'a Value, EvalError> {
    args.get(index)
        .ok_or_else(|| EvalError::new(ErrorKind::Function, format!("{what}: argument {} is missing", index + 1)))
}

pub fn mismatch(what: &str, expected: &str, found: &Value) -> EvalError {
    EvalError::new(ErrorKind::Function, format!("{what}: expected {expected}, found {found:?}"))
}

/// 10^exponent as an i128, when it fits.
/// Refuses a string or binary result of `bytes` bytes past [`VALUE_BYTES_MAX`], before
/// the caller allocates it.
pub fn within_value_bound(bytes: usize, what: &str) -> Result<(), EvalError> {
    if bytes > VALUE_BYTES_MAX {
        return Err(EvalError::new(
            ErrorKind::ResourceLimit,
            format!("{what}: a result of {bytes} bytes is past the {VALUE_BYTES_MAX}-byte bound of a value"),
        ));
    }
    Ok(())
}

pub fn pow10(exponent: u32) -> Option<i128> {
    10i128.checked_pow(exponent)
}

/// SQL ordering of two non-NULL values of comparable types (numbers of any kind with
/// each other, strings, binaries, dates, times, timestamps, intervals, booleans);
/// `None` when either is NULL or the types do not compare. Strings compare by code
/// point, CHAR's trailing blanks ignored as the standard's PAD SPACE rule says.
pub fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    use Value as V;
    match (left, right) {
        (V::Null, _) | (_, V::Null) => None,
        (V::Int(a), V::Int(b)) => Some(a.cmp(b)),
        (V::Decimal(a, sa), V::Decimal(b, sb)) => compare_decimals(*a, *sa, *b, *sb),
        (V::Int(a), V::Decimal(b, sb)) => compare_decimals(i128::from(*a), 0, *b, *sb),
        (V::Decimal(a, sa), V::Int(b)) => compare_decimals(*a, *sa, i128::from(*b), 0),
        (
            V::Int(_) | V::Decimal(..) | V::Real(_) | V::Double(_),
            V::Int(_) | V::Decimal(..) | V::Real(_) | V::Double(_),
        ) => {
            let a = double(left, "").ok()?;
            let b = double(right, "").ok()?;
            a.partial_cmp(&b)
        }
        (V::Str(a), V::Str(b)) => Some(trim_blanks(a).cmp(trim_blanks(b))),
        (V::Bin(a), V::Bin(b)) => Some(a.cmp(b)),
        (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
        (V::Date(a), V::Date(b)) => Some(a.cmp(b)),
        (V::Time(a), V::Time(b)) => Some(a.cmp(b)),
        (V::Timestamp(a), V::Timestamp(b)) => Some(a.cmp(b)),
        (V::Interval(a), V::Interval(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| *b != b' ').map_or(0, |at| at + 1);
    &bytes[..end]
}

fn compare_decimals(a: i128, sa: u8, b: i128, sb: u8) -> Option<Ordering> {
    let scale = sa.max(sb);
    let a = a.checked_mul(pow10(u32::from(scale - sa))?)?;
    let b = b.checked_mul(pow10(u32::from(scale - sb))?)?;
    Some(a.cmp(&b))
}
