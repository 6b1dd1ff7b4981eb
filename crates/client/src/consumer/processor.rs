//! What the application implements ([`RecordProcessor`], made per shard by a
//! [`ProcessorFactory`]) and what it is handed: records and a [`Checkpointer`].

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use rheo_protocol::{SequenceNumber, Timestamp};

use super::checkpoint::ExtendedSequenceNumber;
use super::checkpointer::ShardCheckpointer;
use super::error::ConsumerError;

/// One user record: a Kinesis record, or one of the user records of a KPL aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// The shard it was read from.
    pub shard_id: String,
    /// The Kinesis record's sequence number (shared by the user records of an aggregate).
    pub sequence_number: SequenceNumber,
    /// The user record's index within its aggregate; `None` for a record that is not one.
    pub sub_sequence_number: Option<u64>,
    /// The partition key (the user record's own, for an aggregate).
    pub partition_key: String,
    /// The explicit hash key a KPL producer set on the user record.
    pub explicit_hash_key: Option<String>,
    /// The data.
    pub data: Bytes,
    /// When Kinesis accepted the record.
    pub approximate_arrival_timestamp: Option<Timestamp>,
}

impl ConsumedRecord {
    /// The position a checkpoint at this record stores.
    pub fn extended_sequence_number(&self) -> ExtendedSequenceNumber {
        ExtendedSequenceNumber::at(self.sequence_number.clone(), self.sub_sequence_number.unwrap_or(0))
    }
}

/// What [`RecordProcessor::initialize`] is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitializeInput {
    /// The shard.
    pub shard_id: String,
    /// Its checkpoint: processing resumes after it.
    pub extended_sequence_number: ExtendedSequenceNumber,
}

/// A batch of records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessRecordsInput {
    /// The records, in the shard's order.
    pub records: Vec<ConsumedRecord>,
    /// How far the batch is behind the shard's newest record.
    pub millis_behind_latest: Option<i64>,
}

/// An application's processing of one shard, driven by the worker while it holds the
/// shard's lease: `initialize`, then `process_records` batch after batch, then one of
/// `lease_lost`, `shard_ended` or `shutdown_requested`.
pub trait RecordProcessor: Send + 'static {
    /// Called once before the first batch.
    fn initialize(&mut self, input: InitializeInput) -> impl Future<Output = ()> + Send;

    /// Called with each batch, in order. Checkpoint when convenient: records after the
    /// last checkpoint are delivered again to whoever processes the shard next.
    fn process_records(
        &mut self,
        input: ProcessRecordsInput,
        checkpointer: &Checkpointer,
    ) -> impl Future<Output = ()> + Send;

    /// The lease was taken by another worker (or could not be renewed): stop; checkpoints
    /// are refused from now on.
    fn lease_lost(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Every record of the shard was delivered. The processor must checkpoint
    /// ([`Checkpointer::checkpoint`]) for the shard's children to start.
    fn shard_ended(&mut self, checkpointer: &Checkpointer) -> impl Future<Output = ()> + Send;

    /// The worker is shutting down gracefully: last chance to checkpoint.
    fn shutdown_requested(&mut self, checkpointer: &Checkpointer) -> impl Future<Output = ()> + Send {
        let _ = checkpointer;
        async {}
    }
}

/// Makes a processor for each shard the worker starts processing.
pub trait ProcessorFactory: Send + Sync + 'static {
    /// The processor type.
    type Processor: RecordProcessor;

    /// A processor for `shard_id`.
    fn create(&self, shard_id: &str) -> Self::Processor;
}

/// Records a shard's progress in the lease table, while the worker holds its lease.
#[derive(Clone, Debug)]
pub struct Checkpointer {
    pub(super) inner: Arc<ShardCheckpointer>,
}

impl Checkpointer {
    /// The shard.
    pub fn shard_id(&self) -> &str {
        self.inner.shard_id()
    }

    /// Checkpoints the last record delivered to the processor; in `shard_ended`, the
    /// shard's end (`SHARD_END`).
    pub async fn checkpoint(&self) -> Result<(), ConsumerError> {
        self.inner.checkpoint_delivered().await
    }

    /// Checkpoints at a record already delivered: every user record up to
    /// (`sequence_number`, `sub_sequence_number`) was processed.
    pub async fn checkpoint_at(
        &self,
        sequence_number: SequenceNumber,
        sub_sequence_number: u64,
    ) -> Result<(), ConsumerError> {
        self.inner.checkpoint_at(ExtendedSequenceNumber::at(sequence_number, sub_sequence_number)).await
    }

    /// Checkpoints at `record`.
    pub async fn checkpoint_record(&self, record: &ConsumedRecord) -> Result<(), ConsumerError> {
        self.inner.checkpoint_at(record.extended_sequence_number()).await
    }

    /// The last checkpoint written (or read when the lease was taken).
    pub fn last_checkpoint(&self) -> ExtendedSequenceNumber {
        self.inner.last_checkpoint()
    }
}
