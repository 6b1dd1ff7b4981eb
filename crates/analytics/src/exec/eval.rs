//! Expression evaluation with SQL's three-valued logic: a comparison with NULL is
//! UNKNOWN (NULL), `AND`/`OR`/`NOT` follow the truth tables of the standard, and a
//! predicate keeps a row only when it is TRUE. Scalar functions, CAST and pattern matching
//! are the `functions` module's; this module walks the tree.

use std::cmp::Ordering;

use crate::exec::arith::{arithmetic, negate};
use crate::exec::compare::{compare, kind_name};
use crate::functions::{self, CallContext};
use crate::plan::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::value::{ErrorKind, EvalError, Value};

/// The row an expression reads: its values and its ROWTIME.
#[derive(Clone, Copy)]
pub(crate) struct RowRef<'a> {
    pub values: &'a [Value],
    pub rowtime_ms: i64,
}

/// Evaluates expressions; keeps one argument buffer reused by every function call, so a
/// call allocates nothing once the buffer has grown to the deepest nesting.
#[derive(Default)]
pub(crate) struct Evaluator {
    args: Vec<Value>,
}

/// A boolean value as a truth value: `None` is UNKNOWN.
fn truth(value: Value) -> Result<Option<bool>, EvalError> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        other => Err(EvalError::new(ErrorKind::Function, format!("expected a BOOLEAN, got {}", kind_name(&other)))),
    }
}

fn from_truth(truth: Option<bool>) -> Value {
    truth.map_or(Value::Null, Value::Bool)
}

impl Evaluator {
    /// True only when the predicate is TRUE (WHERE, HAVING): FALSE and UNKNOWN drop the row.
    pub(crate) fn is_true(&mut self, predicate: &Expr, row: RowRef<'_>, now_ms: i64) -> Result<bool, EvalError> {
        Ok(truth(self.eval(predicate, row, now_ms)?)? == Some(true))
    }

    pub(crate) fn eval(&mut self, expr: &Expr, row: RowRef<'_>, now_ms: i64) -> Result<Value, EvalError> {
        match &expr.kind {
            ExprKind::Column(index) => row.values.get(*index).cloned().ok_or_else(|| {
                EvalError::new(ErrorKind::Function, format!("column {index} is not in a row of {}", row.values.len()))
            }),
            ExprKind::Rowtime => Ok(Value::Timestamp(row.rowtime_ms)),
            ExprKind::Literal(value) => Ok(value.clone()),
            ExprKind::CurrentRowTimestamp => Ok(Value::Timestamp(now_ms)),
            ExprKind::Unary { op, operand } => {
                let value = self.eval(operand, row, now_ms)?;
                match (op, value) {
                    (_, Value::Null) => Ok(Value::Null),
                    (UnaryOp::Not, value) => Ok(from_truth(truth(value)?.map(|b| !b))),
                    (UnaryOp::Minus, value) => negate(&value, expr.ty),
                    (UnaryOp::Plus, value) => Ok(value),
                }
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, expr, row, now_ms),
            ExprKind::IsNull { operand, negated } => {
                let is_null = self.eval(operand, row, now_ms)?.is_null();
                Ok(Value::Bool(is_null != *negated))
            }
            ExprKind::Case { operand, branches, otherwise } => {
                let subject = match operand {
                    Some(operand) => Some(self.eval(operand, row, now_ms)?),
                    None => None,
                };
                for (when, then) in branches {
                    let candidate = self.eval(when, row, now_ms)?;
                    let taken = match &subject {
                        Some(subject) => sql_equal(subject, &candidate)? == Some(true),
                        None => truth(candidate)? == Some(true),
                    };
                    if taken {
                        return self.eval(then, row, now_ms);
                    }
                }
                match otherwise {
                    Some(otherwise) => self.eval(otherwise, row, now_ms),
                    None => Ok(Value::Null),
                }
            }
            ExprKind::Cast { operand, to } => {
                let value = self.eval(operand, row, now_ms)?;
                if value.is_null() {
                    return Ok(Value::Null);
                }
                functions::cast(&value, *to)
            }
            ExprKind::Pattern { kind, operand, pattern, escape, negated } => {
                let value = self.eval(operand, row, now_ms)?;
                let pattern = self.eval(pattern, row, now_ms)?;
                if value.is_null() || pattern.is_null() {
                    return Ok(Value::Null);
                }
                let matched = functions::matches_pattern(*kind, &value, &pattern, *escape)?;
                Ok(from_truth(matched.map(|m| m != *negated)))
            }
            ExprKind::InList { operand, list, negated } => {
                let value = self.eval(operand, row, now_ms)?;
                if value.is_null() {
                    return Ok(Value::Null);
                }
                let mut unknown = false;
                for item in list {
                    match sql_equal(&value, &self.eval(item, row, now_ms)?)? {
                        Some(true) => return Ok(Value::Bool(!*negated)),
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                // No match: FALSE, unless a NULL in the list makes it UNKNOWN.
                Ok(if unknown { Value::Null } else { Value::Bool(*negated) })
            }
            ExprKind::Between { operand, low, high, negated } => {
                let value = self.eval(operand, row, now_ms)?;
                let low = self.eval(low, row, now_ms)?;
                let high = self.eval(high, row, now_ms)?;
                let above_low = sql_compare(&value, &low)?.map(|o| o != Ordering::Less);
                let below_high = sql_compare(&value, &high)?.map(|o| o != Ordering::Greater);
                let between = and(above_low, below_high);
                Ok(from_truth(between.map(|b| b != *negated)))
            }
            ExprKind::Call { function, args } => {
                let base = self.args.len();
                for arg in args {
                    match self.eval(arg, row, now_ms) {
                        Ok(value) => self.args.push(value),
                        Err(error) => {
                            self.args.truncate(base);
                            return Err(error);
                        }
                    }
                }
                let result = functions::call(*function, &self.args[base..], CallContext { now_ms });
                self.args.truncate(base);
                result
            }
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        expr: &Expr,
        row: RowRef<'_>,
        now_ms: i64,
    ) -> Result<Value, EvalError> {
        match op {
            BinaryOp::And => {
                let left = truth(self.eval(left, row, now_ms)?)?;
                // FALSE AND anything is FALSE: the right side is not evaluated, so its
                // errors do not turn a rejected row into an error row.
                if left == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let right = truth(self.eval(right, row, now_ms)?)?;
                Ok(from_truth(and(left, right)))
            }
            BinaryOp::Or => {
                let left = truth(self.eval(left, row, now_ms)?)?;
                if left == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let right = truth(self.eval(right, row, now_ms)?)?;
                Ok(from_truth(or(left, right)))
            }
            _ => {
                let left = self.eval(left, row, now_ms)?;
                let right = self.eval(right, row, now_ms)?;
                if left.is_null() || right.is_null() {
                    return Ok(Value::Null);
                }
                let ordering = || compare(&left, &right);
                match op {
                    BinaryOp::Eq => Ok(Value::Bool(ordering()? == Ordering::Equal)),
                    BinaryOp::NotEq => Ok(Value::Bool(ordering()? != Ordering::Equal)),
                    BinaryOp::Lt => Ok(Value::Bool(ordering()? == Ordering::Less)),
                    BinaryOp::LtEq => Ok(Value::Bool(ordering()? != Ordering::Greater)),
                    BinaryOp::Gt => Ok(Value::Bool(ordering()? == Ordering::Greater)),
                    BinaryOp::GtEq => Ok(Value::Bool(ordering()? != Ordering::Less)),
                    BinaryOp::Concat => functions::concat(&left, &right),
                    BinaryOp::Plus | BinaryOp::Minus | BinaryOp::Multiply | BinaryOp::Divide => {
                        arithmetic(op, &left, &right, expr.ty)
                    }
                    BinaryOp::And | BinaryOp::Or => {
                        Err(EvalError::new(ErrorKind::Function, "logical operator out of place"))
                    }
                }
            }
        }
    }
}

/// Three-valued AND.
fn and(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match (left, right) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Three-valued OR.
fn or(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match (left, right) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// `left = right` with NULL giving UNKNOWN.
fn sql_equal(left: &Value, right: &Value) -> Result<Option<bool>, EvalError> {
    Ok(sql_compare(left, right)?.map(|o| o == Ordering::Equal))
}

fn sql_compare(left: &Value, right: &Value) -> Result<Option<Ordering>, EvalError> {
    if left.is_null() || right.is_null() {
        return Ok(None);
    }
    compare(left, right).map(Some)
}

#[cfg(test)]
mod tests;
