//! CSV records: the row delimiter splits a record into rows (a record may carry several),
//! the column delimiter splits a row into fields, taken by position (the guide: columns
//! are imported in order; trailing ones may be left out). Both delimiters may be several
//! characters (`\r\n`, `||`). KDA documents no quoting; Rheo reads a field that starts
//! with `"` as quoted in the RFC 4180 way (`""` inside is one quote, the closing quote is
//! followed by the delimiter or the row's end) so that its own CSV output reads back, and
//! takes any other quote as data. Row delimiters inside quotes still end the row.

use std::borrow::Cow;

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
        let mut rest = Some(row);
        for &sql_type in &self.types {
            let field = next_field(&mut rest, &self.column_delimiter);
            let raw = match field.as_deref() {
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

/// The next field of a row, `None` past the last one.
fn next_field<'r>(rest: &mut Option<&'r str>, delimiter: &str) -> Option<Cow<'r, str>> {
    let text = (*rest)?;
    if let Some((field, after)) = quoted_field(text, delimiter) {
        *rest = after;
        return Some(field);
    }
    match text.find(delimiter) {
        Some(at) => {
            *rest = Some(&text[at + delimiter.len()..]);
            Some(Cow::Borrowed(&text[..at]))
        }
        None => {
            *rest = None;
            Some(Cow::Borrowed(text))
        }
    }
}

/// A field starting with `"` and closed by a quote before the delimiter or the row's end:
/// its value (borrowed unless it held `""`) and what follows the delimiter.
fn quoted_field<'r>(text: &'r str, delimiter: &str) -> Option<(Cow<'r, str>, Option<&'r str>)> {
    let inner = text.strip_prefix('"')?;
    let mut unescaped: Option<String> = None;
    let mut from = 0;
    loop {
        let quote = from + inner[from..].find('"')?;
        if inner[quote + 1..].starts_with('"') {
            unescaped.get_or_insert_with(String::new).push_str(&inner[from..=quote]);
            from = quote + 2;
            continue;
        }
        let after = &inner[quote + 1..];
        let rest = if after.is_empty() { None } else { Some(after.strip_prefix(delimiter)?) };
        let value = match unescaped {
            Some(mut value) => {
                value.push_str(&inner[from..quote]);
                Cow::Owned(value)
            }
            None => Cow::Borrowed(&inner[..quote]),
        };
        return Some((value, rest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(row: &str, delimiter: &str) -> Vec<String> {
        let mut rest = Some(row);
        std::iter::from_fn(|| next_field(&mut rest, delimiter).map(Cow::into_owned)).collect()
    }

    #[test]
    fn fields_split_by_position_and_quoted_fields_unquote() {
        assert_eq!(fields("a,1,,x", ","), ["a", "1", "", "x"]);
        assert_eq!(fields(r#""a, ""b""",2"#, ","), [r#"a, "b""#, "2"]);
        assert_eq!(fields(r#""",x"#, ","), ["", "x"]);
        assert_eq!(fields("a||\"b||c\"||d", "||"), ["a", "b||c", "d"]);
        // A quote that does not close the field before a delimiter is data.
        assert_eq!(fields(r#""a"b,c"#, ","), [r#""a"b"#, "c"]);
        assert_eq!(fields(r#"say "hi",x"#, ","), [r#"say "hi""#, "x"]);
        assert_eq!(fields(r#""open,x"#, ","), [r#""open"#, "x"]);
    }
}
