//! A lease-free reader of a whole stream, for `tail`-like uses: one process reads every
//! shard from a starting position, with no lease table and no checkpoints.
//!
//! It polls `GetRecords` on each shard it reads (one task per shard, at most
//! [`ReaderConfig::concurrent_calls`] calls in flight over all of them), backs off while a
//! shard is idle, and follows resharding the way Kinesis requires for per-key order: a
//! shard is started only once all of its parents have been read to their end, so every
//! record of a key in a parent is yielded before any record of that key in a child.
//! Aggregated (KPL) records are split into their user records. Records come out through a
//! bounded channel, so a slow caller slows the reading down instead of buffering without
//! limit.
//!
//! With [`ReaderConfig::stop_when_caught_up`] the reader ends once every open shard it
//! reads answers no records and `MillisBehindLatest` 0; otherwise it follows the stream
//! until the caller drops the [`StreamReader`]. A following reader never gives up on a
//! retryable failure (throttling, lost connections, 5xx): it backs off and goes on.
//!
//! Starting at [`StartPosition::Latest`] applies to the shards open when the reader starts;
//! shards created later by resharding are read from their first record, or the records put
//! into them before their parents were read to their end would be skipped.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rheo_protocol::model::{GetRecordsInput, GetShardIteratorInput, ShardIteratorType};
use rheo_protocol::{SequenceNumber, Timestamp};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::error::{ClientError, Result};
use crate::services::Kinesis;
use crate::shards::ShardMap;

/// Most records one `GetRecords` call asks for (the API's maximum).
pub const RECORDS_PER_CALL_MAX: i32 = 10_000;

/// Records held between the shard readers and the caller.
pub const CHANNEL_RECORDS_DEFAULT: usize = 1_000;

/// `GetRecords` calls in flight at once over all shards, by default. AWS allows five reads
/// a second per shard; a tail-like reader stays well below by backing off when idle.
pub const CONCURRENT_CALLS_DEFAULT: usize = 8;

/// First pause after a call that returned no records (or a throttled or failed call).
pub const IDLE_BACKOFF_MIN: Duration = Duration::from_millis(200);

/// Longest pause between two calls on an idle shard.
pub const IDLE_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Consecutive retryable failures of one call before a reader that stops when caught up
/// gives up (a following reader never does).
pub const RETRIES_MAX: u32 = 10;

/// Shortest time between two `GetRecords` calls on one shard: AWS allows five reads a
/// second per shard, shared with every other application reading the stream.
pub const GET_RECORDS_INTERVAL_MIN: Duration = Duration::from_millis(200);

/// Shard-map reloads tried when a closed shard's children are not listed yet (the listing
/// can lag the resharding on AWS).
const CHILD_LISTING_ATTEMPTS_MAX: u32 = 10;

/// Failures of a [`StreamReader`].
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// A Kinesis call failed (and was not retried, or its retries ran out).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// One of the reader's own tasks failed (a panic): a defect, not a service answer.
    #[error("a shard reader task failed: {0}")]
    Task(String),
}

impl From<tokio::task::JoinError> for ReaderError {
    fn from(error: tokio::task::JoinError) -> Self {
        ReaderError::Task(error.to_string())
    }
}

/// Where the reader starts in each shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartPosition {
    /// The oldest record kept, in every shard (closed ones within retention too).
    TrimHorizon,
    /// Only records written after the reader starts, in the shards open then.
    Latest,
    /// The first record that arrived at or after this time, in every shard.
    AtTimestamp(Timestamp),
}

/// How a [`StreamReader`] reads.
#[derive(Clone, Debug)]
pub struct ReaderConfig {
    /// Where to start.
    pub start: StartPosition,
    /// End once every open shard is caught up, instead of following the stream.
    pub stop_when_caught_up: bool,
    /// `GetRecords` calls in flight at once.
    pub concurrent_calls: usize,
    /// Records asked for per call (at most [`RECORDS_PER_CALL_MAX`]).
    pub records_per_call: i32,
    /// Records held between the reader and the caller.
    pub channel_records: usize,
}

impl ReaderConfig {
    /// Defaults for reading from `start`, following the stream.
    pub fn new(start: StartPosition) -> Self {
        ReaderConfig {
            start,
            stop_when_caught_up: false,
            concurrent_calls: CONCURRENT_CALLS_DEFAULT,
            records_per_call: RECORDS_PER_CALL_MAX,
            channel_records: CHANNEL_RECORDS_DEFAULT,
        }
    }
}

/// One user record: a plain Kinesis record, or one record of a KPL aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRecord {
    /// The shard it was read from.
    pub shard_id: String,
    /// The Kinesis record's sequence number (shared by all records of an aggregate).
    pub sequence_number: SequenceNumber,
    /// Its index within the KPL aggregate, `None` for a record that was not aggregated.
    pub sub_sequence_number: Option<u64>,
    /// The partition key (the user record's own, for aggregated records).
    pub partition_key: String,
    /// The explicit hash key a KPL producer set on the user record.
    pub explicit_hash_key: Option<String>,
    /// When Kinesis accepted the record.
    pub arrival: Option<Timestamp>,
    /// The data.
    pub data: Bytes,
}

/// What a reader has done so far: plain counters, read with [`StreamReader::metrics`].
#[derive(Debug, Default)]
pub struct ReaderMetrics {
    /// `GetRecords` calls answered.
    pub get_records_calls: AtomicU64,
    /// Kinesis records read (an aggregate counts once).
    pub kinesis_records: AtomicU64,
    /// User records yielded (each record of an aggregate counts).
    pub user_records: AtomicU64,
    /// Calls that failed and were retried (throttling, lost connections, 5xx).
    pub retries: AtomicU64,
    /// Shards read to their end (closed by resharding).
    pub shards_finished: AtomicU64,
}

/// A running reader; records arrive through [`StreamReader::next`]. Dropping it stops the
/// reading.
#[derive(Debug)]
pub struct StreamReader {
    records: mpsc::Receiver<Result<StreamRecord, ReaderError>>,
    coordinator: tokio::task::JoinHandle<()>,
    metrics: Arc<ReaderMetrics>,
}

impl StreamReader {
    /// Starts reading `stream` (a name, or an ARN starting `arn:`). The shard list is read
    /// before this returns, so a missing stream is an error here.
    pub async fn start(kinesis: Arc<Kinesis>, stream: &str, config: ReaderConfig) -> Result<Self, ReaderError> {
        let map = ShardMap::load(&kinesis, stream).await?;
        let (sender, records) = mpsc::channel(config.channel_records.max(1));
        let metrics = Arc::new(ReaderMetrics::default());
        let coordinator = Coordinator {
            metrics: Arc::clone(&metrics),
            calls: Arc::new(Semaphore::new(config.concurrent_calls.max(1))),
            lineage: Lineage::new(&map, config.start),
            kinesis,
            stream: stream.to_owned(),
            config,
            map,
            sender,
        };
        Ok(StreamReader { records, coordinator: tokio::spawn(coordinator.run()), metrics })
    }

    /// The next record; `None` once the reader has ended (caught up, or every shard read
    /// to its end). An error ends the reading: the following call returns `None`.
    pub async fn next(&mut self) -> Option<Result<StreamRecord, ReaderError>> {
        self.records.recv().await
    }

    /// The reader's counters.
    pub fn metrics(&self) -> &ReaderMetrics {
        &self.metrics
    }

    /// A record already waiting, without waiting for one (to write out a batch before
    /// flushing).
    pub fn try_next(&mut self) -> Option<Result<StreamRecord, ReaderError>> {
        self.records.try_recv().ok()
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        // The coordinator owns the shard tasks' JoinSet: aborting it aborts them too.
        self.coordinator.abort();
    }
}

/// Which shards have been started and which have been read to their end: the pure part of
/// the reader's resharding logic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lineage {
    start: Option<StartPosition>,
    open_at_start: HashSet<String>,
    started: HashSet<String>,
    finished: HashSet<String>,
}

impl Lineage {
    /// The state at the start: reading from the latest position skips the closed shards
    /// (they take no new records), every other position reads them.
    pub fn new(map: &ShardMap, start: StartPosition) -> Self {
        let mut lineage = Lineage { start: Some(start), ..Lineage::default() };
        for shard in map.shards() {
            if shard.is_open() {
                lineage.open_at_start.insert(shard.shard_id.clone());
            } else if start == StartPosition::Latest {
                lineage.finished.insert(shard.shard_id.clone());
            }
        }
        lineage
    }

    /// Where to start reading `shard_id`: the reader's start position, except that a shard
    /// created after a reader started at the latest position is read from its first record
    /// (its parents were read to their end, so nothing in it has been seen yet).
    pub fn start_of(&self, shard_id: &str) -> StartPosition {
        match self.start.unwrap_or(StartPosition::TrimHorizon) {
            StartPosition::Latest if !self.open_at_start.contains(shard_id) => StartPosition::TrimHorizon,
            start => start,
        }
    }

    /// Shards that may start now, in the map's order: not started, and each parent either
    /// read to its end or no longer listed (trimmed by retention). Marks them started.
    pub fn take_ready(&mut self, map: &ShardMap) -> Vec<String> {
        let ready: Vec<String> = map
            .shards()
            .iter()
            .filter(|s| !self.started.contains(&s.shard_id) && !self.finished.contains(&s.shard_id))
            .filter(|s| s.parents().all(|p| self.finished.contains(p) || map.get(p).is_none()))
            .map(|s| s.shard_id.clone())
            .collect();
        self.started.extend(ready.iter().cloned());
        ready
    }

    /// Records that `shard_id` has been read to its end: its children may start.
    pub fn finish(&mut self, shard_id: &str) {
        self.finished.insert(shard_id.to_owned());
    }
}

/// How one shard's reading ended.
enum ShardEnd {
    /// The shard is closed and was read to its end; these children were announced.
    Closed { shard_id: String, children: Vec<String> },
    /// The shard is open and caught up (only when stopping at caught up).
    CaughtUp,
    /// The caller stopped listening.
    Abandoned,
}

struct Coordinator {
    kinesis: Arc<Kinesis>,
    stream: String,
    config: ReaderConfig,
    calls: Arc<Semaphore>,
    map: ShardMap,
    lineage: Lineage,
    sender: mpsc::Sender<Result<StreamRecord, ReaderError>>,
    metrics: Arc<ReaderMetrics>,
}

impl Coordinator {
    async fn run(mut self) {
        if let Err(error) = self.read_all().await {
            // The caller may have gone; nothing else to tell then.
            let _ = self.sender.send(Err(error)).await;
        }
    }

    async fn read_all(&mut self) -> Result<(), ReaderError> {
        let mut shards: JoinSet<Result<ShardEnd>> = JoinSet::new();
        let mut pending: VecDeque<String> = self.lineage.take_ready(&self.map).into();
        loop {
            while let Some(shard_id) = pending.pop_front() {
                tracing::debug!(message = "Reading a shard.", stream = %self.stream, shard_id = %shard_id);
                shards.spawn(self.shard_reader(shard_id).run());
            }
            let Some(joined) = shards.join_next().await else { return Ok(()) };
            let end = joined??;
            match end {
                ShardEnd::Closed { shard_id, children } => {
                    self.metrics.shards_finished.fetch_add(1, Ordering::Relaxed);
                    self.lineage.finish(&shard_id);
                    self.reload_until_listed(&children).await?;
                    pending.extend(self.lineage.take_ready(&self.map));
                }
                ShardEnd::CaughtUp => {}
                ShardEnd::Abandoned => return Ok(()),
            }
        }
    }

    /// Reloads the shard map until it lists `children` (or the attempts run out: the
    /// children are then read once a later reload lists them).
    async fn reload_until_listed(&mut self, children: &[String]) -> Result<()> {
        let follow = !self.config.stop_when_caught_up;
        for attempt in 0..CHILD_LISTING_ATTEMPTS_MAX {
            let (kinesis, stream) = (&self.kinesis, &self.stream);
            self.map = retrying(follow, &self.metrics, "ListShards", || ShardMap::load(kinesis, stream)).await?;
            if children.iter().all(|c| self.map.get(c).is_some()) {
                return Ok(());
            }
            tracing::debug!(message = "Child shards not listed yet.", stream = %self.stream, attempt);
            tokio::time::sleep(IDLE_BACKOFF_MAX).await;
        }
        tracing::warn!(message = "Child shards never listed; not reading them.", stream = %self.stream, ?children);
        Ok(())
    }

    fn shard_reader(&self, shard_id: String) -> ShardReader {
        let open = self.map.get(&shard_id).is_some_and(|s| s.is_open());
        ShardReader {
            kinesis: Arc::clone(&self.kinesis),
            stream: self.stream.clone(),
            start: self.lineage.start_of(&shard_id),
            follow: !self.config.stop_when_caught_up,
            stop_when_caught_up: self.config.stop_when_caught_up && open,
            records_per_call: self.config.records_per_call.clamp(1, RECORDS_PER_CALL_MAX),
            calls: Arc::clone(&self.calls),
            sender: self.sender.clone(),
            metrics: Arc::clone(&self.metrics),
            shard_id,
        }
    }
}

struct ShardReader {
    kinesis: Arc<Kinesis>,
    stream: String,
    shard_id: String,
    start: StartPosition,
    follow: bool,
    stop_when_caught_up: bool,
    records_per_call: i32,
    calls: Arc<Semaphore>,
    sender: mpsc::Sender<Result<StreamRecord, ReaderError>>,
    metrics: Arc<ReaderMetrics>,
}

impl ShardReader {
    async fn run(self) -> Result<ShardEnd> {
        let mut last_sequence: Option<SequenceNumber> = None;
        let mut iterator = self.iterator(None).await?;
        let mut idle = IDLE_BACKOFF_MIN;
        let mut next_call = Instant::now();
        loop {
            // Paced even when the last answer was full, to stay within the shard's read limit.
            tokio::time::sleep_until(next_call).await;
            let (reader, current) = (&self, &iterator);
            let output = retrying(self.follow, &self.metrics, "GetRecords", || async move {
                // The semaphore is never closed; acquiring only fails if it were.
                let _permit = reader.calls.acquire().await.ok();
                reader
                    .kinesis
                    .get_records(GetRecordsInput {
                        shard_iterator: current.clone(),
                        limit: Some(reader.records_per_call),
                        stream_arn: None,
                        stream_id: None,
                        dry_run: None,
                    })
                    .await
            })
            .await;
            next_call = Instant::now() + GET_RECORDS_INTERVAL_MIN;
            let output = match output {
                Ok(output) => output,
                Err(e) if e.error_type() == Some("ExpiredIteratorException") => {
                    iterator = self.iterator(last_sequence.clone()).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let empty = output.records.is_empty();
            self.metrics.get_records_calls.fetch_add(1, Ordering::Relaxed);
            self.metrics.kinesis_records.fetch_add(output.records.len() as u64, Ordering::Relaxed);
            for record in output.records {
                last_sequence = Some(record.sequence_number.clone());
                for user_record in self.user_records(record) {
                    self.metrics.user_records.fetch_add(1, Ordering::Relaxed);
                    if self.sender.send(Ok(user_record)).await.is_err() {
                        return Ok(ShardEnd::Abandoned);
                    }
                }
            }
            match output.next_shard_iterator {
                Some(next) => iterator = next,
                None => {
                    let children = output.child_shards.unwrap_or_default().into_iter().map(|c| c.shard_id).collect();
                    return Ok(ShardEnd::Closed { shard_id: self.shard_id, children });
                }
            }
            if empty {
                if self.stop_when_caught_up && output.millis_behind_latest == Some(0) {
                    return Ok(ShardEnd::CaughtUp);
                }
                tokio::time::sleep(idle).await;
                idle = (idle * 2).min(IDLE_BACKOFF_MAX);
            } else {
                idle = IDLE_BACKOFF_MIN;
            }
        }
    }

    /// An iterator at the start position, or just after `after` when resuming.
    async fn iterator(&self, after: Option<SequenceNumber>) -> Result<String> {
        let (kind, timestamp) = match (&after, self.start) {
            (Some(_), _) => (ShardIteratorType::AfterSequenceNumber, None),
            (None, StartPosition::TrimHorizon) => (ShardIteratorType::TrimHorizon, None),
            (None, StartPosition::Latest) => (ShardIteratorType::Latest, None),
            (None, StartPosition::AtTimestamp(at)) => (ShardIteratorType::AtTimestamp, Some(at)),
        };
        let input = GetShardIteratorInput {
            shard_id: self.shard_id.clone(),
            shard_iterator_type: kind,
            starting_sequence_number: after,
            stream_name: (!self.stream.starts_with("arn:")).then(|| self.stream.clone()),
            timestamp,
            stream_arn: self.stream.starts_with("arn:").then(|| self.stream.clone()),
            stream_id: None,
            dry_run: None,
        };
        let output =
            retrying(self.follow, &self.metrics, "GetShardIterator", || self.kinesis.get_shard_iterator(input.clone()))
                .await?;
        output.shard_iterator.ok_or_else(|| ClientError::Decode {
            service: "Kinesis",
            operation: "GetShardIterator",
            detail: format!("no iterator for {}", self.shard_id),
        })
    }

    /// The user records of one Kinesis record: itself, or the records of its aggregate
    /// (all of them, even of an aggregate the KCL would drop for holding records of
    /// another shard: this reader is for looking at what the stream holds).
    fn user_records(&self, record: rheo_protocol::model::Record) -> Vec<StreamRecord> {
        crate::deaggregate::user_records(record)
            .into_iter()
            .map(|user| StreamRecord {
                shard_id: self.shard_id.clone(),
                sequence_number: user.sequence_number,
                sub_sequence_number: user.sub_sequence_number,
                partition_key: user.partition_key,
                explicit_hash_key: user.explicit_hash_key,
                arrival: user.arrival,
                data: user.data,
            })
            .collect()
    }
}

/// Whether a call that failed with `error` for the `failures`-th time in a row is made
/// again: retryable failures always are when following, at most [`RETRIES_MAX`] times
/// otherwise.
pub fn retries_after(error: &ClientError, failures: u32, follow: bool) -> bool {
    error.is_retryable() && (follow || failures <= RETRIES_MAX)
}

/// Makes `call` until it succeeds or fails in a way [`retries_after`] does not retry,
/// backing off between attempts.
async fn retrying<T, F, Fut>(follow: bool, metrics: &ReaderMetrics, operation: &'static str, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut backoff = IDLE_BACKOFF_MIN;
    let mut failures = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                failures += 1;
                if !retries_after(&error, failures, follow) {
                    return Err(error);
                }
                metrics.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(message = "A call failed; retrying.", operation, failures, %error);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(IDLE_BACKOFF_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shards::ShardInfo;
    use proptest::prelude::*;

    fn shard(id: &str, parents: &[&str], open: bool) -> ShardInfo {
        ShardInfo {
            shard_id: id.into(),
            parent_shard_id: parents.first().map(|p| (*p).into()),
            adjacent_parent_shard_id: parents.get(1).map(|p| (*p).into()),
            starting_hash_key: 0,
            ending_hash_key: u128::MAX,
            starting_sequence_number: SequenceNumber::parse("1").unwrap(),
            ending_sequence_number: (!open).then(|| SequenceNumber::parse("2").unwrap()),
        }
    }

    /// 0 split into 1 and 2; 1 and 2 merged into 3; 4 is an unrelated open shard.
    fn reshard_map() -> ShardMap {
        ShardMap::new(vec![
            shard("s0", &[], false),
            shard("s1", &["s0"], false),
            shard("s2", &["s0"], false),
            shard("s3", &["s1", "s2"], true),
            shard("s4", &[], true),
        ])
    }

    #[test]
    fn children_start_only_after_every_parent_is_read_to_its_end() {
        let map = reshard_map();
        let mut lineage = Lineage::new(&map, StartPosition::TrimHorizon);
        assert_eq!(lineage.take_ready(&map), ["s0", "s4"]);
        assert!(lineage.take_ready(&map).is_empty(), "started shards are not handed out twice");
        lineage.finish("s0");
        assert_eq!(lineage.take_ready(&map), ["s1", "s2"]);
        lineage.finish("s1");
        assert!(lineage.take_ready(&map).is_empty(), "a merge waits for both parents");
        lineage.finish("s2");
        assert_eq!(lineage.take_ready(&map), ["s3"]);
    }

    #[test]
    fn latest_reads_only_open_shards_and_parents_trimmed_away_do_not_block() {
        let map = reshard_map();
        let mut lineage = Lineage::new(&map, StartPosition::Latest);
        assert_eq!(lineage.take_ready(&map), ["s3", "s4"]);

        let trimmed = ShardMap::new(vec![shard("s3", &["s1", "s2"], true)]);
        let mut lineage = Lineage::new(&trimmed, StartPosition::TrimHorizon);
        assert_eq!(lineage.take_ready(&trimmed), ["s3"]);
    }

    #[test]
    fn after_a_latest_start_shards_created_later_are_read_from_their_first_record() {
        let map = reshard_map();
        let lineage = Lineage::new(&map, StartPosition::Latest);
        assert_eq!(lineage.start_of("s3"), StartPosition::Latest, "open at the start");
        assert_eq!(lineage.start_of("s4"), StartPosition::Latest, "open at the start");
        assert_eq!(lineage.start_of("s5"), StartPosition::TrimHorizon, "a child created later");
        let at = StartPosition::AtTimestamp(Timestamp::from_epoch_millis(1_000));
        let lineage = Lineage::new(&map, at);
        assert_eq!(lineage.start_of("s5"), at, "a time applies to every shard");
        let lineage = Lineage::new(&map, StartPosition::TrimHorizon);
        assert_eq!(lineage.start_of("s5"), StartPosition::TrimHorizon);
    }

    #[test]
    fn a_following_reader_never_gives_up_on_retryable_failures() {
        let throttled = ClientError::Api {
            service: "Kinesis",
            operation: "GetRecords",
            status: 400,
            error_type: "ProvisionedThroughputExceededException".into(),
            message: String::new(),
        };
        let invalid = ClientError::Api {
            service: "Kinesis",
            operation: "GetRecords",
            status: 400,
            error_type: "InvalidArgumentException".into(),
            message: String::new(),
        };
        assert!(retries_after(&throttled, RETRIES_MAX, false));
        assert!(!retries_after(&throttled, RETRIES_MAX + 1, false), "stopping at caught up gives up");
        assert!(retries_after(&throttled, 10 * RETRIES_MAX, true), "following goes on");
        assert!(!retries_after(&invalid, 1, true), "a refused call is not retried");
    }

    #[tokio::test]
    async fn a_failed_shard_task_is_a_task_error_not_a_client_error() {
        let joined = tokio::spawn(async { panic!("a defect") }).await;
        let error = ReaderError::from(joined.expect_err("the task panicked"));
        assert!(matches!(error, ReaderError::Task(_)), "{error:?}");
    }

    proptest! {
        /// Over random lineages (each shard split from or merged out of earlier ones),
        /// reading shards as `take_ready` hands them out, in any finishing order, starts
        /// every shard exactly once and never before all its parents finished.
        #[test]
        fn every_shard_starts_once_after_its_parents(
            parents in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..3), 1..24),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 64),
        ) {
            let mut shards = Vec::new();
            for (i, (a, b, count)) in parents.iter().enumerate() {
                let id = format!("s{i}");
                let own: Vec<String> = match (i, count) {
                    (0, _) | (_, 0) => vec![],
                    (_, 1) => vec![format!("s{}", a.index(i))],
                    _ => {
                        let (a, b) = (a.index(i), b.index(i));
                        if a == b { vec![format!("s{a}")] } else { vec![format!("s{a}"), format!("s{b}")] }
                    }
                };
                let refs: Vec<&str> = own.iter().map(String::as_str).collect();
                shards.push(shard(&id, &refs, true));
            }
            let map = ShardMap::new(shards);
            let mut lineage = Lineage::new(&map, StartPosition::TrimHorizon);
            let mut running: Vec<String> = lineage.take_ready(&map);
            let mut finished: Vec<String> = Vec::new();
            let mut picks = picks.into_iter().cycle();
            while !running.is_empty() {
                let done = running.remove(picks.next().unwrap().index(running.len()));
                lineage.finish(&done);
                finished.push(done);
                for next in lineage.take_ready(&map) {
                    for parent in map.get(&next).unwrap().parents() {
                        prop_assert!(finished.iter().any(|f| f == parent), "{next} started before {parent}");
                    }
                    running.push(next);
                }
            }
            let mut all: Vec<&str> = finished.iter().map(String::as_str).collect();
            all.sort_unstable();
            all.dedup();
            prop_assert_eq!(all.len(), map.shards().len());
            prop_assert_eq!(finished.len(), map.shards().len());
        }
    }
}
