//! A KPL-compatible producer: user records are grouped per shard by the shard map, packed
//! into KPL aggregates (optional), collected into `PutRecords` calls sent after a linger
//! or when full, paced per shard, retried with jittered exponential back-off until their
//! TTL, and the shard map is read again when resharding shows.
//!
//! Module map: [`config`] (settings and AWS limits), `record` (checks and aggregate
//! sizing), `batcher` (per-shard queues and the choice of what to send), [`rate_limit`],
//! [`backoff`], [`metrics`], and this module: the public [`Producer`] and its sender task.
//!
//! Invariants: every aggregate holds only user records that hash into the shard it is put
//! to (it carries an explicit hash key inside that shard's range), so the KCL never drops
//! one of its sub-records; at most one `PutRecords` per shard is in flight, so records of
//! a shard are stored in put order unless a retry intervenes; every queue is bounded by
//! the in-flight byte bound that `put` waits on.

pub mod backoff;
mod batcher;
pub mod config;
mod error;
pub mod metrics;
pub mod rate_limit;
mod record;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rheo_protocol::model::{PutRecordsInput, PutRecordsOutput, PutRecordsRequestEntry};
use rheo_protocol::{HashKey, SequenceNumber};
use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::services::Kinesis;
use crate::shards::ShardMap;

pub use backoff::{RandomSource, ThreadRandom};
pub use config::{ProducerConfig, ShardRateLimit};
pub use error::ProducerError;
pub use metrics::ProducerMetrics;

use batcher::{Batch, KinesisRecord, StreamQueues};
use record::UserEntry;

/// Longest the sender sleeps when nothing is due, so expired records are noticed.
const IDLE_TICK: Duration = Duration::from_millis(500);
/// Record-level error codes worth sending again.
const RETRYABLE_RECORD_ERRORS: &[&str] = &["ProvisionedThroughputExceededException", "InternalFailure"];
/// Most streams one producer writes to.
pub const STREAMS_MAX: usize = 1024;
/// Most `ListShards` attempts for a stream's first put when the error is retryable
/// (AWS throttles `ListShards`); the pauses between them follow the retry back-off.
pub const SHARD_MAP_LOAD_ATTEMPTS_MAX: u32 = 8;

/// One load of a stream's shard map, shared by the puts that wait for it.
type ShardMapLoad = tokio::sync::OnceCell<Result<(), ProducerError>>;

/// Where an acknowledged user record was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    /// The shard it went to.
    pub shard_id: String,
    /// The Kinesis record's sequence number (shared by every user record of an aggregate).
    pub sequence_number: SequenceNumber,
    /// Its index inside the aggregate, for aggregated records.
    pub sub_sequence_number: Option<u64>,
    /// Times it was sent.
    pub attempts: u32,
}

/// The outcome of one put, to await.
#[derive(Debug)]
pub struct PutHandle(oneshot::Receiver<Result<PutOutcome, ProducerError>>);

impl Future for PutHandle {
    type Output = Result<PutOutcome, ProducerError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| r.unwrap_or(Err(ProducerError::Shutdown)))
    }
}

/// Counts unfinished user records; `flush` waits for zero.
#[derive(Debug, Default)]
struct Progress {
    outstanding: AtomicU64,
    idle: Notify,
}

/// One unfinished user record's place in [`Progress`], released when dropped.
#[derive(Debug)]
pub(crate) struct Ticket(Arc<Progress>);

impl Ticket {
    fn new(progress: &Arc<Progress>) -> Self {
        progress.outstanding.fetch_add(1, Ordering::SeqCst);
        Ticket(Arc::clone(progress))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.0.outstanding.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[derive(Debug)]
struct Shared {
    config: ProducerConfig,
    kinesis: Kinesis,
    random: Arc<dyn RandomSource>,
    streams: Mutex<HashMap<String, StreamQueues>>,
    /// The shard map load under way per stream, which concurrent first puts all await.
    loading: Mutex<HashMap<String, Arc<ShardMapLoad>>>,
    in_flight_bytes: Arc<Semaphore>,
    requests: Arc<Semaphore>,
    progress: Arc<Progress>,
    metrics: metrics::Metrics,
    wake: Notify,
    flushing: AtomicUsize,
    shutdown: AtomicBool,
}

/// A producer writing to any number of streams through one Kinesis client.
#[derive(Debug)]
pub struct Producer {
    shared: Arc<Shared>,
    sender: Mutex<Option<JoinHandle<()>>>,
}

impl Producer {
    /// A producer for `config`'s endpoint; spawns its sender on the current tokio runtime.
    pub fn new(config: &ClientConfig, producer: ProducerConfig) -> Result<Producer, ProducerError> {
        Self::with_random(config, producer, Arc::new(ThreadRandom))
    }

    /// As [`Producer::new`], with the back-off jitter drawn from `random`.
    pub fn with_random(
        config: &ClientConfig,
        producer: ProducerConfig,
        random: Arc<dyn RandomSource>,
    ) -> Result<Producer, ProducerError> {
        producer.validate()?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| ProducerError::Config("a producer needs a tokio runtime to run on".into()))?;
        let kinesis = Kinesis::new_cbor(config).map_err(|e| ProducerError::Client(Arc::new(e)))?;
        let shared = Arc::new(Shared {
            in_flight_bytes: Arc::new(Semaphore::new(producer.max_in_flight_bytes)),
            requests: Arc::new(Semaphore::new(producer.max_concurrent_requests)),
            config: producer,
            kinesis,
            random,
            streams: Mutex::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
            progress: Arc::new(Progress::default()),
            metrics: metrics::Metrics::default(),
            wake: Notify::new(),
            flushing: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
        });
        let sender = runtime.spawn(run_sender(Arc::clone(&shared)));
        Ok(Producer { shared, sender: Mutex::new(Some(sender)) })
    }

    /// Puts a record routed by the MD5 of its partition key. Waits while the in-flight
    /// byte bound is reached; the returned handle resolves once it is acknowledged or
    /// failed for good.
    pub async fn put(&self, stream: &str, partition_key: &str, data: Bytes) -> Result<PutHandle, ProducerError> {
        self.put_inner(stream, partition_key, None, data).await
    }

    /// Puts a record routed by `explicit_hash_key` (a decimal number below 2^128).
    pub async fn put_with_hash_key(
        &self,
        stream: &str,
        partition_key: &str,
        explicit_hash_key: &str,
        data: Bytes,
    ) -> Result<PutHandle, ProducerError> {
        self.put_inner(stream, partition_key, Some(explicit_hash_key), data).await
    }

    async fn put_inner(
        &self,
        stream: &str,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: Bytes,
    ) -> Result<PutHandle, ProducerError> {
        let shared = &self.shared;
        let routing = record::validate(partition_key, explicit_hash_key, &data)?;
        if shared.shutdown.load(Ordering::SeqCst) {
            return Err(ProducerError::Shutdown);
        }
        let cost = data.len() + partition_key.len() + config::RECORD_OVERHEAD_BYTES;
        let permit = Arc::clone(&shared.in_flight_bytes)
            .acquire_many_owned(u32::try_from(cost).unwrap_or(u32::MAX))
            .await
            .map_err(|_| ProducerError::Shutdown)?;
        let now = Instant::now();
        let (reply, handle) = oneshot::channel();
        let mut entry = Some(UserEntry {
            partition_key: partition_key.to_owned(),
            routing,
            data,
            arrived: now,
            deadline: now + shared.config.record_ttl,
            attempts: 0,
            last_error: None,
            reply,
            _ticket: Ticket::new(&shared.progress),
            _permit: permit,
        });
        // One lock per put once the stream is known; its shard map is read on first use.
        let wake = loop {
            {
                let mut streams = shared.streams.lock();
                // Checked again under the lock the sender exits under: a record inserted
                // after the sender has gone would never be sent.
                if shared.shutdown.load(Ordering::SeqCst) {
                    return Err(ProducerError::Shutdown);
                }
                if let Some(queues) = streams.get_mut(stream) {
                    match entry.take() {
                        Some(entry) => break queues.add(entry, &shared.config, now),
                        None => return Err(ProducerError::Shutdown),
                    }
                }
            }
            self.ensure_stream(stream).await?;
        };
        if wake {
            shared.wake.notify_one();
        }
        Ok(PutHandle(handle))
    }

    /// Reads the shard map of a stream the producer has not written to yet: one load per
    /// stream at a time, whose result every put waiting for it shares.
    async fn ensure_stream(&self, stream: &str) -> Result<(), ProducerError> {
        let shared = &self.shared;
        {
            let streams = shared.streams.lock();
            if streams.contains_key(stream) {
                return Ok(());
            }
            if streams.len() >= STREAMS_MAX {
                return Err(ProducerError::Config(format!("a producer writes to at most {STREAMS_MAX} streams")));
            }
        }
        let load = {
            let mut loading = shared.loading.lock();
            if loading.len() >= STREAMS_MAX && !loading.contains_key(stream) {
                return Err(ProducerError::Config(format!("a producer writes to at most {STREAMS_MAX} streams")));
            }
            Arc::clone(loading.entry(stream.to_owned()).or_default())
        };
        let result = load.get_or_init(|| self.load_stream(stream)).await.clone();
        // This load is over: a later put to a stream that failed to load tries afresh.
        let mut loading = shared.loading.lock();
        if loading.get(stream).is_some_and(|current| Arc::ptr_eq(current, &load)) {
            loading.remove(stream);
        }
        result
    }

    /// `ListShards` for `stream`, retried with the back-off while the error is retryable.
    async fn load_stream(&self, stream: &str) -> Result<(), ProducerError> {
        let shared = &self.shared;
        let mut attempt = 1;
        let map = loop {
            match ShardMap::load(&shared.kinesis, stream).await {
                Ok(map) => break map,
                Err(error) if error.is_retryable() && attempt < SHARD_MAP_LOAD_ATTEMPTS_MAX => {
                    let config = &shared.config;
                    let pause = backoff::backoff(
                        config.retry_base_delay,
                        config.retry_max_delay,
                        attempt,
                        shared.random.as_ref(),
                    );
                    tracing::warn!(stream, %error, attempt, ?pause, "reading the shard map failed; trying again");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(error) => {
                    return Err(ProducerError::ShardMap { stream: stream.to_owned(), source: Arc::new(error) });
                }
            }
        };
        let mut streams = shared.streams.lock();
        streams
            .entry(stream.to_owned())
            .or_insert_with(|| StreamQueues::new(map, shared.config.rate_limit, Instant::now()));
        Ok(())
    }

    /// Resolves once every record put before the call is acknowledged or failed (records put
    /// meanwhile are waited for too); the linger is skipped while it waits.
    pub async fn flush(&self) {
        let shared = &self.shared;
        shared.flushing.fetch_add(1, Ordering::SeqCst);
        shared.wake.notify_one();
        wait_idle(&shared.progress).await;
        shared.flushing.fetch_sub(1, Ordering::SeqCst);
    }

    /// Refuses further puts, flushes, and stops the sender.
    pub async fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let sender = self.sender.lock().take();
        if let Some(sender) = sender {
            if let Err(error) = sender.await {
                tracing::error!(%error, "producer sender task ended abnormally");
            }
        }
    }

    /// The counters so far.
    pub fn metrics(&self) -> ProducerMetrics {
        self.shared.metrics.snapshot()
    }

    /// User records put but not yet acknowledged or failed.
    pub fn outstanding(&self) -> u64 {
        self.shared.progress.outstanding.load(Ordering::SeqCst)
    }
}

impl Drop for Producer {
    /// A dropped producer stops taking records; its sender finishes what it holds, then ends.
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

async fn wait_idle(progress: &Progress) {
    loop {
        let idle = progress.idle.notified();
        tokio::pin!(idle);
        idle.as_mut().enable();
        if progress.outstanding.load(Ordering::SeqCst) == 0 {
            return;
        }
        idle.await;
    }
}

/// Closes aggregates at their linger, sends due batches within the request bound, reloads
/// shard maps when asked, and sleeps until something is due.
async fn run_sender(shared: Arc<Shared>) {
    loop {
        let now = Instant::now();
        let mut batches = Vec::new();
        let mut reloads = Vec::new();
        let mut expired = Vec::new();
        let mut wake_at = now + IDLE_TICK;
        let shutting_down;
        {
            let free_slots = shared.requests.available_permits();
            let mut streams = shared.streams.lock();
            // Decided under the lock `put` inserts under, after it has seen `shutdown`:
            // once the flag is set and nothing is outstanding, no record can arrive later.
            shutting_down = shared.shutdown.load(Ordering::SeqCst);
            if shutting_down && shared.progress.outstanding.load(Ordering::SeqCst) == 0 {
                let leftovers: Vec<UserEntry> = streams.drain().flat_map(|(_, queues)| queues.drain()).collect();
                drop(streams);
                for entry in leftovers {
                    fail(&shared, entry, ProducerError::Shutdown);
                }
                return;
            }
            let flushing = shutting_down || shared.flushing.load(Ordering::SeqCst) > 0;
            for (name, queues) in streams.iter_mut() {
                let plan = queues.plan(&shared.config, now, flushing, free_slots.saturating_sub(batches.len()));
                wake_at = wake_at.min(plan.wake_at);
                expired.extend(plan.expired);
                batches.extend(plan.batches.into_iter().map(|b| (name.clone(), b)));
                if plan.reload {
                    reloads.push(name.clone());
                }
            }
        }
        for entry in expired {
            fail_expired(&shared, entry);
        }
        for stream in reloads {
            tokio::spawn(reload(Arc::clone(&shared), stream));
        }
        for (stream, batch) in batches {
            match Arc::clone(&shared.requests).try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(send(Arc::clone(&shared), stream, batch, permit));
                }
                // Not reachable: plans never hold more batches than free permits.
                Err(_) => requeue(&shared, &stream, batch.records, "no request slot".into()),
            }
        }
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep_until(wake_at) => {}
        }
    }
}

fn fail_expired(shared: &Shared, entry: UserEntry) {
    let error = ProducerError::Expired {
        ttl: shared.config.record_ttl,
        attempts: entry.attempts,
        last_error: entry.last_error.clone().unwrap_or_else(|| "none".into()),
    };
    fail(shared, entry, error);
}

fn fail(shared: &Shared, entry: UserEntry, error: ProducerError) {
    metrics::Metrics::add(&shared.metrics.user_records_failed, 1);
    tracing::debug!(partition_key = %entry.partition_key, %error, "user record failed");
    let _ = entry.reply.send(Err(error));
}

/// Puts records back for another attempt (or regrouping, if their shard is gone).
fn requeue(shared: &Shared, stream: &str, records: Vec<KinesisRecord>, error: String) {
    let mut streams = shared.streams.lock();
    match streams.get_mut(stream) {
        Some(queues) => queues.retry(records, error, &shared.config, shared.random.as_ref(), Instant::now()),
        None => {
            drop(streams);
            for record in records {
                for entry in record.entries {
                    fail(shared, entry, ProducerError::Shutdown);
                }
            }
        }
    }
    shared.wake.notify_one();
}

async fn reload(shared: Arc<Shared>, stream: String) {
    metrics::Metrics::add(&shared.metrics.shard_map_reloads, 1);
    let loaded = ShardMap::load(&shared.kinesis, &stream).await;
    let now = Instant::now();
    {
        let mut streams = shared.streams.lock();
        if let Some(queues) = streams.get_mut(&stream) {
            match loaded {
                Ok(map) => {
                    tracing::info!(stream, open_shards = map.open_shards().count(), "shard map reloaded");
                    queues.replace_map(map, &shared.config, now);
                }
                Err(error) => {
                    tracing::warn!(stream, %error, "shard map reload failed; will try again");
                    queues.reload_failed(now + shared.config.retry_base_delay);
                }
            }
        }
    }
    shared.wake.notify_one();
}

/// Sends one `PutRecords` and sorts its results into acknowledgements, retries and failures.
async fn send(shared: Arc<Shared>, stream: String, mut batch: Batch, _slot: OwnedSemaphorePermit) {
    let entries: Vec<PutRecordsRequestEntry> = batch
        .records
        .iter_mut()
        .map(|record| {
            for entry in &mut record.entries {
                entry.attempts += 1;
            }
            PutRecordsRequestEntry {
                partition_key: Some(record.partition_key.clone()),
                explicit_hash_key: record.explicit_hash_key.map(HashKey::from_u128),
                data: record.encoded(),
            }
        })
        .collect();
    let input = PutRecordsInput {
        records: entries,
        stream_name: (!stream.starts_with("arn:")).then(|| stream.clone()),
        stream_arn: stream.starts_with("arn:").then(|| stream.clone()),
        stream_id: None,
        dry_run: None,
    };
    metrics::Metrics::add(&shared.metrics.put_records_calls, 1);
    let answer = shared.kinesis.put_records(input).await;
    let shards_sent: Vec<String> = batch.shards.clone();
    match answer {
        Ok(output) => acknowledge(&shared, &stream, batch.records, output),
        Err(error) => call_failed(&shared, &stream, batch.records, error),
    }
    {
        let mut streams = shared.streams.lock();
        if let Some(queues) = streams.get_mut(&stream) {
            queues.request_done(&shards_sent);
        }
    }
    shared.wake.notify_one();
}

fn acknowledge(shared: &Shared, stream: &str, records: Vec<KinesisRecord>, output: PutRecordsOutput) {
    if output.records.len() != records.len() {
        let detail = format!("{} results for {} records", output.records.len(), records.len());
        return call_failed(
            shared,
            stream,
            records,
            ClientError::Decode { service: "Kinesis", operation: "PutRecords", detail },
        );
    }
    let now = Instant::now();
    let mut retry = Vec::new();
    let mut wrong_shard = false;
    for (record, result) in records.into_iter().zip(output.records) {
        if let Some(code) = result.error_code {
            let message = result.error_message.unwrap_or_default();
            shared.metrics.error(&code);
            if code == "ProvisionedThroughputExceededException" {
                metrics::Metrics::add(&shared.metrics.throttles, 1);
            }
            if RETRYABLE_RECORD_ERRORS.contains(&code.as_str()) {
                retry.push(record.with_error(format!("{code}: {message}")));
            } else {
                for entry in record.entries {
                    let attempts = entry.attempts;
                    fail(
                        shared,
                        entry,
                        ProducerError::Failed { error_code: code.clone(), message: message.clone(), attempts },
                    );
                }
            }
            continue;
        }
        let (Some(shard_id), Some(sequence_number)) = (result.shard_id, result.sequence_number) else {
            retry.push(record.with_error("result without shard id or sequence number".into()));
            continue;
        };
        let mut record = record;
        if shard_id != record.shard_id {
            // The map is stale (resharding). A lone record is where Kinesis routed it. Of an
            // aggregate, the KCL keeps the user records inside the shard it landed in and
            // drops the others: those are acknowledged, these routed again. The landing
            // shard's range is known only if the map already has it.
            wrong_shard = true;
            if record.aggregated {
                let range = shared.streams.lock().get(stream).and_then(|queues| queues.shard_range(&shard_id));
                let (landed, misrouted) = split_landed(record, range);
                if !misrouted.entries.is_empty() {
                    tracing::debug!(stream, expected = %misrouted.shard_id, actual = %shard_id, records = misrouted.entries.len(), "aggregate records outside the shard it landed in; regrouping");
                    let error = format!("aggregate landed in {shard_id}, expected {}", misrouted.shard_id);
                    let mut misrouted = misrouted.with_error(error);
                    misrouted.regroup = true;
                    retry.push(misrouted);
                }
                if landed.is_empty() {
                    continue;
                }
                metrics::Metrics::add(&shared.metrics.kinesis_records_put, 1);
                metrics::Metrics::add(&shared.metrics.user_records_put, landed.len() as u64);
                for (index, entry) in landed {
                    reply_put(shared, entry, &shard_id, &sequence_number, Some(index), now);
                }
                continue;
            }
        }
        metrics::Metrics::add(&shared.metrics.kinesis_records_put, 1);
        metrics::Metrics::add(&shared.metrics.bytes_put, record.wire_bytes() as u64);
        metrics::Metrics::add(&shared.metrics.user_records_put, record.entries.len() as u64);
        let aggregated = record.aggregated;
        for (index, entry) in std::mem::take(&mut record.entries).into_iter().enumerate() {
            reply_put(shared, entry, &shard_id, &sequence_number, aggregated.then_some(index as u64), now);
        }
    }
    if !retry.is_empty() {
        metrics::Metrics::add(&shared.metrics.retries, retry.iter().map(|r| r.entries.len() as u64).sum());
    }
    let mut streams = shared.streams.lock();
    if let Some(queues) = streams.get_mut(stream) {
        if wrong_shard {
            // Only the records that went astray are routed again; throttled ones keep
            // their back-off.
            queues.request_reload();
        }
        if !retry.is_empty() {
            queues.retry(retry, String::new(), &shared.config, shared.random.as_ref(), now);
        }
    }
}

fn reply_put(
    shared: &Shared,
    entry: UserEntry,
    shard_id: &str,
    sequence_number: &SequenceNumber,
    sub_sequence_number: Option<u64>,
    now: Instant,
) {
    shared.metrics.latency(now.saturating_duration_since(entry.arrived));
    let outcome = PutOutcome {
        shard_id: shard_id.to_owned(),
        sequence_number: sequence_number.clone(),
        sub_sequence_number,
        attempts: entry.attempts,
    };
    let _ = entry.reply.send(Ok(outcome));
}

/// Splits a misrouted aggregate into the user records inside `range` (the shard it landed
/// in, if known), with their sub-sequence numbers, and the rest.
fn split_landed(mut record: KinesisRecord, range: Option<(u128, u128)>) -> (Vec<(u64, UserEntry)>, KinesisRecord) {
    let Some((start, end)) = range else { return (Vec::new(), record) };
    let mut landed = Vec::new();
    let mut misrouted = Vec::new();
    for (index, entry) in std::mem::take(&mut record.entries).into_iter().enumerate() {
        if (start..=end).contains(&entry.routing.hash) {
            landed.push((index as u64, entry));
        } else {
            misrouted.push(entry);
        }
    }
    record.entries = misrouted;
    (landed, record)
}

fn call_failed(shared: &Shared, stream: &str, records: Vec<KinesisRecord>, error: ClientError) {
    let error_type = error.error_type().unwrap_or("ClientError").to_owned();
    shared.metrics.error(&error_type);
    if error.is_throttling() {
        metrics::Metrics::add(&shared.metrics.throttles, 1);
    }
    tracing::warn!(stream, %error, records = records.len(), "PutRecords failed");
    // A shard closed under us, or a stream's map we no longer trust: read it again.
    let stale_map = matches!(error_type.as_str(), "InvalidArgumentException");
    if error.is_retryable() || stale_map {
        metrics::Metrics::add(&shared.metrics.retries, records.iter().map(|r| r.entries.len() as u64).sum());
        let mut streams = shared.streams.lock();
        if let Some(queues) = streams.get_mut(stream) {
            let mut records = records;
            if stale_map {
                queues.request_reload();
                for record in &mut records {
                    record.regroup = true;
                }
            }
            queues.retry(records, error.to_string(), &shared.config, shared.random.as_ref(), Instant::now());
        }
        return;
    }
    let message = error.to_string();
    for record in records {
        for entry in record.entries {
            let attempts = entry.attempts;
            fail(
                shared,
                entry,
                ProducerError::Failed { error_code: error_type.clone(), message: message.clone(), attempts },
            );
        }
    }
}
