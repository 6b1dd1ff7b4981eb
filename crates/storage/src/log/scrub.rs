//! The background scrub of sealed segments that start-up did not read.
//!
//! Start-up trusts a sealed segment's index without reading the segment (so a start with
//! gigabytes of data stays fast). A flipped bit inside such a segment would otherwise go
//! unnoticed until a reader hit it. So after start a thread reads every chunk of those
//! segments once, paced to [`crate::limits::SCRUB_BYTES_PER_SEC`] so it never competes with the write
//! path for the disk, and every read verifies the chunks it loads as well. Either way a
//! damaged chunk goes into the damage register (`damage.rs`), which makes reads that reach
//! it fail with [`crate::StorageError::Damaged`] while everything else stays readable.
//!
//! Invariant: the scrub only reads, and only local files (segments only the archive
//! holds are verified as their blocks are fetched). It registers damage only while the file it
//! read is still the segment's local file, so a segment that retention deleted or the archive
//! tier evicted while it was being checked is never reported.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::damage::{ChunkAt, DamagedChunk};
use super::recovery;
use super::state::Shared;
use crate::format::IndexEntry;
use crate::limits::SCRUB_STEP_BYTES;

/// A sealed segment whose chunks start-up took from its index without reading them.
pub(super) struct UnverifiedSegment {
    pub(super) id: u64,
    pub(super) entries: Vec<IndexEntry>,
}

/// The scrub thread; dropping `stop` ends it at its next step.
pub(super) struct Scrubber {
    stop: Option<flume::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Scrubber {
    /// Stops the scrub and waits for it.
    pub(super) fn stop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(message = "Log scrub thread panicked.");
            }
        }
    }
}

/// Starts verifying the chunks of `segments` in the background.
pub(super) fn spawn(shared: Arc<Shared>, segments: Vec<UnverifiedSegment>, bytes_per_sec: u64) -> Option<Scrubber> {
    if segments.is_empty() || bytes_per_sec == 0 {
        return None;
    }
    let (stop, stopped) = flume::bounded::<()>(0);
    let pause = Duration::from_micros(SCRUB_STEP_BYTES.saturating_mul(1_000_000) / bytes_per_sec.max(1));
    let thread = std::thread::Builder::new()
        .name("rheo-log-scrubber".into())
        .spawn(move || {
            super::priority::lower_this_thread();
            let mut since_pause = 0u64;
            let mut verified = 0u64;
            for UnverifiedSegment { id: segment_id, entries } in segments {
                for entry in entries {
                    let at = ChunkAt { segment_id, offset: entry.offset };
                    // The segment may have expired meanwhile; then there is nothing to check.
                    // Once only the archive holds it, its chunks are verified when fetched.
                    let Some(file) =
                        shared.segments.read().get(&segment_id).filter(|s| s.local).map(|s| s.file.clone())
                    else {
                        break;
                    };
                    if shared.damage.check(at).is_none() {
                        if let Err(detail) = recovery::verify_chunk(&*file, &entry) {
                            // Eviction swaps the file and shrinks the unlinked one under
                            // this handle: only a read of the file still in use is damage.
                            let same_file = shared
                                .segments
                                .read()
                                .get(&segment_id)
                                .is_some_and(|s| s.local && Arc::ptr_eq(&s.file, &file));
                            if same_file {
                                shared.damage.report(at, DamagedChunk { entry, detail });
                            }
                        }
                    }
                    verified += u64::from(entry.len);
                    shared.counters.scrubbed_bytes.fetch_add(u64::from(entry.len), Ordering::Relaxed);
                    since_pause += u64::from(entry.len);
                    if since_pause >= SCRUB_STEP_BYTES {
                        since_pause = 0;
                        if !matches!(stopped.recv_timeout(pause), Err(flume::RecvTimeoutError::Timeout)) {
                            return;
                        }
                    }
                }
                if !matches!(stopped.try_recv(), Err(flume::TryRecvError::Empty)) {
                    return;
                }
            }
            let damaged = shared.damage.totals();
            tracing::info!(
                message = "Scrub of sealed segments finished.",
                verified_bytes = verified,
                damaged_chunks = damaged.chunks,
                damaged_records = damaged.records,
            );
        })
        .ok()?;
    Some(Scrubber { stop: Some(stop), thread: Some(thread) })
}
