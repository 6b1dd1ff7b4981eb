//! A held lease and its checkpointing side: what [`Checkpointer`] writes through, with
//! the lease's conditional writes in the lease table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::time::Instant;

use super::checkpoint::{Checkpoint, ExtendedSequenceNumber};
use super::error::ConsumerError;
use super::lease::Lease;
use super::lease_table::LeaseTable;
#[cfg(doc)]
use super::processor::Checkpointer;
use super::worker::WorkerMetrics;

/// What a held lease's consumer is told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Keep processing.
    Run,
    /// Another worker has the lease.
    Lost,
    /// The worker is shutting down.
    Shutdown,
}

/// A lease this worker holds: its authoritative copy (the counter the next conditional
/// write expects) and the signal to its shard consumer.
#[derive(Debug)]
pub(crate) struct HeldLease {
    pub(crate) shard_id: String,
    pub(crate) lease: tokio::sync::Mutex<Lease>,
    pub(crate) signal: watch::Sender<Signal>,
    pub(crate) last_renewed: Mutex<Instant>,
}

impl HeldLease {
    pub(crate) fn is_lost(&self) -> bool {
        *self.signal.borrow() == Signal::Lost
    }
}

/// The checkpointing side of a held lease (behind [`Checkpointer`]).
#[derive(Debug)]
pub(crate) struct ShardCheckpointer {
    pub(crate) held: Arc<HeldLease>,
    pub(crate) table: Arc<LeaseTable>,
    pub(crate) owner: String,
    /// The last user record handed to the processor.
    pub(crate) last_delivered: Mutex<Option<ExtendedSequenceNumber>>,
    pub(crate) last_checkpoint: Mutex<ExtendedSequenceNumber>,
    /// Set once the shard was read to its end: a checkpoint then writes `SHARD_END`.
    pub(crate) at_shard_end: AtomicBool,
    /// The closed shard's children, recorded with `SHARD_END`.
    pub(crate) children: Mutex<Vec<String>>,
    pub(crate) metrics: Arc<Mutex<WorkerMetrics>>,
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
            // The checkpoint moved the counter: as good as a renewal.
            *self.held.last_renewed.lock() = Instant::now();
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
