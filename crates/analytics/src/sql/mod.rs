//! The compiler from application code to an [`AppPlan`]. sqlparser's tokenizer reads the
//! code (strings, quoted identifiers, comments, locations); a recursive-descent parser of
//! our own reads the KDA dialect from those tokens (`SELECT STREAM`, `CREATE STREAM`,
//! `CREATE PUMP`, `STEP … BY`), accepting only what Rheo runs; then names are resolved
//! and types checked. Whatever the dialect has and Rheo does not run is refused with the
//! construct, its line and column, never accepted and ignored.

mod ast;
mod lexer;
mod literal;
mod parser;
mod resolve;
#[cfg(test)]
mod tests;

use crate::error::{CodeError, CodeErrorKind};
use crate::plan::{AppPlan, ColumnDef};

/// The in-application streams the inputs create, which the code reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputCatalog {
    pub streams: Vec<InputStreamDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputStreamDef {
    /// The exact name, e.g. `SOURCE_SQL_STREAM_001`.
    pub name: String,
    /// The schema's columns, then [`crate::plan::APPROXIMATE_ARRIVAL_TIME`] (TIMESTAMP).
    pub columns: Vec<ColumnDef>,
}

/// Compiles application code against the inputs' streams.
pub fn compile(code: &str, inputs: &InputCatalog) -> Result<AppPlan, CodeError> {
    let tokens = lexer::tokenize(code)?;
    let statements = parser::Parser::new(tokens).parse_script()?;
    resolve::resolve(&statements, inputs)
}

/// Parses a column type as `RecordColumns[].SqlType` and CREATE STREAM write it
/// (`VARCHAR(16)`, `DECIMAL(10,2)`, `TIMESTAMP`, case-insensitive).
pub fn parse_sql_type(text: &str) -> Result<crate::value::SqlType, String> {
    let describe = |error: CodeError| match error.kind {
        CodeErrorKind::Syntax(message) | CodeErrorKind::Type(message) => format!("SQL type {text}: {message}"),
        _ => format!("SQL type {text}: unsupported {}", error.construct),
    };
    let tokens = lexer::tokenize(text).map_err(describe)?;
    parser::Parser::new(tokens).parse_type_only().map_err(describe)
}
