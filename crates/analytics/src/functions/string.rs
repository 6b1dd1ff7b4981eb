//! String functions and `||`.

use super::args::{arg, int, mismatch, text, within_value_bound};
use super::TrimSide;
use crate::value::{ErrorKind, EvalError, Value};

fn str_value(text: String) -> Value {
    Value::Str(text.into())
}

/// `left || right`: strings with strings, binaries with binaries; NULL if either is.
pub fn concat(left: &Value, right: &Value) -> Result<Value, EvalError> {
    match (left, right) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::Str(a), Value::Str(b)) | (Value::Bin(a), Value::Bin(b)) => {
            within_value_bound(a.len().saturating_add(b.len()), "||")?;
            let mut joined = Vec::with_capacity(a.len() + b.len());
            joined.extend_from_slice(a);
            joined.extend_from_slice(b);
            Ok(if matches!(left, Value::Str(_)) { Value::Str(joined.into()) } else { Value::Bin(joined.into()) })
        }
        (other, _) => Err(mismatch("||", "two strings or two binaries", other)),
    }
}

pub fn char_length(args: &[Value]) -> Result<Value, EvalError> {
    let s = text(arg(args, 0, "CHAR_LENGTH")?, "CHAR_LENGTH")?;
    Ok(Value::Int(s.chars().count() as i64))
}

pub fn map_text(args: &[Value], map: fn(&str) -> String) -> Result<Value, EvalError> {
    let s = text(arg(args, 0, "string function")?, "string function")?;
    // Case mapping grows a string by a small factor at most (ß → SS), so the bound is
    // checked on the result.
    let mapped = map(s);
    within_value_bound(mapped.len(), "string function")?;
    Ok(str_value(mapped))
}

/// Upper case at the start of each word (a run of letters and digits), lower case
/// elsewhere.
pub fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if at_word_start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            at_word_start = false;
        } else {
            out.push(c);
            at_word_start = true;
        }
    }
    out
}

/// The characters of `s` at 1-based positions `[start, start + length)` that exist
/// (SQL:2011's SUBSTRING: a start before 1 shortens the result).
fn char_range(s: &str, start: i64, length: Option<i64>) -> Result<String, EvalError> {
    if let Some(length) = length {
        if length < 0 {
            return Err(EvalError::new(ErrorKind::Function, format!("SUBSTRING: negative length {length}")));
        }
    }
    let end = match length {
        Some(length) => start.saturating_add(length),
        None => i64::MAX,
    };
    let first = start.max(1);
    if end <= first {
        return Ok(String::new());
    }
    let skip = usize::try_from(first - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(end - first).unwrap_or(usize::MAX);
    Ok(s.chars().skip(skip).take(take).collect())
}

pub fn substring(args: &[Value]) -> Result<Value, EvalError> {
    let s = text(arg(args, 0, "SUBSTRING")?, "SUBSTRING")?;
    let start = int(arg(args, 1, "SUBSTRING")?, "SUBSTRING")?;
    let length = match args.get(2) {
        Some(length) => Some(int(length, "SUBSTRING")?),
        None => None,
    };
    char_range(s, start, length).map(str_value)
}

/// The 1-based character position of the first `needle` in `haystack`; 0 when absent,
/// 1 for an empty needle.
pub fn position(args: &[Value]) -> Result<Value, EvalError> {
    let needle = text(arg(args, 0, "POSITION")?, "POSITION")?;
    let haystack = text(arg(args, 1, "POSITION")?, "POSITION")?;
    let found = haystack.find(needle).map_or(0, |byte| haystack[..byte].chars().count() as i64 + 1);
    Ok(Value::Int(found))
}

/// TRIM of one character (a space unless given): SQL's trim character is a single one.
pub fn trim(args: &[Value], side: TrimSide) -> Result<Value, EvalError> {
    let s = text(arg(args, 0, "TRIM")?, "TRIM")?;
    let character = match args.get(1) {
        Some(characters) => {
            let characters = text(characters, "TRIM")?;
            let mut chars = characters.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(EvalError::new(
                        ErrorKind::Function,
                        format!("TRIM: the trim character must be one character, not '{characters}'"),
                    ))
                }
            }
        }
        None => ' ',
    };
    let trimmed = match side {
        TrimSide::Both => s.trim_matches(character),
        TrimSide::Leading => s.trim_start_matches(character),
        TrimSide::Trailing => s.trim_end_matches(character),
    };
    Ok(str_value(trimmed.to_owned()))
}

/// `OVERLAY(s PLACING r FROM start [FOR length])` = the characters before `start`, `r`,
/// and those from `start + length` (length defaults to `r`'s), as SQLREF's examples show.
pub fn overlay(args: &[Value]) -> Result<Value, EvalError> {
    let s = text(arg(args, 0, "OVERLAY")?, "OVERLAY")?;
    let placing = text(arg(args, 1, "OVERLAY")?, "OVERLAY")?;
    let start = int(arg(args, 2, "OVERLAY")?, "OVERLAY")?;
    let length = match args.get(3) {
        Some(length) => int(length, "OVERLAY")?,
        None => placing.chars().count() as i64,
    };
    if length < 0 {
        return Err(EvalError::new(ErrorKind::Function, format!("OVERLAY: negative length {length}")));
    }
    // A start before 1 puts the replacement's first characters before the string
    // (SQLREF OVERLAY, a documented departure from SQL:2008's NULL).
    let before = char_range(s, 1, Some(start.saturating_sub(1).max(0)))?;
    let after = char_range(s, start.saturating_add(length), None)?;
    within_value_bound(before.len().saturating_add(placing.len()).saturating_add(after.len()), "OVERLAY")?;
    let mut out = String::with_capacity(before.len() + placing.len() + after.len());
    out.push_str(&before);
    out.push_str(placing);
    out.push_str(&after);
    Ok(str_value(out))
}
