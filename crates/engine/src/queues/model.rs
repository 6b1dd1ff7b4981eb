//! Requests and results of the queue operations. Inputs a client sends (ARNs, receipt
//! handles) stay text, as for streams; results carry typed values ([`QueueArn`],
//! [`StreamArn`], [`SequenceNumber`]) that the server spells once.

use std::collections::BTreeMap;

use bytes::Bytes;
use rheo_storage::SequenceNumber;

use crate::ids::{QueueArn, StreamArn};

/// Where a new queue starts reading its stream (`QueueStartingPosition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueStart {
    /// The oldest record the stream retains.
    TrimHorizon,
    /// Records written after the queue was created (AWS's default).
    #[default]
    Latest,
    /// Records that arrived at or after this time, epoch ms.
    AtTimestamp(u64),
}

/// `StartingPosition` as a client sent it: the type, and the timestamp AT_TIMESTAMP needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStartRequest {
    /// The type.
    pub kind: QueueStartKind,
    /// The timestamp, epoch ms.
    pub timestamp_ms: Option<u64>,
}

/// `QueueStartingPosition.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStartKind {
    /// TRIM_HORIZON.
    TrimHorizon,
    /// LATEST.
    Latest,
    /// AT_TIMESTAMP.
    AtTimestamp,
}

/// One `QueueStreamConfiguration` of a CreateQueue request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStreamRequest {
    /// The stream's ARN as given.
    pub stream_arn: String,
    /// Where reading starts (absent: LATEST).
    pub start: Option<QueueStartRequest>,
}

/// `DeadLetterConfiguration.TargetType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeadLetterTarget {
    /// Records received `MaxReceiveCount` times become dead-letter records.
    #[default]
    BuiltIn,
    /// No dead-letter handling: records are redelivered until acknowledged or expired.
    None,
}

/// `DeadLetterConfiguration` as a client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetterRequest {
    /// The target type.
    pub target: DeadLetterTarget,
    /// `MaxReceiveCount` (1..=1000), required with BUILT_IN.
    pub max_receive_count: Option<u32>,
}

/// `QueueAttributes` as a client sent them; absent members keep their value (or take the
/// default at creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueAttributesRequest {
    /// `VisibilityTimeoutSeconds` (0..=43200).
    pub visibility_timeout_secs: Option<u32>,
    /// `DeadLetterConfiguration`.
    pub dead_letter: Option<DeadLetterRequest>,
}

/// A queue's attributes in effect, defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueAttributes {
    /// How long a received record stays in flight, seconds.
    pub visibility_timeout_secs: u32,
    /// Dead-letter handling.
    pub dead_letter_target: DeadLetterTarget,
    /// With BUILT_IN: receives after which a record becomes a dead-letter record.
    pub max_receive_count: Option<u32>,
}

/// CreateQueue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateQueue {
    /// The queue's name (unique in the account).
    pub name: String,
    /// `StreamConfigurationList` (AWS: exactly one entry).
    pub streams: Vec<QueueStreamRequest>,
    /// `QueueAttributes`.
    pub attributes: QueueAttributesRequest,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// UpdateQueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateQueue {
    /// The queue's ARN as given.
    pub queue_arn: String,
    /// The attributes to change.
    pub attributes: QueueAttributesRequest,
}

/// Lifecycle state of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStatus {
    /// Just created; delivers nothing yet.
    Creating,
    /// Delivering.
    Active,
    /// Delivering; an attribute change is being applied.
    Updating,
    /// Being deleted; delivers nothing.
    Deleting,
}

impl QueueStatus {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Creating => "CREATING",
            QueueStatus::Active => "ACTIVE",
            QueueStatus::Updating => "UPDATING",
            QueueStatus::Deleting => "DELETING",
        }
    }
}

/// A queue's stream, as DescribeQueue and ListQueues show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStreamInfo {
    /// The stream's ARN.
    pub stream_arn: StreamArn,
    /// When the stream was created, epoch ms.
    pub stream_created_ms: u64,
    /// Where the queue started reading.
    pub start: QueueStart,
    /// `StartingPosition.Timestamp` as AWS describes it: while CREATING the configured
    /// timestamp (none for TRIM_HORIZON and LATEST), afterwards the effective start.
    pub start_timestamp_ms: Option<u64>,
}

/// `QueueDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    /// The name.
    pub name: String,
    /// The ARN.
    pub arn: QueueArn,
    /// The state.
    pub status: QueueStatus,
    /// When it was created, epoch ms.
    pub created_ms: u64,
    /// Its stream (AWS: exactly one).
    pub stream: QueueStreamInfo,
    /// Its attributes.
    pub attributes: QueueAttributes,
}

/// One `QueueStreamFilter` of ListQueues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStreamFilter {
    /// The stream's ARN as given.
    pub stream_arn: String,
    /// When given, only a stream created at this time (epoch ms) matches.
    pub stream_created_ms: Option<u64>,
}

/// ListQueues.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQueues {
    /// Page size.
    pub max_results: Option<u32>,
    /// The previous page's token.
    pub next_token: Option<String>,
    /// Only queues of these streams.
    pub stream_filter: Vec<QueueStreamFilter>,
}

/// A page of ListQueues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueList {
    /// The queues, by name.
    pub queues: Vec<QueueInfo>,
    /// The next page's token, when there is one.
    pub next_token: Option<String>,
}

/// ReceiveQueueRecords and ReceiveDeadLetterQueueRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveQueueRecords {
    /// The queue's ARN as given.
    pub queue_arn: String,
    /// At most this many records (absent: the default, 10).
    pub limit: Option<u32>,
    /// How long to wait for a visible record, ms (0: answer at once).
    pub wait_ms: u64,
    /// The records' visibility timeout (absent: the queue's).
    pub visibility_timeout_secs: Option<u32>,
}

/// A record delivered by a queue (`QueueRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// The handle of this delivery.
    pub receipt_handle: String,
    /// The record's sequence number, which is also its record id: the same in every
    /// queue of the stream and across deliveries.
    pub record_id: SequenceNumber,
    /// The partition key; absent for a record put without one on an AUTO stream (as
    /// GetRecords shows it).
    pub partition_key: Option<String>,
    /// The payload.
    pub data: Bytes,
    /// When the stream accepted it, epoch ms.
    pub arrival_ms: u64,
    /// Its first receive, epoch ms.
    pub first_receive_ms: u64,
    /// Receives since it was first delivered or last restored, this one included.
    pub receive_count: u32,
}

/// AcknowledgeQueueRecords, AcknowledgeDeadLetterQueueRecords and
/// RestoreDeadLetterQueueRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueHandles {
    /// The queue's ARN as given.
    pub queue_arn: String,
    /// The receipt handles as given.
    pub receipt_handles: Vec<String>,
}

/// One entry of Update(DeadLetter)QueueRecordsVisibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityEntry {
    /// The receipt handle as given.
    pub receipt_handle: String,
    /// The new timeout from now, seconds.
    pub visibility_timeout_secs: u32,
}

/// UpdateQueueRecordsVisibility and UpdateDeadLetterQueueRecordsVisibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateQueueVisibility {
    /// The queue's ARN as given.
    pub queue_arn: String,
    /// The entries.
    pub entries: Vec<VisibilityEntry>,
}

/// Why one entry of a batch call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueEntryError {
    /// Not a receipt handle this queue issued for these operations.
    HandleInvalid,
    /// The record was received again (or restored) since, or its visibility timeout ran
    /// out (visibility changes only): this handle no longer names the current delivery.
    HandleExpired,
    /// The queue no longer has the record: it was acknowledged, or the stream no longer
    /// retains it.
    RecordGone,
}

/// One failed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntryFailure {
    /// The receipt handle as given.
    pub receipt_handle: String,
    /// Why.
    pub error: QueueEntryError,
}

/// The outcome of a batch call, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueEntriesResult {
    /// Handles that succeeded, in request order.
    pub successful: Vec<String>,
    /// Handles that failed, in request order.
    pub failed: Vec<QueueEntryFailure>,
}
