//! Runs one decoded request against the engine and builds the wire response: the
//! boundary where wire types and engine domain types meet.

mod queues;
mod rates;

use std::sync::Arc;

use rheo_engine::{self as engine, Engine, EngineError};
use rheo_firehose::channel::Channels;
use rheo_protocol::model as wire;
use rheo_protocol::{HashKey, Request, Response, SequenceNumber, Timestamp};

use crate::errors::wire_error;
use crate::metrics::Metrics;

mod channels;

/// Either a response or an error to encode.
// One per request, moved once to be encoded: a box would cost more than the size.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Success.
    Done(Response),
    /// An engine error (mapped by [`crate::errors::wire_error`]).
    Failed(EngineError),
    /// A channel error (mapped by [`crate::errors::channel_wire_error`]).
    ChannelFailed(rheo_firehose::channel::ChannelError),
    /// `DryRun` was set: AWS checks the request and answers DryRunOperationException.
    DryRun,
    /// SubscribeToShard succeeded: the response is an event stream.
    Subscribed(Box<engine::Subscription>),
}

impl From<Result<Response, EngineError>> for Outcome {
    fn from(result: Result<Response, EngineError>) -> Self {
        match result {
            Ok(response) => Outcome::Done(response),
            Err(error) => Outcome::Failed(error),
        }
    }
}

fn stream_ref(name: Option<String>, arn: Option<String>) -> engine::StreamRef {
    engine::StreamRef { name, arn }
}

pub(crate) fn millis(ms: u64) -> Timestamp {
    Timestamp::from_epoch_millis(ms.min(i64::MAX as u64) as i64)
}

/// A sequence number the engine issued, spelled once here, for the wire.
pub(crate) fn sequence(number: engine::SequenceNumber) -> SequenceNumber {
    SequenceNumber::from_issued(number.to_string())
}

fn count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn non_negative(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

pub(crate) fn hash_range(range: engine::HashRange) -> wire::HashKeyRange {
    wire::HashKeyRange {
        starting_hash_key: HashKey::from_u128(range.start),
        ending_hash_key: HashKey::from_u128(range.end),
    }
}

/// A child shard as GetRecords and SubscribeToShard report it.
pub(crate) fn child_shard(child: engine::ChildShard) -> wire::ChildShard {
    wire::ChildShard {
        shard_id: child.shard_id.to_string(),
        parent_shards: child.parent_shards.iter().map(ToString::to_string).collect(),
        hash_key_range: hash_range(child.hash_range),
    }
}

fn shard(info: engine::ShardInfo) -> wire::Shard {
    wire::Shard {
        shard_id: info.shard_id.to_string(),
        parent_shard_id: info.parent_shard_id.map(|id| id.to_string()),
        adjacent_parent_shard_id: info.adjacent_parent_shard_id.map(|id| id.to_string()),
        hash_key_range: hash_range(info.hash_range),
        sequence_number_range: wire::SequenceNumberRange {
            starting_sequence_number: sequence(info.starting_sequence_number),
            ending_sequence_number: info.ending_sequence_number.map(sequence),
        },
    }
}

fn status(status: engine::StreamStatus) -> wire::StreamStatus {
    match status {
        engine::StreamStatus::Creating => wire::StreamStatus::Creating,
        engine::StreamStatus::Active => wire::StreamStatus::Active,
        engine::StreamStatus::Updating => wire::StreamStatus::Updating,
        engine::StreamStatus::Deleting => wire::StreamStatus::Deleting,
    }
}

fn mode_details(mode: engine::StreamMode) -> wire::StreamModeDetails {
    wire::StreamModeDetails {
        stream_mode: match mode {
            engine::StreamMode::Provisioned => wire::StreamMode::Provisioned,
            engine::StreamMode::OnDemand => wire::StreamMode::OnDemand,
        },
    }
}

fn engine_mode(mode: wire::StreamMode) -> engine::StreamMode {
    match mode {
        wire::StreamMode::Provisioned => engine::StreamMode::Provisioned,
        wire::StreamMode::OnDemand => engine::StreamMode::OnDemand,
    }
}

fn metrics_names(names: &[String]) -> Vec<wire::MetricsName> {
    names.iter().filter_map(|n| wire::MetricsName::from_wire(n)).collect()
}

fn enhanced_monitoring(names: &[String]) -> Vec<wire::EnhancedMetrics> {
    vec![wire::EnhancedMetrics { shard_level_metrics: Some(metrics_names(names)) }]
}

pub(crate) fn encryption(encrypted: bool) -> wire::EncryptionType {
    if encrypted {
        wire::EncryptionType::Kms
    } else {
        wire::EncryptionType::None
    }
}

/// `EncryptionType` on PutRecord(s) answers and on records: AWS sends the member only
/// when the stream is encrypted (then `KMS`); DescribeStream(Summary) always carry it.
pub(crate) fn record_encryption(encrypted: bool) -> Option<wire::EncryptionType> {
    encrypted.then_some(wire::EncryptionType::Kms)
}

fn tags(tags: Vec<engine::Tag>) -> Vec<wire::Tag> {
    tags.into_iter().map(|tag| wire::Tag { key: tag.key, value: Some(tag.value) }).collect()
}

fn consumer_status(status: engine::ConsumerStatus) -> wire::ConsumerStatus {
    match status {
        engine::ConsumerStatus::Creating => wire::ConsumerStatus::Creating,
        engine::ConsumerStatus::Active => wire::ConsumerStatus::Active,
        engine::ConsumerStatus::Deleting => wire::ConsumerStatus::Deleting,
    }
}

fn consumer(info: engine::ConsumerInfo) -> wire::Consumer {
    wire::Consumer {
        consumer_name: info.name,
        consumer_arn: info.arn.into_string(),
        consumer_status: consumer_status(info.status),
        consumer_creation_timestamp: millis(info.created_ms),
    }
}

fn summary(summary: engine::StreamSummary) -> wire::StreamDescriptionSummary {
    wire::StreamDescriptionSummary {
        stream_name: summary.name,
        stream_arn: summary.arn.into_string(),
        stream_id: None,
        stream_status: status(summary.status),
        stream_mode_details: Some(mode_details(summary.mode)),
        retention_period_hours: count(summary.retention_hours),
        stream_creation_timestamp: millis(summary.created_ms),
        enhanced_monitoring: enhanced_monitoring(&summary.shard_level_metrics),
        encryption_type: Some(encryption(summary.encryption_key_id.is_some())),
        key_id: summary.encryption_key_id,
        open_shard_count: count(summary.open_shard_count),
        consumer_count: Some(count(summary.consumer_count)),
        warm_throughput: summary.warm_throughput.map(|w| wire::WarmThroughputObject {
            target_mibps: Some(count(w.target_mibps)),
            current_mibps: Some(count(w.current_mibps)),
        }),
        max_record_size_in_kib: Some(count(summary.max_record_size_kib)),
        channel_count: None,
        record_distribution_strategy: summary.record_distribution.map(wire_distribution),
        queue_count: Some(count(summary.queue_count)),
    }
}

fn engine_distribution(strategy: wire::RecordDistributionStrategy) -> engine::RecordDistribution {
    match strategy {
        wire::RecordDistributionStrategy::Auto => engine::RecordDistribution::Auto,
        wire::RecordDistributionStrategy::UserPartitionKey => engine::RecordDistribution::UserPartitionKey,
    }
}

fn wire_distribution(strategy: engine::RecordDistribution) -> wire::RecordDistributionStrategy {
    match strategy {
        engine::RecordDistribution::Auto => wire::RecordDistributionStrategy::Auto,
        engine::RecordDistribution::UserPartitionKey => wire::RecordDistributionStrategy::UserPartitionKey,
    }
}

fn commitment(billing: engine::BillingCommitment) -> wire::MinimumThroughputBillingCommitmentOutput {
    wire::MinimumThroughputBillingCommitmentOutput {
        status: if billing.enabled {
            wire::MinimumThroughputBillingCommitmentOutputStatus::Enabled
        } else {
            wire::MinimumThroughputBillingCommitmentOutputStatus::Disabled
        },
        started_at: billing.started_ms.map(millis),
        ended_at: billing.ended_ms.map(millis),
        earliest_allowed_end_at: billing.earliest_allowed_end_ms.map(millis),
    }
}

/// A starting position (GetShardIterator's type and SubscribeToShard's StartingPosition).
fn iterator_start(
    kind: wire::ShardIteratorType,
    sequence_number: Option<SequenceNumber>,
    timestamp: Option<Timestamp>,
) -> engine::IteratorStart {
    let sequence_number = sequence_number.map(SequenceNumber::into_string);
    match kind {
        wire::ShardIteratorType::AtSequenceNumber => engine::IteratorStart::AtSequenceNumber(sequence_number),
        wire::ShardIteratorType::AfterSequenceNumber => engine::IteratorStart::AfterSequenceNumber(sequence_number),
        wire::ShardIteratorType::TrimHorizon => engine::IteratorStart::TrimHorizon,
        wire::ShardIteratorType::Latest => engine::IteratorStart::Latest,
        wire::ShardIteratorType::AtTimestamp => {
            engine::IteratorStart::AtTimestamp(timestamp.map(Timestamp::epoch_millis))
        }
    }
}

fn empty(result: Result<(), EngineError>, operation: fn(wire::EmptyOutput) -> Response) -> Outcome {
    result.map(|()| operation(wire::EmptyOutput)).into()
}

/// Executes one request; channel operations, and tags and policies of channel ARNs, go
/// to `channels`. Under `--enforce-limits` the request first draws from its operation's
/// rate budget.
pub async fn dispatch(
    engine: &Arc<Engine>,
    channels: Option<&Channels>,
    metrics: &Metrics,
    request: Request,
) -> Outcome {
    if let Some(error) = rates::refusal(engine, &request) {
        return Outcome::Failed(error);
    }
    let encryption_change = rates::encryption_change(&request);
    let outcome = run(engine, channels, metrics, request).await;
    if let (Some(stream), Outcome::Done(_)) = (encryption_change, &outcome) {
        engine.note_encryption_change(&stream);
    }
    outcome
}

/// Executes one admitted request.
async fn run(engine: &Arc<Engine>, channels: Option<&Channels>, metrics: &Metrics, request: Request) -> Outcome {
    use Response as R;
    match request {
        Request::CreateQueue(input) => queues::create(engine, input).await,
        Request::DescribeQueue(input) => queues::describe(engine, input),
        Request::ListQueues(input) => queues::list(engine, input),
        Request::UpdateQueue(input) => queues::update(engine, input).await,
        Request::DeleteQueue(input) => queues::delete(engine, input).await,
        Request::ReceiveQueueRecords(input) => queues::receive(engine, input).await,
        Request::AcknowledgeQueueRecords(input) => queues::acknowledge(engine, input).await,
        Request::UpdateQueueRecordsVisibility(input) => queues::update_visibility(engine, input).await,
        Request::ReceiveDeadLetterQueueRecords(input) => queues::receive_dead_letters(engine, input).await,
        Request::AcknowledgeDeadLetterQueueRecords(input) => queues::acknowledge_dead_letters(engine, input).await,
        Request::UpdateDeadLetterQueueRecordsVisibility(input) => {
            queues::update_dead_letter_visibility(engine, input).await
        }
        Request::RestoreDeadLetterQueueRecords(input) => queues::restore_dead_letters(engine, input).await,
        Request::PutRecords(input) => {
            if input.dry_run == Some(true) {
                return Outcome::DryRun;
            }
            let request = engine::PutRecords {
                stream: stream_ref(input.stream_name, input.stream_arn),
                records: input
                    .records
                    .into_iter()
                    .map(|r| engine::PutEntry {
                        partition_key: r.partition_key,
                        explicit_hash_key: r.explicit_hash_key.map(HashKey::into_string),
                        data: r.data,
                    })
                    .collect(),
            };
            engine
                .put_records(request)
                .await
                .map(|result| {
                    metrics.records_in(u64::from(result.records.len() as u32 - result.failed_count));
                    R::PutRecords(wire::PutRecordsOutput {
                        failed_record_count: Some(count(result.failed_count)),
                        records: result
                            .records
                            .into_iter()
                            .map(|outcome| match outcome {
                                engine::PutOutcome::Stored(placement) => wire::PutRecordsResultEntry {
                                    sequence_number: Some(sequence(placement.sequence_number)),
                                    shard_id: Some(placement.shard_id.to_string()),
                                    error_code: None,
                                    error_message: None,
                                },
                                engine::PutOutcome::Failed(error) => {
                                    // Per-record failures carry a message even when the
                                    // call's own InternalFailure would not.
                                    let failure = wire_error(&error);
                                    wire::PutRecordsResultEntry {
                                        sequence_number: None,
                                        shard_id: None,
                                        error_code: Some(failure.error_type),
                                        error_message: Some(
                                            failure.message.unwrap_or_else(|| "Internal service failure.".into()),
                                        ),
                                    }
                                }
                            })
                            .collect(),
                        encryption_type: record_encryption(result.encrypted),
                    })
                })
                .into()
        }
        Request::PutRecord(input) => {
            if input.dry_run == Some(true) {
                return Outcome::DryRun;
            }
            let request = engine::PutRecord {
                stream: stream_ref(input.stream_name, input.stream_arn),
                record: engine::PutEntry {
                    partition_key: input.partition_key,
                    explicit_hash_key: input.explicit_hash_key.map(HashKey::into_string),
                    data: input.data,
                },
                sequence_number_for_ordering: input.sequence_number_for_ordering.map(SequenceNumber::into_string),
            };
            engine
                .put_record(request)
                .await
                .map(|result| {
                    metrics.records_in(1);
                    R::PutRecord(wire::PutRecordOutput {
                        shard_id: result.placement.shard_id.to_string(),
                        sequence_number: sequence(result.placement.sequence_number),
                        encryption_type: record_encryption(result.encrypted),
                    })
                })
                .into()
        }
        Request::GetRecords(input) => {
            if input.dry_run == Some(true) {
                return Outcome::DryRun;
            }
            let request =
                engine::GetRecords { shard_iterator: input.shard_iterator, limit: input.limit.map(non_negative) };
            engine
                .get_records(&request)
                .map(|result| {
                    metrics.records_out(result.records.len() as u64);
                    let encryption_type = record_encryption(result.encrypted);
                    R::GetRecords(wire::GetRecordsOutput {
                        records: result
                            .records
                            .into_iter()
                            .map(|record| wire::Record {
                                sequence_number: sequence(record.sequence_number),
                                approximate_arrival_timestamp: Some(millis(record.arrival_ms)),
                                data: record.data,
                                partition_key: record.partition_key,
                                encryption_type,
                            })
                            .collect(),
                        next_shard_iterator: result.next_shard_iterator,
                        millis_behind_latest: Some(result.millis_behind_latest.min(i64::MAX as u64) as i64),
                        child_shards: result
                            .child_shards
                            .map(|children| children.into_iter().map(child_shard).collect()),
                    })
                })
                .into()
        }
        Request::GetShardIterator(input) => {
            if input.dry_run == Some(true) {
                return Outcome::DryRun;
            }
            let stray = input.starting_sequence_number.is_some();
            let start = iterator_start(input.shard_iterator_type, input.starting_sequence_number, input.timestamp);
            let request = engine::GetShardIterator {
                stream: stream_ref(input.stream_name, input.stream_arn),
                shard_id: input.shard_id,
                start,
                stray_sequence_number: stray,
            };
            engine
                .get_shard_iterator(&request)
                .map(|iterator| R::GetShardIterator(wire::GetShardIteratorOutput { shard_iterator: Some(iterator) }))
                .into()
        }
        Request::ListShards(input) => {
            let filter = input.shard_filter.map(|f| engine::ShardFilter {
                kind: match f.r#type {
                    wire::ShardFilterType::AfterShardId => engine::ShardFilterKind::AfterShardId,
                    wire::ShardFilterType::AtTrimHorizon => engine::ShardFilterKind::AtTrimHorizon,
                    wire::ShardFilterType::FromTrimHorizon => engine::ShardFilterKind::FromTrimHorizon,
                    wire::ShardFilterType::AtLatest => engine::ShardFilterKind::AtLatest,
                    wire::ShardFilterType::AtTimestamp => engine::ShardFilterKind::AtTimestamp,
                    wire::ShardFilterType::FromTimestamp => engine::ShardFilterKind::FromTimestamp,
                },
                shard_id: f.shard_id,
                timestamp_ms: f.timestamp.map(Timestamp::epoch_millis),
            });
            let request = engine::ListShards {
                stream: stream_ref(input.stream_name, input.stream_arn),
                next_token: input.next_token,
                exclusive_start_shard_id: input.exclusive_start_shard_id,
                max_results: input.max_results.map(non_negative),
                stream_creation_ms: input.stream_creation_timestamp.map(Timestamp::epoch_millis),
                filter,
            };
            engine
                .list_shards(&request)
                .map(|list| {
                    R::ListShards(wire::ListShardsOutput {
                        shards: Some(list.shards.into_iter().map(shard).collect()),
                        next_token: list.next_token,
                    })
                })
                .into()
        }
        Request::CreateStream(input) => {
            let request = engine::CreateStream {
                name: input.stream_name,
                shard_count: input.shard_count.map(non_negative),
                mode: input.stream_mode_details.map(|d| engine_mode(d.stream_mode)),
                tags: input.tags.unwrap_or_default(),
                max_record_size_kib: input.max_record_size_in_kib.map(non_negative),
                warm_throughput_mibps: input.warm_throughput_mibps.map(non_negative),
                record_distribution: input.record_distribution_strategy.map(engine_distribution),
            };
            empty(engine.create_stream(request).await, R::CreateStream)
        }
        Request::DeleteStream(input) => {
            let request = engine::DeleteStream {
                stream: stream_ref(input.stream_name, input.stream_arn),
                enforce_consumer_deletion: input.enforce_consumer_deletion.unwrap_or(false),
            };
            empty(engine.delete_stream(&request).await, R::DeleteStream)
        }
        Request::DescribeStream(input) => {
            let request = engine::DescribeStream {
                stream: stream_ref(input.stream_name, input.stream_arn),
                limit: input.limit.map(non_negative),
                exclusive_start_shard_id: input.exclusive_start_shard_id,
            };
            engine
                .describe_stream(&request)
                .map(|description| {
                    let s = description.summary;
                    R::DescribeStream(wire::DescribeStreamOutput {
                        stream_description: wire::StreamDescription {
                            stream_name: s.name,
                            stream_arn: s.arn.into_string(),
                            stream_status: status(s.status),
                            stream_mode_details: Some(mode_details(s.mode)),
                            shards: description.shards.into_iter().map(shard).collect(),
                            has_more_shards: description.has_more_shards,
                            retention_period_hours: count(s.retention_hours),
                            stream_creation_timestamp: millis(s.created_ms),
                            enhanced_monitoring: enhanced_monitoring(&s.shard_level_metrics),
                            encryption_type: Some(encryption(s.encryption_key_id.is_some())),
                            key_id: s.encryption_key_id,
                        },
                    })
                })
                .into()
        }
        Request::DescribeStreamSummary(input) => {
            let stream = stream_ref(input.stream_name, input.stream_arn);
            engine
                .describe_stream_summary(&stream)
                .map(|s| {
                    let channel_count = channels.map(|c| count(c.stream_channel_count(&s.name)));
                    R::DescribeStreamSummary(wire::DescribeStreamSummaryOutput {
                        stream_description_summary: wire::StreamDescriptionSummary { channel_count, ..summary(s) },
                    })
                })
                .into()
        }
        Request::ListStreams(input) => engine
            .list_streams(&engine::ListStreams {
                limit: input.limit.map(non_negative),
                exclusive_start_stream_name: input.exclusive_start_stream_name,
                next_token: input.next_token,
            })
            .map(|list| {
                R::ListStreams(wire::ListStreamsOutput {
                    stream_names: list.streams.iter().map(|s| s.name.clone()).collect(),
                    has_more_streams: list.has_more,
                    next_token: list.next_token,
                    stream_summaries: Some(
                        list.streams
                            .into_iter()
                            .map(|s| wire::StreamSummary {
                                stream_name: s.name,
                                stream_arn: s.arn.into_string(),
                                stream_status: status(s.status),
                                stream_mode_details: Some(mode_details(s.mode)),
                                stream_creation_timestamp: Some(millis(s.created_ms)),
                            })
                            .collect(),
                    ),
                })
            })
            .into(),
        Request::IncreaseStreamRetentionPeriod(input) => {
            let request = engine::RetentionPeriod {
                stream: stream_ref(input.stream_name, input.stream_arn),
                hours: i64::from(input.retention_period_hours),
            };
            empty(engine.increase_retention(&request).await, R::IncreaseStreamRetentionPeriod)
        }
        Request::DecreaseStreamRetentionPeriod(input) => {
            let request = engine::RetentionPeriod {
                stream: stream_ref(input.stream_name, input.stream_arn),
                hours: i64::from(input.retention_period_hours),
            };
            empty(engine.decrease_retention(&request).await, R::DecreaseStreamRetentionPeriod)
        }
        Request::AddTagsToStream(input) => {
            let request =
                engine::AddTagsToStream { stream: stream_ref(input.stream_name, input.stream_arn), tags: input.tags };
            empty(engine.add_tags_to_stream(request).await, R::AddTagsToStream)
        }
        Request::RemoveTagsFromStream(input) => {
            let request = engine::RemoveTagsFromStream {
                stream: stream_ref(input.stream_name, input.stream_arn),
                tag_keys: input.tag_keys,
            };
            empty(engine.remove_tags_from_stream(request).await, R::RemoveTagsFromStream)
        }
        Request::ListTagsForStream(input) => {
            let request = engine::ListTagsForStream {
                stream: stream_ref(input.stream_name, input.stream_arn),
                exclusive_start_tag_key: input.exclusive_start_tag_key,
                limit: input.limit.map(non_negative),
            };
            engine
                .list_tags_for_stream(&request)
                .map(|list| {
                    R::ListTagsForStream(wire::ListTagsForStreamOutput {
                        tags: tags(list.tags),
                        has_more_tags: list.has_more,
                    })
                })
                .into()
        }
        Request::TagResource(input) if Channels::is_channel_arn(&input.resource_arn) => {
            channels::tag(channels, input).await
        }
        Request::UntagResource(input) if Channels::is_channel_arn(&input.resource_arn) => {
            channels::untag(channels, input).await
        }
        Request::ListTagsForResource(input) if Channels::is_channel_arn(&input.resource_arn) => {
            channels::list_tags(channels, input)
        }
        Request::PutResourcePolicy(input) if Channels::is_channel_arn(&input.resource_arn) => {
            channels::put_policy(channels, input).await
        }
        Request::GetResourcePolicy(input) if Channels::is_channel_arn(&input.resource_arn) => {
            channels::get_policy(channels, input)
        }
        Request::DeleteResourcePolicy(input) if Channels::is_channel_arn(&input.resource_arn) => {
            channels::delete_policy(channels, input).await
        }
        Request::CreateChannel(input) => channels::create(channels, input).await,
        Request::DescribeChannel(input) => channels::describe(channels, input),
        Request::ListChannels(input) => channels::list(channels, input),
        Request::UpdateChannel(input) => channels::update(channels, input).await,
        Request::DeleteChannel(input) => channels::delete(channels, input).await,
        Request::TagResource(input) => {
            let request = engine::TagResource { resource_arn: input.resource_arn, tags: input.tags };
            empty(engine.tag_resource(request).await, R::TagResource)
        }
        Request::UntagResource(input) => {
            let request = engine::UntagResource { resource_arn: input.resource_arn, tag_keys: input.tag_keys };
            empty(engine.untag_resource(request).await, R::UntagResource)
        }
        Request::ListTagsForResource(input) => engine
            .list_tags_for_resource(&input.resource_arn)
            .map(|list| R::ListTagsForResource(wire::ListTagsForResourceOutput { tags: Some(tags(list)) }))
            .into(),
        Request::SplitShard(input) => {
            let request = engine::SplitShard {
                stream: stream_ref(input.stream_name, input.stream_arn),
                shard_to_split: input.shard_to_split,
                new_starting_hash_key: input.new_starting_hash_key.into_string(),
            };
            empty(engine.split_shard(&request).await, R::SplitShard)
        }
        Request::MergeShards(input) => {
            let request = engine::MergeShards {
                stream: stream_ref(input.stream_name, input.stream_arn),
                shard_to_merge: input.shard_to_merge,
                adjacent_shard_to_merge: input.adjacent_shard_to_merge,
            };
            empty(engine.merge_shards(&request).await, R::MergeShards)
        }
        Request::UpdateShardCount(input) => {
            let request = engine::UpdateShardCount {
                stream: stream_ref(input.stream_name, input.stream_arn),
                target_shard_count: non_negative(input.target_shard_count),
            };
            engine
                .update_shard_count(&request)
                .await
                .map(|change| {
                    R::UpdateShardCount(wire::UpdateShardCountOutput {
                        stream_name: Some(change.stream_name),
                        current_shard_count: Some(count(change.current)),
                        target_shard_count: Some(count(change.target)),
                        stream_arn: Some(change.stream_arn.into_string()),
                    })
                })
                .into()
        }
        Request::EnableEnhancedMonitoring(input) => {
            let request = engine::EnhancedMonitoring {
                stream: stream_ref(input.stream_name, input.stream_arn),
                shard_level_metrics: input.shard_level_metrics.iter().map(|m| m.as_str().to_owned()).collect(),
            };
            monitoring(engine.enable_enhanced_monitoring(&request).await, R::EnableEnhancedMonitoring)
        }
        Request::DisableEnhancedMonitoring(input) => {
            let request = engine::EnhancedMonitoring {
                stream: stream_ref(input.stream_name, input.stream_arn),
                shard_level_metrics: input.shard_level_metrics.iter().map(|m| m.as_str().to_owned()).collect(),
            };
            monitoring(engine.disable_enhanced_monitoring(&request).await, R::DisableEnhancedMonitoring)
        }
        Request::StartStreamEncryption(input) => {
            let request = engine::StreamEncryption {
                stream: stream_ref(input.stream_name, input.stream_arn),
                encryption_type: input.encryption_type.as_str().to_owned(),
                key_id: input.key_id,
            };
            empty(engine.start_stream_encryption(&request).await, R::StartStreamEncryption)
        }
        Request::StopStreamEncryption(input) => {
            let request = engine::StreamEncryption {
                stream: stream_ref(input.stream_name, input.stream_arn),
                encryption_type: input.encryption_type.as_str().to_owned(),
                key_id: input.key_id,
            };
            empty(engine.stop_stream_encryption(&request).await, R::StopStreamEncryption)
        }
        Request::UpdateStreamMode(input) => {
            let request = engine::UpdateStreamMode {
                stream_arn: input.stream_arn,
                mode: engine_mode(input.stream_mode_details.stream_mode),
                warm_throughput_mibps: input.warm_throughput_mibps.map(non_negative),
            };
            empty(engine.update_stream_mode(&request).await, R::UpdateStreamMode)
        }
        Request::UpdateStreamRecordDistributionStrategy(input) => {
            let request = engine::UpdateRecordDistribution {
                stream_arn: input.stream_arn,
                strategy: engine_distribution(input.record_distribution_strategy),
            };
            empty(engine.update_record_distribution(&request).await, R::UpdateStreamRecordDistributionStrategy)
        }
        Request::UpdateStreamWarmThroughput(input) => {
            let request = engine::UpdateWarmThroughput {
                stream: stream_ref(input.stream_name, input.stream_arn),
                warm_throughput_mibps: non_negative(input.warm_throughput_mibps),
            };
            engine
                .update_warm_throughput(&request)
                .await
                .map(|change| {
                    R::UpdateStreamWarmThroughput(wire::UpdateStreamWarmThroughputOutput {
                        stream_arn: Some(change.stream_arn.into_string()),
                        stream_name: Some(change.stream_name),
                        warm_throughput: Some(wire::WarmThroughputObject {
                            target_mibps: Some(count(change.warm_throughput.target_mibps)),
                            current_mibps: Some(count(change.warm_throughput.current_mibps)),
                        }),
                    })
                })
                .into()
        }
        Request::UpdateMaxRecordSize(input) => {
            let request = engine::UpdateMaxRecordSize {
                stream: stream_ref(None, input.stream_arn),
                max_record_size_kib: non_negative(input.max_record_size_in_kib),
            };
            empty(engine.update_max_record_size(&request).await, R::UpdateMaxRecordSize)
        }
        Request::PutResourcePolicy(input) => {
            let request = engine::PutResourcePolicy { resource_arn: input.resource_arn, policy: input.policy };
            empty(engine.put_resource_policy(request).await, R::PutResourcePolicy)
        }
        Request::GetResourcePolicy(input) => engine
            .get_resource_policy(&input.resource_arn)
            .map(|policy| R::GetResourcePolicy(wire::GetResourcePolicyOutput { policy }))
            .into(),
        Request::DeleteResourcePolicy(input) => {
            empty(engine.delete_resource_policy(&input.resource_arn).await, R::DeleteResourcePolicy)
        }
        Request::DescribeLimits(_) => {
            let limits = engine.describe_limits();
            Outcome::Done(R::DescribeLimits(wire::DescribeLimitsOutput {
                shard_limit: count(limits.shard_limit),
                open_shard_count: count(limits.open_shard_count),
                on_demand_stream_count: count(limits.on_demand_stream_count),
                on_demand_stream_count_limit: count(limits.on_demand_stream_count_limit),
                channel_count: channels.map(|c| count(c.channel_count())),
                channel_count_limit: channels.map(|c| count(c.channel_count_limit())),
            }))
        }
        Request::DescribeAccountSettings(_) => {
            Outcome::Done(R::DescribeAccountSettings(wire::DescribeAccountSettingsOutput {
                minimum_throughput_billing_commitment: Some(commitment(engine.describe_account_settings())),
            }))
        }
        Request::UpdateAccountSettings(input) => {
            let request = engine::UpdateAccountSettings {
                commitment_enabled: input.minimum_throughput_billing_commitment.status
                    == wire::MinimumThroughputBillingCommitmentInputStatus::Enabled,
            };
            Outcome::Done(R::UpdateAccountSettings(wire::UpdateAccountSettingsOutput {
                minimum_throughput_billing_commitment: Some(commitment(engine.update_account_settings(request))),
            }))
        }
        Request::RegisterStreamConsumer(input) => engine
            .register_consumer(engine::RegisterConsumer {
                stream_arn: input.stream_arn,
                consumer_name: input.consumer_name,
                tags: input.tags.unwrap_or_default(),
            })
            .await
            .map(|info| R::RegisterStreamConsumer(wire::RegisterStreamConsumerOutput { consumer: consumer(info) }))
            .into(),
        Request::DescribeStreamConsumer(input) => {
            let reference = engine::ConsumerRef {
                stream_arn: input.stream_arn,
                consumer_name: input.consumer_name,
                consumer_arn: input.consumer_arn,
            };
            engine
                .describe_consumer(&reference)
                .map(|info| {
                    R::DescribeStreamConsumer(wire::DescribeStreamConsumerOutput {
                        consumer_description: wire::ConsumerDescription {
                            consumer_name: info.name,
                            consumer_arn: info.arn.into_string(),
                            consumer_status: consumer_status(info.status),
                            consumer_creation_timestamp: millis(info.created_ms),
                            stream_arn: info.stream_arn.into_string(),
                        },
                    })
                })
                .into()
        }
        Request::DeregisterStreamConsumer(input) => {
            let reference = engine::ConsumerRef {
                stream_arn: input.stream_arn,
                consumer_name: input.consumer_name,
                consumer_arn: input.consumer_arn,
            };
            empty(engine.deregister_consumer(&reference).await, R::DeregisterStreamConsumer)
        }
        Request::ListStreamConsumers(input) => engine
            .list_consumers(&engine::ListConsumers {
                stream_arn: input.stream_arn,
                next_token: input.next_token,
                max_results: input.max_results.map(non_negative),
                stream_creation_ms: input.stream_creation_timestamp.map(Timestamp::epoch_millis),
            })
            .map(|list| {
                R::ListStreamConsumers(wire::ListStreamConsumersOutput {
                    consumers: Some(list.consumers.into_iter().map(consumer).collect()),
                    next_token: list.next_token,
                })
            })
            .into(),
        Request::SubscribeToShard(input) => {
            if input.dry_run == Some(true) {
                return Outcome::DryRun;
            }
            let position = input.starting_position;
            let request = engine::SubscribeToShard {
                consumer_arn: input.consumer_arn,
                shard_id: input.shard_id,
                stray_sequence_number: position.sequence_number.is_some(),
                start: iterator_start(position.r#type, position.sequence_number, position.timestamp),
            };
            match engine.subscribe_to_shard(&request) {
                Ok(subscription) => Outcome::Subscribed(Box::new(subscription)),
                Err(error) => Outcome::Failed(error),
            }
        }
    }
}

fn monitoring(
    result: Result<engine::MonitoringChange, EngineError>,
    operation: fn(wire::EnhancedMonitoringOutput) -> Response,
) -> Outcome {
    result
        .map(|change| {
            operation(wire::EnhancedMonitoringOutput {
                stream_name: Some(change.stream_name),
                current_shard_level_metrics: Some(metrics_names(&change.current)),
                desired_shard_level_metrics: Some(metrics_names(&change.desired)),
                stream_arn: Some(change.stream_arn.into_string()),
            })
        })
        .into()
}
