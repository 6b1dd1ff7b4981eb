//! A KCL-compatible consumer: workers that share a stream's shards through a lease table
//! in DynamoDB (the Java KCL's schema, so a Java worker and a Rust worker can hand shards
//! over to each other), read each shard by polling or enhanced fan-out, de-aggregate KPL
//! records, and hand them to a [`RecordProcessor`] that checkpoints its progress.
//!
//! - [`processor`]: what the application implements, and the [`Checkpointer`] it calls.
//! - [`checkpoint`]: checkpoint values (sequence numbers and the KCL's sentinels).
//! - [`config`]: [`WorkerConfig`] with the KCL's defaults.
//! - [`worker`]: [`Worker`], which runs everything until shut down.

pub mod checkpoint;
mod checkpointer;
pub mod config;
pub mod coordinator;
mod deaggregate;
mod error;
pub mod lease;
pub mod lease_table;
pub mod processor;
mod registration;
pub mod retrieval;
pub mod shard_sync;
pub mod worker;

pub use checkpoint::{Checkpoint, ExtendedSequenceNumber};
pub use config::{InitialPosition, RetrievalConfig, WorkerConfig};
pub use error::ConsumerError;
pub use processor::{
    Checkpointer, ConsumedRecord, InitializeInput, ProcessRecordsInput, ProcessorFactory, RecordProcessor,
};
pub use worker::{ShardMetrics, Worker, WorkerMetrics};
