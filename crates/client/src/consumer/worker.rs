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
use rheo_protocol::Timestamp;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::checkpointer::{HeldLease, ShardCheckpointer, Signal};
use super::config::{InitialPosition, RetrievalConfig, WorkerConfig};
use super::coordinator::{plan_takes, BalanceLimits, ExpiryTracker};
use super::deaggregate::user_records;
use super::error::ConsumerError;
use super::lease_table::LeaseTable;
use super::processor::{Checkpointer, InitializeInput, ProcessRecordsInput, ProcessorFactory, RecordProcessor};
use super::registration::register_consumer;
use super::retrieval::{FanOutFetcher, Fetcher, PollingFetcher, StartAt};
use super::shard_sync::leases_to_create;
use crate::config::ClientConfig;
use crate::producer::backoff::ThreadRandom;
use crate::services::{DynamoDb, Kinesis};
use crate::shards::ShardMap;

/// How long a graceful shutdown waits for processors to finish `shutdown_requested`.
pub const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
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
    /// Per shard this worker holds or held, dropped once the shard is finished.
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

struct Shared<F> {
    config: WorkerConfig,
    factory: F,
    table: Arc<LeaseTable>,
    kinesis: Arc<Kinesis>,
    kinesis_http2: Option<Arc<Kinesis>>,
    held: Mutex<HashMap<String, Arc<HeldLease>>>,
    metrics: Arc<Mutex<WorkerMetrics>>,
    take_now: Notify,
    /// The shard list of the last shard sync.
    shard_map: Mutex<Option<Arc<ShardMap>>>,
}

/// One worker of a KCL application.
pub struct Worker<F: ProcessorFactory> {
    shared: Arc<Shared<F>>,
}

impl<F: ProcessorFactory> Worker<F> {
    /// A worker reading through `client`'s endpoints (Kinesis and DynamoDB alike).
    pub fn new(client: &ClientConfig, config: WorkerConfig, factory: F) -> Result<Self, ConsumerError> {
        config.validate()?;
        let kinesis_http2 = match config.retrieval {
            RetrievalConfig::FanOut { .. } => Some(Arc::new(Kinesis::new_http2(client)?)),
            RetrievalConfig::Polling { .. } => None,
        };
        // Lease-table calls answer within a renew interval, or a slow call would hold up
        // renewals until every lease expired.
        let table_client = ClientConfig { timeout: client.timeout.min(config.lease_call_timeout()), ..client.clone() };
        Ok(Worker {
            shared: Arc::new(Shared {
                table: Arc::new(LeaseTable::new(DynamoDb::new(&table_client)?, config.application_name.clone())),
                kinesis: Arc::new(Kinesis::new_cbor(client)?),
                kinesis_http2,
                config,
                factory,
                held: Mutex::new(HashMap::new()),
                metrics: Arc::new(Mutex::new(WorkerMetrics::default())),
                take_now: Notify::new(),
                shard_map: Mutex::new(None),
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
            RetrievalConfig::FanOut { consumer_name } => Some(Arc::<str>::from(
                register_consumer(&shared.kinesis, &shared.config.stream_name, consumer_name).await?,
            )),
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
        let map = Arc::new(ShardMap::load(&self.kinesis, &self.config.stream_name).await?);
        *self.shard_map.lock() = Some(Arc::clone(&map));
        let existing: HashSet<String> = self.table.list().await?.into_iter().map(|l| l.lease_key).collect();
        for lease in leases_to_create(&map, &existing, self.config.initial_position) {
            if self.table.create_if_missing(&lease).await? {
                tracing::info!(shard_id = %lease.lease_key, checkpoint = %lease.checkpoint, "created a lease");
            }
        }
        Ok(())
    }

    /// A shard's hash-key range from the shard list, for leases that do not record it
    /// (KCL 1.x and early 2.x write none): without it, aggregates holding user records of
    /// other shards could not be dropped as the KCL drops them.
    async fn hash_range_of(&self, shard_id: &str) -> Result<Option<(u128, u128)>, ConsumerError> {
        let cached = self.shard_map.lock().clone();
        let map = match cached {
            Some(map) if map.get(shard_id).is_some() => map,
            _ => {
                let map = Arc::new(ShardMap::load(&self.kinesis, &self.config.stream_name).await?);
                *self.shard_map.lock() = Some(Arc::clone(&map));
                map
            }
        };
        Ok(map.get(shard_id).map(|s| (s.starting_hash_key, s.ending_hash_key)))
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
        // Figures of shards done for good (finished by anyone, or cleaned up) go, so that
        // the map holds no more shards than still need reading (the totals keep theirs).
        let unfinished: HashSet<&str> =
            leases.iter().filter(|l| !l.is_finished()).map(|l| l.lease_key.as_str()).collect();
        self.metrics.lock().shards.retain(|shard_id, shard| shard.lease_held || unfinished.contains(shard_id.as_str()));
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

/// Renews every held lease each renew interval, all at once so that one slow call
/// delays no other lease. A lease whose renew finds another owner (or a moved counter) is
/// lost; so is one whose last successful renewal is older than the failover time, checked
/// on every tick whatever calls are in flight, since other workers may take it by then.
async fn renew_loop<F: ProcessorFactory>(shared: Arc<Shared<F>>) {
    let mut tick = tokio::time::interval(shared.config.lease_renew_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let call_timeout = shared.config.lease_call_timeout();
    loop {
        tick.tick().await;
        let held: Vec<Arc<HeldLease>> = shared.held.lock().values().cloned().collect();
        let mut renewals = JoinSet::new();
        for lease_held in held {
            if lease_held.is_lost() {
                continue;
            }
            if renewal_overdue(*lease_held.last_renewed.lock(), Instant::now(), shared.config.failover_time) {
                tracing::warn!(shard_id = %lease_held.shard_id, "no renewal for a failover time");
                shared.mark_lost(&lease_held);
                continue;
            }
            let shared = Arc::clone(&shared);
            renewals.spawn(async move {
                // The lease's lock may be held by a checkpoint; both are bounded by the
                // lease-table call timeout, and so is the wait here.
                let renewed = tokio::time::timeout(call_timeout, async {
                    let mut lease = lease_held.lease.lock().await;
                    shared.table.renew(&mut lease, shared.me()).await
                })
                .await;
                match renewed {
                    Ok(Ok(true)) => *lease_held.last_renewed.lock() = Instant::now(),
                    Ok(Ok(false)) => shared.mark_lost(&lease_held),
                    Ok(Err(e)) => {
                        tracing::warn!(shard_id = %lease_held.shard_id, error = %e, "could not renew the lease")
                    }
                    Err(_) => tracing::warn!(shard_id = %lease_held.shard_id, "renewing the lease timed out"),
                }
            });
        }
        while renewals.join_next().await.is_some() {}
    }
}

/// Whether a lease last renewed at `last_renewed` may already have been taken by another
/// worker at `now`.
fn renewal_overdue(last_renewed: Instant, now: Instant, failover_time: Duration) -> bool {
    now.saturating_duration_since(last_renewed) > failover_time
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
    let range = match range {
        Some(range) => Some(range),
        None => shared.hash_range_of(&shard_id).await?,
    };
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
            Fetcher::FanOut(FanOutFetcher::new(Arc::clone(kinesis), &arn, &shard_id, start, Arc::new(ThreadRandom)))
        }
        (RetrievalConfig::Polling { max_records, idle_time }, _, _) => Fetcher::Polling(PollingFetcher::new(
            Arc::clone(&shared.kinesis),
            &shared.config.stream_name,
            &shard_id,
            start,
            *max_records,
            *idle_time,
            Arc::new(ThreadRandom),
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
            // The fetcher retried what was worth retrying: stop, and the lease is released
            // for a fresh start from the checkpoint.
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
    fn a_lease_is_overdue_only_after_a_whole_failover_time_without_renewal() {
        let renewed = Instant::now();
        let failover = Duration::from_secs(10);
        assert!(!renewal_overdue(renewed, renewed + failover, failover));
        assert!(renewal_overdue(renewed, renewed + failover + Duration::from_millis(1), failover));
        assert!(!renewal_overdue(renewed + failover, renewed, failover), "a clock read before the renewal");
    }

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
