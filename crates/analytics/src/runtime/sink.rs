//! Outputs: encoded records wait in a bounded queue per output, and a task per output
//! writes them to a Kinesis stream or a Firehose delivery stream, in batches, retrying
//! what failed with a doubling back-off. A destination that is missing or throttling
//! stalls only its own queue; the application stops reading while a queue is full.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use rheo_engine::{Engine, EngineError, PutEntry, PutOutcome, PutRecords, StreamRef};
use rheo_firehose::Firehose;
use tokio::sync::Notify;

use super::metrics::RunMetrics;
use super::role::RoleCheck;
use super::ticker::Ticker;
use crate::limits::{OUTPUT_PENDING_BYTES_MAX, SINK_BACKOFF_MS_MAX, SINK_BACKOFF_MS_MIN};

/// Records of one Kinesis write (AWS PutRecords: 500 records).
pub const KINESIS_BATCH_RECORDS_MAX: usize = 500;
/// Bytes of data and keys of one Kinesis write (AWS PutRecords: 5 MiB per request).
pub const KINESIS_BATCH_BYTES_MAX: usize = 5 * 1024 * 1024;
/// How often a destination that keeps failing is logged at most.
const FAILURE_LOG_INTERVAL_MS: i64 = 60_000;

/// Where an output writes.
pub(super) enum Destination {
    Kinesis { engine: Arc<Engine>, stream_name: String, role: RoleCheck },
    Firehose { firehose: Arc<Firehose>, delivery_stream_name: String, role: RoleCheck },
}

impl Destination {
    fn name(&self) -> &str {
        match self {
            Destination::Kinesis { stream_name, .. } => stream_name,
            Destination::Firehose { delivery_stream_name, .. } => delivery_stream_name,
        }
    }

    fn batch_bounds(&self) -> (usize, usize) {
        match self {
            Destination::Kinesis { .. } => (KINESIS_BATCH_RECORDS_MAX, KINESIS_BATCH_BYTES_MAX),
            Destination::Firehose { .. } => {
                (rheo_firehose::limits::BATCH_RECORDS_MAX, rheo_firehose::limits::BATCH_BYTES_MAX)
            }
        }
    }
}

/// An encoded record waiting for its destination, with the read epoch it derives from.
struct Pending {
    epoch: u32,
    data: Bytes,
}

#[derive(Default)]
struct Queue {
    entries: VecDeque<Pending>,
    bytes: usize,
    /// Entries per epoch: rows of aggregates carry older epochs than rows projected after
    /// them, so the oldest is not the front's.
    epochs: BTreeMap<u32, usize>,
}

impl Queue {
    fn forget(&mut self, pending: &Pending) {
        self.bytes = self.bytes.saturating_sub(pending.data.len());
        if let Some(count) = self.epochs.get_mut(&pending.epoch) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.epochs.remove(&pending.epoch);
            }
        }
    }
}

/// The queue of one output, shared by the application's task (which fills it) and the
/// output's task (which empties it).
pub(super) struct SinkQueue {
    queue: Mutex<Queue>,
    /// Wakes the output's task: records were queued.
    work: Notify,
    /// Wakes the application's task: records left the queue (shared by its outputs).
    progress: Arc<Notify>,
}

impl SinkQueue {
    pub fn new(progress: Arc<Notify>) -> Self {
        SinkQueue { queue: Mutex::new(Queue::default()), work: Notify::new(), progress }
    }

    /// Queues records; the caller pauses reading while [`SinkQueue::is_full`].
    pub fn push(&self, records: impl IntoIterator<Item = (u32, Bytes)>) {
        let mut queue = self.queue.lock();
        let before = queue.entries.len();
        for (epoch, data) in records {
            queue.bytes += data.len();
            *queue.epochs.entry(epoch).or_default() += 1;
            queue.entries.push_back(Pending { epoch, data });
        }
        let added = queue.entries.len() > before;
        drop(queue);
        if added {
            self.work.notify_one();
        }
    }

    pub fn is_full(&self) -> bool {
        self.queue.lock().bytes >= OUTPUT_PENDING_BYTES_MAX
    }

    pub fn is_empty(&self) -> bool {
        self.queue.lock().entries.is_empty()
    }

    /// The oldest epoch of a record not yet accepted by the destination.
    pub fn oldest_epoch(&self) -> Option<u32> {
        self.queue.lock().epochs.keys().next().copied()
    }

    /// Copies of the records at the front, within a write's bounds (at least one).
    fn front(&self, records_max: usize, bytes_max: usize) -> Vec<Bytes> {
        let queue = self.queue.lock();
        let mut bytes = 0;
        let mut batch = Vec::new();
        for pending in queue.entries.iter().take(records_max) {
            if !batch.is_empty() && bytes + pending.data.len() > bytes_max {
                break;
            }
            bytes += pending.data.len();
            batch.push(pending.data.clone());
        }
        batch
    }

    /// Removes the front records a write covered, except those that failed, which stay at
    /// the front in their order.
    fn settle(&self, accepted: &[bool]) {
        let mut queue = self.queue.lock();
        let mut kept = Vec::new();
        for &ok in accepted {
            let Some(pending) = queue.entries.pop_front() else { break };
            if ok {
                queue.forget(&pending);
            } else {
                kept.push(pending);
            }
        }
        for pending in kept.into_iter().rev() {
            queue.entries.push_front(pending);
        }
        drop(queue);
        self.progress.notify_one();
    }
}

/// Why a whole write failed.
struct WriteFailure {
    text: String,
    /// The destination refused the request itself (a record too large, a request that
    /// breaks the API's constraints): sending it again can never succeed.
    permanent: bool,
}

/// Writes one batch; per record, whether the destination accepted it.
async fn write(destination: &Destination, batch: Vec<Bytes>, next_key: &mut u64) -> Result<Vec<bool>, WriteFailure> {
    // Checked before every write: a denied role keeps its records queued (retried with
    // back-off, logged as a failing output) until a policy allows it again.
    let (Destination::Kinesis { role, .. } | Destination::Firehose { role, .. }) = destination;
    role.check().map_err(|denied| WriteFailure { text: denied.message, permanent: false })?;
    match destination {
        Destination::Kinesis { engine, stream_name, .. } => {
            let records = batch
                .into_iter()
                .map(|data| {
                    // A counter spreads records over the shards evenly (MD5 of the key) and is
                    // reproducible in tests.
                    let partition_key = next_key.to_string();
                    *next_key = next_key.wrapping_add(1);
                    PutEntry { partition_key: Some(partition_key), explicit_hash_key: None, data }
                })
                .collect();
            let stream = StreamRef { name: Some(stream_name.clone()), arn: None };
            let result = engine.put_records(PutRecords { stream, records }).await.map_err(|error| {
                let permanent = matches!(error, EngineError::InvalidArgument(_) | EngineError::Validation(_));
                WriteFailure { text: error.to_string(), permanent }
            })?;
            Ok(result.records.iter().map(|outcome| matches!(outcome, PutOutcome::Stored(_))).collect())
        }
        Destination::Firehose { firehose, delivery_stream_name, .. } => {
            // The tap takes records of any size; PutRecordBatch would refuse this one.
            if batch.iter().any(|data| data.len() > rheo_firehose::limits::RECORD_BYTES_MAX) {
                let text = format!("a record is larger than {} bytes", rheo_firehose::limits::RECORD_BYTES_MAX);
                return Err(WriteFailure { text, permanent: true });
            }
            let appended = firehose
                .append_records(delivery_stream_name, batch)
                .await
                .map_err(|error| WriteFailure { text: error.to_string(), permanent: false })?;
            Ok(appended.iter().map(Result::is_ok).collect())
        }
    }
}

/// The task of one output: runs until aborted by the application's task.
///
/// A write the destination refuses for good is narrowed down: its records are sent again
/// one at a time, and a single record still refused is dropped (counted and logged), so
/// one bad record never stalls the output.
pub(super) async fn run(
    queue: Arc<SinkQueue>,
    destination: Destination,
    ticker: Arc<dyn Ticker>,
    metrics: Arc<RunMetrics>,
    application: String,
) {
    let (records_max, bytes_max) = destination.batch_bounds();
    let mut backoff_ms = SINK_BACKOFF_MS_MIN;
    let mut next_key: u64 = 0;
    let mut last_logged_ms: Option<i64> = None;
    // Writes left to make one record at a time, after a permanent refusal of a batch.
    let mut singles: usize = 0;
    loop {
        let batch = queue.front(if singles > 0 { 1 } else { records_max }, bytes_max);
        if batch.is_empty() {
            // A push after the look left a permit, so this returns at once then.
            queue.work.notified().await;
            continue;
        }
        let count = batch.len();
        singles = singles.saturating_sub(1);
        let (accepted, failure) = match write(&destination, batch, &mut next_key).await {
            Ok(accepted) => {
                let failed = accepted.iter().filter(|ok| !**ok).count();
                let failure = (failed > 0).then(|| format!("{failed} of {count} records refused"));
                (accepted, failure)
            }
            Err(WriteFailure { permanent: true, text }) if count > 1 => {
                singles = count;
                tracing::warn!(
                    message = "Output destination refused a write; sending its records one at a time.",
                    application = %application,
                    destination = %destination.name(),
                    error = %text,
                );
                continue;
            }
            Err(WriteFailure { permanent: true, text }) => {
                RunMetrics::add(&metrics.rows_dropped, 1);
                tracing::warn!(
                    message = "Output destination refused a record for good; dropped.",
                    application = %application,
                    destination = %destination.name(),
                    error = %text,
                );
                queue.settle(&[true]);
                continue;
            }
            Err(WriteFailure { text, .. }) => (vec![false; count], Some(text)),
        };
        let delivered = accepted.iter().filter(|ok| **ok).count() as u64;
        RunMetrics::add(&metrics.rows_out, delivered);
        queue.settle(&accepted);
        let Some(failure) = failure else {
            backoff_ms = SINK_BACKOFF_MS_MIN;
            continue;
        };
        RunMetrics::add(&metrics.output_failures, 1);
        let now = ticker.now_ms();
        if last_logged_ms.is_none_or(|last| now - last >= FAILURE_LOG_INTERVAL_MS) {
            last_logged_ms = Some(now);
            tracing::warn!(
                message = "Output destination failed; retrying.",
                application = %application,
                destination = %destination.name(),
                error = %failure,
                backoff_ms,
            );
        }
        ticker.sleep_until(now.saturating_add(backoff_ms as i64)).await;
        backoff_ms = (backoff_ms * 2).min(SINK_BACKOFF_MS_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    #[test]
    fn refused_records_stay_in_front_in_order_and_hold_their_epochs() {
        let queue = SinkQueue::new(Arc::new(Notify::new()));
        // An aggregate row (older epoch) queued after a projected one.
        queue.push([(3, record("a")), (1, record("b")), (3, record("c")), (4, record("d"))]);
        assert_eq!(queue.oldest_epoch(), Some(1));
        assert_eq!(queue.front(3, usize::MAX), [record("a"), record("b"), record("c")]);
        queue.settle(&[true, false, true]);
        assert_eq!(queue.front(10, usize::MAX), [record("b"), record("d")]);
        assert_eq!(queue.oldest_epoch(), Some(1));
        queue.settle(&[true, true]);
        assert!(queue.is_empty());
        assert_eq!(queue.oldest_epoch(), None);
    }

    #[test]
    fn a_batch_keeps_to_its_byte_bound_but_takes_at_least_one_record() {
        let queue = SinkQueue::new(Arc::new(Notify::new()));
        queue.push([(0, record("12345")), (0, record("678")), (0, record("9"))]);
        assert_eq!(queue.front(10, 2), [record("12345")]);
        assert_eq!(queue.front(10, 8), [record("12345"), record("678")]);
        assert_eq!(queue.front(1, 100), [record("12345")]);
    }

    #[test]
    fn the_queue_is_full_at_its_byte_bound() {
        let queue = SinkQueue::new(Arc::new(Notify::new()));
        queue.push([(0, Bytes::from(vec![0u8; OUTPUT_PENDING_BYTES_MAX - 1]))]);
        assert!(!queue.is_full());
        queue.push([(0, record("x"))]);
        assert!(queue.is_full());
        queue.settle(&[true]);
        assert!(!queue.is_full());
    }
}
