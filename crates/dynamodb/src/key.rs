//! Key schemas, primary keys and the key conditions of a Query.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::value::{AttrValue, Item, Number};

/// The scalar type of a key attribute (`AttributeDefinitions`' `AttributeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyType {
    S,
    N,
    B,
}

/// One key attribute: its name and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    pub name: String,
    pub ty: KeyType,
}

/// The key of a table or an index: a partition (hash) key and an optional sort (range) key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
}

/// A key attribute's value: only the three scalar types can be keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyValue {
    S(String),
    N(Number),
    B(Bytes),
}

impl KeyValue {
    /// The value as an attribute value.
    pub fn to_attr(&self) -> AttrValue {
        match self {
            KeyValue::S(text) => AttrValue::S(text.clone()),
            KeyValue::N(number) => AttrValue::N(number.clone()),
            KeyValue::B(bytes) => AttrValue::B(bytes.clone()),
        }
    }

    /// The key value an attribute value is, if its type is `ty`.
    pub fn from_attr(value: &AttrValue, ty: KeyType) -> Option<KeyValue> {
        match (value, ty) {
            (AttrValue::S(text), KeyType::S) => Some(KeyValue::S(text.clone())),
            (AttrValue::N(number), KeyType::N) => Some(KeyValue::N(number.clone())),
            (AttrValue::B(bytes), KeyType::B) => Some(KeyValue::B(bytes.clone())),
            _ => None,
        }
    }
}

/// A primary key: the partition key's value and, for tables with a sort key, its value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PrimaryKey {
    pub hash: KeyValue,
    pub range: Option<KeyValue>,
}

impl KeySchema {
    /// The key of `item` under this schema, or `None` when an attribute of the key is
    /// missing or of another type (callers report DynamoDB's text for their operation).
    pub fn key_of(&self, item: &Item) -> Option<PrimaryKey> {
        let hash = KeyValue::from_attr(item.get(&self.hash.name)?, self.hash.ty)?;
        let range = match &self.range {
            Some(attr) => Some(KeyValue::from_attr(item.get(&attr.name)?, attr.ty)?),
            None => None,
        };
        Some(PrimaryKey { hash, range })
    }

    /// The key attributes of `key` as an item (what `LastEvaluatedKey` and key-only
    /// projections hold).
    pub fn key_item(&self, key: &PrimaryKey) -> Item {
        let mut item = Item::new();
        item.insert(self.hash.name.clone(), key.hash.to_attr());
        if let (Some(attr), Some(value)) = (&self.range, &key.range) {
            item.insert(attr.name.clone(), value.to_attr());
        }
        item
    }

    /// The names of the key attributes, partition key first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.name.as_str()).chain(self.range.as_ref().map(|attr| attr.name.as_str()))
    }
}

/// The sort-key part of a Query's key condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeCondition {
    Eq(KeyValue),
    Lt(KeyValue),
    Le(KeyValue),
    Gt(KeyValue),
    Ge(KeyValue),
    Between(KeyValue, KeyValue),
    /// `begins_with`: only for S and B sort keys.
    BeginsWith(KeyValue),
}

/// A Query's key condition: one partition key value, optionally narrowed on the sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCondition {
    pub hash: KeyValue,
    pub range: Option<RangeCondition>,
}
