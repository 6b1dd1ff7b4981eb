//! Rows of `error_stream`: a failure (from input mapping, or a pump's row that could not
//! be evaluated or stored) becomes a row of the stream's fixed columns, ERROR_TIME,
//! ERROR_LEVEL, ERROR_NAME, MESSAGE, DATA_ROWTIME, DATA_ROW, PUMP_NAME, with ROWTIME =
//! ERROR_TIME. A pump's failed row is written as a JSON array of its values.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::value::{ErrorRow, Row, Value};

/// The ERROR_LEVEL of every row Rheo writes (AWS documents no other level for
/// data errors).
const ERROR_LEVEL: &str = "ERROR";

/// Bytes of DATA_ROW at most: the failed record or row is cut to this (raw bytes that
/// are not text to half of it, since hex doubles them). With MESSAGE's bound, the row
/// stays under a destination's 1 MiB record limit (Kinesis and Firehose) even when every
/// character needs a six-byte JSON escape, so an error row can always be delivered
/// [DECISION: AWS documents no cut; the head of the record is what a reader needs].
pub const ERROR_DATA_ROW_BYTES_MAX: usize = 128 * 1024;
/// Bytes of MESSAGE at most (see [`ERROR_DATA_ROW_BYTES_MAX`]).
pub const ERROR_MESSAGE_BYTES_MAX: usize = 16 * 1024;

const _: () = assert!(6 * (ERROR_DATA_ROW_BYTES_MAX + ERROR_MESSAGE_BYTES_MAX) < 1_000_000);

pub(crate) fn error_row_to_row(error: ErrorRow) -> Row {
    let data = match std::str::from_utf8(&error.data) {
        Ok(text) => Bytes::from(cut_text(text, ERROR_DATA_ROW_BYTES_MAX).to_owned()),
        // DATA_ROW is a VARCHAR: bytes that are not text are shown in hex.
        Err(_) => {
            let head = error.data.get(..ERROR_DATA_ROW_BYTES_MAX / 2).unwrap_or(&error.data);
            Bytes::from(head.iter().fold(String::with_capacity(head.len() * 2), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            }))
        }
    };
    let message = match cut_text(&error.message, ERROR_MESSAGE_BYTES_MAX) {
        cut if cut.len() == error.message.len() => Bytes::from(error.message),
        cut => Bytes::from(cut.to_owned()),
    };
    let values = vec![
        Value::Timestamp(error.error_time_ms),
        Value::Str(Bytes::from_static(ERROR_LEVEL.as_bytes())),
        Value::Str(Bytes::from_static(error.kind.name().as_bytes())),
        Value::Str(message),
        error.data_rowtime_ms.map_or(Value::Null, Value::Timestamp),
        Value::Str(data),
        error.pump.map_or(Value::Null, |pump| Value::Str(Bytes::from(pump))),
    ];
    Row { rowtime_ms: error.error_time_ms, epoch: error.epoch, values: values.into_boxed_slice() }
}

/// The longest head of `text` of at most `max` bytes that ends on a character boundary.
fn cut_text(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max).rev().find(|&end| text.is_char_boundary(end)).unwrap_or(0);
    text.get(..end).unwrap_or_default()
}

/// A row's values as JSON text, for DATA_ROW.
pub(crate) fn render_values(values: &[Value]) -> Bytes {
    let mut out = String::from("[");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        render_value(value, &mut out);
    }
    out.push(']');
    Bytes::from(out)
}

fn render_value(value: &Value, out: &mut String) {
    let quoted = |text: &str, out: &mut String| {
        out.push_str(&serde_json::Value::String(text.to_owned()).to_string());
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Real(v) => {
            let _ = write!(out, "{v:?}");
        }
        Value::Double(v) => {
            let _ = write!(out, "{v:?}");
        }
        Value::Decimal(unscaled, scale) => out.push_str(&decimal_text(*unscaled, *scale)),
        Value::Str(bytes) => quoted(&String::from_utf8_lossy(bytes), out),
        Value::Bin(bytes) => {
            let hex = bytes.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
            quoted(&hex, out);
        }
        Value::Date(days) => {
            let text = chrono::NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
                .map_or_else(|| days.to_string(), |d| d.format("%Y-%m-%d").to_string());
            quoted(&text, out);
        }
        Value::Time(ms) => {
            let text = chrono::NaiveTime::from_num_seconds_from_midnight_opt(ms / 1000, (ms % 1000) * 1_000_000)
                .map_or_else(|| ms.to_string(), |t| t.format("%H:%M:%S%.3f").to_string());
            quoted(&text, out);
        }
        Value::Timestamp(ms) => quoted(&timestamp_text(*ms), out),
        Value::Interval(ms) => {
            let _ = write!(out, "{ms}");
        }
    }
}

/// `yyyy-MM-dd HH:mm:ss.SSS` in UTC, the form KDA shows timestamps in.
pub(crate) fn timestamp_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
}

fn decimal_text(unscaled: i128, scale: u8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ErrorKind;

    #[test]
    fn values_render_as_json() {
        let values = [
            Value::Int(1),
            Value::Str("a\"b".into()),
            Value::Null,
            Value::Decimal(-5, 2),
            Value::Timestamp(1_000),
            Value::Double(0.5),
        ];
        assert_eq!(render_values(&values), r#"[1,"a\"b",null,-0.05,"1970-01-01 00:00:01.000",0.5]"#);
    }

    #[test]
    fn error_rows_carry_kind_pump_and_data() {
        let row = error_row_to_row(ErrorRow {
            kind: ErrorKind::Arithmetic,
            message: "division by zero".into(),
            error_time_ms: 5,
            data_rowtime_ms: Some(4),
            data: Bytes::from_static(&[0xff, 0x01]),
            pump: Some("P".into()),
            epoch: 2,
        });
        assert_eq!(row.rowtime_ms, 5);
        assert_eq!(row.values.len(), crate::plan::error_stream_columns().len());
        assert_eq!(row.values[2], Value::Str("ARITHMETIC".into()));
        assert_eq!(row.values[5], Value::Str("ff01".into()));
        assert_eq!(row.values[6], Value::Str("P".into()));
    }

    fn huge(data: Vec<u8>) -> Row {
        error_row_to_row(ErrorRow {
            kind: ErrorKind::Parse,
            message: "é".repeat(ERROR_MESSAGE_BYTES_MAX),
            error_time_ms: 5,
            data_rowtime_ms: None,
            data: Bytes::from(data),
            pump: None,
            epoch: 0,
        })
    }

    fn text_len(value: &Value) -> usize {
        match value {
            Value::Str(bytes) => {
                assert!(std::str::from_utf8(bytes).is_ok());
                bytes.len()
            }
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn a_huge_record_is_cut_so_its_error_row_fits_a_destination_record() {
        // Text cut on a character boundary (three-byte characters; the bound is no multiple of 3).
        let row = huge("€".repeat(ERROR_DATA_ROW_BYTES_MAX).into_bytes());
        assert!(text_len(&row.values[5]) <= ERROR_DATA_ROW_BYTES_MAX);
        assert!(text_len(&row.values[5]) >= ERROR_DATA_ROW_BYTES_MAX - 2);
        assert!(text_len(&row.values[3]) <= ERROR_MESSAGE_BYTES_MAX);
        // Bytes that are not text: hex of the head, within the same bound.
        let row = huge(vec![0xff; 4 * 1024 * 1024]);
        assert_eq!(text_len(&row.values[5]), ERROR_DATA_ROW_BYTES_MAX);
        // A short record is kept whole.
        let row = huge(b"short".to_vec());
        assert_eq!(row.values[5], Value::Str("short".into()));
    }
}
