//! Start-up recovery: rebuilds the segment list and chunk index from disk.
//!
//! What it does with damage (a frame or chunk whose checksum fails):
//! - **A torn tail** (invalid bytes at the end of the newest segment with nothing valid
//!   after them: the last write did not finish) is cut in every mode. In the default
//!   durability nothing in it was acknowledged.
//! - **Any other damage** (valid frames after it, or anywhere in an older segment) stops
//!   start-up with [`StorageError::Corruption`] naming the file and offset, unless the
//!   operator restarts with [`RecoveryMode::TruncateAtCorruption`]
//!   (`--recover-truncate`). That mode then cuts exactly the damaged ranges and keeps
//!   everything valid around them: the segment gets a fresh index file without the
//!   damaged chunks (and stops taking appends if it was the newest), and every cut is
//!   logged with its file, offset, size, record count and LSN range.
//! - Sealed segments with a matching index are not read at start-up in the default mode
//!   (a start with 10 GB of data stays fast); the background scrubber (`scrub.rs`) and
//!   every read verify their chunks instead. In the repair mode every chunk of every
//!   sealed segment is verified before the log opens.

use std::path::Path;

use super::files::{index_name, segment_name, SEGMENT_SUFFIX};
use super::types::RecoveryMode;
use crate::cipher::KeyProvider;
use crate::error::{Result, StorageError};
use crate::format::{
    self, decode_chunk_owned, encode_index, FormatError, FrameHeader, IndexEntry, SegmentHeader, StoredRecord,
    FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, SEGMENT_VERSION,
};
use crate::fs::{join, FileSystem, ReadFile};
use crate::limits::FRAME_SEARCH_WINDOW_BYTES;

pub(super) struct RecoveredSegment {
    pub(super) id: u64,
    pub(super) end_offset: u64,
    pub(super) entries: Vec<IndexEntry>,
    /// Its chunks were loaded from the index without reading them: the scrubber checks them.
    pub(super) unverified: bool,
    /// Repair wrote its index: it takes no more appends, even if it is the newest.
    pub(super) sealed_by_repair: bool,
    /// Its format version.
    pub(super) version: u16,
}

pub(super) struct Recovered {
    pub(super) segments: Vec<RecoveredSegment>,
    pub(super) next_lsn: u64,
    pub(super) truncated_bytes: u64,
    /// Records in the cut ranges, as far as their headers could still be read.
    pub(super) cut_records: u64,
}

/// One damaged byte range of a segment, found by a scan.
struct DamagedRange {
    offset: u64,
    /// Where the next valid frame starts, or the file's length.
    end: u64,
    detail: String,
    /// Records the damaged frame's header claims, if the header itself is intact.
    records: Option<u32>,
}

/// Rebuilds the segment list and chunk index from disk; see the module documentation.
pub(super) fn recover(fs: &dyn FileSystem, log_dir: &Path, mode: RecoveryMode) -> Result<Recovered> {
    let names = fs.list_dir(log_dir).map_err(|e| StorageError::io("list log folder", log_dir, e))?;
    let mut ids: Vec<u64> =
        names.iter().filter_map(|n| n.strip_suffix(SEGMENT_SUFFIX)).filter_map(|stem| stem.parse().ok()).collect();
    ids.sort_unstable();
    for name in names.iter().filter(|n| n.ends_with(".tmp")) {
        let path = join(log_dir, name);
        fs.remove_file(&path).map_err(|e| StorageError::io("remove temporary file", &path, e))?;
    }
    let repair = mode == RecoveryMode::TruncateAtCorruption;

    let mut recovered = Recovered { segments: Vec::new(), next_lsn: 1, truncated_bytes: 0, cut_records: 0 };
    for (position, &id) in ids.iter().enumerate() {
        let is_last = position + 1 == ids.len();
        let path = join(log_dir, &segment_name(id));
        let file = fs.open_read(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
        let len = file.len().map_err(|e| StorageError::io("stat segment", &path, e))?;

        let mut header_bytes = [0u8; SEGMENT_HEADER_BYTES];
        let header = if len >= SEGMENT_HEADER_BYTES as u64 {
            file.read_exact_at(&mut header_bytes, 0).map_err(|e| StorageError::io("read segment", &path, e))?;
            SegmentHeader::decode(&header_bytes).ok().filter(|h| h.segment_id == id)
        } else {
            None
        };
        if header.is_none() {
            if is_last && len <= SEGMENT_HEADER_BYTES as u64 {
                // A segment whose creation was cut short holds no acknowledged data.
                tracing::warn!(message = "Removing a segment torn during creation.", path = %path.display());
                fs.remove_file(&path).map_err(|e| StorageError::io("remove torn segment", &path, e))?;
                recovered.truncated_bytes += len;
                continue;
            }
            if !repair {
                return Err(StorageError::Corruption { path, offset: 0, detail: "invalid segment header".into() });
            }
        }
        if let Some(header) = header {
            recovered.next_lsn = recovered.next_lsn.max(header.base_lsn);
        }

        // Sealed segments normally have an index; use it if it matches the file.
        if !is_last && header.is_some() {
            if let Some(mut entries) = load_index(fs, log_dir, id, len) {
                if repair {
                    let cut = drop_damaged_chunks(&*file, &path, &mut entries);
                    if cut.records > 0 || cut.bytes > 0 {
                        store_index(fs, log_dir, id, len, &entries, true)
                            .map_err(|e| StorageError::io("write segment index", join(log_dir, &index_name(id)), e))?;
                        recovered.truncated_bytes += cut.bytes;
                        recovered.cut_records += cut.records;
                    }
                }
                recovered.next_lsn = recovered.next_lsn.max(lsn_after(&entries));
                recovered.segments.push(RecoveredSegment {
                    id,
                    end_offset: len,
                    entries,
                    unverified: !repair,
                    sealed_by_repair: false,
                    version: header.map_or(SEGMENT_VERSION, |h| h.version),
                });
                continue;
            }
        }

        let scan = scan_segment(&*file, len);
        recovered.next_lsn = recovered.next_lsn.max(lsn_after(&scan.entries));
        let torn_tail_only = is_last && header.is_some() && scan.damage.len() == 1 && scan.damage[0].end == len;
        if let (false, Some(first)) = (torn_tail_only || repair, scan.damage.first()) {
            return Err(StorageError::Corruption { path, offset: first.offset, detail: first.detail.clone() });
        }
        let mut end_offset = len;
        for damaged in &scan.damage {
            tracing::warn!(
                message = if torn_tail_only { "Cutting a torn tail." } else { "Cutting a damaged range." },
                path = %path.display(),
                offset = damaged.offset,
                cut_bytes = damaged.end - damaged.offset,
                cut_records = damaged.records,
                lsn_after = scan.lsn_before(damaged.offset),
                reason = %damaged.detail,
            );
            recovered.truncated_bytes += damaged.end - damaged.offset;
            recovered.cut_records += u64::from(damaged.records.unwrap_or(0));
            if damaged.end == len {
                end_offset = damaged.offset;
            }
        }
        let repaired = !torn_tail_only && (!scan.damage.is_empty() || header.is_none());
        if end_offset < len || header.is_none() {
            let mut writer = fs.open_write(&path).map_err(|e| StorageError::io("open segment", &path, e))?;
            if end_offset < len {
                writer.set_len(end_offset).map_err(|e| StorageError::io("truncate segment", &path, e))?;
            }
            if header.is_none() {
                let base_lsn = scan.entries.iter().map(|e| e.first_lsn).min().unwrap_or(recovered.next_lsn);
                let rewritten = SegmentHeader { version: SEGMENT_VERSION, segment_id: id, base_lsn }.encode();
                writer.write_all_at(&rewritten, 0).map_err(|e| StorageError::io("rewrite segment header", &path, e))?;
            }
            writer.sync_data().map_err(|e| StorageError::io("sync segment", &path, e))?;
        }
        if repaired {
            // The fresh index is what makes the cut stick: the damaged ranges stay in the
            // file, but nothing refers to them any more.
            store_index(fs, log_dir, id, end_offset, &scan.entries, true)
                .map_err(|e| StorageError::io("write segment index", join(log_dir, &index_name(id)), e))?;
        }
        recovered.segments.push(RecoveredSegment {
            id,
            end_offset,
            entries: scan.entries,
            unverified: false,
            sealed_by_repair: repaired,
            version: header.map_or(SEGMENT_VERSION, |h| h.version),
        });
    }
    if recovered.truncated_bytes > 0 {
        fs.sync_dir(log_dir).map_err(|e| StorageError::io("sync log folder", log_dir, e))?;
    }
    Ok(recovered)
}

/// Writes a segment's chunk index beside it, atomically (temporary file and rename).
pub(super) fn store_index(
    fs: &dyn FileSystem,
    log_dir: &Path,
    id: u64,
    end_offset: u64,
    entries: &[IndexEntry],
    sync: bool,
) -> std::io::Result<()> {
    let index_path = join(log_dir, &index_name(id));
    let temp_path = join(log_dir, &format!("{}.tmp", index_name(id)));
    let index = encode_index(id, end_offset, entries);
    let mut file = fs.open_write(&temp_path)?;
    file.set_len(0)?;
    file.write_all_at(&index, 0)?;
    if sync {
        file.sync_data()?;
    }
    drop(file);
    fs.rename(&temp_path, &index_path)?;
    if sync {
        fs.sync_dir(log_dir)?;
    }
    Ok(())
}

struct Cut {
    bytes: u64,
    records: u64,
}

/// Verifies every chunk an index lists and drops the damaged ones, logging each.
fn drop_damaged_chunks(file: &dyn ReadFile, path: &Path, entries: &mut Vec<IndexEntry>) -> Cut {
    let mut cut = Cut { bytes: 0, records: 0 };
    entries.retain(|entry| match verify_chunk(file, entry) {
        Ok(()) => true,
        Err(detail) => {
            tracing::warn!(
                message = "Cutting a damaged chunk.",
                path = %path.display(),
                offset = entry.offset,
                cut_bytes = entry.len,
                cut_records = entry.count,
                shard_uid = entry.shard_uid,
                first_lsn = entry.first_lsn,
                last_lsn = entry.last_lsn,
                reason = %detail,
            );
            cut.bytes += u64::from(entry.len);
            cut.records += u64::from(entry.count);
            false
        }
    });
    cut
}

/// Reads one indexed chunk and checks it is intact and is the chunk the index says.
/// Needs no key: a sealed chunk's checksum and clear header are checked, not its tag, so
/// recovery and the scrub never take a chunk for damaged because of a key, and
/// `--recover-truncate` never cuts a sealed chunk whose bytes are intact.
pub(super) fn verify_chunk(file: &dyn ReadFile, entry: &IndexEntry) -> std::result::Result<(), String> {
    let mut buf = vec![0u8; entry.len as usize];
    file.read_exact_at(&mut buf, entry.offset).map_err(|e| format!("read failed: {e}"))?;
    let summary = format::summarize_chunk(&buf).map_err(|e| e.to_string())?;
    let matches = (summary.shard_uid, summary.first_lsn, summary.last_lsn, summary.len)
        == (entry.shard_uid, entry.first_lsn, entry.last_lsn, entry.len as usize);
    if matches {
        Ok(())
    } else {
        Err(MISMATCH.into())
    }
}

/// What is wrong with an intact chunk at the place of another.
const MISMATCH: &str = "chunk does not match its index entry";

/// Decodes a chunk's bytes (opening it with `keys` if sealed) and checks them against
/// what the index says of them (the checksum alone would accept an intact chunk of
/// another shard at a wrong offset).
pub(super) fn decode_indexed_chunk(
    bytes: Vec<u8>,
    shard_uid: u64,
    first_lsn: u64,
    last_lsn: u64,
    keys: Option<&dyn KeyProvider>,
) -> std::result::Result<Vec<StoredRecord>, FormatError> {
    let (stored_uid, records) = decode_chunk_owned(bytes, keys)?;
    let matches = stored_uid == shard_uid
        && records.first().map(|r| r.lsn) == Some(first_lsn)
        && records.last().map(|r| r.lsn) == Some(last_lsn);
    if matches {
        Ok(records)
    } else {
        Err(FormatError::Invalid(MISMATCH))
    }
}

/// The LSN after the largest one in `entries`. Chunks of a frame are ordered by shard,
/// not by LSN, so the last entry does not necessarily hold the largest LSN.
fn lsn_after(entries: &[IndexEntry]) -> u64 {
    entries.iter().map(|e| e.last_lsn + 1).max().unwrap_or(0)
}

pub(super) fn load_index(fs: &dyn FileSystem, log_dir: &Path, id: u64, segment_len: u64) -> Option<Vec<IndexEntry>> {
    let path = join(log_dir, &index_name(id));
    let file = fs.open_read(&path).ok()?;
    let len = file.len().ok()?;
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut bytes, 0).ok()?;
    match format::decode_index(&bytes) {
        Ok((index_id, end_offset, entries)) if index_id == id && end_offset == segment_len => Some(entries),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(message = "Ignoring a damaged segment index; rescanning.", path = %path.display(), %error);
            None
        }
    }
}

/// A sealed segment's chunks: from its index file, or (missing or stale) by a scan whose
/// result is stored as its index, so the index file exists afterwards either way.
pub(super) fn sealed_index(
    fs: &dyn FileSystem,
    log_dir: &Path,
    id: u64,
    file: &dyn ReadFile,
    len: u64,
) -> std::io::Result<Vec<IndexEntry>> {
    if let Some(entries) = load_index(fs, log_dir, id, len) {
        return Ok(entries);
    }
    let scan = scan_segment(file, len);
    store_index(fs, log_dir, id, len, &scan.entries, true)?;
    Ok(scan.entries)
}

struct Scan {
    entries: Vec<IndexEntry>,
    damage: Vec<DamagedRange>,
}

impl Scan {
    /// The newest LSN of the frames before `offset`, to place a damaged range.
    fn lsn_before(&self, offset: u64) -> Option<u64> {
        self.entries.iter().filter(|e| e.offset < offset).map(|e| e.last_lsn).max()
    }
}

/// Reads every frame of a segment. At an invalid frame it records the damage and goes on
/// at the next valid frame, if any, so the caller can tell a torn tail (nothing valid
/// after) from damage in the middle, and can keep what follows it.
fn scan_segment(file: &dyn ReadFile, len: u64) -> Scan {
    let mut scan = Scan { entries: Vec::new(), damage: Vec::new() };
    let mut offset = SEGMENT_HEADER_BYTES as u64;
    let mut last_lsn: Option<u64> = None;
    while offset < len {
        match read_frame(file, offset, len, last_lsn) {
            Ok((chunks, frame_len)) => {
                for chunk in chunks {
                    last_lsn = Some(last_lsn.map_or(chunk.last_lsn, |l| l.max(chunk.last_lsn)));
                    scan.entries.push(IndexEntry {
                        shard_uid: chunk.shard_uid,
                        first_lsn: chunk.first_lsn,
                        last_lsn: chunk.last_lsn,
                        first_arrival_ms: chunk.first_arrival_ms,
                        last_arrival_ms: chunk.last_arrival_ms,
                        offset: offset + chunk.offset_in_frame as u64,
                        len: chunk.len as u32,
                        count: chunk.count,
                    });
                }
                offset += frame_len;
            }
            Err(detail) => {
                let mut header_bytes = [0u8; FRAME_HEADER_BYTES];
                let records = file
                    .read_exact_at(&mut header_bytes, offset)
                    .ok()
                    .and_then(|()| FrameHeader::decode(&header_bytes).ok())
                    .map(|h| h.record_count);
                let next = next_valid_frame(file, offset + 1, len, last_lsn);
                scan.damage.push(DamagedRange { offset, end: next.unwrap_or(len), detail, records });
                match next {
                    Some(next) => offset = next,
                    None => break,
                }
            }
        }
    }
    scan
}

/// Reads and verifies the frame at `offset`; returns its chunks and length.
fn read_frame(
    file: &dyn ReadFile,
    offset: u64,
    len: u64,
    last_lsn: Option<u64>,
) -> std::result::Result<(Vec<format::ChunkSummary>, u64), String> {
    let mut header_bytes = [0u8; FRAME_HEADER_BYTES];
    if len - offset < FRAME_HEADER_BYTES as u64 {
        return Err("truncated frame header".into());
    }
    file.read_exact_at(&mut header_bytes, offset).map_err(|e| e.to_string())?;
    let header = FrameHeader::decode(&header_bytes).map_err(|e| e.to_string())?;
    let frame_len = (FRAME_HEADER_BYTES + header.payload_len) as u64;
    if offset + frame_len > len {
        return Err("truncated frame".into());
    }
    let mut buf = vec![0u8; frame_len as usize];
    file.read_exact_at(&mut buf, offset).map_err(|e| e.to_string())?;
    let chunks = format::summarize_frame(&buf).map_err(|e| e.to_string())?;
    // Frames are written in LSN order; one that goes backwards is not ours (a record's
    // payload may even hold bytes that look like a frame).
    let frame_first = chunks.iter().map(|c| c.first_lsn).min().unwrap_or(header.first_lsn);
    if last_lsn.is_some_and(|l| frame_first <= l) {
        return Err("frame LSNs go backwards".into());
    }
    Ok((chunks, frame_len))
}

/// Where the next valid frame (numbered after `last_lsn`) starts at or after `from`.
fn next_valid_frame(file: &dyn ReadFile, from: u64, len: u64, last_lsn: Option<u64>) -> Option<u64> {
    let magic = format::FRAME_MAGIC.to_le_bytes();
    let mut offset = from;
    let mut window = vec![0u8; FRAME_SEARCH_WINDOW_BYTES + 3];
    while offset + (FRAME_HEADER_BYTES as u64) <= len {
        let n = ((len - offset) as usize).min(window.len());
        if file.read_exact_at(&mut window[..n], offset).is_err() {
            return None;
        }
        for i in 0..n.saturating_sub(3) {
            if window[i..i + 4] != magic {
                continue;
            }
            let at = offset + i as u64;
            if read_frame(file, at, len, last_lsn).is_ok() {
                return Some(at);
            }
        }
        offset += FRAME_SEARCH_WINDOW_BYTES as u64;
    }
    None
}
