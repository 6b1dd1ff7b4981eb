//! The Amazon Kinesis Data Streams wire protocol (API version 2013-12-02) as a pure codec.
//!
//! Rheo must be a drop-in endpoint for unmodified AWS SDKs, so this crate reproduces what
//! clients see from AWS byte for byte where it matters: the `X-Amz-Target` dispatch, the
//! two body encodings (`application/x-amz-json-1.1` and the Java SDKs'
//! `application/x-amz-cbor-1.1`), and AWS's exact `SerializationException` and
//! `ValidationException` texts for malformed requests, which some clients and
//! conformance suites match on.
//!
//! It does no I/O and knows nothing about HTTP or the storage engine: the server hands it
//! an operation, a format and a body, and gets typed values back (and the reverse for
//! responses and errors). Keeping it pure makes it cheap to fuzz and to property-test.
//!
//! ```
//! use rheo_protocol::{decode_request, encode_response, Operation, Request, Response, WireFormat};
//! use rheo_protocol::model::GetShardIteratorOutput;
//!
//! let operation = Operation::from_target("Kinesis_20131202.GetShardIterator").unwrap();
//! let body = br#"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}"#;
//! let Ok(Request::GetShardIterator(input)) = decode_request(operation, WireFormat::Json, body) else {
//!     panic!("valid request")
//! };
//! assert_eq!(input.shard_id, "shardId-000000000000");
//!
//! let response = Response::GetShardIterator(GetShardIteratorOutput { shard_iterator: Some("AAAA".into()) });
//! assert_eq!(encode_response(&response, WireFormat::Json), br#"{"ShardIterator":"AAAA"}"#);
//! ```
//!
//! Layout: [`operation`] (targets, formats, the operation table), [`model`] (typed inputs
//! and outputs), [`error`] (error responses), and internally a declarative shape table
//! (`shape`) that drives the generic type check (`check`) and constraint validation
//! (`validate`), plus hand-written fast paths (`fast`) for PutRecords, PutRecord and
//! GetRecords. [`firehose`] is the Firehose API (2015-08-04, JSON 1.1) on the same
//! machinery: its model is generated from botocore's by `gen/firehose_model.py`;
//! [`analytics`] is Kinesis Analytics for SQL (2015-08-14, JSON 1.1), generated the same way
//! by `gen/analytics_model.py`.

#![deny(missing_docs)]

pub mod analytics;
mod check;
mod codec;
pub mod dynamodb;
pub mod error;
mod fast;
pub mod firehose;
mod json_service;
pub mod model;
pub mod operation;
#[cfg(test)]
mod proptests;
mod shape;
pub mod types;
mod validate;
mod value;
mod wire;

pub use codec::{
    decode_request, decode_request_shared, decode_response, decode_subscribe_to_shard_event, encode_request,
    encode_response, encode_subscribe_to_shard_event,
};
pub use error::{encode_error, DecodeError, ErrorType, WireError};
pub use operation::{Operation, Request, Response, TargetError, WireFormat, TARGET_PREFIX};
pub use types::{Document, HashKey, InvalidValue, SequenceNumber, Timestamp};
