//! Expressions over a scope, typed: names to column indexes, operators and functions
//! checked against their operand types, NULL literals given the type of their context,
//! and over a group row, grouping keys and aggregates to group-row columns.

use super::query::{aggregate_function, contains_aggregate, GroupContext, Scope};
use super::{error, type_mismatch, Resolved, REFUSED_AGGREGATES};
use crate::error::CodeErrorKind;
use crate::functions::{types, ScalarFunction};
use crate::plan::{AggregateCall, AggregateFunction, BinaryOp, Expr, ExprKind, UnaryOp};
use crate::sql::ast::{self, Name};
use crate::sql::lexer::Pos;
use crate::sql::parser::unsupported;
use crate::value::{SqlType, Value};

/// Lowers expressions over one scope: the source row, or (with `group`) the group row.
pub(super) struct Lowering<'s> {
    pub(super) scope: &'s Scope,
    pub(super) group: Option<GroupContext>,
    /// The query has a GROUP BY (so an aggregate outside SELECT/HAVING is misplaced,
    /// not missing its GROUP BY).
    pub(super) grouped: bool,
}

impl Lowering<'_> {
    /// A WHERE or HAVING condition: BOOLEAN.
    pub(super) fn condition(&mut self, expr: &ast::Expr, clause: &str) -> Resolved<Expr> {
        let lowered = self.lower(expr)?;
        if lowered.ty != SqlType::Boolean {
            return Err(type_mismatch(format!("{clause} needs a BOOLEAN, not {}", lowered.ty), expr.pos));
        }
        Ok(lowered)
    }

    pub(super) fn lower(&mut self, expr: &ast::Expr) -> Resolved<Expr> {
        if self.group.is_some() {
            // Over a group row, an expression equal to a grouping key is that key's column.
            if !contains_aggregate(expr) {
                let saved = self.group.take();
                let plain = self.lower(expr);
                self.group = saved;
                if let (Ok(plain), Some(group)) = (plain, &self.group) {
                    if let Some(index) = group.keys.iter().position(|key| *key == plain) {
                        return Ok(Expr { kind: ExprKind::Column(index), ty: plain.ty });
                    }
                    if is_constant(&plain) {
                        return Ok(plain);
                    }
                }
            }
        }
        self.lower_node(expr)
    }

    fn lower_node(&mut self, expr: &ast::Expr) -> Resolved<Expr> {
        use ast::ExprKind as K;
        let pos = expr.pos;
        match &expr.kind {
            K::Identifier(parts) => self.identifier(parts, pos),
            K::Literal(value, ty) => Ok(Expr { kind: ExprKind::Literal(value.clone()), ty: ty.unwrap_or(NULL_TYPE) }),
            K::CurrentRowTimestamp => Ok(Expr { kind: ExprKind::CurrentRowTimestamp, ty: SqlType::Timestamp }),
            K::Unary(op, operand) => {
                let operand = self.lower(operand)?;
                let ok = match op {
                    UnaryOp::Not => operand.ty == SqlType::Boolean,
                    UnaryOp::Minus | UnaryOp::Plus => {
                        types::is_numeric(operand.ty) || operand.ty == SqlType::IntervalDayTime
                    }
                };
                if !ok && !is_null_literal(&operand) {
                    return Err(type_mismatch(format!("{op:?} of {}", operand.ty), pos));
                }
                let ty = if *op == UnaryOp::Not { SqlType::Boolean } else { operand.ty };
                Ok(Expr { kind: ExprKind::Unary { op: *op, operand: Box::new(operand) }, ty })
            }
            K::Binary(op, left, right) => {
                let left = self.lower(left)?;
                let right = self.lower(right)?;
                self.binary(*op, left, right, pos)
            }
            K::IsNull { operand, negated } => {
                let operand = self.lower(operand)?;
                Ok(Expr {
                    kind: ExprKind::IsNull { operand: Box::new(operand), negated: *negated },
                    ty: SqlType::Boolean,
                })
            }
            K::Case { operand, branches, otherwise } => self.case(operand.as_deref(), branches, otherwise.as_deref()),
            K::Cast { operand, to } => {
                let operand = self.lower(operand)?;
                if !castable(operand.ty, *to) && !is_null_literal(&operand) {
                    return Err(type_mismatch(format!("CAST from {} to {}", operand.ty, to), pos));
                }
                let operand = with_type(operand, *to);
                Ok(Expr { kind: ExprKind::Cast { operand: Box::new(operand), to: *to }, ty: *to })
            }
            K::Pattern { kind, operand, pattern, escape, negated } => {
                let operand = self.lower(operand)?;
                let pattern = self.lower(pattern)?;
                for side in [&operand, &pattern] {
                    if !types::is_string(side.ty) && !is_null_literal(side) {
                        return Err(type_mismatch(format!("{kind:?} of {}", side.ty), pos));
                    }
                }
                let escape = match escape {
                    Some(escape) => Some(escape_char(escape)?),
                    None => None,
                };
                Ok(Expr {
                    kind: ExprKind::Pattern {
                        kind: *kind,
                        operand: Box::new(with_type(operand, SqlType::Varchar(1))),
                        pattern: Box::new(with_type(pattern, SqlType::Varchar(1))),
                        escape,
                        negated: *negated,
                    },
                    ty: SqlType::Boolean,
                })
            }
            K::InList { operand, list, negated } => {
                let operand = self.lower(operand)?;
                let mut ty = typed(&operand);
                let mut lowered = Vec::with_capacity(list.len());
                for item in list {
                    let item = self.lower(item)?;
                    ty = self.unify(ty, &item, "IN list", item_pos_of(list, lowered.len(), pos))?;
                    lowered.push(item);
                }
                let ty = ty.unwrap_or(NULL_TYPE);
                let operand = with_type(operand, ty);
                let list = lowered.into_iter().map(|item| with_type(item, ty)).collect();
                Ok(Expr {
                    kind: ExprKind::InList { operand: Box::new(operand), list, negated: *negated },
                    ty: SqlType::Boolean,
                })
            }
            K::Between { operand, low, high, negated } => {
                let operand = self.lower(operand)?;
                let low = self.lower(low)?;
                let high = self.lower(high)?;
                let ty = self.unify(typed(&operand), &low, "BETWEEN", pos)?;
                let ty = self.unify(ty, &high, "BETWEEN", pos)?.unwrap_or(NULL_TYPE);
                Ok(Expr {
                    kind: ExprKind::Between {
                        operand: Box::new(with_type(operand, ty)),
                        low: Box::new(with_type(low, ty)),
                        high: Box::new(with_type(high, ty)),
                        negated: *negated,
                    },
                    ty: SqlType::Boolean,
                })
            }
            K::CountStar => self.aggregate(AggregateFunction::Count, None, pos),
            K::Call { name, args } => self.call(name, args, pos),
            K::Step { operand, width } => {
                let args = vec![self.lower(operand)?, self.lower(width)?];
                self.function(ScalarFunction::Step, args, "STEP", pos)
            }
            K::RoundTo { operand, unit, ceil } => {
                let function = if *ceil { ScalarFunction::CeilTo(*unit) } else { ScalarFunction::FloorTo(*unit) };
                let args = vec![self.lower(operand)?];
                self.function(function, args, if *ceil { "CEIL" } else { "FLOOR" }, pos)
            }
            K::Extract { unit, operand } => {
                let args = vec![self.lower(operand)?];
                self.function(ScalarFunction::Extract(*unit), args, "EXTRACT", pos)
            }
            K::Trim { side, characters, operand } => {
                let mut args = vec![self.lower(operand)?];
                if let Some(characters) = characters {
                    args.push(self.lower(characters)?);
                }
                self.function(ScalarFunction::Trim(*side), args, "TRIM", pos)
            }
        }
    }

    fn identifier(&self, parts: &[Name], pos: Pos) -> Resolved<Expr> {
        let (qualifier, column) = match parts {
            [column] => (None, column),
            [qualifier, column] => (Some(qualifier), column),
            _ => return Err(unsupported("a name of more than two parts", pos)),
        };
        if let Some(qualifier) = qualifier {
            if !self.scope.qualifiers.contains(&qualifier.text) {
                return Err(error(CodeErrorKind::UnknownStream, &qualifier.text, qualifier.pos));
            }
        }
        if column.text == "ROWTIME" {
            // Over a group row, ROWTIME is the output row's own (the window end, which KDA
            // lets a SELECT list name); a qualified `s.ROWTIME` names the source rows', which
            // a group row has only as a grouping expression (matched before reaching here).
            if let (Some(qualifier), Some(_)) = (qualifier, &self.group) {
                return Err(type_mismatch(
                    format!("{}.ROWTIME is neither grouped nor aggregated", qualifier.text),
                    qualifier.pos,
                ));
            }
            return Ok(Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp });
        }
        let mut matches = self.scope.columns.iter().enumerate().filter(|(_, candidate)| candidate.name == column.text);
        match (matches.next(), matches.next()) {
            // Over a group row, reached only when the column is not a grouping key.
            (Some(_), None) if self.group.is_some() => {
                Err(type_mismatch(format!("{} is neither grouped nor aggregated", column.text), column.pos))
            }
            (Some((index, found)), None) => Ok(Expr { kind: ExprKind::Column(index), ty: found.ty }),
            (Some(_), Some(_)) => Err(error(CodeErrorKind::DuplicateName, &column.text, column.pos)),
            (None, _) => {
                let written = parts.iter().map(|part| part.text.as_str()).collect::<Vec<_>>().join(".");
                Err(error(CodeErrorKind::UnknownColumn, &written, column.pos))
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, left: Expr, right: Expr, pos: Pos) -> Resolved<Expr> {
        let (left, right) = adopt_null_types(left, right);
        let ty = match op {
            BinaryOp::And | BinaryOp::Or => {
                if left.ty != SqlType::Boolean || right.ty != SqlType::Boolean {
                    return Err(type_mismatch(format!("{op:?} of {} and {}", left.ty, right.ty), pos));
                }
                SqlType::Boolean
            }
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                if !types::comparable(left.ty, right.ty) {
                    return Err(type_mismatch(format!("comparing {} with {}", left.ty, right.ty), pos));
                }
                SqlType::Boolean
            }
            _ => types::arithmetic(op, left.ty, right.ty)
                .ok_or_else(|| type_mismatch(format!("{op:?} of {} and {}", left.ty, right.ty), pos))?,
        };
        Ok(Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, ty })
    }

    fn case(
        &mut self,
        operand: Option<&ast::Expr>,
        branches: &[(ast::Expr, ast::Expr)],
        otherwise: Option<&ast::Expr>,
    ) -> Resolved<Expr> {
        let operand = match operand {
            Some(operand) => Some(self.lower(operand)?),
            None => None,
        };
        let mut result_ty: Option<SqlType> = None;
        let mut lowered = Vec::with_capacity(branches.len());
        for (when, then) in branches {
            let when_lowered = self.lower(when)?;
            match &operand {
                Some(operand) => {
                    if !types::comparable(operand.ty, when_lowered.ty) && !is_null_literal(&when_lowered) {
                        return Err(type_mismatch(
                            format!("CASE compares {} with {}", operand.ty, when_lowered.ty),
                            when.pos,
                        ));
                    }
                }
                None => {
                    if when_lowered.ty != SqlType::Boolean && !is_null_literal(&when_lowered) {
                        return Err(type_mismatch(format!("WHEN needs a BOOLEAN, not {}", when_lowered.ty), when.pos));
                    }
                }
            }
            let then_lowered = self.lower(then)?;
            result_ty = self.unify(result_ty, &then_lowered, "CASE branches", then.pos)?;
            lowered.push((when_lowered, then_lowered));
        }
        let otherwise = match otherwise {
            Some(otherwise) => {
                let lowered_else = self.lower(otherwise)?;
                result_ty = self.unify(result_ty, &lowered_else, "CASE branches", otherwise.pos)?;
                Some(lowered_else)
            }
            None => None,
        };
        let ty = result_ty.unwrap_or(NULL_TYPE);
        let operand_ty = operand.as_ref().map(|operand| operand.ty);
        let branches = lowered
            .into_iter()
            .map(|(when, then)| {
                let when = match operand_ty {
                    Some(operand_ty) => with_type(when, operand_ty),
                    None => with_type(when, SqlType::Boolean),
                };
                (when, with_type(then, ty))
            })
            .collect();
        Ok(Expr {
            kind: ExprKind::Case {
                operand: operand.map(Box::new),
                branches,
                otherwise: otherwise.map(|otherwise| Box::new(with_type(otherwise, ty))),
            },
            ty,
        })
    }

    /// The common type of the expressions so far (`None` while all were NULL literals,
    /// which take any type) and `next`'s.
    fn unify(&self, so_far: Option<SqlType>, next: &Expr, what: &str, pos: Pos) -> Resolved<Option<SqlType>> {
        if is_null_literal(next) {
            return Ok(so_far);
        }
        let Some(ty) = so_far else {
            return Ok(Some(next.ty));
        };
        types::common_type(ty, next.ty)
            .map(Some)
            .ok_or_else(|| type_mismatch(format!("{what} mix {} and {}", ty, next.ty), pos))
    }

    fn call(&mut self, name: &str, args: &[ast::Expr], pos: Pos) -> Resolved<Expr> {
        if let Some(function) = aggregate_function(name) {
            let [arg] = args else {
                return Err(type_mismatch(format!("{name} takes one argument"), pos));
            };
            return self.aggregate(function, Some(arg), pos);
        }
        if REFUSED_AGGREGATES.contains(&name) {
            return Err(unsupported(format!("function {name}"), pos));
        }
        if name == "MONOTONIC" {
            // An assertion about the order of its argument, which it returns unchanged.
            let [arg] = args else {
                return Err(type_mismatch("MONOTONIC takes one argument".into(), pos));
            };
            return self.lower(arg);
        }
        let Some(function) = ScalarFunction::by_name(name) else {
            return Err(unsupported(format!("function {name}"), pos));
        };
        let mut lowered = Vec::with_capacity(args.len());
        for arg in args {
            lowered.push(self.lower(arg)?);
        }
        self.function(function, lowered, name, pos)
    }

    fn function(&mut self, function: ScalarFunction, args: Vec<Expr>, name: &str, pos: Pos) -> Resolved<Expr> {
        let arg_types: Vec<SqlType> = args.iter().map(|arg| arg.ty).collect();
        let refused = match function.result_type(&arg_types) {
            Ok(ty) => return Ok(Expr { kind: ExprKind::Call { function, args }, ty }),
            Err(message) => message,
        };
        // A NULL literal argument takes a type the signature accepts there: the other
        // arguments' first (COALESCE(x, NULL)), else the first of the SQL types that fits.
        if args.iter().any(is_null_literal) {
            let first_typed = args.iter().find(|arg| !is_null_literal(arg)).map(|arg| arg.ty);
            for candidate in first_typed.into_iter().chain(NULL_CANDIDATES) {
                let typed: Vec<SqlType> =
                    args.iter().map(|arg| if is_null_literal(arg) { candidate } else { arg.ty }).collect();
                if let Ok(ty) = function.result_type(&typed) {
                    let args = args.into_iter().map(|arg| with_type(arg, candidate)).collect();
                    return Ok(Expr { kind: ExprKind::Call { function, args }, ty });
                }
            }
        }
        Err(type_mismatch(format!("{name}: {refused}"), pos))
    }

    fn aggregate(&mut self, function: AggregateFunction, arg: Option<&ast::Expr>, pos: Pos) -> Resolved<Expr> {
        if self.group.is_none() {
            let kind = if self.grouped {
                return Err(unsupported(
                    format!("{function:?} outside the SELECT list and HAVING").to_uppercase(),
                    pos,
                ));
            } else {
                CodeErrorKind::AggregateWithoutGroupBy
            };
            return Err(error(kind, &format!("{function:?}").to_uppercase(), pos));
        }
        // The argument is over the source row.
        let saved = self.group.take();
        let arg = match arg {
            Some(arg) => {
                if contains_aggregate(arg) {
                    self.group = saved;
                    return Err(unsupported("an aggregate inside an aggregate", arg.pos));
                }
                let lowered = self.lower(arg);
                self.group = saved;
                Some(lowered?)
            }
            None => {
                self.group = saved;
                None
            }
        };
        let result_type = aggregate_type(function, arg.as_ref(), pos)?;
        let Some(group) = self.group.as_mut() else {
            return Err(unsupported("aggregate", pos));
        };
        let call = AggregateCall { function, arg, result_type };
        let index = match group.aggregates.iter().position(|existing| *existing == call) {
            Some(index) => index,
            None => {
                group.aggregates.push(call);
                group.aggregates.len() - 1
            }
        };
        Ok(Expr { kind: ExprKind::Column(group.keys.len() + index), ty: result_type })
    }
}

/// The placeholder type of a NULL literal before its context gives it one; never
/// compared against, since a NULL literal is recognised by its kind (`is_null_literal`).
const NULL_TYPE: SqlType = SqlType::Varchar(1);

/// The types tried, in order, for a NULL literal passed to a function.
const NULL_CANDIDATES: [SqlType; 8] = [
    SqlType::Integer,
    SqlType::Double,
    SqlType::Varchar(1),
    SqlType::Timestamp,
    SqlType::Date,
    SqlType::Time,
    SqlType::IntervalDayTime,
    SqlType::Boolean,
];

fn aggregate_type(function: AggregateFunction, arg: Option<&Expr>, pos: Pos) -> Resolved<SqlType> {
    let Some(arg) = arg else {
        return Ok(SqlType::BigInt);
    };
    match function {
        AggregateFunction::Count => Ok(SqlType::BigInt),
        AggregateFunction::Sum | AggregateFunction::Avg => {
            if !types::is_numeric(arg.ty) {
                return Err(type_mismatch(format!("{function:?} of {}", arg.ty).to_uppercase(), pos));
            }
            // SUM of integers is BIGINT and of decimals DECIMAL(19, s), so that a sum does
            // not overflow its argument's width; AVG keeps the argument's type (KDA
            // truncates integer averages).
            Ok(match (function, arg.ty) {
                (AggregateFunction::Sum, ty) if types::is_integer(ty) => SqlType::BigInt,
                (AggregateFunction::Sum, SqlType::Decimal { scale, .. }) => SqlType::Decimal { precision: 19, scale },
                (_, ty) => ty,
            })
        }
        AggregateFunction::Min | AggregateFunction::Max => {
            if arg.ty == SqlType::Boolean || types::is_binary(arg.ty) {
                return Err(type_mismatch(format!("{function:?} of {}", arg.ty).to_uppercase(), pos));
            }
            Ok(arg.ty)
        }
    }
}

pub(super) fn is_null_literal(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Literal(Value::Null))
}

/// An expression's type, `None` for an untyped NULL literal (which takes its context's).
fn typed(expr: &Expr) -> Option<SqlType> {
    (!is_null_literal(expr)).then_some(expr.ty)
}

fn is_constant(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Literal(_))
}

/// A NULL literal takes the type its context expects.
fn with_type(expr: Expr, ty: SqlType) -> Expr {
    if is_null_literal(&expr) {
        Expr { ty, ..expr }
    } else {
        expr
    }
}

fn adopt_null_types(left: Expr, right: Expr) -> (Expr, Expr) {
    let (left_ty, right_ty) = (left.ty, right.ty);
    match (is_null_literal(&left), is_null_literal(&right)) {
        (true, false) => (with_type(left, right_ty), right),
        (false, true) => (left, with_type(right, left_ty)),
        _ => (left, right),
    }
}

/// CAST's valid pairs, from SQLREF's CAST table: numbers to numbers and strings;
/// strings to every type; dates, times and timestamps among themselves (a DATE or TIME
/// to TIMESTAMP and back) and to strings; BOOLEAN and intervals to strings and
/// themselves; binaries to binaries. Casting an interval to a number is refused: the
/// value keeps no unit to count in.
fn castable(from: SqlType, to: SqlType) -> bool {
    use SqlType::{Boolean, Date, IntervalDayTime, Time, Timestamp};
    from == to
        || (types::is_string(from) && !types::is_binary(to))
        || (types::is_string(to) && !types::is_binary(from))
        || (types::is_numeric(from) && types::is_numeric(to))
        || (types::is_binary(from) && types::is_binary(to))
        || matches!((from, to), (Date | Time, Timestamp) | (Timestamp, Date | Time))
        || (from == Boolean && to == Boolean)
        || (from == IntervalDayTime && to == IntervalDayTime)
}

/// The ESCAPE character: a one-character string literal.
fn escape_char(expr: &ast::Expr) -> Resolved<char> {
    if let ast::ExprKind::Literal(Value::Str(bytes), _) = &expr.kind {
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(c);
        }
    }
    Err(type_mismatch("ESCAPE needs a one-character string literal".into(), expr.pos))
}

fn item_pos_of(list: &[ast::Expr], index: usize, fallback: Pos) -> Pos {
    list.get(index).map_or(fallback, |item| item.pos)
}
