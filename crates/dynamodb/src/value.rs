//! Attribute values: the ten DynamoDB types, DynamoDB numbers, sizes, and their JSON form
//! on the wire (`{"S": "…"}`, `{"N": "…"}`, `{"B": "<base64>"}`, …).
//!
//! SKELETON: the `dy-expr` piece implements the bodies marked `// SKELETON:`.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use rheo_protocol::types::Document;

use crate::error::DynamoError;

/// An item: attribute names to values. Ordered, so responses and stored bytes are
/// deterministic.
pub type Item = BTreeMap<String, AttrValue>;

/// One attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrValue {
    S(String),
    N(Number),
    B(Bytes),
    Bool(bool),
    Null,
    M(BTreeMap<String, AttrValue>),
    L(Vec<AttrValue>),
    /// A string set: non-empty, no duplicates, in the order first written.
    Ss(Vec<String>),
    /// A number set: non-empty, no numerically equal duplicates.
    Ns(Vec<Number>),
    /// A binary set: non-empty, no duplicates.
    Bs(Vec<Bytes>),
}

/// The type of an attribute value, as `attribute_type` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttrType {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl AttrType {
    /// The type's wire name: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn wire_name(self) -> &'static str {
        match self {
            AttrType::S => "S",
            AttrType::N => "N",
            AttrType::B => "B",
            AttrType::Bool => "BOOL",
            AttrType::Null => "NULL",
            AttrType::M => "M",
            AttrType::L => "L",
            AttrType::Ss => "SS",
            AttrType::Ns => "NS",
            AttrType::Bs => "BS",
        }
    }
}

/// A DynamoDB number: up to [`NUMBER_DIGITS_MAX`](crate::limits::NUMBER_DIGITS_MAX)
/// significant decimal digits, magnitude from 1E-130 to below 1E+126, exact.
///
/// Normalized, so equal numbers have equal representations (`1`, `1.0` and `10E-1` are one
/// value) and `Eq`/`Hash` are numeric: the value is `±0.d₁d₂…dₙ × 10^exponent`, `digits`
/// holds `d₁…dₙ` (each 0–9) with no leading or trailing zero, and zero has no digits, is
/// not negative and has exponent 0. The store's order-preserving key encoding reads these
/// parts (`negative`, `digits`, `exponent`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: Vec<u8>,
    exponent: i32,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number { negative: false, digits: Vec::new(), exponent: 0 }
    }

    /// The number with these parts, if they are normalized (see the type's doc): how the
    /// store rebuilds numbers it encoded from [`is_negative`](Self::is_negative),
    /// [`digits`](Self::digits) and [`exponent`](Self::exponent).
    pub fn from_parts(negative: bool, digits: Vec<u8>, exponent: i32) -> Option<Number> {
        let normalized = match (digits.first(), digits.last()) {
            (None, _) | (_, None) => !negative && exponent == 0,
            (Some(&first), Some(&last)) => first != 0 && last != 0 && digits.iter().all(|&digit| digit <= 9),
        };
        normalized.then_some(Number { negative, digits, exponent })
    }

    /// Whether the number is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The significant digits, each 0–9, without leading or trailing zeros; empty for zero.
    pub fn digits(&self) -> &[u8] {
        &self.digits
    }

    /// The exponent `e` of `0.d₁d₂… × 10^e`.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// Parses DynamoDB's number syntax (`-12.5`, `1e3`, `.5`, leading zeros, `+`), with
    /// DynamoDB's errors for malformed, too precise or out-of-range numbers.
    pub fn parse(text: &str) -> Result<Number, DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = text;
        Err(DynamoError::Internal("number parsing not built yet".into()))
    }
}

/// The canonical text DynamoDB returns (`1E+2` is written `100`, `0.50` is `0.5`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SKELETON: dy-expr implements.
        write!(f, "{}{:?}e{}", if self.negative { "-" } else { "" }, self.digits, self.exponent)
    }
}

/// Numeric order.
impl Ord for Number {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // SKELETON: dy-expr implements.
        let _ = other;
        std::cmp::Ordering::Equal
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl AttrValue {
    /// This value's type.
    pub fn attr_type(&self) -> AttrType {
        match self {
            AttrValue::S(_) => AttrType::S,
            AttrValue::N(_) => AttrType::N,
            AttrValue::B(_) => AttrType::B,
            AttrValue::Bool(_) => AttrType::Bool,
            AttrValue::Null => AttrType::Null,
            AttrValue::M(_) => AttrType::M,
            AttrValue::L(_) => AttrType::L,
            AttrValue::Ss(_) => AttrType::Ss,
            AttrValue::Ns(_) => AttrType::Ns,
            AttrValue::Bs(_) => AttrType::Bs,
        }
    }

    /// DynamoDB's size of the value in bytes (as item size limits count it).
    pub fn size(&self) -> usize {
        // SKELETON: dy-expr implements.
        0
    }

    /// Reads one wire attribute value (`{"S": "x"}`), with DynamoDB's validation texts.
    pub fn from_json(json: &serde_json::Value) -> Result<AttrValue, DynamoError> {
        // SKELETON: dy-expr implements.
        let _ = json;
        Err(DynamoError::Internal("attribute values not built yet".into()))
    }

    /// The wire form of the value.
    pub fn to_json(&self) -> serde_json::Value {
        // SKELETON: dy-expr implements.
        serde_json::Value::Null
    }
}

/// DynamoDB's size of an item: each attribute name's bytes plus its value's size.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value.size()).sum()
}

/// Reads a wire map of attribute values (an item, a key, `ExpressionAttributeValues`).
pub fn item_from_wire(map: &BTreeMap<String, Document>) -> Result<Item, DynamoError> {
    map.iter().map(|(name, value)| Ok((name.clone(), AttrValue::from_json(value.as_json())?))).collect()
}

/// The wire form of an item.
pub fn item_to_wire(item: &Item) -> BTreeMap<String, Document> {
    item.iter().map(|(name, value)| (name.clone(), Document::new(value.to_json()))).collect()
}
