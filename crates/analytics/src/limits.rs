//! Every bound of Analytics, named once. Values marked AWS are the service's documented
//! quotas; the others are Rheo's.

/// Applications per account (AWS default quota).
pub const APPLICATIONS_PER_ACCOUNT_DEFAULT: usize = 50;
/// Characters of `ApplicationCode` (AWS model: 102,400).
pub const APPLICATION_CODE_CHARS_MAX: usize = 102_400;
/// Applications one ListApplications page shows when the request gives no `Limit`
/// [DECISION; AWS does not document it]; the model caps `Limit` at 50.
pub const LIST_APPLICATIONS_LIMIT_DEFAULT: usize = 50;
/// Streaming inputs per application (AWS).
pub const INPUTS_MAX: usize = 1;
/// Outputs per application (AWS).
pub const OUTPUTS_MAX: usize = 3;
/// Reference data sources per application (AWS).
pub const REFERENCE_SOURCES_MAX: usize = 1;
/// User tags per application (AWS).
pub const USER_TAGS_MAX: usize = 50;
/// In-application streams one input may fan out to (AWS model: `InputParallelism` 1..64).
pub const INPUT_PARALLELISM_MAX: u32 = 64;
/// A row larger than this goes to `error_stream` (AWS: 512 KiB).
pub const ROW_BYTES_MAX: usize = 512 * 1024;
/// Bytes of one string or binary a function or `||` produces: no value can exceed a row,
/// so a larger result is an error row, refused before it is allocated.
pub const VALUE_BYTES_MAX: usize = ROW_BYTES_MAX;
/// Records one read from an input returns at most.
pub const READ_BATCH_RECORDS: usize = 10_000;
/// Bytes one read from an input returns at most.
pub const READ_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Approximate bytes of open windows (group keys and accumulators) per application;
/// rows that would open a group past it go to `error_stream`.
pub const APP_STATE_BYTES_MAX: usize = 256 * 1024 * 1024;
/// Encoded bytes waiting for one output; reading pauses while it is full.
pub const OUTPUT_PENDING_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Rows of `error_stream` waiting for its output; the oldest are dropped past it.
pub const ERROR_PENDING_ROWS_MAX: usize = 10_000;
/// How long a read epoch lasts at least (checkpoint granularity).
pub const EPOCH_MS: i64 = 1_000;
/// Read epochs whose positions are kept while their rows are held.
pub const EPOCHS_HELD_MAX: usize = 4_096;
/// How often a running application saves its input positions at most.
pub const CHECKPOINT_INTERVAL_MS: i64 = 1_000;
/// How long a stop waits for outputs to take the last rows.
pub const STOP_DRAIN_MS: i64 = 10_000;
/// Retry back-off of an output whose destination is missing or throttling.
pub const SINK_BACKOFF_MS_MIN: u64 = 100;
pub const SINK_BACKOFF_MS_MAX: u64 = 10_000;
/// Records DiscoverInputSchema samples at most.
pub const DISCOVER_SAMPLE_RECORDS: usize = 100;
/// How long DiscoverInputSchema waits for a first record when the stream has none to
/// sample from its starting position.
pub const DISCOVER_WAIT_MS: u64 = 2_000;

const _: () = assert!(SINK_BACKOFF_MS_MIN <= SINK_BACKOFF_MS_MAX);
const _: () = assert!(ROW_BYTES_MAX <= READ_BATCH_BYTES);
