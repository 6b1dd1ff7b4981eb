//! The queue shapes through the codec: valid bodies decode to typed values, constraint
//! violations produce AWS's `N validation error(s) detected` texts, and outputs survive
//! JSON and CBOR.

use bytes::Bytes;

use super::*;
use crate::model::testing::{decode_json, round_trip, validation_message};
use crate::shape::Pattern;

const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
const QUEUE: &str = "arn:aws:kinesis:us-east-1:123456789012:queue/s/q";

#[test]
fn queue_patterns_compile_and_match_whole_values() {
    for regex in QUEUE_REGEXES {
        assert!(regex.compiled.is_some(), "{}", regex.display);
    }
    assert!(Pattern::Regex(&QUEUE_ARN_PATTERN).matches(QUEUE));
    assert!(!Pattern::Regex(&QUEUE_ARN_PATTERN).matches(STREAM));
    assert!(!Pattern::Regex(&QUEUE_ARN_PATTERN).matches(&format!("{QUEUE} x")));
    assert!(Pattern::Regex(&RECORD_ID_PATTERN).matches("0a9z"));
    assert!(!Pattern::Regex(&RECORD_ID_PATTERN).matches("A"));
}

#[test]
fn create_queue_decodes_every_member() {
    let body = format!(
        r#"{{"QueueName":"q.1","StreamConfigurationList":[{{"StreamARN":"{STREAM}","StartingPosition":{{"Type":"AT_TIMESTAMP","Timestamp":1700000000.5}}}},{{"StreamARN":"{STREAM}"}}],"QueueAttributes":{{"VisibilityTimeoutSeconds":43200,"DeadLetterConfiguration":{{"TargetType":"BUILT_IN","MaxReceiveCount":1000}}}},"Tags":{{"k":""}}}}"#
    );
    let input: CreateQueueInput = decode_json(&body).unwrap();
    assert_eq!(input.queue_name, "q.1");
    assert_eq!(input.stream_configuration_list.len(), 2);
    let position = input.stream_configuration_list[0].starting_position.clone().unwrap();
    assert_eq!(position.r#type, QueueStartingPositionType::AtTimestamp);
    assert_eq!(position.timestamp, Some(Timestamp::from_epoch_millis(1_700_000_000_500)));
    assert_eq!(input.stream_configuration_list[1].starting_position, None);
    let attributes = input.queue_attributes.unwrap();
    assert_eq!(attributes.visibility_timeout_seconds, Some(43_200));
    let dead_letter = attributes.dead_letter_configuration.unwrap();
    assert_eq!((dead_letter.target_type, dead_letter.max_receive_count), (TargetType::BuiltIn, Some(1000)));
    assert_eq!(input.tags.unwrap().get("k").map(String::as_str), Some(""));
}

#[test]
fn create_queue_constraint_violations_use_aws_texts() {
    let body = format!(
        r#"{{"QueueName":"a b","StreamConfigurationList":[{{"StreamARN":"{QUEUE}","StartingPosition":{{"Type":"EARLIEST"}}}}],"QueueAttributes":{{"VisibilityTimeoutSeconds":43201,"DeadLetterConfiguration":{{"MaxReceiveCount":0}}}}}}"#
    );
    assert_eq!(
        validation_message::<CreateQueueInput>(&body),
        format!(
            "6 validation errors detected: \
             Value 'a b' at 'queueName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
             Value '{QUEUE}' at 'streamConfigurationList.1.member.streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{{12}}:stream/\\S+; \
             Value 'EARLIEST' at 'streamConfigurationList.1.member.startingPosition.type' failed to satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]; \
             Value '43201' at 'queueAttributes.visibilityTimeoutSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200; \
             Value null at 'queueAttributes.deadLetterConfiguration.targetType' failed to satisfy constraint: Member must not be null; \
             Value '0' at 'queueAttributes.deadLetterConfiguration.maxReceiveCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
    assert_eq!(
        validation_message::<CreateQueueInput>(r#"{"QueueName":"q","StreamConfigurationList":[],"QueueAttributes":{"DeadLetterConfiguration":{"TargetType":"NONE","MaxReceiveCount":0}}}"#),
        "2 validation errors detected: \
         Value '[]' at 'streamConfigurationList' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value '0' at 'queueAttributes.deadLetterConfiguration.maxReceiveCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        validation_message::<CreateQueueInput>("{}"),
        "2 validation errors detected: \
         Value null at 'queueName' failed to satisfy constraint: Member must not be null; \
         Value null at 'streamConfigurationList' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn queue_arn_members_are_validated() {
    for_each_queue_arn_input(
        &format!(
            r#"{{"QueueARN":"{STREAM}","Entries":[{{"ReceiptHandle":"h","VisibilityTimeoutSeconds":1}}],"QueueAttributes":{{}}}}"#
        ),
        |message| {
            assert_eq!(
                message,
                format!(
                    "1 validation error detected: Value '{STREAM}' at 'queueARN' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{{12}}:queue/\\S+"
                )
            );
        },
    );
    for_each_queue_arn_input(
        r#"{"Entries":[{"ReceiptHandle":"h","VisibilityTimeoutSeconds":1}],"QueueAttributes":{}}"#,
        |message| {
            assert_eq!(
            message,
            "1 validation error detected: Value null at 'queueARN' failed to satisfy constraint: Member must not be null"
        );
        },
    );
}

/// Runs `check` on the validation message of every input with a required `QueueARN`.
fn for_each_queue_arn_input(body: &str, check: impl Fn(String)) {
    check(validation_message::<DescribeQueueInput>(body));
    check(validation_message::<DeleteQueueInput>(body));
    check(validation_message::<UpdateQueueInput>(body));
    check(validation_message::<ReceiveQueueRecordsInput>(body));
    check(validation_message::<AcknowledgeQueueRecordsInput>(body));
    check(validation_message::<UpdateQueueRecordsVisibilityInput>(body));
    check(validation_message::<AcknowledgeDeadLetterQueueRecordsInput>(body));
    check(validation_message::<UpdateDeadLetterQueueRecordsVisibilityInput>(body));
    check(validation_message::<RestoreDeadLetterQueueRecordsInput>(body));
}

#[test]
fn receive_bounds_use_aws_texts() {
    let input: ReceiveDeadLetterQueueRecordsInput = decode_json(&format!(
        r#"{{"QueueARN":"{QUEUE}","Limit":10,"WaitTimeSeconds":20,"VisibilityTimeoutSeconds":0}}"#
    ))
    .unwrap();
    assert_eq!((input.limit, input.wait_time_seconds, input.visibility_timeout_seconds), (Some(10), Some(20), Some(0)));
    assert_eq!(
        validation_message::<ReceiveQueueRecordsInput>(&format!(
            r#"{{"QueueARN":"{QUEUE}","Limit":11,"WaitTimeSeconds":0,"VisibilityTimeoutSeconds":-1}}"#
        )),
        "3 validation errors detected: \
         Value '11' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10; \
         Value '0' at 'waitTimeSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1; \
         Value '-1' at 'visibilityTimeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 0"
    );
}

#[test]
fn batch_entries_are_bounded_and_named_after_their_operation() {
    let input: UpdateQueueRecordsVisibilityInput = decode_json(&format!(
        r#"{{"QueueARN":"{QUEUE}","Entries":[{{"ReceiptHandle":"h","VisibilityTimeoutSeconds":30}}]}}"#
    ))
    .unwrap();
    assert_eq!(input.entries[0].receipt_handle, "h");
    assert_eq!(input.entries[0].visibility_timeout_seconds, 30);

    // Java's toString() of each entry: the model's class name and `1 + "h".hashCode()`.
    let eleven = [r#"{"ReceiptHandle":"h"}"#; 11].join(",");
    let body = format!(r#"{{"QueueARN":"{QUEUE}","Entries":[{eleven}]}}"#);
    for (message, name) in [
        (validation_message::<AcknowledgeQueueRecordsInput>(&body), "AcknowledgeQueueRecordsRequestEntry"),
        (
            validation_message::<AcknowledgeDeadLetterQueueRecordsInput>(&body),
            "AcknowledgeDeadLetterQueueRecordsRequestEntry",
        ),
        (validation_message::<RestoreDeadLetterQueueRecordsInput>(&body), "RestoreDeadLetterQueueRecordsRequestEntry"),
    ] {
        let entries = vec![format!("com.amazonaws.kinesis.v20131202.{name}@69"); 11].join(", ");
        assert_eq!(
            message,
            format!(
                "1 validation error detected: Value '[{entries}]' at 'entries' failed to satisfy constraint: \
                 Member must have length less than or equal to 10"
            )
        );
    }
    assert_eq!(
        validation_message::<UpdateDeadLetterQueueRecordsVisibilityInput>(&format!(
            r#"{{"QueueARN":"{QUEUE}","Entries":[{{"ReceiptHandle":"","VisibilityTimeoutSeconds":43201}},{{}}]}}"#
        )),
        "4 validation errors detected: \
         Value '' at 'entries.1.member.receiptHandle' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value '43201' at 'entries.1.member.visibilityTimeoutSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200; \
         Value null at 'entries.2.member.receiptHandle' failed to satisfy constraint: Member must not be null; \
         Value null at 'entries.2.member.visibilityTimeoutSeconds' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        validation_message::<AcknowledgeQueueRecordsInput>(&format!(r#"{{"QueueARN":"{QUEUE}","Entries":[]}}"#)),
        "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: \
         Member must have length greater than or equal to 1"
    );
}

#[test]
fn list_queues_filters_and_pages() {
    let input: ListQueuesInput = decode_json(&format!(
        r#"{{"MaxResults":10000,"NextToken":"t","StreamFilter":[{{"StreamARN":"{STREAM}","StreamCreationTimestamp":1}}]}}"#
    ))
    .unwrap();
    assert_eq!(input.max_results, Some(10_000));
    assert_eq!(input.stream_filter.unwrap()[0].stream_creation_timestamp, Some(Timestamp::from_epoch_millis(1000)));
    assert_eq!(
        validation_message::<ListQueuesInput>(r#"{"MaxResults":0,"NextToken":"","StreamFilter":[]}"#),
        "3 validation errors detected: \
         Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; \
         Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value '[]' at 'streamFilter' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

fn description() -> QueueDescription {
    QueueDescription {
        queue_name: "q".into(),
        queue_arn: QUEUE.into(),
        queue_status: QueueStatus::Active,
        queue_creation_timestamp: Timestamp::from_epoch_millis(1_700_000_000_123),
        stream_configuration_list: vec![QueueStreamConfiguration {
            stream_arn: STREAM.into(),
            starting_position: Some(QueueStartingPosition {
                r#type: QueueStartingPositionType::TrimHorizon,
                timestamp: None,
            }),
        }],
        queue_attributes: Some(QueueAttributes {
            visibility_timeout_seconds: Some(30),
            dead_letter_configuration: Some(DeadLetterConfiguration {
                target_type: TargetType::BuiltIn,
                max_receive_count: Some(5),
            }),
        }),
    }
}

#[test]
fn queue_outputs_round_trip_in_both_formats() {
    let json = round_trip(&DescribeQueueOutput { queue_description: description() }, true);
    assert_eq!(
        json,
        format!(
            r#"{{"QueueDescription":{{"QueueName":"q","QueueARN":"{QUEUE}","QueueStatus":"ACTIVE","QueueCreationTimestamp":1700000000.123,"StreamConfigurationList":[{{"StreamARN":"{STREAM}","StartingPosition":{{"Type":"TRIM_HORIZON"}}}}],"QueueAttributes":{{"VisibilityTimeoutSeconds":30,"DeadLetterConfiguration":{{"TargetType":"BUILT_IN","MaxReceiveCount":5}}}}}}}}"#
        )
    );
    round_trip(
        &ListQueuesOutput {
            queue_summaries: vec![QueueSummary {
                queue_name: "q".into(),
                queue_arn: QUEUE.into(),
                queue_status: QueueStatus::Creating,
                queue_creation_timestamp: Timestamp::from_epoch_millis(1),
                streams: vec![QueueStreamIdentifier {
                    stream_arn: STREAM.into(),
                    stream_creation_timestamp: Timestamp::from_epoch_millis(2),
                }],
            }],
            next_token: Some("t".into()),
        },
        true,
    );
}

#[test]
fn received_records_and_batch_results_round_trip_in_both_formats() {
    let received = ReceiveQueueRecordsOutput {
        queue_records: vec![QueueRecord {
            receipt_handle: "h".into(),
            record_id: "r1".into(),
            partition_key: None,
            data: Bytes::from_static(b"hi"),
            approximate_arrival_timestamp: Timestamp::from_epoch_millis(1_500),
            first_receive_timestamp: Timestamp::from_epoch_millis(2_000),
            receive_count: 1,
        }],
    };
    assert_eq!(
        round_trip(&received, true),
        r#"{"QueueRecords":[{"ReceiptHandle":"h","RecordId":"r1","Data":"aGk=","ApproximateArrivalTimestamp":1.5,"FirstReceiveTimestamp":2,"ReceiveCount":1}]}"#
    );
    let acknowledged = AcknowledgeQueueRecordsOutput {
        successful: vec![AcknowledgeQueueRecordsResultEntry { receipt_handle: "a".into() }],
        failed: vec![AcknowledgeQueueRecordsErrorEntry {
            receipt_handle: "b".into(),
            error_code: "ReceiptHandleIsInvalid".into(),
            error_message: None,
        }],
    };
    assert_eq!(
        round_trip(&acknowledged, true),
        r#"{"Successful":[{"ReceiptHandle":"a"}],"Failed":[{"ReceiptHandle":"b","ErrorCode":"ReceiptHandleIsInvalid"}]}"#
    );
    round_trip(&RestoreDeadLetterQueueRecordsOutput { successful: Vec::new(), failed: Vec::new() }, true);
    round_trip(
        &UpdateDeadLetterQueueRecordsVisibilityOutput {
            successful: Vec::new(),
            failed: vec![UpdateDeadLetterQueueRecordsVisibilityErrorEntry {
                receipt_handle: "c".into(),
                error_code: "E".into(),
                error_message: Some("m".into()),
            }],
        },
        true,
    );
}
