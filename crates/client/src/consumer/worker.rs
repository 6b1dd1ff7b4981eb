//! The worker: takes and renews leases, syncs leases with the shard list, and runs one
//! shard consumer (retrieval, de-aggregation, the application's processor) per held lease.
//!
//! Tasks: the run loop (shard sync, lease taking), a renewer, and one task per held
//! lease. All of them live in `JoinSet`s owned by [`Worker::run`]'s future, so dropping
//! that future (an aborted task, a crashed program) stops everything at once, as a dead
//! worker would: its leases then expire and other workers take them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rheo_protocol::model::{
    ConsumerStatus, DescribeStreamConsumerInput, DescribeStreamSummaryInput, RegisterStreamConsumerInput,
};
use rheo_protocol::Timestamp;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::checkpoint::{Checkpoint, ExtendedSequenceNumber};
use super::config::{InitialPosition, RetrievalConfig, WorkerConfig};
use super::coordinator::{plan_takes, BalanceLimits, ExpiryTracker};
use super::deaggregate::user_records;
use super::error::ConsumerError;
use super::lease::Lease;
use super::lease_table::LeaseTable;
use super::processor::{Checkpointer, InitializeInput, ProcessRecordsInput, ProcessorFactory, RecordProcessor};
use super::retrieval::{stream_name_or_arn, FanOutFetcher, Fetcher, PollingFetcher, StartAt};
use super::shard_sync::leases_to_create;
use crate::config::ClientConfig;
use crate::services::{DynamoDb, Kinesis};
use crate::shards::ShardMap;

/// How long a graceful shutdown waits for processors to finish `shutdown_requested`.
pub const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a new stream consumer may take to become ACTIVE.
pub const CONSUMER_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// Pause between `DescribeStreamConsumer` calls while waiting.
const CONSUMER_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Pause after a failed fetch that is not worth retrying at once.
const FETCH_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// A shard's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardMetrics {
    /// User records handed to the processor since this worker started.
    pub records_processed: u64,
    /// `MillisBehindLatest` of the last fetch.
    pub millis_behind_latest: Option<i64>,
    /// True while this worker holds the shard's lease.
    pub lease_held: bool,
}

/// A worker's figures, as plain counters the caller reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerMetrics {
    /// Per shard this worker has processed or holds.
    pub shards: BTreeMap<String, ShardMetrics>,
    /// Leases currently held.
    pub leases_held: u64,
    /// Leases taken (expired or unowned ones).
    pub leases_taken: u64,
    /// Leases stolen from a worker holding more than its share.
    pub leases_stolen: u64,
    /// Leases lost (a renew or checkpoint found another owner).
    pub leases_lost: u64,
    /// KPL aggregates dropped because a user record hashes outside the shard.
    pub aggregates_dropped: u64,
    /// Records handed to processors, all shards.
    pub records_processed: u64,
}

impl WorkerMetrics {
    /// The figures in Prometheus' text format, for a process that serves them.
    pub fn to_prometheus(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let totals = [
            ("rheo_consumer_leases_held", "gauge", "Leases this worker holds.", self.leases_held),
            ("rheo_consumer_leases_taken_total", "counter", "Expired or unowned leases taken.", self.leases_taken),
            ("rheo_consumer_leases_stolen_total", "counter", "Leases stolen for balance.", self.leases_stolen),
            ("rheo_consumer_leases_lost_total", "counter", "Leases lost to another worker.", self.leases_lost),
            (
                "rheo_consumer_aggregates_dropped_total",
                "counter",
                "KPL aggregates dropped for a user record outside the shard.",
                self.aggregates_dropped,
            ),
        ];
        for (name, kind, help, value) in totals {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        let _ = writeln!(out, "# HELP rheo_consumer_records_processed_total User records handed to processors.");
        let _ = writeln!(out, "# TYPE rheo_consumer_records_processed_total counter");
        for (shard, metrics) in &self.shards {
            let _ = writeln!(
                out,
                "rheo_consumer_records_processed_total{{shard=\"{shard}\"}} {}",
                metrics.records_processed
            );
        }
        let _ =
            writeln!(out, "# HELP rheo_consumer_millis_behind_latest How far behind the newest record each shard is.");
        let _ = writeln!(out, "# TYPE rheo_consumer_millis_behind_latest gauge");
        for (shard, metrics) in &self.shards {
            if let Some(behind) = metrics.millis_behind_latest {
                let _ = writeln!(out, "rheo_consumer_millis_behind_latest{{shard=\"{shard}\"}} {behind}");
            }
        }
        out
    }
}

/// What a held lease's consumer is told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Run,
    Lost,
    Shutdown,
}

/// A lease this worker holds: its authoritative copy (the counter the next conditional
/// write expects) and the signal to its shard consumer.
#[derive(Debug)]
struct HeldLease {
    shard_id: String,
    lease: tokio::sync::Mutex<Lease>,
    signal: watch::Sender<Signal>,
    last_renewed: Mutex<Instant>,
}

impl HeldLease {
    fn is_lost(&self) -> bool {
        *self.signal.borrow() == Signal::Lost
    }
}

struct Shared<F> {
    config: WorkerConfig,
    factory: F,
    table: Arc<LeaseTable>,
    kinesis: Arc<Kinesis>,
    kinesis_http2: Option<Arc<Kinesis>>,
    held: Mutex<HashMap<String, Arc<HeldLease>>>,
    metrics: Arc<Mutex<WorkerMetrics>>,
    take_now: Notify,
}

/// One worker of a KCL application.
pub struct Worker<F: ProcessorFactory> {
    shared: Arc<Shared<F>>,
}

impl<F: ProcessorFactory> Worker<F> {
    /// A worker reading through `client`'s endpoints (Kinesis and DynamoDB alike).
    pub fn new(client: &ClientConfig, config: WorkerConfig, factory: F) -> Result<Self, ConsumerError> {
        if config.application_name.is_empty() || config.stream_name.is_empty() || config.worker_id.is_empty() {
            return Err(ConsumerError::Config("application name, stream name and worker id must not be empty".into()));
        }
        if config.lease_renew_interval >= config.failover_time {
            return Err(ConsumerError::Config(format!(
                "the lease renew interval ({:?}) must be shorter than the failover time ({:?})",
                config.lease_renew_interval, config.failover_time
            )));
        }
        let kinesis_http2 = match config.retrieval {
            RetrievalConfig::FanOut { .. } => Some(Arc::new(Kinesis::new_http2(client)?)),
            RetrievalConfig::Polling { .. } => None,
        };
        Ok(Worker {
            shared: Arc::new(Shared {
                table: Arc::new(LeaseTable::new(DynamoDb::new(client)?, config.application_name.clone())),
                kinesis: Arc::new(Kinesis::new_cbor(client)?),
                kinesis_http2,
                config,
                factory,
                held: Mutex::new(HashMap::new()),
                metrics: Arc::new(Mutex::new(WorkerMetrics::default())),
                take_now: Notify::new(),
            }),
        })
    }

    /// This worker's id (`leaseOwner` of its leases).
    pub fn worker_id(&self) -> &str {
        &self.shared.config.worker_id
    }

    /// The worker's figures now.
    pub fn metrics(&self) -> WorkerMetrics {
        let mut metrics = self.shared.metrics.lock().clone();
        metrics.leases_held = self.shared.held.lock().len() as u64;
        metrics
    }

    /// Runs until `shutdown` completes, then shuts down gracefully: each processor's
    /// `shutdown_requested` (its last chance to checkpoint), then the leases are released.
    /// Dropping the future instead stops the worker at once, leases unreleased.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ConsumerError> {
        let shared = &self.shared;
        shared.table.ensure_exists().await?;
        let consumer_arn = match &shared.config.retrieval {
            RetrievalConfig::FanOut { consumer_name } => {
                Some(Arc::<str>::from(shared.register_consumer(consumer_name).await?))
            }
            RetrievalConfig::Polling { .. } => None,
        };
        let mut shard_tasks = JoinSet::new();
        let mut renewer = JoinSet::new();
        renewer.spawn(renew_loop(Arc::clone(shared)));
        let mut tracker = ExpiryTracker::default();
        let mut rng = StdRng::from_entropy();
        let mut sync_tick = tokio::time::interval(shared.config.shard_sync_interval);
        let mut take_tick = tokio::time::interval(shared.config.lease_take_interval);
        tokio::pin!(shutdown);
        tracing::info!(worker_id = %shared.config.worker_id, table = %shared.table.name(), "worker started");
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                _ = sync_tick.tick() => {
                    if let Err(e) = shared.sync_shards().await {
                        tracing::warn!(error = %e, "shard sync failed");
                    }
                }
                _ = take_tick.tick() => shared.take_round(&mut tracker, &mut rng, &mut shard_tasks, &consumer_arn).await,
                () = shared.take_now.notified() => shared.take_round(&mut tracker, &mut rng, &mut shard_tasks, &consumer_arn).await,
                Some(done) = shard_tasks.join_next() => {
                    if let Err(e) = done {
                        tracing::error!(error = %e, "a shard consumer task failed");
                    }
                }
            }
        }
        tracing::info!(worker_id = %shared.config.worker_id, "worker shutting down");
        let held: Vec<Arc<HeldLease>> = shared.held.lock().values().cloned().collect();
        for lease in &held {
            lease.signal.send_if_modified(|s| {
                let run = *s == Signal::Run;
                if run {
                    *s = Signal::Shutdown;
                }
                run
            });
        }
        let drained =
            tokio::time::timeout(GRACEFUL_SHUTDOWN_TIMEOUT, async { while shard_tasks.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            tracing::warn!("processors did not finish shutting down in time");
        }
        shard_tasks.abort_all();
        renewer.abort_all();
        // Leases whose consumers did not get to release them.
        let remaining: Vec<Arc<HeldLease>> = shared.held.lock().drain().map(|(_, h)| h).collect();
        for held in remaining {
            let mut lease = held.lease.lock().await;
            if let Err(e) = shared.table.release(&mut lease, &shared.config.worker_id).await {
                tracing::warn!(shard_id = %held.shard_id, error = %e, "could not release the lease");
            }
        }
        Ok(())
    }
}

impl<F: ProcessorFactory> Shared<F> {
    fn me(&self) -> &str {
        &self.config.worker_id
    }

    fn timestamp(&self) -> Option<Timestamp> {
        match self.config.initial_position {
            InitialPosition::AtTimestamp(t) => Some(t),
            _ => None,
        }
    }

    /// Creates the leases the shard list calls for.
    async fn sync_shards(&self) -> Result<(), ConsumerError> {
        let map = ShardMap::load(&self.kinesis, &self.config.stream_name).await?;
        let existing: HashSet<String> = self.table.list().await?.into_iter().map(|l| l.lease_key).collect();
        for lease in leases_to_create(&map, &existing, self.config.initial_position) {
            if self.table.create_if_missing(&lease).await? {
                tracing::info!(shard_id = %lease.lease_key, checkpoint = %lease.checkpoint, "created a lease");
            }
        }
        Ok(())
    }

    async fn take_round(
        self: &Arc<Self>,
        tracker: &mut ExpiryTracker,
        rng: &mut StdRng,
        shard_tasks: &mut JoinSet<()>,
        consumer_arn: &Option<Arc<str>>,
    ) {
        let leases = match self.table.list().await {
            Ok(leases) => leases,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the leases");
                return;
            }
        };
        let now = Instant::now();
        tracker.observe(&leases, now);
        let held: HashSet<String> = self.held.lock().keys().cloned().collect();
        let limits = BalanceLimits {
            failover_time: self.config.failover_time,
            max_leases_per_worker: self.config.max_leases_per_worker,
            max_leases_to_steal_at_one_time: self.config.max_leases_to_steal_at_one_time,
        };
        let plan = plan_takes(&leases, tracker, self.me(), &held, now, limits, rng);
        let chosen = plan.take.iter().map(|k| (k, false)).chain(plan.steal.iter().map(|k| (k, true)));
        for (key, stolen) in chosen {
            let Some(mut lease) = leases.iter().find(|l| &l.lease_key == key).cloned() else { continue };
            let previous_owner = lease.lease_owner.clone();
            match self.table.take(&mut lease, self.me()).await {
                Ok(true) => {
                    tracing::info!(shard_id = %key, previous_owner = ?previous_owner, stolen, "took a lease");
                    {
                        let mut metrics = self.metrics.lock();
                        if stolen {
                            metrics.leases_stolen += 1;
                        } else {
                            metrics.leases_taken += 1;
                        }
                        metrics.shards.entry(key.clone()).or_default().lease_held = true;
                    }
                    let (signal, receiver) = watch::channel(Signal::Run);
                    let held = Arc::new(HeldLease {
                        shard_id: key.clone(),
                        lease: tokio::sync::Mutex::new(lease),
                        signal,
                        last_renewed: Mutex::new(Instant::now()),
                    });
                    self.held.lock().insert(key.clone(), Arc::clone(&held));
                    shard_tasks.spawn(consume_shard(Arc::clone(self), held, receiver, consumer_arn.clone()));
                }
                Ok(false) => tracing::debug!(shard_id = %key, "another worker changed the lease first"),
                Err(e) => tracing::warn!(shard_id = %key, error = %e, "could not take the lease"),
            }
        }
    }

    async fn register_consumer(&self, consumer_name: &str) -> Result<String, ConsumerError> {
        let (stream_name, stream_arn) = stream_name_or_arn(&self.config.stream_name);
        let summary = self
            .kinesis
            .describe_stream_summary(DescribeStreamSummaryInput { stream_name, stream_arn, stream_id: None })
            .await?;
        let stream_arn = summary.stream_description_summary.stream_arn;
        let input = RegisterStreamConsumerInput {
            stream_arn: stream_arn.clone(),
            consumer_name: consumer_name.to_owned(),
            stream_id: None,
            tags: None,
        };
        let mut describe = match self.kinesis.register_stream_consumer(input).await {
            Ok(out) => DescribeStreamConsumerInput {
                stream_arn: None,
                consumer_name: None,
                consumer_arn: Some(out.consumer.consumer_arn),
                stream_id: None,
            },
            Err(e) if e.error_type() == Some("ResourceInUseException") => DescribeStreamConsumerInput {
                stream_arn: Some(stream_arn),
                consumer_name: Some(consumer_name.to_owned()),
                consumer_arn: None,
                stream_id: None,
            },
            Err(e) => return Err(e.into()),
        };
        let deadline = Instant::now() + CONSUMER_ACTIVE_TIMEOUT;
        loop {
            let description = self.kinesis.describe_stream_consumer(describe.clone()).await?.consumer_description;
            if description.consumer_status == ConsumerStatus::Active {
                tracing::info!(consumer_arn = %description.consumer_arn, "stream consumer ACTIVE");
                return Ok(description.consumer_arn);
            }
            if Instant::now() >= deadline {
                return Err(ConsumerError::Config(format!(
                    "stream consumer {consumer_name} not ACTIVE after {CONSUMER_ACTIVE_TIMEOUT:?}"
                )));
            }
            describe = DescribeStreamConsumerInput {
                stream_arn: None,
                consumer_name: None,
                consumer_arn: Some(description.consumer_arn),
                stream_id: None,
            };
            tokio::time::sleep(CONSUMER_POLL_INTERVAL).await;
        }
    }

    fn mark_lost(&self, held: &HeldLease) {
        let changed = held.signal.send_if_modified(|s| {
            let was_held = *s != Signal::Lost;
            *s = Signal::Lost;
            was_held
        });
        if changed {
            tracing::info!(shard_id = %held.shard_id, "lost the lease");
            self.metrics.lock().leases_lost += 1;
        }
    }
}

/// Renews every held lease each renew interval. A lease whose renew finds another owner
/// (or a moved counter) is lost; so is one that could not be renewed for a failover time.
async fn renew_loop<F: ProcessorFactory>(shared: Arc<Shared<F>>) {
    let mut tick = tokio::time::interval(shared.config.lease_renew_interval);
    loop {
        tick.tick().await;
        let held: Vec<Arc<HeldLease>> = shared.held.lock().values().cloned().collect();
        for lease_held in held {
            if lease_held.is_lost() {
                continue;
            }
            let mut lease = lease_held.lease.lock().await;
            match shared.table.renew(&mut lease, shared.me()).await {
                Ok(true) => *lease_held.last_renewed.lock() = Instant::now(),
                Ok(false) => shared.mark_lost(&lease_held),
                Err(e) => {
                    tracing::warn!(shard_id = %lease_held.shard_id, error = %e, "could not renew the lease");
                    if lease_held.last_renewed.lock().elapsed() > shared.config.failover_time {
                        shared.mark_lost(&lease_held);
                    }
                }
            }
        }
    }
}

/// The checkpointing side of a held lease (behind [`Checkpointer`]).
#[derive(Debug)]
pub(crate) struct ShardCheckpointer {
    held: Arc<HeldLease>,
    table: Arc<LeaseTable>,
    owner: String,
    last_delivered: Mutex<Option<ExtendedSequenceNumber>>,
    last_checkpoint: Mutex<ExtendedSequenceNumber>,
    at_shard_end: AtomicBool,
    children: Mutex<Vec<String>>,
    metrics: Arc<Mutex<WorkerMetrics>>,
}

impl ShardCheckpointer {
    pub(crate) fn shard_id(&self) -> &str {
        &self.held.shard_id
    }

    pub(crate) async fn checkpoint_delivered(&self) -> Result<(), ConsumerError> {
        if self.at_shard_end.load(Ordering::Acquire) {
            return self.write(ExtendedSequenceNumber::sentinel(Checkpoint::ShardEnd)).await;
        }
        let delivered = self.last_delivered.lock().clone();
        match delivered {
            Some(position) => self.write(position).await,
            // Nothing delivered yet: the stored checkpoint already says so.
            None => Ok(()),
        }
    }

    pub(crate) async fn checkpoint_at(&self, position: ExtendedSequenceNumber) -> Result<(), ConsumerError> {
        let invalid =
            |detail: String| ConsumerError::InvalidCheckpoint { shard_id: self.shard_id().to_owned(), detail };
        let delivered = self.last_delivered.lock().clone();
        match delivered.as_ref().and_then(|d| position.compare(d)) {
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal) => {}
            _ => return Err(invalid(format!("{position} is beyond the last record delivered"))),
        }
        self.write(position).await
    }

    async fn write(&self, position: ExtendedSequenceNumber) -> Result<(), ConsumerError> {
        let lost = || ConsumerError::LeaseLost { shard_id: self.shard_id().to_owned() };
        if self.held.is_lost() {
            return Err(lost());
        }
        let mut lease = self.held.lease.lock().await;
        if let Some(std::cmp::Ordering::Less) = position.compare(&lease.checkpoint) {
            return Err(ConsumerError::InvalidCheckpoint {
                shard_id: self.shard_id().to_owned(),
                detail: format!("{position} is before the last checkpoint {}", lease.checkpoint),
            });
        }
        let children =
            if position.checkpoint == Checkpoint::ShardEnd { self.children.lock().clone() } else { Vec::new() };
        if self.table.checkpoint(&mut lease, &self.owner, &position, &children).await? {
            *self.last_checkpoint.lock() = position;
            Ok(())
        } else {
            if !self.held.is_lost() {
                self.held.signal.send_replace(Signal::Lost);
                self.metrics.lock().leases_lost += 1;
            }
            Err(lost())
        }
    }

    pub(crate) fn last_checkpoint(&self) -> ExtendedSequenceNumber {
        self.last_checkpoint.lock().clone()
    }
}

/// Runs one held lease's shard to its end, the lease's loss or the worker's shutdown,
/// then forgets the lease.
async fn consume_shard<F: ProcessorFactory>(
    shared: Arc<Shared<F>>,
    held: Arc<HeldLease>,
    signal: watch::Receiver<Signal>,
    consumer_arn: Option<Arc<str>>,
) {
    let shard_id = held.shard_id.clone();
    if let Err(e) = consume(&shared, &held, signal, consumer_arn).await {
        tracing::warn!(shard_id = %shard_id, error = %e, "the shard consumer stopped");
        // Let another worker (or this one, later) try again from the checkpoint.
        if !held.is_lost() {
            let mut lease = held.lease.lock().await;
            let _ = shared.table.release(&mut lease, shared.me()).await;
        }
    }
    shared.held.lock().remove(&shard_id);
    if let Some(metrics) = shared.metrics.lock().shards.get_mut(&shard_id) {
        metrics.lease_held = false;
    }
}

async fn consume<F: ProcessorFactory>(
    shared: &Arc<Shared<F>>,
    held: &Arc<HeldLease>,
    mut signal: watch::Receiver<Signal>,
    consumer_arn: Option<Arc<str>>,
) -> Result<(), ConsumerError> {
    let shard_id = held.shard_id.clone();
    let (parents, checkpoint, range) = {
        let lease = held.lease.lock().await;
        (lease.parent_shard_ids.clone(), lease.checkpoint.clone(), lease.hash_key_range)
    };
    // Parents first: a child starts once each parent's lease reached SHARD_END (or is gone).
    for parent in &parents {
        loop {
            let now = *signal.borrow();
            if now != Signal::Run {
                return stop_before_start(shared, held, now).await;
            }
            match shared.table.get(parent).await {
                Ok(None) => break,
                Ok(Some(lease)) if lease.is_finished() => break,
                Ok(Some(_)) => tracing::debug!(shard_id = %shard_id, parent = %parent, "waiting for the parent to end"),
                Err(e) => tracing::warn!(shard_id = %shard_id, error = %e, "could not read the parent's lease"),
            }
            tokio::select! {
                _ = tokio::time::sleep(shared.config.parent_shard_poll_interval) => {}
                _ = signal.changed() => {}
            }
        }
    }
    let Some(start) = StartAt::from_checkpoint(&checkpoint, shared.timestamp()) else {
        // Already finished: nothing to read.
        return stop_before_start(shared, held, Signal::Shutdown).await;
    };
    let checkpointer = Checkpointer {
        inner: Arc::new(ShardCheckpointer {
            held: Arc::clone(held),
            table: Arc::clone(&shared.table),
            owner: shared.me().to_owned(),
            last_delivered: Mutex::new(checkpoint.sequence_number().map(|_| checkpoint.clone())),
            last_checkpoint: Mutex::new(checkpoint.clone()),
            at_shard_end: AtomicBool::new(false),
            children: Mutex::new(Vec::new()),
            metrics: Arc::clone(&shared.metrics),
        }),
    };
    let inner = &checkpointer.inner;
    let mut processor = shared.factory.create(&shard_id);
    processor
        .initialize(InitializeInput { shard_id: shard_id.clone(), extended_sequence_number: checkpoint.clone() })
        .await;
    let mut fetcher = match (&shared.config.retrieval, consumer_arn, &shared.kinesis_http2) {
        (RetrievalConfig::FanOut { .. }, Some(arn), Some(kinesis)) => {
            Fetcher::FanOut(FanOutFetcher::new(Arc::clone(kinesis), &arn, &shard_id, start))
        }
        (RetrievalConfig::Polling { max_records, idle_time }, _, _) => Fetcher::Polling(PollingFetcher::new(
            Arc::clone(&shared.kinesis),
            &shared.config.stream_name,
            &shard_id,
            start,
            *max_records,
            *idle_time,
        )),
        _ => return Err(ConsumerError::Config("fan-out retrieval without a registered consumer".into())),
    };
    loop {
        let fetched = tokio::select! {
            biased;
            _ = signal.changed() => None,
            batch = fetcher.next_batch() => Some(batch),
        };
        let now = *signal.borrow();
        match now {
            Signal::Run => {}
            Signal::Lost => {
                processor.lease_lost().await;
                return Ok(());
            }
            Signal::Shutdown => {
                processor.shutdown_requested(&checkpointer).await;
                let mut lease = held.lease.lock().await;
                shared.table.release(&mut lease, shared.me()).await?;
                return Ok(());
            }
        }
        let batch = match fetched {
            None => continue,
            Some(Ok(batch)) => batch,
            Some(Err(ConsumerError::Client(e))) if e.error_type() != Some("ResourceNotFoundException") => {
                tracing::warn!(shard_id = %shard_id, error = %e, "fetch failed");
                tokio::time::sleep(FETCH_ERROR_PAUSE).await;
                continue;
            }
            Some(Err(e)) => return Err(e),
        };
        let (records, dropped) = user_records(&shard_id, range, batch.records);
        let last_delivered = inner.last_delivered.lock().clone();
        let records: Vec<_> = match last_delivered {
            Some(last) => records
                .into_iter()
                .filter(|r| r.extended_sequence_number().compare(&last) == Some(std::cmp::Ordering::Greater))
                .collect(),
            None => records,
        };
        {
            let mut metrics = shared.metrics.lock();
            metrics.aggregates_dropped += dropped;
            metrics.records_processed += records.len() as u64;
            let shard = metrics.shards.entry(shard_id.clone()).or_default();
            shard.records_processed += records.len() as u64;
            shard.millis_behind_latest = batch.millis_behind_latest;
            shard.lease_held = true;
        }
        if let Some(last) = records.last() {
            *inner.last_delivered.lock() = Some(last.extended_sequence_number());
        }
        if !records.is_empty() || shared.config.call_process_records_even_for_empty_list {
            let input = ProcessRecordsInput { records, millis_behind_latest: batch.millis_behind_latest };
            processor.process_records(input, &checkpointer).await;
        }
        if batch.shard_ended {
            return end_shard(shared, held, &mut processor, &checkpointer, batch.child_shards).await;
        }
    }
}

/// A shard read to its end: the processor checkpoints `SHARD_END`, the children get
/// leases, and this lease is released (nothing is left to do on it).
async fn end_shard<F: ProcessorFactory>(
    shared: &Arc<Shared<F>>,
    held: &Arc<HeldLease>,
    processor: &mut F::Processor,
    checkpointer: &Checkpointer,
    child_shards: Vec<rheo_protocol::model::ChildShard>,
) -> Result<(), ConsumerError> {
    let inner = &checkpointer.inner;
    let mut children: Vec<String> = child_shards.into_iter().map(|c| c.shard_id).collect();
    if children.is_empty() {
        if let Ok(map) = ShardMap::load(&shared.kinesis, &shared.config.stream_name).await {
            children = map.children_of(&held.shard_id).map(|s| s.shard_id.clone()).collect();
        }
    }
    *inner.children.lock() = children;
    inner.at_shard_end.store(true, Ordering::Release);
    processor.shard_ended(checkpointer).await;
    let finished = held.lease.lock().await.is_finished();
    if finished {
        tracing::info!(shard_id = %held.shard_id, "shard ended");
        if let Err(e) = shared.sync_shards().await {
            tracing::warn!(error = %e, "shard sync after a shard's end failed");
        }
        shared.take_now.notify_one();
    } else if !held.is_lost() {
        tracing::error!(shard_id = %held.shard_id, "the processor did not checkpoint at the shard's end; its children wait");
    }
    if !held.is_lost() {
        let mut lease = held.lease.lock().await;
        shared.table.release(&mut lease, shared.me()).await?;
    }
    Ok(())
}

/// Stops a consumer that did not start its processor yet.
async fn stop_before_start<F: ProcessorFactory>(
    shared: &Arc<Shared<F>>,
    held: &Arc<HeldLease>,
    signal: Signal,
) -> Result<(), ConsumerError> {
    if signal != Signal::Lost {
        let mut lease = held.lease.lock().await;
        shared.table.release(&mut lease, shared.me()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_as_prometheus_text() {
        let mut metrics = WorkerMetrics { leases_held: 2, leases_lost: 1, ..WorkerMetrics::default() };
        metrics.shards.insert(
            "shardId-000000000001".into(),
            ShardMetrics { records_processed: 42, millis_behind_latest: Some(7), lease_held: true },
        );
        let text = metrics.to_prometheus();
        assert!(text.contains("# TYPE rheo_consumer_leases_held gauge\nrheo_consumer_leases_held 2\n"));
        assert!(text.contains("rheo_consumer_leases_lost_total 1\n"));
        assert!(text.contains("rheo_consumer_records_processed_total{shard=\"shardId-000000000001\"} 42\n"));
        assert!(text.contains("rheo_consumer_millis_behind_latest{shard=\"shardId-000000000001\"} 7\n"));
    }
}
