//! CSV records: the row delimiter splits a record into rows (a record may carry several),
//! the column delimiter splits a row into fields, taken by position (the guide: columns
//! are imported in order; trailing ones may be left out). Both delimiters may be several
//! characters (`\r\n`, `||`). Fields are not unquoted: KDA's CSV mapping documents no
//! quoting, so a quote is data.

use bytes::Bytes;

use super::coerce::{coerce, Raw};
use super::json::Slot;
use super::MappingConfigError;
use crate::config::RecordColumn;
use crate::value::{SqlType, Value};

#[derive(Debug)]
pub(crate) struct CsvShape {
    row_delimiter: String,
    column_delimiter: String,
    types: Vec<SqlType>,
}

impl CsvShape {
    pub(crate) fn new(
        row_delimiter: &str,
        column_delimiter: &str,
        columns: &[RecordColumn],
    ) -> Result<Self, MappingConfigError> {
        if row_delimiter.is_empty() || column_delimiter.is_empty() {
            return Err(MappingConfigError("a CSV delimiter is empty".into()));
        }
        if row_delimiter == column_delimiter {
            return Err(MappingConfigError("the CSV row and column delimiters are the same".into()));
        }
        Ok(CsvShape {
            row_delimiter: row_delimiter.to_string(),
            column_delimiter: column_delimiter.to_string(),
            types: columns.iter().map(|column| column.sql_type).collect(),
        })
    }

    /// The rows of a record; empty rows (a trailing delimiter) are none.
    pub(crate) fn rows<'t>(&'t self, text: &'t str) -> impl Iterator<Item = &'t str> + 't {
        text.split(self.row_delimiter.as_str()).filter(|row| !row.is_empty())
    }

    /// Coerces one row's fields into `out`, one slot per column. A missing field is NULL;
    /// an empty one is NULL too, except in a character column, where it is the empty
    /// string.
    pub(crate) fn extract(&self, row: &str, source: &Bytes, out: &mut Vec<Slot>) {
        out.clear();
        let mut fields = row.split(self.column_delimiter.as_str());
        for &sql_type in &self.types {
            let raw = match fields.next() {
                None => Raw::Null,
                Some("") if !matches!(sql_type, SqlType::Char(_) | SqlType::Varchar(_)) => Raw::Null,
                Some(field) => Raw::Str(field),
            };
            out.push(match raw {
                Raw::Null => Ok(Value::Null),
                raw => coerce(raw, sql_type, source),
            });
        }
    }
}
