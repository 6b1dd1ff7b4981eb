//! The one place engine errors become AWS error responses: the AWS error type of every
//! [`EngineError`] variant and AWS's message text for each, written once from the facts
//! the engine reports (stream, shard, account, times, limits, the client's own text).

use rheo_engine::limits::ITERATOR_LIFETIME_MS;
use rheo_engine::{
    EngineError, InvalidArgument, LimitExceeded, QueueEntryError, QueueError, RecordViolation, ResourceInUse,
    ResourceNotFound, Validation,
};
use rheo_keys::KeyError;
use rheo_protocol::{ErrorType, WireError};
use rheo_storage::StorageError;

mod access;
mod analytics;
mod auth;
mod channels;
mod dynamodb;
pub use access::{access_denied, dynamodb_access_denied};
pub use analytics::analytics_wire_error;
pub use auth::auth_wire_error;
pub use channels::channel_wire_error;
pub use dynamodb::{dynamodb_decode_error, dynamodb_front_door_error, dynamodb_wire_error};

/// The AWS error response for an engine error. The match is exhaustive over
/// [`EngineError`], so a new variant does not compile until it is mapped here.
pub fn wire_error(error: &EngineError) -> WireError {
    let error_type = match error {
        EngineError::StreamNotFound { .. }
        | EngineError::ShardNotFound { .. }
        | EngineError::ShardUnknown { .. }
        | EngineError::ConsumerNotFound { .. }
        | EngineError::ResourceNotFound(_) => ErrorType::ResourceNotFound,
        EngineError::StreamExists { .. } | EngineError::StreamNotActive { .. } | EngineError::ResourceInUse(_) => {
            ErrorType::ResourceInUse
        }
        EngineError::InvalidShardIterator | EngineError::InvalidArgument(_) | EngineError::Unsupported { .. } => {
            ErrorType::InvalidArgument
        }
        EngineError::ExpiredIterator { .. } => ErrorType::ExpiredIterator,
        EngineError::ExpiredNextToken => ErrorType::ExpiredNextToken,
        EngineError::ShardLimit { .. } | EngineError::LimitExceeded(_) => ErrorType::LimitExceeded,
        EngineError::ThroughputExceeded { .. } => ErrorType::ProvisionedThroughputExceeded,
        EngineError::Validation(_) => ErrorType::Validation,
        EngineError::Queue(rule) => queue_error_type(rule),
        // The one server fault with a message: the reader must learn which range is lost.
        EngineError::DamagedRecords { .. } => ErrorType::InternalFailure,
        // AWS sends unmodelled server faults without a message; the detail goes to the log.
        EngineError::Internal(_) => return ErrorType::InternalFailure.without_message(),
        EngineError::Key(key) if key.is_not_found() => ErrorType::KmsNotFound,
        // A damaged or unreadable key store is the server's fault; the detail goes to the log.
        EngineError::Key(_) => return ErrorType::InternalFailure.without_message(),
        EngineError::Storage(storage) => {
            return match storage {
                StorageError::Closed => ErrorType::ServiceUnavailable.without_message(),
                // The reader (or producer) must learn that the archive is why, and that
                // retrying later succeeds: these carry the storage error's text.
                StorageError::ArchiveUnavailable { .. } | StorageError::ArchiveBacklogFull { .. } => {
                    ErrorType::InternalFailure.with_message(storage.to_string())
                }
                _ => ErrorType::InternalFailure.without_message(),
            };
        }
    };
    error_type.with_message(aws_message(error))
}

/// AWS's message for an engine error, byte for byte as AWS sends it.
fn aws_message(error: &EngineError) -> String {
    match error {
        EngineError::StreamNotFound { stream, account } => format!("Stream {stream} under account {account} not found."),
        EngineError::StreamExists { stream, account } => {
            format!("Stream {stream} under account {account} already exists.")
        }
        EngineError::StreamNotActive { stream, account, status } => {
            format!("Stream {stream} under account {account} not ACTIVE, instead in state {status}")
        }
        EngineError::ShardNotFound { shard, stream, account } => {
            format!("Shard {shard} in stream {stream} under account {account} does not exist")
        }
        EngineError::ShardUnknown { shard, stream, account } => {
            format!("Could not find shard {shard} in stream {stream} under account {account}.")
        }
        EngineError::InvalidShardIterator => "Invalid ShardIterator.".to_owned(),
        EngineError::ExpiredIterator { issued_ms, now_ms } => format!(
            "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_LIFETIME_MS} milliseconds.",
            java_utc_date(*issued_ms),
            java_utc_date(*now_ms),
        ),
        EngineError::ExpiredNextToken => {
            "The timestamp of the NextToken has expired. Please request a new NextToken.".to_owned()
        }
        EngineError::ShardLimit { account, region, current, limit, additional } => format!(
            "This request would exceed the shard limit for the account {account} in {region}. Current shard count for the account: {current}. Limit: {limit}. Number of additional shards that would have resulted from this request: {additional}. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."
        ),
        EngineError::ThroughputExceeded { shard, stream, account } => {
            format!("Rate exceeded for shard {shard} in stream {stream} under account {account}.")
        }
        EngineError::ConsumerNotFound { consumer, stream, account } => {
            format!("Consumer {consumer} under stream {stream} under account {account} not found.")
        }
        EngineError::Unsupported { operation } => format!("{operation} is not supported by this server yet."),
        EngineError::DamagedRecords { shard, stream, account, first, last } => format!(
            "Records from sequence number {first} to {last} of shard {shard} in stream {stream} under account \
             {account} are damaged on disk and cannot be read until an operator cuts them (rheo serve \
             --recover-truncate). Records after them can be read with an AFTER_SEQUENCE_NUMBER iterator at {last}."
        ),
        EngineError::ResourceNotFound(rule) => resource_not_found_message(rule),
        EngineError::ResourceInUse(rule) => resource_in_use_message(rule),
        EngineError::LimitExceeded(rule) => limit_exceeded_message(rule),
        EngineError::Validation(rule) => validation_message(rule),
        EngineError::InvalidArgument(rule) => invalid_argument_message(rule),
        EngineError::Queue(rule) => queue_message(rule),
        EngineError::Internal(detail) => detail.clone(),
        EngineError::Storage(storage) => storage.to_string(),
        EngineError::Key(key) => kms_message(key),
    }
}

/// KMS's texts, which Kinesis passes on in `KMSNotFoundException`, for a `KeyId` that
/// names no key (an ARN of another region or account names none of this server's).
pub fn kms_message(error: &KeyError) -> String {
    match error {
        KeyError::KeyNotFound { arn } => format!("Key '{arn}' does not exist"),
        KeyError::AliasNotFound { arn } => format!("Alias {arn} is not found."),
        KeyError::InvalidKeyId { given } => format!("Invalid keyId '{given}'"),
        other => other.to_string(),
    }
}

/// AWS's `InvalidArgumentException` texts.
fn invalid_argument_message(rule: &InvalidArgument) -> String {
    match rule {
        InvalidArgument::StreamRefMissing => "Either StreamName or StreamARN must be provided.".to_owned(),
        InvalidArgument::StreamArnNameMismatch { arn, name } => {
            format!("StreamARN {arn} and StreamName {name} do not refer to the same stream.")
        }
        InvalidArgument::ConsumerRefMissing => {
            "Either ConsumerARN or both StreamARN and ConsumerName must be provided.".to_owned()
        }
        InvalidArgument::ConsumerArnStreamMismatch { consumer_arn, stream_arn } => {
            format!("ConsumerARN {consumer_arn} does not belong to stream {stream_arn}.")
        }
        InvalidArgument::ConsumerArnNameMismatch { consumer_arn, consumer_name } => {
            format!("ConsumerARN {consumer_arn} does not match ConsumerName {consumer_name}.")
        }
        InvalidArgument::NextToken => "Invalid NextToken.".to_owned(),
        InvalidArgument::ListShardsStreamMissing => "Either NextToken or StreamName should be provided.".to_owned(),
        InvalidArgument::ListShardsTokenWithStream => "NextToken and StreamName cannot be provided together.".to_owned(),
        InvalidArgument::ListShardsTokenWithStart => {
            "NextToken cannot be provided together with ExclusiveStartShardId or StreamCreationTimestamp.".to_owned()
        }
        InvalidArgument::ShardFilterShardIdMissing => {
            "ShardId must be specified for ShardFilter type AFTER_SHARD_ID.".to_owned()
        }
        InvalidArgument::ShardFilterTimestampMissing { filter } => {
            format!("Timestamp must be specified for ShardFilter type {}.", filter.as_str())
        }
        InvalidArgument::ShardCountMissing => "ShardCount must be specified for streams in PROVISIONED mode.".to_owned(),
        InvalidArgument::RetentionTooShort { hours, min } => format!(
            "Minimum allowed retention period is {min} hours. Requested retention period ({hours} hours) is too short."
        ),
        InvalidArgument::RetentionTooLong { hours, max } => format!(
            "Maximum allowed retention period is {max} hours. Requested retention period ({hours} hours) is too long."
        ),
        InvalidArgument::RetentionIncreaseBelowCurrent { stream, hours, current } => format!(
            "Requested retention period ({hours} hours) for stream {stream} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
        ),
        InvalidArgument::RetentionDecreaseAboveCurrent { stream, hours, current } => format!(
            "Requested retention period ({hours} hours) for stream {stream} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
        ),
        InvalidArgument::TagCharacters => "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.".to_owned(),
        InvalidArgument::TagPercent { resource, account } => format!(
            "Failed to add tags to stream {resource} under account {account} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'."
        ),
        InvalidArgument::TagRemovePercent { stream, account } => format!(
            "Failed to remove tags from stream {stream} under account {account} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
        ),
        InvalidArgument::TagCount { resource, account, limit } => format!(
            "Failed to add tags to stream {resource} under account {account} because a given stream cannot have more than {limit} tags associated with it."
        ),
        InvalidArgument::PolicyNotObject => "Policy document is not a valid JSON object.".to_owned(),
        InvalidArgument::PolicyInvalid { reason } => format!("Invalid resource policy: {reason}"),
        InvalidArgument::EncryptionType { encryption_type } => {
            format!("Encryption type {encryption_type} is not supported; it must be KMS.")
        }
        InvalidArgument::StreamNotEncrypted { stream, account } => {
            format!("Stream {stream} under account {account} is not encrypted.")
        }
        InvalidArgument::StreamModeUnchanged { stream, account, mode } => {
            format!("Stream {stream} under account {account} is already in {} mode.", mode.as_str())
        }
        // AWS's texts for these three are not recorded anywhere we found; they name the
        // rule as API_UpdateStreamRecordDistributionStrategy and the service-managed
        // distribution guide state it.
        InvalidArgument::AutoDistributionProvisioned { stream, account } => format!(
            "Record distribution strategy AUTO is not supported for stream {stream} under account {account} because it is in PROVISIONED mode. AUTO requires ON_DEMAND mode."
        ),
        InvalidArgument::ProvisionedWithAutoDistribution { stream, account } => format!(
            "Stream {stream} under account {account} uses record distribution strategy AUTO, which PROVISIONED mode does not support. Set the strategy to USER_PARTITION_KEY first."
        ),
        InvalidArgument::OrderingWithAutoDistribution { stream, account } => format!(
            "SequenceNumberForOrdering is not supported on stream {stream} under account {account} because it uses record distribution strategy AUTO."
        ),
        InvalidArgument::ShardResharded { shard, stream, account } => format!(
            "Shard {shard} in stream {stream} under account {account} has already been merged or split, and thus is not eligible for merging or splitting."
        ),
        InvalidArgument::SplitHashKey { hash_key, shard, stream, account, shard_start, shard_end } => format!(
            "NewStartingHashKey {hash_key} used in SplitShard() on shard {shard} in stream {stream} under account {account} is not both greater than one plus the shard's StartingHashKey {shard_start} and less than the shard's EndingHashKey {shard_end}."
        ),
        InvalidArgument::ShardsNotAdjacent { first, second, stream, account } => format!(
            "Shards {first} and {second} in stream {stream} under account {account} are not an adjacent pair of shards eligible for merging"
        ),
        InvalidArgument::ExplicitHashKey { hash_key } => format!(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {hash_key}"
        ),
        InvalidArgument::RecordsTooLarge { max_bytes } => {
            format!("Records size exceeds {} MB limit", max_bytes / (1024 * 1024))
        }
        InvalidArgument::SequenceNumberForOrdering { sequence_number, stream, account } => format!(
            "ExclusiveMinimumSequenceNumber {sequence_number} used in PutRecord on stream {stream} under account {account} is invalid."
        ),
        InvalidArgument::StartingPosition { iterator_type, has_sequence_number } => format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {iterator_type} and {} StartingSequenceNumber.",
            if *has_sequence_number { "also a" } else { "no" }
        ),
        InvalidArgument::TimestampMissing => "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.".to_owned(),
        InvalidArgument::TimestampInFuture { timestamp_ms, now_ms } => format!(
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {timestamp_ms}, currentTimestampInMillis: {now_ms}"
        ),
        InvalidArgument::StartingSequenceNumber { sequence_number, operation, shard, stream, account } => format!(
            "StartingSequenceNumber {sequence_number} used in {operation} on shard {shard} in stream {stream} under account {account} is invalid."
        ),
        InvalidArgument::StartingSequenceNumberForeign { sequence_number, operation, shard, stream, account } => format!(
            "StartingSequenceNumber {sequence_number} used in {operation} on shard {shard} in stream {stream} under account {account} is invalid because it did not come from this stream."
        ),
        InvalidArgument::StartingSequenceNumberShard { encoded, shard } => format!(
            "Invalid StartingSequenceNumber. It encodes {encoded}, while it was used in a call to a shard with {shard}"
        ),
    }
}

/// AWS's `ValidationException` texts for the rules the engine checks.
fn validation_message(rule: &Validation) -> String {
    match rule {
        Validation::Records(violations) => {
            let count = violations.len();
            let plural = if count == 1 { "" } else { "s" };
            let items: Vec<String> = violations.iter().map(record_violation).collect();
            format!("{count} validation error{plural} detected: {}", items.join("; "))
        }
        Validation::OnDemandResharding { operation, stream, account } => format!(
            "{operation} is not supported for stream {stream} under account {account} because it is in ON_DEMAND mode."
        ),
        Validation::WarmThroughputProvisioned { stream, account } => format!(
            "Warm throughput can only be set on streams in ON_DEMAND mode; stream {stream} under account {account} is PROVISIONED."
        ),
    }
}

/// One item of a PutRecord(s) ValidationException, with AWS's member path
/// (`records.N.member.` in PutRecords) and its Java rendering of the data buffer.
fn record_violation(violation: &RecordViolation) -> String {
    let path = |member: &Option<usize>| member.map(|n| format!("records.{n}.member.")).unwrap_or_default();
    match violation {
        RecordViolation::DataTooLong { member, data_bytes, max_data_bytes } => format!(
            "Value 'java.nio.HeapByteBuffer[pos=0 lim={data_bytes} cap={data_bytes}]' at '{}data' failed to satisfy constraint: Member must have length less than or equal to {max_data_bytes}",
            path(member)
        ),
        RecordViolation::PartitionKeyMissing { member } => format!(
            "Value null at '{}partitionKey' failed to satisfy constraint: Member must not be null",
            path(member)
        ),
    }
}

/// AWS's `LimitExceededException` texts.
fn limit_exceeded_message(rule: &LimitExceeded) -> String {
    match rule {
        LimitExceeded::Consumers { stream, account, limit } => {
            format!("Stream {stream} under account {account} has reached the limit of {limit} registered consumers.")
        }
        LimitExceeded::ConsumersCreating { stream, account, limit } => {
            format!("Stream {stream} under account {account} already has {limit} consumers in the CREATING state.")
        }
        LimitExceeded::OnDemandStreams { account, region, limit } => format!(
            "This request would exceed the on-demand stream limit for the account {account} in {region}. Limit: {limit}."
        ),
        LimitExceeded::ScaleAboveDouble { stream, account, current } => format!(
            "UpdateShardCount cannot scale stream {stream} under account {account} beyond double its current shard count ({current})."
        ),
        LimitExceeded::ScaleBelowHalf { stream, account, current } => format!(
            "UpdateShardCount cannot scale stream {stream} under account {account} below half its current shard count ({current})."
        ),
        LimitExceeded::ScaleBeyondMax { stream, account, max } => {
            format!("UpdateShardCount cannot scale stream {stream} under account {account} beyond {max} shards.")
        }
        LimitExceeded::ScalingsPerDay { stream, account, limit } => format!(
            "UpdateShardCount cannot run more than {limit} times in a 24 hour period for stream {stream} under account {account}."
        ),
        // AWS's control-plane throttling texts: the stream form when the call names a
        // stream, the account form otherwise.
        LimitExceeded::Rate { stream: Some(stream), account, .. } => {
            format!("Rate exceeded for stream {stream} under account {account}.")
        }
        LimitExceeded::Rate { stream: None, account, .. } => format!("Rate exceeded for account {account}."),
        // AWS's text, its grammar included.
        LimitExceeded::StreamsChanging { account, limit } => format!(
            "This request would have exceed the limit on the number of streams that can simultaneously be in CREATING or DELETING for the account {account}. Limit: {limit}."
        ),
        // AWS documents the quota but not its text.
        LimitExceeded::EncryptionChangesPerDay { stream, account, limit } => format!(
            "The encryption of stream {stream} under account {account} cannot change more than {limit} times in a 24 hour period."
        ),
    }
}

/// AWS's `ResourceInUseException` texts.
fn resource_in_use_message(rule: &ResourceInUse) -> String {
    match rule {
        ResourceInUse::ConsumerExists { consumer, stream, account } => {
            format!("Consumer {consumer} under stream {stream} under account {account} already exists.")
        }
        ResourceInUse::StreamHasConsumers { stream, account } => format!(
            "Stream {stream} under account {account} has registered consumers. Deregister them first or set EnforceConsumerDeletion."
        ),
        ResourceInUse::TagsWhileCreating { stream, account } => {
            format!("Stream {stream} under account {account} is not ACTIVE; tags can be changed once it is.")
        }
        ResourceInUse::ConsumerNotActive { consumer, stream, account, status } => format!(
            "Consumer {consumer} under stream {stream} under account {account} is not ACTIVE, instead in state {}.",
            status.as_str()
        ),
        ResourceInUse::SubscriptionActive { consumer, shard, stream, account, age_ms, takeover_ms } => format!(
            "Another active subscription exists for consumer {consumer} on shard {shard} in stream {stream} under account {account}; it started {age_ms} ms ago, and a new one may take over {takeover_ms} ms after it started."
        ),
        ResourceInUse::SubscriptionTakenOver { consumer, shard, stream, account } => format!(
            "Subscription of consumer {consumer} to shard {shard} in stream {stream} under account {account} was taken over by a newer SubscribeToShard call."
        ),
    }
}

/// AWS's `ResourceNotFoundException` texts.
fn resource_not_found_message(rule: &ResourceNotFound) -> String {
    match rule {
        ResourceNotFound::NextTokenStream { account } => {
            format!("Stream with the given NextToken under account {account} not found.")
        }
        ResourceNotFound::Resource { arn, account } => format!("Resource {arn} under account {account} not found."),
        ResourceNotFound::ResourcePolicy { arn } => format!("No resource policy found for resource ARN {arn}."),
    }
}

/// The error type of each queue rule. AWS's model lists the types each queue operation
/// may answer; its API reference gives no texts, so the messages below follow the style
/// of the stream errors.
fn queue_error_type(rule: &QueueError) -> ErrorType {
    match rule {
        QueueError::NotFound { .. } => ErrorType::ResourceNotFound,
        QueueError::Exists { .. } | QueueError::NotActive { .. } | QueueError::StreamHasQueues { .. } => {
            ErrorType::ResourceInUse
        }
        QueueError::StreamCount { .. } | QueueError::MaxReceiveCountMissing => ErrorType::InvalidArgument,
        // API_QueueStartingPosition names ValidationException for the timestamp rules.
        QueueError::TimestampMissing | QueueError::TimestampNotAllowed => ErrorType::Validation,
        // As for the other operations a capacity mode does not support.
        QueueError::StreamNotOnDemand { .. } => ErrorType::Validation,
        QueueError::TooManyChanging { .. } => ErrorType::LimitExceeded,
    }
}

/// The message of each queue rule.
fn queue_message(rule: &QueueError) -> String {
    match rule {
        QueueError::NotFound { queue, account } => format!("Queue {queue} under account {account} not found."),
        QueueError::Exists { queue, account } => format!("Queue {queue} under account {account} already exists."),
        QueueError::StreamCount { count } => format!(
            "StreamConfigurationList must contain exactly one entry, because a queue delivers records from a single data stream; {count} were given."
        ),
        QueueError::StreamNotOnDemand { stream, account } => format!(
            "Stream {stream} under account {account} is not in ON_DEMAND capacity mode. Queues are supported only on on-demand streams."
        ),
        QueueError::TimestampMissing => {
            "StartingPosition Timestamp must be specified when its Type is AT_TIMESTAMP.".to_owned()
        }
        QueueError::TimestampNotAllowed => {
            "StartingPosition Timestamp may be specified only when its Type is AT_TIMESTAMP.".to_owned()
        }
        QueueError::MaxReceiveCountMissing => {
            "MaxReceiveCount must be specified when DeadLetterConfiguration TargetType is BUILT_IN.".to_owned()
        }
        QueueError::TooManyChanging { account, limit } => {
            format!("Account {account} already has {limit} queues in the CREATING or DELETING state.")
        }
        QueueError::NotActive { queue, account, status } => {
            format!("Queue {queue} under account {account} is not ACTIVE, instead in state {status}.")
        }
        QueueError::StreamHasQueues { stream, account, count } => format!(
            "Stream {stream} under account {account} has {count} queues. Delete every queue of the stream first."
        ),
    }
}

/// `ErrorCode` and `ErrorMessage` of a failed entry of the queue batch calls (AWS: the
/// code is one of ResourceNotFoundException, InvalidArgumentException,
/// ThrottlingException or InternalFailureException).
pub fn queue_entry_error(error: QueueEntryError) -> (ErrorType, &'static str) {
    match error {
        QueueEntryError::HandleInvalid => {
            (ErrorType::InvalidArgument, "The receipt handle is not valid for this queue and operation.")
        }
        QueueEntryError::HandleExpired => (
            ErrorType::InvalidArgument,
            "The receipt handle has expired: the record was received again, restored, or its visibility timeout ran out.",
        ),
        QueueEntryError::RecordGone => (
            ErrorType::ResourceNotFound,
            "The record is no longer in the queue: it was acknowledged, or the stream no longer retains it.",
        ),
    }
}

/// Formats epoch milliseconds as Java's `Date.toString()` in UTC, which AWS uses inside
/// ExpiredIterator messages: `Thu Jan 22 01:22:02 UTC 2015`.
fn java_utc_date(epoch_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = epoch_ms / 1000;
    let days = secs / 86_400;
    let seconds_of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let weekday = DAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let month_name = MONTHS.get((month - 1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday} {month_name} {day:02} {:02}:{:02}:{:02} UTC {year}",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), after Howard Hinnant's
/// `civil_from_days` algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The AWS error response for a Firehose error; exhaustive over
/// [`FirehoseError`](rheo_firehose::FirehoseError).
pub fn firehose_wire_error(error: &rheo_firehose::FirehoseError) -> WireError {
    use rheo_firehose::FirehoseError as E;
    let (error_type, status) = match error {
        E::NotFound { .. } => ("ResourceNotFoundException", 400),
        E::Exists { .. } | E::ResourceInUse(_) => ("ResourceInUseException", 400),
        E::InvalidArgument(_) => ("InvalidArgumentException", 400),
        E::Validation(_) => ("ValidationException", 400),
        E::LimitExceeded(_) => ("LimitExceededException", 400),
        E::ConcurrentModification => ("ConcurrentModificationException", 400),
        // Firehose passes KMS's failure on with KMS's exception name as the code.
        E::Kms(key) if key.is_not_found() => {
            return WireError {
                error_type: "InvalidKMSResourceException".into(),
                message: Some(kms_message(key)),
                capital_message_key: false,
                http_status: 400,
                string_lists: Vec::new(),
                documents: vec![("code", serde_json::Value::from("NotFoundException"))],
            }
        }
        E::Storage(StorageError::DiskFull { .. }) | E::Storage(StorageError::Closed) => {
            ("ServiceUnavailableException", 503)
        }
        // Unmodelled faults carry no message; the detail goes to the server log.
        E::Storage(_) | E::Internal(_) | E::Kms(_) => {
            return WireError {
                error_type: "InternalFailure".into(),
                message: None,
                capital_message_key: false,
                http_status: 500,
                string_lists: Vec::new(),
                documents: Vec::new(),
            }
        }
    };
    WireError {
        error_type: error_type.into(),
        message: Some(error.to_string()),
        capital_message_key: false,
        http_status: status,
        string_lists: Vec::new(),
        documents: Vec::new(),
    }
}

/// A read the archive could not serve (`s3://bucket/rheo`, "connection refused"), for tests.
#[cfg(test)]
pub(crate) fn archive_unavailable() -> StorageError {
    StorageError::ArchiveUnavailable {
        archive: "s3://bucket/rheo".into(),
        shard_uid: 7,
        first_lsn: 10,
        last_lsn: 20,
        count: 11,
        source: rheo_storage::ArchiveError::Unavailable { detail: "connection refused".into() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rheo_engine::{EncodedShardId, ShardId};

    fn message(error: EngineError) -> String {
        wire_error(&error).message.unwrap_or_default()
    }

    #[test]
    fn java_dates_match_aws_messages() {
        // From an AWS ExpiredIteratorException message.
        assert_eq!(java_utc_date(1_421_889_722_000), "Thu Jan 22 01:22:02 UTC 2015");
        assert_eq!(java_utc_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_utc_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
    }

    /// AWS's texts for the errors the engine reports as facts; the facts are those the
    /// engine's own tests check it reports.
    #[test]
    fn engine_facts_become_aws_texts() {
        let account = || "000000000000".to_owned();
        assert_eq!(
            message(EngineError::StreamNotFound { stream: "nope".into(), account: account() }),
            "Stream nope under account 000000000000 not found."
        );
        assert_eq!(
            message(EngineError::ShardNotFound {
                shard: "shardId-000000000005".into(),
                stream: "s".into(),
                account: account()
            }),
            "Shard shardId-000000000005 in stream s under account 000000000000 does not exist"
        );
        assert_eq!(message(EngineError::InvalidShardIterator), "Invalid ShardIterator.");
        assert_eq!(
            message(EngineError::ExpiredIterator { issued_ms: 1_700_000_000_000, now_ms: 1_700_000_300_001 }),
            "Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while right now it is Tue Nov 14 22:18:20 UTC 2023 which is further in the future than the tolerated delay of 300000 milliseconds."
        );
        assert_eq!(
            message(EngineError::ShardUnknown {
                shard: "shardId-000000000099".into(),
                stream: "s".into(),
                account: account()
            }),
            "Could not find shard shardId-000000000099 in stream s under account 000000000000."
        );
        assert_eq!(
            message(EngineError::StreamNotActive {
                stream: "s".into(),
                account: account(),
                status: rheo_engine::StreamStatus::Creating
            }),
            "Stream s under account 000000000000 not ACTIVE, instead in state CREATING"
        );
        assert_eq!(
            message(EngineError::StreamExists { stream: "s".into(), account: account() }),
            "Stream s under account 000000000000 already exists."
        );
        assert!(message(EngineError::ShardLimit {
            account: account(),
            region: "us-east-1".into(),
            current: 2,
            limit: 3,
            additional: 2
        })
        .starts_with(
            "This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 2. Limit: 3. Number of additional shards that would have resulted from this request: 2."
        ));
        assert_eq!(
            message(EngineError::ConsumerNotFound { consumer: "c".into(), stream: "s".into(), account: account() }),
            "Consumer c under stream s under account 000000000000 not found."
        );
        assert_eq!(
            message(EngineError::ExpiredNextToken),
            "The timestamp of the NextToken has expired. Please request a new NextToken."
        );
        assert_eq!(
            message(EngineError::DamagedRecords {
                shard: "shardId-000000000000".into(),
                stream: "s".into(),
                account: account(),
                first: "1".into(),
                last: "2".into()
            }),
            "Records from sequence number 1 to 2 of shard shardId-000000000000 in stream s under account 000000000000 are damaged on disk and cannot be read until an operator cuts them (rheo serve --recover-truncate). Records after them can be read with an AFTER_SEQUENCE_NUMBER iterator at 2."
        );
    }

    /// The archive's failures are server faults that say what failed: a reader learns
    /// the archive is why (and retries), a producer that writes resume once uploads do.
    #[test]
    fn archive_failures_are_internal_failures_with_the_storage_text() {
        let unavailable = archive_unavailable();
        let backlog = StorageError::ArchiveBacklogFull {
            archive: "file:///archive".into(),
            unarchived_bytes: 5_000,
            limit_bytes: 4_096,
        };
        for storage in [unavailable, backlog] {
            let text = storage.to_string();
            let wire = wire_error(&EngineError::Storage(storage));
            assert_eq!((wire.error_type.as_str(), wire.http_status), ("InternalFailure", 500));
            assert_eq!(wire.message.as_deref(), Some(text.as_str()));
        }
        assert!(message(EngineError::Storage(StorageError::ArchiveBacklogFull {
            archive: "file:///archive".into(),
            unarchived_bytes: 5_000,
            limit_bytes: 4_096
        }))
        .contains("--local-hard-limit-bytes"));
        // Other storage failures still carry no message.
        let closed = wire_error(&EngineError::Storage(StorageError::Closed));
        assert_eq!((closed.error_type.as_str(), closed.message), ("ServiceUnavailable", None));
    }

    /// AWS's `ResourceNotFoundException` texts for rules other than a missing stream, shard
    /// or consumer.
    #[test]
    fn resource_not_found_texts() {
        let account = || "000000000000".to_owned();
        let not_found = |rule: ResourceNotFound| {
            let wire = wire_error(&rule.into());
            assert_eq!(wire.error_type, "ResourceNotFoundException");
            wire.message.unwrap_or_default()
        };
        assert_eq!(
            not_found(ResourceNotFound::NextTokenStream { account: account() }),
            "Stream with the given NextToken under account 000000000000 not found."
        );
        assert_eq!(
            not_found(ResourceNotFound::Resource {
                arn: "arn:aws:kinesis:us-east-1:000000000000:thing/x".into(),
                account: account()
            }),
            "Resource arn:aws:kinesis:us-east-1:000000000000:thing/x under account 000000000000 not found."
        );
        assert_eq!(
            not_found(ResourceNotFound::ResourcePolicy {
                arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into()
            }),
            "No resource policy found for resource ARN arn:aws:kinesis:us-east-1:000000000000:stream/s."
        );
    }

    /// AWS's `ResourceInUseException` texts for rules other than CreateStream's name in use
    /// and a stream that is not ACTIVE.
    #[test]
    fn resource_in_use_texts() {
        let account = || "000000000000".to_owned();
        let consumer = || {
            rheo_engine::ids::Account { region: "us-east-1".into(), account_id: account() }.consumer_arn(
                "s",
                "c",
                1_700_000_000_000,
            )
        };
        let in_use = |rule: ResourceInUse| {
            let wire = wire_error(&rule.into());
            assert_eq!(wire.error_type, "ResourceInUseException");
            wire.message.unwrap_or_default()
        };
        assert_eq!(
            in_use(ResourceInUse::ConsumerExists { consumer: "c".into(), stream: "s".into(), account: account() }),
            "Consumer c under stream s under account 000000000000 already exists."
        );
        assert_eq!(
            in_use(ResourceInUse::StreamHasConsumers { stream: "s".into(), account: account() }),
            "Stream s under account 000000000000 has registered consumers. Deregister them first or set EnforceConsumerDeletion."
        );
        assert_eq!(
            in_use(ResourceInUse::TagsWhileCreating { stream: "s".into(), account: account() }),
            "Stream s under account 000000000000 is not ACTIVE; tags can be changed once it is."
        );
        assert_eq!(
            in_use(ResourceInUse::ConsumerNotActive {
                consumer: consumer(),
                stream: "s".into(),
                account: account(),
                status: rheo_engine::ConsumerStatus::Creating
            }),
            "Consumer arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000 under stream s under account 000000000000 is not ACTIVE, instead in state CREATING."
        );
        assert_eq!(
            in_use(ResourceInUse::SubscriptionActive {
                consumer: consumer(),
                shard: rheo_engine::ShardId::new(0),
                stream: "s".into(),
                account: account(),
                age_ms: 1_200,
                takeover_ms: 5_000
            }),
            "Another active subscription exists for consumer arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000 on shard shardId-000000000000 in stream s under account 000000000000; it started 1200 ms ago, and a new one may take over 5000 ms after it started."
        );
        assert_eq!(
            in_use(ResourceInUse::SubscriptionTakenOver {
                consumer: consumer(),
                shard: rheo_engine::ShardId::new(3),
                stream: "s".into(),
                account: account()
            }),
            "Subscription of consumer arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000 to shard shardId-000000000003 in stream s under account 000000000000 was taken over by a newer SubscribeToShard call."
        );
    }

    /// AWS's `LimitExceededException` texts for quotas other than the account's shard quota.
    #[test]
    fn limit_exceeded_texts() {
        let account = || "000000000000".to_owned();
        let exceeded = |rule: LimitExceeded| {
            let wire = wire_error(&rule.into());
            assert_eq!(wire.error_type, "LimitExceededException");
            wire.message.unwrap_or_default()
        };
        assert_eq!(
            exceeded(LimitExceeded::Consumers { stream: "s".into(), account: account(), limit: 6 }),
            "Stream s under account 000000000000 has reached the limit of 6 registered consumers."
        );
        assert_eq!(
            exceeded(LimitExceeded::ConsumersCreating { stream: "s".into(), account: account(), limit: 5 }),
            "Stream s under account 000000000000 already has 5 consumers in the CREATING state."
        );
        assert_eq!(
            exceeded(LimitExceeded::OnDemandStreams { account: account(), region: "us-east-1".into(), limit: 50 }),
            "This request would exceed the on-demand stream limit for the account 000000000000 in us-east-1. Limit: 50."
        );
        assert_eq!(
            exceeded(LimitExceeded::ScaleAboveDouble { stream: "s".into(), account: account(), current: 2 }),
            "UpdateShardCount cannot scale stream s under account 000000000000 beyond double its current shard count (2)."
        );
        assert_eq!(
            exceeded(LimitExceeded::ScaleBelowHalf { stream: "s".into(), account: account(), current: 4 }),
            "UpdateShardCount cannot scale stream s under account 000000000000 below half its current shard count (4)."
        );
        assert_eq!(
            exceeded(LimitExceeded::ScaleBeyondMax { stream: "s".into(), account: account(), max: 10_000 }),
            "UpdateShardCount cannot scale stream s under account 000000000000 beyond 10000 shards."
        );
        assert_eq!(
            exceeded(LimitExceeded::ScalingsPerDay { stream: "s".into(), account: account(), limit: 10 }),
            "UpdateShardCount cannot run more than 10 times in a 24 hour period for stream s under account 000000000000."
        );
        assert_eq!(
            exceeded(LimitExceeded::Rate {
                operation: rheo_engine::ControlOperation::DescribeStream,
                stream: Some("s".into()),
                account: account(),
            }),
            "Rate exceeded for stream s under account 000000000000."
        );
        assert_eq!(
            exceeded(LimitExceeded::Rate {
                operation: rheo_engine::ControlOperation::ListStreams,
                stream: None,
                account: account(),
            }),
            "Rate exceeded for account 000000000000."
        );
        assert_eq!(
            exceeded(LimitExceeded::StreamsChanging { account: account(), limit: 5 }),
            "This request would have exceed the limit on the number of streams that can simultaneously be in CREATING or DELETING for the account 000000000000. Limit: 5."
        );
        assert_eq!(
            exceeded(LimitExceeded::EncryptionChangesPerDay { stream: "s".into(), account: account(), limit: 25 }),
            "The encryption of stream s under account 000000000000 cannot change more than 25 times in a 24 hour period."
        );
    }

    /// AWS's `InvalidArgumentException` texts; the facts are those the engine's own tests
    /// check it reports, where they have one.
    #[test]
    fn invalid_argument_texts() {
        let account = || "000000000000".to_owned();
        let s = || "s".to_owned();
        let invalid = |rule: InvalidArgument| {
            let wire = wire_error(&rule.into());
            assert_eq!(wire.error_type, "InvalidArgumentException");
            wire.message.unwrap_or_default()
        };
        let stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
        let consumer_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/t/consumer/c:1700000000";
        let cases: Vec<(InvalidArgument, String)> = vec![
            (InvalidArgument::StreamRefMissing, "Either StreamName or StreamARN must be provided.".into()),
            (
                InvalidArgument::StreamArnNameMismatch { arn: stream_arn.into(), name: "t".into() },
                format!("StreamARN {stream_arn} and StreamName t do not refer to the same stream."),
            ),
            (
                InvalidArgument::ConsumerRefMissing,
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.".into(),
            ),
            (
                InvalidArgument::ConsumerArnStreamMismatch {
                    consumer_arn: consumer_arn.into(),
                    stream_arn: stream_arn.into(),
                },
                format!("ConsumerARN {consumer_arn} does not belong to stream {stream_arn}."),
            ),
            (
                InvalidArgument::ConsumerArnNameMismatch { consumer_arn: consumer_arn.into(), consumer_name: "d".into() },
                format!("ConsumerARN {consumer_arn} does not match ConsumerName d."),
            ),
            (InvalidArgument::NextToken, "Invalid NextToken.".into()),
            (InvalidArgument::ListShardsStreamMissing, "Either NextToken or StreamName should be provided.".into()),
            (InvalidArgument::ListShardsTokenWithStream, "NextToken and StreamName cannot be provided together.".into()),
            (
                InvalidArgument::ListShardsTokenWithStart,
                "NextToken cannot be provided together with ExclusiveStartShardId or StreamCreationTimestamp.".into(),
            ),
            (
                InvalidArgument::ShardFilterShardIdMissing,
                "ShardId must be specified for ShardFilter type AFTER_SHARD_ID.".into(),
            ),
            (
                InvalidArgument::ShardFilterTimestampMissing { filter: rheo_engine::ShardFilterKind::FromTimestamp },
                "Timestamp must be specified for ShardFilter type FROM_TIMESTAMP.".into(),
            ),
            (
                InvalidArgument::ShardCountMissing,
                "ShardCount must be specified for streams in PROVISIONED mode.".into(),
            ),
            (
                InvalidArgument::RetentionTooShort { hours: 23, min: 24 },
                "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."
                    .into(),
            ),
            (
                InvalidArgument::RetentionTooLong { hours: 8761, max: 8760 },
                "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."
                    .into(),
            ),
            (
                InvalidArgument::RetentionIncreaseBelowCurrent { stream: s(), hours: 30, current: 48 },
                "Requested retention period (30 hours) for stream s can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.".into(),
            ),
            (
                InvalidArgument::RetentionDecreaseAboveCurrent { stream: s(), hours: 72, current: 48 },
                "Requested retention period (72 hours) for stream s can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.".into(),
            ),
            (
                InvalidArgument::TagCharacters,
                "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.".into(),
            ),
            (
                InvalidArgument::TagPercent { resource: s(), account: account() },
                "Failed to add tags to stream s under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.".into(),
            ),
            (
                InvalidArgument::TagRemovePercent { stream: s(), account: account() },
                "Failed to remove tags from stream s under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'.".into(),
            ),
            (
                InvalidArgument::TagCount { resource: s(), account: account(), limit: 50 },
                "Failed to add tags to stream s under account 000000000000 because a given stream cannot have more than 50 tags associated with it.".into(),
            ),
            (InvalidArgument::PolicyNotObject, "Policy document is not a valid JSON object.".into()),
            (
                InvalidArgument::PolicyInvalid { reason: "Policy has invalid action".into() },
                "Invalid resource policy: Policy has invalid action".into(),
            ),
            (
                InvalidArgument::EncryptionType { encryption_type: "NONE".into() },
                "Encryption type NONE is not supported; it must be KMS.".into(),
            ),
            (
                InvalidArgument::StreamNotEncrypted { stream: s(), account: account() },
                "Stream s under account 000000000000 is not encrypted.".into(),
            ),
            (
                InvalidArgument::StreamModeUnchanged {
                    stream: s(),
                    account: account(),
                    mode: rheo_engine::StreamMode::OnDemand,
                },
                "Stream s under account 000000000000 is already in ON_DEMAND mode.".into(),
            ),
            (
                InvalidArgument::ShardResharded { shard: ShardId::new(0), stream: s(), account: account() },
                "Shard shardId-000000000000 in stream s under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting.".into(),
            ),
            (
                InvalidArgument::SplitHashKey {
                    hash_key: "1".into(),
                    shard: ShardId::new(1),
                    stream: s(),
                    account: account(),
                    shard_start: 0,
                    shard_end: 170_141_183_460_469_231_731_687_303_715_884_105_727,
                },
                "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000001 in stream s under account 000000000000 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 170141183460469231731687303715884105727.".into(),
            ),
            (
                InvalidArgument::ShardsNotAdjacent {
                    first: ShardId::new(1),
                    second: ShardId::new(1),
                    stream: s(),
                    account: account(),
                },
                "Shards shardId-000000000001 and shardId-000000000001 in stream s under account 000000000000 are not an adjacent pair of shards eligible for merging".into(),
            ),
            (
                InvalidArgument::ExplicitHashKey { hash_key: "340282366920938463463374607431768211456".into() },
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456".into(),
            ),
            (
                InvalidArgument::RecordsTooLarge { max_bytes: 10 * 1024 * 1024 },
                "Records size exceeds 10 MB limit".into(),
            ),
            (
                InvalidArgument::SequenceNumberForOrdering { sequence_number: "12".into(), stream: s(), account: account() },
                "ExclusiveMinimumSequenceNumber 12 used in PutRecord on stream s under account 000000000000 is invalid.".into(),
            ),
            (
                InvalidArgument::StartingPosition { iterator_type: "TRIM_HORIZON", has_sequence_number: true },
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.".into(),
            ),
            (
                InvalidArgument::StartingPosition { iterator_type: "AT_SEQUENCE_NUMBER", has_sequence_number: false },
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.".into(),
            ),
            (
                InvalidArgument::TimestampMissing,
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.".into(),
            ),
            (
                InvalidArgument::TimestampInFuture { timestamp_ms: 1_700_000_000_005, now_ms: 1_700_000_000_000 },
                "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: 1700000000005, currentTimestampInMillis: 1700000000000".into(),
            ),
            (
                InvalidArgument::StartingSequenceNumber {
                    sequence_number: "1234".into(),
                    operation: "GetShardIterator",
                    shard: ShardId::new(0),
                    stream: s(),
                    account: account(),
                },
                "StartingSequenceNumber 1234 used in GetShardIterator on shard shardId-000000000000 in stream s under account 000000000000 is invalid.".into(),
            ),
            (
                InvalidArgument::StartingSequenceNumberForeign {
                    sequence_number: "1234".into(),
                    operation: "SubscribeToShard",
                    shard: ShardId::new(0),
                    stream: s(),
                    account: account(),
                },
                "StartingSequenceNumber 1234 used in SubscribeToShard on shard shardId-000000000000 in stream s under account 000000000000 is invalid because it did not come from this stream.".into(),
            ),
            (
                InvalidArgument::StartingSequenceNumberShard { encoded: EncodedShardId::new(0), shard: ShardId::new(1) },
                "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard with shardId-000000000001".into(),
            ),
            // Issue 14, item 6: a negative encoded index prints as Java's `%012d` does.
            (
                InvalidArgument::StartingSequenceNumberShard {
                    encoded: EncodedShardId::new(-2_147_483_648),
                    shard: ShardId::new(0),
                },
                "Invalid StartingSequenceNumber. It encodes shardId--02147483648, while it was used in a call to a shard with shardId-000000000000".into(),
            ),
        ];
        for (rule, text) in cases {
            assert_eq!(invalid(rule), text);
        }
    }

    /// AWS's `ValidationException` texts for the rules the engine checks.
    #[test]
    fn validation_texts() {
        let account = || "000000000000".to_owned();
        let invalid = |rule: Validation| {
            let wire = wire_error(&rule.into());
            assert_eq!(wire.error_type, "ValidationException");
            wire.message.unwrap_or_default()
        };
        assert_eq!(
            invalid(Validation::Records(vec![RecordViolation::DataTooLong {
                member: Some(2),
                data_bytes: 1_048_576,
                max_data_bytes: 1_048_575
            }])),
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048576 cap=1048576]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048575"
        );
        assert_eq!(
            invalid(Validation::Records(vec![RecordViolation::PartitionKeyMissing { member: None }])),
            "1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"
        );
        assert_eq!(
            invalid(Validation::Records(vec![
                RecordViolation::PartitionKeyMissing { member: Some(1) },
                RecordViolation::DataTooLong { member: Some(3), data_bytes: 10, max_data_bytes: 9 }
            ])),
            "2 validation errors detected: Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null; Value 'java.nio.HeapByteBuffer[pos=0 lim=10 cap=10]' at 'records.3.member.data' failed to satisfy constraint: Member must have length less than or equal to 9"
        );
        assert_eq!(
            invalid(Validation::OnDemandResharding {
                operation: "SplitShard",
                stream: "od".into(),
                account: account()
            }),
            "SplitShard is not supported for stream od under account 000000000000 because it is in ON_DEMAND mode."
        );
        assert_eq!(
            invalid(Validation::WarmThroughputProvisioned { stream: "s".into(), account: account() }),
            "Warm throughput can only be set on streams in ON_DEMAND mode; stream s under account 000000000000 is PROVISIONED."
        );
    }

    #[test]
    fn unknown_kms_keys_are_kms_not_found_and_a_broken_key_store_is_internal() {
        let arn = "arn:aws:kms:us-east-1:000000000000:alias/nope".to_owned();
        let alias = wire_error(&EngineError::Key(rheo_keys::KeyError::AliasNotFound { arn }));
        assert_eq!(alias.error_type, "KMSNotFoundException");
        assert_eq!(alias.message.as_deref(), Some("Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found."));
        let arn = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000".to_owned();
        let key = wire_error(&EngineError::Key(rheo_keys::KeyError::KeyNotFound { arn }));
        assert_eq!(
            key.message.as_deref(),
            Some("Key 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000' does not exist")
        );
        let invalid = wire_error(&EngineError::Key(rheo_keys::KeyError::InvalidKeyId { given: "mine".into() }));
        assert_eq!(invalid.error_type, "KMSNotFoundException");
        assert_eq!(invalid.message.as_deref(), Some("Invalid keyId 'mine'"));
        let broken = wire_error(&EngineError::Key(rheo_keys::KeyError::Encode("no".into())));
        assert_eq!(broken.error_type, "InternalFailure");
        assert_eq!(broken.message, None);
    }

    #[test]
    fn errors_map_to_aws_types_and_messages() {
        let not_found = wire_error(&EngineError::StreamNotFound { stream: "s".into(), account: "000000000000".into() });
        assert_eq!(not_found.error_type, "ResourceNotFoundException");
        assert_eq!(not_found.message.as_deref(), Some("Stream s under account 000000000000 not found."));
        let storage = wire_error(&EngineError::Storage(StorageError::Closed));
        assert_eq!(storage.http_status, 503);
        assert_eq!(storage.message, None);
        assert_eq!(wire_error(&EngineError::InvalidShardIterator).error_type, "InvalidArgumentException");
        let throttled = wire_error(&EngineError::ThroughputExceeded {
            shard: "shardId-000000000000".into(),
            stream: "s".into(),
            account: "000000000000".into(),
        });
        assert_eq!(throttled.error_type, "ProvisionedThroughputExceededException");
        assert_eq!(
            throttled.message.as_deref(),
            Some("Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.")
        );
        let internal = wire_error(&EngineError::Internal("the record could not be stored".into()));
        assert_eq!(internal.error_type, "InternalFailure");
        assert_eq!(internal.message, None);
    }
}
