//! Uploading sealed segments: the segment file, its index, then its manifest (the commit
//! point), then its durable record, with CRC-32C of both files taken as they are read.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use parking_lot::Mutex;

use super::super::files::index_name;
use super::super::recovery;
use super::delete::delete_objects;
use super::error::ArchiverError;
use super::Ctx;
use crate::archive::{SegmentManifest, LAYOUT_VERSION};
use crate::format::IndexEntry;
use crate::fs::{join, ReadFile};
use crate::limits::ARCHIVE_PART_BYTES;

/// Uploads every sealed local segment not yet archived, oldest first. An archive failure
/// stops the pass (the caller retries after a back-off); a local failure of one segment
/// is counted and the next segment goes on (the failed one is retried next pass). A
/// segment retention took during its upload costs nothing: its objects are deleted.
pub(super) fn upload_backlog(ctx: &Ctx<'_>) -> Result<(), ArchiverError> {
    let mut local_failure = None;
    for id in backlog(ctx) {
        if ctx.stopping() {
            break;
        }
        let Err(error) = upload(ctx, id) else {
            continue;
        };
        if ctx.stopping() {
            // The store was closed under the upload: no failure, it is redone at next start.
            tracing::info!(message = "Segment upload cut short by the shutdown.", segment_id = id);
            break;
        }
        if !ctx.shared.segments.read().contains_key(&id) {
            tracing::info!(message = "Segment expired during its upload; deleting its objects.", segment_id = id, %error);
            forget_objects(ctx, id);
            continue;
        }
        error.count(&ctx.shared.counters.archive);
        tracing::warn!(message = "Segment upload failed.", segment_id = id, side = error.side(), %error);
        match error {
            ArchiverError::Archive(_) => return Err(error),
            ArchiverError::Local { .. } => local_failure = local_failure.or(Some(error)),
        }
    }
    local_failure.map_or(Ok(()), Err)
}

/// Deletes the objects of segment `id`, which has no record; if that fails,
/// reconciliation is asked to find them later.
fn forget_objects(ctx: &Ctx<'_>, id: u64) {
    if let Err(error) = delete_objects(ctx, id) {
        ctx.shared.counters.archive.delete_failures_total.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(message = "Deleting the objects of an expired upload failed; reconciliation will.", segment_id = id, %error);
        ctx.reconcile_due.set(true);
    }
}

/// Sealed local segments without a record, oldest first.
fn backlog(ctx: &Ctx<'_>) -> Vec<u64> {
    let archived = ctx.tier.archived.lock();
    let active = ctx.shared.active_segment_id.load(Ordering::Acquire);
    let segments = ctx.shared.segments.read();
    segments
        .iter()
        .filter(|(id, s)| s.local && **id < active && !archived.live.contains_key(id))
        .map(|(id, _)| *id)
        .collect()
}

fn local_error(what: &'static str, error: impl std::fmt::Display) -> ArchiverError {
    ArchiverError::local(what, error)
}

/// Uploads segment `id` and records it, unless retention took it meanwhile (then its
/// objects are deleted instead).
fn upload(ctx: &Ctx<'_>, id: u64) -> Result<(), ArchiverError> {
    let (shared, tier) = (ctx.shared, ctx.tier);
    let started_us = shared.clock.monotonic_micros();
    let Some(file) = shared.segments.read().get(&id).filter(|s| s.local).map(|s| s.file.clone()) else {
        return Ok(());
    };
    let fs = &*shared.fs;
    let len = file.len().map_err(|e| local_error("reading the segment's length failed", e))?;
    let entries = recovery::sealed_index(fs, ctx.log_dir, id, &*file, len)
        .map_err(|e| local_error("storing the segment's index failed", e))?;
    let index_path = join(ctx.log_dir, &index_name(id));
    let index = fs.open_read(&index_path).map_err(|e| local_error("opening the segment's index failed", e))?;
    let index_len = index.len().map_err(|e| local_error("reading the index's length failed", e))?;

    let store = &*tier.config.store;
    let segment_crc32c = put_checksummed(store, &tier.layout.segment_key(id), &*file, len)?;
    let index_crc32c = put_checksummed(store, &tier.layout.index_key(id), &*index, index_len)?;
    let manifest = manifest(id, len, segment_crc32c, index_len, index_crc32c, &entries, shared.clock.now_ms());
    let json = serde_json::to_vec(&manifest).map_err(|e| local_error("encoding the manifest failed", e))?;
    store.put_bytes(&tier.layout.manifest_key(id), Bytes::from(json))?;

    if ctx.stopping() {
        // Without its record the upload is redone after restart (same keys).
        return Ok(());
    }
    // The record is written (and synced) outside the lock retention takes on the
    // writer; then, under that lock, the segment must still be there to count as archived.
    tier.meta_store.put_archived(&manifest).map_err(|e| local_error("writing the archived record failed", e))?;
    let recorded = {
        let mut archived = tier.archived.lock();
        let present = shared.segments.read().contains_key(&id);
        if present {
            archived.live.insert(id, manifest);
        }
        present
    };
    if !recorded {
        tracing::info!(
            message = "Segment expired during its upload; deleting its record and objects.",
            segment_id = id
        );
        tier.meta_store.remove_archived(id).map_err(|e| local_error("removing the archived record failed", e))?;
        forget_objects(ctx, id);
        return Ok(());
    }
    tier.unarchived_gone(len);
    let counters = &shared.counters.archive;
    counters.uploaded_segments_total.fetch_add(1, Ordering::Relaxed);
    counters.uploaded_bytes_total.fetch_add(len + index_len, Ordering::Relaxed);
    let took_ms = shared.clock.monotonic_micros().saturating_sub(started_us) / 1000;
    counters.upload_took(took_ms);
    tracing::info!(message = "Segment archived.", segment_id = id, bytes = len, took_ms);
    Ok(())
}

/// The manifest of segment `id` with chunks `entries`.
fn manifest(
    id: u64,
    len: u64,
    segment_crc32c: u32,
    index_len: u64,
    index_crc32c: u32,
    entries: &[IndexEntry],
    now_ms: u64,
) -> SegmentManifest {
    let mut shard_uids: Vec<u64> = entries.iter().map(|e| e.shard_uid).collect();
    shard_uids.sort_unstable();
    shard_uids.dedup();
    SegmentManifest {
        version: LAYOUT_VERSION,
        segment_id: id,
        segment_len: len,
        segment_crc32c,
        index_len,
        index_crc32c,
        first_lsn: entries.iter().map(|e| e.first_lsn).min().unwrap_or(0),
        last_lsn: entries.iter().map(|e| e.last_lsn).max().unwrap_or(0),
        first_arrival_ms: entries.iter().map(|e| e.first_arrival_ms).min().unwrap_or(0),
        last_arrival_ms: entries.iter().map(|e| e.last_arrival_ms).max().unwrap_or(0),
        shard_uids,
        archived_ms: now_ms,
    }
}

/// Stores `len` bytes of `source` under `key`, returning their CRC-32C, taken from the
/// bytes as the store reads them when it reads them in order (else by a second read).
fn put_checksummed(
    store: &dyn crate::archive::ObjectArchive,
    key: &str,
    source: &dyn ReadFile,
    len: u64,
) -> Result<u32, ArchiverError> {
    let reader = ChecksumReader { inner: source, progress: Mutex::new((0, 0)), read_failure: Mutex::new(None) };
    if let Err(error) = store.put_file(key, &reader, len) {
        // The store reports a failed read of the local file as its own failure.
        return Err(match reader.read_failure.lock().take() {
            Some(local) => local_error("reading the local file failed", local),
            None => error.into(),
        });
    }
    let (covered, crc) = *reader.progress.lock();
    if covered == len {
        return Ok(crc);
    }
    checksum(source, len).map_err(|e| local_error("checksumming the local file failed", e))
}

/// CRC-32C of the first `len` bytes of `file`, read a part at a time.
pub(super) fn checksum(file: &dyn ReadFile, len: u64) -> std::io::Result<u32> {
    let mut buf = vec![0u8; ARCHIVE_PART_BYTES.min(len) as usize];
    let (mut offset, mut crc) = (0u64, 0u32);
    while offset < len {
        let n = buf.len().min((len - offset) as usize);
        file.read_exact_at(&mut buf[..n], offset)?;
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        offset += n as u64;
    }
    Ok(crc)
}

/// A file that checksums what is read of it, as long as reads come in order from the
/// start (a store that re-reads a part after a retry breaks the run: then the caller
/// checksums separately).
struct ChecksumReader<'a> {
    inner: &'a dyn ReadFile,
    /// Bytes checksummed so far from the start, and their CRC-32C.
    progress: Mutex<(u64, u32)>,
    /// The first failed read of the local file.
    read_failure: Mutex<Option<std::io::Error>>,
}

impl ReadFile for ChecksumReader<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = self.inner.read_at(buf, offset).inspect_err(|error| {
            let mut failure = self.read_failure.lock();
            if failure.is_none() {
                *failure = Some(std::io::Error::new(error.kind(), error.to_string()));
            }
        })?;
        let mut progress = self.progress.lock();
        if progress.0 == offset {
            progress.1 = crc32c::crc32c_append(progress.1, &buf[..n]);
            progress.0 += n as u64;
        }
        Ok(n)
    }

    fn len(&self) -> std::io::Result<u64> {
        self.inner.len()
    }
}
