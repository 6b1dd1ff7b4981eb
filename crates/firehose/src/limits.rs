//! Firehose quotas and bounds, each named once (reference: `firehose.md` §9).

/// Largest record, before base64.
pub const RECORD_BYTES_MAX: usize = 1_024_000;
/// Most records in one PutRecordBatch.
pub const BATCH_RECORDS_MAX: usize = 500;
/// Most bytes (of record data) in one PutRecordBatch.
pub const BATCH_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Delivery streams per account (AWS's current default quota).
pub const DELIVERY_STREAM_LIMIT_DEFAULT: u32 = 5_000;
/// Tags per delivery stream.
pub const TAGS_MAX: usize = 50;
/// How long accepted records wait for a destination that is down (AWS keeps 24 h).
pub const RETENTION_HOURS: u32 = 24;
/// Buffer size bounds for S3 destinations, MiB.
pub const S3_BUFFER_MIB_RANGE: (u64, u64) = (1, 128);
/// Buffer size bounds for HTTP endpoint destinations, MiB.
pub const HTTP_BUFFER_MIB_RANGE: (u64, u64) = (1, 64);
/// Buffer interval bounds, seconds.
pub const BUFFER_INTERVAL_SECS_RANGE: (u64, u64) = (0, 900);
/// Defaults when the caller gives no buffering hints.
pub const BUFFER_MIB_DEFAULT: u64 = 5;
pub const BUFFER_INTERVAL_SECS_DEFAULT: u64 = 300;
/// The same default interval in milliseconds: the default of `rheo serve
/// --firehose-default-buffer-interval-ms`, and the longest interval it accepts (the flag can
/// only shorten AWS's default).
pub const BUFFER_INTERVAL_MS_DEFAULT: u64 = BUFFER_INTERVAL_SECS_DEFAULT * 1_000;
/// The shortest default interval `--firehose-default-buffer-interval-ms` accepts.
pub const BUFFER_INTERVAL_MS_DEFAULT_MIN: u64 = 1;
/// Retry duration bounds, seconds, and the defaults AWS applies.
pub const RETRY_SECS_MAX: u64 = 7_200;
pub const HTTP_RETRY_SECS_DEFAULT: u64 = 300;
pub const REDSHIFT_RETRY_SECS_DEFAULT: u64 = 3_600;
/// The id of a stream's only destination.
pub const DESTINATION_ID: &str = "destinationId-000000000001";
/// ListDeliveryStreams page size: default and maximum.
pub const LIST_LIMIT_DEFAULT: usize = 10;
pub const LIST_LIMIT_MAX: usize = 10_000;
/// Records read from the log per step of a delivery task.
pub const READ_BATCH_RECORDS: usize = 10_000;
/// Bytes read from the log per step of a delivery task.
pub const READ_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Records read from a Kinesis source shard per step.
pub const SOURCE_BATCH_RECORDS: usize = 10_000;
/// How long a Kinesis source waits before retrying a failed read of the source stream or
/// a failed copy into the delivery stream's log.
pub const SOURCE_RETRY_MS: u64 = 1_000;
/// First wait after a failed delivery attempt to object storage or PostgreSQL (or to
/// start a jq worker), and the cap; no jitter.
pub const DELIVERY_RETRY_INITIAL_MS: u64 = 1_000;
pub const DELIVERY_RETRY_MAX_MS: u64 = 60_000;
/// Each retry of any destination waits this many times longer than the one before.
pub const RETRY_BACKOFF_MULTIPLIER: f64 = 2.0;
/// The HTTP endpoint protocol's first wait after a failed attempt, its cap, and the
/// jitter: each wait is randomly stretched or shrunk by up to this fraction, so that many
/// streams failing together do not retry in lock-step.
pub const HTTP_RETRY_INITIAL_MS: u64 = 1_000;
pub const HTTP_RETRY_MAX_MS: u64 = 120_000;
pub const HTTP_RETRY_JITTER: f64 = 0.15;
/// Records in one HTTP endpoint request (AWS sends at most 10,000).
pub const HTTP_RECORDS_PER_REQUEST_MAX: usize = 10_000;

// Bounds on `MetadataExtraction` (jq) evaluation. jaq has no step limit or interruption
// hook, and a runaway query can take any amount of CPU, memory or stack, so queries run in
// a separate worker process (`crate::jq`) that these bounds apply to.

/// Wall-clock time one record's query may take; the worker is killed past it and the record
/// goes to the error output. Generous: real extraction queries take microseconds.
pub const JQ_RECORD_TIMEOUT_MS: u64 = 1_000;
/// Address space (`RLIMIT_AS`) of a jq worker. Allocation beyond it aborts the worker, and
/// the record being evaluated goes to the error output.
pub const JQ_WORKER_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// Most bytes of partition keys and values one record's query may produce.
pub const JQ_OUTPUT_BYTES_MAX: usize = 1024 * 1024;
/// CPU seconds (`RLIMIT_CPU`) a jq worker may use over its life: a backstop should the
/// server die while a worker spins (the worker also exits once its parent is gone).
pub const JQ_WORKER_CPU_SECS: u64 = 300;
/// A worker is retired (and a fresh one started on next use) after this much time spent
/// evaluating, so that its lifetime CPU limit is never reached by healthy work.
pub const JQ_WORKER_RETIRE_BUSY_MS: u64 = 120_000;
/// Most records and bytes sent to a jq worker in one request.
pub const JQ_BATCH_RECORDS_MAX: usize = 1_000;
pub const JQ_BATCH_BYTES_MAX: usize = 4 * 1024 * 1024;
/// How long a new worker may take to start and answer; a worker that does not is killed
/// and the delivery retried later.
pub const JQ_WORKER_START_TIMEOUT_MS: u64 = 10_000;
/// How often a worker checks that the server that started it is still alive.
pub const JQ_WORKER_PARENT_POLL_MS: u64 = 500;

// Kinesis channels (`crate::channel`). Sources: the developer guide's "Data delivery
// concepts" (freshness) and "Delivery quotas and limits" pages.

/// `DataFreshnessInSeconds` bounds and default.
pub const CHANNEL_FRESHNESS_SECS_MIN: u32 = 300;
pub const CHANNEL_FRESHNESS_SECS_MAX: u32 = 900;
pub const CHANNEL_FRESHNESS_SECS_DEFAULT: u32 = 300;
/// Channels delivering to general purpose S3 per stream ("Deliveries per stream: one to
/// streaming tables and one to a general purpose bucket").
pub const S3_CHANNELS_PER_STREAM_MAX: u32 = 1;
/// Channels of all destination types per stream; with the on-demand stream quota this
/// bounds the account's channels (`ChannelCountLimit`).
pub const CHANNELS_PER_STREAM_MAX: u32 = 2;
/// ListChannels page size: default and most ("ListChannels maximum results per page: 100").
pub const CHANNEL_LIST_LIMIT: usize = 100;
/// Most bytes and records a channel buffers before it writes an object, whatever its
/// freshness: what one object may hold and what one channel's buffer may cost.
pub const CHANNEL_BUFFER_BYTES_MAX: usize = 64 * 1024 * 1024;
pub const CHANNEL_BUFFER_RECORDS_MAX: usize = 500_000;
/// Where records that fail validation go when the channel names no dead-letter prefix
/// (AWS: "the destination bucket with an error prefix", no prefix given).
pub const CHANNEL_ERROR_PREFIX_DEFAULT: &str = "kinesis-channel-errors/";
