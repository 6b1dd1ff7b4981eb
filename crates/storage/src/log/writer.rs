//! The writer thread: the only thread that changes the log. It drains its queue,
//! commits the appends it found as one group, runs metadata changes in queue order
//! between them, and uses idle time for housekeeping (the relaxed mode's periodic sync,
//! rolling old segments, retention).
//!
//! Invariants:
//! - Every change (appends and metadata alike) goes through this one thread, so the LSN
//!   counter, the active segment and the metadata files have a single owner.
//! - A metadata change sees every append queued before it.
//! - One wake-up drains at most [`DRAIN_COMMANDS_MAX`] commands and about
//!   [`FRAME_BYTES_TARGET`] bytes, so one group commit never buffers without bound.
//! - Stopping finishes what was queued, then stops the deleter (unpaced) and the syncer,
//!   then syncs what was written unless the log is poisoned.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::command::{Command, Control};
use super::commit::{Committer, PendingAppend};
use super::deleter::Deleter;
use super::lsn::LsnCounter;
use super::retention::{self, DeleteMode};
use super::state::Shared;
use super::streams::Streams;
use super::types::Durability;
use crate::error::Result;
use crate::limits::{DRAIN_COMMANDS_MAX, FRAME_BYTES_TARGET};

/// The writer thread's state.
pub(super) struct Writer {
    shared: Arc<Shared>,
    receiver: flume::Receiver<Command>,
    log_dir: PathBuf,
    lsns: LsnCounter,
    committer: Committer,
    streams: Streams,
    durability: Durability,
    retention_check_ms: u64,
    last_retention_ms: u64,
    /// A retention pass is wanted at the next housekeeping, whatever the timer says.
    retention_due: bool,
    /// Unlinks expired segments off the write path; joined when the writer stops.
    deleter: Option<Deleter>,
}

/// What the writer is made of, as start-up assembled it.
pub(super) struct WriterParts {
    pub(super) shared: Arc<Shared>,
    pub(super) receiver: flume::Receiver<Command>,
    pub(super) log_dir: PathBuf,
    pub(super) lsns: LsnCounter,
    pub(super) committer: Committer,
    pub(super) streams: Streams,
    pub(super) durability: Durability,
    pub(super) retention_check_ms: u64,
}

impl Writer {
    /// A writer over `parts`, with its deleter thread started.
    pub(super) fn new(parts: WriterParts) -> Self {
        let WriterParts { shared, receiver, log_dir, lsns, committer, streams, durability, retention_check_ms } = parts;
        let deleter = Deleter::spawn(shared.clone(), log_dir.clone());
        Writer {
            last_retention_ms: shared.clock.now_ms(),
            shared,
            receiver,
            log_dir,
            lsns,
            committer,
            streams,
            durability,
            retention_check_ms,
            retention_due: false,
            deleter,
        }
    }

    /// Serves the queue until every sender is gone, then stops cleanly.
    pub(super) fn run(&mut self) {
        loop {
            let timeout = Duration::from_millis(self.idle_timeout_ms());
            let first = match self.receiver.recv_timeout(timeout) {
                Ok(command) => command,
                Err(flume::RecvTimeoutError::Timeout) => {
                    self.housekeeping();
                    continue;
                }
                Err(flume::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            let mut bytes = 0usize;
            while batch.len() < DRAIN_COMMANDS_MAX && bytes < FRAME_BYTES_TARGET {
                match self.receiver.try_recv() {
                    Ok(command) => {
                        if let Command::Append { records, .. } = &command {
                            bytes += records.iter().map(|r| r.data.len() + r.partition_key.len()).sum::<usize>();
                        }
                        batch.push(command);
                    }
                    Err(_) => break,
                }
            }
            self.process(batch);
            self.housekeeping();
        }
        if let Some(deleter) = self.deleter.take() {
            // Stopping must not wait for paced deletions: the rest is freed at once.
            deleter.stop();
        }
        self.committer.finish();
    }

    fn idle_timeout_ms(&self) -> u64 {
        match self.durability {
            Durability::Relaxed { interval_ms } => interval_ms.clamp(1, self.retention_check_ms.max(1)),
            _ => self.retention_check_ms.max(1),
        }
    }

    fn housekeeping(&mut self) {
        let now = self.shared.clock.now_ms();
        self.committer.sync_if_due(now);
        if self.retention_due || now.saturating_sub(self.last_retention_ms) >= self.retention_check_ms {
            self.last_retention_ms = now;
            self.retention_due = false;
            if let Err(error) = self.enforce_retention(DeleteMode::Background) {
                tracing::error!(message = "Retention pass failed.", %error);
            }
        }
    }

    /// Rolls the active segment if it is old, then deletes expired segments.
    fn enforce_retention(&mut self, mode: DeleteMode) -> Result<usize> {
        self.committer.roll_if_old(&self.lsns)?;
        let active_id = self.committer.active_id();
        retention::enforce(&self.shared, &self.log_dir, active_id, mode, self.deleter.as_ref())
    }

    fn process(&mut self, batch: Vec<Command>) {
        let mut appends: Vec<PendingAppend> = Vec::new();
        for command in batch {
            match command {
                Command::Append { records, reply } => appends.push(PendingAppend::new(records, reply)),
                Command::Control(control) => {
                    // Metadata changes see every append queued before them.
                    self.committer.commit(&mut self.lsns, std::mem::take(&mut appends));
                    self.control(control);
                }
            }
        }
        self.committer.commit(&mut self.lsns, appends);
    }

    fn control(&mut self, control: Control) {
        match control {
            Control::CreateStream { spec, reply } => {
                let result = self.streams.create(&mut self.lsns, spec);
                let _ = reply.send(result);
            }
            Control::UpdateStream { stream_id, update, reply } => {
                let result = self.streams.update(&mut self.lsns, stream_id, update);
                let _ = reply.send(result);
            }
            Control::DeleteStream { stream_id, reply } => {
                let result = self.streams.delete(stream_id);
                if result.is_ok() {
                    // The stream's sealed segments may now be wholly dead: give their space
                    // back at the next housekeeping rather than up to a retention check later.
                    self.retention_due = true;
                }
                let _ = reply.send(result);
            }
            Control::EnforceRetention { reply } => {
                // An explicit request returns once the files are gone.
                let _ = reply.send(self.enforce_retention(DeleteMode::Inline));
            }
            Control::Sync { reply } => {
                let _ = reply.send(self.committer.sync_now());
            }
        }
        self.shared.next_lsn_hint.store(self.lsns.next(), Ordering::Release);
    }
}
