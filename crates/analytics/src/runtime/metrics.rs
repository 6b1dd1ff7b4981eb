//! Counters of one run, read by the control plane's `render_metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a run did so far; every counter only grows.
#[derive(Debug, Default)]
pub struct RunMetrics {
    /// Records read from the inputs.
    pub records_in: AtomicU64,
    /// Records the outputs' destinations accepted.
    pub rows_out: AtomicU64,
    /// Input records that could not be mapped (each became an `error_stream` row).
    pub mapping_errors: AtomicU64,
    /// Writes to a destination that failed (whole or in part) and were retried.
    pub output_failures: AtomicU64,
    /// Output records a destination refused for good (too large for it), dropped.
    pub rows_dropped: AtomicU64,
    /// Times reading paused because an output's queue was full (back-pressure).
    pub read_pauses: AtomicU64,
    /// Times the run's task failed (a panic) and was run again.
    pub restarts: AtomicU64,
    /// Positions saved.
    pub checkpoints: AtomicU64,
}

impl RunMetrics {
    pub(super) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
