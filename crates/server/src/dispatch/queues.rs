//! The queue operations at the wire: wire inputs become engine requests, engine results
//! become wire outputs. Defaults the model documents but leaves to the server
//! (`WaitTimeSeconds` 9, `Limit` 10) are applied by the engine or here, once.

use std::sync::Arc;

use rheo_engine::limits::QUEUE_WAIT_SECS_DEFAULT;
use rheo_engine::{self as engine, Engine};
use rheo_protocol::model as wire;
use rheo_protocol::{Response as R, Timestamp};

use super::{count, millis, non_negative, sequence, Outcome};
use crate::errors::queue_entry_error;

fn epoch_ms(timestamp: Timestamp) -> u64 {
    u64::try_from(timestamp.epoch_millis()).unwrap_or(0)
}

fn attributes_request(attributes: Option<wire::QueueAttributes>) -> engine::QueueAttributesRequest {
    let Some(attributes) = attributes else { return engine::QueueAttributesRequest::default() };
    engine::QueueAttributesRequest {
        visibility_timeout_secs: attributes.visibility_timeout_seconds.map(non_negative),
        dead_letter: attributes.dead_letter_configuration.map(|dead_letter| engine::DeadLetterRequest {
            target: match dead_letter.target_type {
                wire::TargetType::BuiltIn => engine::DeadLetterTarget::BuiltIn,
                wire::TargetType::None => engine::DeadLetterTarget::None,
            },
            max_receive_count: dead_letter.max_receive_count.map(non_negative),
        }),
    }
}

fn status(status: engine::QueueStatus) -> wire::QueueStatus {
    match status {
        engine::QueueStatus::Creating => wire::QueueStatus::Creating,
        engine::QueueStatus::Active => wire::QueueStatus::Active,
        engine::QueueStatus::Updating => wire::QueueStatus::Updating,
        engine::QueueStatus::Deleting => wire::QueueStatus::Deleting,
    }
}

fn description(info: engine::QueueInfo) -> wire::QueueDescriptionOutput {
    let kind = match info.stream.start {
        engine::QueueStart::TrimHorizon => wire::QueueStartingPositionType::TrimHorizon,
        engine::QueueStart::Latest => wire::QueueStartingPositionType::Latest,
        engine::QueueStart::AtTimestamp(_) => wire::QueueStartingPositionType::AtTimestamp,
    };
    let timestamp = info.stream.start_timestamp_ms.map(millis);
    let attributes = info.attributes;
    wire::QueueDescriptionOutput {
        queue_description: wire::QueueDescription {
            queue_name: info.name,
            queue_arn: info.arn.into_string(),
            queue_status: status(info.status),
            queue_creation_timestamp: millis(info.created_ms),
            stream_configuration_list: vec![wire::QueueStreamConfiguration {
                stream_arn: info.stream.stream_arn.into_string(),
                starting_position: Some(wire::QueueStartingPosition { r#type: kind, timestamp }),
            }],
            queue_attributes: Some(wire::QueueAttributes {
                visibility_timeout_seconds: Some(count(attributes.visibility_timeout_secs)),
                dead_letter_configuration: Some(wire::DeadLetterConfiguration {
                    target_type: match attributes.dead_letter_target {
                        engine::DeadLetterTarget::BuiltIn => wire::TargetType::BuiltIn,
                        engine::DeadLetterTarget::None => wire::TargetType::None,
                    },
                    max_receive_count: attributes.max_receive_count.map(count),
                }),
            }),
        },
    }
}

/// CreateQueue.
pub(super) async fn create(engine: &Arc<Engine>, input: wire::CreateQueueInput) -> Outcome {
    let request = engine::CreateQueue {
        name: input.queue_name,
        streams: input
            .stream_configuration_list
            .into_iter()
            .map(|stream| engine::QueueStreamRequest {
                stream_arn: stream.stream_arn,
                start: stream.starting_position.map(|start| engine::QueueStartRequest {
                    kind: match start.r#type {
                        wire::QueueStartingPositionType::TrimHorizon => engine::QueueStartKind::TrimHorizon,
                        wire::QueueStartingPositionType::Latest => engine::QueueStartKind::Latest,
                        wire::QueueStartingPositionType::AtTimestamp => engine::QueueStartKind::AtTimestamp,
                    },
                    timestamp_ms: start.timestamp.map(epoch_ms),
                }),
            })
            .collect(),
        attributes: attributes_request(input.queue_attributes),
        tags: input.tags.unwrap_or_default().into_iter().collect(),
    };
    engine.create_queue(request).await.map(|info| R::CreateQueue(description(info))).into()
}

/// DescribeQueue.
pub(super) fn describe(engine: &Engine, input: wire::DescribeQueueInput) -> Outcome {
    engine.describe_queue(&input.queue_arn).map(|info| R::DescribeQueue(description(info))).into()
}

/// ListQueues.
pub(super) fn list(engine: &Engine, input: wire::ListQueuesInput) -> Outcome {
    let request = engine::ListQueues {
        max_results: input.max_results.map(non_negative),
        next_token: input.next_token,
        stream_filter: input
            .stream_filter
            .unwrap_or_default()
            .into_iter()
            .map(|filter| engine::QueueStreamFilter {
                stream_arn: filter.stream_arn,
                stream_created_ms: filter.stream_creation_timestamp.map(epoch_ms),
            })
            .collect(),
    };
    engine
        .list_queues(&request)
        .map(|list| {
            R::ListQueues(wire::ListQueuesOutput {
                queue_summaries: list
                    .queues
                    .into_iter()
                    .map(|info| wire::QueueSummary {
                        queue_name: info.name,
                        queue_arn: info.arn.into_string(),
                        queue_status: status(info.status),
                        queue_creation_timestamp: millis(info.created_ms),
                        streams: vec![wire::QueueStreamIdentifier {
                            stream_arn: info.stream.stream_arn.into_string(),
                            stream_creation_timestamp: millis(info.stream.stream_created_ms),
                        }],
                    })
                    .collect(),
                next_token: list.next_token,
            })
        })
        .into()
}

/// UpdateQueue.
pub(super) async fn update(engine: &Engine, input: wire::UpdateQueueInput) -> Outcome {
    let request = engine::UpdateQueue {
        queue_arn: input.queue_arn,
        attributes: attributes_request(Some(input.queue_attributes)),
    };
    engine.update_queue(request).await.map(|info| R::UpdateQueue(description(info))).into()
}

/// DeleteQueue.
pub(super) async fn delete(engine: &Engine, input: wire::DeleteQueueInput) -> Outcome {
    engine.delete_queue(&input.queue_arn).await.map(|()| R::DeleteQueue(wire::EmptyOutput)).into()
}

fn receive_request(input: wire::ReceiveQueueRecordsInput) -> engine::ReceiveQueueRecords {
    let wait_secs = input.wait_time_seconds.map_or(QUEUE_WAIT_SECS_DEFAULT, non_negative);
    engine::ReceiveQueueRecords {
        queue_arn: input.queue_arn,
        limit: input.limit.map(non_negative),
        wait_ms: u64::from(wait_secs) * 1000,
        visibility_timeout_secs: input.visibility_timeout_seconds.map(non_negative),
    }
}

fn queue_records(records: Vec<engine::QueueRecord>) -> wire::ReceiveQueueRecordsOutput {
    wire::ReceiveQueueRecordsOutput {
        queue_records: records
            .into_iter()
            .map(|record| wire::QueueRecord {
                receipt_handle: record.receipt_handle,
                record_id: sequence(record.record_id).into_string(),
                partition_key: record.partition_key,
                data: record.data,
                approximate_arrival_timestamp: millis(record.arrival_ms),
                first_receive_timestamp: millis(record.first_receive_ms),
                receive_count: count(record.receive_count),
            })
            .collect(),
    }
}

/// ReceiveQueueRecords.
pub(super) async fn receive(engine: &Arc<Engine>, input: wire::ReceiveQueueRecordsInput) -> Outcome {
    let request = receive_request(input);
    engine.receive_queue_records(&request).await.map(|records| R::ReceiveQueueRecords(queue_records(records))).into()
}

/// ReceiveDeadLetterQueueRecords.
pub(super) async fn receive_dead_letters(engine: &Arc<Engine>, input: wire::ReceiveQueueRecordsInput) -> Outcome {
    let request = receive_request(input);
    engine
        .receive_dead_letter_records(&request)
        .await
        .map(|records| R::ReceiveDeadLetterQueueRecords(queue_records(records)))
        .into()
}

/// The entries of a batch result, built by each operation's own entry types.
fn entries<S, F>(
    result: engine::QueueEntriesResult,
    success: impl Fn(String) -> S,
    failure: impl Fn(String, String, String) -> F,
) -> (Vec<S>, Vec<F>) {
    let successful = result.successful.into_iter().map(success).collect();
    let failed = result
        .failed
        .into_iter()
        .map(|failed| {
            let (code, message) = queue_entry_error(failed.error);
            failure(failed.receipt_handle, code.as_str().to_owned(), message.to_owned())
        })
        .collect();
    (successful, failed)
}

/// The engine request of a batch operation's input: bare receipt handles, or handles
/// with a new visibility timeout.
macro_rules! batch_request {
    (handles, $input:ident) => {
        engine::QueueHandles {
            queue_arn: $input.queue_arn,
            receipt_handles: $input.entries.into_iter().map(|entry| entry.receipt_handle).collect(),
        }
    };
    (visibility, $input:ident) => {
        engine::UpdateQueueVisibility {
            queue_arn: $input.queue_arn,
            entries: $input
                .entries
                .into_iter()
                .map(|entry| engine::VisibilityEntry {
                    receipt_handle: entry.receipt_handle,
                    visibility_timeout_secs: non_negative(entry.visibility_timeout_seconds),
                })
                .collect(),
        }
    };
}

/// Declares the conversion of one batch operation. The wire entry types differ per
/// operation (AWS names each after its operation); the rest does not.
macro_rules! batch {
    ($kind:ident, $name:ident, $method:ident, $input:ident, $output:ident, $result:ident, $error:ident, $response:ident) => {
        #[doc = concat!("`", stringify!($response), "`.")]
        pub(super) async fn $name(engine: &Engine, input: wire::$input) -> Outcome {
            let request = batch_request!($kind, input);
            engine
                .$method(&request)
                .await
                .map(|result| {
                    let (successful, failed) = entries(
                        result,
                        |receipt_handle| wire::$result { receipt_handle },
                        |receipt_handle, error_code, message| wire::$error {
                            receipt_handle,
                            error_code,
                            error_message: Some(message),
                        },
                    );
                    R::$response(wire::$output { successful, failed })
                })
                .into()
        }
    };
}

batch!(
    handles,
    acknowledge,
    acknowledge_queue_records,
    AcknowledgeQueueRecordsInput,
    AcknowledgeQueueRecordsOutput,
    AcknowledgeQueueRecordsResultEntry,
    AcknowledgeQueueRecordsErrorEntry,
    AcknowledgeQueueRecords
);
batch!(
    handles,
    acknowledge_dead_letters,
    acknowledge_dead_letter_records,
    AcknowledgeDeadLetterQueueRecordsInput,
    AcknowledgeDeadLetterQueueRecordsOutput,
    AcknowledgeDeadLetterQueueRecordsResultEntry,
    AcknowledgeDeadLetterQueueRecordsErrorEntry,
    AcknowledgeDeadLetterQueueRecords
);
batch!(
    handles,
    restore_dead_letters,
    restore_dead_letter_records,
    RestoreDeadLetterQueueRecordsInput,
    RestoreDeadLetterQueueRecordsOutput,
    RestoreDeadLetterQueueRecordsResultEntry,
    RestoreDeadLetterQueueRecordsErrorEntry,
    RestoreDeadLetterQueueRecords
);
batch!(
    visibility,
    update_visibility,
    update_queue_visibility,
    UpdateQueueRecordsVisibilityInput,
    UpdateQueueRecordsVisibilityOutput,
    UpdateQueueRecordsVisibilityResultEntry,
    UpdateQueueRecordsVisibilityErrorEntry,
    UpdateQueueRecordsVisibility
);
batch!(
    visibility,
    update_dead_letter_visibility,
    update_dead_letter_visibility,
    UpdateDeadLetterQueueRecordsVisibilityInput,
    UpdateDeadLetterQueueRecordsVisibilityOutput,
    UpdateDeadLetterQueueRecordsVisibilityResultEntry,
    UpdateDeadLetterQueueRecordsVisibilityErrorEntry,
    UpdateDeadLetterQueueRecordsVisibility
);
