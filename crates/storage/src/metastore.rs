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
//! meta/ids.reserve                 the identity counter's reservation (magic RHEOIDSR)
//! meta/archive/<segment:020>.rec   one archived segment's manifest (magic RHEOARCR)
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::archive::SegmentManifest;
use crate::error::{Result, StorageError};
use crate::fs::{create_dir_durably, join, FileSystem};
use crate::meta::{decode, decode_framed, encode, encode_framed, StreamMeta, META_SUFFIX, TEMP_SUFFIX};

const STORE_ID_MAGIC: [u8; 8] = *b"RHEOSTID";
const ARCHIVED_MAGIC: [u8; 8] = *b"RHEOARCR";
const IDS_MAGIC: [u8; 8] = *b"RHEOIDSR";
const STORE_ID_FILE: &str = "store.id";
/// The identity counter's reservation file, in the metadata folder.
pub const IDS_FILE: &str = "ids.reserve";
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

/// How many identities one extension of `ids.reserve` covers. Identities are taken
/// rarely (a stream's creation, a reshard), so one synced write per block is free; a
/// restart skips at most one block, out of 2^63.
pub const ID_RESERVE_BLOCK: u64 = 1 << 16;

/// Identities stay below this (the LSN space's bound too), so `id + 1` never overflows
/// and an id fits every format that carries one.
pub const ID_MAX: u64 = crate::limits::LSN_MAX;

/// The content of `ids.reserve`: every identity below `reserved_until` may have been
/// handed out; a restart continues there.
#[derive(Serialize, Deserialize)]
struct IdReservation {
    reserved_until: u64,
}

/// The identity counter in memory: the next id, and the bound `ids.reserve` holds.
#[derive(Debug, Clone, Copy)]
struct IdCounter {
    next: u64,
    reserved_until: u64,
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
    /// The identity counter, once loaded (by [`LocalMetaStore::start_ids`] or the first
    /// allocation).
    ids: Mutex<Option<IdCounter>>,
}

impl LocalMetaStore {
    /// The store in folder `dir` (created if missing).
    pub fn open(fs: Arc<dyn FileSystem>, dir: PathBuf) -> Result<Self> {
        // Both created (and their entries made durable) here, so a durable record written
        // later never sits in a folder a crash could lose.
        let archive_dir = dir.join(ARCHIVE_DIR);
        for folder in [&dir, &archive_dir] {
            create_dir_durably(&*fs, folder).map_err(|e| StorageError::io("create folder", folder, e))?;
        }
        Ok(LocalMetaStore { fs, dir, writing: Mutex::new(()), ids: Mutex::new(None) })
    }

    /// Loads the identity counter. In a data folder written before identities had their
    /// own counter (no `ids.reserve`), they start at `floor`: start-up passes the LSN
    /// counter's next value, because every old stream id and shard uid was taken from
    /// it, and an old uid's chunks may outlive its stream in the segments, so no new id
    /// may be one of them. A damaged `ids.reserve` is [`StorageError::MetadataCorrupt`].
    pub fn start_ids(&self, floor: u64) -> Result<()> {
        let path = join(&self.dir, IDS_FILE);
        self.remove_temporary(IDS_FILE)?;
        let next = if self.fs.exists(&path) {
            let bytes = self.read_file(&path)?;
            let reservation: IdReservation = decode_framed(&IDS_MAGIC, &bytes)
                .map_err(|detail| StorageError::MetadataCorrupt { path: path.clone(), detail })?;
            reservation.reserved_until
        } else {
            floor
        };
        self.restart_ids_at(next);
        Ok(())
    }

    /// Continues identities at `next`, whatever `ids.reserve` says: for a damaged file
    /// the operator asked to get past (`--recover-truncate`). The file is replaced at the
    /// next allocation.
    pub fn restart_ids_at(&self, next: u64) {
        *self.ids.lock() = Some(IdCounter { next, reserved_until: next });
    }

    /// Removes `dir/name`'s temporary file, left by a replacement a crash interrupted
    /// (never acknowledged, so never relied on).
    fn remove_temporary(&self, name: &str) -> Result<()> {
        let temp = join(&self.dir, &format!("{name}{TEMP_SUFFIX}"));
        if self.fs.exists(&temp) {
            self.fs.remove_file(&temp).map_err(|e| StorageError::io("remove temporary metadata", &temp, e))?;
        }
        Ok(())
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

    fn allocate_ids(&self, count: u64) -> Result<Range<u64>> {
        if self.ids.lock().is_none() {
            // Not started by a log's start-up: a folder without the file starts at 0.
            self.start_ids(0)?;
        }
        let mut ids = self.ids.lock();
        let counter = ids.as_mut().ok_or_else(|| StorageError::Rejected("identity counter not loaded".into()))?;
        let end = counter
            .next
            .checked_add(count)
            .filter(|end| *end <= ID_MAX)
            .ok_or_else(|| StorageError::Rejected(format!("identity space exhausted (asked for {count})")))?;
        if end > counter.reserved_until {
            // The reservation reaches the disk before any id it covers is handed out, so
            // a crash at any point leaves every id handed out below it.
            let until = end.saturating_add(ID_RESERVE_BLOCK).min(ID_MAX);
            let bytes = encode_framed(&IDS_MAGIC, &IdReservation { reserved_until: until });
            self.replace(&self.dir, IDS_FILE, &bytes)?;
            counter.reserved_until = until;
        }
        let range = counter.next..end;
        counter.next = end;
        Ok(range)
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
    use crate::memfs::{MemFs, Tear};

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

    fn ids_path() -> PathBuf {
        PathBuf::from("/d/meta").join(IDS_FILE)
    }

    fn started(fs: &MemFs, floor: u64) -> LocalMetaStore {
        let store = LocalMetaStore::open(Arc::new(fs.clone()), PathBuf::from("/d/meta")).unwrap();
        store.start_ids(floor).unwrap();
        store
    }

    #[test]
    fn ids_are_unique_and_increasing_across_reopening() {
        let fs = MemFs::new();
        let mut handed_out: Vec<u64> = Vec::new();
        for round in 0..4u64 {
            let store = started(&fs, 0);
            // Counts that stay inside a block, cross its end, and exceed it.
            for count in [1, 3, ID_RESERVE_BLOCK - 2, 1, ID_RESERVE_BLOCK + 5, round] {
                let range = store.allocate_ids(count).unwrap();
                assert_eq!(range.end - range.start, count);
                handed_out.extend(range);
            }
        }
        assert!(handed_out.windows(2).all(|w| w[0] < w[1]), "ids repeated or went backwards");
    }

    #[test]
    fn a_folder_without_the_file_starts_at_the_floor_and_the_file_wins_afterwards() {
        let fs = MemFs::new();
        let store = started(&fs, 1_000);
        assert_eq!(store.allocate_ids(2).unwrap(), 1_000..1_002);
        // Once the file exists, the floor (the LSN counter's next value) no longer
        // moves identities: they follow their own reservation.
        let reopened = started(&fs, 5_000_000);
        let next = reopened.allocate_ids(1).unwrap().start;
        assert!((1_002..=1_002 + ID_RESERVE_BLOCK).contains(&next), "{next}");
    }

    #[test]
    fn no_id_repeats_after_crashes_between_reservation_and_use() {
        let fs = MemFs::new();
        // Every id handed out so far is below this.
        let mut handed_out_end = 0;
        let tears = [Tear::DropUnsynced, Tear::Partial { keep: 7, garbage: 3 }, Tear::Partial { keep: 0, garbage: 9 }];
        for round in 0..24usize {
            let store = started(&fs, 0);
            for step in 0..(round % 5) {
                // Some reservations fail halfway (the file's write or sync); their ids
                // are never handed out, and the next start must still be above the rest.
                if (round + step) % 3 == 0 {
                    fs.fail_next_syncs(1);
                } else if (round + step) % 7 == 0 {
                    fs.fail_next_writes(1);
                }
                let count = if step % 2 == 0 { ID_RESERVE_BLOCK } else { 1 + step as u64 };
                if let Ok(range) = store.allocate_ids(count) {
                    assert!(range.start >= handed_out_end, "{range:?} repeats ids below {handed_out_end}");
                    handed_out_end = range.end;
                }
            }
            fs.fail_next_syncs(0);
            fs.fail_next_writes(0);
            fs.crash(tears[round % tears.len()]);
        }
        assert!(handed_out_end > 0);
        let store = started(&fs, 0);
        assert!(store.allocate_ids(1).unwrap().start >= handed_out_end);
    }

    #[test]
    fn a_damaged_id_reservation_is_refused() {
        let fs = MemFs::new();
        started(&fs, 0).allocate_ids(1).unwrap();
        let len = fs.read_all(&ids_path()).unwrap().len();
        for at in [0, 9, 17, len - 2] {
            let damaged = MemFs::new();
            let mut bytes = fs.read_all(&ids_path()).unwrap();
            bytes[at] ^= 0x10;
            damaged.create_dir_all(Path::new("/d/meta")).unwrap();
            damaged.write_all(&ids_path(), &bytes);
            let store = LocalMetaStore::open(Arc::new(damaged), PathBuf::from("/d/meta")).unwrap();
            let error = store.start_ids(0).unwrap_err();
            assert!(matches!(error, StorageError::MetadataCorrupt { .. }), "flip at {at}: {error}");
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

    // The crash tests below stop the "process" right after a write returns. MemFs loses
    // every folder entry not synced into its folder, so each of them fails without the
    // folder sync that follows the rename (or removal) in `replace` and `remove`.

    fn stream(stream_id: u64, name: &str) -> StreamMeta {
        StreamMeta { stream_id, name: name.into(), created_ms: 1, shards: Vec::new(), props: Default::default() }
    }

    #[test]
    fn stream_metadata_written_or_removed_survives_a_crash_right_after_the_call_returns() {
        let fs = MemFs::new();
        let store = started(&fs, 0);
        store.put_stream(&stream(4, "first")).unwrap();
        fs.crash(Tear::DropUnsynced);
        let store = started(&fs, 0);
        assert_eq!(store.load_streams().unwrap(), vec![stream(4, "first")]);

        store.put_stream(&stream(4, "replaced")).unwrap();
        store.put_stream(&stream(5, "second")).unwrap();
        fs.crash(Tear::Partial { keep: 3, garbage: 5 });
        let store = started(&fs, 0);
        assert_eq!(store.load_streams().unwrap(), vec![stream(4, "replaced"), stream(5, "second")]);

        store.remove_stream(4).unwrap();
        fs.crash(Tear::DropUnsynced);
        assert_eq!(started(&fs, 0).load_streams().unwrap(), vec![stream(5, "second")]);
    }

    #[test]
    fn an_archived_segment_record_written_or_removed_survives_a_crash_right_after_the_call_returns() {
        let fs = MemFs::new();
        let store = started(&fs, 0);
        store.put_archived(&manifest(1)).unwrap();
        store.put_archived(&manifest(2)).unwrap();
        fs.crash(Tear::DropUnsynced);
        let store = started(&fs, 0);
        assert_eq!(store.load_archived().unwrap(), vec![manifest(1), manifest(2)]);

        store.remove_archived(1).unwrap();
        fs.crash(Tear::Partial { keep: 1, garbage: 2 });
        assert_eq!(started(&fs, 0).load_archived().unwrap(), vec![manifest(2)]);
    }

    #[test]
    fn the_id_reservation_survives_a_crash_right_after_the_allocation_returns() {
        let fs = MemFs::new();
        // The first allocation creates `ids.reserve`; the second replaces it.
        for count in [1, ID_RESERVE_BLOCK + 5] {
            let handed_out = started(&fs, 0).allocate_ids(count).unwrap();
            fs.crash(Tear::DropUnsynced);
            let next = started(&fs, 0).allocate_ids(1).unwrap().start;
            assert!(next >= handed_out.end, "{next} repeats an id of {handed_out:?}");
        }
    }

    #[test]
    fn the_store_id_survives_a_crash_right_after_it_is_made() {
        let fs = MemFs::new();
        let id = started(&fs, 0).store_id().unwrap();
        fs.crash(Tear::DropUnsynced);
        assert_eq!(started(&fs, 0).store_id().unwrap(), id);
    }

    #[test]
    fn a_fresh_metadata_folder_survives_a_crash() {
        let fs = MemFs::new();
        drop(started(&fs, 0));
        fs.crash(Tear::DropUnsynced);
        assert!(fs.exists(Path::new("/d/meta/archive")));
    }
}
