//! Channel operations: wire shapes to the channel component's domain values and back.
//! Tags and resource policies on channel ARNs come here too (`dispatch` sends an ARN
//! here when [`Channels::is_channel_arn`]); every other ARN stays the engine's.

use std::collections::BTreeMap;

use rheo_firehose::channel::model as domain;
use rheo_firehose::channel::{ChannelError, Channels};
use rheo_protocol::model as wire;
use rheo_protocol::{Response, Timestamp};

use super::{millis, Outcome};

impl From<Result<Response, ChannelError>> for Outcome {
    fn from(result: Result<Response, ChannelError>) -> Self {
        match result {
            Ok(response) => Outcome::Done(response),
            Err(error) => Outcome::ChannelFailed(error),
        }
    }
}

/// The channel component, or the error a server built without one answers.
fn component(channels: Option<&Channels>) -> Result<&Channels, ChannelError> {
    channels.ok_or_else(|| ChannelError::Internal("this server was started without channels".into()))
}

fn record_format(format: wire::RecordFormatType) -> domain::RecordFormat {
    match format {
        wire::RecordFormatType::GsrJson => domain::RecordFormat::GsrJson,
        wire::RecordFormatType::Json => domain::RecordFormat::Json,
        wire::RecordFormatType::String => domain::RecordFormat::String,
        wire::RecordFormatType::ByteArray => domain::RecordFormat::ByteArray,
    }
}

fn wire_record_format(format: domain::RecordFormat) -> wire::RecordFormatType {
    match format {
        domain::RecordFormat::GsrJson => wire::RecordFormatType::GsrJson,
        domain::RecordFormat::Json => wire::RecordFormatType::Json,
        domain::RecordFormat::String => wire::RecordFormatType::String,
        domain::RecordFormat::ByteArray => wire::RecordFormatType::ByteArray,
    }
}

fn compression(compression: wire::S3CompressionType) -> domain::ObjectCompression {
    match compression {
        wire::S3CompressionType::None => domain::ObjectCompression::None,
        wire::S3CompressionType::Gzip => domain::ObjectCompression::Gzip,
        wire::S3CompressionType::Zstd => domain::ObjectCompression::Zstd,
    }
}

fn wire_compression(compression: domain::ObjectCompression) -> wire::S3CompressionType {
    match compression {
        domain::ObjectCompression::None => wire::S3CompressionType::None,
        domain::ObjectCompression::Gzip => wire::S3CompressionType::Gzip,
        domain::ObjectCompression::Zstd => wire::S3CompressionType::Zstd,
    }
}

fn status(status: domain::ChannelStatus) -> wire::ChannelStatus {
    match status {
        domain::ChannelStatus::Creating => wire::ChannelStatus::Creating,
        domain::ChannelStatus::Active => wire::ChannelStatus::Active,
        domain::ChannelStatus::Updating => wire::ChannelStatus::Updating,
        domain::ChannelStatus::Deleting => wire::ChannelStatus::Deleting,
        domain::ChannelStatus::Failed => wire::ChannelStatus::Failed,
    }
}

fn dead_letter(config: wire::DeadLetterQueueS3Configuration) -> domain::DeadLetter {
    domain::DeadLetter {
        bucket_arn: config.bucket_arn,
        expected_bucket_owner: config.expected_bucket_owner,
        error_output_prefix: config.error_output_prefix,
    }
}

fn wire_dead_letter(config: domain::DeadLetter) -> wire::DeadLetterQueueS3Configuration {
    wire::DeadLetterQueueS3Configuration {
        bucket_arn: config.bucket_arn,
        expected_bucket_owner: config.expected_bucket_owner,
        error_output_prefix: config.error_output_prefix,
    }
}

fn logging(config: wire::ChannelLoggingConfiguration) -> domain::Logging {
    let logs = config.cloud_watch_logs;
    domain::Logging {
        enabled: logs.enabled,
        log_group_name: logs.log_group_name,
        log_stream_name: logs.log_stream_name,
    }
}

fn description(info: domain::ChannelInfo) -> wire::ChannelDescriptionOutput {
    let storage = info.s3.storage;
    wire::ChannelDescriptionOutput {
        channel_description: wire::ChannelDescription {
            channel_name: info.name,
            channel_arn: info.arn,
            channel_id: info.id,
            channel_status: status(info.status),
            channel_status_reason: info.status_reason,
            channel_creation_timestamp: millis(info.created_ms),
            service_execution_role_arn: info.role_arn,
            stream_configuration_list: info
                .streams
                .into_iter()
                .map(|stream| wire::ChannelStreamDescription {
                    stream_arn: stream.config.stream_arn,
                    stream_creation_timestamp: millis(stream.stream_created_ms),
                    record_configuration: wire::RecordConfiguration {
                        record_format_type: wire_record_format(stream.config.record_format),
                        gsr_schema_arn: stream.config.gsr_schema_arn,
                    },
                })
                .collect(),
            s3_destination_configuration: Some(wire::S3DestinationDescription {
                data_freshness_in_seconds: i32::try_from(info.s3.data_freshness_secs).unwrap_or(i32::MAX),
                dead_letter_queue_s3_configuration: wire_dead_letter(info.s3.dead_letter),
                storage_configuration: wire::S3StorageConfiguration {
                    bucket_arn: storage.bucket_arn,
                    expected_bucket_owner: storage.expected_bucket_owner,
                    output_key_template: storage.output_key_template,
                    storage_class: storage.storage_class.as_deref().and_then(wire::S3StorageClass::from_wire),
                    compression_type: wire_compression(storage.compression),
                },
            }),
            s3_tables_destination_configuration: None,
            encryption_configuration: info.encryption.map(|e| wire::ChannelEncryptionConfiguration {
                encryption_type: wire::ChannelEncryptionType::Kms,
                key_id: e.key_id,
            }),
            logging_configuration: wire::ChannelLoggingConfiguration {
                cloud_watch_logs: wire::CloudWatchLogs {
                    enabled: info.logging.enabled,
                    log_group_name: info.logging.log_group_name,
                    log_stream_name: info.logging.log_stream_name,
                },
            },
        },
    }
}

/// CreateChannel.
pub(super) async fn create(channels: Option<&Channels>, input: wire::CreateChannelInput) -> Outcome {
    let request = domain::CreateChannel {
        name: input.channel_name,
        role_arn: input.service_execution_role_arn,
        streams: input
            .stream_configuration_list
            .into_iter()
            .map(|stream| domain::StreamConfig {
                stream_arn: stream.stream_arn,
                record_format: record_format(stream.record_configuration.record_format_type),
                gsr_schema_arn: stream.record_configuration.gsr_schema_arn,
            })
            .collect(),
        s3: input.s3_destination_configuration.map(|s3| domain::S3Destination {
            data_freshness_secs: s3.data_freshness_in_seconds.map(i64::from),
            dead_letter: s3.dead_letter_queue_s3_configuration.map(dead_letter),
            storage: domain::Storage {
                bucket_arn: s3.storage_configuration.bucket_arn,
                expected_bucket_owner: s3.storage_configuration.expected_bucket_owner,
                output_key_template: s3.storage_configuration.output_key_template,
                storage_class: s3.storage_configuration.storage_class.map(|c| c.as_str().to_owned()),
                compression: compression(s3.storage_configuration.compression_type),
            },
        }),
        s3_tables: input.s3_tables_destination_configuration.is_some(),
        encryption: input.encryption_configuration.map(|e| domain::Encryption { key_id: e.key_id }),
        tags: input.tags.unwrap_or_default(),
        logging: input.logging_configuration.map(logging),
    };
    let result = match component(channels) {
        Ok(channels) => channels.create_channel(request).await,
        Err(error) => Err(error),
    };
    result.map(|info| Response::CreateChannel(description(info))).into()
}

/// DescribeChannel.
pub(super) fn describe(channels: Option<&Channels>, input: wire::DescribeChannelInput) -> Outcome {
    component(channels)
        .and_then(|channels| channels.describe_channel(&input.channel_arn))
        .map(|info| Response::DescribeChannel(description(info)))
        .into()
}

/// ListChannels.
pub(super) fn list(channels: Option<&Channels>, input: wire::ListChannelsInput) -> Outcome {
    let request = domain::ListChannels {
        stream_filter: input
            .stream_filter
            .unwrap_or_default()
            .into_iter()
            .map(|filter| domain::StreamFilter {
                stream_arn: filter.stream_arn,
                stream_created_ms: filter
                    .stream_creation_timestamp
                    .map(|at| u64::try_from(Timestamp::epoch_millis(at)).unwrap_or(0)),
            })
            .collect(),
        max_results: input.max_results.and_then(|n| u32::try_from(n).ok()),
        next_token: input.next_token,
    };
    component(channels)
        .and_then(|channels| channels.list_channels(request))
        .map(|list| {
            Response::ListChannels(wire::ListChannelsOutput {
                channel_summaries: list
                    .channels
                    .into_iter()
                    .map(|summary| wire::ChannelSummary {
                        channel_name: summary.name,
                        channel_arn: summary.arn,
                        channel_id: summary.id,
                        channel_status: status(summary.status),
                        channel_status_reason: summary.status_reason,
                        channel_creation_timestamp: millis(summary.created_ms),
                        channel_destination_type: wire::ChannelDestinationType::S3,
                        streams: summary
                            .streams
                            .into_iter()
                            .map(|(stream_arn, created_ms)| wire::ChannelStreamIdentifier {
                                stream_arn,
                                stream_creation_timestamp: millis(created_ms),
                            })
                            .collect(),
                    })
                    .collect(),
                next_token: list.next_token,
            })
        })
        .into()
}

/// UpdateChannel.
pub(super) async fn update(channels: Option<&Channels>, input: wire::UpdateChannelInput) -> Outcome {
    let request = domain::UpdateChannel {
        arn: input.channel_arn,
        s3_freshness_secs: input.s3_destination_configuration.map(|s3| i64::from(s3.data_freshness_in_seconds)),
        s3_tables: input.s3_tables_destination_configuration.is_some(),
        logging: input.logging_configuration.map(logging),
    };
    let result = match component(channels) {
        Ok(channels) => channels.update_channel(request).await,
        Err(error) => Err(error),
    };
    result.map(|info| Response::UpdateChannel(description(info))).into()
}

/// DeleteChannel.
pub(super) async fn delete(channels: Option<&Channels>, input: wire::DeleteChannelInput) -> Outcome {
    let result = match component(channels) {
        Ok(channels) => channels.delete_channel(&input.channel_arn).await,
        Err(error) => Err(error),
    };
    result.map(|()| Response::DeleteChannel(wire::EmptyOutput)).into()
}

/// TagResource on a channel ARN.
pub(super) async fn tag(channels: Option<&Channels>, input: wire::TagResourceInput) -> Outcome {
    let result = match component(channels) {
        Ok(channels) => channels.tag_resource(&input.resource_arn, input.tags).await,
        Err(error) => Err(error),
    };
    result.map(|()| Response::TagResource(wire::EmptyOutput)).into()
}

/// UntagResource on a channel ARN.
pub(super) async fn untag(channels: Option<&Channels>, input: wire::UntagResourceInput) -> Outcome {
    let result = match component(channels) {
        Ok(channels) => channels.untag_resource(&input.resource_arn, input.tag_keys).await,
        Err(error) => Err(error),
    };
    result.map(|()| Response::UntagResource(wire::EmptyOutput)).into()
}

/// ListTagsForResource on a channel ARN.
pub(super) fn list_tags(channels: Option<&Channels>, input: wire::ListTagsForResourceInput) -> Outcome {
    component(channels)
        .and_then(|channels| channels.list_tags(&input.resource_arn))
        .map(|tags: BTreeMap<String, String>| {
            let tags = tags.into_iter().map(|(key, value)| wire::Tag { key, value: Some(value) }).collect();
            Response::ListTagsForResource(wire::ListTagsForResourceOutput { tags: Some(tags) })
        })
        .into()
}

/// PutResourcePolicy on a channel ARN.
pub(super) async fn put_policy(channels: Option<&Channels>, input: wire::PutResourcePolicyInput) -> Outcome {
    let result = match component(channels) {
        Ok(channels) => channels.put_resource_policy(&input.resource_arn, input.policy).await,
        Err(error) => Err(error),
    };
    result.map(|()| Response::PutResourcePolicy(wire::EmptyOutput)).into()
}

/// GetResourcePolicy on a channel ARN.
pub(super) fn get_policy(channels: Option<&Channels>, input: wire::GetResourcePolicyInput) -> Outcome {
    component(channels)
        .and_then(|channels| channels.get_resource_policy(&input.resource_arn))
        .map(|policy| Response::GetResourcePolicy(wire::GetResourcePolicyOutput { policy }))
        .into()
}

/// DeleteResourcePolicy on a channel ARN.
pub(super) async fn delete_policy(channels: Option<&Channels>, input: wire::DeleteResourcePolicyInput) -> Outcome {
    let result = match component(channels) {
        Ok(channels) => channels.delete_resource_policy(&input.resource_arn).await,
        Err(error) => Err(error),
    };
    result.map(|()| Response::DeleteResourcePolicy(wire::EmptyOutput)).into()
}
