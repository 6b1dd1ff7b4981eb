//! Kinesis channels: a stream's records delivered to object storage, as AWS's
//! CreateChannel family describes (developer guide, "Amazon S3 delivery").
//!
//! A channel composes Firehose's pieces without a delivery stream of its own: it reads
//! its source through the engine's [`rheo_engine::StreamReader`] (as Firehose's Kinesis
//! sources do), buffers in memory for `DataFreshnessInSeconds` counted from the oldest
//! buffered record's arrival (bounded by [`crate::limits::CHANNEL_BUFFER_BYTES_MAX`]),
//! validates records by their `RecordFormatType`, compresses with [`crate::compress`]
//! (NONE, GZIP or ZSTD) and writes one object through [`crate::dest::s3::ObjectStores`]
//! (folder buckets, or an S3-compatible service) named by the `OutputKeyTemplate`
//! ([`template`]). Records that fail validation go to the dead-letter location as JSON
//! lines. Only after both writes does the reader's position move, durably, so delivery
//! is at-least-once and in order per shard; a crash re-delivers at most one buffer.
//!
//! Channels are kept in a log of their own (`<data-dir>/channels`), one storage stream
//! per channel holding no records: its metadata settings hold the configuration and the
//! reader position ([`state`]). S3 Tables (Iceberg) destinations are refused.

pub mod deliver;
pub mod error;
pub mod model;
pub mod service;
pub mod state;
pub mod template;

pub use error::{ChannelError, ChannelResult, InvalidChannel};
pub use service::{status_name, Channels, ChannelsConfig};
