//! Unit and property tests of the Analytics codec: every operation's request and the
//! richest responses round-trip, AWS's texts come out of the model tables, and the
//! decoder never panics.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{json, Value};

use super::model::*;
use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/analytics";
const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/source";
const APP_ARN: &str = "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app";

fn decode_json(operation: AnalyticsOperation, body: &Value) -> Result<AnalyticsRequest, DecodeError> {
    decode_request(operation, body.to_string().as_bytes())
}

fn validation(operation: AnalyticsOperation, body: Value) -> String {
    match decode_json(operation, &body) {
        Err(DecodeError::Validation(message)) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn schema() -> Value {
    json!({
        "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
        "RecordEncoding": "UTF-8",
        "RecordColumns": [{"Name": "referrer", "Mapping": "$.referrer", "SqlType": "VARCHAR(64)"}]
    })
}

fn input() -> Value {
    json!({
        "NamePrefix": "SOURCE_SQL_STREAM",
        "KinesisStreamsInput": {"ResourceARN": STREAM, "RoleARN": ROLE},
        "InputParallelism": {"Count": 2},
        "InputSchema": schema()
    })
}

fn output() -> Value {
    json!({
        "Name": "DESTINATION_SQL_STREAM",
        "KinesisFirehoseOutput": {"ResourceARN": "arn:aws:firehose:us-east-1:000000000000:deliverystream/out", "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "CSV"}
    })
}

/// One valid request body per operation, with as many members set as the shape has.
fn request_bodies() -> Vec<(AnalyticsOperation, Value)> {
    use AnalyticsOperation as Op;
    let app = |extra: Value| {
        let mut body = json!({"ApplicationName": "app", "CurrentApplicationVersionId": 7});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        body
    };
    let logging =
        json!({"LogStreamARN": "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s", "RoleARN": ROLE});
    let lambda = json!({"InputLambdaProcessor": {"ResourceARN": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleARN": ROLE}});
    let reference = json!({
        "TableName": "REF",
        "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::bucket", "FileKey": "ref.csv", "ReferenceRoleARN": ROLE},
        "ReferenceSchema": {
            "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
            "RecordColumns": [{"Name": "k", "SqlType": "INTEGER"}]
        }
    });
    vec![
        (Op::AddApplicationCloudWatchLoggingOption, app(json!({"CloudWatchLoggingOption": logging}))),
        (Op::AddApplicationInput, app(json!({"Input": input()}))),
        (
            Op::AddApplicationInputProcessingConfiguration,
            app(json!({"InputId": "1.1", "InputProcessingConfiguration": lambda})),
        ),
        (Op::AddApplicationOutput, app(json!({"Output": output()}))),
        (Op::AddApplicationReferenceDataSource, app(json!({"ReferenceDataSource": reference}))),
        (
            Op::CreateApplication,
            json!({
                "ApplicationName": "app", "ApplicationDescription": "counts referrers",
                "Inputs": [input()], "Outputs": [output()], "CloudWatchLoggingOptions": [logging],
                "ApplicationCode": "CREATE STREAM \"S\" (a INTEGER);",
                "Tags": [{"Key": "team", "Value": "web"}, {"Key": "empty"}]
            }),
        ),
        (Op::DeleteApplication, json!({"ApplicationName": "app", "CreateTimestamp": 1_700_000_000.5})),
        (Op::DeleteApplicationCloudWatchLoggingOption, app(json!({"CloudWatchLoggingOptionId": "2.1"}))),
        (Op::DeleteApplicationInputProcessingConfiguration, app(json!({"InputId": "1.1"}))),
        (Op::DeleteApplicationOutput, app(json!({"OutputId": "1.1"}))),
        (Op::DeleteApplicationReferenceDataSource, app(json!({"ReferenceId": "3.1"}))),
        (Op::DescribeApplication, json!({"ApplicationName": "app"})),
        (
            Op::DiscoverInputSchema,
            json!({
                "ResourceARN": STREAM, "RoleARN": ROLE,
                "InputStartingPositionConfiguration": {"InputStartingPosition": "TRIM_HORIZON"},
                "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::bucket", "FileKey": "sample.json"},
                "InputProcessingConfiguration": lambda
            }),
        ),
        (Op::ListApplications, json!({"Limit": 50, "ExclusiveStartApplicationName": "a"})),
        (Op::ListTagsForResource, json!({"ResourceARN": APP_ARN})),
        (
            Op::StartApplication,
            json!({"ApplicationName": "app", "InputConfigurations": [
                {"Id": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": "LAST_STOPPED_POINT"}}]}),
        ),
        (Op::StopApplication, json!({"ApplicationName": "app"})),
        (Op::TagResource, json!({"ResourceARN": APP_ARN, "Tags": [{"Key": "k", "Value": "v"}]})),
        (Op::UntagResource, json!({"ResourceARN": APP_ARN, "TagKeys": ["k"]})),
        (
            Op::UpdateApplication,
            app(json!({"ApplicationUpdate": {
                "InputUpdates": [{
                    "InputId": "1.1", "NamePrefixUpdate": "IN",
                    "KinesisStreamsInputUpdate": {"ResourceARNUpdate": STREAM, "RoleARNUpdate": ROLE},
                    "InputSchemaUpdate": {"RecordFormatUpdate": {"RecordFormatType": "CSV"}, "RecordEncodingUpdate": "UTF-8",
                        "RecordColumnUpdates": [{"Name": "a", "SqlType": "BIGINT"}]},
                    "InputParallelismUpdate": {"CountUpdate": 3}
                }],
                "ApplicationCodeUpdate": "",
                "OutputUpdates": [{"OutputId": "1.1", "NameUpdate": "OUT", "DestinationSchemaUpdate": {"RecordFormatType": "JSON"}}],
                "ReferenceDataSourceUpdates": [{"ReferenceId": "3.1", "TableNameUpdate": "T"}],
                "CloudWatchLoggingOptionUpdates": [{"CloudWatchLoggingOptionId": "2.1", "RoleARNUpdate": ROLE}]
            }})),
        ),
    ]
}

#[test]
fn targets_name_operations() {
    assert_eq!(AnalyticsOperation::ALL.len(), 20);
    assert_eq!(
        AnalyticsOperation::from_target("KinesisAnalytics_20150814.CreateApplication"),
        Some(Ok(AnalyticsOperation::CreateApplication))
    );
    assert_eq!(
        AnalyticsOperation::from_target("KinesisAnalytics_20150814.CreateApplicationV2"),
        Some(Err(UnknownAnalyticsOperation("CreateApplicationV2".into())))
    );
    // Kinesis Analytics V2 has its own prefix, which is not this service's.
    assert_eq!(AnalyticsOperation::from_target("KinesisAnalytics_20180523.CreateApplication"), None);
    for operation in AnalyticsOperation::ALL {
        let target = format!("{TARGET_PREFIX}{}", operation.name());
        assert_eq!(AnalyticsOperation::from_target(&target), Some(Ok(*operation)));
    }
}

#[test]
fn every_operation_round_trips_its_request() {
    let bodies = request_bodies();
    let covered: Vec<_> = bodies.iter().map(|(operation, _)| *operation).collect();
    assert_eq!(covered, AnalyticsOperation::ALL);
    for (operation, body) in bodies {
        let request = decode_json(operation, &body).unwrap_or_else(|error| panic!("{operation:?}: {error}"));
        assert_eq!(request.operation(), operation);
        let encoded = encode_request(&request);
        let reencoded: Value = serde_json::from_slice(&encoded).unwrap();
        assert_eq!(reencoded, body, "{operation:?} re-encodes every member it decoded");
        assert_eq!(decode_request(operation, &encoded), Ok(request));
    }
}

#[test]
fn described_applications_round_trip() {
    let detail = json!({"ApplicationDetail": {
        "ApplicationName": "app", "ApplicationDescription": "d", "ApplicationARN": APP_ARN,
        "ApplicationStatus": "RUNNING", "CreateTimestamp": 1_700_000_000.25, "LastUpdateTimestamp": 1_700_000_100.5,
        "InputDescriptions": [{
            "InputId": "1.1", "NamePrefix": "SOURCE_SQL_STREAM", "InAppStreamNames": ["SOURCE_SQL_STREAM_001"],
            "KinesisStreamsInputDescription": {"ResourceARN": STREAM, "RoleARN": ROLE},
            "InputSchema": schema(), "InputParallelism": {"Count": 1},
            "InputStartingPositionConfiguration": {"InputStartingPosition": "NOW"}
        }],
        "OutputDescriptions": [{"OutputId": "1.1", "Name": "DESTINATION_SQL_STREAM",
            "KinesisStreamsOutputDescription": {"ResourceARN": STREAM, "RoleARN": ROLE},
            "DestinationSchema": {"RecordFormatType": "JSON"}}],
        "CloudWatchLoggingOptionDescriptions": [{"CloudWatchLoggingOptionId": "1.1", "LogStreamARN": "arn:aws:logs:x", "RoleARN": ROLE}],
        "ApplicationCode": "", "ApplicationVersionId": 3
    }});
    let response = decode_response(AnalyticsOperation::DescribeApplication, detail.to_string().as_bytes()).unwrap();
    let AnalyticsResponse::DescribeApplication(described) = &response else { panic!() };
    assert_eq!(described.application_detail.application_status, ApplicationStatus::Running);
    assert_eq!(described.application_detail.application_version_id, 3);
    let encoded: Value = serde_json::from_slice(&encode_response(&response)).unwrap();
    assert_eq!(encoded, detail);

    let listed = json!({"ApplicationSummaries": [{"ApplicationName": "app", "ApplicationARN": APP_ARN, "ApplicationStatus": "READY"}], "HasMoreApplications": false});
    let response = decode_response(AnalyticsOperation::ListApplications, listed.to_string().as_bytes()).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&encode_response(&response)).unwrap(), listed);
}

#[test]
fn empty_responses_are_empty_objects() {
    let response = AnalyticsResponse::StartApplication(StartApplicationResponse {});
    assert_eq!(encode_response(&response), b"{}");
}

#[test]
fn validation_texts_come_from_the_model() {
    use AnalyticsOperation as Op;
    assert_eq!(
        validation(Op::DescribeApplication, json!({})),
        "1 validation error detected: Value null at 'applicationName' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        validation(Op::DescribeApplication, json!({"ApplicationName": "has space"})),
        "1 validation error detected: Value 'has space' at 'applicationName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    );
    assert_eq!(
        validation(Op::ListApplications, json!({"Limit": 51})),
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"
    );
    assert_eq!(
        validation(Op::StopApplication, json!({"ApplicationName": "a".repeat(129)})),
        format!("1 validation error detected: Value '{}' at 'applicationName' failed to satisfy constraint: Member must have length less than or equal to 128", "a".repeat(129))
    );
    assert_eq!(
        validation(Op::DeleteApplicationOutput, json!({"ApplicationName": "a", "CurrentApplicationVersionId": 0, "OutputId": "1.1"})),
        "1 validation error detected: Value '0' at 'currentApplicationVersionId' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        validation(Op::ListTagsForResource, json!({"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s"})),
        "1 validation error detected: Value 'arn:aws:kinesis:us-east-1:000000000000:stream/s' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws:kinesisanalytics:[a-z]{2}-[a-z]+-\\d{1}+:\\d{12}+:application/[a-zA-Z0-9_.-]{1,128}"
    );
    let mut bad_input = input();
    bad_input["InputParallelism"]["Count"] = json!(65);
    bad_input["InputSchema"]["RecordEncoding"] = json!("UTF-16");
    bad_input["InputSchema"]["RecordFormat"]["RecordFormatType"] = json!("XML");
    bad_input["KinesisStreamsInput"]["RoleARN"] = json!("role");
    bad_input["NamePrefix"] = json!("");
    let message =
        validation(Op::CreateApplication, json!({"ApplicationName": "app", "Inputs": [bad_input], "Tags": []}));
    assert!(message.starts_with("6 validation errors detected: "), "{message}");
    for part in [
        "Value '65' at 'inputs.1.member.inputParallelism.count' failed to satisfy constraint: Member must have value less than or equal to 64",
        "Value 'UTF-16' at 'inputs.1.member.inputSchema.recordEncoding' failed to satisfy constraint: Member must satisfy regular expression pattern: UTF-8",
        "Value 'XML' at 'inputs.1.member.inputSchema.recordFormat.recordFormatType' failed to satisfy constraint: Member must satisfy enum value set: [JSON, CSV]",
        "Value 'role' at 'inputs.1.member.kinesisStreamsInput.roleARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        "Value '' at 'inputs.1.member.namePrefix' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ] {
        assert!(message.contains(part), "{part}\n in {message}");
    }
}

#[test]
fn type_errors_are_coral_texts() {
    assert_eq!(
        decode_json(AnalyticsOperation::DescribeApplication, &json!({"ApplicationName": 5})),
        Err(DecodeError::TypeMismatch(
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String".into()
        ))
    );
    assert!(matches!(
        decode_json(
            AnalyticsOperation::DeleteApplication,
            &json!({"ApplicationName": "a", "CreateTimestamp": "yesterday"})
        ),
        Err(DecodeError::TypeMismatch(_))
    ));
    assert_eq!(decode_request(AnalyticsOperation::ListApplications, b"{"), Err(DecodeError::Unparseable));
}

#[test]
fn enforced_patterns_compile() {
    assert_eq!(model::MODEL_REGEXES.len(), 4);
    for regex in model::MODEL_REGEXES {
        assert!(regex.compiled.is_some(), "{}", regex.display);
    }
    let app_arn = model::MODEL_REGEXES.iter().find(|regex| regex.display.contains("kinesisanalytics")).unwrap();
    assert!(crate::shape::Pattern::Regex(app_arn).matches(APP_ARN));
    assert!(!crate::shape::Pattern::Regex(app_arn)
        .matches("arn:aws:kinesisanalytics:us-east-12:000000000000:application/a"));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        prop_oneof![
            Just(ROLE.to_owned()),
            Just(STREAM.to_owned()),
            Just(APP_ARN.to_owned()),
            Just("JSON".to_owned()),
            Just("UTF-8".to_owned()),
            "[a-zA-Z0-9_.-]{0,12}",
            "\\PC{0,8}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((member_name(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ApplicationName"),
        Just("CurrentApplicationVersionId"),
        Just("CreateTimestamp"),
        Just("Inputs"),
        Just("Outputs"),
        Just("Input"),
        Just("Output"),
        Just("NamePrefix"),
        Just("KinesisStreamsInput"),
        Just("ResourceARN"),
        Just("RoleARN"),
        Just("InputSchema"),
        Just("RecordFormat"),
        Just("RecordFormatType"),
        Just("RecordColumns"),
        Just("Name"),
        Just("SqlType"),
        Just("InputParallelism"),
        Just("Count"),
        Just("Tags"),
        Just("Key"),
        Just("ApplicationUpdate"),
        Just("InputConfigurations"),
        Just("Limit"),
        Just("Unknown"),
    ]
    .prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoding_never_panics(body in json_value(), index in 0usize..20) {
        let operation = AnalyticsOperation::ALL[index % AnalyticsOperation::ALL.len()];
        let _ = decode_request(operation, body.to_string().as_bytes());
    }

    #[test]
    fn decoding_bytes_never_panics(body in prop::collection::vec(any::<u8>(), 0..64)) {
        for operation in AnalyticsOperation::ALL {
            let _ = decode_request(*operation, &body);
        }
    }

    #[test]
    fn names_and_versions_round_trip(name in "[a-zA-Z0-9_.-]{1,128}", version in 1i64..=999_999_999, output in "[A-Z_]{1,32}") {
        let request = AnalyticsRequest::DeleteApplicationOutput(DeleteApplicationOutputRequest {
            application_name: name,
            current_application_version_id: version,
            output_id: output,
        });
        let body = encode_request(&request);
        prop_assert_eq!(decode_request(request.operation(), &body), Ok(request));
    }
}
