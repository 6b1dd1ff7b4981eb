//! The compiler from application code to an [`AppPlan`]: `sqlparser` with a dialect layer
//! of our own for what KDA's dialect adds (`SELECT STREAM`, `CREATE STREAM`, `CREATE PUMP`,
//! `STEP`), then name resolution and typing. Whatever the dialect has and Rheo does not
//! run is refused with the construct and its line, never accepted and ignored.

use crate::error::CodeError;
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
    // SKELETON: replaced by the SQL front end.
    let _ = (code, inputs);
    Err(CodeError { kind: crate::error::CodeErrorKind::Unsupported, construct: "SQL".into(), line: 0, column: 0 })
}

/// Parses a column type as `RecordColumns[].SqlType` and CREATE STREAM write it
/// (`VARCHAR(16)`, `DECIMAL(10,2)`, `TIMESTAMP`, case-insensitive).
pub fn parse_sql_type(text: &str) -> Result<crate::value::SqlType, String> {
    // SKELETON: replaced by the SQL front end.
    Err(format!("unknown SQL type {text}"))
}
