//! The archive: object storage that sealed segments are tiered to, behind one blocking
//! trait the log's background threads and readers call.
//!
//! The log never speaks HTTP: an [`ObjectArchive`] is handed in through
//! [`crate::LogConfig::archive`]. Implementations: [`MemArchive`] (in memory, with fault
//! knobs, for tests), [`FsArchive`] (the durable local-folder archive, `file:///PATH`) and, outside this
//! crate, `rheo-archive`'s S3 one.
//!
//! # Object layout (version 1)
//!
//! Keys are relative to the archive's root (`s3://BUCKET/PREFIX` or the folder):
//!
//! ```text
//! rheo-archive.json                                  layout marker: {"format":"rheo-archive","version":1}
//! v1/<store-id>/<log>/segments/<segment:020>.seg     the sealed segment file, byte for byte
//! v1/<store-id>/<log>/segments/<segment:020>.idx     its chunk index file, byte for byte
//! v1/<store-id>/<log>/segments/<segment:020>.json    its manifest (SegmentManifest), written last
//! ```
//!
//! `<store-id>` names one data folder (a UUID kept by its metadata store), so two nodes
//! sharing a bucket never collide and a second node can read another's segments; `<log>`
//! is the log's name (`streams`). A segment is archived once its manifest exists: the
//! manifest is the commit point of an upload and carries the CRC-32C and length of both
//! files, so a reader can check what it fetched. Segment and index files carry their own
//! magic, version and checksums (`format.rs`).

pub mod cache;
pub mod fs;
mod mem;

use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::fs::ReadFile;

pub use cache::ArchiveReader;
pub use fs::FsArchive;
pub use mem::{MemArchive, MemArchiveFaults};

/// Version of the object layout this build writes and reads.
pub const LAYOUT_VERSION: u32 = 1;

/// Key of the layout marker at the archive's root.
pub const LAYOUT_MARKER_KEY: &str = "rheo-archive.json";

/// What went wrong talking to the archive.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// No object under this key.
    #[error("object {key} not found in the archive")]
    NotFound {
        /// The key.
        key: String,
    },
    /// The store could not be reached or answered with a failure (network error, 5xx,
    /// timeout). Worth retrying.
    #[error("the archive is unavailable: {detail}")]
    Unavailable {
        /// What failed, as the store or the network said.
        detail: String,
    },
    /// An object's bytes are not what was stored (length or checksum mismatch).
    #[error("object {key} in the archive is damaged: {detail}")]
    Corrupt {
        /// The key.
        key: String,
        /// What does not match.
        detail: String,
    },
    /// The archive refused the request for a reason retrying will not change
    /// (credentials, a missing bucket, a layout of another version).
    #[error("the archive refused the request: {detail}")]
    Refused {
        /// What the store said.
        detail: String,
    },
}

impl ArchiveError {
    /// Whether retrying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ArchiveError::Unavailable { .. })
    }
}

/// One object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key, relative to the archive's root.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An object store, seen through blocking calls. The log calls these from its own
/// threads (the archiver) and from readers; implementations bound every call with a
/// timeout and report failures as [`ArchiveError`], never panic.
pub trait ObjectArchive: Send + Sync + 'static {
    /// Where the archive is, for logs and error texts (`s3://bucket/prefix`, `file:///path`).
    fn describe(&self) -> String;

    /// Stores the first `len` bytes of `source` under `key`, replacing any object there,
    /// and returns once the store holds them durably. Large objects go up in parts, read
    /// from `source` one part at a time, so memory stays bounded.
    fn put_file(&self, key: &str, source: &dyn ReadFile, len: u64) -> Result<(), ArchiveError>;

    /// Stores a small object from memory.
    fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError>;

    /// Reads `range` of the object under `key`.
    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, ArchiveError>;

    /// Reads a whole (small) object.
    fn get(&self, key: &str) -> Result<Bytes, ArchiveError>;

    /// Deletes the object under `key`; deleting a missing object succeeds.
    fn delete(&self, key: &str) -> Result<(), ArchiveError>;

    /// Hands `page` every object whose key starts with `prefix`, at most
    /// [`ARCHIVE_LIST_PAGE`] at a time, so a listing of any size takes bounded memory and
    /// the caller can act on each page (delete what it finds) before the next is read.
    /// `page` answering `Break` ends the listing; its error ends it and is returned.
    /// Order: key order (S3 and [`MemArchive`]); [`FsArchive`] gives key order within each
    /// folder, folders depth first. Objects put or deleted during a listing may or may not
    /// be listed.
    fn list_pages(&self, prefix: &str, page: &mut ListPage<'_>) -> Result<(), ArchiveError>;

    /// Closes the archive for a shutdown: calls in flight and calls made afterwards
    /// return [`ArchiveError::Unavailable`] at once instead of waiting for the store (a
    /// multipart upload cut short is aborted, best effort, within a short bound). Nothing
    /// accepted is lost: an upload cut short has no durable record and is redone after
    /// the next start. The default does nothing, for stores whose calls are short.
    fn close(&self) {}
}

/// Most objects one page of a listing holds (S3's own page size, so one page is one
/// ListObjectsV2 request).
pub const ARCHIVE_LIST_PAGE: usize = 1_000;

/// What [`ObjectArchive::list_pages`] hands each page to.
pub type ListPage<'a> = dyn FnMut(Vec<ObjectInfo>) -> Result<ControlFlow<()>, ArchiveError> + 'a;

/// Collects a listing's objects into pages of [`ARCHIVE_LIST_PAGE`] for a backend that
/// produces them one by one; stops taking them once the caller breaks.
pub struct Pager<'p, 'a> {
    page: &'p mut ListPage<'a>,
    pending: Vec<ObjectInfo>,
    done: bool,
}

impl<'p, 'a> Pager<'p, 'a> {
    /// A pager handing full pages to `page`.
    pub fn new(page: &'p mut ListPage<'a>) -> Self {
        Pager { page, pending: Vec::with_capacity(ARCHIVE_LIST_PAGE), done: false }
    }

    /// Adds one object; hands a full page on. `Ok(false)`: the caller broke off, stop.
    pub fn push(&mut self, object: ObjectInfo) -> Result<bool, ArchiveError> {
        if self.done {
            return Ok(false);
        }
        self.pending.push(object);
        if self.pending.len() >= ARCHIVE_LIST_PAGE {
            self.flush()?;
        }
        Ok(!self.done)
    }

    /// Hands on what is pending (the last, short page).
    pub fn finish(mut self) -> Result<(), ArchiveError> {
        self.flush()
    }

    fn flush(&mut self) -> Result<(), ArchiveError> {
        if self.done || self.pending.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.pending, Vec::with_capacity(ARCHIVE_LIST_PAGE));
        if (self.page)(full)?.is_break() {
            self.done = true;
        }
        Ok(())
    }
}

/// Every object under `prefix`, sorted by key (tests compare whole listings).
#[cfg(test)]
pub(crate) fn list_all(store: &dyn ObjectArchive, prefix: &str) -> Result<Vec<ObjectInfo>, ArchiveError> {
    let mut all = Vec::new();
    store.list_pages(prefix, &mut |page| {
        assert!(page.len() <= ARCHIVE_LIST_PAGE && !page.is_empty());
        all.extend(page);
        Ok(ControlFlow::Continue(()))
    })?;
    all.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(all)
}

/// How a log tiers its sealed segments to an archive.
#[derive(Clone)]
pub struct ArchiveConfig {
    /// The store.
    pub store: Arc<dyn ObjectArchive>,
    /// The log's name in the object layout (`streams`).
    pub log_name: String,
    /// Archived segments are removed locally, oldest first, while the local segment files
    /// exceed this many bytes (`--local-retention-bytes`). `None`: no size budget.
    pub local_retention_bytes: Option<u64>,
    /// Archived segments whose newest record is older than this are removed locally
    /// (`--local-retention-hours`). `None`: no age budget.
    pub local_retention_ms: Option<u64>,
    /// Appends are refused once segments not yet archived take this many bytes locally
    /// (`--local-hard-limit-bytes`): an archive that is down never makes the log drop
    /// unarchived data. `None`: only a full disk stops appends.
    pub local_hard_limit_bytes: Option<u64>,
    /// Bytes of archived segment data kept in memory for readers (`--archive-cache-bytes`).
    pub cache_bytes: u64,
    /// Blocks fetched ahead of a sequential reader.
    pub read_ahead_blocks: u32,
}

impl std::fmt::Debug for ArchiveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveConfig")
            .field("store", &self.store.describe())
            .field("log_name", &self.log_name)
            .field("local_retention_bytes", &self.local_retention_bytes)
            .field("local_retention_ms", &self.local_retention_ms)
            .field("local_hard_limit_bytes", &self.local_hard_limit_bytes)
            .field("cache_bytes", &self.cache_bytes)
            .field("read_ahead_blocks", &self.read_ahead_blocks)
            .finish()
    }
}

/// What the archive and the metadata store know of one archived segment. Written to the
/// archive as the segment's manifest (the commit point of its upload) and to the
/// metadata store as the durable record that it is archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentManifest {
    /// Layout version ([`LAYOUT_VERSION`]).
    pub version: u32,
    /// The segment's id.
    pub segment_id: u64,
    /// Length of the segment file as uploaded.
    pub segment_len: u64,
    /// CRC-32C of the segment file's bytes.
    pub segment_crc32c: u32,
    /// Length of its index file.
    pub index_len: u64,
    /// CRC-32C of the index file's bytes.
    pub index_crc32c: u32,
    /// Lowest and highest LSN of any record in it (0, 0 when empty).
    pub first_lsn: u64,
    /// See `first_lsn`.
    pub last_lsn: u64,
    /// Oldest and newest arrival time of any record in it, epoch milliseconds.
    pub first_arrival_ms: u64,
    /// See `first_arrival_ms`.
    pub last_arrival_ms: u64,
    /// The shard uids with records in it.
    pub shard_uids: Vec<u64>,
    /// When the upload finished, epoch milliseconds.
    pub archived_ms: u64,
}

/// The object keys of one log of one data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLayout {
    root: String,
}

impl ArchiveLayout {
    /// The layout of log `log_name` of the data folder whose store id is `store_id`.
    pub fn new(store_id: &str, log_name: &str) -> Self {
        ArchiveLayout { root: format!("v{LAYOUT_VERSION}/{store_id}/{log_name}/segments/") }
    }

    /// The prefix every segment object of this log starts with.
    pub fn segments_prefix(&self) -> &str {
        &self.root
    }

    /// Key of segment `id`'s file.
    pub fn segment_key(&self, id: u64) -> String {
        format!("{}{id:020}.seg", self.root)
    }

    /// Key of segment `id`'s index.
    pub fn index_key(&self, id: u64) -> String {
        format!("{}{id:020}.idx", self.root)
    }

    /// Key of segment `id`'s manifest.
    pub fn manifest_key(&self, id: u64) -> String {
        format!("{}{id:020}.json", self.root)
    }

    /// The segment id a key of this layout names, if it names one.
    pub fn segment_of(&self, key: &str) -> Option<u64> {
        let name = key.strip_prefix(&self.root)?;
        let stem =
            name.strip_suffix(".seg").or_else(|| name.strip_suffix(".idx")).or_else(|| name.strip_suffix(".json"))?;
        (stem.len() == 20).then(|| stem.parse().ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_longer_than_a_page_comes_in_pages_in_key_order_and_stops_when_asked() {
        let store = MemArchive::new();
        let count = 2 * ARCHIVE_LIST_PAGE + 7;
        let keys: Vec<String> = (0..count).map(|i| format!("p/{i:06}")).collect();
        for key in &keys {
            store.set_object(key, Bytes::from_static(b"x"));
        }
        store.set_object("q/not-listed", Bytes::from_static(b"y"));
        let (mut sizes, mut listed) = (Vec::new(), Vec::new());
        store
            .list_pages("p/", &mut |page| {
                sizes.push(page.len());
                listed.extend(page.into_iter().map(|o| o.key));
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
        assert_eq!(sizes, [ARCHIVE_LIST_PAGE, ARCHIVE_LIST_PAGE, 7]);
        assert_eq!(listed, keys);

        let mut pages = 0;
        store
            .list_pages("p/", &mut |_| {
                pages += 1;
                Ok(ControlFlow::Break(()))
            })
            .unwrap();
        assert_eq!(pages, 1);

        // A caller may delete what a page lists before the next one (reconciliation does).
        store
            .list_pages("p/", &mut |page| {
                for object in page {
                    store.delete(&object.key)?;
                }
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
        assert_eq!(store.keys(), ["q/not-listed"]);
    }

    #[test]
    fn layout_keys_name_their_segment_and_nothing_else() {
        let layout = ArchiveLayout::new("0f1e", "streams");
        assert_eq!(layout.segment_key(7), "v1/0f1e/streams/segments/00000000000000000007.seg");
        for key in [layout.segment_key(7), layout.index_key(7), layout.manifest_key(7)] {
            assert_eq!(layout.segment_of(&key), Some(7));
        }
        assert_eq!(layout.segment_of("v1/0f1e/streams/segments/7.seg"), None);
        assert_eq!(layout.segment_of("v1/other/streams/segments/00000000000000000007.seg"), None);
        assert_eq!(layout.segment_of(LAYOUT_MARKER_KEY), None);
    }
}
