//! Reading segments only the archive holds: [`ArchiveReader::open_segment`] gives the log
//! a [`ReadFile`] over an archived segment object, served from a bounded in-memory cache
//! of aligned blocks and fetched with range GETs, with read-ahead for sequential readers.
//!
//! SKELETON(read): the cache, read-ahead and the fetch accounting are the read helper's.

use std::io;
use std::sync::Arc;

use super::{ArchiveError, ArchiveLayout, ObjectArchive};
use crate::fs::ReadFile;
use crate::stats::ArchiveCounters;

/// Reads archived segments through one shared, bounded cache.
pub struct ArchiveReader {
    store: Arc<dyn ObjectArchive>,
    #[allow(dead_code)] // SKELETON(read)
    layout: ArchiveLayout,
    #[allow(dead_code)] // SKELETON(read)
    cache_bytes: u64,
    #[allow(dead_code)] // SKELETON(read)
    read_ahead_blocks: u32,
    #[allow(dead_code)] // SKELETON(read)
    counters: Arc<ArchiveCounters>,
}

#[allow(dead_code)] // SKELETON(read, arch): used once the archiver and the read path call it
impl ArchiveReader {
    /// A reader of `layout`'s segments in `store`, caching up to `cache_bytes`.
    pub(crate) fn new(
        store: Arc<dyn ObjectArchive>,
        layout: ArchiveLayout,
        cache_bytes: u64,
        read_ahead_blocks: u32,
        counters: Arc<ArchiveCounters>,
    ) -> Arc<Self> {
        Arc::new(ArchiveReader { store, layout, cache_bytes, read_ahead_blocks, counters })
    }

    /// The archive, for error texts.
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// A file over archived segment `segment_id`, `len` bytes long. Reads fail with an
    /// `io::Error` wrapping the [`ArchiveError`] (see [`archive_error`]).
    pub(crate) fn open_segment(self: &Arc<Self>, segment_id: u64, len: u64) -> Arc<dyn ReadFile> {
        Arc::new(ArchivedFile { reader: self.clone(), key: self.layout.segment_key(segment_id), segment_id, len })
    }

    /// Drops every cached block of a segment (retention deleted it).
    pub(crate) fn forget_segment(&self, _segment_id: u64) {
        // SKELETON(read)
    }

    /// Whether a read of `offset..offset + len` of archived segment `segment_id` would
    /// wait for the archive (not all of it is cached).
    pub(crate) fn would_fetch(&self, _segment_id: u64, _offset: u64, _len: u64) -> bool {
        true // SKELETON(read)
    }
}

/// The [`ArchiveError`] an archived read failed with, if that is why it failed.
pub fn archive_error(error: &io::Error) -> Option<&ArchiveError> {
    error.get_ref().and_then(|inner| inner.downcast_ref::<ArchiveError>())
}

#[allow(dead_code)] // SKELETON(read)
struct ArchivedFile {
    reader: Arc<ArchiveReader>,
    key: String,
    #[allow(dead_code)] // SKELETON(read)
    segment_id: u64,
    len: u64,
}

impl ReadFile for ArchivedFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        // SKELETON(read): uncached, one GET per call.
        if offset >= self.len {
            return Ok(0);
        }
        let end = (offset + buf.len() as u64).min(self.len);
        let bytes = self.reader.store.get_range(&self.key, offset..end).map_err(io::Error::other)?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }
}
