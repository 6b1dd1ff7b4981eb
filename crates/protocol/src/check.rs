//! Type checking: the first of AWS's two request checks.
//!
//! AWS (Coral) deserializes a body into the operation's input type before it validates
//! constraints, and a value of the wrong JSON/CBOR type aborts deserialization with a
//! `SerializationException` whose `Message` names Java classes. This pass reproduces that:
//! it walks the parsed [`Value`] tree in document order against the shape table, stops at
//! the first mismatch with AWS's text, and otherwise produces a [`Checked`] tree with the
//! wire encodings resolved (base64 decoded, seconds turned into milliseconds, numbers
//! floored and clamped, unknown members and `null`s dropped).

use std::collections::HashMap;

use bytes::Bytes;

use crate::error::DecodeError;
use crate::operation::WireFormat;
use crate::shape::{Shape, StructShape};
use crate::value::Value;

/// A value that has the type its shape requires, not yet checked against constraints.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Checked {
    /// A `null` element of a list or value of a map (members that are `null` are absent).
    Null,
    Text(String),
    Blob(Bytes),
    Integer(i64),
    Boolean(bool),
    /// Epoch milliseconds.
    Timestamp(i64),
    List(Vec<Checked>),
    /// Entries in first-insertion order with the last value for repeated keys, as a
    /// JavaScript or Java map would keep them.
    Map(Vec<(String, Checked)>),
    /// One slot per member of the shape, in shape order.
    Struct(Vec<Option<Checked>>),
    /// An opaque member, as JSON.
    Document(serde_json::Value),
}

const NUMBER_CLASS: &str = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";
const BOOLEAN_CLASS: &str = "class java.lang.Boolean";
const STRING_CLASS: &str = "class java.lang.String";
/// What Coral would call a CBOR byte string; no AWS capture exists for this case.
const BYTES_CLASS: &str = "class java.nio.HeapByteBuffer";
pub(crate) const START_OF_LIST: &str = "Start of list found where not expected";
pub(crate) const START_OF_STRUCTURE: &str = "Start of structure or map found where not expected.";

/// Type-checks a request or response body against a structure shape. The body must be
/// an object/map; a list gets Coral's "Start of list" message and any other top-level
/// value is treated as unparseable, as kinesalite does.
pub(crate) fn check_body(
    value: Value,
    shape: &StructShape,
    format: WireFormat,
) -> Result<Vec<Option<Checked>>, DecodeError> {
    match value {
        Value::Map(entries) => check_struct(entries, shape, format).map_err(DecodeError::TypeMismatch),
        Value::List(_) => Err(DecodeError::TypeMismatch(START_OF_LIST.to_owned())),
        _ => Err(DecodeError::Unparseable),
    }
}

fn check_struct(
    entries: Vec<(Option<String>, Value)>,
    shape: &StructShape,
    format: WireFormat,
) -> Result<Vec<Option<Checked>>, String> {
    let mut slots: Vec<Option<Checked>> = shape.members.iter().map(|_| None).collect();
    for (key, value) in entries {
        let Some(index) = key.as_deref().and_then(|name| shape.member_index(name)) else {
            continue;
        };
        let (Some(member), Some(slot)) = (shape.members.get(index), slots.get_mut(index)) else {
            continue;
        };
        *slot = if is_null(&value) { None } else { Some(check_value(value, member.shape, format)?) };
    }
    Ok(slots)
}

fn check_value(value: Value, shape: &Shape, format: WireFormat) -> Result<Checked, String> {
    // Tags carry no meaning for any member except timestamps, where tag 1 marks the
    // epoch value; strip them everywhere else.
    let value = match value {
        Value::Tagged(_, inner) if !matches!(shape, Shape::Timestamp) => return check_value(*inner, shape, format),
        value => value,
    };
    match shape {
        Shape::String(_) => match value {
            Value::Text(text) => Ok(Checked::Text(text)),
            other => Err(scalar_mismatch(&other, "an String")),
        },
        Shape::Boolean => match value {
            Value::Bool(flag) => Ok(Checked::Boolean(flag)),
            Value::Text(text) => parse_lenient_boolean(&text)
                .map(Checked::Boolean)
                .ok_or_else(|| format!("'{}' can not be converted to an Boolean", text.to_uppercase())),
            other => Err(scalar_mismatch(&other, "an Boolean")),
        },
        Shape::Integer(_) => number_to_integer(&value, i64::from(i32::MIN), i64::from(i32::MAX))
            .map(Checked::Integer)
            .ok_or_else(|| scalar_mismatch(&value, "an Integer")),
        Shape::Long(_) => number_to_integer(&value, i64::MIN, i64::MAX)
            .map(Checked::Integer)
            .ok_or_else(|| scalar_mismatch(&value, "an Long")),
        Shape::Blob(_) => match value {
            Value::Bytes(bytes) => Ok(Checked::Blob(Bytes::from(bytes))),
            Value::Text(text) => decode_base64_blob(&text).map(Checked::Blob),
            other => Err(scalar_mismatch(&other, "a Blob")),
        },
        Shape::Timestamp => check_timestamp(value, format),
        Shape::List(list) => match value {
            Value::List(items) => items
                .into_iter()
                .map(|item| if is_null(&item) { Ok(Checked::Null) } else { check_value(item, list.member, format) })
                .collect::<Result<Vec<_>, _>>()
                .map(Checked::List),
            Value::Map(_) => Err(START_OF_STRUCTURE.to_owned()),
            _ => Err("Expected list or null".to_owned()),
        },
        Shape::Map(map) => match value {
            Value::Map(entries) => check_map(entries, map.value, format),
            Value::List(_) => Err(START_OF_LIST.to_owned()),
            _ => Err("Expected map or null".to_owned()),
        },
        Shape::Structure(structure) => match value {
            Value::Map(entries) => check_struct(entries, structure, format).map(Checked::Struct),
            Value::List(_) => Err(START_OF_LIST.to_owned()),
            _ => Err("Expected null".to_owned()),
        },
        Shape::Document => match value {
            Value::Map(_) => Ok(Checked::Document(to_json(value))),
            Value::List(_) => Err(START_OF_LIST.to_owned()),
            _ => Err("Expected null".to_owned()),
        },
    }
}

/// The JSON form of an opaque member. Map entries keep the last value of a repeated
/// key; non-text CBOR keys are dropped (no member could have them); integers beyond
/// 64 bits and non-finite floats, which JSON cannot hold exactly, become floats or null.
fn to_json(value: Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(flag),
        Value::Integer(integer) => i64::try_from(integer)
            .map(Json::from)
            .or_else(|_| u64::try_from(integer).map(Json::from))
            .unwrap_or_else(|_| serde_json::Number::from_f64(integer as f64).map_or(Json::Null, Json::Number)),
        Value::Float(float) => serde_json::Number::from_f64(float).map_or(Json::Null, Json::Number),
        Value::Text(text) => Json::String(text),
        Value::Bytes(bytes) => Json::String(base64_simd::STANDARD.encode_to_string(bytes)),
        Value::List(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Value::Map(entries) => {
            Json::Object(entries.into_iter().filter_map(|(key, item)| Some((key?, to_json(item)))).collect())
        }
        Value::Tagged(_, inner) => to_json(*inner),
    }
}

fn check_map(
    entries: Vec<(Option<String>, Value)>,
    value_shape: &Shape,
    format: WireFormat,
) -> Result<Checked, String> {
    let mut checked: Vec<(String, Checked)> = Vec::with_capacity(entries.len());
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    for (key, value) in entries {
        let Some(key) = key else { continue };
        let value = if is_null(&value) { Checked::Null } else { check_value(value, value_shape, format)? };
        match positions.get(&key).and_then(|&position| checked.get_mut(position)) {
            Some(existing) => existing.1 = value,
            None => {
                positions.insert(key.clone(), checked.len());
                checked.push((key, value));
            }
        }
    }
    Ok(Checked::Map(checked))
}

/// `null`, possibly under CBOR tags, means "absent".
fn is_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Tagged(_, inner) => is_null(inner),
        _ => false,
    }
}

/// The message for a scalar target given a value of another kind. `target` is the Java
/// type phrase AWS uses, grammar included ("an String", "a Blob").
fn scalar_mismatch(value: &Value, target: &str) -> String {
    match value {
        Value::List(_) => START_OF_LIST.to_owned(),
        Value::Map(_) => START_OF_STRUCTURE.to_owned(),
        Value::Bool(_) => format!("{BOOLEAN_CLASS} can not be converted to {target}"),
        Value::Integer(_) | Value::Float(_) => {
            format!("{NUMBER_CLASS} can not be converted to {target}")
        }
        Value::Text(_) => format!("{STRING_CLASS} can not be converted to {target}"),
        Value::Bytes(_) => format!("{BYTES_CLASS} can not be converted to {target}"),
        Value::Tagged(_, inner) => scalar_mismatch(inner, target),
        Value::Null => String::new(),
    }
}

/// Coral accepts a few spellings of booleans in strings (kinesalite observed
/// `true`/`false`/`1`/`0`/`yes`/`no` passing).
fn parse_lenient_boolean(text: &str) -> Option<bool> {
    ["true", "1", "yes"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word))
        .then_some(true)
        .or_else(|| ["false", "0", "no"].iter().any(|word| text.eq_ignore_ascii_case(word)).then_some(false))
}

/// Integers given as floats are floored, and everything saturates at the target's range
/// (Coral's `TruncatingBigNumber`; kinesalite clamps Integer at 2147483647).
fn number_to_integer(value: &Value, min: i64, max: i64) -> Option<i64> {
    match value {
        Value::Integer(integer) => Some((*integer).clamp(i128::from(min), i128::from(max)) as i64),
        // `as` saturates and maps NaN to 0.
        Value::Float(float) => Some((float.floor() as i64).clamp(min, max)),
        _ => None,
    }
}

fn check_timestamp(value: Value, format: WireFormat) -> Result<Checked, String> {
    let millis = match (format, value) {
        // JSON timestamps are epoch seconds, possibly fractional.
        (WireFormat::Json, Value::Integer(seconds)) => clamp_to_i64(seconds.saturating_mul(1000)),
        (WireFormat::Json, Value::Float(seconds)) => {
            crate::types::Timestamp::from_epoch_seconds_f64(seconds).epoch_millis()
        }
        // CBOR timestamps are epoch milliseconds, tagged 1 (as the Java SDK sends them) or not.
        (WireFormat::Cbor, value @ (Value::Integer(_) | Value::Float(_))) => cbor_millis(&value),
        (WireFormat::Cbor, Value::Tagged(1, inner)) if matches!(*inner, Value::Integer(_) | Value::Float(_)) => {
            cbor_millis(&inner)
        }
        (_, Value::Tagged(_, inner)) => return check_timestamp(*inner, format),
        (_, other) => return Err(scalar_mismatch(&other, "milliseconds since epoch")),
    };
    Ok(Checked::Timestamp(millis))
}

fn clamp_to_i64(value: i128) -> i64 {
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn cbor_millis(value: &Value) -> i64 {
    match value {
        Value::Integer(millis) => clamp_to_i64(*millis),
        Value::Float(millis) => millis.round() as i64,
        _ => 0,
    }
}

/// Decodes a JSON blob, reporting failures with the checks and messages of Coral's
/// base64 decoder: length, alphabet (including `=` before the end), then canonical
/// final characters.
///
/// A strict decode is tried first because it is much faster than the diagnostics and
/// succeeds exactly when they would all pass: canonical padded base64 has a length that
/// is a multiple of four, only alphabet characters, `=` only at the end and zero
/// trailing bits.
pub(crate) fn decode_base64_blob(text: &str) -> Result<Bytes, String> {
    // The SIMD decoder accepts and refuses exactly what the `base64` crate's strict
    // STANDARD engine does (canonical padding and trailing bits), at several times the speed.
    if let Ok(bytes) = base64_simd::STANDARD.decode_to_vec(text) {
        return Ok(Bytes::from(bytes));
    }
    let prefix = || format!("'{text}' can not be converted to a Blob: ");
    let utf16_length = crate::shape::measure::string_length(text);
    if !utf16_length.is_multiple_of(4) {
        return Err(format!(
            "{}Base64 encoded length is expected a multiple of 4 bytes but found: {utf16_length}",
            prefix()
        ));
    }
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        let in_alphabet = character.is_ascii_alphanumeric() || matches!(character, '+' | '/' | '=');
        let padding_in_middle = character == '=' && characters.peek().is_some_and(|next| *next != '=');
        if !in_alphabet || padding_in_middle {
            return Err(format!("{}Invalid Base64 character: '{character}'", prefix()));
        }
    }
    // Sic: "dectected" is AWS's spelling.
    Err(format!("{}Invalid last non-pad Base64 character dectected", prefix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_errors_match_aws() {
        assert_eq!(
            decode_base64_blob("23456").err().as_deref(),
            Some("'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5")
        );
        assert_eq!(
            decode_base64_blob("=+/=").err().as_deref(),
            Some("'=+/=' can not be converted to a Blob: Invalid Base64 character: '='")
        );
        assert_eq!(
            decode_base64_blob("+/+=").err().as_deref(),
            Some("'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
        );
        assert_eq!(
            decode_base64_blob("ab!d").err().as_deref(),
            Some("'ab!d' can not be converted to a Blob: Invalid Base64 character: '!'")
        );
        assert_eq!(decode_base64_blob("").ok(), Some(Bytes::new()));
        assert_eq!(decode_base64_blob("aGk=").ok(), Some(Bytes::from_static(b"hi")));
    }

    #[test]
    fn lenient_booleans() {
        assert_eq!(parse_lenient_boolean("TRUE"), Some(true));
        assert_eq!(parse_lenient_boolean("no"), Some(false));
        assert_eq!(parse_lenient_boolean("23"), None);
    }
}
