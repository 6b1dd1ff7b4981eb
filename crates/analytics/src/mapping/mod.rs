//! Records to rows (JSON with JSONPath mappings, CSV with delimiters) and rows to records
//! (JSON or CSV, as an output's `DestinationSchema` says). Bad records never fail the
//! application: they become `error_stream` rows.
//!
//! - `jsonpath`: the JSONPath subset of column mappings;
//! - `json`: the single-pass JSON extractor (no DOM) and array flattening;
//! - `csv`: row and column splitting;
//! - `coerce`: record values into the declared SQL types (the guide's table);
//! - `datetime`: DATE/TIME/TIMESTAMP text in and out;
//! - `encode`: rows into output records;
//! - [`infer`]: a schema from sampled records (DiscoverInputSchema).

mod coerce;
mod csv;
mod datetime;
mod encode;
pub mod infer;
mod json;
mod jsonpath;

use bytes::Bytes;

use crate::config::{RecordFormat, SourceSchemaDef};
use crate::limits::ROW_BYTES_MAX;
use crate::value::{ErrorKind, ErrorRow, Row, Value};

pub use encode::RowEncoder;

use self::csv::CsvShape;
use self::json::{Extraction, JsonShape, Slot};

/// The most rows one record's flattened array yields; a record with more goes to
/// `error_stream` whole (it bounds the memory one record can take, whatever its size).
pub const FLATTENED_ROWS_PER_RECORD_MAX: usize = 10_000;

/// The first bytes of a KPL-aggregated record: KDA reads them only through a Lambda
/// preprocessor, which Rheo does not run, so they are refused as unparseable.
const KPL_MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// Why a schema cannot be used (a bad JSONPath, an empty delimiter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingConfigError(pub String);

#[derive(Debug)]
enum Shape {
    Json { shape: JsonShape, extraction: Extraction },
    Csv { shape: CsvShape, slots: Vec<Slot> },
}

/// Maps the records of one input.
#[derive(Debug)]
pub struct RecordMapper {
    names: Vec<String>,
    shape: Shape,
}

/// What one record is mapped with: the batch's stamps.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    arrival_ms: i64,
    rowtime_ms: i64,
    epoch: u32,
}

impl Stamp {
    fn error(&self, kind: ErrorKind, message: String, data: Bytes) -> ErrorRow {
        ErrorRow {
            kind,
            message,
            error_time_ms: self.rowtime_ms,
            data_rowtime_ms: Some(self.rowtime_ms),
            data,
            pump: None,
            epoch: self.epoch,
        }
    }
}

/// Bytes a value takes in a row, for the row size limit.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Str(bytes) | Value::Bin(bytes) => bytes.len(),
        Value::Decimal(..) => 16,
        _ => 8,
    }
}

impl RecordMapper {
    pub fn new(schema: &SourceSchemaDef) -> Result<Self, MappingConfigError> {
        if schema.columns.is_empty() {
            return Err(MappingConfigError("the schema has no columns".into()));
        }
        if let Some(column) =
            schema.columns.iter().find(|column| column.sql_type == crate::value::SqlType::IntervalDayTime)
        {
            return Err(MappingConfigError(format!("column {:?}: INTERVAL is not an input column type", column.name)));
        }
        let shape = match &schema.format {
            RecordFormat::Json { row_path } => {
                Shape::Json { shape: JsonShape::new(row_path, &schema.columns)?, extraction: Extraction::default() }
            }
            RecordFormat::Csv { row_delimiter, column_delimiter } => Shape::Csv {
                shape: CsvShape::new(row_delimiter, column_delimiter, &schema.columns)?,
                slots: Vec::new(),
            },
        };
        Ok(RecordMapper { names: schema.columns.iter().map(|column| column.name.clone()).collect(), shape })
    }

    /// Maps one record into zero or more rows (a JSON array flattened by the row path
    /// gives several), stamped with `rowtime_ms` and `epoch`; the input stream's columns
    /// are the schema's columns followed by
    /// [`crate::plan::APPROXIMATE_ARRIVAL_TIME`] (`arrival_ms`). Copies the record once;
    /// [`RecordMapper::map_bytes`] does not.
    pub fn map(
        &mut self,
        data: &[u8],
        arrival_ms: i64,
        rowtime_ms: i64,
        epoch: u32,
        rows: &mut Vec<Row>,
        errors: &mut Vec<ErrorRow>,
    ) {
        self.map_bytes(&Bytes::copy_from_slice(data), arrival_ms, rowtime_ms, epoch, rows, errors);
    }

    /// [`RecordMapper::map`] of a record already in a `Bytes` (as readers return them):
    /// string values become slices of it, so nothing is copied.
    pub fn map_bytes(
        &mut self,
        data: &Bytes,
        arrival_ms: i64,
        rowtime_ms: i64,
        epoch: u32,
        rows: &mut Vec<Row>,
        errors: &mut Vec<ErrorRow>,
    ) {
        let stamp = Stamp { arrival_ms, rowtime_ms, epoch };
        if data.starts_with(&KPL_MAGIC) {
            let message = "a KPL-aggregated record cannot be read without a Lambda preprocessor".to_string();
            errors.push(stamp.error(ErrorKind::Parse, message, data.clone()));
            return;
        }
        match &mut self.shape {
            Shape::Json { shape, extraction } => {
                if let Err(error) = shape.extract(data, extraction) {
                    errors.push(stamp.error(ErrorKind::Parse, format!("not a JSON record: {error}"), data.clone()));
                    return;
                }
                if extraction.too_many_elements {
                    let message = format!("a flattened array has more than {FLATTENED_ROWS_PER_RECORD_MAX} elements");
                    errors.push(stamp.error(ErrorKind::ResourceLimit, message, data.clone()));
                    return;
                }
                json_rows(&self.names, shape, extraction, &stamp, data, rows, errors);
            }
            Shape::Csv { shape, slots } => {
                let Ok(text) = std::str::from_utf8(data) else {
                    errors.push(stamp.error(ErrorKind::Parse, "the record is not UTF-8".into(), data.clone()));
                    return;
                };
                for row in shape.rows(text) {
                    shape.extract(row, data, slots);
                    let row_data = coerce::share(data, row);
                    push_row(&self.names, slots.drain(..), &stamp, &row_data, rows, errors);
                }
            }
        }
    }
}

fn json_rows(
    names: &[String],
    shape: &JsonShape,
    extraction: &mut Extraction,
    stamp: &Stamp,
    data: &Bytes,
    rows: &mut Vec<Row>,
    errors: &mut Vec<ErrorRow>,
) {
    if !shape.has_flattened_columns() {
        let slots = extraction.base.iter_mut().map(|slot| std::mem::replace(slot, Ok(Value::Null)));
        push_row(names, slots, stamp, data, rows, errors);
        return;
    }
    // An empty or missing array still yields one row, its flattened columns NULL.
    let count = extraction.element_count.max(1);
    let columns = names.len();
    for element in 0..count {
        let slots = (0..columns).map(|column| {
            if !shape.is_flattened(column) {
                extraction.base[column].clone()
            } else if extraction.element_count == 0 {
                Ok(Value::Null)
            } else {
                extraction.elements[element * columns + column].clone()
            }
        });
        push_row(names, slots, stamp, data, rows, errors);
    }
}

/// Makes a row of the slots (plus APPROXIMATE_ARRIVAL_TIME), or an error row naming the
/// first column that did not fit.
fn push_row(
    names: &[String],
    slots: impl Iterator<Item = Slot>,
    stamp: &Stamp,
    data: &Bytes,
    rows: &mut Vec<Row>,
    errors: &mut Vec<ErrorRow>,
) {
    let mut values = Vec::with_capacity(names.len() + 1);
    let mut bytes = 0;
    for (slot, name) in slots.zip(names) {
        match slot {
            Ok(value) => {
                bytes += value_bytes(&value);
                values.push(value);
            }
            Err(error) => {
                errors.push(stamp.error(ErrorKind::Coercion, format!("column {name:?}: {}", error.0), data.clone()));
                return;
            }
        }
    }
    if bytes > ROW_BYTES_MAX {
        let message = format!("the row takes {bytes} bytes, more than {ROW_BYTES_MAX}");
        errors.push(stamp.error(ErrorKind::RowTooLarge, message, data.clone()));
        return;
    }
    values.push(Value::Timestamp(stamp.arrival_ms));
    rows.push(Row { rowtime_ms: stamp.rowtime_ms, epoch: stamp.epoch, values: values.into_boxed_slice() });
}

#[cfg(test)]
mod tests;
