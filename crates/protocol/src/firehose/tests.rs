//! Unit and property tests of the Firehose codec: AWS's texts come out of the model
//! tables, the decoder never panics, and what is encoded decodes back to itself.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::json;

use super::model::*;
use super::*;
use crate::shape::Pattern;

fn decode_json(operation: FirehoseOperation, body: serde_json::Value) -> Result<FirehoseRequest, DecodeError> {
    decode_request(operation, body.to_string().as_bytes())
}

fn validation(operation: FirehoseOperation, body: serde_json::Value) -> String {
    match decode_json(operation, body) {
        Err(DecodeError::Validation(message)) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

#[test]
fn targets_name_operations() {
    assert_eq!(FirehoseOperation::from_target("Firehose_20150804.PutRecord"), Some(Ok(FirehoseOperation::PutRecord)));
    assert_eq!(
        FirehoseOperation::from_target("Firehose_20150804.Nope"),
        Some(Err(UnknownFirehoseOperation("Nope".into())))
    );
    assert_eq!(FirehoseOperation::from_target("Kinesis_20131202.PutRecord"), None);
    for operation in FirehoseOperation::ALL {
        let target = format!("{TARGET_PREFIX}{}", operation.name());
        assert_eq!(FirehoseOperation::from_target(&target), Some(Ok(*operation)));
    }
}

#[test]
fn records_decode_from_base64() {
    let request = decode_json(
        FirehoseOperation::PutRecordBatch,
        json!({"DeliveryStreamName": "s", "Records": [{"Data": "aGk="}]}),
    )
    .unwrap();
    let FirehoseRequest::PutRecordBatch(input) = request else { panic!() };
    assert_eq!(input.records[0].data.as_ref(), b"hi");
    assert!(matches!(
        decode_json(FirehoseOperation::PutRecord, json!({"DeliveryStreamName": "s", "Record": {"Data": "***"}})),
        Err(DecodeError::TypeMismatch(_))
    ));
}

#[test]
fn validation_texts_come_from_the_model() {
    assert_eq!(
        validation(FirehoseOperation::DescribeDeliveryStream, json!({})),
        "1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        validation(FirehoseOperation::DescribeDeliveryStream, json!({"DeliveryStreamName": "has space"})),
        "1 validation error detected: Value 'has space' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    );
    assert_eq!(
        validation(FirehoseOperation::ListDeliveryStreams, json!({"Limit": 0})),
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        validation(
            FirehoseOperation::UpdateDestination,
            json!({"DeliveryStreamName": "s", "CurrentDeliveryStreamVersionId": "abc", "DestinationId": "d"})
        ),
        "1 validation error detected: Value 'abc' at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+"
    );
    let message = validation(
        FirehoseOperation::CreateDeliveryStream,
        json!({"DeliveryStreamName": "s", "ExtendedS3DestinationConfiguration": {
            "RoleARN": "role", "BucketARN": "arn:aws:s3:::b",
            "BufferingHints": {"SizeInMBs": 129, "IntervalInSeconds": 60},
            "CompressionFormat": "SNAPPY", "FileExtension": "gz"}}),
    );
    assert!(message.starts_with("4 validation errors detected: "), "{message}");
    assert!(message.contains("Value 'role' at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+"), "{message}");
    assert!(message.contains("Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128"), "{message}");
    assert!(message.contains("Value 'SNAPPY' at 'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]"), "{message}");
    assert!(message.contains("Value 'gz' at 'extendedS3DestinationConfiguration.fileExtension' failed to satisfy constraint: Member must satisfy regular expression pattern: ^$|\\.[0-9a-z!\\-_.*'()]+"), "{message}");
    // Sensitive members are never echoed.
    let message = validation(
        FirehoseOperation::CreateDeliveryStream,
        json!({"DeliveryStreamName": "s", "HttpEndpointDestinationConfiguration": {
            "EndpointConfiguration": {"Url": "x".repeat(1001)},
            "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::b"}}}),
    );
    assert_eq!(message, "1 validation error detected: Value '*** sensitive data ***' at 'httpEndpointDestinationConfiguration.endpointConfiguration.url' failed to satisfy constraint: Member must have length less than or equal to 1000");
    assert_eq!(
        validation(FirehoseOperation::PutRecordBatch, json!({"DeliveryStreamName": "s", "Records": []})),
        "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn type_errors_are_coral_texts() {
    assert_eq!(
        decode_json(FirehoseOperation::DescribeDeliveryStream, json!({"DeliveryStreamName": true})),
        Err(DecodeError::TypeMismatch("class java.lang.Boolean can not be converted to an String".into()))
    );
    assert_eq!(
        decode_json(FirehoseOperation::DescribeDeliveryStream, json!([])),
        Err(DecodeError::TypeMismatch("Start of list found where not expected".into()))
    );
    assert_eq!(decode_request(FirehoseOperation::DescribeDeliveryStream, b"{"), Err(DecodeError::Unparseable));
}

#[test]
fn opaque_members_keep_their_json() {
    let request = decode_json(
        FirehoseOperation::CreateDeliveryStream,
        json!({"DeliveryStreamName": "s", "SplunkDestinationConfiguration": {"HECEndpoint": "h", "Nested": [1, {"a": null}]}}),
    )
    .unwrap();
    let FirehoseRequest::CreateDeliveryStream(input) = request else { panic!() };
    let splunk = input.splunk_destination_configuration.unwrap();
    assert_eq!(splunk.as_json(), &json!({"HECEndpoint": "h", "Nested": [1, {"a": null}]}));
    assert!(matches!(
        decode_json(
            FirehoseOperation::CreateDeliveryStream,
            json!({"DeliveryStreamName": "s", "SplunkDestinationConfiguration": "x"})
        ),
        Err(DecodeError::TypeMismatch(_))
    ));
}

#[test]
fn merged_configurations_validate_at_their_path() {
    let mut config = ExtendedS3DestinationConfiguration {
        role_arn: None,
        bucket_arn: Some("arn:aws:s3:::b".into()),
        prefix: None,
        error_output_prefix: None,
        buffering_hints: None,
        compression_format: None,
        encryption_configuration: None,
        cloud_watch_logging_options: None,
        processing_configuration: None,
        s3_backup_mode: None,
        s3_backup_configuration: None,
        data_format_conversion_configuration: None,
        dynamic_partitioning_configuration: None,
        file_extension: None,
        custom_time_zone: None,
    };
    assert_eq!(
        config.validate_at("extendedS3DestinationConfiguration"),
        Err("1 validation error detected: Value null at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null".into())
    );
    config.role_arn = Some(ROLE.into());
    assert_eq!(config.validate_at("extendedS3DestinationConfiguration"), Ok(()));
}

#[test]
fn enforced_patterns_compile() {
    assert!(!model::MODEL_REGEXES.is_empty());
    for regex in model::MODEL_REGEXES {
        assert!(regex.compiled.is_some(), "{}", regex.display);
    }
    assert!(Pattern::Regex(model::MODEL_REGEXES[0]).matches(ROLE));
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e12f64..1e12).prop_map(serde_json::Value::from),
        prop_oneof![
            Just("aGk=".to_owned()),
            Just(ROLE.to_owned()),
            Just("arn:aws:s3:::bucket".to_owned()),
            Just("GZIP".to_owned()),
            "[a-zA-Z0-9_.-]{0,12}",
            "\\PC{0,8}",
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec((member_name(), inner), 0..6)
                .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("DeliveryStreamName"),
        Just("Records"),
        Just("Record"),
        Just("Data"),
        Just("Tags"),
        Just("Key"),
        Just("Value"),
        Just("Limit"),
        Just("ExtendedS3DestinationConfiguration"),
        Just("ExtendedS3DestinationUpdate"),
        Just("HttpEndpointDestinationConfiguration"),
        Just("RedshiftDestinationConfiguration"),
        Just("SplunkDestinationConfiguration"),
        Just("RoleARN"),
        Just("BucketARN"),
        Just("BufferingHints"),
        Just("SizeInMBs"),
        Just("ProcessingConfiguration"),
        Just("Processors"),
        Just("Type"),
        Just("Parameters"),
        Just("EndpointConfiguration"),
        Just("Url"),
        Just("CurrentDeliveryStreamVersionId"),
        Just("DestinationId"),
        Just("Unknown"),
    ]
    .prop_map(str::to_owned)
}

fn tag() -> impl Strategy<Value = Tag> {
    ("[a-z]{1,8}", proptest::option::of("[a-z]{0,8}")).prop_map(|(key, value)| Tag { key, value })
}

fn request() -> impl Strategy<Value = FirehoseRequest> {
    let name = "[a-zA-Z0-9_.-]{1,64}";
    prop_oneof![
        (name, prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..8)).prop_map(|(name, records)| {
            FirehoseRequest::PutRecordBatch(PutRecordBatchInput {
                delivery_stream_name: name,
                records: records.into_iter().map(|data| Record { data: data.into() }).collect(),
            })
        }),
        (name, prop::collection::vec(tag(), 1..8)).prop_map(|(name, tags)| {
            FirehoseRequest::TagDeliveryStream(TagDeliveryStreamInput { delivery_stream_name: name, tags })
        }),
        (name, proptest::option::of(1i32..=10_000), proptest::option::of("[a-z]{1,8}")).prop_map(
            |(name, limit, start)| {
                FirehoseRequest::DescribeDeliveryStream(DescribeDeliveryStreamInput {
                    delivery_stream_name: name,
                    limit,
                    exclusive_start_destination_id: start,
                })
            }
        ),
        (name, proptest::option::of((1i32..=128, 0i32..=900)), "[a-z/]{0,16}").prop_map(|(name, hints, prefix)| {
            FirehoseRequest::CreateDeliveryStream(CreateDeliveryStreamInput {
                delivery_stream_name: name,
                delivery_stream_type: Some(DeliveryStreamType::DirectPut),
                direct_put_source_configuration: None,
                kinesis_stream_source_configuration: None,
                delivery_stream_encryption_configuration_input: None,
                s3_destination_configuration: None,
                extended_s3_destination_configuration: Some(ExtendedS3DestinationConfiguration {
                    role_arn: Some(ROLE.into()),
                    bucket_arn: Some("arn:aws:s3:::bucket".into()),
                    prefix: Some(prefix),
                    error_output_prefix: None,
                    buffering_hints: hints.map(|(size, interval)| BufferingHints {
                        size_in_mbs: Some(size),
                        interval_in_seconds: Some(interval),
                    }),
                    compression_format: Some(CompressionFormat::Gzip),
                    encryption_configuration: None,
                    cloud_watch_logging_options: None,
                    processing_configuration: None,
                    s3_backup_mode: Some(S3BackupMode::Disabled),
                    s3_backup_configuration: None,
                    data_format_conversion_configuration: None,
                    dynamic_partitioning_configuration: None,
                    file_extension: Some(".gz".into()),
                    custom_time_zone: None,
                }),
                redshift_destination_configuration: None,
                elasticsearch_destination_configuration: None,
                amazonopensearchservice_destination_configuration: None,
                splunk_destination_configuration: Some(Document::new(serde_json::json!({"HECEndpoint": "h"}))),
                http_endpoint_destination_configuration: None,
                tags: None,
                amazon_open_search_serverless_destination_configuration: None,
                msk_source_configuration: None,
                snowflake_destination_configuration: None,
                iceberg_destination_configuration: None,
                database_source_configuration: None,
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoding_never_panics(body in json_value(), index in 0usize..12) {
        let operation = FirehoseOperation::ALL[index % FirehoseOperation::ALL.len()];
        let _ = decode_request(operation, body.to_string().as_bytes());
    }

    #[test]
    fn decoding_bytes_never_panics(body in prop::collection::vec(any::<u8>(), 0..64)) {
        for operation in FirehoseOperation::ALL {
            let _ = decode_request(*operation, &body);
        }
    }

    #[test]
    fn requests_round_trip(request in request()) {
        let body = encode_request(&request);
        prop_assert_eq!(decode_request(request.operation(), &body), Ok(request));
    }
}
