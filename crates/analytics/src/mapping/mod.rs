//! Records to rows (JSON with JSONPath mappings, CSV with delimiters) and rows to records
//! (JSON or CSV, as an output's `DestinationSchema` says). Bad records never fail the
//! application: they become `error_stream` rows.

use crate::config::{OutputFormat, SourceSchemaDef};
use crate::plan::ColumnDef;
use crate::value::{ErrorRow, Row};

/// Why a schema cannot be used (a bad JSONPath, an empty delimiter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingConfigError(pub String);

/// Maps the records of one input.
pub struct RecordMapper {
    // SKELETON: replaced by the mapping.
    _columns: usize,
}

impl RecordMapper {
    pub fn new(schema: &SourceSchemaDef) -> Result<Self, MappingConfigError> {
        Ok(RecordMapper { _columns: schema.columns.len() })
    }

    /// Maps one record into zero or more rows (a JSON array flattened by the row path
    /// gives several), stamped with `rowtime_ms` and `epoch`; the input stream's columns
    /// are the schema's columns followed by
    /// [`crate::plan::APPROXIMATE_ARRIVAL_TIME`] (`arrival_ms`).
    pub fn map(
        &mut self,
        data: &[u8],
        arrival_ms: i64,
        rowtime_ms: i64,
        epoch: u32,
        rows: &mut Vec<Row>,
        errors: &mut Vec<ErrorRow>,
    ) {
        let _ = (data, arrival_ms, rowtime_ms, epoch, rows, errors);
    }
}

/// Writes rows of one in-application stream as output records.
pub struct RowEncoder {
    // SKELETON: replaced by the mapping.
    _format: OutputFormat,
}

impl RowEncoder {
    pub fn new(format: OutputFormat, columns: &[ColumnDef]) -> Self {
        let _ = columns;
        RowEncoder { _format: format }
    }

    /// Appends one record's bytes for `row` to `out`.
    pub fn encode(&self, row: &Row, out: &mut Vec<u8>) {
        let _ = (row, out);
    }
}
