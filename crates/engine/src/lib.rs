//! Kinesis Data Streams semantics over Rheo's durable shard log.
//!
//! The engine turns API operations into shard-log calls: it names streams and shards as
//! AWS does, routes partition keys to shards, issues and checks shard iterators, reshards
//! with real lineage, tracks stream and consumer lifecycles, and enforces quotas. It knows
//! nothing of HTTP, JSON or CBOR; the server converts its domain types to the wire model
//! and maps [`EngineError`] variants to AWS error types.
//!
//! ```
//! use std::sync::Arc;
//! use rheo_engine::{
//!     CreateStream, Engine, EngineConfig, GetRecords, GetShardIterator, IteratorStart, PutEntry, PutRecord, StreamRef,
//! };
//! use rheo_storage::{Durability, LogConfig, ManualClock, MemFs};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let config = EngineConfig { create_stream_ms: 0, ..Default::default() };
//! let log_config = LogConfig { durability: Durability::Never, ..Default::default() };
//! let engine = Engine::open(Arc::new(MemFs::default()), Arc::new(ManualClock::new(1_700_000_000_000)),
//!                           "/data".as_ref(), log_config, config)?;
//! engine.create_stream(CreateStream { name: "orders".into(), shard_count: Some(2), ..Default::default() }).await?;
//! let stream = StreamRef::name("orders");
//! let record = PutEntry { partition_key: Some("k".into()), explicit_hash_key: None, data: "hi".into() };
//! let put = engine.put_record(PutRecord { stream: stream.clone(), record, sequence_number_for_ordering: None }).await?;
//! let shard_iterator = engine.get_shard_iterator(&GetShardIterator {
//!     stream: stream.clone(), shard_id: put.placement.shard_id.to_string(), start: IteratorStart::TrimHorizon, stray_sequence_number: false,
//! })?;
//! let read = engine.get_records(&GetRecords { shard_iterator, limit: None })?;
//! assert_eq!(read.records[0].data, "hi");
//! # Ok::<(), rheo_engine::EngineError>(()) }).unwrap();
//! ```

#![deny(missing_docs)]

mod auto_distribution;
mod catalog;
mod checkpoint;
pub mod control_rates;
mod engine;
pub mod error;
mod hashing;
pub mod ids;
pub mod limits;
pub mod model;
mod queue_delivery;
mod queue_error;
mod queues;
mod reader;
mod reshard_plan;
mod sequence_layouts;
mod settings;
mod snapshot;
mod status;
mod subscriptions;
mod tags;
mod throttle;
pub mod token;

pub use control_rates::ControlOperation;
pub use engine::{
    Engine, EngineConfig, RateTarget, ResourceAccess, RoleAccess, RoleDenied, Subscription, SubscriptionRead, Wake,
};
pub use error::{
    EngineError, InvalidArgument, LimitExceeded, RecordViolation, ResourceInUse, ResourceNotFound, Result, Validation,
};
pub use hashing::{partition_key_hash, uniform_ranges};
pub use ids::QueueArn;
pub use ids::{EncodedShardId, ShardId};
pub use model::*;
pub use queue_error::QueueError;
pub use queues::model::*;
pub use reader::{
    ReaderBatch, ReaderCheckpoint, ReaderRecord, ReaderStart, ShardCheckpoint, StreamReader, StreamReaderRequest,
};
/// Sequence numbers in engine results are the storage layer's typed fields; the server
/// spells them in decimal once, at the wire.
pub use rheo_storage::SequenceNumber;
/// The Kinesis tag rules, for other resources that carry Kinesis tags (channels).
pub use tags::check_tags;
pub use token::TokenKey;

#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;
