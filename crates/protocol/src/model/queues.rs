//! Queues on streams: the wire shapes of `CreateQueue`, `DescribeQueue`, `ListQueues`,
//! `UpdateQueue`, `DeleteQueue`, `ReceiveQueueRecords`, `AcknowledgeQueueRecords` and
//! `UpdateQueueRecordsVisibility`, and of the four operations on a queue's dead-letter
//! side: `ReceiveDeadLetterQueueRecords`, `AcknowledgeDeadLetterQueueRecords`,
//! `UpdateDeadLetterQueueRecordsVisibility` and `RestoreDeadLetterQueueRecords`.
//!
//! Transcribed from botocore 1.44.8 (`kinesis/2013-12-02/service-2.json`) with members in
//! model order: no AWS recording of these operations' validation messages exists yet.
//! Structures that can appear inside a list keep their model names, because AWS prints a
//! list of structures as `com.amazonaws.kinesis.v20131202.<Name>@<hash>`; top-level
//! shapes the model repeats member for member are one Rust type, and the model's other
//! names are aliases of it.

use bytes::Bytes;

use super::TagMap;
use crate::shape::scalars::*;
use crate::shape::{enumeration, integer, java_regex, length, list_of, string, ModelRegex, Pattern, Shape, UNBOUNDED};
use crate::types::Timestamp;
use crate::wire::{wire_enum, wire_struct, WireStruct};

/// `QueueARN`, printed as the model writes it (like `StreamARN`).
static QUEUE_ARN_PATTERN: ModelRegex = ModelRegex::new("arn:aws.*:kinesis:.*:\\d{12}:queue/\\S+", || {
    java_regex("arn:aws{DOT}*:kinesis:{DOT}*:[0-9]{12}:queue/{NONSPACE}+")
});
/// `RecordId`: the only anchored pattern among the new shapes. It is an output member, so
/// no request is ever validated against it; it is printed as the model writes it.
static RECORD_ID_PATTERN: ModelRegex = ModelRegex::new("^[a-z0-9]+$", || java_regex("[a-z0-9]+"));

/// Every pattern of this module, so one test checks that each compiles.
#[cfg(test)]
pub(crate) static QUEUE_REGEXES: &[&ModelRegex] = &[&QUEUE_ARN_PATTERN, &RECORD_ID_PATTERN];

const QUEUE_NAME: Shape = string(1, 128, Some(Pattern::NameCharacters));
const QUEUE_ARN: Shape = string(1, 2048, Some(Pattern::Regex(&QUEUE_ARN_PATTERN)));
const RECEIPT_HANDLE: Shape = string(1, 1024, None);
const RECORD_ID: Shape = string(1, 64, Some(Pattern::Regex(&RECORD_ID_PATTERN)));
const VISIBILITY_TIMEOUT_SECONDS: Shape = integer(Some(0), Some(43_200));
const MAX_RECEIVE_COUNT: Shape = integer(Some(1), Some(1000));
const RECEIVE_QUEUE_RECORDS_INPUT_LIMIT: Shape = integer(Some(1), Some(10));
const RECEIVE_QUEUE_RECORDS_WAIT_TIME_SECONDS: Shape = integer(Some(1), Some(20));
/// `ReceiptHandle` entries of one batch call: 1 to 10, like the records one receive returns.
const RECEIPT_BATCH: crate::shape::LengthRange = length(1, 10);
/// `QueueStreamConfigurationList`, `QueueStreamFilterList`, `QueueStreamIdentifierList`.
const STREAMS_OF_A_QUEUE: crate::shape::LengthRange = length(1, 10_000);

wire_enum! {
    /// Lifecycle state of a queue.
    pub enum QueueStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        Updating = "UPDATING",
        Deleting = "DELETING",
    }
}

wire_enum! {
    /// Where a queue starts reading a stream.
    pub enum QueueStartingPositionType {
        TrimHorizon = "TRIM_HORIZON",
        Latest = "LATEST",
        AtTimestamp = "AT_TIMESTAMP",
    }
}

wire_enum! {
    /// Where records go after `MaxReceiveCount` receives.
    pub enum TargetType {
        BuiltIn = "BUILT_IN",
        None = "NONE",
    }
}

const QUEUE_STATUS: Shape = enumeration(QueueStatus::MESSAGE_ORDER);
const QUEUE_STARTING_POSITION_TYPE: Shape = enumeration(QueueStartingPositionType::MESSAGE_ORDER);
const TARGET_TYPE: Shape = enumeration(TargetType::MESSAGE_ORDER);

structure_shapes! {
    QUEUE_STARTING_POSITION / QUEUE_STARTING_POSITION_LIST (UNBOUNDED) = QueueStartingPosition;
    QUEUE_STREAM_CONFIGURATION / QUEUE_STREAM_CONFIGURATION_LIST (STREAMS_OF_A_QUEUE) = QueueStreamConfiguration;
    DEAD_LETTER_CONFIGURATION / DEAD_LETTER_CONFIGURATION_LIST (UNBOUNDED) = DeadLetterConfiguration;
    QUEUE_ATTRIBUTES / QUEUE_ATTRIBUTES_LIST (UNBOUNDED) = QueueAttributes;
    QUEUE_DESCRIPTION / QUEUE_DESCRIPTION_LIST (UNBOUNDED) = QueueDescription;
    QUEUE_STREAM_FILTER / QUEUE_STREAM_FILTER_LIST (STREAMS_OF_A_QUEUE) = QueueStreamFilter;
    QUEUE_STREAM_IDENTIFIER / QUEUE_STREAM_IDENTIFIER_LIST (STREAMS_OF_A_QUEUE) = QueueStreamIdentifier;
    QUEUE_SUMMARY / QUEUE_SUMMARY_LIST (UNBOUNDED) = QueueSummary;
    QUEUE_RECORD / QUEUE_RECORD_LIST (UNBOUNDED) = QueueRecord;
}

// ---------------------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// Where a queue starts reading one of its streams.
    pub struct QueueStartingPosition {
        r#type: QueueStartingPositionType => "Type", req, QUEUE_STARTING_POSITION_TYPE;
        timestamp: Option<Timestamp> => "Timestamp", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// A stream a queue reads, and where it starts.
    pub struct QueueStreamConfiguration {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        starting_position: Option<QueueStartingPosition> => "StartingPosition", opt, QUEUE_STARTING_POSITION;
    }
}

wire_struct! {
    /// What happens to a record received `MaxReceiveCount` times without acknowledgement.
    pub struct DeadLetterConfiguration {
        target_type: TargetType => "TargetType", req, TARGET_TYPE;
        max_receive_count: Option<i32> => "MaxReceiveCount", opt, MAX_RECEIVE_COUNT;
    }
}

wire_struct! {
    /// The settings of a queue.
    pub struct QueueAttributes {
        visibility_timeout_seconds: Option<i32> => "VisibilityTimeoutSeconds", opt, VISIBILITY_TIMEOUT_SECONDS;
        dead_letter_configuration: Option<DeadLetterConfiguration> => "DeadLetterConfiguration", opt, DEAD_LETTER_CONFIGURATION;
    }
}

wire_struct! {
    /// A queue with its streams and settings.
    pub struct QueueDescription {
        queue_name: String => "QueueName", req, QUEUE_NAME;
        queue_arn: String => "QueueARN", req, QUEUE_ARN;
        queue_status: QueueStatus => "QueueStatus", req, QUEUE_STATUS;
        queue_creation_timestamp: Timestamp => "QueueCreationTimestamp", req, TIMESTAMP;
        stream_configuration_list: Vec<QueueStreamConfiguration> => "StreamConfigurationList", req, QUEUE_STREAM_CONFIGURATION_LIST;
        queue_attributes: Option<QueueAttributes> => "QueueAttributes", opt, QUEUE_ATTRIBUTES;
    }
}

wire_struct! {
    /// A stream whose queues `ListQueues` returns.
    pub struct QueueStreamFilter {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_creation_timestamp: Option<Timestamp> => "StreamCreationTimestamp", opt, TIMESTAMP;
    }
}

wire_struct! {
    /// A stream a queue reads, as `ListQueues` names it.
    pub struct QueueStreamIdentifier {
        stream_arn: String => "StreamARN", req, STREAM_ARN;
        stream_creation_timestamp: Timestamp => "StreamCreationTimestamp", req, TIMESTAMP;
    }
}

wire_struct! {
    /// One queue in a `ListQueues` answer.
    pub struct QueueSummary {
        queue_name: String => "QueueName", req, QUEUE_NAME;
        queue_arn: String => "QueueARN", req, QUEUE_ARN;
        queue_status: QueueStatus => "QueueStatus", req, QUEUE_STATUS;
        queue_creation_timestamp: Timestamp => "QueueCreationTimestamp", req, TIMESTAMP;
        streams: Vec<QueueStreamIdentifier> => "Streams", req, QUEUE_STREAM_IDENTIFIER_LIST;
    }
}

wire_struct! {
    /// A record received from a queue or its dead-letter side, with the receipt handle that acknowledges it.
    pub struct QueueRecord {
        receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
        record_id: String => "RecordId", req, RECORD_ID;
        partition_key: Option<String> => "PartitionKey", opt, PARTITION_KEY;
        data: Bytes => "Data", req, DATA;
        approximate_arrival_timestamp: Timestamp => "ApproximateArrivalTimestamp", req, TIMESTAMP;
        first_receive_timestamp: Timestamp => "FirstReceiveTimestamp", req, TIMESTAMP;
        receive_count: i32 => "ReceiveCount", req, NATURAL_INTEGER;
    }
}

// ---------------------------------------------------------------------------------------
// Queue operations
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// Input of `CreateQueue`.
    pub struct CreateQueueInput {
        queue_name: String => "QueueName", req, QUEUE_NAME;
        stream_configuration_list: Vec<QueueStreamConfiguration> => "StreamConfigurationList", req, QUEUE_STREAM_CONFIGURATION_LIST;
        queue_attributes: Option<QueueAttributes> => "QueueAttributes", opt, QUEUE_ATTRIBUTES;
        tags: Option<TagMap> => "Tags", opt, TAG_MAP;
    }
}

wire_struct! {
    /// Input of `DescribeQueue`.
    pub struct DescribeQueueInput {
        queue_arn: String => "QueueARN", req, QUEUE_ARN;
    }
}

wire_struct! {
    /// Input of `ListQueues`.
    pub struct ListQueuesInput {
        max_results: Option<i32> => "MaxResults", opt, LIMIT_10000;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
        stream_filter: Option<Vec<QueueStreamFilter>> => "StreamFilter", opt, QUEUE_STREAM_FILTER_LIST;
    }
}

wire_struct! {
    /// Input of `UpdateQueue`.
    pub struct UpdateQueueInput {
        queue_arn: String => "QueueARN", req, QUEUE_ARN;
        queue_attributes: QueueAttributes => "QueueAttributes", req, QUEUE_ATTRIBUTES;
    }
}

wire_struct! {
    /// Input of `DeleteQueue`.
    pub struct DeleteQueueInput {
        queue_arn: String => "QueueARN", req, QUEUE_ARN;
    }
}

wire_struct! {
    /// Output of `CreateQueue`, `DescribeQueue` and `UpdateQueue`.
    pub struct QueueDescriptionOutput {
        queue_description: QueueDescription => "QueueDescription", req, QUEUE_DESCRIPTION;
    }
}

/// Output of `CreateQueue`.
pub type CreateQueueOutput = QueueDescriptionOutput;
/// Output of `DescribeQueue`.
pub type DescribeQueueOutput = QueueDescriptionOutput;
/// Output of `UpdateQueue`.
pub type UpdateQueueOutput = QueueDescriptionOutput;

wire_struct! {
    /// Output of `ListQueues`.
    pub struct ListQueuesOutput {
        queue_summaries: Vec<QueueSummary> => "QueueSummaries", req, QUEUE_SUMMARY_LIST;
        next_token: Option<String> => "NextToken", opt, NEXT_TOKEN;
    }
}

// ---------------------------------------------------------------------------------------
// Receiving records, from the queue or from its dead-letter side
// ---------------------------------------------------------------------------------------

wire_struct! {
    /// Input of `ReceiveQueueRecords` and `ReceiveDeadLetterQueueRecords`.
    pub struct ReceiveQueueRecordsInput {
        queue_arn: String => "QueueARN", req, QUEUE_ARN;
        limit: Option<i32> => "Limit", opt, RECEIVE_QUEUE_RECORDS_INPUT_LIMIT;
        wait_time_seconds: Option<i32> => "WaitTimeSeconds", opt, RECEIVE_QUEUE_RECORDS_WAIT_TIME_SECONDS;
        visibility_timeout_seconds: Option<i32> => "VisibilityTimeoutSeconds", opt, VISIBILITY_TIMEOUT_SECONDS;
    }
}

/// Input of `ReceiveDeadLetterQueueRecords`.
pub type ReceiveDeadLetterQueueRecordsInput = ReceiveQueueRecordsInput;

wire_struct! {
    /// Output of `ReceiveQueueRecords` and `ReceiveDeadLetterQueueRecords`.
    pub struct ReceiveQueueRecordsOutput {
        queue_records: Vec<QueueRecord> => "QueueRecords", req, QUEUE_RECORD_LIST;
    }
}

/// Output of `ReceiveDeadLetterQueueRecords`.
pub type ReceiveDeadLetterQueueRecordsOutput = ReceiveQueueRecordsOutput;

// ---------------------------------------------------------------------------------------
// Batch operations on receipt handles
// ---------------------------------------------------------------------------------------

/// Declares one batch operation on receipt handles: its input (`QueueARN` and 1 to 10
/// `Entries`), the request entry with the members given, and its output (`Successful`
/// receipt handles and `Failed` ones with an error code). The five batch operations share
/// this layout member for member, but the model names every entry shape after its
/// operation, and AWS prints those names, so each gets its own types.
macro_rules! receipt_batch {
    (
        $operation:literal:
        $input:ident { $entry:ident / $entry_list:ident { $($entry_members:tt)* } }
        => $output:ident { $result:ident / $result_list:ident, $error:ident / $error_list:ident $(,)? }
    ) => {
        wire_struct! {
            #[doc = concat!("One receipt handle of a `", $operation, "` request.")]
            pub struct $entry { $($entry_members)* }
        }

        wire_struct! {
            #[doc = concat!("A receipt handle `", $operation, "` applied to.")]
            pub struct $result {
                receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
            }
        }

        wire_struct! {
            #[doc = concat!("A receipt handle `", $operation, "` failed for, and why.")]
            pub struct $error {
                receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
                error_code: String => "ErrorCode", req, PLAIN_STRING;
                error_message: Option<String> => "ErrorMessage", opt, PLAIN_STRING;
            }
        }

        const $entry_list: Shape = list_of(&Shape::Structure(<$entry as WireStruct>::SHAPE), RECEIPT_BATCH);
        const $result_list: Shape = list_of(&Shape::Structure(<$result as WireStruct>::SHAPE), UNBOUNDED);
        const $error_list: Shape = list_of(&Shape::Structure(<$error as WireStruct>::SHAPE), UNBOUNDED);

        wire_struct! {
            #[doc = concat!("Input of `", $operation, "`.")]
            pub struct $input {
                queue_arn: String => "QueueARN", req, QUEUE_ARN;
                entries: Vec<$entry> => "Entries", req, $entry_list;
            }
        }

        wire_struct! {
            #[doc = concat!("Output of `", $operation, "`.")]
            pub struct $output {
                successful: Vec<$result> => "Successful", req, $result_list;
                failed: Vec<$error> => "Failed", req, $error_list;
            }
        }
    };
}

receipt_batch! {
    "AcknowledgeQueueRecords":
    AcknowledgeQueueRecordsInput {
        AcknowledgeQueueRecordsRequestEntry / ACKNOWLEDGE_QUEUE_RECORDS_REQUEST_ENTRY_LIST {
            receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
        }
    } => AcknowledgeQueueRecordsOutput {
        AcknowledgeQueueRecordsResultEntry / ACKNOWLEDGE_QUEUE_RECORDS_RESULT_ENTRY_LIST,
        AcknowledgeQueueRecordsErrorEntry / ACKNOWLEDGE_QUEUE_RECORDS_ERROR_ENTRY_LIST,
    }
}

receipt_batch! {
    "UpdateQueueRecordsVisibility":
    UpdateQueueRecordsVisibilityInput {
        UpdateQueueRecordsVisibilityRequestEntry / UPDATE_QUEUE_RECORDS_VISIBILITY_REQUEST_ENTRY_LIST {
            receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
            visibility_timeout_seconds: i32 => "VisibilityTimeoutSeconds", req, VISIBILITY_TIMEOUT_SECONDS;
        }
    } => UpdateQueueRecordsVisibilityOutput {
        UpdateQueueRecordsVisibilityResultEntry / UPDATE_QUEUE_RECORDS_VISIBILITY_RESULT_ENTRY_LIST,
        UpdateQueueRecordsVisibilityErrorEntry / UPDATE_QUEUE_RECORDS_VISIBILITY_ERROR_ENTRY_LIST,
    }
}

receipt_batch! {
    "AcknowledgeDeadLetterQueueRecords":
    AcknowledgeDeadLetterQueueRecordsInput {
        AcknowledgeDeadLetterQueueRecordsRequestEntry / ACKNOWLEDGE_DEAD_LETTER_QUEUE_RECORDS_REQUEST_ENTRY_LIST {
            receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
        }
    } => AcknowledgeDeadLetterQueueRecordsOutput {
        AcknowledgeDeadLetterQueueRecordsResultEntry / ACKNOWLEDGE_DEAD_LETTER_QUEUE_RECORDS_RESULT_ENTRY_LIST,
        AcknowledgeDeadLetterQueueRecordsErrorEntry / ACKNOWLEDGE_DEAD_LETTER_QUEUE_RECORDS_ERROR_ENTRY_LIST,
    }
}

receipt_batch! {
    "UpdateDeadLetterQueueRecordsVisibility":
    UpdateDeadLetterQueueRecordsVisibilityInput {
        UpdateDeadLetterQueueRecordsVisibilityRequestEntry / UPDATE_DEAD_LETTER_QUEUE_RECORDS_VISIBILITY_REQUEST_ENTRY_LIST {
            receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
            visibility_timeout_seconds: i32 => "VisibilityTimeoutSeconds", req, VISIBILITY_TIMEOUT_SECONDS;
        }
    } => UpdateDeadLetterQueueRecordsVisibilityOutput {
        UpdateDeadLetterQueueRecordsVisibilityResultEntry / UPDATE_DEAD_LETTER_QUEUE_RECORDS_VISIBILITY_RESULT_ENTRY_LIST,
        UpdateDeadLetterQueueRecordsVisibilityErrorEntry / UPDATE_DEAD_LETTER_QUEUE_RECORDS_VISIBILITY_ERROR_ENTRY_LIST,
    }
}

receipt_batch! {
    "RestoreDeadLetterQueueRecords":
    RestoreDeadLetterQueueRecordsInput {
        RestoreDeadLetterQueueRecordsRequestEntry / RESTORE_DEAD_LETTER_QUEUE_RECORDS_REQUEST_ENTRY_LIST {
            receipt_handle: String => "ReceiptHandle", req, RECEIPT_HANDLE;
        }
    } => RestoreDeadLetterQueueRecordsOutput {
        RestoreDeadLetterQueueRecordsResultEntry / RESTORE_DEAD_LETTER_QUEUE_RECORDS_RESULT_ENTRY_LIST,
        RestoreDeadLetterQueueRecordsErrorEntry / RESTORE_DEAD_LETTER_QUEUE_RECORDS_ERROR_ENTRY_LIST,
    }
}

#[cfg(test)]
mod tests;
