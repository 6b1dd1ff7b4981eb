//! Byte-level fixtures: requests as the Java SDK v2 sends them in CBOR, and responses as
//! we must send them (checked byte for byte, since the Java SDK is strict about CBOR
//! timestamps being tag 1 around integer milliseconds).

use bytes::Bytes;
use rheo_protocol::model::{GetRecordsOutput, PutRecordOutput, Record};
use rheo_protocol::{
    decode_request, decode_request_shared, encode_error, encode_response, ErrorType, Operation, Request, Response,
    SequenceNumber, Timestamp, WireFormat,
};

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("00"), 16).unwrap_or(0))
        .collect()
}

/// Java SDK v2 `PutRecord(streamName="test-stream", data="hello", partitionKey="pk-1")`:
/// an indefinite-length map (Jackson's `writeStartObject`), text keys in model member
/// order, `Data` as a byte string.
const JAVA_PUT_RECORD: &str = "
    bf
    6a 53747265616d4e616d65                 6b 746573742d73747265616d
    64 44617461                             45 68656c6c6f
    6c 506172746974696f6e4b6579             64 706b2d31
    ff";

/// Java SDK v2 `GetShardIterator(..., AT_TIMESTAMP, timestamp)`: the timestamp is tag 1
/// around epoch *milliseconds* (the same bytes as the capture in floci-io/floci#2368).
const JAVA_GET_SHARD_ITERATOR: &str = "
    bf
    6a 53747265616d4e616d65                 6b 746573742d73747265616d
    67 53686172644964                       74 736861726449642d303030303030303030303030
    71 53686172644974657261746f7254797065   6c 41545f54494d455354414d50
    69 54696d657374616d70                   c1 1b 000001a013accc38
    ff";

/// `GetRecords` response with one record, in the definite-length form we emit.
const GET_RECORDS_RESPONSE: &str = "
    a3
    67 5265636f726473 81
        a4
        6e 53657175656e63654e756d626572
            78 38 3439353930333338323731343930323536363038353539363932353338333631353731303935393231353735393839313336353838383938
        78 1b 417070726f78696d6174654172726976616c54696d657374616d70  c1 1b 00000153e2db26d0
        64 44617461                         45 68656c6c6f
        6c 506172746974696f6e4b6579         64 706b2d31
    71 4e65787453686172644974657261746f72 6c 41414141414141414141453d
    72 4d696c6c6973426568696e644c6174657374 00";

const SEQUENCE: &str = "49590338271490256608559692538361571095921575989136588898";

#[test]
fn java_put_record_decodes() {
    let body = hex(JAVA_PUT_RECORD);
    let Ok(Request::PutRecord(input)) = decode_request(Operation::PutRecord, WireFormat::Cbor, &body) else {
        panic!("the Java SDK's PutRecord must decode")
    };
    assert_eq!(input.stream_name.as_deref(), Some("test-stream"));
    assert_eq!(input.data.as_ref(), b"hello");
    assert_eq!(input.partition_key.as_deref(), Some("pk-1"));
    assert_eq!(input.explicit_hash_key, None);
}

#[test]
fn shared_bodies_hand_out_record_data_without_copying() {
    let body = Bytes::from(hex(JAVA_PUT_RECORD));
    let Ok(Request::PutRecord(input)) = decode_request_shared(Operation::PutRecord, WireFormat::Cbor, &body) else {
        panic!("the Java SDK's PutRecord must decode")
    };
    let body_range = body.as_ptr_range();
    assert!(body_range.contains(&input.data.as_ptr()), "Data should point into the request body");
}

#[test]
fn java_get_shard_iterator_timestamp_is_tag_1_milliseconds() {
    let body = hex(JAVA_GET_SHARD_ITERATOR);
    let Ok(Request::GetShardIterator(input)) = decode_request(Operation::GetShardIterator, WireFormat::Cbor, &body)
    else {
        panic!("the Java SDK's GetShardIterator must decode")
    };
    assert_eq!(input.timestamp, Some(Timestamp::from_epoch_millis(1_787_036_486_712)));
    assert_eq!(input.shard_id, "shardId-000000000000");
    assert_eq!(input.shard_iterator_type.as_str(), "AT_TIMESTAMP");
}

#[test]
fn untagged_cbor_timestamps_are_milliseconds_too() {
    // {"ShardId":"s","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1787036486712.0}
    let mut body = vec![0xa3];
    body.push(0x67);
    body.extend_from_slice(b"ShardId");
    body.extend_from_slice(&[0x61, b's', 0x71]);
    body.extend_from_slice(b"ShardIteratorType");
    body.push(0x6c);
    body.extend_from_slice(b"AT_TIMESTAMP");
    body.push(0x69);
    body.extend_from_slice(b"Timestamp");
    body.push(0xfb);
    body.extend_from_slice(&1_787_036_486_712.0f64.to_be_bytes());
    let Ok(Request::GetShardIterator(input)) = decode_request(Operation::GetShardIterator, WireFormat::Cbor, &body)
    else {
        panic!("untagged float milliseconds must decode")
    };
    assert_eq!(input.timestamp, Some(Timestamp::from_epoch_millis(1_787_036_486_712)));
}

#[test]
fn json_timestamps_are_fractional_seconds() {
    let body = br#"{"ShardId":"s","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1459799926.480}"#;
    let Ok(Request::GetShardIterator(input)) = decode_request(Operation::GetShardIterator, WireFormat::Json, body)
    else {
        panic!("valid request")
    };
    assert_eq!(input.timestamp, Some(Timestamp::from_epoch_millis(1_459_799_926_480)));
}

fn one_record_response() -> Response {
    Response::GetRecords(GetRecordsOutput {
        records: vec![Record {
            sequence_number: SequenceNumber::parse(SEQUENCE).unwrap_or_else(|_| SequenceNumber::from_u128(0)),
            approximate_arrival_timestamp: Some(Timestamp::from_epoch_millis(1_459_799_926_480)),
            data: Bytes::from_static(b"hello"),
            partition_key: Some("pk-1".into()),
            encryption_type: None,
        }],
        next_shard_iterator: Some("AAAAAAAAAAE=".into()),
        millis_behind_latest: Some(0),
        child_shards: None,
    })
}

#[test]
fn get_records_response_cbor_bytes() {
    assert_eq!(encode_response(&one_record_response(), WireFormat::Cbor), hex(GET_RECORDS_RESPONSE));
}

#[test]
fn get_records_response_json_bytes() {
    let expected = format!(
        r#"{{"Records":[{{"SequenceNumber":"{SEQUENCE}","ApproximateArrivalTimestamp":1459799926.48,"Data":"aGVsbG8=","PartitionKey":"pk-1"}}],"NextShardIterator":"AAAAAAAAAAE=","MillisBehindLatest":0}}"#
    );
    assert_eq!(String::from_utf8(encode_response(&one_record_response(), WireFormat::Json)).ok(), Some(expected));
}

#[test]
fn empty_outputs_are_empty_bodies() {
    use rheo_protocol::model::{EmptyOutput, SubscribeToShardOutput};
    assert!(encode_response(&Response::CreateStream(EmptyOutput), WireFormat::Json).is_empty());
    assert!(encode_response(&Response::CreateStream(EmptyOutput), WireFormat::Cbor).is_empty());
    assert_eq!(encode_response(&Response::SubscribeToShard(SubscribeToShardOutput {}), WireFormat::Json), b"{}");
    assert_eq!(encode_response(&Response::SubscribeToShard(SubscribeToShardOutput {}), WireFormat::Cbor), [0xa0]);
}

#[test]
fn put_record_response_json() {
    let response = Response::PutRecord(PutRecordOutput {
        shard_id: "shardId-000000000001".into(),
        sequence_number: SequenceNumber::from_u128(42),
        encryption_type: Some(rheo_protocol::model::EncryptionType::None),
    });
    assert_eq!(
        encode_response(&response, WireFormat::Json),
        br#"{"ShardId":"shardId-000000000001","SequenceNumber":"42","EncryptionType":"NONE"}"#
    );
}

#[test]
fn cbor_error_body_bytes() {
    let error = ErrorType::ResourceNotFound.with_message("Stream s under account 000000000000 not found.");
    let mut expected = hex("a2 66 5f5f74797065 78 19");
    expected.extend_from_slice(b"ResourceNotFoundException");
    expected.extend_from_slice(&hex("67 6d657373616765 78 2e"));
    expected.extend_from_slice(b"Stream s under account 000000000000 not found.");
    assert_eq!(encode_error(&error, WireFormat::Cbor), expected);
}
