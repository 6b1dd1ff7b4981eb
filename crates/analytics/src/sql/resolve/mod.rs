//! From parsed statements to the plan: streams and pumps by name, columns by index,
//! every expression typed, aggregates and the progress key of a streaming GROUP BY.
//! Statements here; queries (scopes, projections, GROUP BY) in [`query`]; expressions
//! and their types in [`lower`].

mod lower;
mod query;

use std::collections::HashSet;

use crate::error::{CodeError, CodeErrorKind};
use crate::functions::types;
use crate::plan::{
    error_stream_columns, AppPlan, ColumnDef, PumpPlan, Query, QueryShape, Source, StreamDef, StreamKind, ERROR_STREAM,
};
use crate::sql::ast::{CreatePump, CreateStream, Statement};
use crate::sql::lexer::Pos;
use crate::sql::parser::unsupported;
use crate::sql::InputCatalog;

use lower::is_null_literal;
use query::select;

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
    let exprs = match &query.shape {
        QueryShape::Project(exprs) => exprs,
        QueryShape::Aggregate(aggregate) => &aggregate.output,
    };
    for (column, ((index, (name, ty)), expr)) in target_columns.iter().zip(&output).zip(exprs).enumerate() {
        let target_column = &target_def.columns[*index];
        if !types::assignable(*ty, target_column.sql_type) && !is_null_literal(expr) {
            let message = format!(
                "column {} of the SELECT ({name}, {}) does not fit {} {}",
                column + 1,
                ty,
                target_column.name,
                target_column.sql_type
            );
            return Err(error(CodeErrorKind::InsertMismatch, &message, create.query.pos));
        }
    }
    // A NOT NULL column the INSERT leaves out would fail on every row: refused now.
    if let Some(missing) =
        target_def.columns.iter().enumerate().find(|(index, column)| column.not_null && !target_columns.contains(index))
    {
        let message = format!("INSERT INTO {} leaves out NOT NULL column {}", target_def.name, missing.1.name);
        return Err(error(CodeErrorKind::InsertMismatch, &message, create.target.pos));
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

fn error(kind: CodeErrorKind, construct: &str, pos: Pos) -> CodeError {
    CodeError { kind, construct: construct.to_owned(), line: pos.line, column: pos.column }
}

fn type_mismatch(message: String, pos: Pos) -> CodeError {
    CodeError { kind: CodeErrorKind::Type(message.clone()), construct: message, line: pos.line, column: pos.column }
}
