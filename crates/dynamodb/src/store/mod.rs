//! The durable embedded store: table definitions, items and secondary-index entries in one
//! redb database (`<data-dir>/dynamodb/tables.redb`).
//!
//! Writes go through one writer thread that takes queued jobs in order and runs up to
//! [`GROUP_COMMIT_JOBS_MAX`](crate::limits::GROUP_COMMIT_JOBS_MAX) of them in one redb write
//! transaction, committed once: each job sees everything committed and every earlier job
//! of its group, so a conditional write's check and its change are atomic (two workers can
//! never both take a lease), and many lease renewals share one fsync. A job's changes are
//! applied only when it returns `Ok`. Callers are answered only after the commit is
//! durable; a failed commit fails every job of the group and stops writes (as a failed
//! fsync does in the shard log).
//!
//! Reads take a redb read transaction: a consistent snapshot of what is committed.
//!
//! SKELETON: the `dy-store` piece owns this folder and implements the bodies marked
//! `// SKELETON:`, keeping these public signatures (adding is fine).

use std::path::PathBuf;

use crate::key::{KeyCondition, PrimaryKey};
use crate::table::{IndexDef, TableDef, TableUid};
use crate::value::Item;

/// Where the database lives.
#[derive(Clone, Debug)]
pub enum StoreLocation {
    /// A folder (created if missing) holding the database file.
    Dir(PathBuf),
    /// In memory only (`rheo serve --in-memory`): nothing survives the process.
    InMemory,
}

/// How the store is opened.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub location: StoreLocation,
    /// Commit with fsync before answering (the default). When false, commits reach the
    /// operating system only (`--durability relaxed`).
    pub durable: bool,
}

/// A store failure. Any of them on a write means writes have stopped until restart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the DynamoDB store failed: {0}")]
    Database(String),
    #[error("writes to the DynamoDB store stopped after a failed commit: {0}")]
    Stopped(String),
    #[error("stored DynamoDB data is damaged: {0}")]
    Corrupt(String),
    #[error("the DynamoDB store is shut down")]
    Closed,
}

/// The store.
pub struct Store {
    // SKELETON: dy-store defines.
}

impl Store {
    /// Opens (or creates) the store.
    pub fn open(config: StoreConfig) -> Result<Store, StoreError> {
        // SKELETON: dy-store implements.
        let _ = config;
        Err(StoreError::Closed)
    }

    /// Every stored table definition.
    pub fn tables(&self) -> Result<Vec<TableDef>, StoreError> {
        // SKELETON: dy-store implements.
        Ok(Vec::new())
    }

    /// Runs `job` in the writer's next group commit and answers once its changes are
    /// durable (or were discarded because it returned `Err`).
    pub async fn write<T, E, F>(&self, job: F) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut WriteTxn<'_>) -> Result<T, E> + Send + 'static,
    {
        // SKELETON: dy-store implements.
        let _ = job;
        Err(StoreError::Closed)
    }

    /// A snapshot of everything committed.
    pub fn read(&self) -> Result<ReadTxn, StoreError> {
        // SKELETON: dy-store implements.
        Err(StoreError::Closed)
    }

    /// Stops the writer after the jobs already queued.
    pub fn shutdown(&self) {
        // SKELETON: dy-store implements.
    }
}

/// One job's view inside a group commit.
pub struct WriteTxn<'a> {
    // SKELETON: dy-store defines.
    _marker: std::marker::PhantomData<&'a ()>,
}

impl WriteTxn<'_> {
    /// The item under `key`, including this job's own changes.
    pub fn get(&mut self, table: &TableDef, key: &PrimaryKey) -> Result<Option<Item>, StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, key);
        Ok(None)
    }

    /// Stores `item` under `key` (the item's own key under `table.key`), replacing any item
    /// there and keeping the table's index entries and counts in step.
    pub fn put(&mut self, table: &TableDef, key: &PrimaryKey, item: Item) -> Result<(), StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, key, item);
        Ok(())
    }

    /// Removes the item under `key`, if any, with its index entries.
    pub fn delete(&mut self, table: &TableDef, key: &PrimaryKey) -> Result<(), StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, key);
        Ok(())
    }

    /// A table id never used before.
    pub fn allocate_uid(&mut self) -> Result<TableUid, StoreError> {
        // SKELETON: dy-store implements.
        Ok(0)
    }

    /// Creates or replaces a table's definition.
    pub fn put_table(&mut self, table: &TableDef) -> Result<(), StoreError> {
        // SKELETON: dy-store implements.
        let _ = table;
        Ok(())
    }

    /// Removes a table's definition, items and index entries.
    pub fn delete_table(&mut self, table: &TableDef) -> Result<(), StoreError> {
        // SKELETON: dy-store implements.
        let _ = table;
        Ok(())
    }

    /// Fills a new index (already in `table.indexes`) from the table's items.
    pub fn build_index(&mut self, table: &TableDef, index: &str) -> Result<(), StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, index);
        Ok(())
    }

    /// Removes an index's entries (the definition is the caller's to change).
    pub fn drop_index(&mut self, table: &TableDef, index: &str) -> Result<(), StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, index);
        Ok(())
    }
}

/// A read snapshot.
pub struct ReadTxn {
    // SKELETON: dy-store defines.
}

/// Items in key order (of the table, or of the index then the table's key).
pub type Cursor<'a> = Box<dyn Iterator<Item = Result<Item, StoreError>> + 'a>;

/// A parallel scan's part: `segment` of `total` (DynamoDB's `Segment`, `TotalSegments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub segment: u32,
    pub total: u32,
}

impl ReadTxn {
    /// The item under `key`.
    pub fn get(&self, table: &TableDef, key: &PrimaryKey) -> Result<Option<Item>, StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, key);
        Ok(None)
    }

    /// Items in the table and their total size in bytes (DescribeTable's `ItemCount` and
    /// `TableSizeBytes`), exact.
    pub fn table_stats(&self, table: &TableDef) -> Result<(u64, u64), StoreError> {
        // SKELETON: dy-store implements.
        let _ = table;
        Ok((0, 0))
    }

    /// Items in the index (its `ItemCount`) and their size.
    pub fn index_stats(&self, table: &TableDef, index: &IndexDef) -> Result<(u64, u64), StoreError> {
        // SKELETON: dy-store implements.
        let _ = (table, index);
        Ok((0, 0))
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
        // SKELETON: dy-store implements.
        let _ = (table, index, start, segment);
        Ok(Box::new(std::iter::empty()))
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
        // SKELETON: dy-store implements.
        let _ = (table, index, condition, forward, start);
        Ok(Box::new(std::iter::empty()))
    }
}
