//! In-process access to a delivery stream's records for other services of the same Rheo
//! (Analytics reads delivery streams as inputs and writes them as outputs).
//!
//! A [`FirehoseTap`] reads the records a delivery stream accepted, from the stream's one
//! shard in Firehose's own log, independently of delivery: it keeps its own position and
//! never moves the delivered checkpoint. It waits on the shard's tip channel instead of
//! polling. [`Firehose::append_records`] takes the same durable path as PutRecordBatch,
//! without wire types.

use std::sync::Arc;

use bytes::Bytes;
use rheo_storage::{StartPosition, StorageError, StoredRecord};
use tokio::sync::watch;

use crate::error::{FirehoseError, Result};
use crate::metrics::StreamStats;
use crate::service::Firehose;
use crate::stream::Shared;

/// Where a tap starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapStart {
    /// Just after the newest record accepted so far.
    Latest,
    /// The oldest record the log still holds.
    TrimHorizon,
    /// Where an earlier tap's [`FirehoseTap::position`] left off. A position of another
    /// delivery stream (one deleted and created again under the same name) is not
    /// applied: the new stream is read from its start, as the Kinesis reader reads new
    /// shards.
    At(TapPosition),
}

/// Where a tap stands: the delivery stream's storage id (never reused) and the log
/// sequence number reading goes on at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapPosition {
    pub stream_id: u64,
    pub next_lsn: u64,
}

/// A reader of the records one delivery stream accepted; see the module documentation.
pub struct FirehoseTap {
    shared: Arc<Shared>,
    name: String,
    stream_id: u64,
    shard_uid: u64,
    next_lsn: u64,
    tip: Option<watch::Receiver<u64>>,
}

impl std::fmt::Debug for FirehoseTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirehoseTap")
            .field("name", &self.name)
            .field("stream_id", &self.stream_id)
            .field("next_lsn", &self.next_lsn)
            .finish_non_exhaustive()
    }
}

impl Firehose {
    /// Opens a tap of the delivery stream `name`; fails when it does not exist.
    pub fn tap(&self, name: &str, start: TapStart) -> Result<FirehoseTap> {
        let entry = self.entry(name)?;
        let log = &self.shared.log;
        let resolve = |start: StartPosition| log.resolve(entry.shard_uid, start);
        let next_lsn = match start {
            TapStart::Latest => resolve(StartPosition::Latest)?,
            TapStart::TrimHorizon => resolve(StartPosition::TrimHorizon)?,
            TapStart::At(position) if position.stream_id == entry.stream_id => position.next_lsn,
            TapStart::At(_) => resolve(StartPosition::TrimHorizon)?,
        };
        let tip = log.watch(entry.shard_uid)?;
        Ok(FirehoseTap {
            shared: self.shared.clone(),
            name: name.to_owned(),
            stream_id: entry.stream_id,
            shard_uid: entry.shard_uid,
            next_lsn,
            tip: Some(tip),
        })
    }

    /// Appends records to the delivery stream `name` as PutRecordBatch does (the stream
    /// must exist, be ACTIVE and take direct puts); resolves once they are durable. One
    /// result per record, in order: an `Err` entry was refused and may be retried.
    pub async fn append_records(&self, name: &str, records: Vec<Bytes>) -> Result<Vec<Result<u64>>> {
        let (entry, _encrypted) = self.writable(name)?;
        let sizes: Vec<u64> = records.iter().map(|data| data.len() as u64).collect();
        let appended = self.append(&entry, records).await?;
        for (result, size) in appended.iter().zip(sizes) {
            if result.is_ok() {
                StreamStats::add(&entry.stats.incoming_records, 1);
                StreamStats::add(&entry.stats.incoming_bytes, size);
            }
        }
        Ok(appended)
    }
}

impl FirehoseTap {
    /// The delivery stream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where reading goes on: after every record returned so far.
    pub fn position(&self) -> TapPosition {
        TapPosition { stream_id: self.stream_id, next_lsn: self.next_lsn }
    }

    /// The next records, at most `max_records` and about `max_bytes` (at least one record
    /// when one is there). `None` when caught up (or the stream was deleted): [`wait`],
    /// then call again.
    ///
    /// [`wait`]: FirehoseTap::wait
    pub fn next_batch(&mut self, max_records: usize, max_bytes: usize) -> Result<Option<Vec<StoredRecord>>> {
        if let Some(tip) = self.tip.as_mut() {
            // Marked seen before the read, so a record appended after it wakes `wait`.
            tip.borrow_and_update();
        }
        let batch = match self.shared.log.read(self.shard_uid, self.next_lsn, max_records.max(1), max_bytes.max(1)) {
            Ok(batch) => batch,
            Err(StorageError::ShardNotFound { .. }) => {
                self.tip = None;
                return Ok(None);
            }
            Err(other) => return Err(FirehoseError::Storage(other)),
        };
        let moved = batch.next_lsn != self.next_lsn;
        self.next_lsn = batch.next_lsn;
        if batch.records.is_empty() && !moved {
            return Ok(None);
        }
        Ok(Some(batch.records))
    }

    /// Waits until the stream gains records. A deleted stream never wakes it again (the
    /// tap keeps no reference to a later stream of the same name).
    pub async fn wait(&mut self) {
        match self.tip.as_mut() {
            Some(tip) => {
                if tip.changed().await.is_err() {
                    self.tip = None;
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}
