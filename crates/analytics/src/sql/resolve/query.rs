//! A `SELECT STREAM`: its FROM item's scope, its projection, and for a GROUP BY the
//! progress key, the other keys and the aggregates of the group row.

use super::lower::Lowering;
use super::{error, Resolved};
use crate::error::CodeErrorKind;
use crate::plan::{
    AggregateCall, AggregateFunction, AggregatePlan, AppPlan, Expr, ExprKind, ProgressKey, Query, QueryShape, Source,
    StreamKind, APPROXIMATE_ARRIVAL_TIME,
};
use crate::sql::ast::{self, From, Name, Select, SelectItem};
use crate::sql::lexer::Pos;
use crate::sql::parser::unsupported;
use crate::value::{SqlType, Value};

/// The columns a query's FROM item offers, and the names that qualify them.
pub(super) struct Scope {
    pub(super) qualifiers: Vec<String>,
    pub(super) columns: Vec<ScopeColumn>,
}

pub(super) struct ScopeColumn {
    pub(super) name: String,
    pub(super) ty: SqlType,
    /// Left out of `SELECT *` (APPROXIMATE_ARRIVAL_TIME).
    pub(super) hidden: bool,
}

/// A query's output columns: name and type.
pub(super) type Output = Vec<(String, SqlType)>;

pub(super) fn select(plan: &AppPlan, query: &Select) -> Resolved<(Query, Output)> {
    let (source, scope) = match &query.from {
        From::Stream { name, alias } => {
            let id =
                plan.stream_id(&name.text).ok_or_else(|| error(CodeErrorKind::UnknownStream, &name.text, name.pos))?;
            let stream = &plan.streams[id];
            if stream.kind == StreamKind::Error {
                // AWS's error_stream belongs to the system: code cannot read it, only an
                // output can take its rows (DG error-handling). Reading it would also
                // feed a failing pump its own errors.
                return Err(unsupported(
                    format!("reading {} (configure it as an output instead)", stream.name),
                    name.pos,
                ));
            }
            let mut qualifiers = vec![stream.name.clone()];
            qualifiers.extend(alias.iter().map(|alias| alias.text.clone()));
            let columns = stream
                .columns
                .iter()
                .map(|column| ScopeColumn {
                    name: column.name.clone(),
                    ty: column.sql_type,
                    hidden: stream.kind == StreamKind::Input && column.name == APPROXIMATE_ARRIVAL_TIME,
                })
                .collect();
            (Source::Stream(id), Scope { qualifiers, columns })
        }
        From::Subquery { query: inner, alias, .. } => {
            let (inner_query, output) = select(plan, inner)?;
            let columns = output.into_iter().map(|(name, ty)| ScopeColumn { name, ty, hidden: false }).collect();
            let qualifiers = alias.iter().map(|alias| alias.text.clone()).collect();
            (Source::Subquery(Box::new(inner_query)), Scope { qualifiers, columns })
        }
    };
    let mut lowering = Lowering { scope: &scope, group: None, grouped: !query.group_by.is_empty() };
    let filter = match &query.filter {
        Some(filter) => Some(lowering.condition(filter, "WHERE")?),
        None => None,
    };
    let has_aggregate =
        query.items.iter().any(|item| matches!(item, SelectItem::Expr { expr, .. } if contains_aggregate(expr)))
            || query.having.as_ref().is_some_and(contains_aggregate);
    if query.group_by.is_empty() {
        if let Some(having) = &query.having {
            return Err(error(CodeErrorKind::AggregateWithoutGroupBy, "HAVING", having.pos));
        }
        if has_aggregate {
            let pos = query.items.iter().find_map(aggregate_pos).unwrap_or(query.pos);
            return Err(error(CodeErrorKind::AggregateWithoutGroupBy, "aggregate", pos));
        }
        let (exprs, output) = projection(&mut lowering, &query.items)?;
        return Ok((Query { source, filter, shape: QueryShape::Project(exprs) }, output));
    }
    let group = group_context(&mut lowering, &query.group_by)?;
    lowering.group = Some(group);
    let (output_exprs, output) = projection(&mut lowering, &query.items)?;
    let having = match &query.having {
        Some(having) => Some(lowering.condition(having, "HAVING")?),
        None => None,
    };
    let Some(group) = lowering.group.take() else {
        return Err(unsupported("GROUP BY", query.pos));
    };
    let aggregate = AggregatePlan {
        progress: group.progress,
        keys: group.keys.into_iter().skip(1).collect(),
        aggregates: group.aggregates,
        having,
        output: output_exprs,
    };
    Ok((Query { source, filter, shape: QueryShape::Aggregate(aggregate) }, output))
}

fn projection(lowering: &mut Lowering<'_>, items: &[SelectItem]) -> Resolved<(Vec<Expr>, Output)> {
    let mut exprs = Vec::new();
    let mut output: Output = Vec::new();
    for item in items {
        match item {
            SelectItem::Wildcard { qualifier, pos } => {
                if let Some(qualifier) = qualifier {
                    if !lowering.scope.qualifiers.contains(&qualifier.text) {
                        return Err(error(CodeErrorKind::UnknownStream, &qualifier.text, qualifier.pos));
                    }
                }
                for (index, column) in lowering.scope.columns.iter().enumerate() {
                    if column.hidden {
                        continue;
                    }
                    let ast_column = ast::Expr {
                        kind: ast::ExprKind::Identifier(vec![Name { text: column.name.clone(), pos: *pos }]),
                        pos: *pos,
                    };
                    let expr = match lowering.group {
                        Some(_) => lowering.lower(&ast_column)?,
                        None => Expr { kind: ExprKind::Column(index), ty: column.ty },
                    };
                    output.push((column.name.clone(), expr.ty));
                    exprs.push(expr);
                }
            }
            SelectItem::Expr { expr, alias } => {
                let lowered = lowering.lower(expr)?;
                let name = match (alias, &expr.kind) {
                    (Some(alias), _) => alias.text.clone(),
                    (None, ast::ExprKind::Identifier(parts)) => {
                        parts.last().map(|part| part.text.clone()).unwrap_or_default()
                    }
                    // Calcite's name for an unnamed expression, which SQLstream (KDA's engine) keeps.
                    (None, _) => format!("EXPR${}", output.len()),
                };
                output.push((name, lowered.ty));
                exprs.push(lowered);
            }
        }
    }
    Ok((exprs, output))
}

fn aggregate_pos(item: &SelectItem) -> Option<Pos> {
    match item {
        SelectItem::Expr { expr, .. } if contains_aggregate(expr) => Some(expr.pos),
        _ => None,
    }
}

/// The GROUP BY of a query: the progress key first, then the other keys, and the
/// aggregates found while lowering the SELECT list and HAVING.
pub(super) struct GroupContext {
    pub(super) progress: ProgressKey,
    /// Every grouping expression as lowered over the source row, the progress key's
    /// first: group row column `i` holds `keys[i]`.
    pub(super) keys: Vec<Expr>,
    pub(super) aggregates: Vec<AggregateCall>,
}

fn group_context(lowering: &mut Lowering<'_>, group_by: &[ast::Expr]) -> Resolved<GroupContext> {
    let mut lowered = Vec::with_capacity(group_by.len());
    let mut progress: Option<(usize, ProgressKey)> = None;
    for (index, expr) in group_by.iter().enumerate() {
        let key = lowering.lower(expr)?;
        if progress.is_none() {
            if let Some(found) = progress_key(expr, &key)? {
                progress = Some((index, found));
            }
        }
        lowered.push(key);
    }
    let Some((index, progress)) = progress else {
        let pos = group_by.first().map_or(Pos::default(), |expr| expr.pos);
        return Err(error(CodeErrorKind::NoProgressKey, "GROUP BY", pos));
    };
    let progress_expr = lowered.remove(index);
    let mut keys = vec![progress_expr];
    keys.extend(lowered);
    Ok(GroupContext { progress, keys, aggregates: Vec::new() })
}

/// `STEP(ROWTIME BY INTERVAL …)`, `FLOOR(ROWTIME TO unit)`, `MONOTONIC(e)` and
/// `STEP(MONOTONIC(e) BY n)` move with time, and so do ROWTIME itself and
/// `CEIL(ROWTIME TO unit)` (monotonic, SQLREF GROUP BY); other keys (an event-time
/// column's STEP, as in AWS's "two windows" pattern) are ordinary keys.
fn progress_key(expr: &ast::Expr, key: &Expr) -> Resolved<Option<ProgressKey>> {
    if key.kind == ExprKind::Rowtime {
        return Ok(Some(ProgressKey::Monotonic(key.clone())));
    }
    match &expr.kind {
        ast::ExprKind::Call { name, args } if name == "MONOTONIC" && args.len() == 1 => {
            Ok(Some(ProgressKey::Monotonic(key.clone())))
        }
        ast::ExprKind::Step { operand, .. } => {
            if let ast::ExprKind::Call { name, args } = &operand.kind {
                if name == "MONOTONIC" && args.len() == 1 {
                    return Ok(Some(ProgressKey::Monotonic(key.clone())));
                }
            }
            match &key.kind {
                ExprKind::Call { args, .. } => match args.as_slice() {
                    [Expr { kind: ExprKind::Rowtime, .. }, Expr { kind: ExprKind::Literal(Value::Interval(width_ms)), .. }] =>
                    {
                        if *width_ms <= 0 {
                            return Err(error(CodeErrorKind::Type("a positive STEP width".into()), "STEP", expr.pos));
                        }
                        Ok(Some(ProgressKey::Step { expr: args[0].clone(), width_ms: *width_ms }))
                    }
                    _ => Ok(None),
                },
                _ => Ok(None),
            }
        }
        ast::ExprKind::RoundTo { ceil, unit, .. } => match &key.kind {
            ExprKind::Call { args, .. } if matches!(args.as_slice(), [Expr { kind: ExprKind::Rowtime, .. }]) => {
                if *ceil {
                    Ok(Some(ProgressKey::Monotonic(key.clone())))
                } else {
                    Ok(Some(ProgressKey::Floor { expr: args[0].clone(), unit: *unit }))
                }
            }
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

pub(super) fn contains_aggregate(expr: &ast::Expr) -> bool {
    use ast::ExprKind as K;
    match &expr.kind {
        K::CountStar => true,
        K::Call { name, args } => aggregate_function(name).is_some() || args.iter().any(contains_aggregate),
        K::Identifier(_) | K::Literal(..) | K::CurrentRowTimestamp => false,
        K::Unary(_, operand)
        | K::IsNull { operand, .. }
        | K::Cast { operand, .. }
        | K::RoundTo { operand, .. }
        | K::Extract { operand, .. } => contains_aggregate(operand),
        K::Binary(_, left, right) => contains_aggregate(left) || contains_aggregate(right),
        K::Case { operand, branches, otherwise } => {
            operand.as_deref().is_some_and(contains_aggregate)
                || branches.iter().any(|(when, then)| contains_aggregate(when) || contains_aggregate(then))
                || otherwise.as_deref().is_some_and(contains_aggregate)
        }
        K::Pattern { operand, pattern, escape, .. } => {
            contains_aggregate(operand)
                || contains_aggregate(pattern)
                || escape.as_deref().is_some_and(contains_aggregate)
        }
        K::InList { operand, list, .. } => contains_aggregate(operand) || list.iter().any(contains_aggregate),
        K::Between { operand, low, high, .. } => {
            contains_aggregate(operand) || contains_aggregate(low) || contains_aggregate(high)
        }
        K::Step { operand, width } => contains_aggregate(operand) || contains_aggregate(width),
        K::Trim { characters, operand, .. } => {
            contains_aggregate(operand) || characters.as_deref().is_some_and(contains_aggregate)
        }
    }
}

pub(super) fn aggregate_function(name: &str) -> Option<AggregateFunction> {
    match name {
        "COUNT" => Some(AggregateFunction::Count),
        "SUM" => Some(AggregateFunction::Sum),
        "AVG" => Some(AggregateFunction::Avg),
        "MIN" => Some(AggregateFunction::Min),
        "MAX" => Some(AggregateFunction::Max),
        _ => None,
    }
}
