//! Read snapshots: gets, stats, scans and queries over what is committed.

use redb::{ReadOnlyTable, ReadTransaction};

use super::codec::decode_item;
use super::keys::{self, as_slices, condition_range, encode_value, ByteRange};
use super::layout::{self, Stats};
use super::StoreError;
use crate::key::{KeyCondition, KeyValue, PrimaryKey};
use crate::table::{IndexDef, TableDef};
use crate::value::Item;

/// Items in key order (of the table, or of the index then the table's key).
pub type Cursor<'a> = Box<dyn Iterator<Item = Result<Item, StoreError>> + 'a>;

/// A parallel scan's part: `segment` of `total` (DynamoDB's `Segment`, `TotalSegments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub segment: u32,
    pub total: u32,
}

type BytesTable = ReadOnlyTable<&'static [u8], &'static [u8]>;
type Row<'a> = (redb::AccessGuard<'a, &'static [u8]>, redb::AccessGuard<'a, &'static [u8]>);

/// A read snapshot.
pub struct ReadTxn {
    items: BytesTable,
    entries: BytesTable,
    stats: BytesTable,
    /// Kept so the snapshot lives as long as this value (the tables above hold their own
    /// references, but the transaction is what the snapshot is).
    _txn: ReadTransaction,
}

fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

impl ReadTxn {
    pub(super) fn open(txn: ReadTransaction) -> Result<ReadTxn, StoreError> {
        Ok(ReadTxn {
            items: txn.open_table(layout::ITEMS).map_err(database)?,
            entries: txn.open_table(layout::INDEX_ENTRIES).map_err(database)?,
            stats: txn.open_table(layout::STATS).map_err(database)?,
            _txn: txn,
        })
    }

    /// The item under `key`.
    pub fn get(&self, table: &TableDef, key: &PrimaryKey) -> Result<Option<Item>, StoreError> {
        let row = layout::item_key(table.uid, key);
        let found = self.items.get(row.as_slice()).map_err(database)?;
        found.map(|guard| decode_item(guard.value())).transpose()
    }

    fn stats(&self, key: &[u8]) -> Result<(u64, u64), StoreError> {
        let found = self.stats.get(key).map_err(database)?;
        let stats = found.map_or(Ok(Stats::default()), |guard| Stats::decode(guard.value()))?;
        Ok((stats.count, stats.bytes))
    }

    /// Items in the table and their total size in bytes (DescribeTable's `ItemCount` and
    /// `TableSizeBytes`), exact.
    pub fn table_stats(&self, table: &TableDef) -> Result<(u64, u64), StoreError> {
        self.stats(&layout::table_stats_key(table.uid))
    }

    /// Items in the index (its `ItemCount`) and their size.
    pub fn index_stats(&self, table: &TableDef, index: &IndexDef) -> Result<(u64, u64), StoreError> {
        self.stats(&layout::index_stats_key(table.uid, &index.name))
    }

    /// The row key an `ExclusiveStartKey` stands for.
    fn start_key(table: &TableDef, index: Option<&IndexDef>, start: &Item) -> Result<Vec<u8>, StoreError> {
        let key = match index {
            Some(index) => layout::index_entry_key(table, index, start),
            None => table.key.key_of(start).map(|key| layout::item_key(table.uid, &key)),
        };
        key.ok_or_else(|| StoreError::Database("the start key lacks the key attributes it must have".into()))
    }

    /// The rows of `range` in the table or index, decoded, forward or backward.
    fn rows<'a>(&'a self, index: Option<&IndexDef>, range: ByteRange, forward: bool) -> Result<Cursor<'a>, StoreError> {
        if keys::is_empty(&range) {
            return Ok(Box::new(std::iter::empty()));
        }
        let table = if index.is_some() { &self.entries } else { &self.items };
        let rows = table.range::<&[u8]>(as_slices(&range)).map_err(database)?;
        let decode = |row: Result<Row<'_>, redb::StorageError>| {
            row.map_err(database).and_then(|(_, value)| decode_item(value.value()))
        };
        Ok(if forward { Box::new(rows.map(decode)) } else { Box::new(rows.rev().map(decode)) })
    }

    /// The table's items (or an index's projected items), after `start` (an
    /// `ExclusiveStartKey` the caller validated: the table's key attributes, plus the
    /// index's for an index), only those of `segment` when given. A segment is every item
    /// whose partition key hashes to it, so segments split the table without overlap.
    pub fn scan<'a>(
        &'a self,
        table: &TableDef,
        index: Option<&IndexDef>,
        start: Option<&Item>,
        segment: Option<Segment>,
    ) -> Result<Cursor<'a>, StoreError> {
        let prefix = match index {
            Some(index) => layout::index_prefix(table.uid, &index.name),
            None => layout::table_prefix(table.uid),
        };
        let mut range = keys::prefix_range(&prefix);
        if let Some(start) = start {
            range = keys::narrow_after(range, Self::start_key(table, index, start)?, true);
        }
        let rows = self.rows(index, range, true)?;
        let Some(segment) = segment else {
            return Ok(rows);
        };
        if segment.segment >= segment.total {
            return Err(StoreError::Database(format!(
                "segment {} of {} does not exist",
                segment.segment, segment.total
            )));
        }
        let hash = layout::schema(table, index).hash.clone();
        Ok(Box::new(rows.filter(move |row| {
            let Ok(item) = row else { return true };
            match item.get(&hash.name).and_then(|value| KeyValue::from_attr(value, hash.ty)) {
                Some(value) => segment_of(&value, segment.total) == segment.segment,
                // A row without its partition key is damaged: let the reader see it.
                None => true,
            }
        })))
    }

    /// The items (or an index's projected items) matching `condition`, in sort-key order
    /// (`forward`) or reversed, after `start` as in [`scan`](Self::scan).
    pub fn query<'a>(
        &'a self,
        table: &TableDef,
        index: Option<&IndexDef>,
        condition: &KeyCondition,
        forward: bool,
        start: Option<&Item>,
    ) -> Result<Cursor<'a>, StoreError> {
        let partition = layout::partition_prefix(table, index, &condition.hash);
        let mut range = condition_range(&partition, condition.range.as_ref())
            .map_err(|_| StoreError::Database("begins_with does not apply to a number sort key".into()))?;
        if let Some(start) = start {
            range = keys::narrow_after(range, Self::start_key(table, index, start)?, forward);
        }
        self.rows(index, range, forward)
    }
}

/// The parallel-scan segment of a partition key: a stable hash of its encoding.
pub fn segment_of(hash: &KeyValue, total: u32) -> u32 {
    let mut bytes = Vec::new();
    encode_value(hash, &mut bytes);
    (keys::stable_hash(&bytes) % u64::from(total.max(1))) as u32
}
