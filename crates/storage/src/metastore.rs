//! The metadata store: where a log keeps what is not records — stream and shard
//! metadata, fresh identities, the data folder's store id and the records of archived
//! segments — behind one trait, so cluster mode can put the same facts in etcd without
//! the log changing.
//!
//! [`LocalMetaStore`] is today's implementation: small files under `<data-dir>/meta`,
//! each replaced atomically (temporary file, fdatasync, rename, folder sync) and framed
//! with a magic, a version and a CRC-32C (`meta.rs`).
//!
//! ```text
//! meta/stream-<id:020>.meta        one stream's metadata (magic RHEOMETA)
//! meta/store.id                    this data folder's store id (magic RHEOSTID)
//! meta/archive/<segment:020>.rec   one archived segment's manifest (magic RHEOARCR)
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::archive::SegmentManifest;
use crate::error::{Result, StorageError};
use crate::fs::{join, FileSystem};
use crate::meta::{decode, decode_framed, encode, encode_framed, StreamMeta, META_SUFFIX, TEMP_SUFFIX};

const STORE_ID_MAGIC: [u8; 8] = *b"RHEOSTID";
const ARCHIVED_MAGIC: [u8; 8] = *b"RHEOARCR";
const STORE_ID_FILE: &str = "store.id";
const ARCHIVE_DIR: &str = "archive";
const ARCHIVED_SUFFIX: &str = ".rec";

/// Durable metadata of one log. Every write returns once it is durable; a crash leaves
/// each item either old or new.
pub trait MetaStore: Send + Sync + 'static {
    /// Every stream, in id order.
    fn load_streams(&self) -> Result<Vec<StreamMeta>>;
    /// Creates or replaces a stream's metadata.
    fn put_stream(&self, meta: &StreamMeta) -> Result<()>;
    /// Forgets a stream.
    fn remove_stream(&self, stream_id: u64) -> Result<()>;
    /// `count` identities (stream ids, shard uids) never handed out before by this store.
    /// They are unrelated to LSNs.
    fn allocate_ids(&self, count: u64) -> Result<Range<u64>>;
    /// The store's own id: names this data folder in the archive's object layout. Made
    /// at the first call, the same forever after.
    fn store_id(&self) -> Result<String>;
    /// Every archived segment's record, in segment order.
    fn load_archived(&self) -> Result<Vec<SegmentManifest>>;
    /// Records that a segment is archived.
    fn put_archived(&self, manifest: &SegmentManifest) -> Result<()>;
    /// Forgets an archived segment (its objects are gone).
    fn remove_archived(&self, segment_id: u64) -> Result<()>;
}

/// The store id file's content.
#[derive(Serialize, Deserialize)]
struct StoreId {
    store_id: String,
}

/// [`MetaStore`] over files in one folder.
pub struct LocalMetaStore {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    /// Serializes the writes of this process's threads to the same file names.
    writing: Mutex<()>,
}

impl LocalMetaStore {
    /// The store in folder `dir` (created if missing).
    pub fn open(fs: Arc<dyn FileSystem>, dir: PathBuf) -> Result<Self> {
        fs.create_dir_all(&dir).map_err(|e| StorageError::io("create folder", &dir, e))?;
        // Created (and its entry made durable) here, so a durable record written later
        // never sits in a folder a crash could lose.
        let archive_dir = dir.join(ARCHIVE_DIR);
        if !fs.exists(&archive_dir) {
            fs.create_dir_all(&archive_dir).map_err(|e| StorageError::io("create folder", &archive_dir, e))?;
            fs.sync_dir(&dir).map_err(|e| StorageError::io("sync metadata folder", &dir, e))?;
        }
        Ok(LocalMetaStore { fs, dir, writing: Mutex::new(()) })
    }

    fn stream_file(stream_id: u64) -> String {
        format!("stream-{stream_id:020}{META_SUFFIX}")
    }

    fn archive_dir(&self) -> PathBuf {
        self.dir.join(ARCHIVE_DIR)
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>> {
        let file = self.fs.open_read(path).map_err(|e| StorageError::io("open metadata", path, e))?;
        let len = file.len().map_err(|e| StorageError::io("stat metadata", path, e))?;
        let mut bytes = vec![0u8; len as usize];
        file.read_exact_at(&mut bytes, 0).map_err(|e| StorageError::io("read metadata", path, e))?;
        Ok(bytes)
    }

    /// Replaces `dir/name` with `bytes` atomically and durably.
    fn replace(&self, dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
        let _writing = self.writing.lock();
        let path = join(dir, name);
        let temp = join(dir, &format!("{name}{TEMP_SUFFIX}"));
        let mut file = self.fs.open_write(&temp).map_err(|e| StorageError::io("create metadata", &temp, e))?;
        file.set_len(0).map_err(|e| StorageError::io("truncate metadata", &temp, e))?;
        file.write_all_at(bytes, 0).map_err(|e| StorageError::io("write metadata", &temp, e))?;
        file.sync_data().map_err(|e| StorageError::io("sync metadata", &temp, e))?;
        drop(file);
        self.fs.rename(&temp, &path).map_err(|e| StorageError::io("rename metadata", &path, e))?;
        self.fs.sync_dir(dir).map_err(|e| StorageError::io("sync metadata folder", dir, e))
    }

    fn remove(&self, dir: &Path, name: &str) -> Result<()> {
        let _writing = self.writing.lock();
        let path = join(dir, name);
        if !self.fs.exists(&path) {
            return Ok(());
        }
        self.fs.remove_file(&path).map_err(|e| StorageError::io("remove metadata", &path, e))?;
        self.fs.sync_dir(dir).map_err(|e| StorageError::io("sync metadata folder", dir, e))
    }

    /// Names in `dir` ending in `suffix`; leftover temporary files (writes that never
    /// completed, so never acknowledged) are removed.
    fn list(&self, dir: &Path, suffix: &str) -> Result<Vec<String>> {
        if !self.fs.exists(dir) {
            return Ok(Vec::new());
        }
        let names = self.fs.list_dir(dir).map_err(|e| StorageError::io("list metadata", dir, e))?;
        let mut kept = Vec::new();
        for name in names {
            if name.ends_with(TEMP_SUFFIX) {
                let path = join(dir, &name);
                self.fs.remove_file(&path).map_err(|e| StorageError::io("remove temporary metadata", &path, e))?;
            } else if name.ends_with(suffix) {
                kept.push(name);
            }
        }
        kept.sort();
        Ok(kept)
    }
}

impl MetaStore for LocalMetaStore {
    fn load_streams(&self) -> Result<Vec<StreamMeta>> {
        let mut streams = Vec::new();
        for name in self.list(&self.dir, META_SUFFIX)? {
            let path = join(&self.dir, &name);
            let bytes = self.read_file(&path)?;
            streams.push(decode(&bytes).map_err(|detail| StorageError::MetadataCorrupt { path, detail })?);
        }
        streams.sort_by_key(|s| s.stream_id);
        Ok(streams)
    }

    fn put_stream(&self, meta: &StreamMeta) -> Result<()> {
        self.replace(&self.dir, &Self::stream_file(meta.stream_id), &encode(meta))
    }

    fn remove_stream(&self, stream_id: u64) -> Result<()> {
        self.remove(&self.dir, &Self::stream_file(stream_id))
    }

    fn allocate_ids(&self, _count: u64) -> Result<Range<u64>> {
        // SKELETON(meta): a durable id counter, `meta/ids.reserve`.
        Err(StorageError::Rejected("SKELETON: identities are not yet allocated by the metadata store".into()))
    }

    fn store_id(&self) -> Result<String> {
        let path = join(&self.dir, STORE_ID_FILE);
        if self.fs.exists(&path) {
            let bytes = self.read_file(&path)?;
            let id: StoreId = decode_framed(&STORE_ID_MAGIC, &bytes)
                .map_err(|detail| StorageError::MetadataCorrupt { path: path.clone(), detail })?;
            return Ok(id.store_id);
        }
        let mut random = [0u8; 16];
        getrandom::getrandom(&mut random).map_err(|e| StorageError::Rejected(format!("no random bytes: {e}")))?;
        let store_id: String = random.iter().map(|b| format!("{b:02x}")).collect();
        self.replace(
            &self.dir,
            STORE_ID_FILE,
            &encode_framed(&STORE_ID_MAGIC, &StoreId { store_id: store_id.clone() }),
        )?;
        Ok(store_id)
    }

    fn load_archived(&self) -> Result<Vec<SegmentManifest>> {
        let dir = self.archive_dir();
        let mut records = Vec::new();
        for name in self.list(&dir, ARCHIVED_SUFFIX)? {
            let path = join(&dir, &name);
            let bytes = self.read_file(&path)?;
            records.push(
                decode_framed(&ARCHIVED_MAGIC, &bytes)
                    .map_err(|detail| StorageError::MetadataCorrupt { path, detail })?,
            );
        }
        records.sort_by_key(|r: &SegmentManifest| r.segment_id);
        Ok(records)
    }

    fn put_archived(&self, manifest: &SegmentManifest) -> Result<()> {
        let dir = self.archive_dir();
        let name = format!("{:020}{ARCHIVED_SUFFIX}", manifest.segment_id);
        self.replace(&dir, &name, &encode_framed(&ARCHIVED_MAGIC, manifest))
    }

    fn remove_archived(&self, segment_id: u64) -> Result<()> {
        self.remove(&self.archive_dir(), &format!("{segment_id:020}{ARCHIVED_SUFFIX}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memfs::MemFs;

    fn manifest(segment_id: u64) -> SegmentManifest {
        SegmentManifest {
            version: crate::archive::LAYOUT_VERSION,
            segment_id,
            segment_len: 100,
            segment_crc32c: 1,
            index_len: 10,
            index_crc32c: 2,
            first_lsn: 3,
            last_lsn: 4,
            first_arrival_ms: 5,
            last_arrival_ms: 6,
            shard_uids: vec![7, 8],
            archived_ms: 9,
        }
    }

    #[test]
    fn archived_records_and_the_store_id_survive_reopening() {
        let fs: Arc<dyn FileSystem> = Arc::new(MemFs::new());
        let store = LocalMetaStore::open(fs.clone(), PathBuf::from("/d/meta")).unwrap();
        let id = store.store_id().unwrap();
        assert_eq!(id.len(), 32);
        store.put_archived(&manifest(2)).unwrap();
        store.put_archived(&manifest(1)).unwrap();
        store.remove_archived(2).unwrap();
        store.remove_archived(3).unwrap();
        let reopened = LocalMetaStore::open(fs, PathBuf::from("/d/meta")).unwrap();
        assert_eq!(reopened.store_id().unwrap(), id);
        assert_eq!(reopened.load_archived().unwrap(), vec![manifest(1)]);
        assert!(reopened.load_streams().unwrap().is_empty());
    }
}
