//! Delivering a queue's records: CreateQueue's starting position, and receiving (both
//! sides), which read the queue's stream through a [`StreamReader`]. Kept apart from
//! `engine/queues.rs`, the rest of the queue operations, because the reader depends on
//! the engine: this module sits above both, so the module graph has no cycle.

use std::sync::Arc;
use std::time::Duration;

use rheo_storage::{SequenceNumber, StorageError, StoredRecord};

use crate::engine::Engine;
use crate::error::Result;
use crate::limits::{
    QUEUE_FETCH_BYTES_MAX, QUEUE_FETCH_RECORDS_MAX, QUEUE_IN_FLIGHT_MAX, QUEUE_RECEIVE_LIMIT_MAX, QUEUE_TRACKED_MAX,
};
use crate::queues::model::{CreateQueue, QueueInfo, QueueRecord, QueueStart, QueueStatus, ReceiveQueueRecords};
use crate::queues::receipt::Receipt;
use crate::queues::state::{Event, Fetched, Side};
use crate::queues::stored::QueueDef;
use crate::queues::{Live, Queue};
use crate::reader::{ReaderStart, StreamReader, StreamReaderRequest};

impl Engine {
    /// CreateQueue: the queue starts at `StartingPosition` (default LATEST) of its stream,
    /// fixed now, as a reader checkpoint.
    pub async fn create_queue(self: &Arc<Self>, request: CreateQueue) -> Result<QueueInfo> {
        self.create_queue_at(request, |stream_name, start| {
            let start = match start {
                QueueStart::TrimHorizon => ReaderStart::TrimHorizon,
                QueueStart::Latest => ReaderStart::Latest,
                QueueStart::AtTimestamp(ms) => ReaderStart::AtTimestamp(ms),
            };
            Ok(self.stream_reader(StreamReaderRequest { stream_name: stream_name.to_owned(), start })?.checkpoint())
        })
        .await
    }

    /// ReceiveQueueRecords.
    pub async fn receive_queue_records(self: &Arc<Self>, request: &ReceiveQueueRecords) -> Result<Vec<QueueRecord>> {
        self.receive(request, Side::Queue).await
    }

    /// ReceiveDeadLetterQueueRecords.
    pub async fn receive_dead_letter_records(
        self: &Arc<Self>,
        request: &ReceiveQueueRecords,
    ) -> Result<Vec<QueueRecord>> {
        self.receive(request, Side::DeadLetter).await
    }

    /// Receives up to `limit` visible records of `side`, waiting up to `wait_ms` for one.
    /// The wait is event-driven: it wakes when the queue changes (a fetch, an
    /// acknowledgement, a visibility change, a restore, deletion), when the next in-flight
    /// deadline or the queue's activation is due, or when the stream gains records.
    async fn receive(self: &Arc<Self>, request: &ReceiveQueueRecords, side: Side) -> Result<Vec<QueueRecord>> {
        let queue = self.find_queue(&request.queue_arn)?;
        let limit = request.limit.unwrap_or(QUEUE_RECEIVE_LIMIT_MAX).clamp(1, QUEUE_RECEIVE_LIMIT_MAX) as usize;
        let wait_end = tokio::time::Instant::now() + Duration::from_millis(request.wait_ms);
        loop {
            let def = queue.def();
            let mut live = queue.live.lock().await;
            if queue.removed() {
                return Ok(Vec::new());
            }
            // Enabled before the lock is released, so no change after this look is missed.
            let notified = queue.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = self.now_ms();
            let mut reader = None;
            let mut records = Vec::new();
            let wake_at_ms = match self.queue_status(&def) {
                QueueStatus::Deleting => return Ok(Vec::new()),
                QueueStatus::Creating => Some(def.active_from_ms(self.config().consumer_ms)),
                QueueStatus::Active | QueueStatus::Updating => {
                    live.state.expire(now, def.dead_letter_rule());
                    if side == Side::Queue {
                        reader = self.fetch(&queue, &mut live, &def, limit).await?;
                    }
                    records = self.deliver(&queue, &mut live, &def, side, limit, request, now).await?;
                    live.state.next_deadline()
                }
            };
            drop(live);
            let now_instant = tokio::time::Instant::now();
            if !records.is_empty() || now_instant >= wait_end {
                return Ok(records);
            }
            let due = wake_at_ms.map(|at| now_instant + Duration::from_millis(at.saturating_sub(now).max(1)));
            let sleep_until = due.map_or(wait_end, |due| due.min(wait_end));
            let stream_grows = async {
                match reader.as_mut() {
                    Some(reader) => reader.wait().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(sleep_until) => {}
                () = stream_grows => {}
            }
        }
    }

    /// Reads further into the queue's stream when fewer than `limit` records are visible
    /// and the queue has room, and journals what it read. Returns the reader when it
    /// caught up with the stream, for a receive to wait on.
    async fn fetch(
        self: &Arc<Self>,
        queue: &Queue,
        live: &mut Live,
        def: &QueueDef,
        limit: usize,
    ) -> Result<Option<StreamReader>> {
        let room = QUEUE_TRACKED_MAX.saturating_sub(live.state.tracked());
        if live.state.visible_count(Side::Queue) >= limit || room == 0 || live.state.in_flight() >= QUEUE_IN_FLIGHT_MAX
        {
            return Ok(None);
        }
        let want = room.min(QUEUE_FETCH_RECORDS_MAX);
        let start = ReaderStart::Checkpoint(live.state.checkpoint().clone());
        let mut reader = self.stream_reader(StreamReaderRequest { stream_name: def.stream_name.clone(), start })?;
        let mut records = Vec::new();
        let mut bytes = 0;
        let mut caught_up = false;
        // Data is read here only to learn where records are (it is read again on
        // delivery), so one receive reads at most QUEUE_FETCH_BYTES_MAX of it.
        while records.len() < want && bytes < QUEUE_FETCH_BYTES_MAX {
            let Some(batch) = reader.next_batch(want - records.len(), QUEUE_FETCH_BYTES_MAX - bytes)? else {
                caught_up = true;
                break;
            };
            bytes += batch.records.iter().map(|r| r.data.len() + r.partition_key.len()).sum::<usize>();
            records.extend(batch.records.iter().map(|record| Fetched {
                lsn: record.sequence_number.lsn,
                shard_uid: batch.position.shard_uid,
                shard_index: batch.shard_index,
                shard_created_secs: record.sequence_number.shard_created_secs,
                arrival_ms: record.arrival_ms,
            }));
        }
        let checkpoint = reader.checkpoint();
        if !records.is_empty() || checkpoint != *live.state.checkpoint() {
            self.queues().journal(queue, live, vec![Event::Fetched { records, checkpoint }]).await?;
        }
        Ok(caught_up.then_some(reader))
    }

    /// Hands out up to `limit` visible records of `side`: reads each back from the stream
    /// (forgetting those the stream no longer retains), journals the receive, and returns
    /// them with their new receipt handles.
    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        queue: &Queue,
        live: &mut Live,
        def: &QueueDef,
        side: Side,
        limit: usize,
        request: &ReceiveQueueRecords,
        now: u64,
    ) -> Result<Vec<QueueRecord>> {
        let limit = match side {
            Side::Queue => limit.min(QUEUE_IN_FLIGHT_MAX.saturating_sub(live.state.in_flight())),
            Side::DeadLetter => limit,
        };
        let mut found = Vec::new();
        let mut gone = Vec::new();
        for lsn in live.state.visible(side, limit) {
            let Some(entry) = live.state.entry(lsn) else { continue };
            match self.read_stream_record(entry.shard_uid, lsn)? {
                Some(record) => found.push(record),
                None => gone.push(lsn),
            }
        }
        let secs = request.visibility_timeout_secs.unwrap_or(def.visibility_timeout_secs);
        let deadline_ms = now.saturating_add(u64::from(secs) * 1000);
        let mut events = Vec::new();
        if !gone.is_empty() {
            events.push(Event::Dropped { lsns: gone });
        }
        if !found.is_empty() {
            events.push(Event::Received {
                lsns: found.iter().map(|r| r.lsn).collect(),
                side,
                now_ms: now,
                deadline_ms,
            });
        }
        self.queues().journal(queue, live, events).await?;
        let key = self.queues().key();
        let records = found
            .into_iter()
            .filter_map(|record| {
                let entry = live.state.entry(record.lsn)?;
                let receipt = Receipt { side, queue: queue.storage_id, lsn: record.lsn, generation: entry.generation };
                Some(QueueRecord {
                    receipt_handle: receipt.seal(key),
                    record_id: SequenceNumber {
                        shard_created_secs: entry.shard_created_secs,
                        shard_index: entry.shard_index,
                        lsn: record.lsn,
                        arrival_secs: record.arrival_ms / 1000,
                    },
                    partition_key: (!record.partition_key.is_empty())
                        .then(|| String::from_utf8_lossy(&record.partition_key).into_owned()),
                    data: record.data,
                    arrival_ms: record.arrival_ms,
                    first_receive_ms: entry.first_receive_ms.unwrap_or(now),
                    receive_count: entry.receive_count,
                })
            })
            .collect();
        Ok(records)
    }

    /// The stream record with exactly this LSN; `None` when the stream no longer has it.
    fn read_stream_record(&self, shard_uid: u64, lsn: u64) -> Result<Option<StoredRecord>> {
        let max_bytes = rheo_storage::limits::RECORD_DATA_BYTES_MAX + rheo_storage::limits::PARTITION_KEY_BYTES_MAX;
        match self.read_log(shard_uid, lsn, 1, max_bytes) {
            Ok(batch) => Ok(batch.records.into_iter().next().filter(|record| record.lsn == lsn)),
            Err(StorageError::ShardNotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}
