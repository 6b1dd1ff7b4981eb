//! Helpers shared by the store's integration tests: table definitions and items.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses a part of this

use std::collections::BTreeMap;

use rheo_dynamodb::key::{KeyAttr, KeySchema, KeyType, KeyValue, PrimaryKey};
use rheo_dynamodb::store::{Store, StoreConfig, StoreLocation};
use rheo_dynamodb::table::{Billing, IndexDef, IndexStatus, Projection, TableClass, TableDef, TableStatus};
use rheo_dynamodb::value::{AttrValue, Item, Number};

pub fn attr(name: &str, ty: KeyType) -> KeyAttr {
    KeyAttr { name: name.into(), ty }
}

/// A table keyed by `pk` (S) and, when `range` is given, a sort key `sk` of that type.
pub fn table(uid: u64, name: &str, range: Option<KeyType>) -> TableDef {
    table_keyed(uid, name, KeySchema { hash: attr("pk", KeyType::S), range: range.map(|ty| attr("sk", ty)) })
}

/// An active on-demand table with this key and no index.
pub fn table_keyed(uid: u64, name: &str, key: KeySchema) -> TableDef {
    TableDef {
        uid,
        name: name.into(),
        table_id: format!("00000000-0000-0000-0000-{uid:012}"),
        key,
        attributes: Vec::new(),
        indexes: Vec::new(),
        billing: Billing::PayPerRequest,
        status: TableStatus::Active,
        created_ms: 0,
        transition_ends_ms: None,
        deletion_protection: false,
        tags: BTreeMap::new(),
        ttl: None,
        point_in_time_recovery: false,
        table_class: TableClass::default(),
        sse_kms_key_arn: None,
    }
}

/// KCL's lease-owner index: `owner` (S) hash, `pk` range, keys only.
pub fn owner_index(projection: Projection) -> IndexDef {
    IndexDef {
        name: "OwnerIndex".into(),
        local: false,
        key: KeySchema { hash: attr("owner", KeyType::S), range: Some(attr("pk", KeyType::S)) },
        projection,
        status: IndexStatus::Active,
        provisioned: None,
        transition_ends_ms: None,
    }
}

pub fn s(text: &str) -> AttrValue {
    AttrValue::S(text.into())
}

pub fn n(value: i64) -> Number {
    if value == 0 {
        return Number::zero();
    }
    let mut digits: Vec<u8> = value.unsigned_abs().to_string().bytes().map(|byte| byte - b'0').collect();
    let exponent = digits.len() as i32;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    Number::from_parts(value < 0, digits, exponent).unwrap()
}

pub fn item(pairs: &[(&str, AttrValue)]) -> Item {
    pairs.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

pub fn key_s(hash: &str) -> PrimaryKey {
    PrimaryKey { hash: KeyValue::S(hash.into()), range: None }
}

pub fn key_sn(hash: &str, range: i64) -> PrimaryKey {
    PrimaryKey { hash: KeyValue::S(hash.into()), range: Some(KeyValue::N(n(range))) }
}

pub fn in_memory() -> Store {
    Store::open(StoreConfig { location: StoreLocation::InMemory, durable: false }).unwrap()
}

pub fn on_disk(dir: &std::path::Path) -> Store {
    Store::open(StoreConfig { location: StoreLocation::Dir(dir.to_path_buf()), durable: true }).unwrap()
}

/// Runs a job that cannot fail on its own.
pub async fn write<T: Send + 'static>(
    store: &Store,
    job: impl FnOnce(&mut rheo_dynamodb::store::WriteTxn<'_>) -> Result<T, rheo_dynamodb::store::StoreError>
        + Send
        + 'static,
) -> T {
    store.write(job).await.unwrap().unwrap()
}

/// On disk without fsync per commit (`--durability relaxed`): what a clean close keeps.
pub fn on_disk_relaxed(dir: &std::path::Path) -> Store {
    Store::open(StoreConfig { location: StoreLocation::Dir(dir.to_path_buf()), durable: false }).unwrap()
}
