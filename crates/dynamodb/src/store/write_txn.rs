//! A job's view of the group's redb write transaction, with an undo log so a job that
//! returns `Err` (or panics) leaves no trace.
//!
//! Why an undo log rather than staging changes or redb savepoints: redb refuses a
//! savepoint once a transaction has opened a table, so per-job savepoints would cost a
//! commit each; staging would need every read (gets, index backfills, table deletes) to
//! merge staged and stored rows. Writing through and remembering each touched row's first
//! prior value keeps reads plain and makes discarding a job a replay of at most the rows
//! it touched.

use redb::{ReadableTable, Table, WriteTransaction};
use std::collections::HashSet;

use super::codec::{decode_item, encode_item};
use super::keys::{as_slices, prefix_range, ByteRange};
use super::layout::{self, Stats};
use super::StoreError;
use crate::key::PrimaryKey;
use crate::table::{IndexDef, TableDef, TableUid};
use crate::value::Item;

/// The five tables of [`layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Which {
    Defs,
    Meta,
    Items,
    Entries,
    Stats,
}

type BytesTable<'t> = Table<'t, &'static [u8], &'static [u8]>;
/// A row's key and value, copied out of the table.
type OwnedRow = (Vec<u8>, Vec<u8>);

/// One job's view inside a group commit.
pub struct WriteTxn<'a> {
    defs: BytesTable<'a>,
    meta: BytesTable<'a>,
    items: BytesTable<'a>,
    entries: BytesTable<'a>,
    stats: BytesTable<'a>,
    /// Each row this job changed, with its value before the job's first change.
    undo: Vec<(Which, Vec<u8>, Option<Vec<u8>>)>,
    touched: HashSet<(Which, Vec<u8>)>,
    /// A database failure inside the group: the group is aborted and writes stop.
    failure: Option<String>,
}

impl<'a> WriteTxn<'a> {
    pub(super) fn open(txn: &'a WriteTransaction) -> Result<WriteTxn<'a>, redb::TableError> {
        Ok(WriteTxn {
            defs: txn.open_table(layout::TABLE_DEFS)?,
            meta: txn.open_table(layout::META)?,
            items: txn.open_table(layout::ITEMS)?,
            entries: txn.open_table(layout::INDEX_ENTRIES)?,
            stats: txn.open_table(layout::STATS)?,
            undo: Vec::new(),
            touched: HashSet::new(),
            failure: None,
        })
    }

    /// Starts the next job: what came before it is kept.
    pub(super) fn begin_job(&mut self) {
        self.undo.clear();
        self.touched.clear();
    }

    /// Puts back every row the current job changed.
    pub(super) fn discard_job(&mut self) {
        let undo = std::mem::take(&mut self.undo);
        for (which, key, prior) in undo.into_iter().rev() {
            if let Err(error) = self.set(which, &key, prior.as_deref()) {
                self.fail(&error);
                return;
            }
        }
        self.touched.clear();
    }

    /// The database failure met in this group, if any.
    pub(super) fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    fn table(&mut self, which: Which) -> &mut BytesTable<'a> {
        match which {
            Which::Defs => &mut self.defs,
            Which::Meta => &mut self.meta,
            Which::Items => &mut self.items,
            Which::Entries => &mut self.entries,
            Which::Stats => &mut self.stats,
        }
    }

    fn fail(&mut self, error: &StoreError) {
        if self.failure.is_none() {
            self.failure = Some(error.to_string());
        }
    }

    fn database<E: std::fmt::Display>(&mut self, error: E) -> StoreError {
        let error = StoreError::Database(error.to_string());
        self.fail(&error);
        error
    }

    fn get_raw(&mut self, which: Which, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let found = self.table(which).get(key).map(|value| value.map(|guard| guard.value().to_vec()));
        found.map_err(|error| self.database(error))
    }

    /// Writes (or with `None` removes) a row, returning its previous value.
    fn set(&mut self, which: Which, key: &[u8], value: Option<&[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        let table = self.table(which);
        let previous = match value {
            Some(value) => table.insert(key, value).map(|old| old.map(|guard| guard.value().to_vec())),
            None => table.remove(key).map(|old| old.map(|guard| guard.value().to_vec())),
        };
        previous.map_err(|error| self.database(error))
    }

    /// [`set`](Self::set), remembering the row's prior value on the job's first change.
    fn change(&mut self, which: Which, key: &[u8], value: Option<&[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        let previous = self.set(which, key, value)?;
        if self.touched.insert((which, key.to_vec())) {
            self.undo.push((which, key.to_vec(), previous.clone()));
        }
        Ok(previous)
    }

    /// Every row of `which` in `range`, copied out (so the caller may change them).
    fn rows(&mut self, which: Which, range: ByteRange) -> Result<Vec<OwnedRow>, StoreError> {
        let rows = self.table(which).range::<&[u8]>(as_slices(&range)).and_then(|rows| {
            rows.map(|row| row.map(|(key, value)| (key.value().to_vec(), value.value().to_vec()))).collect()
        });
        rows.map_err(|error| self.database(error))
    }

    fn remove_prefix(&mut self, which: Which, prefix: &[u8]) -> Result<(), StoreError> {
        for (key, _) in self.rows(which, prefix_range(prefix))? {
            self.change(which, &key, None)?;
        }
        Ok(())
    }

    fn stats(&mut self, key: &[u8]) -> Result<Stats, StoreError> {
        self.get_raw(Which::Stats, key)?.map_or(Ok(Stats::default()), |bytes| Stats::decode(&bytes))
    }

    fn adjust_stats(&mut self, key: &[u8], removed: Option<&Item>, added: Option<&Item>) -> Result<(), StoreError> {
        let mut stats = self.stats(key)?;
        if let Some(item) = removed {
            stats = stats.with(item, false);
        }
        if let Some(item) = added {
            stats = stats.with(item, true);
        }
        self.change(Which::Stats, key, Some(&stats.encode()))?;
        Ok(())
    }

    /// Replaces `old`'s entry in `index` by `new`'s (either may be absent or lack the
    /// index's key, which leaves it out of the sparse index).
    fn update_index(
        &mut self,
        table: &TableDef,
        index: &IndexDef,
        old: Option<&Item>,
        new: Option<&Item>,
    ) -> Result<(), StoreError> {
        let old_entry = old.and_then(|item| Some((layout::index_entry_key(table, index, item)?, item)));
        let new_entry = new.and_then(|item| Some((layout::index_entry_key(table, index, item)?, item)));
        let old_projected = old_entry.as_ref().map(|(_, item)| layout::project(table, index, item));
        let new_projected = new_entry.as_ref().map(|(_, item)| layout::project(table, index, item));
        let same_key = matches!((&old_entry, &new_entry), (Some((a, _)), Some((b, _))) if a == b);
        if same_key && old_projected == new_projected {
            return Ok(());
        }
        if let (Some((key, _)), false) = (&old_entry, same_key) {
            self.change(Which::Entries, key, None)?;
        }
        if let (Some((key, _)), Some(projected)) = (&new_entry, &new_projected) {
            self.change(Which::Entries, key, Some(&encode_item(projected)))?;
        }
        if old_projected.is_some() || new_projected.is_some() {
            let stats_key = layout::index_stats_key(table.uid, &index.name);
            self.adjust_stats(&stats_key, old_projected.as_ref(), new_projected.as_ref())?;
        }
        Ok(())
    }

    /// Writes `new` (or removes, with `None`) the item under `key`, with its index entries
    /// and stats.
    fn replace_item(&mut self, table: &TableDef, key: &PrimaryKey, new: Option<Item>) -> Result<(), StoreError> {
        let row = layout::item_key(table.uid, key);
        let bytes = new.as_ref().map(encode_item);
        let previous = self.change(Which::Items, &row, bytes.as_deref())?;
        let old = previous.as_deref().map(decode_item).transpose()?;
        if old.is_none() && new.is_none() {
            return Ok(());
        }
        self.adjust_stats(&layout::table_stats_key(table.uid), old.as_ref(), new.as_ref())?;
        for index in &table.indexes {
            self.update_index(table, index, old.as_ref(), new.as_ref())?;
        }
        Ok(())
    }

    /// The item under `key`, including this job's own changes.
    pub fn get(&mut self, table: &TableDef, key: &PrimaryKey) -> Result<Option<Item>, StoreError> {
        let row = layout::item_key(table.uid, key);
        self.get_raw(Which::Items, &row)?.as_deref().map(decode_item).transpose()
    }

    /// Stores `item` under `key` (the item's own key under `table.key`), replacing any item
    /// there and keeping the table's index entries and counts in step.
    pub fn put(&mut self, table: &TableDef, key: &PrimaryKey, item: Item) -> Result<(), StoreError> {
        self.replace_item(table, key, Some(item))
    }

    /// Removes the item under `key`, if any, with its index entries.
    pub fn delete(&mut self, table: &TableDef, key: &PrimaryKey) -> Result<(), StoreError> {
        self.replace_item(table, key, None)
    }

    /// A table id never used before.
    pub fn allocate_uid(&mut self) -> Result<TableUid, StoreError> {
        let next = match self.get_raw(Which::Meta, layout::NEXT_UID)? {
            None => 1,
            Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                Ok(array) => u64::from_be_bytes(array),
                Err(_) => return Err(StoreError::Corrupt("the next table uid is damaged".into())),
            },
        };
        let after = next.checked_add(1).ok_or_else(|| StoreError::Database("table uids are exhausted".into()))?;
        self.change(Which::Meta, layout::NEXT_UID, Some(&after.to_be_bytes()))?;
        Ok(next)
    }

    /// Creates or replaces a table's definition.
    pub fn put_table(&mut self, table: &TableDef) -> Result<(), StoreError> {
        let bytes = layout::encode_table(table)?;
        self.change(Which::Defs, &table.uid.to_be_bytes(), Some(&bytes))?;
        Ok(())
    }

    /// Removes a table's definition, items and index entries.
    pub fn delete_table(&mut self, table: &TableDef) -> Result<(), StoreError> {
        let prefix = layout::table_prefix(table.uid);
        self.change(Which::Defs, &prefix, None)?;
        self.remove_prefix(Which::Items, &prefix)?;
        self.remove_prefix(Which::Entries, &prefix)?;
        self.remove_prefix(Which::Stats, &prefix)
    }

    /// Fills a new index (already in `table.indexes`) from the table's items.
    pub fn build_index(&mut self, table: &TableDef, index: &str) -> Result<(), StoreError> {
        let index = table
            .index(index)
            .ok_or_else(|| StoreError::Database(format!("table {} has no index {index} to build", table.name)))?;
        self.drop_index(table, &index.name)?;
        for (_, bytes) in self.rows(Which::Items, prefix_range(&layout::table_prefix(table.uid)))? {
            let item = decode_item(&bytes)?;
            self.update_index(table, index, None, Some(&item))?;
        }
        Ok(())
    }

    /// Removes an index's entries (the definition is the caller's to change).
    pub fn drop_index(&mut self, table: &TableDef, index: &str) -> Result<(), StoreError> {
        self.remove_prefix(Which::Entries, &layout::index_prefix(table.uid, index))?;
        self.change(Which::Stats, &layout::index_stats_key(table.uid, index), None)?;
        Ok(())
    }
}
