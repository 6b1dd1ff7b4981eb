//! Every bound the storage engine enforces, in one place.
//!
//! Sizes are in bytes, durations in milliseconds; the unit is the last word of each name.

/// Largest record payload the log accepts. Kinesis allows records of up to 10 MiB
/// (`MaxRecordSizeInKiB` = 10240); the engine above enforces the per-stream limit.
pub const RECORD_DATA_BYTES_MAX: usize = 10 * 1024 * 1024;

/// Longest partition key in bytes: 256 Unicode scalar values of up to 4 bytes each.
pub const PARTITION_KEY_BYTES_MAX: usize = 256 * 4;

/// The writer stops draining the queue once a frame holds this many bytes, so one
/// group commit never buffers without bound. A single oversized request still fits:
/// it is written alone.
pub const FRAME_BYTES_TARGET: usize = 32 * 1024 * 1024;

/// Hard ceiling on one frame's payload; the decoder rejects anything larger as corrupt.
/// A PutRecords request is at most 10 MiB of data plus keys, so 64 MiB leaves room.
pub const FRAME_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Appends (requests, not records) that may wait for the writer. Callers await a free
/// slot beyond this, which is the engine's back-pressure.
pub const APPEND_QUEUE_MAX: usize = 4096;

/// Commands (appends and metadata changes) the writer drains per wake-up, besides the
/// byte target [`FRAME_BYTES_TARGET`]: the byte target alone would let any number of
/// tiny appends into one frame, and every one of them waits for that frame's sync.
pub const DRAIN_COMMANDS_MAX: usize = 1024;

/// Chunk references a read copies out of a shard's index at a time. The shard's lock is
/// held only for the copy, never across I/O, and a read near the start of a long shard
/// does not copy its whole index; 64 chunks are more than one read batch usually needs.
pub const READ_WINDOW_CHUNKS: usize = 64;

/// Sync requests waiting for the relaxed mode's syncer thread. One is enough: a queued
/// request has not started yet, so the sync it leads to covers every write made before
/// it, later ones included.
pub const SYNC_QUEUE_MAX: usize = 1;

/// Batches of expired segments waiting for the deleter thread; beyond this the writer
/// deletes them itself. A batch is one retention pass, and passes run seconds apart, so
/// a full queue means the disk is far behind and inline deletion is the back-pressure.
pub const DELETE_QUEUE_MAX: usize = 64;

/// Recovery looks for the next valid frame after damage by reading the segment in
/// windows of this size: large enough for few reads, small enough to allocate freely.
pub const FRAME_SEARCH_WINDOW_BYTES: usize = 1024 * 1024;

/// Bytes of the lock file read to name the process holding a data folder. It holds a
/// decimal pid (at most 7 digits on Linux) and a newline; anything longer is not ours.
pub const LOCK_HOLDER_BYTES_MAX: u64 = 32;

/// A segment is sealed and a new one started once it grows past this size.
pub const SEGMENT_BYTES_DEFAULT: u64 = 128 * 1024 * 1024;

/// A segment is also sealed once it is this old, so that retention can delete data
/// of quiet streams in whole files within about this delay.
pub const SEGMENT_AGE_MS_DEFAULT: u64 = 60 * 60 * 1000;

/// How often the writer looks for expired segments when it is otherwise idle.
pub const RETENTION_CHECK_MS_DEFAULT: u64 = 10_000;

/// Background deletion of an expired segment releases its blocks this many bytes at a
/// time, pausing [`DELETE_STEP_PAUSE_MS`] between steps. Freeing a gigabyte at once makes
/// the file system (and, with `discard`, the device) stall other writes' `fdatasync` for
/// tens of milliseconds: a `rheo bench disk` probe beside 2 GB of deletions saw p99
/// 16.6 ms with plain unlinks and 2.3 ms in 8 MiB steps. The pace caps deletion at about
/// 600 MB/s.
pub const DELETE_STEP_BYTES: u64 = 8 * 1024 * 1024;
/// See [`DELETE_STEP_BYTES`].
pub const DELETE_STEP_PAUSE_MS: u64 = 10;

/// The background scrub verifies sealed segments at this pace after start: a tenth or
/// less of what a disk reads sequentially, so it never competes with the write path, yet
/// 10 GB are checked within three minutes.
pub const SCRUB_BYTES_PER_SEC: u64 = 64 * 1024 * 1024;
/// The scrub pauses after each this many bytes to keep its pace.
pub const SCRUB_STEP_BYTES: u64 = 4 * 1024 * 1024;

/// A warning that repeats (a full disk refusing every append) is logged at most once per
/// this interval, with the count of repeats in between.
pub const REPEATED_WARNING_INTERVAL_MS: u64 = 10_000;

/// Segment files go to the archive in parts of this size (S3's multipart upload needs
/// parts of at least 5 MiB, bar the last): one part is read into memory at a time.
pub const ARCHIVE_PART_BYTES: u64 = 16 * 1024 * 1024;

/// Objects smaller than this go up in one request; larger ones in parts.
pub const ARCHIVE_MULTIPART_THRESHOLD_BYTES: u64 = 32 * 1024 * 1024;

/// A failed upload is retried after a back-off that doubles from this …
pub const ARCHIVE_RETRY_MIN_MS: u64 = 200;
/// … up to this, with jitter, forever: unarchived data is never given up on.
pub const ARCHIVE_RETRY_MAX_MS: u64 = 30_000;

/// The archived-read cache's unit: archived segments are fetched in aligned blocks of
/// this size (a range GET each), so a sequential reader makes one request per block and
/// readers of different shards of one segment share blocks.
pub const ARCHIVE_BLOCK_BYTES: u64 = 4 * 1024 * 1024;

/// Default bytes of archived data kept in memory for readers (`--archive-cache-bytes`).
pub const ARCHIVE_CACHE_BYTES_DEFAULT: u64 = 256 * 1024 * 1024;

/// Default blocks fetched ahead of a sequential reader of archived data.
pub const ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT: u32 = 2;

/// Read-ahead fetches waiting for the prefetch threads; beyond this read-ahead is
/// skipped (it is only an optimisation), so a reader far behind cannot queue without bound.
pub const ARCHIVE_PREFETCH_QUEUE_MAX: usize = 64;

/// Threads fetching read-ahead blocks in the background.
pub const ARCHIVE_PREFETCH_THREADS: usize = 2;

/// Nice value of the log's background threads (archiver, scrubber). Under CPU contention
/// such a thread gets about a tenth of a request thread's share (the kernel weighs nice
/// 10 at 110 against 1024 for nice 0), so appends keep their speed while uploads use
/// what the request path leaves; when the CPU is idle it runs at full speed. Not lower:
/// an archiver that gets nothing under a sustained load would fill the backlog up to
/// the hard limit and then refuse writes.
pub const BACKGROUND_THREAD_NICE: i32 = 10;

/// How often the archiver looks for sealed segments to upload, local files to remove
/// and expired archived segments to delete, when nothing wakes it earlier.
pub const ARCHIVE_CHECK_MS: u64 = 1_000;

/// How often the archiver reconciles the archive with its records (deleting objects a
/// failure leaked at run time); also after any failed delete.
pub const ARCHIVE_RECONCILE_MS: u64 = 3_600_000;

/// Default local hard limit, as a multiple of the local byte budget, when
/// `--local-retention-bytes` is given without `--local-hard-limit-bytes`.
pub const ARCHIVE_HARD_LIMIT_FACTOR_DEFAULT: u64 = 4;

/// Kinesis retention bounds: 24 hours to 365 days.
pub const RETENTION_HOURS_MIN: u32 = 24;
/// See [`RETENTION_HOURS_MIN`].
pub const RETENTION_HOURS_MAX: u32 = 8760;

/// Largest sequence counter: the AWS layout keeps the top bit of the 64-bit counter clear.
pub const LSN_MAX: u64 = (1 << 63) - 1;

/// One hour in milliseconds, for retention arithmetic.
pub const HOUR_MS: u64 = 60 * 60 * 1000;

const _: () = assert!(FRAME_BYTES_TARGET < FRAME_BYTES_MAX);
const _: () = assert!(RECORD_DATA_BYTES_MAX + PARTITION_KEY_BYTES_MAX + 64 < FRAME_BYTES_MAX);
const _: () = assert!(RETENTION_HOURS_MIN <= RETENTION_HOURS_MAX);
