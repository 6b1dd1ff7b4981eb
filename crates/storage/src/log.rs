//! The shard log: one shared commit log for all shards, per-shard in-memory indexes,
//! a single writer thread with group commit, retention and recovery.
//!
//! # Design
//! - **One writer.** Every change (appends and metadata alike) goes through one bounded
//!   queue to one thread. It drains whatever is waiting, writes all pending appends as
//!   one frame with one `write`, makes it durable with one `fdatasync`, then publishes
//!   and acknowledges them. Concurrent appends therefore share a sync (group commit),
//!   and 10,000 shards cost one file and one sync per commit, not one per shard.
//! - **LSNs.** The writer numbers records with a global log sequence number. It only
//!   grows, so it is strictly increasing within each shard and never reused, across
//!   restarts too. Creating a shard reserves an LSN (below every record of the shard)
//!   and closing it reserves one more (above every record of it, below its children's).
//!   Stream ids and shard uids are identities from the metadata store
//!   ([`crate::MetaStore`]), not LSNs, so nodes can name them without sharing a counter.
//! - **Visibility.** Readers see a record only after it is durable (or, in the relaxed
//!   mode, written), through per-shard chunk lists and a `watch` channel per shard that
//!   lets them wait for new records without polling.
//! - **Retention.** Segment files roll by size and age; a sealed segment is deleted once
//!   every record in it is past its own stream's retention, and reads hide records older
//!   than the retention before their file is gone.
//! - **Faults.** A failed fsync poisons the log (all later writes fail, each with the
//!   original error as its cause, and no sync is tried again): after such a failure the
//!   kernel may have dropped the dirty pages while reporting the next fsync as
//!   successful. A full disk fails only the appends of that commit; the partial frame is
//!   cut off and later appends succeed once space is freed.
//! - **Encryption at rest.** A stream with an encryption key has its chunks sealed
//!   (AES-256-GCM, a key per chunk; see [`crate::cipher`] and [`crate::format`]) with
//!   the newest version of its key, asked of [`crate::KeyProvider`] once per frame. A
//!   missing key refuses the whole append. Reads open sealed chunks; recovery and the
//!   scrub verify them by checksum and clear header alone, so they need no key and never
//!   cut a chunk for a key problem.
//!
//! # Modules
//! This file is the front: [`ShardLog`]'s public methods, which hand work to the writer
//! thread's queue or read the shared state. The jobs live in the submodules:
//! - `types`: the public configuration, input and output types.
//! - `files`: the data folder's layout, file names and exclusive lock.
//! - `startup`: opening a log (recovery, rebuilding the in-memory state, starting threads).
//! - `recovery`: the start-up scan, torn-tail cut and exact repair.
//! - `state`: the in-memory state shared by all threads (chunk indexes, open segments).
//! - `read`: start positions and reads.
//! - `command`: the writer queue's messages.
//! - `writer`: the writer thread (draining, dispatch, housekeeping, shutdown).
//! - `commit`: group commit and the durability policy; `segment`: the active segment.
//! - `lsn`: the LSN counter and its durable reservation.
//! - `streams`: [`MetaTxn`] and stream metadata changes.
//! - `poison`: stopping writes after a failure of unknown outcome, keeping its cause.
//! - `syncer`: the relaxed mode's background fsync.
//! - `retention` and `deleter`: finding expired segments and deleting their files, paced.
//! - `damage` and `scrub`: the register of damaged chunks and the background scrub.
//! - `archiver`: tiering sealed segments to the archive (upload, local budget, archive
//!   retention, reconciliation, start-up of segments only the archive holds).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{oneshot, watch};

use crate::clock::Clock;
use crate::error::{Result, StorageError};
use crate::fs::{FileSystem, LockGuard};
use crate::meta::StreamMeta;
use crate::stats::LogStats;
use command::{Command, Control, Reply};
use state::Shared;

pub use streams::MetaTxn;
pub use types::{
    AppendRecord, Appended, Durability, LogConfig, NewShard, NewStream, ReadBatch, RecoveryMode, StartPosition,
};

/// The durable shard log. Cheap to share behind an `Arc`; dropping the last handle
/// stops the writer after it has finished what was queued.
pub struct ShardLog {
    shared: Arc<Shared>,
    queue: Option<flume::Sender<Command>>,
    writer: Option<JoinHandle<()>>,
    scrubber: Option<scrub::Scrubber>,
    /// Tiers sealed segments to the archive, with `--archive`.
    archiver: Option<archiver::Archiver>,
    /// The exclusive lock on the folder, released after the writer has stopped.
    _lock: LockGuard,
}

impl std::fmt::Debug for ShardLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLog").finish_non_exhaustive()
    }
}

impl ShardLog {
    /// Opens (recovering) or creates the log under `dir`.
    pub fn open(fs: Arc<dyn FileSystem>, clock: Arc<dyn Clock>, dir: &Path, config: LogConfig) -> Result<Self> {
        let opened = startup::open(fs, clock, dir, config)?;
        Ok(ShardLog {
            shared: opened.shared,
            queue: Some(opened.queue),
            writer: Some(opened.writer),
            scrubber: opened.scrubber,
            archiver: opened.archiver,
            _lock: opened.lock,
        })
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, response) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or(StorageError::Closed)?;
        queue.send_async(make(reply)).await.map_err(|_| StorageError::Closed)?;
        response.await.map_err(|_| StorageError::Closed)?
    }

    fn call_blocking<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, response) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or(StorageError::Closed)?;
        queue.send(make(reply)).map_err(|_| StorageError::Closed)?;
        response.blocking_recv().map_err(|_| StorageError::Closed)?
    }

    /// Appends records, possibly to many shards; resolves once they are durable (as
    /// [`Durability`] defines it). The outer error fails the whole batch (nothing of
    /// it was acknowledged); inner errors are per record (unknown or closed shard).
    pub async fn append(&self, records: Vec<AppendRecord>) -> Result<Vec<Result<Appended>>> {
        self.shared.check_poisoned()?;
        self.call(|reply| Command::Append { records, reply }).await
    }

    /// [`ShardLog::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, records: Vec<AppendRecord>) -> Result<Vec<Result<Appended>>> {
        self.shared.check_poisoned()?;
        self.call_blocking(|reply| Command::Append { records, reply })
    }

    /// Creates a stream.
    pub async fn create_stream(&self, spec: NewStream) -> Result<Arc<StreamMeta>> {
        self.call(|reply| Command::Control(Control::CreateStream { spec, reply })).await
    }

    /// [`ShardLog::create_stream`] outside an async runtime.
    pub fn create_stream_blocking(&self, spec: NewStream) -> Result<Arc<StreamMeta>> {
        self.call_blocking(|reply| Command::Control(Control::CreateStream { spec, reply }))
    }

    /// Changes a stream's metadata atomically: the closure edits a copy, which replaces
    /// the stream only if the closure succeeds and the new version is durable.
    pub async fn update_stream(
        &self,
        stream_id: u64,
        update: impl FnOnce(&mut MetaTxn<'_>) -> Result<()> + Send + 'static,
    ) -> Result<Arc<StreamMeta>> {
        self.call(|reply| Command::Control(Control::UpdateStream { stream_id, update: Box::new(update), reply })).await
    }

    /// [`ShardLog::update_stream`] outside an async runtime.
    pub fn update_stream_blocking(
        &self,
        stream_id: u64,
        update: impl FnOnce(&mut MetaTxn<'_>) -> Result<()> + Send + 'static,
    ) -> Result<Arc<StreamMeta>> {
        self.call_blocking(|reply| {
            Command::Control(Control::UpdateStream { stream_id, update: Box::new(update), reply })
        })
    }

    /// Deletes a stream; its records become unreadable at once and their files are
    /// deleted by retention.
    pub async fn delete_stream(&self, stream_id: u64) -> Result<()> {
        self.call(|reply| Command::Control(Control::DeleteStream { stream_id, reply })).await
    }

    /// [`ShardLog::delete_stream`] outside an async runtime.
    pub fn delete_stream_blocking(&self, stream_id: u64) -> Result<()> {
        self.call_blocking(|reply| Command::Control(Control::DeleteStream { stream_id, reply }))
    }

    /// Deletes every sealed segment whose records have all expired; returns how many.
    /// The writer also does this on its own when idle.
    pub fn enforce_retention_blocking(&self) -> Result<usize> {
        self.call_blocking(|reply| Command::Control(Control::EnforceRetention { reply }))
    }

    /// Makes everything written so far durable (useful in the relaxed mode).
    pub fn sync_blocking(&self) -> Result<()> {
        self.call_blocking(|reply| Command::Control(Control::Sync { reply }))
    }

    /// A stream's committed metadata.
    pub fn stream(&self, stream_id: u64) -> Option<Arc<StreamMeta>> {
        self.shared.streams.read().get(&stream_id).cloned()
    }

    /// All live streams, by id.
    pub fn streams(&self) -> Vec<Arc<StreamMeta>> {
        self.shared.streams.read().values().cloned().collect()
    }

    /// Current time on the log's clock.
    pub fn now_ms(&self) -> u64 {
        self.shared.clock.now_ms()
    }

    /// Milliseconds on the log clock's monotonic time, which never steps back: for rates
    /// and durations (only differences mean anything).
    pub fn monotonic_ms(&self) -> u64 {
        self.shared.clock.monotonic_micros() / 1000
    }

    /// The log's counters, and its segment files' number and size as of now.
    pub fn stats(&self) -> LogStats {
        let mut stats = self.shared.counters.snapshot();
        let segments = self.shared.segments.read();
        stats.segments = segments.len() as u64;
        // Local files only: the bytes of segments only the archive holds are the archive
        // tier's `remote_only_bytes`, and the disk is what an operator sizes by this.
        stats.segment_bytes = segments.values().filter(|s| s.local).filter_map(|s| s.file.len().ok()).sum();
        stats.poisoned = self.shared.poison.is_set();
        let damaged = self.shared.damage.totals();
        (stats.damaged_chunks, stats.damaged_records) = (damaged.chunks, damaged.records);
        stats
    }

    /// The writer's next LSN as last published (a lower bound of the true value).
    pub fn next_lsn_hint(&self) -> u64 {
        self.shared.next_lsn_hint.load(Ordering::Acquire)
    }

    /// Turns a start position into the LSN a read should begin at.
    pub fn resolve(&self, shard_uid: u64, start: StartPosition) -> Result<u64> {
        read::resolve(&self.shared, shard_uid, start)
    }

    /// Reads up to `max_records` records and about `max_bytes` of keys and data,
    /// starting at `from_lsn`. At least one record is returned when one is available,
    /// whatever its size.
    pub fn read(&self, shard_uid: u64, from_lsn: u64, max_records: usize, max_bytes: usize) -> Result<ReadBatch> {
        read::read(&self.shared, shard_uid, from_lsn, max_records, max_bytes)
    }

    /// Whether [`ShardLog::read`] from `from_lsn` may wait for the archive (a chunk it
    /// could reach is in a segment only the archive holds and not cached): callers on an
    /// async runtime then read off its worker threads, so a reader far behind never
    /// holds up readers at the tip. Always `false` without an archive.
    pub fn read_may_block(&self, shard_uid: u64, from_lsn: u64) -> bool {
        read::read_may_block(&self.shared, shard_uid, from_lsn)
    }

    /// Whether resolving `start` may wait for the archive: an `AT_TIMESTAMP` position reads
    /// the chunk holding the time, which may be in a segment only the archive holds.
    pub fn resolve_may_block(&self, start: StartPosition) -> bool {
        self.shared.archive.is_some() && matches!(start, StartPosition::AtTimestamp(_))
    }

    /// A receiver that changes whenever the shard gains visible records (its value is
    /// the newest LSN), so readers can wait instead of polling.
    pub fn watch(&self, shard_uid: u64) -> Result<watch::Receiver<u64>> {
        Ok(self.shared.shard(shard_uid)?.tip.subscribe())
    }

    /// Stops the writer after the queued work and waits for it.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(mut scrubber) = self.scrubber.take() {
            scrubber.stop();
        }
        self.queue.take();
        if let Some(handle) = self.writer.take() {
            if handle.join().is_err() {
                tracing::error!(message = "Log writer thread panicked.");
            }
        }
        // After the writer, so nothing it sealed while stopping waits for a kick.
        if let Some(mut archiver) = self.archiver.take() {
            archiver.stop();
        }
    }
}

impl Drop for ShardLog {
    fn drop(&mut self) {
        self.stop();
    }
}

mod archiver;
mod command;
mod commit;
mod damage;
mod deleter;
mod files;
mod lsn;
mod poison;
mod priority;
mod read;
mod recovery;
mod retention;
mod scrub;
mod segment;
mod startup;
mod state;
mod streams;
mod syncer;
mod types;
mod writer;

#[cfg(test)]
mod tests;
