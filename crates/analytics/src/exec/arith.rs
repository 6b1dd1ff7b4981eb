//! Arithmetic on non-NULL values. Integers never wrap: a result outside the range of the
//! expression's type is an error row, as in KDA (SQLstream checks overflow). Integer
//! division truncates toward zero; division by zero of any numeric type is an error.

use crate::exec::compare::{as_f64, kind_name, rescale_up};
use crate::plan::BinaryOp;
use crate::value::{ErrorKind, EvalError, SqlType, Value};

const MS_PER_DAY: i64 = 86_400_000;

/// The range of an integer type, `None` for other types.
pub(crate) fn integer_range(ty: SqlType) -> Option<(i64, i64)> {
    match ty {
        SqlType::TinyInt => Some((i64::from(i8::MIN), i64::from(i8::MAX))),
        SqlType::SmallInt => Some((i64::from(i16::MIN), i64::from(i16::MAX))),
        SqlType::Integer => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
        SqlType::BigInt => Some((i64::MIN, i64::MAX)),
        _ => None,
    }
}

pub(crate) fn overflow(ty: SqlType) -> EvalError {
    EvalError::new(ErrorKind::Arithmetic, format!("numeric overflow: the result does not fit {}", ty))
}

fn division_by_zero() -> EvalError {
    EvalError::new(ErrorKind::Arithmetic, "division by zero")
}

/// An integer result checked against the range of the expression's type.
pub(crate) fn checked_int(value: Option<i64>, ty: SqlType) -> Result<Value, EvalError> {
    let value = value.ok_or_else(|| overflow(ty))?;
    match integer_range(ty) {
        Some((min, max)) if value < min || value > max => Err(overflow(ty)),
        _ => Ok(Value::Int(value)),
    }
}

/// A floating result in the expression's type (REAL or DOUBLE).
fn float_result(value: f64, ty: SqlType) -> Value {
    match ty {
        SqlType::Real => Value::Real(value as f32),
        _ => Value::Double(value),
    }
}

/// `left op right` for an arithmetic operator and non-NULL operands; `ty` is the type the
/// compiler gave the expression.
pub(crate) fn arithmetic(op: BinaryOp, left: &Value, right: &Value, ty: SqlType) -> Result<Value, EvalError> {
    use Value::*;
    match (left, right) {
        (Int(a), Int(b)) => int_op(op, *a, *b, ty),
        (Decimal(..) | Int(_), Decimal(..)) | (Decimal(..), Int(_)) => decimal_op(op, left, right, ty),
        (Timestamp(t), Interval(i)) => match op {
            BinaryOp::Plus => t.checked_add(*i).map(Timestamp).ok_or_else(|| overflow(ty)),
            BinaryOp::Minus => t.checked_sub(*i).map(Timestamp).ok_or_else(|| overflow(ty)),
            _ => Err(unsupported(op, left, right)),
        },
        (Interval(i), Timestamp(t)) if op == BinaryOp::Plus => {
            t.checked_add(*i).map(Timestamp).ok_or_else(|| overflow(ty))
        }
        (Timestamp(a), Timestamp(b)) if op == BinaryOp::Minus => {
            a.checked_sub(*b).map(Interval).ok_or_else(|| overflow(ty))
        }
        (Date(d), Interval(i)) => {
            let days = i / MS_PER_DAY;
            let days = i32::try_from(days).map_err(|_| overflow(ty))?;
            match op {
                BinaryOp::Plus => d.checked_add(days).map(Date).ok_or_else(|| overflow(ty)),
                BinaryOp::Minus => d.checked_sub(days).map(Date).ok_or_else(|| overflow(ty)),
                _ => Err(unsupported(op, left, right)),
            }
        }
        (Time(t), Interval(i)) => {
            let shift = match op {
                BinaryOp::Plus => *i,
                BinaryOp::Minus => i.checked_neg().ok_or_else(|| overflow(ty))?,
                _ => return Err(unsupported(op, left, right)),
            };
            // Time of day wraps around midnight, as SQL's TIME arithmetic does.
            let ms = (i64::from(*t) + shift.rem_euclid(MS_PER_DAY)).rem_euclid(MS_PER_DAY);
            Ok(Time(u32::try_from(ms).map_err(|_| overflow(ty))?))
        }
        (Interval(a), Interval(b)) => match op {
            BinaryOp::Plus => a.checked_add(*b).map(Interval).ok_or_else(|| overflow(ty)),
            BinaryOp::Minus => a.checked_sub(*b).map(Interval).ok_or_else(|| overflow(ty)),
            _ => Err(unsupported(op, left, right)),
        },
        (Interval(i), Int(n)) | (Int(n), Interval(i)) if op == BinaryOp::Multiply => {
            i.checked_mul(*n).map(Interval).ok_or_else(|| overflow(ty))
        }
        (Interval(i), Int(n)) if op == BinaryOp::Divide => {
            if *n == 0 {
                Err(division_by_zero())
            } else {
                i.checked_div(*n).map(Interval).ok_or_else(|| overflow(ty))
            }
        }
        _ => match (as_f64(left), as_f64(right)) {
            (Some(a), Some(b)) => float_op(op, a, b, ty),
            _ => Err(unsupported(op, left, right)),
        },
    }
}

fn unsupported(op: BinaryOp, left: &Value, right: &Value) -> EvalError {
    EvalError::new(
        ErrorKind::Function,
        format!("{op:?} of {} and {} is not defined", kind_name(left), kind_name(right)),
    )
}

fn int_op(op: BinaryOp, a: i64, b: i64, ty: SqlType) -> Result<Value, EvalError> {
    match ty {
        SqlType::Real | SqlType::Double => return float_op(op, a as f64, b as f64, ty),
        SqlType::Decimal { .. } => return decimal_op(op, &Value::Int(a), &Value::Int(b), ty),
        _ => {}
    }
    let result = match op {
        BinaryOp::Plus => a.checked_add(b),
        BinaryOp::Minus => a.checked_sub(b),
        BinaryOp::Multiply => a.checked_mul(b),
        BinaryOp::Divide => {
            if b == 0 {
                return Err(division_by_zero());
            }
            // `/` on i64 truncates toward zero, as SQL's integer division does.
            a.checked_div(b)
        }
        _ => return Err(unsupported(op, &Value::Int(a), &Value::Int(b))),
    };
    checked_int(result, ty)
}

fn float_op(op: BinaryOp, a: f64, b: f64, ty: SqlType) -> Result<Value, EvalError> {
    let result = match op {
        BinaryOp::Plus => a + b,
        BinaryOp::Minus => a - b,
        BinaryOp::Multiply => a * b,
        BinaryOp::Divide => {
            if b == 0.0 {
                return Err(division_by_zero());
            }
            a / b
        }
        _ => return Err(unsupported(op, &Value::Double(a), &Value::Double(b))),
    };
    Ok(float_result(result, ty))
}

fn as_decimal(value: &Value) -> Option<(i128, u8)> {
    match value {
        Value::Int(v) => Some((i128::from(*v), 0)),
        Value::Decimal(unscaled, scale) => Some((*unscaled, *scale)),
        _ => None,
    }
}

/// Decimal arithmetic, exact, at the scale of the expression's type when it is a DECIMAL.
fn decimal_op(op: BinaryOp, left: &Value, right: &Value, ty: SqlType) -> Result<Value, EvalError> {
    let ((a, sa), (b, sb)) = match (as_decimal(left), as_decimal(right)) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(unsupported(op, left, right)),
    };
    let natural_scale = match op {
        BinaryOp::Multiply => sa.saturating_add(sb),
        _ => sa.max(sb),
    };
    let (precision, scale) = match ty {
        SqlType::Decimal { precision, scale } => (precision, scale),
        SqlType::Real | SqlType::Double => {
            let (a, b) = (a as f64 / 10f64.powi(i32::from(sa)), b as f64 / 10f64.powi(i32::from(sb)));
            return float_op(op, a, b, ty);
        }
        _ => (38, natural_scale),
    };
    let result = match op {
        BinaryOp::Plus | BinaryOp::Minus => {
            let common = sa.max(sb);
            let a = rescale_up(a, sa, common).ok_or_else(|| overflow(ty))?;
            let b = rescale_up(b, sb, common).ok_or_else(|| overflow(ty))?;
            let sum = if op == BinaryOp::Plus { a.checked_add(b) } else { a.checked_sub(b) };
            rescale(sum.ok_or_else(|| overflow(ty))?, common, scale).ok_or_else(|| overflow(ty))?
        }
        BinaryOp::Multiply => {
            let product = a.checked_mul(b).ok_or_else(|| overflow(ty))?;
            rescale(product, natural_scale, scale).ok_or_else(|| overflow(ty))?
        }
        BinaryOp::Divide => {
            if b == 0 {
                return Err(division_by_zero());
            }
            // a/10^sa ÷ b/10^sb at `scale` digits = a·10^(scale+sb-sa) / b, truncated.
            let shift = i32::from(scale) + i32::from(sb) - i32::from(sa);
            let numerator = if shift >= 0 {
                a.checked_mul(10i128.checked_pow(shift.unsigned_abs()).ok_or_else(|| overflow(ty))?)
            } else {
                10i128.checked_pow(shift.unsigned_abs()).map(|f| a / f)
            };
            numerator.ok_or_else(|| overflow(ty))?.checked_div(b).ok_or_else(|| overflow(ty))?
        }
        _ => return Err(unsupported(op, left, right)),
    };
    if integer_range(ty).is_some() {
        let value = i64::try_from(result).map_err(|_| overflow(ty))?;
        return checked_int(Some(value), ty);
    }
    check_precision(result, precision).ok_or_else(|| overflow(ty))?;
    Ok(Value::Decimal(result, scale))
}

/// Fails when `unscaled` has more than `precision` digits.
pub(crate) fn check_precision(unscaled: i128, precision: u8) -> Option<()> {
    match 10i128.checked_pow(u32::from(precision)) {
        Some(limit) if unscaled.unsigned_abs() >= limit.unsigned_abs() => None,
        _ => Some(()),
    }
}

/// `unscaled` from `from` to `to` digits after the point; scaling down rounds half away
/// from zero (SQL's rounding of DECIMAL).
pub(crate) fn rescale(unscaled: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        return rescale_up(unscaled, from, to);
    }
    let factor = 10i128.checked_pow(u32::from(from - to))?;
    let quotient = unscaled / factor;
    let remainder = unscaled % factor;
    if remainder.unsigned_abs() * 2 >= factor.unsigned_abs() {
        quotient.checked_add(unscaled.signum())
    } else {
        Some(quotient)
    }
}

/// `-value` for a non-NULL value.
pub(crate) fn negate(value: &Value, ty: SqlType) -> Result<Value, EvalError> {
    match value {
        Value::Int(v) => checked_int(v.checked_neg(), ty),
        Value::Real(v) => Ok(Value::Real(-v)),
        Value::Double(v) => Ok(Value::Double(-v)),
        Value::Decimal(unscaled, scale) => {
            unscaled.checked_neg().map(|v| Value::Decimal(v, *scale)).ok_or_else(|| overflow(ty))
        }
        Value::Interval(v) => v.checked_neg().map(Value::Interval).ok_or_else(|| overflow(ty)),
        other => Err(EvalError::new(ErrorKind::Function, format!("cannot negate {}", kind_name(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_overflow_is_an_error_in_the_expression_type() {
        let max = Value::Int(i64::from(i32::MAX));
        assert!(arithmetic(BinaryOp::Plus, &max, &Value::Int(1), SqlType::Integer).is_err());
        assert_eq!(
            arithmetic(BinaryOp::Plus, &max, &Value::Int(1), SqlType::BigInt).ok(),
            Some(Value::Int(i64::from(i32::MAX) + 1))
        );
        assert!(arithmetic(BinaryOp::Multiply, &Value::Int(i64::MAX), &Value::Int(2), SqlType::BigInt).is_err());
        assert!(arithmetic(BinaryOp::Divide, &Value::Int(i64::MIN), &Value::Int(-1), SqlType::BigInt).is_err());
    }

    #[test]
    fn integer_division_truncates_toward_zero() {
        assert_eq!(
            arithmetic(BinaryOp::Divide, &Value::Int(-7), &Value::Int(2), SqlType::Integer).ok(),
            Some(Value::Int(-3))
        );
        assert_eq!(
            arithmetic(BinaryOp::Divide, &Value::Int(7), &Value::Int(2), SqlType::Integer).ok(),
            Some(Value::Int(3))
        );
    }

    #[test]
    fn division_by_zero_is_an_error_for_every_numeric_type() {
        let err = arithmetic(BinaryOp::Divide, &Value::Int(1), &Value::Int(0), SqlType::Integer).err();
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::Arithmetic));
        assert!(arithmetic(BinaryOp::Divide, &Value::Double(1.0), &Value::Double(0.0), SqlType::Double).is_err());
        assert!(arithmetic(
            BinaryOp::Divide,
            &Value::Decimal(1, 0),
            &Value::Decimal(0, 2),
            SqlType::Decimal { precision: 10, scale: 2 }
        )
        .is_err());
    }

    #[test]
    fn decimals_are_exact() {
        let ty = SqlType::Decimal { precision: 10, scale: 2 };
        assert_eq!(
            arithmetic(BinaryOp::Plus, &Value::Decimal(110, 2), &Value::Decimal(5, 1), ty).ok(),
            Some(Value::Decimal(160, 2))
        );
        assert_eq!(
            arithmetic(BinaryOp::Divide, &Value::Decimal(100, 2), &Value::Int(3), ty).ok(),
            Some(Value::Decimal(33, 2))
        );
        assert_eq!(rescale(125, 2, 1), Some(13));
        assert_eq!(rescale(-125, 2, 1), Some(-13));
    }

    #[test]
    fn timestamps_move_by_intervals() {
        assert_eq!(
            arithmetic(BinaryOp::Plus, &Value::Timestamp(1_000), &Value::Interval(500), SqlType::Timestamp).ok(),
            Some(Value::Timestamp(1_500))
        );
        assert_eq!(
            arithmetic(BinaryOp::Minus, &Value::Timestamp(1_000), &Value::Timestamp(400), SqlType::IntervalDayTime)
                .ok(),
            Some(Value::Interval(600))
        );
        assert_eq!(
            arithmetic(BinaryOp::Plus, &Value::Time(86_399_000), &Value::Interval(2_000), SqlType::Time).ok(),
            Some(Value::Time(1_000))
        );
    }

    mod extremes {
        use super::*;
        use crate::exec::fit::fit;
        use crate::plan::ColumnDef;

        fn extreme_values() -> Vec<Value> {
            let mut values = Vec::new();
            for n in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX] {
                values.extend([Value::Int(n), Value::Timestamp(n), Value::Interval(n)]);
            }
            for unscaled in [i128::MIN, -1, 0, i128::MAX] {
                values.extend([Value::Decimal(unscaled, 0), Value::Decimal(unscaled, 38)]);
            }
            for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -0.0] {
                values.extend([Value::Double(v), Value::Real(v as f32)]);
            }
            values.extend([Value::Date(i32::MIN), Value::Date(i32::MAX), Value::Time(0), Value::Time(86_399_999)]);
            values
        }

        fn types() -> Vec<SqlType> {
            vec![
                SqlType::TinyInt,
                SqlType::Integer,
                SqlType::BigInt,
                SqlType::Decimal { precision: 38, scale: 0 },
                SqlType::Decimal { precision: 5, scale: 2 },
                SqlType::Real,
                SqlType::Double,
                SqlType::Timestamp,
                SqlType::Date,
                SqlType::Time,
                SqlType::IntervalDayTime,
            ]
        }

        /// Arithmetic, negation and storing into a column at the extremes of every numeric
        /// and time type, every combination: an error row at worst, never a panic or a wrap.
        #[test]
        fn arithmetic_never_panics_at_the_extremes() {
            let values = extreme_values();
            for ty in types() {
                for left in &values {
                    let _ = negate(left, ty);
                    let _ = fit(left.clone(), &ColumnDef { name: "C".into(), sql_type: ty, not_null: false });
                    for right in &values {
                        for op in [BinaryOp::Plus, BinaryOp::Minus, BinaryOp::Multiply, BinaryOp::Divide] {
                            let _ = arithmetic(op, left, right, ty);
                        }
                    }
                }
            }
        }
    }
}
