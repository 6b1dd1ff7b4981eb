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
    /// Segment files in use, the active one included.
    pub segments: u64,
    /// Their combined size in bytes.
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
