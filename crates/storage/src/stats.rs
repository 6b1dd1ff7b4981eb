//! What the log counts about its own work, for the server to export as metrics.
//!
//! Plain numbers: the storage engine knows nothing of Prometheus. The one figure an
//! operator of a durable log needs most is how long the disk takes to make a commit
//! durable, since every acknowledgement and every reader waits for it; it is kept as a
//! histogram so that rare stalls are not averaged away.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (inclusive) of the data-sync latency histogram, in microseconds: from the
/// sub-millisecond syncs of a quiet SSD to the second-long stalls of a busy shared disk,
/// with 20 ms, the put-to-get latency a consumer should expect, as one of the bounds.
pub const SYNC_BUCKET_BOUNDS_MICROS: [u64; 14] =
    [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000];

/// Buckets of the histogram: one per bound and one for slower syncs.
pub const SYNC_BUCKETS: usize = SYNC_BUCKET_BOUNDS_MICROS.len() + 1;

/// A snapshot of one log's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Syncs of segment data (`fdatasync`) per latency bucket, not cumulative: entry `i`
    /// counts syncs slower than bound `i - 1` and at most bound `i` of
    /// [`SYNC_BUCKET_BOUNDS_MICROS`]; the last entry counts those slower than every bound.
    pub sync_buckets: [u64; SYNC_BUCKETS],
    /// Total time spent in those syncs, in microseconds.
    pub sync_micros_sum: u64,
    /// Frames written (one per group commit).
    pub commits: u64,
    /// Records appended.
    pub records_appended: u64,
    /// Bytes written to segment files, frame headers included.
    pub bytes_written: u64,
    /// Segments in use, the active one included (with an archive: those only the
    /// archive holds too).
    pub segments: u64,
    /// Combined size in bytes of the segment files on the local disk (without the
    /// segments only the archive holds: those are [`ArchiveStats::remote_only_bytes`]).
    pub segment_bytes: u64,
    /// Expired segments handed to the background deleter and not yet gone.
    pub segments_pending_delete: u64,
    /// Whether a failed write or sync stopped the log from accepting writes.
    pub poisoned: bool,
    /// Chunks found damaged on disk since start (by reads or the background scrub).
    pub damaged_chunks: u64,
    /// Records in those chunks.
    pub damaged_records: u64,
    /// Bytes of sealed segments the background scrub has verified since start.
    pub scrubbed_bytes: u64,
    /// Archive tiering (all zero without `--archive`).
    pub archive: ArchiveStats,
}

impl LogStats {
    /// Syncs counted in all buckets.
    pub fn sync_count(&self) -> u64 {
        self.sync_buckets.iter().sum()
    }
}

/// The bucket a sync of `micros` falls in.
pub(crate) fn sync_bucket(micros: u64) -> usize {
    SYNC_BUCKET_BOUNDS_MICROS.partition_point(|bound| *bound < micros)
}

/// The live counters, updated by the writer, syncer and deleter threads.
#[derive(Default)]
pub(crate) struct Counters {
    sync_buckets: [AtomicU64; SYNC_BUCKETS],
    sync_micros_sum: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) records_appended: AtomicU64,
    pub(crate) bytes_written: AtomicU64,
    pub(crate) segments_pending_delete: AtomicU64,
    pub(crate) scrubbed_bytes: AtomicU64,
    pub(crate) archive: std::sync::Arc<ArchiveCounters>,
}

/// What the archive tier reports: backlog, uploads, local removals, archive deletions,
/// reads through the cache, and whether appends are refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    /// Whether the log tiers to an archive at all.
    pub enabled: bool,
    /// Sealed segments not yet archived, and their bytes (the upload backlog).
    pub backlog_segments: u64,
    /// See `backlog_segments`.
    pub backlog_bytes: u64,
    /// Segment files on the local disk (sealed and active) and their bytes.
    pub local_segments: u64,
    /// See `local_segments`.
    pub local_bytes: u64,
    /// Segments held only in the archive (removed locally) and their bytes.
    pub remote_only_segments: u64,
    /// See `remote_only_segments`.
    pub remote_only_bytes: u64,
    /// Segments uploaded since start, and their bytes (segment and index files).
    pub uploaded_segments_total: u64,
    /// See `uploaded_segments_total`.
    pub uploaded_bytes_total: u64,
    /// Calls to the archive on the upload path that failed since start (each is retried):
    /// a put of a segment, index or manifest, or the first contact (layout marker,
    /// reconciliation). Failures of the local side are counted in `local_failures_total`.
    pub upload_failures_total: u64,
    /// Local steps of the archiver that failed since start (each is retried): reading a
    /// segment or its index, writing or syncing a durable record or the log folder,
    /// removing an archived segment's local file.
    pub local_failures_total: u64,
    /// Segments recorded as archived whose manifest the archive lacked when eviction
    /// asked for it (each is then kept locally until restart): the archive lost data.
    pub missing_manifests_total: u64,
    /// Whether archiving is off because the archive's layout marker is of another
    /// version, or missing while archived records exist (until restart).
    pub refused: bool,
    /// Upload latency histogram over [`UPLOAD_BUCKET_BOUNDS_MS`] (whole segment, all its
    /// objects), and the sum in milliseconds.
    pub upload_buckets: [u64; UPLOAD_BUCKETS],
    /// See `upload_buckets`.
    pub upload_ms_sum: u64,
    /// Archived segments whose local files were removed by the local budget.
    pub evicted_segments_total: u64,
    /// Segments whose objects retention deleted from the archive.
    pub deleted_segments_total: u64,
    /// Deletions from the archive that failed (retried at the next pass).
    pub delete_failures_total: u64,
    /// Objects reconciliation found leaked and deleted.
    pub reconciled_objects_total: u64,
    /// Reads of archived data: served from the cache, fetched from the archive, failed.
    pub cache_hits_total: u64,
    /// See `cache_hits_total`.
    pub fetches_total: u64,
    /// Bytes fetched from the archive.
    pub fetched_bytes_total: u64,
    /// Fetches that failed.
    pub fetch_failures_total: u64,
    /// Bytes the read cache holds now.
    pub cache_bytes: u64,
    /// Appends refused by the local hard limit since start.
    pub refused_appends_total: u64,
    /// Whether appends are refused right now.
    pub writes_refused: bool,
}

/// Upper bounds (milliseconds) of the upload-latency buckets; the last bucket is open.
pub const UPLOAD_BUCKET_BOUNDS_MS: [u64; 10] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000];
/// Buckets of the upload-latency histogram.
pub const UPLOAD_BUCKETS: usize = UPLOAD_BUCKET_BOUNDS_MS.len() + 1;

/// The archive tier's live counters (the gauges are computed at snapshot time by the
/// archiver, which owns the segment lists).
#[derive(Default)]
pub(crate) struct ArchiveCounters {
    pub(crate) enabled: std::sync::atomic::AtomicBool,
    pub(crate) backlog_segments: AtomicU64,
    pub(crate) backlog_bytes: AtomicU64,
    pub(crate) local_segments: AtomicU64,
    pub(crate) local_bytes: AtomicU64,
    pub(crate) remote_only_segments: AtomicU64,
    pub(crate) remote_only_bytes: AtomicU64,
    pub(crate) uploaded_segments_total: AtomicU64,
    pub(crate) uploaded_bytes_total: AtomicU64,
    pub(crate) upload_failures_total: AtomicU64,
    pub(crate) local_failures_total: AtomicU64,
    pub(crate) missing_manifests_total: AtomicU64,
    pub(crate) refused: std::sync::atomic::AtomicBool,
    upload_buckets: [AtomicU64; UPLOAD_BUCKETS],
    upload_ms_sum: AtomicU64,
    pub(crate) evicted_segments_total: AtomicU64,
    pub(crate) deleted_segments_total: AtomicU64,
    pub(crate) delete_failures_total: AtomicU64,
    pub(crate) reconciled_objects_total: AtomicU64,
    pub(crate) cache_hits_total: AtomicU64,
    pub(crate) fetches_total: AtomicU64,
    pub(crate) fetched_bytes_total: AtomicU64,
    pub(crate) fetch_failures_total: AtomicU64,
    pub(crate) cache_bytes: AtomicU64,
    pub(crate) refused_appends_total: AtomicU64,
    pub(crate) writes_refused: std::sync::atomic::AtomicBool,
}

impl ArchiveCounters {
    /// Records one finished segment upload.
    pub(crate) fn upload_took(&self, ms: u64) {
        let bucket = UPLOAD_BUCKET_BOUNDS_MS.iter().position(|bound| ms <= *bound).unwrap_or(UPLOAD_BUCKETS - 1);
        self.upload_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.upload_ms_sum.fetch_add(ms, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ArchiveStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ArchiveStats {
            enabled: self.enabled.load(Ordering::Relaxed),
            backlog_segments: load(&self.backlog_segments),
            backlog_bytes: load(&self.backlog_bytes),
            local_segments: load(&self.local_segments),
            local_bytes: load(&self.local_bytes),
            remote_only_segments: load(&self.remote_only_segments),
            remote_only_bytes: load(&self.remote_only_bytes),
            uploaded_segments_total: load(&self.uploaded_segments_total),
            uploaded_bytes_total: load(&self.uploaded_bytes_total),
            upload_failures_total: load(&self.upload_failures_total),
            local_failures_total: load(&self.local_failures_total),
            missing_manifests_total: load(&self.missing_manifests_total),
            refused: self.refused.load(Ordering::Relaxed),
            upload_buckets: std::array::from_fn(|i| load(&self.upload_buckets[i])),
            upload_ms_sum: load(&self.upload_ms_sum),
            evicted_segments_total: load(&self.evicted_segments_total),
            deleted_segments_total: load(&self.deleted_segments_total),
            delete_failures_total: load(&self.delete_failures_total),
            reconciled_objects_total: load(&self.reconciled_objects_total),
            cache_hits_total: load(&self.cache_hits_total),
            fetches_total: load(&self.fetches_total),
            fetched_bytes_total: load(&self.fetched_bytes_total),
            fetch_failures_total: load(&self.fetch_failures_total),
            cache_bytes: load(&self.cache_bytes),
            refused_appends_total: load(&self.refused_appends_total),
            writes_refused: self.writes_refused.load(Ordering::Relaxed),
        }
    }
}

impl Counters {
    pub(crate) fn sync_took(&self, micros: u64) {
        self.sync_buckets[sync_bucket(micros)].fetch_add(1, Ordering::Relaxed);
        self.sync_micros_sum.fetch_add(micros, Ordering::Relaxed);
    }

    /// The counters' part of a snapshot; the caller fills in the figures it owns.
    pub(crate) fn snapshot(&self) -> LogStats {
        LogStats {
            sync_buckets: std::array::from_fn(|i| self.sync_buckets[i].load(Ordering::Relaxed)),
            sync_micros_sum: self.sync_micros_sum.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            records_appended: self.records_appended.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            segments_pending_delete: self.segments_pending_delete.load(Ordering::Relaxed),
            scrubbed_bytes: self.scrubbed_bytes.load(Ordering::Relaxed),
            archive: self.archive.snapshot(),
            ..LogStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_lands_in_the_first_bucket_whose_bound_it_does_not_exceed() {
        assert_eq!(sync_bucket(0), 0);
        assert_eq!(sync_bucket(100), 0);
        assert_eq!(sync_bucket(101), 1);
        assert_eq!(sync_bucket(20_000), 7);
        assert_eq!(sync_bucket(20_001), 8);
        assert_eq!(sync_bucket(2_500_000), SYNC_BUCKETS - 2);
        assert_eq!(sync_bucket(u64::MAX), SYNC_BUCKETS - 1);
    }

    #[test]
    fn bounds_increase() {
        assert!(SYNC_BUCKET_BOUNDS_MICROS.windows(2).all(|w| w[0] < w[1]));
    }
}
