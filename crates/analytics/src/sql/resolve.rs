//! From parsed statements to the plan: streams and pumps by name, columns by index,
//! every expression typed, aggregates and the progress key of a streaming GROUP BY.

use std::collections::HashSet;

use super::ast::{self, CreatePump, CreateStream, From, Name, Select, SelectItem, Statement};
use super::lexer::Pos;
use super::parser::unsupported;
use super::InputCatalog;
use crate::error::{CodeError, CodeErrorKind};
use crate::functions::{types, ScalarFunction};
use crate::plan::{
    error_stream_columns, AggregateCall, AggregateFunction, AggregatePlan, AppPlan, BinaryOp, ColumnDef, Expr,
    ExprKind, ProgressKey, PumpPlan, Query, QueryShape, Source, StreamDef, StreamKind, UnaryOp,
    APPROXIMATE_ARRIVAL_TIME, ERROR_STREAM,
};
use crate::value::{SqlType, Value};

type Resolved<T> = Result<T, CodeError>;

/// Aggregates KDA has and Rheo does not run yet, refused by name.
const REFUSED_AGGREGATES: &[&str] = &[
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "VAR_POP",
    "VAR_SAMP",
    "VARIANCE",
    "EXP_AVG",
    "FIRST_VALUE",
    "LAST_VALUE",
    "NTH_VALUE",
    "LAG",
    "LEAD",
    "ANY",
    "EVERY",
    "SOME",
    "TOP_K_ITEMS_TUMBLING",
    "COUNT_DISTINCT_ITEMS_TUMBLING",
    "RANDOM_CUT_FOREST",
    "RANDOM_CUT_FOREST_WITH_EXPLANATION",
    "HOTSPOTS",
    "GROUP_RANK",
];

pub fn resolve(statements: &[Statement], inputs: &InputCatalog) -> Resolved<AppPlan> {
    let mut plan = AppPlan { streams: Vec::new(), pumps: Vec::new() };
    for input in &inputs.streams {
        plan.streams.push(StreamDef {
            name: input.name.clone(),
            kind: StreamKind::Input,
            columns: input.columns.clone(),
            line: 0,
        });
    }
    plan.streams.push(StreamDef {
        name: ERROR_STREAM.to_owned(),
        kind: StreamKind::Error,
        columns: error_stream_columns(),
        line: 0,
    });
    let mut pump_names = HashSet::new();
    for statement in statements {
        match statement {
            Statement::CreateStream(create) => create_stream(&mut plan, create)?,
            Statement::CreatePump(create) => {
                if !pump_names.insert(create.name.text.clone()) {
                    return Err(error(CodeErrorKind::DuplicateName, &create.name.text, create.name.pos));
                }
                let pump = create_pump(&plan, create)?;
                plan.pumps.push(pump);
            }
        }
    }
    refuse_cycles(&plan, statements)?;
    Ok(plan)
}

fn create_stream(plan: &mut AppPlan, create: &CreateStream) -> Resolved<()> {
    if plan.stream_id(&create.name.text).is_some() {
        return Err(error(CodeErrorKind::DuplicateName, &create.name.text, create.name.pos));
    }
    let mut columns: Vec<ColumnDef> = Vec::with_capacity(create.columns.len());
    for column in &create.columns {
        if column.name.text.eq_ignore_ascii_case("ROWTIME") || columns.iter().any(|c| c.name == column.name.text) {
            return Err(error(CodeErrorKind::DuplicateName, &column.name.text, column.name.pos));
        }
        columns.push(ColumnDef {
            name: column.name.text.clone(),
            sql_type: column.sql_type,
            not_null: column.not_null,
        });
    }
    plan.streams.push(StreamDef {
        name: create.name.text.clone(),
        kind: StreamKind::Created,
        columns,
        line: create.pos.line,
    });
    Ok(())
}

fn create_pump(plan: &AppPlan, create: &CreatePump) -> Resolved<PumpPlan> {
    let target = plan
        .stream_id(&create.target.text)
        .ok_or_else(|| error(CodeErrorKind::UnknownStream, &create.target.text, create.target.pos))?;
    let target_def = &plan.streams[target];
    if target_def.kind != StreamKind::Created {
        return Err(unsupported(
            format!("INSERT INTO {} (only streams the code creates take pump rows)", target_def.name),
            create.target.pos,
        ));
    }
    let (query, output) = select(plan, &create.query)?;
    let target_columns: Vec<usize> = match &create.columns {
        Some(names) => {
            let mut indexes = Vec::with_capacity(names.len());
            for name in names {
                let index = target_def
                    .columns
                    .iter()
                    .position(|column| column.name == name.text)
                    .ok_or_else(|| error(CodeErrorKind::UnknownColumn, &name.text, name.pos))?;
                if indexes.contains(&index) {
                    return Err(error(CodeErrorKind::DuplicateName, &name.text, name.pos));
                }
                indexes.push(index);
            }
            indexes
        }
        None => (0..target_def.columns.len()).collect(),
    };
    if target_columns.len() != output.len() {
        let message = format!(
            "INSERT INTO {} names {} columns, the SELECT gives {}",
            target_def.name,
            target_columns.len(),
            output.len()
        );
        return Err(error(CodeErrorKind::InsertMismatch, &message, create.query.pos));
    }
    for (column, (index, (name, ty))) in target_columns.iter().zip(&output).enumerate() {
        let target_column = &target_def.columns[*index];
        if !types::assignable(*ty, target_column.sql_type) {
            let message = format!(
                "column {} of the SELECT ({name}, {}) does not fit {} {}",
                column + 1,
                types::display(*ty),
                target_column.name,
                types::display(target_column.sql_type)
            );
            return Err(error(CodeErrorKind::InsertMismatch, &message, create.query.pos));
        }
    }
    Ok(PumpPlan { name: create.name.text.clone(), target, target_columns, query, line: create.pos.line })
}

/// A pump feeding a stream it reads from (directly or through other pumps) would push
/// rows around forever: refused.
fn refuse_cycles(plan: &AppPlan, statements: &[Statement]) -> Resolved<()> {
    let edges: Vec<(Vec<usize>, usize)> = plan.pumps.iter().map(|pump| (sources(&pump.query), pump.target)).collect();
    for (index, pump) in plan.pumps.iter().enumerate() {
        // Streams reachable from this pump's target; reaching one of its sources closes a cycle.
        let mut reached = vec![pump.target];
        let mut frontier = vec![pump.target];
        while let Some(stream) = frontier.pop() {
            for (sources, target) in &edges {
                if sources.contains(&stream) && !reached.contains(target) {
                    reached.push(*target);
                    frontier.push(*target);
                }
            }
        }
        if edges[index].0.iter().any(|source| reached.contains(source)) {
            let pos = statements
                .iter()
                .filter_map(|statement| match statement {
                    Statement::CreatePump(create) if create.name.text == pump.name => Some(create.pos),
                    _ => None,
                })
                .next()
                .unwrap_or_default();
            return Err(unsupported(format!("pump {} feeding a stream it reads (a cycle)", pump.name), pos));
        }
    }
    Ok(())
}

fn sources(query: &Query) -> Vec<usize> {
    match &query.source {
        Source::Stream(id) => vec![*id],
        Source::Subquery(inner) => sources(inner),
    }
}

/// The columns a query's FROM item offers, and the names that qualify them.
struct Scope {
    qualifiers: Vec<String>,
    columns: Vec<ScopeColumn>,
}

struct ScopeColumn {
    name: String,
    ty: SqlType,
    /// Left out of `SELECT *` (APPROXIMATE_ARRIVAL_TIME).
    hidden: bool,
}

/// A query's output columns: name and type.
type Output = Vec<(String, SqlType)>;

fn select(plan: &AppPlan, query: &Select) -> Resolved<(Query, Output)> {
    let (source, scope) = match &query.from {
        From::Stream { name, alias } => {
            let id =
                plan.stream_id(&name.text).ok_or_else(|| error(CodeErrorKind::UnknownStream, &name.text, name.pos))?;
            let stream = &plan.streams[id];
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
struct GroupContext {
    progress: ProgressKey,
    /// Every grouping expression as lowered over the source row, the progress key's
    /// first: group row column `i` holds `keys[i]`.
    keys: Vec<Expr>,
    aggregates: Vec<AggregateCall>,
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
/// `STEP(MONOTONIC(e) BY n)` move with time; other keys (an event-time column's STEP,
/// as in AWS's "two windows" pattern) are ordinary keys.
fn progress_key(expr: &ast::Expr, key: &Expr) -> Resolved<Option<ProgressKey>> {
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
        ast::ExprKind::RoundTo { ceil: false, unit, .. } => match &key.kind {
            ExprKind::Call { args, .. } if matches!(args.as_slice(), [Expr { kind: ExprKind::Rowtime, .. }]) => {
                Ok(Some(ProgressKey::Floor { expr: args[0].clone(), unit: *unit }))
            }
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

fn contains_aggregate(expr: &ast::Expr) -> bool {
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

fn aggregate_function(name: &str) -> Option<AggregateFunction> {
    match name {
        "COUNT" => Some(AggregateFunction::Count),
        "SUM" => Some(AggregateFunction::Sum),
        "AVG" => Some(AggregateFunction::Avg),
        "MIN" => Some(AggregateFunction::Min),
        "MAX" => Some(AggregateFunction::Max),
        _ => None,
    }
}

/// Lowers expressions over one scope: the source row, or (with `group`) the group row.
struct Lowering<'s> {
    scope: &'s Scope,
    group: Option<GroupContext>,
    /// The query has a GROUP BY (so an aggregate outside SELECT/HAVING is misplaced,
    /// not missing its GROUP BY).
    grouped: bool,
}

impl Lowering<'_> {
    /// A WHERE or HAVING condition: BOOLEAN.
    fn condition(&mut self, expr: &ast::Expr, clause: &str) -> Resolved<Expr> {
        let lowered = self.lower(expr)?;
        if lowered.ty != SqlType::Boolean {
            return Err(type_mismatch(
                format!("{clause} needs a BOOLEAN, not {}", types::display(lowered.ty)),
                expr.pos,
            ));
        }
        Ok(lowered)
    }

    fn lower(&mut self, expr: &ast::Expr) -> Resolved<Expr> {
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
                    return Err(type_mismatch(format!("{op:?} of {}", types::display(operand.ty)), pos));
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
                    return Err(type_mismatch(
                        format!("CAST from {} to {}", types::display(operand.ty), types::display(*to)),
                        pos,
                    ));
                }
                let operand = with_type(operand, *to);
                Ok(Expr { kind: ExprKind::Cast { operand: Box::new(operand), to: *to }, ty: *to })
            }
            K::Pattern { kind, operand, pattern, escape, negated } => {
                let operand = self.lower(operand)?;
                let pattern = self.lower(pattern)?;
                for side in [&operand, &pattern] {
                    if !types::is_string(side.ty) && !is_null_literal(side) {
                        return Err(type_mismatch(format!("{kind:?} of {}", types::display(side.ty)), pos));
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
                let mut ty = operand.ty;
                let mut lowered = Vec::with_capacity(list.len());
                for item in list {
                    let item = self.lower(item)?;
                    ty = self.unify(ty, &item, "IN list", item_pos_of(list, lowered.len(), pos))?;
                    lowered.push(item);
                }
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
                let ty = self.unify(operand.ty, &low, "BETWEEN", pos)?;
                let ty = self.unify(ty, &high, "BETWEEN", pos)?;
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
            return Ok(Expr { kind: ExprKind::Rowtime, ty: SqlType::Timestamp });
        }
        if self.group.is_some() {
            // Reached only when the column is not a grouping key.
            return Err(type_mismatch(format!("{} is neither grouped nor aggregated", column.text), column.pos));
        }
        let mut matches = self.scope.columns.iter().enumerate().filter(|(_, candidate)| candidate.name == column.text);
        match (matches.next(), matches.next()) {
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
                    return Err(type_mismatch(
                        format!("{op:?} of {} and {}", types::display(left.ty), types::display(right.ty)),
                        pos,
                    ));
                }
                SqlType::Boolean
            }
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                if !types::comparable(left.ty, right.ty) {
                    return Err(type_mismatch(
                        format!("comparing {} with {}", types::display(left.ty), types::display(right.ty)),
                        pos,
                    ));
                }
                SqlType::Boolean
            }
            _ => types::arithmetic(op, left.ty, right.ty).ok_or_else(|| {
                type_mismatch(format!("{op:?} of {} and {}", types::display(left.ty), types::display(right.ty)), pos)
            })?,
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
                            format!(
                                "CASE compares {} with {}",
                                types::display(operand.ty),
                                types::display(when_lowered.ty)
                            ),
                            when.pos,
                        ));
                    }
                }
                None => {
                    if when_lowered.ty != SqlType::Boolean && !is_null_literal(&when_lowered) {
                        return Err(type_mismatch(
                            format!("WHEN needs a BOOLEAN, not {}", types::display(when_lowered.ty)),
                            when.pos,
                        ));
                    }
                }
            }
            let then_lowered = self.lower(then)?;
            result_ty = Some(self.branch_type(result_ty, &then_lowered, then.pos)?);
            lowered.push((when_lowered, then_lowered));
        }
        let otherwise = match otherwise {
            Some(otherwise) => {
                let lowered_else = self.lower(otherwise)?;
                result_ty = Some(self.branch_type(result_ty, &lowered_else, otherwise.pos)?);
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

    /// The common type of the branches so far and one more.
    fn branch_type(&self, so_far: Option<SqlType>, next: &Expr, pos: Pos) -> Resolved<SqlType> {
        match so_far {
            None => Ok(next.ty),
            Some(ty) => self.unify(ty, next, "CASE branches", pos),
        }
    }

    /// The common type of `ty` and `next`'s; a NULL literal takes any type.
    fn unify(&self, ty: SqlType, next: &Expr, what: &str, pos: Pos) -> Resolved<SqlType> {
        if is_null_literal(next) {
            return Ok(ty);
        }
        if ty == NULL_TYPE {
            return Ok(next.ty);
        }
        types::common_type(ty, next.ty).ok_or_else(|| {
            type_mismatch(format!("{what} mix {} and {}", types::display(ty), types::display(next.ty)), pos)
        })
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
        let ty =
            function.result_type(&arg_types).map_err(|message| type_mismatch(format!("{name}: {message}"), pos))?;
        Ok(Expr { kind: ExprKind::Call { function, args }, ty })
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

/// The type a NULL literal has before its context gives it one.
const NULL_TYPE: SqlType = SqlType::Varchar(1);

fn aggregate_type(function: AggregateFunction, arg: Option<&Expr>, pos: Pos) -> Resolved<SqlType> {
    let Some(arg) = arg else {
        return Ok(SqlType::BigInt);
    };
    match function {
        AggregateFunction::Count => Ok(SqlType::BigInt),
        AggregateFunction::Sum | AggregateFunction::Avg => {
            if !types::is_numeric(arg.ty) {
                return Err(type_mismatch(format!("{function:?} of {}", types::display(arg.ty)).to_uppercase(), pos));
            }
            // SUM of integers is BIGINT so that sums of INTEGER columns do not overflow
            // at 2^31; AVG keeps the argument's type (KDA truncates integer averages).
            Ok(if function == AggregateFunction::Sum && types::is_integer(arg.ty) { SqlType::BigInt } else { arg.ty })
        }
        AggregateFunction::Min | AggregateFunction::Max => {
            if arg.ty == SqlType::Boolean || types::is_binary(arg.ty) {
                return Err(type_mismatch(format!("{function:?} of {}", types::display(arg.ty)).to_uppercase(), pos));
            }
            Ok(arg.ty)
        }
    }
}

fn is_null_literal(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Literal(Value::Null))
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

fn error(kind: CodeErrorKind, construct: &str, pos: Pos) -> CodeError {
    CodeError { kind, construct: construct.to_owned(), line: pos.line, column: pos.column }
}

fn type_mismatch(message: String, pos: Pos) -> CodeError {
    CodeError { kind: CodeErrorKind::Type(message.clone()), construct: message, line: pos.line, column: pos.column }
}
