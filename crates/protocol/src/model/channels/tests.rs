//! The channel shapes through the codec: valid bodies decode to typed values, constraint
//! violations produce AWS's `N validation error(s) detected` texts, and outputs survive
//! JSON and CBOR.

use super::*;
use crate::model::testing::{decode_json, round_trip, validation_message};
use crate::shape::Pattern;

const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
const CHANNEL: &str = "arn:aws:kinesis:us-east-1:123456789012:channel/c";
const ROLE: &str = "arn:aws:iam::123456789012:role/channel-writer";
const BUCKET: &str = "arn:aws:s3:::my-bucket";

#[test]
fn channel_patterns_compile_and_match_whole_values() {
    for regex in CHANNEL_REGEXES {
        assert!(regex.compiled.is_some(), "{}", regex.display);
    }
    let cases: [(&ModelRegex, &str, bool); 14] = [
        (&CHANNEL_ARN_PATTERN, CHANNEL, true),
        (&CHANNEL_ARN_PATTERN, STREAM, false),
        (&ROLE_ARN_PATTERN, ROLE, true),
        (&ROLE_ARN_PATTERN, "arn:aws:iam::12345678901:role/r", false),
        (&GSR_SCHEMA_ARN_PATTERN, "arn:aws:glue:us-east-1:123456789012:schema/registry/schema$1", true),
        (&BUCKET_ARN_PATTERN, BUCKET, true),
        (&BUCKET_ARN_PATTERN, "arn:aws:s3:::ab", false),
        (&ACCOUNT_ID_PATTERN, "123456789012", true),
        (&S3_ERROR_OUTPUT_PREFIX_PATTERN, "errors/(x)!'*", true),
        (&S3_OUTPUT_KEY_TEMPLATE_PATTERN, "data/{stream}/year=2025:x", true),
        (&TABLE_BUCKET_ARN_PATTERN, "arn:aws:s3tables:us-east-1:123456789012:bucket/tables_1", true),
        (&S3_TABLES_NAME_PATTERN, "Upper", false),
        (&PARTITION_SOURCE_NAME_PATTERN, "event.time_1", true),
        (&LOG_STREAM_NAME_PATTERN, "a:b", false),
    ];
    for (regex, text, expected) in cases {
        assert_eq!(Pattern::Regex(regex).matches(text), expected, "{} on {text}", regex.display);
    }
    assert!(Pattern::Regex(&LOG_GROUP_NAME_PATTERN).matches("/aws/kinesis/#1"));
    assert!(Pattern::Regex(&LOG_STREAM_NAME_PATTERN).matches(""));
}

fn create_body(destination: &str) -> String {
    format!(
        r#"{{"ChannelName":"c","ServiceExecutionRoleARN":"{ROLE}","StreamConfigurationList":[{{"StreamARN":"{STREAM}","RecordConfiguration":{{"RecordFormatType":"JSON"}}}}],{destination},"EncryptionConfiguration":{{"EncryptionType":"KMS","KeyId":"alias/k"}},"Tags":{{"team":"a"}},"LoggingConfiguration":{{"CloudWatchLogs":{{"Enabled":true,"LogGroupName":"/g","LogStreamName":"s"}}}}}}"#
    )
}

#[test]
fn create_channel_decodes_every_member() {
    let s3 = format!(
        r#""S3DestinationConfiguration":{{"DataFreshnessInSeconds":60,"DeadLetterQueueS3Configuration":{{"BucketARN":"{BUCKET}","ExpectedBucketOwner":"123456789012","ErrorOutputPrefix":"errors/"}},"StorageConfiguration":{{"BucketARN":"{BUCKET}","ExpectedBucketOwner":"123456789012","OutputKeyTemplate":"out/","StorageClass":"GLACIER_IR","CompressionType":"ZSTD"}}}}"#
    );
    let input: CreateChannelInput = decode_json(&create_body(&s3)).unwrap();
    assert_eq!((input.channel_name.as_str(), input.service_execution_role_arn.as_str()), ("c", ROLE));
    assert_eq!(input.stream_configuration_list[0].record_configuration.record_format_type, RecordFormatType::Json);
    let destination = input.s3_destination_configuration.unwrap();
    assert_eq!(destination.data_freshness_in_seconds, Some(60));
    assert_eq!(destination.dead_letter_queue_s3_configuration.unwrap().error_output_prefix.as_deref(), Some("errors/"));
    let storage = destination.storage_configuration;
    assert_eq!(
        (storage.storage_class, storage.compression_type),
        (Some(S3StorageClass::GlacierIr), S3CompressionType::Zstd)
    );
    assert_eq!(input.encryption_configuration.unwrap().encryption_type, ChannelEncryptionType::Kms);
    assert!(input.logging_configuration.unwrap().cloud_watch_logs.enabled);

    let tables = format!(
        r#""S3TablesDestinationConfiguration":{{"DeadLetterQueueS3Configuration":{{"BucketARN":"{BUCKET}","ExpectedBucketOwner":"123456789012"}},"S3TablesConfigurationList":[{{"TableBucketARN":"arn:aws:s3tables:us-east-1:123456789012:bucket/tables","Namespace":"ns","TableName":"t_1","CompressionType":"SNAPPY","PartitionSpec":{{"PartitionFields":[{{"Transform":"TIME_HOUR","SourceName":"ts"}}]}}}}]}}"#
    );
    let input: CreateChannelInput = decode_json(&create_body(&tables)).unwrap();
    let table = &input.s3_tables_destination_configuration.unwrap().s3_tables_configuration_list[0];
    assert_eq!(table.compression_type, S3TablesCompressionType::Snappy);
    assert_eq!(table.partition_spec.as_ref().unwrap().partition_fields[0].transform, PartitionTransform::TimeHour);
}

#[test]
fn create_channel_constraint_violations_use_aws_texts() {
    let s3 = r#""S3DestinationConfiguration":{"StorageConfiguration":{"BucketARN":"arn:aws:s3:::b","ExpectedBucketOwner":"123","CompressionType":"LZ4"}}"#;
    let body = create_body(s3).replace(ROLE, "arn:aws:iam::123456789012:user/u").replace("\"JSON\"", "\"AVRO\"");
    assert_eq!(
        validation_message::<CreateChannelInput>(&body),
        "6 validation errors detected: \
         Value 'arn:aws:iam::123456789012:user/u' at 'serviceExecutionRoleARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws[-a-z0-9]*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+; \
         Value 'AVRO' at 'streamConfigurationList.1.member.recordConfiguration.recordFormatType' failed to satisfy constraint: Member must satisfy enum value set: [GSR_JSON, JSON, STRING, BYTE_ARRAY]; \
         Value 'arn:aws:s3:::b' at 's3DestinationConfiguration.storageConfiguration.bucketARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws[-a-z0-9]*:s3:::[a-z0-9._-]{3,63}; \
         Value '123' at 's3DestinationConfiguration.storageConfiguration.expectedBucketOwner' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}; \
         Value '123' at 's3DestinationConfiguration.storageConfiguration.expectedBucketOwner' failed to satisfy constraint: Member must have length greater than or equal to 12; \
         Value 'LZ4' at 's3DestinationConfiguration.storageConfiguration.compressionType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, GZIP, ZSTD]"
    );
    let tables = r#""S3TablesDestinationConfiguration":{"S3TablesConfigurationList":[{"TableBucketARN":"arn:aws:s3tables:us-east-1:123456789012:bucket/tables","Namespace":"NS","TableName":"t","CompressionType":"GZIP","PartitionSpec":{"PartitionFields":[]}}]}"#;
    assert_eq!(
        validation_message::<CreateChannelInput>(&create_body(tables)),
        "4 validation errors detected: \
         Value null at 's3TablesDestinationConfiguration.deadLetterQueueS3Configuration' failed to satisfy constraint: Member must not be null; \
         Value 'NS' at 's3TablesDestinationConfiguration.s3TablesConfigurationList.1.member.namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-z_]+; \
         Value 'GZIP' at 's3TablesDestinationConfiguration.s3TablesConfigurationList.1.member.compressionType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, ZSTD, SNAPPY]; \
         Value '[]' at 's3TablesDestinationConfiguration.s3TablesConfigurationList.1.member.partitionSpec.partitionFields' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        validation_message::<CreateChannelInput>("{}"),
        "3 validation errors detected: \
         Value null at 'channelName' failed to satisfy constraint: Member must not be null; \
         Value null at 'serviceExecutionRoleARN' failed to satisfy constraint: Member must not be null; \
         Value null at 'streamConfigurationList' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn channel_arn_inputs_and_updates_are_validated() {
    let input: UpdateChannelInput = decode_json(&format!(
        r#"{{"ChannelARN":"{CHANNEL}","S3DestinationConfiguration":{{"DataFreshnessInSeconds":-5}},"S3TablesDestinationConfiguration":{{"DataFreshnessInSeconds":900}},"LoggingConfiguration":{{"CloudWatchLogs":{{"Enabled":false}}}}}}"#
    ))
    .unwrap();
    // `DataFreshnessInSeconds` has no range in the model; the engine bounds it.
    assert_eq!(input.s3_destination_configuration.map(|update| update.data_freshness_in_seconds), Some(-5));
    assert_eq!(input.s3_tables_destination_configuration.map(|update| update.data_freshness_in_seconds), Some(900));
    assert_eq!(
        validation_message::<UpdateChannelInput>(
            r#"{"ChannelARN":"arn:aws:kinesis:us-east-1:123456789012:queue/q","S3DestinationConfiguration":{},"LoggingConfiguration":{"CloudWatchLogs":{"Enabled":true,"LogStreamName":"a*b"}}}"#
        ),
        "3 validation errors detected: \
         Value 'arn:aws:kinesis:us-east-1:123456789012:queue/q' at 'channelARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:channel/\\S+; \
         Value null at 's3DestinationConfiguration.dataFreshnessInSeconds' failed to satisfy constraint: Member must not be null; \
         Value 'a*b' at 'loggingConfiguration.cloudWatchLogs.logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
    );
    let missing =
        "1 validation error detected: Value null at 'channelARN' failed to satisfy constraint: Member must not be null";
    assert_eq!(validation_message::<DescribeChannelInput>("{}"), missing);
    assert_eq!(validation_message::<DeleteChannelInput>("{}"), missing);
    assert_eq!(validation_message::<UpdateChannelInput>("{}"), missing);
    let input: ListChannelsInput =
        decode_json(&format!(r#"{{"StreamFilter":[{{"StreamARN":"{STREAM}"}}],"MaxResults":1}}"#)).unwrap();
    assert_eq!(input.stream_filter.map(|filters| filters.len()), Some(1));
    assert_eq!(
        validation_message::<ListChannelsInput>(r#"{"StreamFilter":[{}],"MaxResults":10001}"#),
        "2 validation errors detected: \
         Value null at 'streamFilter.1.member.streamARN' failed to satisfy constraint: Member must not be null; \
         Value '10001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000"
    );
}

fn description() -> ChannelDescription {
    let dead_letter = DeadLetterQueueS3Configuration {
        bucket_arn: BUCKET.into(),
        expected_bucket_owner: "123456789012".into(),
        error_output_prefix: None,
    };
    ChannelDescription {
        channel_name: "c".into(),
        channel_arn: CHANNEL.into(),
        channel_id: "0123abcd".into(),
        channel_status: ChannelStatus::Failed,
        channel_status_reason: Some("bucket missing".into()),
        channel_creation_timestamp: Timestamp::from_epoch_millis(1_700_000_000_000),
        service_execution_role_arn: ROLE.into(),
        stream_configuration_list: vec![ChannelStreamDescription {
            stream_arn: STREAM.into(),
            stream_creation_timestamp: Timestamp::from_epoch_millis(1_600_000_000_250),
            record_configuration: RecordConfiguration {
                record_format_type: RecordFormatType::ByteArray,
                gsr_schema_arn: None,
            },
        }],
        s3_destination_configuration: Some(S3DestinationDescription {
            data_freshness_in_seconds: 300,
            dead_letter_queue_s3_configuration: dead_letter.clone(),
            storage_configuration: S3StorageConfiguration {
                bucket_arn: BUCKET.into(),
                expected_bucket_owner: "123456789012".into(),
                output_key_template: None,
                storage_class: None,
                compression_type: S3CompressionType::Gzip,
            },
        }),
        s3_tables_destination_configuration: None,
        encryption_configuration: None,
        logging_configuration: ChannelLoggingConfiguration {
            cloud_watch_logs: CloudWatchLogs { enabled: false, log_group_name: None, log_stream_name: None },
        },
    }
}

#[test]
fn channel_outputs_round_trip_in_both_formats() {
    let json = round_trip(&CreateChannelOutput { channel_description: description() }, true);
    assert_eq!(
        json,
        format!(
            r#"{{"ChannelDescription":{{"ChannelName":"c","ChannelARN":"{CHANNEL}","ChannelId":"0123abcd","ChannelStatus":"FAILED","ChannelStatusReason":"bucket missing","ChannelCreationTimestamp":1700000000,"ServiceExecutionRoleARN":"{ROLE}","StreamConfigurationList":[{{"StreamARN":"{STREAM}","StreamCreationTimestamp":1600000000.25,"RecordConfiguration":{{"RecordFormatType":"BYTE_ARRAY"}}}}],"S3DestinationConfiguration":{{"DataFreshnessInSeconds":300,"DeadLetterQueueS3Configuration":{{"BucketARN":"{BUCKET}","ExpectedBucketOwner":"123456789012"}},"StorageConfiguration":{{"BucketARN":"{BUCKET}","ExpectedBucketOwner":"123456789012","CompressionType":"GZIP"}}}},"LoggingConfiguration":{{"CloudWatchLogs":{{"Enabled":false}}}}}}}}"#
        )
    );
    round_trip(
        &ListChannelsOutput {
            channel_summaries: vec![ChannelSummary {
                channel_name: "c".into(),
                channel_arn: CHANNEL.into(),
                channel_id: "0123abcd".into(),
                channel_status: ChannelStatus::Active,
                channel_status_reason: None,
                channel_creation_timestamp: Timestamp::from_epoch_millis(5),
                channel_destination_type: ChannelDestinationType::S3Tables,
                streams: vec![ChannelStreamIdentifier {
                    stream_arn: STREAM.into(),
                    stream_creation_timestamp: Timestamp::from_epoch_millis(6),
                }],
            }],
            next_token: None,
        },
        true,
    );
}
