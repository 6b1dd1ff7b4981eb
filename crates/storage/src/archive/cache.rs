//! Reading segments only the archive holds: `ArchiveReader::open_segment` gives the log
//! a [`ReadFile`] over an archived segment object, served from a bounded in-memory cache
//! of aligned blocks and fetched with range GETs, with read-ahead for sequential readers.
//!
//! # Design
//! - **Blocks.** A segment is read in aligned blocks of [`ARCHIVE_BLOCK_BYTES`] (the last
//!   one short), one range GET each: a reader walking a segment makes one request per
//!   block whatever its chunk sizes, and blocks are what the cache keeps and evicts.
//! - **One bounded cache** for the whole log (`blocks`): least recently used blocks go
//!   first; the `cache_bytes` gauge is the exact total.
//! - **Single flight.** Concurrent readers of a missing block wait for one fetch; a failed
//!   fetch fails all of them and caches nothing, so the next read asks the archive again.
//! - **Read-ahead** (`prefetch`): a read of block k right after block k-1 of the same
//!   segment queues the next `read_ahead_blocks` blocks for background threads.
//! - **No lock across a fetch.** Locks guard map updates only; a reader waiting for the
//!   archive holds nothing another reader (or the writer) needs.
//!
//! Errors: reads fail with an `io::Error` wrapping the [`ArchiveError`] ([`archive_error`]
//! gets it back); the log turns it into `StorageError::ArchiveUnavailable`.

mod blocks;
mod prefetch;
#[cfg(test)]
pub(crate) mod tests;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::{ArchiveError, ArchiveLayout, ObjectArchive};
use crate::fs::ReadFile;
use crate::limits::ARCHIVE_BLOCK_BYTES;
use crate::stats::ArchiveCounters;
use blocks::{BlockCache, Lookup};
use prefetch::{Job, Prefetcher};

/// Blocks of one segment remembered as recently read, to tell a sequential reader
/// (several may read one segment at once) from a random one.
const RECENT_BLOCKS: usize = 8;

/// Reads archived segments through one shared, bounded cache.
pub struct ArchiveReader {
    fetcher: Arc<Fetcher>,
    layout: ArchiveLayout,
    read_ahead_blocks: u32,
    /// `None` without read-ahead (or if its threads could not start).
    prefetcher: Option<Prefetcher>,
}

/// The store, the cache and the counters: what readers and read-ahead threads share.
struct Fetcher {
    store: Arc<dyn ObjectArchive>,
    blocks: BlockCache,
    block_bytes: u64,
    counters: Arc<ArchiveCounters>,
    /// Set by [`ArchiveReader::close`]: queued read-ahead is dropped, not fetched.
    closed: AtomicBool,
}

impl ArchiveReader {
    /// A reader of `layout`'s segments in `store`, caching up to `cache_bytes`.
    pub(crate) fn new(
        store: Arc<dyn ObjectArchive>,
        layout: ArchiveLayout,
        cache_bytes: u64,
        read_ahead_blocks: u32,
        counters: Arc<ArchiveCounters>,
    ) -> Arc<Self> {
        Self::with_block_bytes(store, layout, cache_bytes, read_ahead_blocks, counters, ARCHIVE_BLOCK_BYTES)
    }

    /// [`ArchiveReader::new`] with another block size (tests use small ones).
    pub(crate) fn with_block_bytes(
        store: Arc<dyn ObjectArchive>,
        layout: ArchiveLayout,
        cache_bytes: u64,
        read_ahead_blocks: u32,
        counters: Arc<ArchiveCounters>,
        block_bytes: u64,
    ) -> Arc<Self> {
        let blocks = BlockCache::new(cache_bytes, counters.clone());
        let fetcher = Arc::new(Fetcher {
            store,
            blocks,
            block_bytes: block_bytes.max(1),
            counters,
            closed: AtomicBool::new(false),
        });
        let prefetcher = (read_ahead_blocks > 0).then(|| Prefetcher::start(fetcher.clone())).flatten();
        Arc::new(ArchiveReader { fetcher, layout, read_ahead_blocks, prefetcher })
    }

    /// The archive, for error texts.
    pub fn describe(&self) -> String {
        self.fetcher.store.describe()
    }

    /// A file over archived segment `segment_id`, `len` bytes long. Reads fail with an
    /// `io::Error` wrapping the [`ArchiveError`] (see [`archive_error`]).
    pub(crate) fn open_segment(self: &Arc<Self>, segment_id: u64, len: u64) -> Arc<dyn ReadFile> {
        Arc::new(ArchivedFile {
            reader: self.clone(),
            key: self.layout.segment_key(segment_id).into(),
            segment_id,
            len,
            recent: Mutex::new(RecentBlocks::default()),
        })
    }

    /// For a shutdown: read-ahead still queued is dropped instead of fetched (the store
    /// is closed separately, which ends the fetches in flight).
    pub(crate) fn close(&self) {
        self.fetcher.closed.store(true, Ordering::Release);
    }

    /// Drops every cached block of a segment (retention deleted it).
    pub(crate) fn forget_segment(&self, segment_id: u64) {
        self.fetcher.blocks.forget_segment(segment_id);
    }

    /// Whether a read of `offset..offset + len` of archived segment `segment_id` would
    /// wait for the archive (not all of it is cached).
    pub(crate) fn would_fetch(&self, segment_id: u64, offset: u64, len: u64) -> bool {
        if len == 0 {
            return false;
        }
        let block_bytes = self.fetcher.block_bytes;
        let (first, last) = (offset / block_bytes, (offset + len - 1) / block_bytes);
        (first..=last).any(|block| !self.fetcher.blocks.is_ready((segment_id, block)))
    }

    /// Bytes the cache holds now.
    #[cfg(test)]
    pub(crate) fn cached_bytes(&self) -> u64 {
        self.fetcher.blocks.bytes()
    }

    /// Queues the blocks after `block` for the read-ahead threads, unless cached or
    /// being fetched; stops at a full queue.
    fn read_ahead(&self, file: &ArchivedFile, block: u64) {
        let Some(prefetcher) = &self.prefetcher else { return };
        let blocks = file.len.div_ceil(self.fetcher.block_bytes);
        let ahead = (block + 1)..(block + 1 + u64::from(self.read_ahead_blocks)).min(blocks);
        for next in ahead {
            if self.fetcher.blocks.is_present((file.segment_id, next)) {
                continue;
            }
            let job = Job { segment_id: file.segment_id, key: file.key.clone(), block: next, segment_len: file.len };
            if !prefetcher.offer(job) {
                tracing::debug!(
                    message = "Read-ahead queue full; skipped.",
                    segment_id = file.segment_id,
                    block = next
                );
                return;
            }
        }
    }
}

impl Fetcher {
    /// Block `block` of the segment under `key`: from the cache, from a fetch under way,
    /// or fetched now.
    fn block(&self, segment_id: u64, key: &str, block: u64, segment_len: u64) -> Result<Bytes, ArchiveError> {
        match self.blocks.lookup((segment_id, block)) {
            Lookup::Hit(bytes) => {
                self.counters.cache_hits_total.fetch_add(1, Ordering::Relaxed);
                Ok(bytes)
            }
            // Served without a request of its own: counted as a hit.
            Lookup::Wait(flight) => {
                self.counters.cache_hits_total.fetch_add(1, Ordering::Relaxed);
                flight.wait()
            }
            Lookup::Fetch(flight) => {
                let mut guard = FetchGuard { fetcher: self, key: (segment_id, block), flight, armed: true };
                let outcome = self.fetch(key, block, segment_len);
                guard.armed = false;
                self.blocks.complete(guard.key, &guard.flight, outcome.clone());
                outcome
            }
        }
    }

    /// Fetches a block into the cache for read-ahead, unless it is there or on its way.
    fn prefetch(&self, job: &Job) {
        if self.closed.load(Ordering::Acquire) || self.blocks.is_present((job.segment_id, job.block)) {
            return;
        }
        if let Err(error) = self.block(job.segment_id, &job.key, job.block, job.segment_len) {
            tracing::debug!(message = "Read-ahead fetch failed.", segment_id = job.segment_id, block = job.block, %error);
        }
    }

    /// One range GET, checked for length, counted.
    fn fetch(&self, key: &str, block: u64, segment_len: u64) -> Result<Bytes, ArchiveError> {
        let start = block * self.block_bytes;
        let end = (start + self.block_bytes).min(segment_len);
        let fetched = self.store.get_range(key, start..end).and_then(|bytes| {
            if bytes.len() as u64 == end - start {
                Ok(bytes)
            } else {
                Err(ArchiveError::Corrupt {
                    key: key.to_owned(),
                    detail: format!("asked for bytes {start}..{end}, got {} bytes", bytes.len()),
                })
            }
        });
        match &fetched {
            Ok(bytes) => {
                self.counters.fetches_total.fetch_add(1, Ordering::Relaxed);
                self.counters.fetched_bytes_total.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(error) => {
                self.counters.fetch_failures_total.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(message = "Fetching archived data failed.", key, start, end, %error);
            }
        }
        fetched
    }
}

/// Ends a fetch whose fetcher unwound before finishing it, so its waiters are not left
/// waiting for ever.
struct FetchGuard<'a> {
    fetcher: &'a Fetcher,
    key: blocks::BlockKey,
    flight: Arc<blocks::Flight>,
    armed: bool,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let abandoned = ArchiveError::Unavailable { detail: "the fetch was abandoned".into() };
            self.fetcher.blocks.complete(self.key, &self.flight, Err(abandoned));
        }
    }
}

/// The [`ArchiveError`] an archived read failed with, if that is why it failed.
pub fn archive_error(error: &io::Error) -> Option<&ArchiveError> {
    error.get_ref().and_then(|inner| inner.downcast_ref::<ArchiveError>())
}

/// The last few blocks read of one segment, newest last.
#[derive(Default)]
struct RecentBlocks {
    blocks: [u64; RECENT_BLOCKS],
    len: usize,
}

impl RecentBlocks {
    /// Notes a read of `block`; returns whether it follows a recent read of the block
    /// before it (and is not itself a re-read).
    fn note(&mut self, block: u64) -> bool {
        let seen = &self.blocks[..self.len];
        let sequential = block > 0 && seen.contains(&(block - 1)) && !seen.contains(&block);
        if !seen.contains(&block) {
            if self.len == RECENT_BLOCKS {
                self.blocks.rotate_left(1);
                self.len -= 1;
            }
            self.blocks[self.len] = block;
            self.len += 1;
        }
        sequential
    }
}

/// An archived segment, read through the cache.
struct ArchivedFile {
    reader: Arc<ArchiveReader>,
    key: Arc<str>,
    segment_id: u64,
    len: u64,
    recent: Mutex<RecentBlocks>,
}

impl ReadFile for ArchivedFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let end = (offset + buf.len() as u64).min(self.len);
        let block_bytes = self.reader.fetcher.block_bytes;
        let mut written = 0usize;
        for block in offset / block_bytes..=(end - 1) / block_bytes {
            if self.recent.lock().note(block) {
                self.reader.read_ahead(self, block);
            }
            let bytes =
                self.reader.fetcher.block(self.segment_id, &self.key, block, self.len).map_err(io::Error::other)?;
            let block_start = block * block_bytes;
            let from = (offset + written as u64 - block_start) as usize;
            let to = ((end - block_start) as usize).min(bytes.len());
            let part = bytes.get(from..to).unwrap_or_default();
            buf[written..written + part.len()].copy_from_slice(part);
            written += part.len();
        }
        Ok(written)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }
}
