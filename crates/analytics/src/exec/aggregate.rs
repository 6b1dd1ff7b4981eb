//! Accumulators of COUNT, SUM, AVG, MIN and MAX. NULL arguments are skipped; COUNT(*)
//! counts rows; SUM, AVG, MIN and MAX of no non-NULL value are NULL; COUNT of none is 0.
//! SUM of integers that leaves its result type is an error row (the row is not added);
//! AVG of integers truncates toward zero in the argument's type, as KDA does.

use std::cmp::Ordering;

use crate::exec::arith::{check_precision, checked_int, integer_range, overflow, rescale};
use crate::exec::compare::{as_f64, compare, kind_name, rescale_up};
use crate::plan::{AggregateCall, AggregateFunction};
use crate::value::{ErrorKind, EvalError, SqlType, Value};

/// A running sum: exact for integers and decimals (i128 never overflows from i64
/// inputs in practice; the result type's range is checked on every addition).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sum {
    Empty,
    Int(i128),
    Float(f64),
    Decimal(i128, u8),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Acc {
    Count(i64),
    Sum(Sum),
    Avg { sum: Sum, count: i64 },
    Min(Value),
    Max(Value),
}

impl Acc {
    pub(crate) fn new(function: AggregateFunction) -> Acc {
        match function {
            AggregateFunction::Count => Acc::Count(0),
            AggregateFunction::Sum => Acc::Sum(Sum::Empty),
            AggregateFunction::Avg => Acc::Avg { sum: Sum::Empty, count: 0 },
            AggregateFunction::Min => Acc::Min(Value::Null),
            AggregateFunction::Max => Acc::Max(Value::Null),
        }
    }

    /// Fails when adding `arg` would leave the result type; changes nothing. Run for
    /// every accumulator of a row before [`Acc::add`], so a failed row adds to none.
    pub(crate) fn check(&self, arg: Option<&Value>, call: &AggregateCall) -> Result<(), EvalError> {
        match (self, arg) {
            (Acc::Sum(sum), Some(value)) if !value.is_null() => add_to_sum(sum, value, call.result_type).map(|_| ()),
            (Acc::Count(n), _) if *n == i64::MAX => Err(overflow(SqlType::BigInt)),
            _ => Ok(()),
        }
    }

    /// Adds one row's argument (`None` for COUNT(*)). Returns the change of heap bytes.
    pub(crate) fn add(&mut self, arg: Option<&Value>, call: &AggregateCall) -> Result<isize, EvalError> {
        let Some(value) = arg else {
            // COUNT(*): every row counts.
            if let Acc::Count(n) = self {
                *n = n.saturating_add(1);
            }
            return Ok(0);
        };
        if value.is_null() {
            return Ok(0);
        }
        match self {
            Acc::Count(n) => *n = n.saturating_add(1),
            Acc::Sum(sum) => *sum = add_to_sum(sum, value, call.result_type)?,
            Acc::Avg { sum, count } => {
                // The average's sum is unbounded by the result type (the mean always fits).
                *sum = add_to_sum(sum, value, SqlType::Decimal { precision: 38, scale: 0 }).or_else(|_| {
                    as_f64(value).map(|v| Sum::Float(sum_as_f64(sum) + v)).ok_or_else(|| not_numeric(value))
                })?;
                *count = count.saturating_add(1);
            }
            Acc::Min(current) | Acc::Max(current) => {
                let keep_new = match current {
                    Value::Null => true,
                    current => {
                        let ordering = compare(value, current)?;
                        if matches!(self, Acc::Min(_)) {
                            ordering == Ordering::Less
                        } else {
                            ordering == Ordering::Greater
                        }
                    }
                };
                if keep_new {
                    let (Acc::Min(current) | Acc::Max(current)) = self else { return Ok(0) };
                    let before = value_heap_bytes(current);
                    *current = owned(value);
                    return Ok(value_heap_bytes(current) as isize - before as isize);
                }
            }
        }
        Ok(0)
    }

    /// The aggregate's value at window close.
    pub(crate) fn finish(&self, call: &AggregateCall) -> Result<Value, EvalError> {
        let ty = call.result_type;
        match self {
            Acc::Count(n) => Ok(Value::Int(*n)),
            Acc::Sum(sum) => sum_value(sum, ty),
            Acc::Avg { count: 0, .. } => Ok(Value::Null),
            Acc::Avg { sum, count } => {
                let count = i128::from(*count);
                match sum {
                    Sum::Empty => Ok(Value::Null),
                    Sum::Int(total) if integer_range(ty).is_some() => {
                        // Rust's integer division truncates toward zero, as KDA's AVG does.
                        checked_int(i64::try_from(total / count).ok(), ty)
                    }
                    Sum::Int(total) => sum_value(&Sum::Decimal(*total, 0), ty).and_then(|v| divide(&v, count, ty)),
                    Sum::Decimal(total, scale) => divide(&Value::Decimal(*total, *scale), count, ty),
                    Sum::Float(total) => Ok(float(*total / count as f64, ty)),
                }
            }
            Acc::Min(value) | Acc::Max(value) => Ok(value.clone()),
        }
    }
}

fn not_numeric(value: &Value) -> EvalError {
    EvalError::new(ErrorKind::Function, format!("cannot add up {}", kind_name(value)))
}

/// A value with its own copy of its bytes, so a group does not pin a whole input record.
pub(crate) fn owned(value: &Value) -> Value {
    match value {
        Value::Str(bytes) => Value::Str(bytes::Bytes::copy_from_slice(bytes)),
        Value::Bin(bytes) => Value::Bin(bytes::Bytes::copy_from_slice(bytes)),
        other => other.clone(),
    }
}

pub(crate) fn value_heap_bytes(value: &Value) -> usize {
    match value {
        Value::Str(bytes) | Value::Bin(bytes) => bytes.len(),
        _ => 0,
    }
}

fn float(value: f64, ty: SqlType) -> Value {
    if ty == SqlType::Real {
        Value::Real(value as f32)
    } else {
        Value::Double(value)
    }
}

fn sum_as_f64(sum: &Sum) -> f64 {
    match sum {
        Sum::Empty => 0.0,
        Sum::Int(v) => *v as f64,
        Sum::Float(v) => *v,
        Sum::Decimal(v, scale) => *v as f64 / 10f64.powi(i32::from(*scale)),
    }
}

fn add_to_sum(sum: &Sum, value: &Value, ty: SqlType) -> Result<Sum, EvalError> {
    let next = match (sum, value) {
        (Sum::Empty, Value::Int(v)) => Sum::Int(i128::from(*v)),
        (Sum::Int(total), Value::Int(v)) => Sum::Int(total.checked_add(i128::from(*v)).ok_or_else(|| overflow(ty))?),
        (Sum::Empty, Value::Decimal(v, scale)) => Sum::Decimal(*v, *scale),
        (Sum::Int(total), Value::Decimal(..)) => return add_to_sum(&Sum::Decimal(*total, 0), value, ty),
        (Sum::Decimal(total, scale), Value::Decimal(..) | Value::Int(_)) => {
            let (v, value_scale) = match value {
                Value::Decimal(v, value_scale) => (*v, *value_scale),
                Value::Int(v) => (i128::from(*v), 0),
                other => return Err(not_numeric(other)),
            };
            let common = (*scale).max(value_scale);
            let a = rescale_up(*total, *scale, common).ok_or_else(|| overflow(ty))?;
            let b = rescale_up(v, value_scale, common).ok_or_else(|| overflow(ty))?;
            Sum::Decimal(a.checked_add(b).ok_or_else(|| overflow(ty))?, common)
        }
        (sum, value) => {
            let v = as_f64(value).ok_or_else(|| not_numeric(value))?;
            Sum::Float(sum_as_f64(sum) + v)
        }
    };
    // The running sum must fit the result type at every step, as an overflow in a
    // row-at-a-time engine shows at the row that causes it.
    sum_value(&next, ty)?;
    Ok(next)
}

fn sum_value(sum: &Sum, ty: SqlType) -> Result<Value, EvalError> {
    match sum {
        Sum::Empty => Ok(Value::Null),
        Sum::Int(total) => match ty {
            SqlType::Decimal { precision, scale } => {
                let v = rescale_up(*total, 0, scale).ok_or_else(|| overflow(ty))?;
                check_precision(v, precision).ok_or_else(|| overflow(ty))?;
                Ok(Value::Decimal(v, scale))
            }
            SqlType::Real | SqlType::Double => Ok(float(*total as f64, ty)),
            _ => checked_int(i64::try_from(*total).ok(), ty),
        },
        Sum::Float(total) => Ok(float(*total, ty)),
        Sum::Decimal(total, scale) => match ty {
            SqlType::Decimal { precision, scale: to } => {
                let v = rescale(*total, *scale, to).ok_or_else(|| overflow(ty))?;
                check_precision(v, precision).ok_or_else(|| overflow(ty))?;
                Ok(Value::Decimal(v, to))
            }
            SqlType::Real | SqlType::Double => Ok(float(sum_as_f64(sum), ty)),
            _ => Ok(Value::Decimal(*total, *scale)),
        },
    }
}

/// `value / count` in the result type (AVG of decimals and of integers typed DECIMAL).
fn divide(value: &Value, count: i128, ty: SqlType) -> Result<Value, EvalError> {
    match value {
        Value::Decimal(total, scale) => {
            let to = match ty {
                SqlType::Decimal { scale, .. } => scale,
                _ => *scale,
            };
            let scaled = rescale_up(*total, *scale, to.max(*scale)).ok_or_else(|| overflow(ty))?;
            let quotient = scaled.checked_div(count).ok_or_else(|| overflow(ty))?;
            Ok(Value::Decimal(rescale(quotient, to.max(*scale), to).ok_or_else(|| overflow(ty))?, to))
        }
        Value::Double(v) => Ok(float(*v / count as f64, ty)),
        Value::Real(v) => Ok(float(f64::from(*v) / count as f64, ty)),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(function: AggregateFunction, result_type: SqlType) -> AggregateCall {
        AggregateCall { function, arg: None, result_type }
    }

    fn fold(function: AggregateFunction, ty: SqlType, values: &[Value]) -> Result<Value, EvalError> {
        let call = call(function, ty);
        let mut acc = Acc::new(function);
        for value in values {
            acc.check(Some(value), &call)?;
            acc.add(Some(value), &call)?;
        }
        acc.finish(&call)
    }

    #[test]
    fn nulls_are_skipped_and_empty_is_null() {
        let values = [Value::Int(3), Value::Null, Value::Int(5)];
        assert_eq!(fold(AggregateFunction::Count, SqlType::BigInt, &values).ok(), Some(Value::Int(2)));
        assert_eq!(fold(AggregateFunction::Sum, SqlType::Integer, &values).ok(), Some(Value::Int(8)));
        assert_eq!(fold(AggregateFunction::Min, SqlType::Integer, &values).ok(), Some(Value::Int(3)));
        assert_eq!(fold(AggregateFunction::Max, SqlType::Integer, &values).ok(), Some(Value::Int(5)));
        assert_eq!(fold(AggregateFunction::Sum, SqlType::Integer, &[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(fold(AggregateFunction::Avg, SqlType::Integer, &[Value::Null]).ok(), Some(Value::Null));
        assert_eq!(fold(AggregateFunction::Count, SqlType::BigInt, &[Value::Null]).ok(), Some(Value::Int(0)));
    }

    #[test]
    fn integer_avg_truncates_toward_zero() {
        let ints = |v: &[i64]| v.iter().map(|v| Value::Int(*v)).collect::<Vec<_>>();
        assert_eq!(fold(AggregateFunction::Avg, SqlType::Integer, &ints(&[1, 2])).ok(), Some(Value::Int(1)));
        assert_eq!(fold(AggregateFunction::Avg, SqlType::Integer, &ints(&[-1, -2])).ok(), Some(Value::Int(-1)));
        assert_eq!(
            fold(AggregateFunction::Avg, SqlType::Double, &[Value::Double(1.0), Value::Double(2.0)]).ok(),
            Some(Value::Double(1.5))
        );
    }

    #[test]
    fn sum_overflow_is_an_error_and_leaves_the_sum() {
        let call = call(AggregateFunction::Sum, SqlType::Integer);
        let mut acc = Acc::new(AggregateFunction::Sum);
        let big = Value::Int(i64::from(i32::MAX));
        assert!(acc.add(Some(&big), &call).is_ok());
        assert!(acc.check(Some(&Value::Int(1)), &call).is_err());
        assert_eq!(acc.finish(&call).ok(), Some(big));
    }

    #[test]
    fn decimal_sums_are_exact() {
        let ty = SqlType::Decimal { precision: 10, scale: 2 };
        let values = [Value::Decimal(10, 1), Value::Decimal(25, 2)];
        assert_eq!(fold(AggregateFunction::Sum, ty, &values).ok(), Some(Value::Decimal(125, 2)));
    }
}
