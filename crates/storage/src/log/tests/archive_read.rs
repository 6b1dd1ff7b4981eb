//! Reads of segments only the archive holds: a reader waiting for the archive holds up
//! no one else, and an archive that fails is reported, never taken for damage.
//!
//! A test makes a sealed segment remote itself, the way the archiver's eviction does (the
//! object put in the archive, the segment's file swapped for the archive's reader), so
//! which segment is remote, and when, is the test's choice rather than the archiver's.

use super::*;
use crate::archive::cache::tests::GatedArchive;
use crate::archive::{ArchiveConfig, ArchiveError, MemArchive, ObjectArchive};
use crate::limits::{ARCHIVE_CACHE_BYTES_DEFAULT, ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT};

fn archived(store: Arc<dyn ObjectArchive>, read_ahead_blocks: u32) -> LogConfig {
    LogConfig {
        archive: Some(ArchiveConfig {
            store,
            log_name: "streams".into(),
            local_retention_bytes: None,
            local_retention_ms: None,
            local_hard_limit_bytes: None,
            cache_bytes: ARCHIVE_CACHE_BYTES_DEFAULT,
            read_ahead_blocks,
        }),
        ..small_segments()
    }
}

/// Puts sealed segment `id` in the archive and makes the log read it from there.
fn make_remote(log: &ShardLog, objects: &MemArchive, id: u64) {
    let tier = log.shared.archive.as_ref().unwrap();
    let mut segments = log.shared.segments.write();
    let segment = segments.get_mut(&id).unwrap();
    let len = segment.file.len().unwrap();
    let mut bytes = vec![0u8; len as usize];
    segment.file.read_exact_at(&mut bytes, 0).unwrap();
    objects.set_object(&tier.layout.segment_key(id), Bytes::from(bytes));
    segment.file = tier.reader.open_segment(id, len);
    segment.local = false;
}

/// A log whose shard `a` fills several sealed segments before shard `b` gets records.
struct TwoShards {
    log: Arc<ShardLog>,
    a: u64,
    b: u64,
    /// LSN of shard a's newest record.
    last_a: u64,
    /// The sealed segments, holding only a's records.
    sealed: Vec<u64>,
}

fn two_shards(store: &Arc<GatedArchive>) -> TwoShards {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, archived(store.clone(), ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT)).unwrap();
    let meta = stream(&log, "s", 2);
    let (a, b) = (meta.shards[0].uid, meta.shards[1].uid);
    let mut last_a = 0;
    for i in 0..40 {
        let appended = log.append_blocking(vec![record(a, &format!("a{i:03}{}", "x".repeat(300)))]).unwrap();
        last_a = appended[0].as_ref().unwrap().lsn;
    }
    let sealed: Vec<u64> = {
        let segments = log.shared.segments.read();
        let active = *segments.keys().last().unwrap();
        segments.keys().copied().filter(|id| *id != active).collect()
    };
    assert!(sealed.len() >= 3, "{} sealed segments", sealed.len());
    for i in 0..5 {
        log.append_blocking(vec![record(b, &format!("b{i}"))]).unwrap()[0].as_ref().unwrap();
    }
    TwoShards { log: Arc::new(log), a, b, last_a, sealed }
}

fn texts(batch: &ReadBatch) -> Vec<String> {
    batch.records.iter().map(|r| String::from_utf8_lossy(&r.data[..r.data.len().min(4)]).into_owned()).collect()
}

fn a_texts(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("a{i:03}")).collect()
}

#[test]
fn a_reader_waiting_for_the_archive_holds_up_no_tip_reader_nor_writer() {
    let store = Arc::new(GatedArchive::default());
    let TwoShards { log, a, b, last_a, sealed } = two_shards(&store);
    make_remote(&log, &store.inner, sealed[0]);
    let start = log.resolve(a, StartPosition::TrimHorizon).unwrap();
    assert!(log.read_may_block(a, start));
    assert!(!log.read_may_block(a, last_a), "the newest records are local");
    // The gate starts closed: the reader far behind stops inside its fetch.
    let behind = std::thread::spawn({
        let log = log.clone();
        move || log.read(a, start, 1000, usize::MAX)
    });
    store.await_arrivals(1);
    assert_eq!(texts(&log.read(a, last_a, 10, usize::MAX).unwrap()), ["a039"]);
    let b_from = log.resolve(b, StartPosition::TrimHorizon).unwrap();
    assert!(!log.read_may_block(b, b_from), "shard b is all local");
    assert_eq!(texts(&log.read(b, b_from, 100, usize::MAX).unwrap()), ["b0", "b1", "b2", "b3", "b4"]);
    assert!(log.append_blocking(vec![record(b, "b5")]).unwrap()[0].is_ok());
    assert!(!behind.is_finished(), "the archived read is still waiting");
    store.open_gate();
    assert_eq!(texts(&behind.join().unwrap().unwrap()), a_texts(0..40));
    assert!(!log.read_may_block(a, start), "the segment is cached now");
    assert_eq!(store.arrived.load(Ordering::SeqCst), 1, "one segment, one block, one GET");
}

#[test]
fn an_archive_that_fails_is_reported_not_taken_for_damage_and_reads_recover() {
    let store = Arc::new(GatedArchive::default());
    let TwoShards { log, a, sealed, .. } = two_shards(&store);
    // The second sealed segment is remote: records of the first are read before it.
    make_remote(&log, &store.inner, sealed[1]);
    store.fail.store(true, Ordering::SeqCst);
    store.open_gate();
    let start = log.resolve(a, StartPosition::TrimHorizon).unwrap();
    let first = log.read(a, start, 1000, usize::MAX).unwrap();
    assert!(!first.records.is_empty(), "records before the archived chunk are served");
    let served = first.records.len();
    assert_eq!(texts(&first), a_texts(0..served));
    let error = log.read(a, first.next_lsn, 1000, usize::MAX).unwrap_err();
    let StorageError::ArchiveUnavailable {
        ref archive,
        shard_uid,
        first_lsn,
        source: ArchiveError::Unavailable { .. },
        ..
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!((archive.as_str(), shard_uid, first_lsn), ("gated://", a, first.next_lsn));
    assert!(error.to_string().contains("gated://"), "{error}");
    let stats = log.stats();
    // Both reads asked the archive (the first stopped at the chunk it could not fetch).
    assert_eq!((stats.damaged_chunks, stats.archive.fetch_failures_total), (0, 2));
    // The archive is back: the same read succeeds and the shard reads to its end.
    store.fail.store(false, Ordering::SeqCst);
    let rest = log.read(a, first.next_lsn, 1000, usize::MAX).unwrap();
    assert_eq!(texts(&rest), a_texts(served..40));
    assert_eq!(log.stats().archive.fetches_total, 1);
    assert!(store.describe().starts_with("gated"));
}

#[test]
fn a_remote_segment_beyond_the_first_read_window_still_makes_the_read_move_off_the_runtime() {
    let store = Arc::new(GatedArchive::default());
    store.open_gate();
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, archived(store.clone(), ARCHIVE_READ_AHEAD_BLOCKS_DEFAULT)).unwrap();
    let a = stream(&log, "s", 1).shards[0].uid;
    // One chunk per append: more chunks than one read window before the remote segment.
    let chunks = crate::limits::READ_WINDOW_CHUNKS + 40;
    for i in 0..chunks {
        log.append_blocking(vec![record(a, &format!("a{i:03}{}", "x".repeat(300)))]).unwrap()[0].as_ref().unwrap();
    }
    let newest_sealed = {
        let segments = log.shared.segments.read();
        let ids: Vec<u64> = segments.keys().copied().collect();
        ids[ids.len() - 2]
    };
    make_remote(&log, &store.inner, newest_sealed);
    let start = log.resolve(a, StartPosition::TrimHorizon).unwrap();
    assert!(log.read_may_block(a, start), "a read from the start reaches the remote segment");
    let batch = log.read(a, start, 10_000, usize::MAX).unwrap();
    assert_eq!(batch.records.len(), chunks, "the read went through the remote segment");
    assert!(!log.read_may_block(a, start), "the remote segment is cached now");
}

/// An archive whose first range read returns damaged bytes (as a broken proxy or a bad
/// network card might), and whose later reads are right.
#[derive(Default)]
struct DamagesFirstDownload {
    inner: MemArchive,
    damaged_one: std::sync::atomic::AtomicBool,
}

impl ObjectArchive for DamagesFirstDownload {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn put_file(&self, key: &str, source: &dyn crate::fs::ReadFile, len: u64) -> Result<(), ArchiveError> {
        self.inner.put_file(key, source, len)
    }
    fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError> {
        self.inner.put_bytes(key, bytes)
    }
    fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes, ArchiveError> {
        let bytes = self.inner.get_range(key, range)?;
        if self.damaged_one.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(bytes);
        }
        let mut damaged = bytes.to_vec();
        for byte in damaged.iter_mut().skip(64) {
            *byte ^= 0x5a;
        }
        Ok(Bytes::from(damaged))
    }
    fn get(&self, key: &str) -> Result<Bytes, ArchiveError> {
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> Result<(), ArchiveError> {
        self.inner.delete(key)
    }
    fn list_pages(&self, prefix: &str, page: &mut crate::archive::ListPage<'_>) -> Result<(), ArchiveError> {
        self.inner.list_pages(prefix, page)
    }
}

/// A log over `store` with one shard whose first sealed segment is read from the archive.
fn one_remote_segment(store: Arc<dyn ObjectArchive>, objects: &MemArchive) -> (ShardLog, u64, usize) {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, archived(store, 0)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let count = 30;
    for i in 0..count {
        log.append_blocking(vec![record(uid, &format!("r{i:03}{}", "x".repeat(300)))]).unwrap();
    }
    let first = *log.shared.segments.read().keys().next().unwrap();
    make_remote(&log, objects, first);
    (log, uid, count)
}

#[test]
fn a_download_damaged_once_is_fetched_again_not_taken_for_damage() {
    let store = Arc::new(DamagesFirstDownload::default());
    let (log, uid, count) = one_remote_segment(store.clone(), &store.inner);
    let batch = log.read(uid, 0, usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.records.len(), count);
    assert!(store.damaged_one.load(std::sync::atomic::Ordering::SeqCst), "the first download was damaged");
    assert_eq!(log.stats().damaged_chunks, 0);
}

#[test]
fn an_archived_object_damaged_for_good_is_damage() {
    let store = Arc::new(MemArchive::new());
    let (log, uid, _) = one_remote_segment(store.clone(), &store);
    let key = store.keys().into_iter().find(|k| k.ends_with(".seg")).unwrap();
    let mut bytes = store.object(&key).unwrap().to_vec();
    for byte in bytes.iter_mut().skip(64) {
        *byte ^= 0x5a;
    }
    store.set_object(&key, Bytes::from(bytes));
    assert!(matches!(log.read(uid, 0, usize::MAX, usize::MAX), Err(StorageError::Damaged { .. })));
    assert!(log.stats().damaged_chunks > 0);
}
