//! A table's stored definition: what CreateTable and UpdateTable set and DescribeTable
//! shows, plus the store's id for its items. Kept in the store as JSON (serde), so a field
//! added later needs a `#[serde(default)]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::key::{KeyAttr, KeySchema};

/// The store's id of a table's items and index entries. A table created again under the
/// same name gets a new id, so leftovers of the old one are never seen.
pub type TableUid = u64;

/// One table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    pub uid: TableUid,
    pub name: String,
    /// DynamoDB's `TableId` (a UUID).
    pub table_id: String,
    pub key: KeySchema,
    /// Every declared attribute (keys of the table and of its indexes), in request order.
    pub attributes: Vec<KeyAttr>,
    /// Global and local secondary indexes, in creation order.
    pub indexes: Vec<IndexDef>,
    pub billing: Billing,
    pub status: TableStatus,
    /// Epoch milliseconds of CreateTable.
    pub created_ms: u64,
    /// When the current transition (CREATING, UPDATING, DELETING) ends, epoch milliseconds.
    #[serde(default)]
    pub transition_ends_ms: Option<u64>,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub ttl: Option<TtlSetting>,
    #[serde(default)]
    pub point_in_time_recovery: bool,
    /// `TableClass`: stored and described; Rheo stores every class alike.
    #[serde(default)]
    pub table_class: TableClass,
    /// Server-side encryption with a KMS key (`SSESpecification.Enabled`): the key's ARN.
    /// `None` is DynamoDB's default, a key owned by AWS. Stored and described only: the
    /// store's file is as protected as the data directory it lives in.
    #[serde(default)]
    pub sse_kms_key_arn: Option<String>,
}

/// A secondary index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    /// A local index shares the table's partition key; a global one has its own.
    pub local: bool,
    pub key: KeySchema,
    pub projection: Projection,
    pub status: IndexStatus,
    /// A provisioned table's index throughput (read, write); `None` on demand.
    #[serde(default)]
    pub provisioned: Option<(u64, u64)>,
    /// When the index's CREATING (backfill) or DELETING ends, epoch milliseconds.
    #[serde(default)]
    pub transition_ends_ms: Option<u64>,
}

/// Which attributes an index holds beside the keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// Billing mode and, when provisioned, the table's throughput.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Billing {
    PayPerRequest,
    Provisioned { read: u64, write: u64 },
}

/// A table's storage class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableClass {
    #[default]
    Standard,
    StandardInfrequentAccess,
}

/// A table's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableStatus {
    Creating,
    Active,
    Updating,
    Deleting,
}

/// An index's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexStatus {
    Creating,
    Active,
    Updating,
    Deleting,
}

/// Time to live: stored and described (items are not expired by Rheo).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlSetting {
    pub attribute: String,
    pub enabled: bool,
}

impl TableDef {
    /// The index called `name`.
    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes.iter().find(|index| index.name == name)
    }
}
