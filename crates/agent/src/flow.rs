//! One flow: looks at its folder, follows its files through rotation, cuts and processes
//! records, sends them in bounded batches and checkpoints what is acknowledged.
//!
//! Reading and sending alternate in one task, one batch in flight: a batch is sent when it
//! is full (records or bytes) or its oldest record is `maxBufferAgeMillis` old, and the
//! checkpoint is written once it is acknowledged. So a crash re-sends at most the batch
//! that was in flight, and lines of a file are sent in file order.
//!
//! Files are read in the order they are tracked; a rotated file (or the copy made by
//! copytruncate) comes before the file that replaced it, so the older lines of a lineage
//! are sent first unless the rotated file is more than [`MAX_READ_BYTES_PER_PASS`] behind:
//! each file gets that much per pass and the pass moves on, so one busy file cannot keep
//! the others (a rotated file's new lineage included) from being read.

use std::fs::File;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::Instant;

use crate::assemble::{Assembled, Assembler};
use crate::checkpoint::FileCheckpoint;
use crate::config::{FlowConfig, InitialPosition};
use crate::metrics::FlowMetrics;
use crate::process::Outcome;
use crate::rotation::{reconcile, Decision, FileId, Fingerprint, ListedView, TrackedView, FINGERPRINT_BYTES};
use crate::send::{Destination, Outgoing};
use crate::{AgentError, CheckpointStore};

/// Bytes read from a file in one read call.
pub const READ_CHUNK_BYTES: usize = 64 * 1024;
/// Bytes read from one file in one pass before the pass moves to the next file (so one
/// busy file can keep neither the other files nor the look at the folder waiting).
pub const MAX_READ_BYTES_PER_PASS: u64 = 8 * 1024 * 1024;
/// Files of one flow followed at once; more matching files are ignored (with a warning).
pub const MAX_TRACKED_FILES: usize = 512;
/// How long a multi-line record waits for the next start line once its file is quiet.
pub const MULTI_LINE_IDLE_FLUSH: Duration = Duration::from_secs(1);

struct Tracker {
    key: u64,
    id: FileId,
    path: PathBuf,
    file: Option<File>,
    fingerprint: Option<Fingerprint>,
    /// The file's first bytes when last looked at (empty until looked at after a restore):
    /// what a copy still being written is compared with.
    head: Vec<u8>,
    read_offset: u64,
    acked_offset: u64,
    assembler: Assembler,
    gone: bool,
    drained: bool,
    last_data: Instant,
}

struct Buffered {
    record: Outgoing,
    key: u64,
    end_offset: u64,
}

/// A matching file as one open handle saw it: identity, size and first bytes all come
/// from the same descriptor, so a rotation between looking and opening cannot pair one
/// file's identity with another's content.
struct Listed {
    path: PathBuf,
    id: FileId,
    size: u64,
    prefix: Vec<u8>,
    /// The handle, until a tracker takes it.
    file: Option<File>,
}

/// A running flow.
pub struct Flow {
    config: FlowConfig,
    destination: Destination,
    metrics: Arc<FlowMetrics>,
    checkpoints: Arc<CheckpointStore>,
    trackers: Vec<Tracker>,
    next_key: u64,
    buffer: Vec<Buffered>,
    buffer_bytes: usize,
    buffer_since: Option<Instant>,
    apply_initial_position: bool,
    last_written: Option<Vec<FileCheckpoint>>,
}

impl Flow {
    /// A flow resuming from `restored` (its checkpointed files; empty at the first start).
    pub fn new(
        config: FlowConfig,
        destination: Destination,
        metrics: Arc<FlowMetrics>,
        checkpoints: Arc<CheckpointStore>,
        restored: Vec<FileCheckpoint>,
    ) -> Flow {
        let apply_initial_position = restored.is_empty();
        let mut flow = Flow {
            config,
            destination,
            metrics,
            checkpoints,
            trackers: Vec::new(),
            next_key: 0,
            buffer: Vec::new(),
            buffer_bytes: 0,
            buffer_since: None,
            apply_initial_position,
            last_written: Some(restored.clone()),
        };
        for entry in restored {
            let tracker = flow.tracker(entry.id, entry.path, None, &[], entry.fingerprint, entry.offset);
            flow.trackers.push(tracker);
        }
        // The first look happens now, so END_OF_FILE means the end when the agent was built.
        flow.scan();
        flow
    }

    fn tracker(
        &mut self,
        id: FileId,
        path: PathBuf,
        file: Option<File>,
        head: &[u8],
        fingerprint: Option<Fingerprint>,
        offset: u64,
    ) -> Tracker {
        self.next_key += 1;
        Tracker {
            key: self.next_key,
            id,
            path,
            file,
            fingerprint,
            head: head.to_vec(),
            read_offset: offset,
            acked_offset: offset,
            assembler: Assembler::new(offset, self.config.max_record_bytes, self.config.skip_header_lines),
            gone: false,
            drained: false,
            last_data: Instant::now(),
        }
    }

    /// Runs until `stop` is raised, then sends what is buffered (unless `abort` is raised
    /// first) and writes a last checkpoint.
    pub async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
        mut abort: watch::Receiver<bool>,
    ) -> Result<(), AgentError> {
        tracing::info!(flow = %self.config.id, tracked = self.trackers.len(), "flow started");
        loop {
            if *stop.borrow() {
                break;
            }
            self.scan();
            let progressed = self.read_pass(&stop, &mut abort).await?;
            self.flush_quiet_files(&mut abort).await?;
            let aged = self.buffer_since.is_some_and(|since| since.elapsed() >= self.config.max_buffer_age);
            if aged {
                self.send_buffer(&mut abort).await?;
            }
            self.drop_drained();
            self.checkpoint().await?;
            if !progressed {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
        }
        tracing::info!(flow = %self.config.id, buffered = self.buffer.len(), "stopping: sending what is buffered");
        self.send_buffer(&mut abort).await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Lists the folder and reconciles it with the tracked files.
    fn scan(&mut self) {
        let listed = match self.list() {
            Ok(listed) => listed,
            Err(error) => {
                tracing::warn!(flow = %self.config.id, directory = %self.config.directory.display(), %error, "cannot list the folder");
                return;
            }
        };
        let tracked: Vec<TrackedView> = self
            .trackers
            .iter()
            .map(|t| TrackedView { id: t.id, fingerprint: t.fingerprint, head: &t.head, read_offset: t.read_offset })
            .collect();
        let views: Vec<ListedView<'_>> =
            listed.iter().map(|l| ListedView { id: l.id, size: l.size, prefix: &l.prefix }).collect();
        let decisions = reconcile(&tracked, &views);
        let mut listed = listed;
        let initial = std::mem::replace(&mut self.apply_initial_position, false);
        // Trackers are replaced or inserted by key so that indexes stay valid while applying.
        let keys: Vec<u64> = self.trackers.iter().map(|t| t.key).collect();
        let mut appended = Vec::new();
        for decision in decisions {
            tracing::debug!(flow = %self.config.id, ?decision, "reconciled");
            match decision {
                Decision::Continue { tracked, listed: l, fingerprint } => {
                    let Some(t) = self.trackers.iter_mut().find(|t| t.key == keys[tracked]) else { continue };
                    t.path = listed[l].path.clone();
                    t.fingerprint = fingerprint;
                    if listed[l].prefix.len() >= t.head.len() {
                        t.head.clone_from(&listed[l].prefix);
                    }
                    t.gone = false;
                    t.drained = false;
                    if t.file.is_none() {
                        t.file = listed[l].file.take();
                    }
                }
                Decision::Restart { tracked, listed: l } => {
                    FlowMetrics::add(&self.metrics.rotations, 1);
                    tracing::info!(flow = %self.config.id, file = %listed[l].path.display(), "file truncated or replaced in place; reading it from the start");
                    let fresh = self.tracker(
                        listed[l].id,
                        listed[l].path.clone(),
                        listed[l].file.take(),
                        &listed[l].prefix,
                        Fingerprint::of(&listed[l].prefix),
                        0,
                    );
                    if let Some(slot) = self.trackers.iter_mut().find(|t| t.key == keys[tracked]) {
                        *slot = fresh;
                    }
                }
                Decision::MovedToCopy { tracked, copy, original, original_offset } => {
                    FlowMetrics::add(&self.metrics.rotations, 1);
                    tracing::info!(flow = %self.config.id, copy = %listed[copy].path.display(), "file copied for rotation; finishing it from the copy");
                    let Some(position) = self.trackers.iter().position(|t| t.key == keys[tracked]) else { continue };
                    let t = &mut self.trackers[position];
                    t.id = listed[copy].id;
                    t.path = listed[copy].path.clone();
                    t.file = listed[copy].file.take();
                    t.gone = false;
                    t.drained = false;
                    if let Some(o) = original {
                        let fresh = self.tracker(
                            listed[o].id,
                            listed[o].path.clone(),
                            listed[o].file.take(),
                            &listed[o].prefix,
                            Fingerprint::of(&listed[o].prefix),
                            original_offset,
                        );
                        self.trackers.insert(position + 1, fresh);
                    }
                }
                Decision::Wait { listed: l } => {
                    tracing::debug!(flow = %self.config.id, file = %listed[l].path.display(), "may be a copy still being written; looking again later");
                }
                Decision::New { listed: l } => {
                    let offset = match (initial, self.config.initial_position) {
                        (true, InitialPosition::EndOfFile) => listed[l].size,
                        _ => 0,
                    };
                    appended.push((l, offset));
                }
                Decision::Gone { tracked } => {
                    if let Some(t) = self.trackers.iter_mut().find(|t| t.key == keys[tracked]) {
                        t.gone = true;
                    }
                }
            }
        }
        for (l, offset) in appended {
            if self.trackers.len() >= MAX_TRACKED_FILES {
                tracing::warn!(flow = %self.config.id, file = %listed[l].path.display(), limit = MAX_TRACKED_FILES, "too many files; not following this one");
                continue;
            }
            tracing::info!(flow = %self.config.id, file = %listed[l].path.display(), offset, "following a new file");
            let tracker = self.tracker(
                listed[l].id,
                listed[l].path.clone(),
                listed[l].file.take(),
                &listed[l].prefix,
                Fingerprint::of(&listed[l].prefix),
                offset,
            );
            self.trackers.push(tracker);
        }
        // A file gone before it was ever opened (restored from a checkpoint) cannot be read.
        self.trackers.retain(|t| !(t.gone && t.file.is_none()));
    }

    /// The matching files, oldest first (by modification time, then name).
    fn list(&self) -> std::io::Result<Vec<Listed>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.config.directory)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
            if !crate::rotation::glob_matches(&self.config.file_name_pattern, &name) {
                continue;
            }
            let path = entry.path();
            let Ok(metadata) = std::fs::metadata(&path) else { continue };
            if !metadata.is_file() {
                continue;
            }
            let mtime = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((mtime, name, path));
        }
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        if found.len() > MAX_TRACKED_FILES {
            tracing::warn!(flow = %self.config.id, matching = found.len(), limit = MAX_TRACKED_FILES, "too many matching files; looking at the newest");
            found.drain(..found.len() - MAX_TRACKED_FILES);
        }
        let mut listed = Vec::with_capacity(found.len());
        for (_, _, path) in found {
            match inspect(&path) {
                Ok(Some(file)) => listed.push(file),
                Ok(None) => {}
                // Rotated away or unreadable since the listing: the next look sees it as it is.
                Err(error) => {
                    tracing::debug!(flow = %self.config.id, file = %path.display(), %error, "cannot open a matching file")
                }
            }
        }
        Ok(listed)
    }

    /// Reads every tracked file from where it is to its end (or the per-pass limit).
    /// Returns whether anything was read.
    async fn read_pass(
        &mut self,
        stop: &watch::Receiver<bool>,
        abort: &mut watch::Receiver<bool>,
    ) -> Result<bool, AgentError> {
        let mut progressed = false;
        let mut chunk = vec![0u8; READ_CHUNK_BYTES];
        let mut records = Vec::new();
        for index in 0..self.trackers.len() {
            let mut read_this_pass = 0u64;
            loop {
                if *stop.borrow() {
                    // Stopping: what is read so far is sent and checkpointed; the rest waits
                    // for the next start.
                    return Ok(progressed);
                }
                let t = &mut self.trackers[index];
                let Some(file) = &t.file else { break };
                let n = match read_full_at(file, &mut chunk, t.read_offset) {
                    Ok(n) => n,
                    Err(error) => {
                        tracing::warn!(flow = %self.config.id, file = %t.path.display(), %error, "read failed; retrying later");
                        break;
                    }
                };
                if n == 0 {
                    if t.gone && !t.drained {
                        // The file was deleted or renamed away and is read to its end: its
                        // last line counts even without a newline, as nothing will follow.
                        t.assembler.flush(true, self.config.multi_line_start.as_ref(), &mut records);
                        t.drained = true;
                    }
                    break;
                }
                progressed = true;
                read_this_pass += n as u64;
                FlowMetrics::add(&self.metrics.bytes_read, n as u64);
                FlowMetrics::add(&self.metrics.lines_read, chunk[..n].iter().filter(|b| **b == b'\n').count() as u64);
                t.assembler.feed(t.read_offset, &chunk[..n], self.config.multi_line_start.as_ref(), &mut records);
                t.read_offset += n as u64;
                t.last_data = Instant::now();
                let key = t.key;
                for record in std::mem::take(&mut records) {
                    self.push(key, record, abort).await?;
                }
                if read_this_pass >= MAX_READ_BYTES_PER_PASS {
                    break;
                }
            }
            let key = self.trackers[index].key;
            for record in std::mem::take(&mut records) {
                self.push(key, record, abort).await?;
            }
        }
        Ok(progressed)
    }

    /// Emits multi-line records whose file has been quiet for a while.
    async fn flush_quiet_files(&mut self, abort: &mut watch::Receiver<bool>) -> Result<(), AgentError> {
        let mut records = Vec::new();
        for index in 0..self.trackers.len() {
            let t = &mut self.trackers[index];
            if t.assembler.has_pending() && t.last_data.elapsed() >= MULTI_LINE_IDLE_FLUSH {
                t.assembler.flush(false, self.config.multi_line_start.as_ref(), &mut records);
                let key = t.key;
                for record in std::mem::take(&mut records) {
                    self.push(key, record, abort).await?;
                }
            }
        }
        Ok(())
    }

    /// Processes a record and adds it to the batch, sending the batch first if it is full.
    async fn push(&mut self, key: u64, record: Assembled, abort: &mut watch::Receiver<bool>) -> Result<(), AgentError> {
        let now_millis = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let mut data = record.data;
        for processor in &self.config.processors {
            data = match processor.apply(data, now_millis) {
                Outcome::Converted(bytes) => bytes,
                Outcome::Unparsed(bytes) => {
                    FlowMetrics::add(&self.metrics.records_unparsed, 1);
                    bytes
                }
            };
        }
        let (outgoing, cut) =
            self.destination.outgoing(data, self.config.max_record_bytes, &self.config.truncated_record_terminator);
        if record.truncated || cut {
            FlowMetrics::add(&self.metrics.records_truncated, 1);
        }
        let size = outgoing.size();
        if !self.buffer.is_empty()
            && (self.buffer.len() >= self.config.max_buffer_records
                || self.buffer_bytes + size > self.config.max_buffer_bytes)
        {
            self.send_buffer(abort).await?;
        }
        self.buffer_bytes += size;
        self.buffer_since.get_or_insert_with(Instant::now);
        self.buffer.push(Buffered { record: outgoing, key, end_offset: record.end_offset });
        if self.buffer.len() >= self.config.max_buffer_records {
            self.send_buffer(abort).await?;
        }
        Ok(())
    }

    /// Sends the batch until it is acknowledged, then records how far each file is done.
    async fn send_buffer(&mut self, abort: &mut watch::Receiver<bool>) -> Result<(), AgentError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let records: Vec<Outgoing> = self.buffer.iter().map(|b| b.record.clone()).collect();
        if self.destination.send_all(&records, &self.config.retry, &self.metrics, abort).await.is_err() {
            return Err(AgentError::Aborted { flow: self.config.id.clone(), unsent: self.buffer.len() });
        }
        tracing::debug!(flow = %self.config.id, records = self.buffer.len(), "batch acknowledged");
        for sent in self.buffer.drain(..) {
            if let Some(t) = self.trackers.iter_mut().find(|t| t.key == sent.key) {
                t.acked_offset = t.acked_offset.max(sent.end_offset);
            }
        }
        self.buffer_bytes = 0;
        self.buffer_since = None;
        self.checkpoint().await
    }

    /// Forgets files that are gone and fully sent.
    fn drop_drained(&mut self) {
        let buffer = &self.buffer;
        self.trackers.retain(|t| {
            let done = t.gone && t.drained && !buffer.iter().any(|b| b.key == t.key);
            if done {
                tracing::info!(file = %t.path.display(), "finished a rotated file");
            }
            !done
        });
    }

    /// Writes the checkpoint if any file's acknowledged position changed.
    async fn checkpoint(&mut self) -> Result<(), AgentError> {
        for t in &mut self.trackers {
            // Header lines come before any record, so skipping them is done once they are
            // read. Beyond that, only acknowledged records move the offset: records cut from
            // a chunk may still be on their way to the buffer when this runs.
            t.acked_offset = t.acked_offset.max(t.assembler.skipped_to);
        }
        let entries: Vec<FileCheckpoint> = self
            .trackers
            .iter()
            .map(|t| FileCheckpoint {
                path: t.path.clone(),
                id: t.id,
                fingerprint: t.fingerprint,
                offset: t.acked_offset,
            })
            .collect();
        if self.last_written.as_ref() == Some(&entries) {
            return Ok(());
        }
        self.checkpoints.update(&self.config.id, entries.clone()).await?;
        self.last_written = Some(entries);
        Ok(())
    }
}

/// Opens `path` once and takes its identity, size and first bytes from that handle
/// (`None` if it is no longer a regular file).
fn inspect(path: &std::path::Path) -> std::io::Result<Option<Listed>> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Ok(None);
    }
    let mut prefix = vec![0; FINGERPRINT_BYTES];
    let n = read_full_at(&file, &mut prefix, 0)?;
    prefix.truncate(n);
    Ok(Some(Listed {
        path: path.to_path_buf(),
        id: FileId { dev: metadata.dev(), ino: metadata.ino() },
        // The size is taken after the prefix: a file that grew in between is not "shorter
        // than its own first bytes".
        size: file.metadata()?.len().max(n as u64),
        prefix,
        file: Some(file),
    }))
}

/// Reads at `offset` until `buf` is full or the end of the file.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests;
