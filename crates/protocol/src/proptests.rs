//! Property tests that need the crate's internals: the fast paths must agree with the
//! generic path on every body, and no structured input may panic the decoder.
//!
//! Bodies are generated as loosely typed [`Value`] trees biased towards the members of
//! the hot-path operations (right names, right and wrong types, valid and invalid
//! values, nulls, tags, unknown members), then written as JSON and as CBOR.

use base64::Engine as _;
use minicbor::Encoder;
use proptest::prelude::*;

use crate::codec::{decode_output, decode_request_slow, decode_structure, Body};
use crate::decode_request;
use crate::operation::{Operation, WireFormat};
use crate::value::Value;
use crate::wire::WireStruct;

const MEMBER_NAMES: &[&str] = &[
    "Records",
    "Data",
    "PartitionKey",
    "ExplicitHashKey",
    "StreamName",
    "StreamARN",
    "StreamId",
    "DryRun",
    "ShardIterator",
    "Limit",
    "SequenceNumberForOrdering",
    "ShardId",
    "ShardIteratorType",
    "Timestamp",
    "Tags",
    "ShardFilter",
    "Type",
    "Unknown",
];

fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("aGk=".to_owned()),
        Just("+/+=".to_owned()),
        Just("0".to_owned()),
        Just("340282366920938463463374607431768211455".to_owned()),
        Just("arn:aws:kinesis:us-east-1:123456789012:stream/s".to_owned()),
        Just("abcdefghij0123456789-abc".to_owned()),
        Just("arn:aws:kinesis:us-east-1:123456789012:queue/q".to_owned()),
        Just("arn:aws:kinesis:us-east-1:123456789012:channel/c".to_owned()),
        Just("AT_TIMESTAMP".to_owned()),
        "[a-zA-Z0-9_.-]{1,12}",
        "[0-9]{1,45}",
        "\\PC{0,12}",
        Just("a".repeat(129)),
        Just("é".repeat(257)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i128..20_000).prop_map(Value::Integer),
        any::<i64>().prop_map(|number| Value::Integer(i128::from(number))),
        Just(Value::Integer(i128::from(u64::MAX))),
        (-1e12f64..1e12).prop_map(Value::Float),
        text_value().prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
    ]
}

/// Members of the queue, channel and record-distribution shapes, which have no operation
/// row yet and are decoded through their structures directly.
const NEWEST_MEMBER_NAMES: &[&str] = &[
    "QueueName",
    "QueueARN",
    "StreamConfigurationList",
    "StreamARN",
    "StartingPosition",
    "Type",
    "Timestamp",
    "QueueAttributes",
    "VisibilityTimeoutSeconds",
    "DeadLetterConfiguration",
    "TargetType",
    "MaxReceiveCount",
    "Tags",
    "MaxResults",
    "NextToken",
    "StreamFilter",
    "StreamCreationTimestamp",
    "Limit",
    "WaitTimeSeconds",
    "Entries",
    "ReceiptHandle",
    "ChannelName",
    "ChannelARN",
    "ServiceExecutionRoleARN",
    "RecordConfiguration",
    "RecordFormatType",
    "S3DestinationConfiguration",
    "S3TablesDestinationConfiguration",
    "DataFreshnessInSeconds",
    "DeadLetterQueueS3Configuration",
    "StorageConfiguration",
    "BucketARN",
    "ExpectedBucketOwner",
    "CompressionType",
    "S3TablesConfigurationList",
    "PartitionSpec",
    "PartitionFields",
    "EncryptionConfiguration",
    "LoggingConfiguration",
    "CloudWatchLogs",
    "Enabled",
    "RecordDistributionStrategy",
    "StreamId",
    "Unknown",
];

fn value() -> impl Strategy<Value = Value> {
    value_with_members(MEMBER_NAMES)
}

fn value_with_members(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            proptest::collection::vec((proptest::sample::select(names), inner.clone()), 0..5).prop_map(|entries| {
                Value::Map(entries.into_iter().map(|(key, value)| (Some(key.to_owned()), value)).collect())
            }),
            (prop_oneof![Just(1u64), Just(0u64), Just(24u64)], inner)
                .prop_map(|(tag, value)| Value::Tagged(tag, Box::new(value))),
        ]
    })
}

/// A PutRecords/PutRecord/GetRecords body that is usually valid, with a few members
/// replaced by arbitrary values.
fn hot_path_body() -> impl Strategy<Value = Value> {
    let entry = (
        proptest::collection::vec(any::<u8>(), 0..16),
        any::<bool>(),
        "[a-z]{0,3}",
        proptest::option::of(prop_oneof!["[0-9]{1,40}", Just("01".to_owned())]),
    )
        .prop_map(|(data, as_text, partition_key, hash_key)| {
            let data = if as_text {
                Value::Text(base64::engine::general_purpose::STANDARD.encode(&data))
            } else {
                Value::Bytes(data)
            };
            let mut entry =
                vec![(Some("Data".to_owned()), data), (Some("PartitionKey".to_owned()), Value::Text(partition_key))];
            if let Some(hash_key) = hash_key {
                entry.push((Some("ExplicitHashKey".to_owned()), Value::Text(hash_key)));
            }
            Value::Map(entry)
        });
    (
        proptest::collection::vec(entry, 0..4),
        "[a-z]{0,3}",
        proptest::option::of(-2i128..10_002),
        proptest::collection::vec((proptest::sample::select(MEMBER_NAMES), value()), 0..3),
    )
        .prop_map(|(records, name, limit, extra)| {
            let mut members = vec![
                (Some("Records".to_owned()), Value::List(records)),
                (Some("StreamName".to_owned()), Value::Text(name.clone())),
                (Some("ShardIterator".to_owned()), Value::Text(name)),
                (Some("Data".to_owned()), Value::Bytes(vec![1, 2, 3])),
                (Some("PartitionKey".to_owned()), Value::Text("k".to_owned())),
            ];
            if let Some(limit) = limit {
                members.push((Some("Limit".to_owned()), Value::Integer(limit)));
            }
            members.extend(extra.into_iter().map(|(key, value)| (Some(key.to_owned()), value)));
            Value::Map(members)
        })
}

fn to_json(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Integer(number) => number.to_string(),
        Value::Float(number) if number.is_finite() => format!("{number:?}"),
        Value::Float(_) => "0".to_owned(),
        Value::Text(text) => serde_json::to_string(text).unwrap_or_default(),
        Value::Bytes(bytes) => format!("\"{}\"", base64::engine::general_purpose::STANDARD.encode(bytes)),
        Value::List(items) => format!("[{}]", items.iter().map(to_json).collect::<Vec<_>>().join(",")),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(key, value)| format!(
                    "{}:{}",
                    serde_json::to_string(key.as_deref().unwrap_or("")).unwrap_or_default(),
                    to_json(value)
                ))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Tagged(_, inner) => to_json(inner),
    }
}

fn to_cbor(value: &Value, encoder: &mut Encoder<Vec<u8>>) {
    let _ = match value {
        Value::Null => encoder.null().map(drop),
        Value::Bool(flag) => encoder.bool(*flag).map(drop),
        Value::Integer(number) => encoder.i128(*number).map(drop),
        Value::Float(number) => encoder.f64(*number).map(drop),
        Value::Text(text) => encoder.str(text).map(drop),
        Value::Bytes(bytes) => encoder.bytes(bytes).map(drop),
        Value::List(items) => {
            let _ = encoder.begin_array();
            for item in items {
                to_cbor(item, encoder);
            }
            encoder.end().map(drop)
        }
        Value::Map(entries) => {
            let _ = encoder.map(entries.len() as u64);
            for (key, value) in entries {
                let _ = encoder.str(key.as_deref().unwrap_or(""));
                to_cbor(value, encoder);
            }
            Ok(())
        }
        Value::Tagged(tag, inner) => {
            let _ = encoder.tag(minicbor::data::Tag::new(*tag));
            to_cbor(inner, encoder);
            Ok(())
        }
    };
}

fn cbor_bytes(value: &Value) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    to_cbor(value, &mut encoder);
    encoder.into_writer()
}

const HOT_PATH: [Operation; 3] = [Operation::PutRecords, Operation::PutRecord, Operation::GetRecords];

fn assert_fast_matches_slow(body: &Value) {
    let json = to_json(body);
    let cbor = cbor_bytes(body);
    for operation in HOT_PATH {
        assert_eq!(
            decode_request(operation, WireFormat::Json, json.as_bytes()),
            decode_request_slow(operation, WireFormat::Json, json.as_bytes()),
            "{operation} JSON {json}"
        );
        assert_eq!(
            decode_request(operation, WireFormat::Cbor, &cbor),
            decode_request_slow(operation, WireFormat::Cbor, &cbor),
            "{operation} CBOR {body:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_agrees_with_generic_path_on_hot_path_bodies(body in hot_path_body()) {
        assert_fast_matches_slow(&body);
    }

    #[test]
    fn fast_path_agrees_with_generic_path_on_arbitrary_values(body in value()) {
        assert_fast_matches_slow(&body);
    }

    #[test]
    fn structured_values_never_panic_any_operation(body in value()) {
        let json = to_json(&body);
        let cbor = cbor_bytes(&body);
        // `Unparseable` is only for bodies that are not one object/map; a parsed map that
        // passed type checking and validation must always convert to the typed input.
        let json_is_map = matches!(crate::value::parse_json(json.as_bytes()), Ok(Value::Map(_)));
        let cbor_is_map = matches!(crate::value::parse_cbor(&cbor), Ok(Value::Map(_)));
        for operation in Operation::ALL {
            let from_json = decode_request(*operation, WireFormat::Json, json.as_bytes());
            prop_assert!(!(json_is_map && from_json == Err(crate::DecodeError::Unparseable)), "{} {}", operation, json);
            let from_cbor = decode_request(*operation, WireFormat::Cbor, &cbor);
            prop_assert!(!(cbor_is_map && from_cbor == Err(crate::DecodeError::Unparseable)), "{} {:?}", operation, body);
            let _ = crate::decode_response(*operation, WireFormat::Json, json.as_bytes());
            let _ = crate::decode_response(*operation, WireFormat::Cbor, &cbor);
        }
    }
}

/// Decodes `body` as the request and as the response structure `T`; `Unparseable` only
/// for bodies that are not one object/map.
fn decodes_or_errors<T: WireStruct>(format: WireFormat, body: &[u8], is_map: bool) -> Result<(), String> {
    let request = decode_structure::<T>(format, Body::Borrowed(body));
    if is_map && request.as_ref().err() == Some(&crate::DecodeError::Unparseable) {
        return Err(format!("{} {format:?} request was unparseable", T::SHAPE.name));
    }
    let _ = decode_output::<T>(format, Body::Borrowed(body));
    Ok(())
}

/// Every input and output structure of the 18 newest operations.
fn decode_every_newest_shape(format: WireFormat, body: &[u8], is_map: bool) -> Result<(), String> {
    use crate::model::*;
    decodes_or_errors::<CreateQueueInput>(format, body, is_map)?;
    decodes_or_errors::<DescribeQueueInput>(format, body, is_map)?;
    decodes_or_errors::<ListQueuesInput>(format, body, is_map)?;
    decodes_or_errors::<UpdateQueueInput>(format, body, is_map)?;
    decodes_or_errors::<DeleteQueueInput>(format, body, is_map)?;
    decodes_or_errors::<ReceiveQueueRecordsInput>(format, body, is_map)?;
    decodes_or_errors::<AcknowledgeQueueRecordsInput>(format, body, is_map)?;
    decodes_or_errors::<UpdateQueueRecordsVisibilityInput>(format, body, is_map)?;
    decodes_or_errors::<AcknowledgeDeadLetterQueueRecordsInput>(format, body, is_map)?;
    decodes_or_errors::<UpdateDeadLetterQueueRecordsVisibilityInput>(format, body, is_map)?;
    decodes_or_errors::<RestoreDeadLetterQueueRecordsInput>(format, body, is_map)?;
    decodes_or_errors::<CreateChannelInput>(format, body, is_map)?;
    decodes_or_errors::<DescribeChannelInput>(format, body, is_map)?;
    decodes_or_errors::<ListChannelsInput>(format, body, is_map)?;
    decodes_or_errors::<UpdateChannelInput>(format, body, is_map)?;
    decodes_or_errors::<DeleteChannelInput>(format, body, is_map)?;
    decodes_or_errors::<UpdateStreamRecordDistributionStrategyInput>(format, body, is_map)?;
    decodes_or_errors::<QueueDescriptionOutput>(format, body, is_map)?;
    decodes_or_errors::<ListQueuesOutput>(format, body, is_map)?;
    decodes_or_errors::<ReceiveQueueRecordsOutput>(format, body, is_map)?;
    decodes_or_errors::<AcknowledgeQueueRecordsOutput>(format, body, is_map)?;
    decodes_or_errors::<UpdateQueueRecordsVisibilityOutput>(format, body, is_map)?;
    decodes_or_errors::<AcknowledgeDeadLetterQueueRecordsOutput>(format, body, is_map)?;
    decodes_or_errors::<UpdateDeadLetterQueueRecordsVisibilityOutput>(format, body, is_map)?;
    decodes_or_errors::<RestoreDeadLetterQueueRecordsOutput>(format, body, is_map)?;
    decodes_or_errors::<ChannelDescriptionOutput>(format, body, is_map)?;
    decodes_or_errors::<ListChannelsOutput>(format, body, is_map)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The 18 newest operations have no row in the operation table yet, so their
    /// structures are decoded directly: any structured body decodes or errors, never panics.
    #[test]
    fn structured_values_never_panic_the_newest_shapes(body in value_with_members(NEWEST_MEMBER_NAMES)) {
        let json = to_json(&body);
        let cbor = cbor_bytes(&body);
        let json_is_map = matches!(crate::value::parse_json(json.as_bytes()), Ok(Value::Map(_)));
        let cbor_is_map = matches!(crate::value::parse_cbor(&cbor), Ok(Value::Map(_)));
        let checked = decode_every_newest_shape(WireFormat::Json, json.as_bytes(), json_is_map);
        prop_assert!(checked.is_ok(), "{:?} {}", checked, json);
        let checked = decode_every_newest_shape(WireFormat::Cbor, &cbor, cbor_is_map);
        prop_assert!(checked.is_ok(), "{:?} {:?}", checked, body);
    }
}

#[test]
fn hot_path_accepts_valid_bodies_on_the_fast_path() {
    // Sanity check that the agreement tests above do exercise accepted bodies.
    let body = br#"{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}]}"#;
    assert!(crate::fast::decode(Operation::PutRecords, WireFormat::Json, crate::codec::Body::Borrowed(body)).is_some());
    let body = br#"{"ShardIterator":"AAAA","Limit":100}"#;
    assert!(crate::fast::decode(Operation::GetRecords, WireFormat::Json, crate::codec::Body::Borrowed(body)).is_some());
    // Arrays must not deserialize into structures on the fast path.
    assert!(crate::fast::decode(Operation::GetRecords, WireFormat::Json, crate::codec::Body::Borrowed(br#"["AAAA"]"#))
        .is_none());
}

#[test]
fn json_size_hint_covers_a_get_records_response() {
    use crate::model::{GetRecordsOutput, Record};
    use crate::types::{SequenceNumber, Timestamp};
    use crate::wire::WireStruct;

    let output = GetRecordsOutput {
        records: (0..100u8)
            .map(|index| Record {
                sequence_number: SequenceNumber::from_u128(u128::MAX - u128::from(index)),
                approximate_arrival_timestamp: Some(Timestamp::from_epoch_millis(-1_234_567_890_123)),
                data: bytes::Bytes::from(vec![index; usize::from(index) * 7]),
                partition_key: Some("k".repeat(usize::from(index))),
                encryption_type: Some(crate::model::EncryptionType::Kms),
            })
            .collect(),
        next_shard_iterator: Some("A".repeat(512)),
        millis_behind_latest: Some(i64::MAX),
        child_shards: None,
    };
    let encoded = crate::codec::encode_structure(&output, WireFormat::Json);
    assert!(output.fields_size_hint() >= encoded.len(), "{} < {}", output.fields_size_hint(), encoded.len());
}

proptest::proptest! {
    /// The SIMD decoder on the hot path must accept and refuse exactly what the strict
    /// `base64` engine does, so AWS's error texts keep applying to the same inputs.
    #[test]
    fn simd_base64_decoding_matches_the_strict_engine(text in "[A-Za-z0-9+/= \\n_-]{0,24}") {
        let strict = base64::engine::general_purpose::STANDARD.decode(&text).ok();
        let simd = base64_simd::STANDARD.decode_to_vec(&text).ok();
        proptest::prop_assert_eq!(strict, simd);
    }
}
