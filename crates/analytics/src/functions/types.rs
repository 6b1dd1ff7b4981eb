//! Typing rules of expressions: numeric promotion, comparison, common types of CASE and
//! COALESCE, arithmetic results, and which values a column accepts. The compiler types
//! expressions with them and the functions state their signatures with them; the rules
//! are SQL:2011's where SQLREF is silent.

use crate::plan::BinaryOp;
use crate::value::SqlType;

/// DECIMAL results are capped at this many digits (SQLREF: at most 19).
const DECIMAL_PRECISION_MAX: u8 = 19;

pub fn is_integer(ty: SqlType) -> bool {
    matches!(ty, SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
}

pub fn is_numeric(ty: SqlType) -> bool {
    is_integer(ty) || matches!(ty, SqlType::Real | SqlType::Double | SqlType::Decimal { .. })
}

pub fn is_string(ty: SqlType) -> bool {
    matches!(ty, SqlType::Char(_) | SqlType::Varchar(_))
}

pub fn is_binary(ty: SqlType) -> bool {
    matches!(ty, SqlType::Binary(_) | SqlType::Varbinary(_))
}

/// The length a string type declares.
pub fn string_length(ty: SqlType) -> u32 {
    match ty {
        SqlType::Char(length) | SqlType::Varchar(length) | SqlType::Binary(length) | SqlType::Varbinary(length) => {
            length
        }
        _ => 0,
    }
}

/// An integer type as the DECIMAL that holds all its values.
fn as_decimal(ty: SqlType) -> Option<(u8, u8)> {
    match ty {
        SqlType::TinyInt => Some((3, 0)),
        SqlType::SmallInt => Some((5, 0)),
        SqlType::Integer => Some((10, 0)),
        SqlType::BigInt => Some((19, 0)),
        SqlType::Decimal { precision, scale } => Some((precision, scale)),
        _ => None,
    }
}

fn integer_rank(ty: SqlType) -> u8 {
    match ty {
        SqlType::TinyInt => 1,
        SqlType::SmallInt => 2,
        SqlType::Integer => 3,
        _ => 4,
    }
}

fn decimal(precision: u32, scale: u32) -> SqlType {
    let scale = scale.min(u32::from(DECIMAL_PRECISION_MAX)) as u8;
    let precision = precision.clamp(u32::from(scale).max(1), u32::from(DECIMAL_PRECISION_MAX)) as u8;
    SqlType::Decimal { precision, scale }
}

/// The type both numeric types promote to: the wider integer; DECIMAL wide enough for
/// both; DOUBLE when either is approximate (REAL with REAL stays REAL).
pub fn numeric_common(a: SqlType, b: SqlType) -> Option<SqlType> {
    if !is_numeric(a) || !is_numeric(b) {
        return None;
    }
    if is_integer(a) && is_integer(b) {
        return Some(if integer_rank(a) >= integer_rank(b) { a } else { b });
    }
    if a == SqlType::Real && b == SqlType::Real {
        return Some(SqlType::Real);
    }
    match (as_decimal(a), as_decimal(b)) {
        (Some((pa, sa)), Some((pb, sb))) => {
            let scale = sa.max(sb);
            let whole = (pa - sa).max(pb - sb);
            Some(decimal(u32::from(whole) + u32::from(scale), u32::from(scale)))
        }
        _ => Some(SqlType::Double),
    }
}

/// The type of a value that may come from either side (CASE branches, COALESCE, IN
/// lists, comparison operands).
pub fn common_type(a: SqlType, b: SqlType) -> Option<SqlType> {
    if a == b {
        return Some(a);
    }
    if let Some(numeric) = numeric_common(a, b) {
        return Some(numeric);
    }
    if is_string(a) && is_string(b) {
        return Some(SqlType::Varchar(string_length(a).max(string_length(b))));
    }
    if is_binary(a) && is_binary(b) {
        return Some(SqlType::Varbinary(string_length(a).max(string_length(b))));
    }
    None
}

/// The type of `left op right` for the arithmetic operators and `||`.
pub fn arithmetic(op: BinaryOp, left: SqlType, right: SqlType) -> Option<SqlType> {
    use SqlType::{Date, IntervalDayTime as Interval, Time, Timestamp};
    match op {
        BinaryOp::Concat => {
            if is_string(left) && is_string(right) {
                Some(SqlType::Varchar(string_length(left).saturating_add(string_length(right))))
            } else if is_binary(left) && is_binary(right) {
                Some(SqlType::Varbinary(string_length(left).saturating_add(string_length(right))))
            } else {
                None
            }
        }
        BinaryOp::Plus | BinaryOp::Minus => match (left, right) {
            (Timestamp | Date | Time, Interval) => Some(left),
            (Interval, Timestamp | Date | Time) if op == BinaryOp::Plus => Some(right),
            (Interval, Interval) => Some(Interval),
            _ => numeric_arithmetic(op, left, right),
        },
        BinaryOp::Multiply => match (left, right) {
            (Interval, other) | (other, Interval) if is_numeric(other) => Some(Interval),
            _ => numeric_arithmetic(op, left, right),
        },
        BinaryOp::Divide => match (left, right) {
            (Interval, other) if is_numeric(other) => Some(Interval),
            _ => numeric_arithmetic(op, left, right),
        },
        _ => None,
    }
}

fn numeric_arithmetic(op: BinaryOp, left: SqlType, right: SqlType) -> Option<SqlType> {
    let common = numeric_common(left, right)?;
    let (SqlType::Decimal { .. }, Some((pa, sa)), Some((pb, sb))) = (common, as_decimal(left), as_decimal(right))
    else {
        return Some(common);
    };
    let (pa, sa, pb, sb) = (u32::from(pa), u32::from(sa), u32::from(pb), u32::from(sb));
    Some(match op {
        BinaryOp::Multiply => decimal(pa + pb, sa + sb),
        // Division keeps at least 6 fraction digits, as SQL Server and Calcite do: the
        // standard leaves the scale to the implementation.
        BinaryOp::Divide => decimal(u32::from(DECIMAL_PRECISION_MAX), sa.max(sb).max(6)),
        _ => {
            let scale = sa.max(sb);
            decimal((pa - sa).max(pb - sb) + scale + 1, scale)
        }
    })
}

/// True when values of the two types compare with `=`, `<` and the others.
pub fn comparable(a: SqlType, b: SqlType) -> bool {
    common_type(a, b).is_some()
}

/// True when a value of `from` may be inserted into a column of `to` (narrowing is the
/// executor's coercion, as for input mapping).
pub fn assignable(from: SqlType, to: SqlType) -> bool {
    from == to
        || (is_numeric(from) && is_numeric(to))
        || (is_string(from) && is_string(to))
        || (is_binary(from) && is_binary(to))
}
