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
//!
//! Modules: [`keys`] (order-preserving key encodings and query ranges), [`codec`] (stored
//! items), `layout` (the redb tables and their keys), `write_txn` (a job's view, with its
//! undo log), `writer` (the group-commit thread), `read_txn` (snapshots, scans, queries).

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;
use redb::Database;
use tokio::sync::{oneshot, Semaphore};

use crate::limits::WRITE_QUEUE_MAX;
use crate::table::TableDef;

pub mod codec;
pub mod keys;
mod layout;
mod read_txn;
mod write_txn;
mod writer;

pub use read_txn::{segment_of, Cursor, ReadTxn, Segment};
pub use write_txn::WriteTxn;

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
#[derive(Clone, Debug, thiserror::Error)]
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
    db: Arc<Database>,
    /// The writer's queue; `None` once shut down.
    queue: Mutex<Option<std::sync::mpsc::Sender<writer::Queued>>>,
    /// Places in the queue: a writer waits for one before queueing its job.
    room: Arc<Semaphore>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Why writes stopped, once a group failed.
    stopped: Arc<Mutex<Option<String>>>,
}

fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

/// The database file in a store's folder, and the name it is built under.
const DB_FILE: &str = "tables.redb";
const DB_FILE_CREATING: &str = "tables.redb.creating";

/// Creates every table once, so read snapshots can always open them.
fn create_tables(db: &Database) -> Result<(), StoreError> {
    let mut txn = db.begin_write().map_err(database)?;
    txn.set_durability(redb::Durability::Immediate);
    drop(WriteTxn::open(&txn).map_err(database)?);
    txn.commit().map_err(database)
}

/// Opens the database in `dir`. A new database is built under another name and renamed
/// into place once complete: redb's file creation is not atomic, and a process killed
/// while creating it would otherwise leave a file that never opens again.
fn open_file(dir: &std::path::Path) -> Result<Database, StoreError> {
    let io = |what: &str, error: std::io::Error| {
        StoreError::Database(format!("cannot {what} in {}: {error}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(|error| io("create the folder", error))?;
    let path = dir.join(DB_FILE);
    if !path.exists() {
        let creating = dir.join(DB_FILE_CREATING);
        match std::fs::remove_file(&creating) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io("remove an unfinished database", error)),
        }
        let fresh = Database::create(&creating).map_err(database)?;
        create_tables(&fresh)?;
        drop(fresh);
        std::fs::rename(&creating, &path).map_err(|error| io("rename the new database", error))?;
        std::fs::File::open(dir).and_then(|folder| folder.sync_all()).map_err(|error| io("sync the folder", error))?;
    }
    Database::create(&path).map_err(database)
}

impl Store {
    /// Opens (or creates) the store.
    pub fn open(config: StoreConfig) -> Result<Store, StoreError> {
        let db = match &config.location {
            StoreLocation::Dir(dir) => open_file(dir)?,
            StoreLocation::InMemory => {
                let db = Database::builder()
                    .create_with_backend(redb::backends::InMemoryBackend::new())
                    .map_err(database)?;
                create_tables(&db)?;
                db
            }
        };

        let db = Arc::new(db);
        let stopped = Arc::new(Mutex::new(None));
        let (queue, jobs) = std::sync::mpsc::channel();
        // In memory, a durable commit costs nothing and is what lets redb reuse pages.
        let sync = match (&config.location, config.durable) {
            (StoreLocation::Dir(_), false) => writer::Sync::Relaxed,
            _ => writer::Sync::EveryCommit,
        };
        let writer = writer::Writer {
            db: db.clone(),
            sync,
            stopped: stopped.clone(),
            last_sync: std::time::Instant::now(),
            unsynced: false,
        };
        let handle = std::thread::Builder::new()
            .name("dynamodb-writer".into())
            .spawn(move || writer.run(jobs))
            .map_err(|error| StoreError::Database(format!("cannot start the writer thread: {error}")))?;
        Ok(Store {
            db,
            queue: Mutex::new(Some(queue)),
            room: Arc::new(Semaphore::new(WRITE_QUEUE_MAX)),
            writer: Mutex::new(Some(handle)),
            stopped,
        })
    }

    /// Every stored table definition.
    pub fn tables(&self) -> Result<Vec<TableDef>, StoreError> {
        use redb::ReadableTable;
        let txn = self.db.begin_read().map_err(database)?;
        let defs = txn.open_table(layout::TABLE_DEFS).map_err(database)?;
        let rows = defs.iter().map_err(database)?;
        rows.map(|row| row.map_err(database).and_then(|(_, value)| layout::decode_table(value.value()))).collect()
    }

    fn stop_error(&self) -> Option<StoreError> {
        self.stopped.lock().clone().map(StoreError::Stopped)
    }

    /// Runs `job` in the writer's next group commit and answers once its changes are
    /// durable (or were discarded because it returned `Err`).
    pub async fn write<T, E, F>(&self, job: F) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut WriteTxn<'_>) -> Result<T, E> + Send + 'static,
    {
        if let Some(error) = self.stop_error() {
            return Err(error);
        }
        let place = self.room.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let (answer_to, answer) = oneshot::channel();
        let queued = writer::Queued { job: writer::job(job, answer_to), _place: place };
        let queue = self.queue.lock().clone().ok_or(StoreError::Closed)?;
        queue.send(queued).map_err(|_| StoreError::Closed)?;
        drop(queue);
        match answer.await {
            Ok(answer) => answer,
            // The job was dropped unanswered: its group failed, or the job panicked.
            Err(_) => Err(self
                .stop_error()
                .unwrap_or_else(|| StoreError::Database("the write job failed without an answer".into()))),
        }
    }

    /// A snapshot of everything committed.
    pub fn read(&self) -> Result<ReadTxn, StoreError> {
        ReadTxn::open(self.db.begin_read().map_err(database)?)
    }

    /// Stops the writer after the jobs already queued.
    pub fn shutdown(&self) {
        self.queue.lock().take();
    }
}

impl Drop for Store {
    /// Waits for the writer to finish the queued jobs, so the database file is closed
    /// (and may be opened again) once the store is gone.
    fn drop(&mut self) {
        self.shutdown();
        if let Some(handle) = self.writer.lock().take() {
            if handle.join().is_err() {
                tracing::error!("the DynamoDB store's writer thread panicked");
            }
        }
    }
}
