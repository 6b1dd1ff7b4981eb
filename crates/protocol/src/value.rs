//! A format-neutral tree of a parsed request body.
//!
//! The generic (slow) decode path needs to see *what the client sent* — a number where a
//! string belongs, a list where a structure belongs — to reproduce AWS's error texts, so
//! bodies are first parsed into this loosely typed tree. JSON goes through `serde_json`;
//! CBOR through `minicbor`'s low-level decoder, which keeps tags (Kinesis timestamps are
//! tag 1) and byte strings (blobs) visible.
//!
//! Both parsers bound nesting depth so hostile input cannot overflow the stack.

use std::fmt;

use minicbor::data::Type;
use minicbor::Decoder;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deeper nesting than any Kinesis shape needs (the deepest is 5), but shallow enough
/// that recursion is always safe.
pub(crate) const MAX_DEPTH: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Integer(i128),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Entries in document order, duplicates kept. A `None` key is a CBOR key that is not
    /// a text string; no member can have such a name, so it is always ignored.
    Map(Vec<(Option<String>, Value)>),
    Tagged(u64, Box<Value>),
}

/// The body is not a single well-formed JSON or CBOR value.
#[derive(Debug)]
pub(crate) struct Unparseable;

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, Unparseable> {
    // serde_json enforces its own recursion limit (128), which keeps this bounded.
    serde_json::from_slice(body).map_err(|_| Unparseable)
}

pub(crate) fn parse_cbor(body: &[u8]) -> Result<Value, Unparseable> {
    let mut decoder = Decoder::new(body);
    let value = read_cbor_value(&mut decoder, 0)?;
    if decoder.position() != body.len() {
        return Err(Unparseable);
    }
    Ok(value)
}

/// Reads one complete CBOR data item, recursing into containers up to [`MAX_DEPTH`].
pub(crate) fn read_cbor_value(decoder: &mut Decoder<'_>, depth: usize) -> Result<Value, Unparseable> {
    if depth > MAX_DEPTH {
        return Err(Unparseable);
    }
    let data_type = decoder.datatype().map_err(|_| Unparseable)?;
    let value = match data_type {
        Type::Bool => Value::Bool(decoder.bool().map_err(|_| Unparseable)?),
        Type::Null => {
            decoder.null().map_err(|_| Unparseable)?;
            Value::Null
        }
        Type::Undefined => {
            decoder.undefined().map_err(|_| Unparseable)?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            Value::Integer(i128::from(decoder.int().map_err(|_| Unparseable)?))
        }
        Type::F16 => Value::Float(read_f16(decoder)?),
        Type::F32 | Type::F64 => Value::Float(decoder.f64().map_err(|_| Unparseable)?),
        Type::Bytes | Type::BytesIndef => {
            let mut bytes = Vec::new();
            for chunk in decoder.bytes_iter().map_err(|_| Unparseable)? {
                bytes.extend_from_slice(chunk.map_err(|_| Unparseable)?);
            }
            Value::Bytes(bytes)
        }
        Type::String | Type::StringIndef => Value::Text(read_cbor_text(decoder)?),
        Type::Array | Type::ArrayIndef => {
            let declared = decoder.array().map_err(|_| Unparseable)?;
            let mut items = Vec::with_capacity(capacity_hint(declared, decoder));
            match declared {
                Some(count) => {
                    for _ in 0..count {
                        items.push(read_cbor_value(decoder, depth + 1)?);
                    }
                }
                None => {
                    while !at_break(decoder)? {
                        items.push(read_cbor_value(decoder, depth + 1)?);
                    }
                    skip_break(decoder);
                }
            }
            Value::List(items)
        }
        Type::Map | Type::MapIndef => {
            let declared = decoder.map().map_err(|_| Unparseable)?;
            let mut entries = Vec::with_capacity(capacity_hint(declared, decoder));
            match declared {
                Some(count) => {
                    for _ in 0..count {
                        entries.push(read_cbor_entry(decoder, depth)?);
                    }
                }
                None => {
                    while !at_break(decoder)? {
                        entries.push(read_cbor_entry(decoder, depth)?);
                    }
                    skip_break(decoder);
                }
            }
            Value::Map(entries)
        }
        Type::Tag => {
            let tag = decoder.tag().map_err(|_| Unparseable)?;
            Value::Tagged(tag.as_u64(), Box::new(read_cbor_value(decoder, depth + 1)?))
        }
        Type::Simple | Type::Break | Type::Unknown(_) => return Err(Unparseable),
    };
    Ok(value)
}

fn read_cbor_entry(decoder: &mut Decoder<'_>, depth: usize) -> Result<(Option<String>, Value), Unparseable> {
    let key = match decoder.datatype().map_err(|_| Unparseable)? {
        Type::String | Type::StringIndef => Some(read_cbor_text(decoder)?),
        _ => {
            read_cbor_value(decoder, depth + 1)?;
            None
        }
    };
    let value = read_cbor_value(decoder, depth + 1)?;
    Ok((key, value))
}

pub(crate) fn read_cbor_text(decoder: &mut Decoder<'_>) -> Result<String, Unparseable> {
    let mut text = String::new();
    for chunk in decoder.str_iter().map_err(|_| Unparseable)? {
        text.push_str(chunk.map_err(|_| Unparseable)?);
    }
    Ok(text)
}

/// Never trust a declared length for allocation: a 9-byte header can claim 2^64 items.
fn capacity_hint(declared: Option<u64>, decoder: &Decoder<'_>) -> usize {
    let remaining = decoder.input().len().saturating_sub(decoder.position());
    declared.map_or(0, |count| usize::try_from(count).unwrap_or(usize::MAX).min(remaining))
}

pub(crate) fn at_break(decoder: &Decoder<'_>) -> Result<bool, Unparseable> {
    Ok(decoder.datatype().map_err(|_| Unparseable)? == Type::Break)
}

pub(crate) fn skip_break(decoder: &mut Decoder<'_>) {
    decoder.set_position(decoder.position() + 1);
}

/// Decodes an IEEE 754 half-precision float (major type 7, additional info 25). minicbor
/// only does this behind its `half` feature, and the conversion is a few lines.
fn read_f16(decoder: &mut Decoder<'_>) -> Result<f64, Unparseable> {
    let start = decoder.position();
    let bits = match decoder.input().get(start + 1..start + 3) {
        Some(&[high, low]) => u16::from_be_bytes([high, low]),
        _ => return Err(Unparseable),
    };
    decoder.set_position(start + 3);
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
    };
    Ok(sign * magnitude)
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Integer(i128::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Integer(i128::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::Text(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            entries.push((Some(key), value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_half_floats_decode() {
        assert_eq!(parse_cbor(&[0xf9, 0x3c, 0x00]).ok(), Some(Value::Float(1.0)));
        assert_eq!(parse_cbor(&[0xf9, 0xc0, 0x00]).ok(), Some(Value::Float(-2.0)));
        assert_eq!(parse_cbor(&[0xf9, 0x7c, 0x00]).ok(), Some(Value::Float(f64::INFINITY)));
        assert!(parse_cbor(&[0xf9, 0x3c]).is_err());
    }

    #[test]
    fn cbor_rejects_trailing_bytes_and_huge_declared_lengths() {
        assert!(parse_cbor(&[0xa0, 0x00]).is_err());
        assert!(parse_cbor(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse_cbor(&[]).is_err());
    }

    #[test]
    fn cbor_nesting_is_bounded() {
        let deep = vec![0x81; 10_000];
        assert!(parse_cbor(&deep).is_err());
        let deep_tags = [0xc1; 10_000];
        assert!(parse_cbor(&deep_tags).is_err());
    }

    #[test]
    fn cbor_indefinite_containers_decode() {
        // {_ "a": [_ 1, 2], "b": (_ h'01', h'02') }
        let body = [0xbf, 0x61, b'a', 0x9f, 0x01, 0x02, 0xff, 0x61, b'b', 0x5f, 0x41, 0x01, 0x41, 0x02, 0xff, 0xff];
        assert_eq!(
            parse_cbor(&body).ok(),
            Some(Value::Map(vec![
                (Some("a".into()), Value::List(vec![Value::Integer(1), Value::Integer(2)])),
                (Some("b".into()), Value::Bytes(vec![1, 2])),
            ]))
        );
    }

    #[test]
    fn json_nesting_is_bounded() {
        let deep = "[".repeat(10_000);
        assert!(parse_json(deep.as_bytes()).is_err());
    }
}
