//! The worker: takes and renews leases, syncs leases with the shard list, and runs one
//! shard consumer (retrieval, de-aggregation, the application's processor) per held lease.

use std::collections::BTreeMap;
use std::future::Future;

use super::checkpoint::ExtendedSequenceNumber;
use super::config::WorkerConfig;
use super::error::ConsumerError;
use super::processor::ProcessorFactory;
use crate::config::ClientConfig;

/// A shard's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardMetrics {
    /// User records handed to the processor since this worker took the lease.
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
}

/// One worker of a KCL application.
pub struct Worker<F: ProcessorFactory> {
    _factory: F,
    _config: WorkerConfig,
}

impl<F: ProcessorFactory> Worker<F> {
    /// A worker reading through `client`'s endpoints (Kinesis and DynamoDB alike).
    pub fn new(client: &ClientConfig, config: WorkerConfig, factory: F) -> Result<Self, ConsumerError> {
        let _ = client;
        Ok(Worker { _factory: factory, _config: config })
    }

    /// Runs until `shutdown` completes, then shuts down gracefully: each processor's
    /// `shutdown_requested` (its last chance to checkpoint), then the leases are released.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ConsumerError> {
        shutdown.await;
        Err(ConsumerError::Config("the worker is not implemented yet".into()))
    }

    /// The worker's figures now.
    pub fn metrics(&self) -> WorkerMetrics {
        WorkerMetrics::default()
    }
}

/// The checkpointing side of a held lease (behind [`super::Checkpointer`]).
#[derive(Debug)]
pub(crate) struct ShardCheckpointer {
    shard_id: String,
}

impl ShardCheckpointer {
    pub(crate) fn shard_id(&self) -> &str {
        &self.shard_id
    }

    pub(crate) async fn checkpoint_delivered(&self) -> Result<(), ConsumerError> {
        Err(ConsumerError::LeaseLost { shard_id: self.shard_id.clone() })
    }

    pub(crate) async fn checkpoint_at(&self, position: ExtendedSequenceNumber) -> Result<(), ConsumerError> {
        let _ = position;
        Err(ConsumerError::LeaseLost { shard_id: self.shard_id.clone() })
    }

    pub(crate) fn last_checkpoint(&self) -> ExtendedSequenceNumber {
        ExtendedSequenceNumber::sentinel(super::Checkpoint::TrimHorizon)
    }
}
