//! What the database holds and how its keys are built.
//!
//! Five redb tables, all byte strings to byte strings (so one undo log covers them all):
//! - `dynamodb_tables`: `uid` (8 bytes, big-endian) → [`TABLE_FORMAT`] + serde JSON of
//!   the [`TableDef`];
//! - `dynamodb_meta`: `next_uid` → the next table uid (8 bytes, big-endian);
//! - `dynamodb_items`: `uid ++ key` → the item ([`codec`](super::codec));
//! - `dynamodb_index_entries`: `uid ++ index name ++ index key ++ table key` → the item as
//!   the index projects it;
//! - `dynamodb_stats`: `uid ++ 00` (the table) or `uid ++ 01 ++ index name` → item count
//!   and DynamoDB size in bytes (8 + 8 bytes, big-endian).
//!
//! Keys are [`keys`](super::keys) encodings, so byte order is DynamoDB's key order. An
//! index name is written length-first, so no index's entries can start with another's
//! prefix; the table key after the index key makes entries with equal index keys unique.

use redb::TableDefinition;

use super::keys::{encode_key, encode_value};
use super::StoreError;
use crate::key::KeyValue;
use crate::key::{KeySchema, PrimaryKey};
use crate::table::{IndexDef, Projection, TableDef, TableUid};
use crate::value::{item_size, Item};

pub type BytesTable = TableDefinition<'static, &'static [u8], &'static [u8]>;

pub const TABLE_DEFS: BytesTable = TableDefinition::new("dynamodb_tables");
pub const META: BytesTable = TableDefinition::new("dynamodb_meta");
pub const ITEMS: BytesTable = TableDefinition::new("dynamodb_items");
pub const INDEX_ENTRIES: BytesTable = TableDefinition::new("dynamodb_index_entries");
pub const STATS: BytesTable = TableDefinition::new("dynamodb_stats");

/// The `dynamodb_meta` key of the next table uid.
pub const NEXT_UID: &[u8] = b"next_uid";

/// The format of a stored table definition.
pub const TABLE_FORMAT: u8 = 1;

const TABLE_STATS: u8 = 0;
const INDEX_STATS: u8 = 1;

/// Where a table's items (and all its other rows) start.
pub fn table_prefix(uid: TableUid) -> Vec<u8> {
    uid.to_be_bytes().to_vec()
}

/// The `dynamodb_items` key of an item.
pub fn item_key(uid: TableUid, key: &PrimaryKey) -> Vec<u8> {
    let mut bytes = table_prefix(uid);
    encode_key(key, &mut bytes);
    bytes
}

/// Where an index's entries start.
pub fn index_prefix(uid: TableUid, index: &str) -> Vec<u8> {
    let mut bytes = table_prefix(uid);
    push_name(index, &mut bytes);
    bytes
}

fn push_name(name: &str, bytes: &mut Vec<u8>) {
    let mut len = name.len() as u64;
    while len >= 0x80 {
        bytes.push((len as u8) | 0x80);
        len >>= 7;
    }
    bytes.push(len as u8);
    bytes.extend_from_slice(name.as_bytes());
}

/// The index entry key of `item`, or `None` when the item lacks the index's key
/// attributes (indexes are sparse) or has no table key.
///
/// An empty string or binary index key value also leaves the item out: item writes refuse
/// those, and DynamoDB's backfill skips items that already hold one.
pub fn index_entry_key(table: &TableDef, index: &IndexDef, item: &Item) -> Option<Vec<u8>> {
    let index_key = index.key.key_of(item)?;
    let empty = |value: &KeyValue| {
        matches!(value, KeyValue::S(text) if text.is_empty()) || matches!(value, KeyValue::B(bytes) if bytes.is_empty())
    };
    if empty(&index_key.hash) || index_key.range.as_ref().is_some_and(empty) {
        return None;
    }
    let table_key = table.key.key_of(item)?;
    let mut bytes = index_prefix(table.uid, &index.name);
    encode_key(&index_key, &mut bytes);
    encode_key(&table_key, &mut bytes);
    Some(bytes)
}

/// The partition of a Query: the table's (or index's) prefix and the partition key.
pub fn partition_prefix(table: &TableDef, index: Option<&IndexDef>, hash: &crate::key::KeyValue) -> Vec<u8> {
    let mut bytes = match index {
        Some(index) => index_prefix(table.uid, &index.name),
        None => table_prefix(table.uid),
    };
    encode_value(hash, &mut bytes);
    bytes
}

/// The attributes of `item` an index holds: its projection plus the table's and the
/// index's keys.
pub fn project(table: &TableDef, index: &IndexDef, item: &Item) -> Item {
    let keep = |name: &str, extra: &[String]| {
        table.key.names().any(|key| key == name)
            || index.key.names().any(|key| key == name)
            || extra.iter().any(|extra| extra == name)
    };
    match &index.projection {
        Projection::All => item.clone(),
        Projection::KeysOnly => {
            item.iter().filter(|(name, _)| keep(name, &[])).map(|(name, value)| (name.clone(), value.clone())).collect()
        }
        Projection::Include(extra) => item
            .iter()
            .filter(|(name, _)| keep(name, extra))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
    }
}

/// The key schema a scan or query of `index` (or the table) reads by.
pub fn schema<'a>(table: &'a TableDef, index: Option<&'a IndexDef>) -> &'a KeySchema {
    index.map_or(&table.key, |index| &index.key)
}

pub fn table_stats_key(uid: TableUid) -> Vec<u8> {
    let mut bytes = table_prefix(uid);
    bytes.push(TABLE_STATS);
    bytes
}

pub fn index_stats_key(uid: TableUid, index: &str) -> Vec<u8> {
    let mut bytes = table_prefix(uid);
    bytes.push(INDEX_STATS);
    push_name(index, &mut bytes);
    bytes
}

/// Item count and DynamoDB size in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub count: u64,
    pub bytes: u64,
}

impl Stats {
    pub fn decode(bytes: &[u8]) -> Result<Stats, StoreError> {
        let (count, size) = match (bytes.get(..8), bytes.get(8..)) {
            (Some(count), Some(size)) if size.len() == 8 => (count, size),
            _ => return Err(StoreError::Corrupt(format!("a stats record of {} bytes", bytes.len()))),
        };
        let word = |slice: &[u8]| {
            let mut array = [0u8; 8];
            array.copy_from_slice(slice);
            u64::from_be_bytes(array)
        };
        Ok(Stats { count: word(count), bytes: word(size) })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = self.count.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.bytes.to_be_bytes());
        bytes
    }

    /// These stats with `item` added, or removed.
    pub fn with(self, item: &Item, added: bool) -> Stats {
        let size = item_size(item) as u64;
        if added {
            Stats { count: self.count.saturating_add(1), bytes: self.bytes.saturating_add(size) }
        } else {
            Stats { count: self.count.saturating_sub(1), bytes: self.bytes.saturating_sub(size) }
        }
    }
}

pub fn encode_table(table: &TableDef) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![TABLE_FORMAT];
    serde_json::to_writer(&mut bytes, table)
        .map_err(|error| StoreError::Database(format!("cannot serialize table {}: {error}", table.name)))?;
    Ok(bytes)
}

pub fn decode_table(bytes: &[u8]) -> Result<TableDef, StoreError> {
    match bytes.split_first() {
        Some((&TABLE_FORMAT, json)) => serde_json::from_slice(json)
            .map_err(|error| StoreError::Corrupt(format!("a stored table definition does not parse: {error}"))),
        Some((version, _)) => {
            Err(StoreError::Corrupt(format!("a stored table definition of unknown format version {version}")))
        }
        None => Err(StoreError::Corrupt("an empty stored table definition".into())),
    }
}
