//! The executor of an [`AppPlan`]: synchronous, deterministic, and clock-free. The caller
//! pushes rows with the step's time and advances time; closed windows and projected rows
//! flow through pumps into streams, and rows of streams that outputs read wait in
//! per-stream queues until drained.

use std::sync::Arc;

use crate::plan::{AppPlan, StreamId};
use crate::value::{ErrorRow, Row};

/// Per-application bounds of the executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    pub state_bytes_max: usize,
    pub error_rows_max: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        ExecLimits {
            state_bytes_max: crate::limits::APP_STATE_BYTES_MAX,
            error_rows_max: crate::limits::ERROR_PENDING_ROWS_MAX,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecStats {
    pub state_bytes: usize,
    pub open_groups: usize,
    pub error_rows: u64,
    pub error_rows_dropped: u64,
}

pub struct Executor {
    // SKELETON: replaced by the executor.
    _plan: Arc<AppPlan>,
}

impl Executor {
    /// `outputs` are the streams whose rows are kept for [`Executor::drain`]; rows of
    /// other streams only feed pumps.
    pub fn new(plan: Arc<AppPlan>, outputs: &[StreamId], limits: ExecLimits, start_ms: i64) -> Self {
        let _ = (outputs, limits, start_ms);
        Executor { _plan: plan }
    }

    /// Inserts rows into an input stream at `now_ms` (windows ending at or before it are
    /// closed first). The rows' ROWTIMEs are the caller's and never decrease per stream.
    pub fn push(&mut self, stream: StreamId, rows: &mut Vec<Row>, now_ms: i64) {
        let _ = (stream, rows, now_ms);
    }

    /// Inserts failures found before the executor (input mapping) into `error_stream`.
    pub fn push_errors(&mut self, errors: &mut Vec<ErrorRow>) {
        let _ = errors;
    }

    /// Closes every window whose end is at or before `now_ms`.
    pub fn advance(&mut self, now_ms: i64) {
        let _ = now_ms;
    }

    /// Closes every open window (a graceful stop).
    pub fn close_all(&mut self, now_ms: i64) {
        let _ = now_ms;
    }

    /// When the next window closes on the clock, if any is open.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        None
    }

    /// Moves the rows waiting in an output stream into `out`.
    pub fn drain(&mut self, stream: StreamId, out: &mut Vec<Row>) {
        let _ = (stream, out);
    }

    /// The oldest read epoch still held in open windows or undrained rows.
    pub fn held_epoch(&self) -> Option<u32> {
        None
    }

    pub fn stats(&self) -> ExecStats {
        ExecStats::default()
    }
}
