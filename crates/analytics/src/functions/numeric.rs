//! Numeric functions, and NULLIF.

use std::cmp::Ordering;

use super::args::{arg, compare, double, int, mismatch, pow10};
use crate::value::{ErrorKind, EvalError, Value};

fn overflow(what: &str) -> EvalError {
    EvalError::new(ErrorKind::Arithmetic, format!("{what}: numeric overflow"))
}

pub fn abs(args: &[Value]) -> Result<Value, EvalError> {
    match arg(args, 0, "ABS")? {
        Value::Int(v) => v.checked_abs().map(Value::Int).ok_or_else(|| overflow("ABS")),
        Value::Real(v) => Ok(Value::Real(v.abs())),
        Value::Double(v) => Ok(Value::Double(v.abs())),
        Value::Decimal(v, scale) => v.checked_abs().map(|v| Value::Decimal(v, *scale)).ok_or_else(|| overflow("ABS")),
        other => Err(mismatch("ABS", "a number", other)),
    }
}

/// CEIL (`up`) or FLOOR of a number, in its own type.
pub fn round_whole(args: &[Value], up: bool) -> Result<Value, EvalError> {
    let what = if up { "CEIL" } else { "FLOOR" };
    match arg(args, 0, what)? {
        Value::Int(v) => Ok(Value::Int(*v)),
        Value::Real(v) => Ok(Value::Real(if up { v.ceil() } else { v.floor() })),
        Value::Double(v) => Ok(Value::Double(if up { v.ceil() } else { v.floor() })),
        Value::Decimal(v, scale) => {
            let unit = pow10(u32::from(*scale)).ok_or_else(|| overflow(what))?;
            let whole = v.div_euclid(unit) + i128::from(up && v.rem_euclid(unit) != 0);
            whole.checked_mul(unit).map(|v| Value::Decimal(v, *scale)).ok_or_else(|| overflow(what))
        }
        other => Err(mismatch(what, "a number", other)),
    }
}

/// `MOD(a, b)`: the remainder with the dividend's sign (as Java's `%`).
pub fn modulo(args: &[Value]) -> Result<Value, EvalError> {
    let a = int(arg(args, 0, "MOD")?, "MOD")?;
    let b = int(arg(args, 1, "MOD")?, "MOD")?;
    if b == 0 {
        return Err(EvalError::new(ErrorKind::Arithmetic, "MOD: division by zero"));
    }
    Ok(Value::Int(a.checked_rem(b).unwrap_or(0)))
}

fn finite(result: f64, what: &str) -> Result<Value, EvalError> {
    if result.is_finite() {
        Ok(Value::Double(result))
    } else {
        Err(EvalError::new(
            ErrorKind::Arithmetic,
            format!("{what}: argument out of the function's domain or result out of range"),
        ))
    }
}

pub fn unary_double(args: &[Value], what: &str, function: fn(f64) -> f64) -> Result<Value, EvalError> {
    let x = double(arg(args, 0, what)?, what)?;
    finite(function(x), what)
}

pub fn binary_double(args: &[Value], what: &str, function: fn(f64, f64) -> f64) -> Result<Value, EvalError> {
    let a = double(arg(args, 0, what)?, what)?;
    let b = double(arg(args, 1, what)?, what)?;
    finite(function(a, b), what)
}

/// `ROUND(x [, digits])`: half away from zero, in x's type.
pub fn round(args: &[Value]) -> Result<Value, EvalError> {
    let digits = match args.get(1) {
        Some(digits) => int(digits, "ROUND")?,
        None => 0,
    };
    let digits = i32::try_from(digits.clamp(-38, 38)).unwrap_or(0);
    match arg(args, 0, "ROUND")? {
        Value::Int(v) if digits >= 0 => Ok(Value::Int(*v)),
        Value::Int(v) => {
            let unit = pow10(digits.unsigned_abs()).ok_or_else(|| overflow("ROUND"))?;
            let rounded = round_half_away(i128::from(*v), unit).ok_or_else(|| overflow("ROUND"))?;
            i64::try_from(rounded).map(Value::Int).map_err(|_| overflow("ROUND"))
        }
        Value::Decimal(v, scale) => {
            let drop = i32::from(*scale) - digits;
            if drop <= 0 {
                return Ok(Value::Decimal(*v, *scale));
            }
            let unit = pow10(drop.unsigned_abs()).ok_or_else(|| overflow("ROUND"))?;
            round_half_away(*v, unit).map(|v| Value::Decimal(v, *scale)).ok_or_else(|| overflow("ROUND"))
        }
        Value::Double(v) => finite(round_double(*v, digits), "ROUND"),
        Value::Real(v) => Ok(Value::Real(round_double(f64::from(*v), digits) as f32)),
        other => Err(mismatch("ROUND", "a number", other)),
    }
}

/// `v` rounded to a multiple of `unit`, halves away from zero.
fn round_half_away(v: i128, unit: i128) -> Option<i128> {
    let remainder = v % unit;
    let truncated = v - remainder;
    if remainder.abs().checked_mul(2)? >= unit {
        truncated.checked_add(if v < 0 { -unit } else { unit })
    } else {
        Some(truncated)
    }
}

fn round_double(v: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (v * factor).round() / factor
}

/// `NULLIF(a, b)`: NULL when a equals b, else a.
pub fn nullif(args: &[Value]) -> Result<Value, EvalError> {
    let a = arg(args, 0, "NULLIF")?;
    let b = arg(args, 1, "NULLIF")?;
    Ok(if compare(a, b) == Some(Ordering::Equal) { Value::Null } else { a.clone() })
}
