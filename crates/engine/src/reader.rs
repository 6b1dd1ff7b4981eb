//! Reading a whole stream inside the process: every shard, in lineage order, with
//! positions a consumer can persist and resume from.
//!
//! Firehose's Kinesis source reads this way (and Analytics and the console are meant
//! to): no shard iterators, no per-call quotas, no HTTP. What it keeps from Kinesis is
//! what consumers rely on:
//!
//! - **Lineage order.** A shard is read only once its parent (and, after a merge, its
//!   adjacent parent) has been read to its end, so the records of one partition key come
//!   out in the order they were written, across splits and merges.
//! - **Positions.** [`StreamReader::checkpoint`] says, per shard, where reading goes on
//!   and whether the shard is finished. It is plain serde data and stable: saved and
//!   given back as [`ReaderStart::Checkpoint`], a new reader returns exactly the records
//!   the old one had not returned yet.
//! - **Waiting without polling.** [`StreamReader::wait`] sleeps on the shard log's
//!   per-shard tip channels of the shards being read and on the engine's metadata-change
//!   counter (bumped by resharding, creation and deletion), as SubscribeToShard does.
//!
//! The reader follows a stream by name. A stream deleted and created again under the same
//! name has new shard uids: positions naming the old shards are dropped and the new
//! shards are read from their start. Shards created by resharding after the reader
//! opened are also read from their start. Records past retention are skipped by the log.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use rheo_storage::{SequenceNumber, ShardMeta, StartPosition, StorageError, StoredRecord, StreamMeta};
use tokio::sync::watch;

pub use crate::checkpoint::{ReaderCheckpoint, ShardCheckpoint};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::ids::ShardId;
use crate::limits::{READER_BATCH_BYTES_MAX, READER_BATCH_RECORDS_MAX};

/// Where a new reader starts in the shards the stream has when it opens. Shards that
/// appear later (resharding) are always read from their start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderStart {
    /// The oldest record still retained, in every shard.
    TrimHorizon,
    /// Just after the newest record of every open shard; closed shards are skipped.
    Latest,
    /// The first record that arrived at or after this time (epoch ms), in every shard.
    AtTimestamp(u64),
    /// Where an earlier reader's [`StreamReader::checkpoint`] left off.
    Checkpoint(ReaderCheckpoint),
}

/// What [`Engine::stream_reader`] opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamReaderRequest {
    /// The stream's name; the reader follows whichever live stream has it.
    pub stream_name: String,
    /// Where reading starts.
    pub start: ReaderStart,
}

/// One record read, with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderRecord {
    /// Its sequence number (shard index and LSN included), as GetRecords shows it.
    pub sequence_number: SequenceNumber,
    /// When the stream accepted it, epoch ms.
    pub arrival_ms: u64,
    /// The partition key as the producer gave it (UTF-8).
    pub partition_key: Bytes,
    /// The explicit hash key, when the producer gave one.
    pub explicit_hash_key: Option<u128>,
    /// The payload.
    pub data: Bytes,
}

/// What one [`StreamReader::next_batch`] returned: records of one shard, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderBatch {
    /// The shard the records come from.
    pub shard_index: u32,
    /// The records; none when only the position moved (records expired unread, or the
    /// end of a closed shard was reached), which is still worth checkpointing.
    pub records: Vec<ReaderRecord>,
    /// The shard's position after this batch.
    pub position: ShardCheckpoint,
    /// Milliseconds between the last record returned and the shard's newest record (0
    /// when caught up).
    pub millis_behind_latest: u64,
    /// The key the stream sealed records with around this read (`None`: in the clear).
    /// A consumer that stores copies of the records seals them with it, so that an
    /// encrypted stream's data is never copied to disk in the clear.
    pub sealing_key: Option<u32>,
}

impl ReaderBatch {
    /// The shard's id (`shardId-000000000007`).
    pub fn shard_id(&self) -> ShardId {
        ShardId::new(self.shard_index)
    }

    /// The batch finished its shard: it is closed and nothing follows.
    pub fn shard_end(&self) -> bool {
        self.position.done
    }
}

/// An open reader of one stream; see the module documentation.
pub struct StreamReader {
    engine: Arc<Engine>,
    stream_name: String,
    /// The stream followed, as last seen; `None` while no live stream has the name.
    stream: Option<Arc<StreamMeta>>,
    positions: BTreeMap<u32, ShardCheckpoint>,
    /// Tip channels of the shards being read, by shard uid. Each is marked seen just
    /// before its shard is read, so a record appended after the read wakes [`wait`]
    /// even if it arrives before [`wait`] is called.
    ///
    /// [`wait`]: StreamReader::wait
    tips: HashMap<u64, watch::Receiver<u64>>,
    /// The engine's metadata-change counter, marked seen before the stream is looked up.
    changes: watch::Receiver<u64>,
    /// The shard index the next scan starts at, so that a busy shard does not starve the
    /// others.
    scan_from: u32,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("stream_name", &self.stream_name)
            .field("positions", &self.positions)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens a reader of a whole stream; see [`StreamReader`]. Starting from a checkpoint
    /// never fails (the stream may be gone for now); the other starts need the stream to
    /// exist.
    pub fn stream_reader(self: &Arc<Self>, request: StreamReaderRequest) -> Result<StreamReader> {
        let mut reader = StreamReader {
            engine: self.clone(),
            stream_name: request.stream_name,
            stream: None,
            positions: BTreeMap::new(),
            tips: HashMap::new(),
            changes: self.watch_changes(),
            scan_from: 0,
        };
        let start = match request.start {
            ReaderStart::Checkpoint(checkpoint) => {
                reader.positions = checkpoint.shards;
                return Ok(reader);
            }
            ReaderStart::TrimHorizon => StartPosition::TrimHorizon,
            ReaderStart::Latest => StartPosition::Latest,
            ReaderStart::AtTimestamp(ms) => StartPosition::AtTimestamp(ms),
        };
        let not_found = || EngineError::StreamNotFound {
            stream: reader.stream_name.clone(),
            account: self.account().account_id.clone(),
        };
        let meta = reader.find_stream().ok_or_else(not_found)?;
        for shard in &meta.shards {
            let position = if start == StartPosition::Latest && shard.closed.is_some() {
                ShardCheckpoint { shard_uid: shard.uid, next_lsn: shard.created_lsn.saturating_add(1), done: true }
            } else {
                let next_lsn = self.resolve_off_runtime(shard.uid, start).map_err(|error| match error {
                    StorageError::ShardNotFound { .. } => not_found(),
                    other => EngineError::Storage(other),
                })?;
                ShardCheckpoint { shard_uid: shard.uid, next_lsn, done: false }
            };
            reader.positions.insert(shard.index, position);
        }
        Ok(reader)
    }
}

impl StreamReader {
    /// The stream's name.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// Where the reader stands: after every record returned so far.
    pub fn checkpoint(&self) -> ReaderCheckpoint {
        ReaderCheckpoint { shards: self.positions.clone() }
    }

    /// Goes back (or forth) to a checkpoint, typically the last one a consumer saved
    /// before it failed to process a batch: the next batches return the records after
    /// it again.
    pub fn rewind(&mut self, checkpoint: ReaderCheckpoint) {
        self.positions = checkpoint.shards;
        // Looked up again at the next read, which also brings the positions in line with
        // the stream's shards. Records after the checkpoint are there already, so no tip
        // counts as seen.
        self.stream = None;
        self.tips.clear();
    }

    /// Returns the next records of a shard that may be read now, at most `max_records`
    /// records and about `max_bytes` of data and keys (each capped by
    /// [`READER_BATCH_RECORDS_MAX`] and [`READER_BATCH_BYTES_MAX`]). `None` means every
    /// readable shard is caught up: [`StreamReader::wait`], then call again. The reader's
    /// position moves past the batch; a consumer that fails to process it
    /// [`StreamReader::rewind`]s to its last saved checkpoint.
    pub fn next_batch(&mut self, max_records: usize, max_bytes: usize) -> Result<Option<ReaderBatch>> {
        self.refresh();
        let Some(meta) = self.stream.clone() else { return Ok(None) };
        let max_records = max_records.clamp(1, READER_BATCH_RECORDS_MAX);
        let max_bytes = max_bytes.clamp(1, READER_BATCH_BYTES_MAX);
        // Shards from `scan_from` on, then the ones before it.
        let (later, earlier): (Vec<&ShardMeta>, Vec<&ShardMeta>) =
            meta.shards.iter().partition(|s| s.index >= self.scan_from);
        for shard in later.into_iter().chain(earlier) {
            if !self.readable(&meta, shard.index) {
                continue;
            }
            self.scan_from = shard.index.wrapping_add(1);
            if let Some(mut batch) = self.read_shard(shard, max_records, max_bytes)? {
                // Looked up again after the read: when encryption was switched on or off
                // in between, the batch may hold records of both kinds, and the key that
                // is set (either one) keeps all of them sealed.
                let after = self.engine.log().stream(meta.stream_id).and_then(|m| m.props.encryption_key);
                batch.sealing_key = after.or(meta.props.encryption_key);
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }

    /// Waits until a shard being read gains records or closes, or the stream's metadata
    /// changes (resharding, deletion, a stream created). Returns at once when such a
    /// change happened since [`StreamReader::next_batch`] last looked, or a shard is
    /// readable that it has not read since (a rewound shard). May return without anything
    /// new to read; never returns repeatedly for the same event.
    pub async fn wait(&mut self) {
        // A change up to here returns at once; later ones wake below.
        if self.refresh() {
            return;
        }
        if let Some(meta) = self.stream.clone() {
            let unwatched =
                meta.shards.iter().any(|s| self.readable(&meta, s.index) && !self.tips.contains_key(&s.uid));
            if unwatched {
                return;
            }
        }
        let changes = &mut self.changes;
        let mut waits: Vec<Pin<Box<dyn Future<Output = Option<u64>> + Send + '_>>> =
            Vec::with_capacity(1 + self.tips.len());
        waits.push(Box::pin(async move {
            // The engine outlives its readers, so the counter's sender never goes away.
            let _ = changes.changed().await;
            None
        }));
        for (uid, tip) in self.tips.iter_mut() {
            let uid = *uid;
            waits.push(Box::pin(async move { tip.changed().await.err().map(|_| uid) }));
        }
        let woken = std::future::poll_fn(|cx| {
            for wait in waits.iter_mut() {
                if let Poll::Ready(closed) = wait.as_mut().poll(cx) {
                    return Poll::Ready(closed);
                }
            }
            Poll::Pending
        })
        .await;
        drop(waits);
        // A closed channel means the shard left the log (its stream was deleted); it
        // would wake every later wait at once.
        if let Some(uid) = woken {
            self.tips.remove(&uid);
        }
    }

    /// Reads one shard and moves its position; `None` when nothing moved.
    fn read_shard(&mut self, shard: &ShardMeta, max_records: usize, max_bytes: usize) -> Result<Option<ReaderBatch>> {
        let Some(&position) = self.positions.get(&shard.index) else { return Ok(None) };
        let log = self.engine.log();
        let tip = match self.tips.entry(shard.uid) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => match log.watch(shard.uid) {
                Ok(tip) => entry.insert(tip),
                // Deleted since the lookup: the change counter wakes the next wait.
                Err(StorageError::ShardNotFound { .. }) => return Ok(None),
                Err(other) => return Err(other.into()),
            },
        };
        tip.borrow_and_update();
        // An archive that cannot serve the read fails it (position unchanged): callers
        // retry with their back-off, and the read succeeds once the archive answers.
        let batch = match self.engine.read_log(shard.uid, position.next_lsn, max_records, max_bytes) {
            Ok(batch) => batch,
            Err(StorageError::ShardNotFound { .. }) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let updated = ShardCheckpoint { shard_uid: shard.uid, next_lsn: batch.next_lsn, done: batch.shard_end };
        if updated == position && batch.records.is_empty() {
            return Ok(None);
        }
        self.positions.insert(shard.index, updated);
        if updated.done {
            self.tips.remove(&shard.uid);
        }
        let caught_up = batch.shard_end || batch.tip_lsn.is_none_or(|tip| batch.next_lsn > tip);
        let millis_behind_latest = match batch.records.last() {
            Some(last) if !caught_up => batch.tip_arrival_ms.saturating_sub(last.arrival_ms),
            _ => 0,
        };
        let shard_created_secs = shard.created_ms / 1000;
        let records =
            batch.records.into_iter().map(|record| ReaderRecord::new(record, shard_created_secs, shard.index));
        Ok(Some(ReaderBatch {
            shard_index: shard.index,
            records: records.collect(),
            position: updated,
            millis_behind_latest,
            sealing_key: None,
        }))
    }

    /// Looks the stream up again and brings the positions in line with its shards.
    /// Returns whether the stream's metadata changed since the last look (or the stream
    /// appeared or went away).
    fn refresh(&mut self) -> bool {
        // Marked before the lookup, so a change after it wakes the next wait.
        self.changes.borrow_and_update();
        let followed = self.stream.as_ref().and_then(|s| self.engine.log().stream(s.stream_id));
        let Some(meta) = followed.or_else(|| self.find_stream()) else {
            self.tips.clear();
            return self.stream.take().is_some();
        };
        if self.stream.as_ref().is_some_and(|known| Arc::ptr_eq(known, &meta)) {
            return false;
        }
        // Positions of shards the stream no longer has (expired, or of an earlier stream
        // of the same name) are dropped; shards without one are read from their start.
        self.positions.retain(|index, position| meta.shard(*index).is_some_and(|s| s.uid == position.shard_uid));
        for shard in &meta.shards {
            self.positions.entry(shard.index).or_insert_with(|| ShardCheckpoint::start_of(shard));
        }
        self.tips.retain(|uid, _| meta.shards.iter().any(|s| s.uid == *uid));
        self.stream = Some(meta);
        true
    }

    /// The live stream with the reader's name.
    fn find_stream(&self) -> Option<Arc<StreamMeta>> {
        self.engine.log().streams().into_iter().find(|s| s.name == self.stream_name)
    }

    /// A shard may be read while it is not finished and every parent the stream still
    /// has is (a parent forgotten by the log expired long ago).
    fn readable(&self, meta: &StreamMeta, index: u32) -> bool {
        let Some(shard) = meta.shard(index) else { return false };
        if self.positions.get(&index).is_none_or(|p| p.done) {
            return false;
        }
        [shard.parent, shard.adjacent_parent]
            .into_iter()
            .flatten()
            .all(|parent| meta.shard(parent).is_none() || self.positions.get(&parent).is_some_and(|p| p.done))
    }
}

impl ReaderRecord {
    fn new(record: StoredRecord, shard_created_secs: u64, shard_index: u32) -> Self {
        ReaderRecord {
            sequence_number: SequenceNumber {
                shard_created_secs,
                shard_index,
                lsn: record.lsn,
                arrival_secs: record.arrival_ms / 1000,
            },
            arrival_ms: record.arrival_ms,
            partition_key: record.partition_key,
            explicit_hash_key: record.explicit_hash_key,
            data: record.data,
        }
    }
}

#[cfg(test)]
mod tests;
