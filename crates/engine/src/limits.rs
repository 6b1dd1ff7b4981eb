//! Every Kinesis quota and bound the engine enforces, in one place.
//!
//! Sizes are in bytes, durations in milliseconds; the unit is the last word of each name.
//! Values follow the AWS quotas page and API reference; where an operator may change one
//! it is only the default here and lives in [`crate::EngineConfig`].

/// A shard iterator is valid this long after it was issued (AWS: 5 minutes).
pub const ITERATOR_LIFETIME_MS: u64 = 300_000;

/// A pagination token is valid this long after it was issued (AWS: 300 s).
pub const NEXT_TOKEN_LIFETIME_MS: u64 = 300_000;

/// Largest shard iterator AWS's model allows, in characters.
pub const SHARD_ITERATOR_CHARS_MAX: usize = 512;

/// GetRecords returns at most this many records per call, and this is also the default.
pub const GET_RECORDS_LIMIT_MAX: usize = 10_000;

/// GetRecords returns at most about this many bytes of data and keys per call.
pub const GET_RECORDS_BYTES_MAX: usize = 10 * 1024 * 1024;

/// Default per-stream largest record (data plus partition key), in KiB.
pub const MAX_RECORD_SIZE_KIB_DEFAULT: u32 = 1024;

/// Bounds of `MaxRecordSizeInKiB`.
pub const MAX_RECORD_SIZE_KIB_MIN: u32 = 1024;
/// See [`MAX_RECORD_SIZE_KIB_MIN`].
pub const MAX_RECORD_SIZE_KIB_MAX: u32 = 10240;

/// Largest PutRecords request, counting data and partition keys of all records.
pub const PUT_RECORDS_BYTES_MAX: usize = 10 * 1024 * 1024;

/// Retention of a new stream, in hours.
pub const RETENTION_HOURS_DEFAULT: u32 = 24;

/// Shards of an on-demand stream at creation (AWS answers 4 for CreateStream without a
/// shard count).
pub const ON_DEMAND_SHARDS_INITIAL: u32 = 4;

/// Tags one stream or consumer may carry.
pub const TAGS_PER_RESOURCE_MAX: usize = 50;

/// `ListTagsForStream` page size when `Limit` is absent.
pub const LIST_TAGS_LIMIT_DEFAULT: usize = 50;

/// `DescribeStream` and `ListStreams` return at most this many items per page.
pub const DESCRIBE_STREAM_LIMIT_MAX: usize = 100;

/// `ListShards` returns at most this many shards per page, and this is the default.
pub const LIST_SHARDS_LIMIT_MAX: usize = 1000;

/// `ListStreamConsumers` page size when `MaxResults` is absent.
pub const LIST_CONSUMERS_LIMIT_DEFAULT: usize = 100;

/// Consumers that may be in the CREATING state at once per stream.
pub const CONSUMERS_CREATING_MAX: usize = 5;

/// Shards one stream may reach through UpdateShardCount (AWS: 10,000).
pub const SHARDS_PER_STREAM_MAX: u32 = 10_000;

/// UpdateShardCount may run this many times per rolling day per stream.
pub const SCALINGS_PER_DAY_MAX: usize = 10;

/// One day, for the UpdateShardCount rate.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Per-shard write budget: bytes per second.
pub const SHARD_WRITE_BYTES_PER_SEC: u64 = 1024 * 1024;
/// Per-shard write budget: records per second.
pub const SHARD_WRITE_RECORDS_PER_SEC: u64 = 1000;
/// Per-shard read budget: GetRecords calls per second.
pub const SHARD_READ_CALLS_PER_SEC: u64 = 5;
/// Per-shard read budget: bytes per second. A 10 MiB read therefore costs 5 s, which is
/// AWS's documented penalty after a maximal GetRecords.
pub const SHARD_READ_BYTES_PER_SEC: u64 = 2 * 1024 * 1024;

/// Per-consumer, per-shard read budget of enhanced fan-out: bytes per second
/// (`--enforce-limits`), independent of other consumers and of GetRecords.
pub const CONSUMER_READ_BYTES_PER_SEC: u64 = 2 * 1024 * 1024;

/// A second SubscribeToShard for the same consumer and shard within this long of the
/// last successful one is refused with ResourceInUseException while that subscription
/// is still open; a later one takes over and the older one ends with
/// ResourceInUseException.
pub const SUBSCRIPTION_TAKEOVER_MS: u64 = 5_000;

/// Records one SubscribeToShardEvent carries at most (as GetRecords).
pub const SUBSCRIBE_EVENT_RECORDS_MAX: usize = 10_000;

/// Bytes of data and partition keys one SubscribeToShardEvent carries at most (one
/// second of [`CONSUMER_READ_BYTES_PER_SEC`]); a single larger record still goes out, in
/// an event of its own. Smaller than GetRecords' 10 MiB so that an event, base64-encoded,
/// stays far below the 16 MiB message limit of common event-stream decoders, and so that
/// the memory a subscription holds stays small (the server queues a couple of events).
pub const SUBSCRIBE_EVENT_BYTES_MAX: usize = 2 * 1024 * 1024;

/// Streams that may be CREATING or DELETING at once per account (AWS: 5; enforced with
/// `--enforce-limits`).
pub const STREAMS_CHANGING_MAX: usize = 5;

/// Successful encryption changes (StartStreamEncryption or StopStreamEncryption) one
/// stream may have in a rolling 24 hours (AWS: 25; enforced with `--enforce-limits`).
pub const ENCRYPTION_CHANGES_PER_DAY_MAX: usize = 25;

/// Control-plane rate budgets kept at most (one per operation and stream, shard or
/// consumer called in the last second). Budgets idle for a second are full and are
/// dropped when the table is at this bound; a new scope beyond it is refused.
pub const CONTROL_RATE_BUDGETS_MAX: usize = 65_536;

/// Streams whose recent encryption changes are remembered at most; streams without a
/// change in the last day are dropped first.
pub const ENCRYPTION_STREAMS_TRACKED_MAX: usize = 65_536;

/// Default account shard quota.
pub const SHARD_LIMIT_DEFAULT: u32 = 10_000;
/// Default on-demand stream quota (AWS: 50 per account).
pub const ON_DEMAND_STREAM_LIMIT_DEFAULT: u32 = 50;
/// Default consumers per stream (AWS: 20).
pub const CONSUMER_LIMIT_DEFAULT: u32 = 20;

/// Default lifecycle delays, as kinesalite and kinesis-mock use.
pub const LIFECYCLE_DELAY_MS_DEFAULT: u64 = 500;

const _: () = assert!(MAX_RECORD_SIZE_KIB_MIN <= MAX_RECORD_SIZE_KIB_DEFAULT);
const _: () = assert!(MAX_RECORD_SIZE_KIB_DEFAULT <= MAX_RECORD_SIZE_KIB_MAX);
const _: () = assert!((MAX_RECORD_SIZE_KIB_MAX as usize) * 1024 <= rheo_storage::limits::RECORD_DATA_BYTES_MAX);
const _: () = assert!(GET_RECORDS_BYTES_MAX <= rheo_storage::limits::FRAME_BYTES_MAX);
const _: () = assert!(SUBSCRIBE_EVENT_BYTES_MAX <= GET_RECORDS_BYTES_MAX);
const _: () = assert!(SUBSCRIBE_EVENT_RECORDS_MAX <= GET_RECORDS_LIMIT_MAX);

/// Records one [`crate::StreamReader::next_batch`] returns at most, whatever the caller
/// asks for (as GetRecords).
pub const READER_BATCH_RECORDS_MAX: usize = GET_RECORDS_LIMIT_MAX;

/// Bytes of data and partition keys one [`crate::StreamReader::next_batch`] returns at
/// most, whatever the caller asks for (as GetRecords); a single larger record still comes,
/// in a batch of its own.
pub const READER_BATCH_BYTES_MAX: usize = GET_RECORDS_BYTES_MAX;

// ----- Queues (AWS: API reference of the queue operations, and "Quotas and limits for
// queues" in the Kinesis Data Streams developer guide) -----

/// Records one ReceiveQueueRecords returns at most, and the default `Limit`.
pub const QUEUE_RECEIVE_LIMIT_MAX: u32 = 10;

/// `WaitTimeSeconds` when a receive gives none (AWS's model: "The default is 9").
pub const QUEUE_WAIT_SECS_DEFAULT: u32 = 9;

/// A queue's visibility timeout when CreateQueue gives none (AWS: 30 seconds).
pub const QUEUE_VISIBILITY_TIMEOUT_SECS_DEFAULT: u32 = 30;

/// `MaxReceiveCount` of the dead-letter handling every queue has unless configured
/// (AWS: BUILT_IN with 6).
pub const QUEUE_MAX_RECEIVE_COUNT_DEFAULT: u32 = 6;

/// Records in flight per queue at most (AWS quota: 120,000). At the limit a receive
/// returns no more queue records, without an error, until some are acknowledged or
/// become visible again.
pub const QUEUE_IN_FLIGHT_MAX: usize = 120_000;

/// Records one queue tracks at most: in flight, visible and dead-letter together. The
/// in-flight quota plus room for visible and dead-letter records; a queue at the bound
/// reads no further into its stream until records are acknowledged, so its memory and
/// snapshot stay bounded (a tracked record is a few dozen bytes; its data stays in the
/// stream and is read back on delivery).
pub const QUEUE_TRACKED_MAX: usize = QUEUE_IN_FLIGHT_MAX + 30_000;

/// Records a queue reads from its stream at most per receive. More than one receive
/// needs, so concurrent receivers share one journal write; small enough that one journal
/// record stays far below a frame.
pub const QUEUE_FETCH_RECORDS_MAX: usize = 500;

/// Bytes of data and keys a queue reads from its stream at most per receive (a single
/// larger record still comes).
pub const QUEUE_FETCH_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Queues in the CREATING or DELETING state at once per account (AWS quota: 5).
pub const QUEUES_CHANGING_MAX: usize = 5;

/// `ListQueues` page size when `MaxResults` is absent.
pub const LIST_QUEUES_LIMIT_DEFAULT: usize = 100;

/// Longest receipt handle AWS's model allows, in characters.
pub const RECEIPT_HANDLE_CHARS_MAX: usize = 1024;

/// Longest record id AWS's model allows, in characters (sequence numbers have at most 57
/// digits).
pub const RECORD_ID_CHARS_MAX: usize = 64;

/// Retention of a queue's journal, hours: the storage minimum, which bounds its disk use
/// to a day of queue activity. A restart needs only the journal after the latest
/// snapshot, at most [`QUEUE_SNAPSHOT_MAX_AGE_MS`] old when the server stopped (and a
/// replayed queue is snapshotted at once), so only a server down for a day after a crash
/// loses that last minute of queue changes, whose acknowledged records may then be
/// delivered again.
pub const QUEUE_JOURNAL_RETENTION_HOURS: u32 = rheo_storage::limits::RETENTION_HOURS_MIN;

/// A queue's state is snapshotted after this many journal records.
pub const QUEUE_SNAPSHOT_EVERY_BATCHES: u64 = 4096;

/// A queue with journal records is snapshotted at least this often (by the reaper).
pub const QUEUE_SNAPSHOT_MAX_AGE_MS: u64 = 60 * 1000;

/// Journal records read per step while a queue is replayed at start-up.
pub const QUEUE_JOURNAL_READ_RECORDS: usize = 1000;

/// Bytes read per step while a queue is replayed at start-up.
pub const QUEUE_JOURNAL_READ_BYTES: usize = 8 * 1024 * 1024;

const _: () = assert!(QUEUE_IN_FLIGHT_MAX < QUEUE_TRACKED_MAX);
const _: () = assert!(QUEUE_FETCH_BYTES_MAX <= READER_BATCH_BYTES_MAX);
const _: () = assert!(QUEUE_JOURNAL_RETENTION_HOURS >= rheo_storage::limits::RETENTION_HOURS_MIN);
