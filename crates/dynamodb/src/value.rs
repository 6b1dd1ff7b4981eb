//! Attribute values: the ten DynamoDB types, DynamoDB numbers, sizes, and their JSON form
//! on the wire (`{"S": "…"}`, `{"N": "…"}`, `{"B": "<base64>"}`, …).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use rheo_protocol::types::Document;
use serde_json::Value as Json;

use crate::error::DynamoError;
use crate::limits::ATTRIBUTE_DEPTH_MAX;

mod number;

pub use number::Number;

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

    /// DynamoDB's size of the value in bytes (as item size limits count it), per AWS's
    /// "Item sizes and formats": strings and binaries by their bytes, a number one byte per
    /// two significant digits plus one, booleans and nulls one byte, lists and maps three
    /// bytes plus one per element (and each map key's bytes), sets the sum of their members.
    pub fn size(&self) -> usize {
        match self {
            AttrValue::S(text) => text.len(),
            AttrValue::N(number) => number_size(number),
            AttrValue::B(bytes) => bytes.len(),
            AttrValue::Bool(_) | AttrValue::Null => 1,
            AttrValue::M(map) => 3 + map.iter().map(|(name, value)| 1 + name.len() + value.size()).sum::<usize>(),
            AttrValue::L(list) => 3 + list.iter().map(|value| 1 + value.size()).sum::<usize>(),
            AttrValue::Ss(texts) => texts.iter().map(String::len).sum(),
            AttrValue::Ns(numbers) => numbers.iter().map(number_size).sum(),
            AttrValue::Bs(blobs) => blobs.iter().map(Bytes::len).sum(),
        }
    }

    /// How deep maps and lists nest inside the value: 0 for a scalar or set, 1 for a map or
    /// list of scalars.
    pub fn nesting_depth(&self) -> usize {
        match self {
            AttrValue::M(map) => 1 + map.values().map(AttrValue::nesting_depth).max().unwrap_or(0),
            AttrValue::L(list) => 1 + list.iter().map(AttrValue::nesting_depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Reads one wire attribute value (`{"S": "x"}`), with DynamoDB's validation texts.
    pub fn from_json(json: &serde_json::Value) -> Result<AttrValue, DynamoError> {
        value_from_json(json, 0)
    }

    /// The wire form of the value.
    pub fn to_json(&self) -> serde_json::Value {
        let (key, value) = match self {
            AttrValue::S(text) => ("S", Json::String(text.clone())),
            AttrValue::N(number) => ("N", Json::String(number.to_string())),
            AttrValue::B(bytes) => ("B", Json::String(BASE64.encode(bytes))),
            AttrValue::Bool(flag) => ("BOOL", Json::Bool(*flag)),
            AttrValue::Null => ("NULL", Json::Bool(true)),
            AttrValue::M(map) => {
                ("M", Json::Object(map.iter().map(|(name, value)| (name.clone(), value.to_json())).collect()))
            }
            AttrValue::L(list) => ("L", Json::Array(list.iter().map(AttrValue::to_json).collect())),
            AttrValue::Ss(texts) => ("SS", Json::Array(texts.iter().cloned().map(Json::String).collect())),
            AttrValue::Ns(numbers) => {
                ("NS", Json::Array(numbers.iter().map(|n| Json::String(n.to_string())).collect()))
            }
            AttrValue::Bs(blobs) => ("BS", Json::Array(blobs.iter().map(|b| Json::String(BASE64.encode(b))).collect())),
        };
        let mut object = serde_json::Map::with_capacity(1);
        object.insert(key.to_owned(), value);
        Json::Object(object)
    }
}

/// AWS: "Numbers are variable length, with up to 38 significant digits. Leading and
/// trailing zeroes are trimmed. The size of a number is approximately (number of UTF-8
/// bytes of attribute name) + (1 byte per two significant digits) + (1 byte)."
fn number_size(number: &Number) -> usize {
    number.digits().len().div_ceil(2) + 1
}

/// The prefix DynamoDB puts before the texts of invalid values in items and keys.
const INVALID_PARAMETER: &str = "One or more parameter values were invalid: ";

fn invalid(text: impl std::fmt::Display) -> DynamoError {
    DynamoError::Validation(format!("{INVALID_PARAMETER}{text}"))
}

/// The JSON of a member of the wrong JSON type: AWS answers with a SerializationException
/// that names no member; this says which.
fn malformed(type_name: &str) -> DynamoError {
    DynamoError::Validation(format!("Malformed attribute value: {type_name} holds JSON of the wrong type"))
}

/// DynamoDB's text for values nested deeper than [`ATTRIBUTE_DEPTH_MAX`].
pub const NESTING_TOO_DEEP: &str = "Nesting Levels have exceeded supported limits";

/// The members of an attribute value's JSON object, one per type.
const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

fn value_from_json(json: &Json, depth: usize) -> Result<AttrValue, DynamoError> {
    if depth > ATTRIBUTE_DEPTH_MAX {
        return Err(DynamoError::Validation(NESTING_TOO_DEEP.into()));
    }
    let Json::Object(object) = json else {
        return Err(DynamoError::Validation("Malformed attribute value: expected a JSON object".into()));
    };
    // Members set to JSON null and members of no known type count as absent, as AWS's
    // JSON protocol reads them.
    let mut members = object.iter().filter(|(name, value)| !value.is_null() && TYPE_NAMES.contains(&name.as_str()));
    let Some((type_name, value)) = members.next() else {
        return Err(DynamoError::Validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into(),
        ));
    };
    if members.next().is_some() {
        return Err(DynamoError::Validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                .into(),
        ));
    }
    let text = |value: &Json| value.as_str().ok_or_else(|| malformed(type_name)).map(str::to_owned);
    Ok(match type_name.as_str() {
        "S" => AttrValue::S(text(value)?),
        "N" => AttrValue::N(Number::parse(&text(value)?)?),
        "B" => AttrValue::B(blob(value)?),
        "BOOL" => AttrValue::Bool(value.as_bool().ok_or_else(|| malformed(type_name))?),
        "NULL" => match value.as_bool() {
            Some(true) => AttrValue::Null,
            Some(false) => return Err(invalid("Null attribute value types must have the value of true")),
            None => return Err(malformed(type_name)),
        },
        "M" => {
            let map = value.as_object().ok_or_else(|| malformed(type_name))?;
            let mut entries = BTreeMap::new();
            for (name, member) in map {
                entries.insert(name.clone(), value_from_json(member, depth + 1)?);
            }
            AttrValue::M(entries)
        }
        "L" => AttrValue::L(
            json_array(value, type_name)?
                .iter()
                .map(|member| value_from_json(member, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        "SS" => {
            let members = json_array(value, type_name)?;
            if members.is_empty() {
                return Err(invalid("An string set  may not be empty"));
            }
            let texts: Vec<String> = members.iter().map(text).collect::<Result<_, _>>()?;
            refuse_duplicates(&texts, |text| text.clone(), |text| text.clone())?;
            AttrValue::Ss(texts)
        }
        "NS" => {
            let members = json_array(value, type_name)?;
            if members.is_empty() {
                return Err(invalid("An number set  may not be empty"));
            }
            let written: Vec<String> = members.iter().map(text).collect::<Result<_, _>>()?;
            let numbers: Vec<Number> = written.iter().map(|text| Number::parse(text)).collect::<Result<_, _>>()?;
            if has_duplicates(&numbers) {
                return Err(invalid(format!("Input collection [{}] contains duplicates.", written.join(", "))));
            }
            AttrValue::Ns(numbers)
        }
        "BS" => {
            let members = json_array(value, type_name)?;
            if members.is_empty() {
                return Err(invalid("Binary sets should not be empty"));
            }
            let blobs: Vec<Bytes> = members.iter().map(blob).collect::<Result<_, _>>()?;
            refuse_duplicates(&blobs, |blob| blob.clone(), |blob| BASE64.encode(blob))?;
            AttrValue::Bs(blobs)
        }
        _ => {
            return Err(DynamoError::Validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into(),
            ))
        }
    })
}

fn json_array<'a>(value: &'a Json, type_name: &str) -> Result<&'a Vec<Json>, DynamoError> {
    value.as_array().ok_or_else(|| malformed(type_name))
}

fn blob(value: &Json) -> Result<Bytes, DynamoError> {
    let text = value.as_str().ok_or_else(|| malformed("B"))?;
    BASE64
        .decode(text)
        .map(Bytes::from)
        .map_err(|_| DynamoError::Validation("Malformed attribute value: B is not valid base64".into()))
}

fn has_duplicates<T: Eq + std::hash::Hash>(members: &[T]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    !members.iter().all(|member| seen.insert(member))
}

fn refuse_duplicates<T, K: Eq + std::hash::Hash>(
    members: &[T],
    key: impl Fn(&T) -> K,
    show: impl Fn(&T) -> String,
) -> Result<(), DynamoError> {
    let keys: Vec<K> = members.iter().map(key).collect();
    if has_duplicates(&keys) {
        let shown: Vec<String> = members.iter().map(show).collect();
        return Err(invalid(format!("Input collection [{}] contains duplicates.", shown.join(", "))));
    }
    Ok(())
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(json: Json) -> String {
        AttrValue::from_json(&json).unwrap_err().to_string()
    }

    #[test]
    fn round_trips_every_type() {
        let value = json!({"M": {
            "s": {"S": "text"}, "n": {"N": "1.50"}, "b": {"B": "AQID"}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "x"}, {"N": "-0"}]},
            "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["2", "1E1"]}, "bs": {"BS": ["AA==", "AQ=="]}
        }});
        let parsed = AttrValue::from_json(&value).unwrap();
        let expected = json!({"M": {
            "s": {"S": "text"}, "n": {"N": "1.5"}, "b": {"B": "AQID"}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "x"}, {"N": "0"}]},
            "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["2", "10"]}, "bs": {"BS": ["AA==", "AQ=="]}
        }});
        assert_eq!(parsed.to_json(), expected);
        assert_eq!(AttrValue::from_json(&expected).unwrap(), parsed);
    }

    #[test]
    fn refuses_invalid_values_with_dynamodb_texts() {
        assert_eq!(
            error(json!({})),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            error(json!({"S": null})),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            error(json!({"S": "a", "N": "1"})),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            error(json!({"SS": []})),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert_eq!(
            error(json!({"NS": []})),
            "One or more parameter values were invalid: An number set  may not be empty"
        );
        assert_eq!(
            error(json!({"BS": []})),
            "One or more parameter values were invalid: Binary sets should not be empty"
        );
        assert_eq!(
            error(json!({"SS": ["a", "a"]})),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
        assert_eq!(
            error(json!({"NS": ["1", "1.0"]})),
            "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates."
        );
        assert_eq!(
            error(json!({"NULL": false})),
            "One or more parameter values were invalid: Null attribute value types must have the value of true"
        );
        assert_eq!(error(json!({"N": "x"})), "A value provided cannot be converted into a number");
        assert!(error(json!({"B": "!!"})).contains("base64"));
        assert!(error(json!({"S": 5})).contains("wrong type"));
        let mut deep = json!({"S": "leaf"});
        for _ in 0..=ATTRIBUTE_DEPTH_MAX {
            deep = json!({"L": [deep]});
        }
        assert_eq!(error(deep), "Nesting Levels have exceeded supported limits");
    }

    #[test]
    fn sizes_follow_aws_rules() {
        let value = |json: Json| AttrValue::from_json(&json).unwrap();
        assert_eq!(value(json!({"S": "héllo"})).size(), 6);
        assert_eq!(value(json!({"N": "12345"})).size(), 4);
        assert_eq!(value(json!({"N": "0"})).size(), 1);
        assert_eq!(value(json!({"B": "AQID"})).size(), 3);
        assert_eq!(value(json!({"BOOL": false})).size(), 1);
        assert_eq!(value(json!({"L": [{"S": "ab"}, {"NULL": true}]})).size(), 3 + 3 + 2);
        assert_eq!(value(json!({"M": {"k": {"S": "ab"}}})).size(), 3 + 1 + 1 + 2);
        assert_eq!(value(json!({"SS": ["ab", "c"]})).size(), 3);
        let mut item = Item::new();
        item.insert("name".into(), value(json!({"S": "abc"})));
        assert_eq!(item_size(&item), 7);
    }
}
