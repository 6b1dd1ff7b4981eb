//! The DynamoDB API (2012-08-10) that the Kinesis Client Library, its MultiLangDaemon and
//! lock clients use for leases, checkpoints, coordinator state and worker metrics, served
//! by Rheo on its own port so KCL needs no second emulator.
//!
//! Layers, leaves first:
//! - [`value`]: attribute values and DynamoDB numbers (38 significant digits), read from and
//!   written to the wire's JSON with DynamoDB's own validation texts;
//! - [`key`]: key schemas, primary keys and key conditions;
//! - [`table`]: a table's stored definition (keys, indexes, billing, settings, status);
//! - [`expr`]: the expression languages (condition, update, projection, key condition) and
//!   the legacy parameters (`Expected`, `AttributeUpdates`, `ScanFilter`, `KeyConditions`)
//!   lowered to the same trees, with their evaluation;
//! - [`store`]: the durable embedded store (redb): tables, items and index entries, with a
//!   group-committing writer so every acknowledged write is on disk and conditional
//!   writes are atomic;
//! - [`service`]: the operations, taking and returning `rheo_protocol::dynamodb` types.
//!
//! Errors are [`DynamoError`]: each variant's text is DynamoDB's message, and rheo-server
//! maps each variant to its AWS error type in one place.

pub mod error;
pub mod expr;
pub mod key;
pub mod limits;
pub mod service;
pub mod store;
pub mod table;
pub mod value;

pub use error::DynamoError;
pub use service::{DynamoDb, DynamoDbConfig};
