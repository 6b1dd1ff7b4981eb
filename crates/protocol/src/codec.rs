//! The public encode/decode entry points.
//!
//! Decoding tries the operation's fast path first (PutRecords, PutRecord, GetRecords),
//! which deserializes straight into the typed input and validates typed values. Anything
//! the fast path does not accept — including every invalid request — is decoded again by
//! the generic path (parse → type check → validate → convert), which is the one place
//! that knows AWS's error texts. The fast path therefore never has to produce an error
//! message, only to never accept what the generic path would reject.

use bytes::Bytes;

use crate::check::check_body;
use crate::error::DecodeError;
use crate::fast;
use crate::model::SubscribeToShardEvent;
use crate::operation::{
    decode_request_generic, decode_response_generic, encode_request_generic, encode_response_generic, Operation,
    Request, Response, WireFormat,
};
use crate::validate::{validate_body, KINESIS_MODEL_PACKAGE};
use crate::value::{parse_cbor, parse_json, Value};
use crate::wire::{CborSink, JsonSink, WireStruct};

/// A request body, either borrowed or shared. A shared body lets the CBOR fast path hand
/// out record data as slices of the body instead of copies.
#[derive(Clone, Copy)]
pub(crate) enum Body<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
}

impl<'a> Body<'a> {
    pub(crate) fn bytes(&self) -> &'a [u8] {
        match *self {
            Body::Borrowed(bytes) => bytes,
            Body::Shared(bytes) => bytes.as_ref(),
        }
    }

    /// `slice` must point into this body; for a shared body the result shares its
    /// allocation.
    pub(crate) fn share(&self, slice: &[u8]) -> Bytes {
        if slice.is_empty() {
            return Bytes::new();
        }
        match self {
            Body::Shared(bytes) if contains(bytes, slice) => bytes.slice_ref(slice),
            _ => Bytes::copy_from_slice(slice),
        }
    }
}

/// `Bytes::slice_ref` panics on a foreign slice, so check first.
fn contains(outer: &[u8], inner: &[u8]) -> bool {
    let outer = outer.as_ptr_range();
    let inner = inner.as_ptr_range();
    outer.start <= inner.start && inner.end <= outer.end
}

/// Decodes and validates a request body for `operation`, reproducing AWS's
/// `SerializationException` and `ValidationException` answers for bad input.
///
/// Unknown members are ignored and `null` members are treated as absent. The body must be
/// exactly one JSON object or CBOR map; an empty body is unparseable.
///
/// Only the model's constraints are checked. Rules the model cannot express are the
/// engine's: one of `StreamName`/`StreamARN` must be given, `PartitionKey` is required
/// for `USER_PARTITION_KEY` streams, hash keys must be below 2^128, and so on.
pub fn decode_request(operation: Operation, format: WireFormat, body: &[u8]) -> Result<Request, DecodeError> {
    decode_request_body(operation, format, Body::Borrowed(body))
}

/// Like [`decode_request`], but CBOR record data (`Data` byte strings) is returned as
/// slices sharing `body`'s allocation instead of copies.
pub fn decode_request_shared(operation: Operation, format: WireFormat, body: &Bytes) -> Result<Request, DecodeError> {
    decode_request_body(operation, format, Body::Shared(body))
}

fn decode_request_body(operation: Operation, format: WireFormat, body: Body<'_>) -> Result<Request, DecodeError> {
    if let Some(request) = fast::decode(operation, format, body) {
        return Ok(request);
    }
    decode_request_generic(operation, format, body)
}

/// Encodes a successful response body. Operations without an output shape encode as an
/// empty body; `None` members are omitted.
pub fn encode_response(response: &Response, format: WireFormat) -> Vec<u8> {
    encode_response_generic(response, format)
}

/// Encodes a request body, as a client would send it.
pub fn encode_request(request: &Request, format: WireFormat) -> Vec<u8> {
    encode_request_generic(request, format)
}

/// Decodes a response body, as a client would read it. Types are checked, constraints
/// are not (servers are trusted to send valid output).
pub fn decode_response(operation: Operation, format: WireFormat, body: &[u8]) -> Result<Response, DecodeError> {
    decode_response_generic(operation, format, Body::Borrowed(body))
}

/// Encodes the payload of one `SubscribeToShardEvent` event-stream message. The
/// event-stream framing (headers, CRCs) is the server's job.
pub fn encode_subscribe_to_shard_event(event: &SubscribeToShardEvent, format: WireFormat) -> Vec<u8> {
    encode_structure(event, format)
}

/// Decodes the payload of one `SubscribeToShardEvent` event-stream message, as a client
/// would read it (types checked, constraints not).
pub fn decode_subscribe_to_shard_event(body: &[u8], format: WireFormat) -> Result<SubscribeToShardEvent, DecodeError> {
    decode_output(format, Body::Borrowed(body))
}

pub(crate) fn parse(format: WireFormat, body: &[u8]) -> Result<Value, DecodeError> {
    match format {
        WireFormat::Json => parse_json(body),
        WireFormat::Cbor => parse_cbor(body),
    }
    .map_err(|_| DecodeError::Unparseable)
}

/// The generic request path: parse, type-check, validate, convert.
pub(crate) fn decode_structure<T: WireStruct>(format: WireFormat, body: Body<'_>) -> Result<T, DecodeError> {
    let value = parse(format, body.bytes())?;
    let fields = check_body(value, T::SHAPE, format)?;
    validate_body(&fields, T::SHAPE, KINESIS_MODEL_PACKAGE, "").map_err(DecodeError::Validation)?;
    // Conversion cannot fail for a tree the type check produced; if it ever did, the
    // request is reported as unparseable rather than crashing the server.
    T::from_fields(fields).ok_or(DecodeError::Unparseable)
}

/// The generic response path: like requests, without constraint validation, and with
/// empty bodies accepted for operations that have no output.
pub(crate) fn decode_output<T: WireStruct>(format: WireFormat, body: Body<'_>) -> Result<T, DecodeError> {
    if T::EMPTY_BODY && body.bytes().is_empty() {
        return T::from_fields(Vec::new()).ok_or(DecodeError::Unparseable);
    }
    let value = parse(format, body.bytes())?;
    let fields = check_body(value, T::SHAPE, format)?;
    T::from_fields(fields).ok_or(DecodeError::Unparseable)
}

pub(crate) fn encode_structure<T: WireStruct>(value: &T, format: WireFormat) -> Vec<u8> {
    if T::EMPTY_BODY {
        return Vec::new();
    }
    let capacity = value.fields_size_hint();
    match format {
        WireFormat::Json => {
            let mut sink = JsonSink::with_capacity(capacity);
            value.write_fields(&mut sink);
            sink.into_bytes()
        }
        WireFormat::Cbor => {
            let mut sink = CborSink::with_capacity(capacity);
            value.write_fields(&mut sink);
            sink.into_bytes()
        }
    }
}

/// The generic path alone, for tests that check the fast path agrees with it.
#[cfg(test)]
pub(crate) fn decode_request_slow(
    operation: Operation,
    format: WireFormat,
    body: &[u8],
) -> Result<Request, DecodeError> {
    decode_request_generic(operation, format, Body::Borrowed(body))
}

#[cfg(test)]
mod subscribe_event_tests {
    use super::*;
    use crate::model::{ChildShard, HashKeyRange, Record};
    use crate::{HashKey, SequenceNumber, Timestamp};

    #[test]
    fn subscribe_to_shard_events_decode_what_the_server_encodes() {
        let event = SubscribeToShardEvent {
            records: vec![Record {
                sequence_number: SequenceNumber::from_u128(42),
                approximate_arrival_timestamp: Some(Timestamp::from_epoch_millis(1_700_000_000_123)),
                data: Bytes::from_static(b"\x00binary\xff"),
                partition_key: Some("pk".into()),
                encryption_type: None,
            }],
            continuation_sequence_number: None,
            millis_behind_latest: 7,
            child_shards: Some(vec![ChildShard {
                shard_id: "shardId-000000000001".into(),
                parent_shards: vec!["shardId-000000000000".into()],
                hash_key_range: HashKeyRange {
                    starting_hash_key: HashKey::from_u128(0),
                    ending_hash_key: HashKey::from_u128(u128::MAX),
                },
            }]),
        };
        for format in [WireFormat::Json, WireFormat::Cbor] {
            let payload = encode_subscribe_to_shard_event(&event, format);
            assert_eq!(decode_subscribe_to_shard_event(&payload, format).ok(), Some(event.clone()), "{format:?}");
        }
        assert!(decode_subscribe_to_shard_event(b"{\"Records\": 3}", WireFormat::Json).is_err());
    }
}
