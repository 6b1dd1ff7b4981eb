//! Rows of an in-application stream as output records (`DestinationSchema`):
//!
//! - JSON: one object per row, keyed by the stream's column names as stored (so upper
//!   case unless the code quoted them); numbers as JSON numbers, DECIMAL as number text
//!   at its scale, BOOLEAN as `true`/`false`, DATE `yyyy-MM-dd`, TIME `HH:mm:ss.SSS`,
//!   TIMESTAMP `yyyy-MM-dd HH:mm:ss.SSS`, VARBINARY/BINARY base64, NULL `null`, a
//!   non-finite REAL/DOUBLE `null` (JSON has no NaN). No delimiter after the object:
//!   a Firehose destination concatenates records as they are.
//! - CSV: fields joined by `,`, the row ended by `\n`; a field holding `,`, `"`, `\r` or
//!   `\n` is quoted with `"` (inner quotes doubled); NULL is an empty field.
//!
//! ROWTIME is written only when the code selected it into a column. The guide leaves
//! these forms unspecified; they are Rheo's, chosen to read back through Rheo's own input
//! mapping (a chain of applications).

use super::coerce::decimal_text;
use super::datetime::{write_date, write_time, write_timestamp};
use crate::config::OutputFormat;
use crate::plan::ColumnDef;
use crate::value::{Row, Value};

/// Writes rows of one in-application stream as output records.
#[derive(Debug)]
pub struct RowEncoder {
    format: OutputFormat,
    /// For JSON, each column's `"NAME":` already escaped.
    keys: Vec<Vec<u8>>,
}

impl RowEncoder {
    pub fn new(format: OutputFormat, columns: &[ColumnDef]) -> Self {
        let keys = columns
            .iter()
            .map(|column| {
                let mut key = Vec::with_capacity(column.name.len() + 3);
                write_json(&mut key, column.name.as_str());
                key.push(b':');
                key
            })
            .collect();
        RowEncoder { format, keys }
    }

    /// Appends one record's bytes for `row` to `out`. A row with fewer values than the
    /// stream has columns writes NULL for the missing ones.
    pub fn encode(&self, row: &Row, out: &mut Vec<u8>) {
        match self.format {
            OutputFormat::Json => {
                out.push(b'{');
                for (position, key) in self.keys.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(key);
                    write_json_value(out, row.values.get(position).unwrap_or(&Value::Null));
                }
                out.push(b'}');
            }
            OutputFormat::Csv => {
                for position in 0..self.keys.len() {
                    if position > 0 {
                        out.push(b',');
                    }
                    write_csv_value(out, row.values.get(position).unwrap_or(&Value::Null));
                }
                out.push(b'\n');
            }
        }
    }
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and every value here is serializable.
    let _ = serde_json::to_writer(out, value);
}

fn utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn write_json_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(flag) => write_json(out, flag),
        Value::Int(number) => write_json(out, number),
        Value::Real(number) => write_json(out, number),
        Value::Double(number) => write_json(out, number),
        Value::Decimal(..) | Value::Interval(_) => write_plain(out, value),
        Value::Str(text) => write_json(out, utf8(text).as_ref()),
        Value::Bin(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
            out.push(b'"');
            write_plain(out, value);
            out.push(b'"');
        }
    }
}

/// The unquoted text of a value (CSV fields, and JSON strings that need no escaping).
fn write_plain(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(flag) => out.extend_from_slice(if *flag { b"true" } else { b"false" }),
        Value::Int(number) | Value::Interval(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::Real(number) => write_json(out, number),
        Value::Double(number) => write_json(out, number),
        Value::Decimal(unscaled, scale) => {
            let mut text = String::new();
            decimal_text(&mut text, *unscaled, *scale);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Str(text) => out.extend_from_slice(text),
        Value::Bin(bytes) => base64(out, bytes),
        Value::Date(days) => write_date(out, i64::from(*days)),
        Value::Time(millis) => write_time(out, i64::from(*millis)),
        Value::Timestamp(epoch_ms) => write_timestamp(out, *epoch_ms),
    }
}

fn write_csv_value(out: &mut Vec<u8>, value: &Value) {
    let start = out.len();
    match value {
        // JSON's `null` for a non-finite number would read as text; CSV leaves it empty.
        Value::Real(number) if !number.is_finite() => {}
        Value::Double(number) if !number.is_finite() => {}
        value => write_plain(out, value),
    }
    if out[start..].iter().any(|byte| matches!(byte, b',' | b'"' | b'\r' | b'\n')) {
        let field = out.split_off(start);
        out.push(b'"');
        for &byte in &field {
            if byte == b'"' {
                out.push(b'"');
            }
            out.push(byte);
        }
        out.push(b'"');
    }
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (at, &byte)| word | u32::from(byte) << (16 - 8 * at));
        for position in 0..4 {
            if position <= chunk.len() {
                out.push(ALPHABET[(word >> (18 - 6 * position) & 0x3F) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::value::SqlType;

    fn column(name: &str, sql_type: SqlType) -> ColumnDef {
        ColumnDef { name: name.into(), sql_type, not_null: false }
    }

    fn row(values: Vec<Value>) -> Row {
        Row { rowtime_ms: 0, epoch: 0, values: values.into_boxed_slice() }
    }

    fn encoded(format: OutputFormat, columns: &[ColumnDef], values: Vec<Value>) -> String {
        let mut out = Vec::new();
        RowEncoder::new(format, columns).encode(&row(values), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn every_type() -> (Vec<ColumnDef>, Vec<Value>) {
        let columns = vec![
            column("REFERRER", SqlType::Varchar(32)),
            column("n", SqlType::BigInt),
            column("AVG_MS", SqlType::Double),
            column("PRICE", SqlType::Decimal { precision: 8, scale: 2 }),
            column("OK", SqlType::Boolean),
            column("WINDOW_END", SqlType::Timestamp),
            column("DAY", SqlType::Date),
            column("AT", SqlType::Time),
            column("RAW", SqlType::Varbinary(8)),
            column("NOTE", SqlType::Varchar(8)),
        ];
        let values = vec![
            Value::Str(Bytes::from_static(b"a \"q\", b")),
            Value::Int(-3),
            Value::Double(1.5),
            Value::Decimal(-5, 2),
            Value::Bool(true),
            Value::Timestamp(1_733_480_010_000),
            Value::Date(19_000),
            Value::Time(3_723_004),
            Value::Bin(Bytes::from_static(b"\x00\xffab")),
            Value::Null,
        ];
        (columns, values)
    }

    #[test]
    fn json_records_key_values_by_stored_column_names() {
        let (columns, values) = every_type();
        assert_eq!(
            encoded(OutputFormat::Json, &columns, values),
            r#"{"REFERRER":"a \"q\", b","n":-3,"AVG_MS":1.5,"PRICE":-0.05,"OK":true,"WINDOW_END":"2024-12-06 10:13:30.000","DAY":"2022-01-08","AT":"01:02:03.004","RAW":"AP9hYg==","NOTE":null}"#
        );
    }

    #[test]
    fn csv_records_quote_only_fields_that_need_it() {
        let (columns, values) = every_type();
        assert_eq!(
            encoded(OutputFormat::Csv, &columns, values),
            "\"a \"\"q\"\", b\",-3,1.5,-0.05,true,2024-12-06 10:13:30.000,2022-01-08,01:02:03.004,AP9hYg==,\n"
        );
    }

    #[test]
    fn non_finite_numbers_and_missing_values_are_null() {
        let columns = [column("X", SqlType::Double), column("Y", SqlType::Integer)];
        assert_eq!(encoded(OutputFormat::Json, &columns, vec![Value::Double(f64::NAN)]), r#"{"X":null,"Y":null}"#);
        assert_eq!(encoded(OutputFormat::Csv, &columns, vec![Value::Double(f64::INFINITY)]), ",\n");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            let mut out = Vec::new();
            base64(&mut out, input.as_bytes());
            assert_eq!(String::from_utf8_lossy(&out), expected);
        }
    }
}
