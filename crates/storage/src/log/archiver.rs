//! The archiver thread (`rheo-log-archiver`): tiers sealed segments to the archive and
//! keeps the local disk within its budget.
//!
//! Each pass, woken by the writer when it seals a segment or every
//! [`ARCHIVE_CHECK_MS`]: on first contact it checks the layout marker and reconciles
//! (`reconcile`), then deletes the objects of archived segments retention expired
//! (`delete`), uploads sealed segments oldest first (`upload`), removes archived segments
//! locally while the local budget is exceeded (`evict`), and sets the gauges.
//!
//! Invariants:
//! - Appends never wait for the archive; only the hard limit (checked by the writer
//!   against [`super::state::ArchiveTier::unarchived_bytes`]) refuses them.
//! - A segment is archived once its manifest is stored and its durable record written;
//!   it is removed locally only after both.
//! - Failures are counted and retried forever, with doubling back-off and jitter.
//! - Reconciliation runs at first contact, every [`ARCHIVE_RECONCILE_MS`] and after a
//!   failed delete, so objects leaked at run time do not wait for a restart.
//! - Stopping: the stop flag is checked between store calls, inside reconciliation's
//!   delete loop, before a record is written and during back-offs; then the store is
//!   closed ([`crate::archive::ObjectArchive::close`]), which ends a call in flight at
//!   once, and queued read-ahead is dropped. An upload cut short has no record, so the
//!   next start uploads it again (same keys; reconciliation keeps objects whose segment
//!   is local).

mod delete;
mod error;
mod evict;
mod reconcile;
mod restore;
mod upload;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::state::{ArchiveTier, Shared};
use crate::archive::{ArchiveReader, ObjectArchive};
use crate::limits::{ARCHIVE_CHECK_MS, ARCHIVE_RECONCILE_MS, ARCHIVE_RETRY_MAX_MS, ARCHIVE_RETRY_MIN_MS};
use error::ArchiverError;
use std::cell::Cell;

pub(super) use restore::{restore_remote, RemoteSegment};

/// The running archiver: its stop flag, a handle to wake it, its thread, and the store
/// and reader it closes when stopped.
pub(super) struct Archiver {
    stop: Arc<AtomicBool>,
    kick: flume::Sender<()>,
    thread: Option<JoinHandle<()>>,
    store: Arc<dyn ObjectArchive>,
    reader: Arc<ArchiveReader>,
}

impl Archiver {
    /// Starts the archiver of `shared`'s archive tier; `kicks` are the writer's wake-ups.
    pub(super) fn spawn(shared: Arc<Shared>, log_dir: PathBuf, kicks: flume::Receiver<()>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (kick, store, reader) = match &shared.archive {
            Some(tier) => (tier.kick.clone(), tier.config.store.clone(), tier.reader.clone()),
            None => return Err(std::io::Error::other("the log has no archive tier")),
        };
        let mut run = Run {
            shared,
            log_dir,
            kicks,
            stop: stop.clone(),
            contact: Contact::NotYet,
            backoff_ms: 0,
            unconfirmed: BTreeSet::new(),
            reconcile_at_ms: 0,
        };
        let thread = std::thread::Builder::new().name("rheo-log-archiver".into()).spawn(move || run.run())?;
        Ok(Archiver { stop, kick, thread: Some(thread), store, reader })
    }

    /// Stops the archiver and waits for it: the store is closed first, so a call in
    /// flight ends at once instead of after the store's timeouts.
    pub(super) fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.kick.try_send(());
        self.store.close();
        self.reader.close();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(message = "Log archiver thread panicked.");
            }
        }
    }
}

/// Whether the archive's layout has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contact {
    NotYet,
    Ready,
    /// The archive holds another layout version, or lacks its marker while archived
    /// records exist: archiving is off until restart.
    Refused,
}

/// What one pass works with.
pub(super) struct Ctx<'a> {
    pub(super) shared: &'a Shared,
    pub(super) tier: &'a ArchiveTier,
    pub(super) log_dir: &'a std::path::Path,
    pub(super) stop: &'a AtomicBool,
    /// Set when objects may have leaked (a failed delete): reconcile soon.
    pub(super) reconcile_due: Cell<bool>,
}

impl Ctx<'_> {
    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

/// The archiver thread's state.
struct Run {
    shared: Arc<Shared>,
    log_dir: PathBuf,
    kicks: flume::Receiver<()>,
    stop: Arc<AtomicBool>,
    contact: Contact,
    /// The current retry back-off (0 after a pass without failures).
    backoff_ms: u64,
    /// Archived segments whose manifest the archive lacked: kept local by this process.
    unconfirmed: BTreeSet<u64>,
    /// When (clock ms) reconciliation is next due.
    reconcile_at_ms: u64,
}

impl Run {
    fn run(&mut self) {
        super::priority::lower_this_thread();
        // The first pass may take long (first contact reconciles the whole archive): the
        // gauges show the backlog start-up found meanwhile, not zeros.
        self.set_gauges();
        while !self.stop.load(Ordering::Acquire) {
            let outcome = self.pass();
            self.set_gauges();
            let wait_ms = match outcome {
                Ok(()) => {
                    self.backoff_ms = 0;
                    ARCHIVE_CHECK_MS
                }
                Err(error) => {
                    self.backoff_ms = (self.backoff_ms * 2).clamp(ARCHIVE_RETRY_MIN_MS, ARCHIVE_RETRY_MAX_MS);
                    let wait_ms = self.backoff_ms + self.jitter_ms(self.backoff_ms / 2);
                    tracing::warn!(message = "Archive pass failed; retrying.", side = error.side(), %error, retry_in_ms = wait_ms);
                    wait_ms
                }
            };
            // A kick ends a normal wait, not a back-off (a busy writer would defeat it).
            self.wait(wait_ms, self.backoff_ms == 0);
        }
    }

    /// One pass; `Err` (after counting it) makes the next one wait a back-off.
    fn pass(&mut self) -> Result<(), ArchiverError> {
        let Some(tier) = self.shared.archive.as_ref() else {
            return Ok(());
        };
        let ctx = Ctx {
            shared: &self.shared,
            tier,
            log_dir: &self.log_dir,
            stop: &self.stop,
            reconcile_due: Cell::new(false),
        };
        match self.contact {
            Contact::Refused => return Ok(()),
            Contact::Ready => {}
            Contact::NotYet => match reconcile::first_contact(&ctx).and_then(|ready| {
                if ready {
                    reconcile::reconcile(&ctx)?;
                }
                Ok(ready)
            }) {
                Ok(true) => {
                    self.contact = Contact::Ready;
                    self.reconcile_at_ms = self.shared.clock.now_ms().saturating_add(ARCHIVE_RECONCILE_MS);
                }
                Ok(false) => {
                    self.contact = Contact::Refused;
                    return Ok(());
                }
                Err(_) if ctx.stopping() => return Ok(()),
                Err(error) => {
                    let error = ArchiverError::from(error);
                    self.shared.counters.archive.upload_failures_total.fetch_add(1, Ordering::Relaxed);
                    // The budget still applies (each removal confirms its manifest first,
                    // so nothing goes while the archive cannot answer).
                    evict::evict(&ctx, &mut self.unconfirmed);
                    return Err(error);
                }
            },
        }
        let now_ms = self.shared.clock.now_ms();
        let reconciled = if self.contact == Contact::Ready && now_ms >= self.reconcile_at_ms {
            // Not first contact: a failure is retried after the back-off, not an hour.
            reconcile::reconcile(&ctx).inspect(|()| {
                self.reconcile_at_ms = now_ms.saturating_add(ARCHIVE_RECONCILE_MS);
            })
        } else {
            Ok(())
        };
        delete::delete_expired(&ctx);
        let uploaded = upload::upload_backlog(&ctx);
        evict::evict(&ctx, &mut self.unconfirmed);
        if ctx.reconcile_due.get() {
            self.reconcile_at_ms = 0;
        }
        if let Err(error) = reconciled {
            self.shared.counters.archive.delete_failures_total.fetch_add(1, Ordering::Relaxed);
            return Err(error.into());
        }
        uploaded
    }

    /// Up to `max_ms` of jitter from the log's random source (none if it fails).
    fn jitter_ms(&self, max_ms: u64) -> u64 {
        let mut bytes = [0u8; 8];
        match self.shared.random.fill(&mut bytes) {
            Ok(()) if max_ms > 0 => u64::from_le_bytes(bytes) % max_ms,
            _ => 0,
        }
    }

    /// Waits `ms`, or until stopped; a kick ends the wait early unless it is a back-off.
    fn wait(&self, ms: u64, kick_ends_wait: bool) {
        let deadline = Instant::now() + Duration::from_millis(ms);
        while !self.stop.load(Ordering::Acquire) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match self.kicks.recv_timeout(left) {
                Ok(()) if kick_ends_wait => return,
                Ok(()) => {}
                Err(flume::RecvTimeoutError::Timeout) => return,
                Err(flume::RecvTimeoutError::Disconnected) => std::thread::sleep(left),
            }
        }
    }

    /// Sets the gauges from the segment list as it is now.
    fn set_gauges(&self) {
        let Some(tier) = self.shared.archive.as_ref() else {
            return;
        };
        let live: std::collections::BTreeSet<u64> = tier.archived.lock().live.keys().copied().collect();
        let active = self.shared.active_segment_id.load(Ordering::Acquire);
        let (mut local, mut backlog, mut remote) = ((0u64, 0u64), (0u64, 0u64), (0u64, 0u64));
        for (id, segment) in self.shared.segments.read().iter() {
            let len = segment.file.len().unwrap_or(0);
            let slot = if segment.local { &mut local } else { &mut remote };
            *slot = (slot.0 + 1, slot.1 + len);
            if segment.local && *id != active && !live.contains(id) {
                backlog = (backlog.0 + 1, backlog.1 + len);
            }
        }
        let counters = &self.shared.counters.archive;
        for (gauge, value) in [
            (&counters.local_segments, local.0),
            (&counters.local_bytes, local.1),
            (&counters.backlog_segments, backlog.0),
            (&counters.backlog_bytes, backlog.1),
            (&counters.remote_only_segments, remote.0),
            (&counters.remote_only_bytes, remote.1),
        ] {
            gauge.store(value, Ordering::Relaxed);
        }
        counters.writes_refused.store(tier.backlog_full().is_some(), Ordering::Relaxed);
    }
}
