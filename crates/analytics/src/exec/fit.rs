//! Storing a pump's values into the target stream's columns: numbers are converted to
//! the column's type (an integer out of its range is an error row), strings longer than
//! a VARCHAR(n)/CHAR(n) are cut to n characters and binaries to n bytes (as input
//! mapping does), and NULL into a NOT NULL column is an error row.

use bytes::Bytes;

use crate::exec::arith::{check_precision, checked_int, overflow, rescale};
use crate::exec::compare::{kind_name, rescale_up};
use crate::functions::cast::cast;
use crate::plan::ColumnDef;
use crate::value::{ErrorKind, EvalError, SqlType, Value};

pub(crate) fn fit(value: Value, column: &ColumnDef) -> Result<Value, EvalError> {
    let ty = column.sql_type;
    let mismatch = |value: &Value| {
        EvalError::new(
            ErrorKind::Coercion,
            format!("cannot store {} in column {} of type {}", kind_name(value), column.name, ty),
        )
    };
    match (value, ty) {
        (Value::Null, _) if column.not_null => {
            Err(EvalError::new(ErrorKind::NotNull, format!("NULL in NOT NULL column {}", column.name)))
        }
        (Value::Null, _) => Ok(Value::Null),
        (Value::Int(v), SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt) => {
            checked_int(Some(v), ty)
        }
        // Decimals and floats into integer columns, and floats into DECIMAL columns, take
        // CAST's rule (toward zero for integers, half away from zero for DECIMAL digits, NaN
        // and infinities refused) so that storing a value and casting it never disagree.
        (
            value @ (Value::Decimal(..) | Value::Real(_) | Value::Double(_)),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt,
        )
        | (value @ (Value::Real(_) | Value::Double(_)), SqlType::Decimal { .. }) => cast(&value, ty).map_err(|error| {
            EvalError::new(
                error.kind,
                format!("cannot store {} in column {}: {}", kind_name(&value), column.name, error.message),
            )
        }),
        (Value::Int(v), SqlType::Real) => Ok(Value::Real(v as f32)),
        (Value::Int(v), SqlType::Double) => Ok(Value::Double(v as f64)),
        (Value::Real(v), SqlType::Real) => Ok(Value::Real(v)),
        (Value::Real(v), SqlType::Double) => Ok(Value::Double(f64::from(v))),
        (Value::Double(v), SqlType::Double) => Ok(Value::Double(v)),
        (Value::Double(v), SqlType::Real) => Ok(Value::Real(v as f32)),
        (Value::Decimal(v, scale), SqlType::Real | SqlType::Double) => {
            let v = v as f64 / 10f64.powi(i32::from(scale));
            Ok(if ty == SqlType::Real { Value::Real(v as f32) } else { Value::Double(v) })
        }
        (Value::Int(v), SqlType::Decimal { precision, scale }) => {
            let unscaled = rescale_up(i128::from(v), 0, scale).ok_or_else(|| overflow(ty))?;
            check_precision(unscaled, precision).ok_or_else(|| overflow(ty))?;
            Ok(Value::Decimal(unscaled, scale))
        }
        (Value::Decimal(v, from), SqlType::Decimal { precision, scale }) => {
            let unscaled = rescale(v, from, scale).ok_or_else(|| overflow(ty))?;
            check_precision(unscaled, precision).ok_or_else(|| overflow(ty))?;
            Ok(Value::Decimal(unscaled, scale))
        }
        (Value::Str(text), SqlType::Varchar(n)) => Ok(Value::Str(truncate_chars(text, n))),
        // CHAR(n) and BINARY(n) are fixed length: short values are padded (blanks, zero
        // bytes) as CAST pads them.
        (Value::Str(text), SqlType::Char(n)) => Ok(Value::Str(pad_chars(truncate_chars(text, n), n))),
        (Value::Bin(bytes), SqlType::Varbinary(n) | SqlType::Binary(n)) => {
            let n = n as usize;
            let keep = bytes.slice(..bytes.len().min(n));
            if matches!(ty, SqlType::Binary(_)) && keep.len() < n {
                let mut padded = keep.to_vec();
                padded.resize(n, 0);
                return Ok(Value::Bin(padded.into()));
            }
            Ok(Value::Bin(keep))
        }
        (value @ Value::Bool(_), SqlType::Boolean)
        | (value @ Value::Date(_), SqlType::Date)
        | (value @ Value::Time(_), SqlType::Time)
        | (value @ Value::Timestamp(_), SqlType::Timestamp)
        | (value @ Value::Interval(_), SqlType::IntervalDayTime) => Ok(value),
        (value, _) => Err(mismatch(&value)),
    }
}

/// UTF-8 text of at most `n` characters blank-padded to exactly `n`.
fn pad_chars(text: Bytes, n: u32) -> Bytes {
    let chars = std::str::from_utf8(&text).map_or(text.len(), |s| s.chars().count());
    let missing = (n as usize).saturating_sub(chars);
    if missing == 0 {
        return text;
    }
    let mut padded = Vec::with_capacity(text.len() + missing);
    padded.extend_from_slice(&text);
    padded.resize(text.len() + missing, b' ');
    padded.into()
}

/// The first `n` characters of UTF-8 text (the whole text when shorter).
fn truncate_chars(text: Bytes, n: u32) -> Bytes {
    let n = n as usize;
    if text.len() <= n {
        // No more bytes than allowed characters: short enough whatever the characters.
        return text;
    }
    let cut = match std::str::from_utf8(&text) {
        Ok(s) => s.char_indices().nth(n).map_or(text.len(), |(at, _)| at),
        Err(_) => n,
    };
    text.slice(..cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(ty: SqlType, not_null: bool) -> ColumnDef {
        ColumnDef { name: "C".into(), sql_type: ty, not_null }
    }

    #[test]
    fn values_take_the_column_type() {
        assert_eq!(fit(Value::Int(3), &column(SqlType::Double, false)).ok(), Some(Value::Double(3.0)));
        assert!(fit(Value::Int(300), &column(SqlType::TinyInt, false)).is_err());
        assert_eq!(
            fit(Value::Str("héllo".into()), &column(SqlType::Varchar(2), false)).ok(),
            Some(Value::Str("hé".into()))
        );
        assert_eq!(
            fit(Value::Decimal(12345, 3), &column(SqlType::Decimal { precision: 5, scale: 2 }, false)).ok(),
            Some(Value::Decimal(1235, 2))
        );
        assert!(fit(Value::Str("1".into()), &column(SqlType::Integer, false)).is_err());
    }

    #[test]
    fn floats_and_decimals_follow_cast() {
        let int = column(SqlType::Integer, false);
        let money = column(SqlType::Decimal { precision: 8, scale: 2 }, false);
        for value in [
            Value::Double(2.5),
            Value::Double(-2.5),
            Value::Real(1e10),
            Value::Double(f64::NAN),
            Value::Decimal(-259, 2),
        ] {
            assert_eq!(fit(value.clone(), &int).ok(), cast(&value, SqlType::Integer).ok(), "{value:?}");
        }
        assert_eq!(fit(Value::Double(2.5), &int).ok(), Some(Value::Int(2)));
        assert_eq!(fit(Value::Decimal(-259, 2), &int).ok(), Some(Value::Int(-2)));
        assert!(fit(Value::Double(3e9), &int).is_err());
        assert!(fit(Value::Double(f64::INFINITY), &column(SqlType::BigInt, false)).is_err());
        assert!(fit(Value::Double(f64::NAN), &money).is_err());
        assert_eq!(fit(Value::Double(2.375), &money).ok(), Some(Value::Decimal(238, 2)));
        assert!(fit(Value::Double(1e6), &money).is_err());
    }

    #[test]
    fn fixed_length_targets_are_padded() {
        assert_eq!(
            fit(Value::Str("ab".into()), &column(SqlType::Char(4), false)).ok(),
            Some(Value::Str("ab  ".into()))
        );
        assert_eq!(
            fit(Value::Str("abcdef".into()), &column(SqlType::Char(4), false)).ok(),
            Some(Value::Str("abcd".into()))
        );
        assert_eq!(
            fit(Value::Bin(vec![1u8].into()), &column(SqlType::Binary(3), false)).ok(),
            Some(Value::Bin(vec![1u8, 0, 0].into()))
        );
    }

    #[test]
    fn null_into_not_null_is_an_error() {
        let error = fit(Value::Null, &column(SqlType::Integer, true)).err();
        assert_eq!(error.map(|e| e.kind), Some(ErrorKind::NotNull));
        assert_eq!(fit(Value::Null, &column(SqlType::Integer, false)).ok(), Some(Value::Null));
    }
}
