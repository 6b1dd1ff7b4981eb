//! Property tests over the public API: typed values survive encode → decode in both
//! formats, and no byte string can panic the decoder of any operation.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use rheo_protocol::model::*;
use rheo_protocol::{
    decode_request, decode_response, encode_request, encode_response, HashKey, Operation, Request, Response,
    SequenceNumber, Timestamp, WireFormat,
};

fn formats() -> impl Strategy<Value = WireFormat> {
    prop_oneof![Just(WireFormat::Json), Just(WireFormat::Cbor)]
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.-]{1,40}"
}

fn stream_arn() -> impl Strategy<Value = String> {
    ("[0-9]{12}", name()).prop_map(|(account, stream)| format!("arn:aws:kinesis:eu-west-1:{account}:stream/{stream}"))
}

fn consumer_arn() -> impl Strategy<Value = String> {
    (stream_arn(), name(), 0u32..2_000_000_000)
        .prop_map(|(stream, consumer, epoch)| format!("{stream}/consumer/{consumer}:{epoch}"))
}

fn partition_key() -> impl Strategy<Value = String> {
    "\\PC{1,100}"
}

fn data() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..512).prop_map(Bytes::from)
}

fn hash_key() -> impl Strategy<Value = HashKey> {
    any::<u128>().prop_map(HashKey::from_u128)
}

fn sequence_number() -> impl Strategy<Value = SequenceNumber> {
    "0|[1-9][0-9]{0,80}"
        .prop_map(|digits| SequenceNumber::parse(digits).unwrap_or_else(|_| SequenceNumber::from_u128(0)))
}

/// Up to the year 2100 and back to 1938: JSON seconds with three decimals round-trip
/// exactly through `f64` in this range.
fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-1_000_000_000_000i64..4_102_444_800_000).prop_map(Timestamp::from_epoch_millis)
}

fn tags() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-zA-Z0-9 _.:/=+@-]{1,30}", "\\PC{0,40}", 1..6)
}

fn pick<T: Copy + std::fmt::Debug + 'static>(values: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(values)
}

const ITERATOR_TYPES: &[ShardIteratorType] = &[
    ShardIteratorType::AtSequenceNumber,
    ShardIteratorType::AfterSequenceNumber,
    ShardIteratorType::TrimHorizon,
    ShardIteratorType::Latest,
    ShardIteratorType::AtTimestamp,
];
const METRICS: &[MetricsName] =
    &[MetricsName::IncomingBytes, MetricsName::OutgoingRecords, MetricsName::IteratorAgeMilliseconds, MetricsName::All];
const FILTERS: &[ShardFilterType] =
    &[ShardFilterType::AfterShardId, ShardFilterType::AtTimestamp, ShardFilterType::FromTrimHorizon];
const STATUSES: &[StreamStatus] =
    &[StreamStatus::Creating, StreamStatus::Active, StreamStatus::Updating, StreamStatus::Deleting];
const MODES: &[StreamMode] = &[StreamMode::Provisioned, StreamMode::OnDemand];
const ENCRYPTIONS: &[EncryptionType] = &[EncryptionType::None, EncryptionType::Kms];

fn put_records() -> impl Strategy<Value = Request> {
    let entry = (data(), proptest::option::of(partition_key()), proptest::option::of(hash_key())).prop_map(
        |(data, partition_key, explicit_hash_key)| PutRecordsRequestEntry { partition_key, explicit_hash_key, data },
    );
    (
        proptest::collection::vec(entry, 1..20),
        proptest::option::of(name()),
        proptest::option::of(stream_arn()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(records, stream_name, stream_arn, dry_run)| {
            Request::PutRecords(PutRecordsInput { records, stream_name, stream_arn, stream_id: None, dry_run })
        })
}

fn put_record() -> impl Strategy<Value = Request> {
    (
        data(),
        proptest::option::of(partition_key()),
        proptest::option::of(hash_key()),
        proptest::option::of(sequence_number()),
        name(),
    )
        .prop_map(|(data, partition_key, explicit_hash_key, sequence_number_for_ordering, stream_name)| {
            Request::PutRecord(PutRecordInput {
                sequence_number_for_ordering,
                partition_key,
                explicit_hash_key,
                data,
                stream_name: Some(stream_name),
                stream_arn: None,
                stream_id: Some("abcdefghij0123456789-abc".into()),
                dry_run: None,
            })
        })
}

fn control_plane() -> impl Strategy<Value = Request> {
    prop_oneof![
        ("[A-Za-z0-9+/=]{1,512}", proptest::option::of(1i32..=10_000)).prop_map(|(shard_iterator, limit)| {
            Request::GetRecords(GetRecordsInput {
                shard_iterator,
                limit,
                stream_arn: None,
                stream_id: None,
                dry_run: Some(false),
            })
        }),
        (name(), pick(ITERATOR_TYPES), proptest::option::of(sequence_number()), proptest::option::of(timestamp()))
            .prop_map(|(shard_id, shard_iterator_type, starting_sequence_number, timestamp)| {
                Request::GetShardIterator(GetShardIteratorInput {
                    shard_id,
                    shard_iterator_type,
                    starting_sequence_number,
                    stream_name: Some("s".into()),
                    timestamp,
                    stream_arn: None,
                    stream_id: None,
                    dry_run: None,
                })
            }),
        (
            name(),
            proptest::option::of(1i32..100_000),
            proptest::option::of(pick(MODES)),
            proptest::option::of(tags()),
            proptest::option::of(1024i32..=10_240)
        )
            .prop_map(|(stream_name, shard_count, mode, tags, max_record_size_in_kib)| {
                Request::CreateStream(CreateStreamInput {
                    shard_count,
                    stream_name,
                    stream_mode_details: mode.map(|stream_mode| StreamModeDetails { stream_mode }),
                    tags,
                    warm_throughput_mibps: Some(0),
                    max_record_size_in_kib,
                    record_distribution_strategy: Some(RecordDistributionStrategy::UserPartitionKey),
                })
            }),
        (tags(), stream_arn()).prop_map(|(tags, stream_arn)| {
            Request::AddTagsToStream(AddTagsToStreamInput {
                tags,
                stream_name: None,
                stream_arn: Some(stream_arn),
                stream_id: None,
            })
        }),
        (
            pick(FILTERS),
            proptest::option::of(name()),
            proptest::option::of(timestamp()),
            proptest::option::of(timestamp())
        )
            .prop_map(|(filter_type, shard_id, filter_timestamp, stream_creation_timestamp)| {
                Request::ListShards(ListShardsInput {
                    stream_name: Some("s".into()),
                    next_token: None,
                    exclusive_start_shard_id: None,
                    max_results: Some(1000),
                    stream_creation_timestamp,
                    shard_filter: Some(ShardFilter { r#type: filter_type, shard_id, timestamp: filter_timestamp }),
                    stream_arn: None,
                    stream_id: None,
                })
            }),
        (consumer_arn(), name(), pick(ITERATOR_TYPES), proptest::option::of(timestamp())).prop_map(
            |(consumer_arn, shard_id, starting_type, starting_timestamp)| {
                Request::SubscribeToShard(SubscribeToShardInput {
                    consumer_arn,
                    stream_id: None,
                    shard_id,
                    starting_position: StartingPosition {
                        r#type: starting_type,
                        sequence_number: None,
                        timestamp: starting_timestamp,
                    },
                    dry_run: None,
                })
            }
        ),
        proptest::collection::vec(pick(METRICS), 1..=7).prop_map(|shard_level_metrics| {
            Request::EnableEnhancedMonitoring(EnableEnhancedMonitoringInput {
                stream_name: Some("s".into()),
                shard_level_metrics,
                stream_arn: None,
                stream_id: None,
            })
        }),
        proptest::collection::vec("[a-z]{1,128}", 1..=50).prop_map(|tag_keys| {
            Request::RemoveTagsFromStream(RemoveTagsFromStreamInput {
                stream_name: Some("s".into()),
                tag_keys,
                stream_arn: None,
                stream_id: None,
            })
        }),
        (name(), hash_key()).prop_map(|(shard_to_split, new_starting_hash_key)| {
            Request::SplitShard(SplitShardInput {
                stream_name: None,
                shard_to_split,
                new_starting_hash_key,
                stream_arn: None,
                stream_id: None,
            })
        }),
        Just(Request::UpdateAccountSettings(UpdateAccountSettingsInput {
            minimum_throughput_billing_commitment: MinimumThroughputBillingCommitmentInput {
                status: MinimumThroughputBillingCommitmentInputStatus::Enabled,
            },
        })),
        Just(Request::DescribeLimits(DescribeLimitsInput {})),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        sequence_number(),
        proptest::option::of(timestamp()),
        data(),
        proptest::option::of(partition_key()),
        proptest::option::of(pick(ENCRYPTIONS)),
    )
        .prop_map(|(sequence_number, approximate_arrival_timestamp, data, partition_key, encryption_type)| {
            Record { sequence_number, approximate_arrival_timestamp, data, partition_key, encryption_type }
        })
}

fn shard() -> impl Strategy<Value = Shard> {
    (
        name(),
        proptest::option::of(name()),
        hash_key(),
        hash_key(),
        sequence_number(),
        proptest::option::of(sequence_number()),
    )
        .prop_map(|(shard_id, parent_shard_id, start, end, first, last)| Shard {
            shard_id,
            parent_shard_id,
            adjacent_parent_shard_id: None,
            hash_key_range: HashKeyRange { starting_hash_key: start, ending_hash_key: end },
            sequence_number_range: SequenceNumberRange {
                starting_sequence_number: first,
                ending_sequence_number: last,
            },
        })
}

fn responses() -> impl Strategy<Value = Response> {
    prop_oneof![
        (
            proptest::collection::vec(record(), 0..10),
            proptest::option::of("[A-Za-z0-9+/=]{1,64}"),
            proptest::option::of(0i64..i64::MAX),
            any::<bool>()
        )
            .prop_map(|(records, next_shard_iterator, millis_behind_latest, closed)| {
                Response::GetRecords(GetRecordsOutput {
                    records,
                    next_shard_iterator,
                    millis_behind_latest,
                    child_shards: closed.then(|| {
                        vec![ChildShard {
                            shard_id: "shardId-000000000002".into(),
                            parent_shards: vec!["shardId-000000000000".into(), "shardId-000000000001".into()],
                            hash_key_range: HashKeyRange {
                                starting_hash_key: HashKey::from_u128(0),
                                ending_hash_key: HashKey::from_u128(u128::MAX),
                            },
                        }]
                    }),
                })
            }),
        proptest::collection::vec(
            prop_oneof![
                (sequence_number(), name()).prop_map(|(sequence_number, shard_id)| {
                    PutRecordsResultEntry {
                        sequence_number: Some(sequence_number),
                        shard_id: Some(shard_id),
                        error_code: None,
                        error_message: None,
                    }
                }),
                "\\PC{0,60}".prop_map(|message| PutRecordsResultEntry {
                    sequence_number: None,
                    shard_id: None,
                    error_code: Some("ProvisionedThroughputExceededException".into()),
                    error_message: Some(message),
                }),
            ],
            1..20
        )
        .prop_map(|records| Response::PutRecords(PutRecordsOutput {
            failed_record_count: Some(records.iter().filter(|entry| entry.error_code.is_some()).count() as i32),
            records,
            encryption_type: Some(EncryptionType::None),
        })),
        (
            name(),
            stream_arn(),
            pick(STATUSES),
            timestamp(),
            proptest::collection::vec(pick(METRICS), 0..3),
            0i32..1_000_000
        )
            .prop_map(|(stream_name, stream_arn, stream_status, created, metrics, open_shard_count)| {
                Response::DescribeStreamSummary(DescribeStreamSummaryOutput {
                    stream_description_summary: StreamDescriptionSummary {
                        stream_name,
                        stream_arn,
                        stream_id: None,
                        stream_status,
                        stream_mode_details: Some(StreamModeDetails { stream_mode: StreamMode::OnDemand }),
                        retention_period_hours: 24,
                        stream_creation_timestamp: created,
                        enhanced_monitoring: vec![EnhancedMetrics { shard_level_metrics: Some(metrics) }],
                        encryption_type: Some(EncryptionType::Kms),
                        key_id: Some("alias/aws/kinesis".into()),
                        open_shard_count,
                        consumer_count: Some(0),
                        warm_throughput: Some(WarmThroughputObject { target_mibps: Some(0), current_mibps: None }),
                        max_record_size_in_kib: Some(1024),
                        channel_count: None,
                        record_distribution_strategy: None,
                        queue_count: None,
                    },
                })
            }),
        (proptest::collection::vec(shard(), 0..5), proptest::option::of("[a-zA-Z0-9]{1,40}")).prop_map(
            |(shards, next_token)| Response::ListShards(ListShardsOutput { shards: Some(shards), next_token })
        ),
        (proptest::collection::vec(name(), 0..5), any::<bool>()).prop_map(|(stream_names, has_more_streams)| {
            Response::ListStreams(ListStreamsOutput {
                stream_names,
                has_more_streams,
                next_token: None,
                stream_summaries: Some(vec![]),
            })
        }),
        (consumer_arn(), timestamp()).prop_map(|(consumer_arn, created)| {
            Response::DescribeStreamConsumer(DescribeStreamConsumerOutput {
                consumer_description: ConsumerDescription {
                    consumer_name: "c".into(),
                    consumer_arn,
                    consumer_status: ConsumerStatus::Active,
                    consumer_creation_timestamp: created,
                    stream_arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s".into(),
                },
            })
        }),
        Just(Response::CreateStream(EmptyOutput)),
        Just(Response::DescribeAccountSettings(DescribeAccountSettingsOutput {
            minimum_throughput_billing_commitment: None
        })),
    ]
}

proptest! {
    #[test]
    fn requests_round_trip(request in prop_oneof![put_records(), put_record(), control_plane()], format in formats()) {
        let body = encode_request(&request, format);
        prop_assert_eq!(decode_request(request.operation(), format, &body), Ok(request));
    }

    #[test]
    fn responses_round_trip(response in responses(), format in formats()) {
        let body = encode_response(&response, format);
        prop_assert_eq!(decode_response(response.operation(), format, &body), Ok(response));
    }

    #[test]
    fn json_responses_are_valid_json(response in responses()) {
        let body = encode_response(&response, WireFormat::Json);
        prop_assert!(body.is_empty() || serde_json::from_slice::<serde_json::Value>(&body).is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for operation in Operation::ALL {
            let _ = decode_request(*operation, WireFormat::Json, &body);
            let _ = decode_request(*operation, WireFormat::Cbor, &body);
        }
    }

    #[test]
    fn arbitrary_json_text_never_panics(body in "[\\[\\]{}\",:0-9a-zA-Z.eE+\\- ]{0,200}") {
        for operation in Operation::ALL {
            let _ = decode_request(*operation, WireFormat::Json, body.as_bytes());
        }
    }
}
