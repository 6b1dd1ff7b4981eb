//! Clients of Kinesis Data Streams, Firehose and DynamoDB that work against Rheo and
//! against AWS alike (only the endpoint differs), and what is built on them:
//!
//! - [`config`], [`transport`], [`services`]: where requests go, SigV4 signing, typed
//!   calls through `rheo-protocol`'s codecs (JSON, or CBOR for record data).
//! - [`shards`]: a stream's shard map (hash-key ranges, parents and children).
//! - [`deaggregate`]: KPL aggregates to user records, shared by the consumer and the
//!   reader.
//! - [`reader`]: a lease-free reader of a whole stream (`tail`-like uses), following
//!   resharding parents first.
//!
//! Nothing here depends on Rheo's server or storage: a program can use this crate against
//! AWS alone.

#![deny(missing_docs)]

pub mod config;
pub mod consumer;
pub mod deaggregate;
pub mod error;
pub mod producer;
pub mod reader;
pub mod services;
pub mod shards;
pub mod transport;

pub use config::{ClientConfig, Credentials, Environment, Service, SystemEnvironment};
pub use error::{ClientError, Result};
pub use services::{DynamoDb, Firehose, Kinesis};
