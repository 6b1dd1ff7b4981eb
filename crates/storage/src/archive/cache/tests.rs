#![allow(clippy::unwrap_used)]

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

use super::*;
use crate::archive::MemArchive;
use crate::stats::ArchiveStats;

const BLOCK: u64 = 16;
const GETS: usize = 1;

fn layout() -> ArchiveLayout {
    ArchiveLayout::new("store", "streams")
}

/// Segment `id` of `len` bytes whose byte at `i` is `(id + i) % 251`.
fn segment_bytes(id: u64, len: u64) -> Bytes {
    (0..len).map(|i| ((id + i) % 251) as u8).collect::<Vec<u8>>().into()
}

fn store_with(segments: &[(u64, u64)]) -> Arc<MemArchive> {
    let store = Arc::new(MemArchive::new());
    for &(id, len) in segments {
        store.set_object(&layout().segment_key(id), segment_bytes(id, len));
    }
    store
}

fn reader(
    store: Arc<dyn ObjectArchive>,
    cache_bytes: u64,
    read_ahead: u32,
) -> (Arc<ArchiveReader>, Arc<ArchiveCounters>) {
    let counters = Arc::new(ArchiveCounters::default());
    let reader = ArchiveReader::with_block_bytes(store, layout(), cache_bytes, read_ahead, counters.clone(), BLOCK);
    (reader, counters)
}

fn read(file: &dyn ReadFile, range: Range<u64>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; (range.end - range.start) as usize];
    file.read_exact_at(&mut buf, range.start)?;
    Ok(buf)
}

fn gets(store: &MemArchive) -> u64 {
    store.calls[GETS].load(Ordering::Relaxed)
}

#[test]
fn a_fetched_block_is_then_served_from_the_cache() {
    let store = store_with(&[(3, 100)]);
    let (reader, counters) = reader(store.clone(), 1 << 20, 0);
    let file = reader.open_segment(3, 100);
    // Bytes 10..40 span blocks 0, 1 and 2.
    assert_eq!(read(&*file, 10..40).unwrap(), segment_bytes(3, 100)[10..40]);
    assert_eq!(gets(&store), 3);
    assert!(!reader.would_fetch(3, 0, 48));
    assert!(reader.would_fetch(3, 40, 10), "block 3 was never read");
    assert_eq!(read(&*file, 0..48).unwrap(), segment_bytes(3, 100)[..48]);
    assert_eq!(gets(&store), 3, "no new request for cached blocks");
    let stats = counters.snapshot();
    assert_eq!((stats.fetches_total, stats.fetched_bytes_total, stats.cache_hits_total), (3, 48, 3));
    assert_eq!(stats.cache_bytes, 48);
    // The short last block reads to the segment's end and no further.
    assert_eq!(read(&*file, 90..100).unwrap(), segment_bytes(3, 100)[90..]);
    let mut past = [0u8; 8];
    assert_eq!(file.read_at(&mut past, 100).unwrap(), 0);
}

#[test]
fn the_cache_never_holds_more_than_its_bound() {
    let segments: Vec<(u64, u64)> = (1..=20).map(|id| (id, 40)).collect();
    let store = store_with(&segments);
    let (reader, counters) = reader(store.clone(), 100, 0);
    for round in 0..2 {
        for &(id, len) in &segments {
            let file = reader.open_segment(id, len);
            assert_eq!(read(&*file, 0..len).unwrap(), segment_bytes(id, len), "round {round}, segment {id}");
            let cached = reader.cached_bytes();
            assert!(cached <= 100, "{cached} bytes cached");
            assert_eq!(counters.snapshot().cache_bytes, cached);
        }
    }
    // Twenty segments of 40 bytes through 100 bytes of cache: every block was evicted
    // before it was read again.
    assert_eq!(gets(&store), 2 * 20 * 3);
    // The most recently read blocks are the ones kept.
    assert!(!reader.would_fetch(20, 0, 40));
    assert!(reader.would_fetch(1, 0, 40));
}

#[test]
fn a_block_larger_than_the_cache_is_served_but_not_kept() {
    let store = store_with(&[(1, 16)]);
    let (reader, _) = reader(store.clone(), 8, 0);
    let file = reader.open_segment(1, 16);
    assert_eq!(read(&*file, 0..16).unwrap(), segment_bytes(1, 16));
    assert_eq!(reader.cached_bytes(), 0);
    assert!(reader.would_fetch(1, 0, 1));
}

/// An archive whose range GETs wait at a gate the test opens, failing or not.
#[derive(Default)]
pub(crate) struct GatedArchive {
    pub(crate) inner: MemArchive,
    open: Mutex<bool>,
    opened: Condvar,
    /// GETs that reached the gate.
    pub(crate) arrived: AtomicU64,
    /// Whether GETs let through fail.
    pub(crate) fail: AtomicBool,
}

impl GatedArchive {
    pub(crate) fn open_gate(&self) {
        *self.open.lock() = true;
        self.opened.notify_all();
    }

    /// Spins until `count` GETs have reached the gate.
    pub(crate) fn await_arrivals(&self, count: u64) {
        while self.arrived.load(Ordering::SeqCst) < count {
            std::thread::yield_now();
        }
    }
}

impl ObjectArchive for GatedArchive {
    fn describe(&self) -> String {
        "gated://".into()
    }
    fn put_file(&self, key: &str, source: &dyn ReadFile, len: u64) -> Result<(), ArchiveError> {
        self.inner.put_file(key, source, len)
    }
    fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), ArchiveError> {
        self.inner.put_bytes(key, bytes)
    }
    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, ArchiveError> {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock();
        while !*open {
            self.opened.wait(&mut open);
        }
        drop(open);
        if self.fail.load(Ordering::SeqCst) {
            return Err(ArchiveError::Unavailable { detail: "gate says no".into() });
        }
        self.inner.get_range(key, range)
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

/// Two readers of one missing block: the second waits for the first one's fetch.
fn two_readers_of_one_block(fail: bool) -> (Arc<GatedArchive>, Arc<ArchiveReader>, Vec<io::Result<Vec<u8>>>) {
    let store = Arc::new(GatedArchive::default());
    store.inner.set_object(&layout().segment_key(1), segment_bytes(1, 32));
    store.fail.store(fail, Ordering::SeqCst);
    let (reader, counters) = reader(store.clone(), 1 << 20, 0);
    let file = reader.open_segment(1, 32);
    let first = std::thread::spawn({
        let file = file.clone();
        move || read(&*file, 0..8)
    });
    store.await_arrivals(1);
    let second = std::thread::spawn({
        let file = file.clone();
        move || read(&*file, 4..12)
    });
    // The second reader counts a hit as it starts waiting on the fetch under way.
    while counters.cache_hits_total.load(Ordering::SeqCst) < 1 {
        std::thread::yield_now();
    }
    store.open_gate();
    let results = vec![first.join().unwrap(), second.join().unwrap()];
    (store, reader, results)
}

#[test]
fn concurrent_readers_of_a_block_share_one_fetch() {
    let (store, _reader, results) = two_readers_of_one_block(false);
    assert_eq!(store.arrived.load(Ordering::SeqCst), 1, "one GET for both readers");
    assert_eq!(results[0].as_ref().unwrap(), &segment_bytes(1, 32)[0..8]);
    assert_eq!(results[1].as_ref().unwrap(), &segment_bytes(1, 32)[4..12]);
}

#[test]
fn a_failed_fetch_fails_every_waiter_caches_nothing_and_is_retried() {
    let (store, reader, results) = two_readers_of_one_block(true);
    assert_eq!(store.arrived.load(Ordering::SeqCst), 1);
    for result in &results {
        let error = result.as_ref().unwrap_err();
        assert!(matches!(archive_error(error), Some(ArchiveError::Unavailable { .. })), "{error}");
    }
    assert!(reader.would_fetch(1, 0, 8));
    assert_eq!(reader.cached_bytes(), 0);
    store.fail.store(false, Ordering::SeqCst);
    let file = reader.open_segment(1, 32);
    assert_eq!(read(&*file, 0..8).unwrap(), segment_bytes(1, 32)[0..8]);
    assert_eq!(store.arrived.load(Ordering::SeqCst), 2, "the block is asked for again");
}

#[test]
fn an_archive_that_is_down_fails_reads_until_it_is_back() {
    let store = store_with(&[(2, 64)]);
    let (reader, counters) = reader(store.clone(), 1 << 20, 0);
    let file = reader.open_segment(2, 64);
    store.faults.down.store(true, Ordering::Relaxed);
    let error = read(&*file, 0..20).unwrap_err();
    assert!(matches!(archive_error(&error), Some(ArchiveError::Unavailable { .. })), "{error}");
    assert_eq!(counters.snapshot().fetch_failures_total, 1);
    store.faults.down.store(false, Ordering::Relaxed);
    assert_eq!(read(&*file, 0..20).unwrap(), segment_bytes(2, 64)[..20]);
    assert_eq!(counters.snapshot().fetch_failures_total, 1);
}

#[test]
fn an_object_shorter_than_the_log_believes_fails_reads_and_is_not_cached() {
    let store = store_with(&[(4, 20)]);
    let (reader, _) = reader(store, 1 << 20, 0);
    // The log believes the segment is longer than the object is.
    let file = reader.open_segment(4, 30);
    let error = read(&*file, 16..30).unwrap_err();
    assert!(archive_error(&error).is_some(), "{error}");
    assert!(reader.would_fetch(4, 16, 1));
    assert!(archive_error(&io::Error::other("not the archive")).is_none());
}

#[test]
fn forgetting_a_segment_drops_its_blocks_only() {
    let store = store_with(&[(1, 32), (2, 32)]);
    let (reader, counters) = reader(store, 1 << 20, 0);
    for id in [1, 2] {
        read(&*reader.open_segment(id, 32), 0..32).unwrap();
    }
    assert_eq!(reader.cached_bytes(), 64);
    reader.forget_segment(1);
    assert!(reader.would_fetch(1, 0, 1));
    assert!(!reader.would_fetch(2, 0, 32));
    assert_eq!((reader.cached_bytes(), counters.snapshot().cache_bytes), (32, 32));
    assert!(!reader.would_fetch(1, 5, 0), "an empty read fetches nothing");
}

/// Reads `blocks` one block at a time, then drops the reader, which waits for the
/// read-ahead threads to finish what was queued; returns the GETs made.
fn gets_for_reads(blocks: &[u64], read_ahead: u32) -> (u64, ArchiveStats) {
    let store = store_with(&[(1, 10 * BLOCK)]);
    let (reader, counters) = reader(store.clone(), 1 << 20, read_ahead);
    let file = reader.open_segment(1, 10 * BLOCK);
    for &block in blocks {
        let start = block * BLOCK;
        assert_eq!(read(&*file, start..start + BLOCK).unwrap(), segment_bytes(1, 10 * BLOCK)[start as usize..][..16]);
    }
    drop(file);
    drop(reader);
    (gets(&store), counters.snapshot())
}

#[test]
fn a_sequential_reader_gets_the_next_blocks_fetched_ahead() {
    // Block 1 right after block 0 queues blocks 2 and 3.
    let (gets, stats) = gets_for_reads(&[0, 1], 2);
    assert_eq!(gets, 4);
    assert_eq!(stats.fetches_total, 4, "prefetched blocks count as fetches");
    // Reading on to the end never asks for a block past it.
    let (gets, _) = gets_for_reads(&(0..10).collect::<Vec<_>>(), 2);
    assert_eq!(gets, 10);
}

#[test]
fn read_ahead_queued_after_a_close_is_dropped_not_fetched() {
    let store = store_with(&[(1, 10 * BLOCK)]);
    let (reader, counters) = reader(store.clone(), 1 << 20, 2);
    reader.close();
    let file = reader.open_segment(1, 10 * BLOCK);
    // Reads themselves still go to the store (closing it is what ends them at shutdown).
    for block in [0, 1] {
        let start = block * BLOCK;
        assert_eq!(read(&*file, start..start + BLOCK).unwrap(), segment_bytes(1, 10 * BLOCK)[start as usize..][..16]);
    }
    drop(file);
    // Dropping the reader waits for the read-ahead threads to empty their queue.
    drop(reader);
    assert_eq!(gets(&store), 2, "blocks 2 and 3 were queued, and dropped");
    assert_eq!(counters.snapshot().fetches_total, 2);
}

#[test]
fn a_random_reader_gets_no_read_ahead() {
    let (gets, _) = gets_for_reads(&[5, 2, 8, 0], 2);
    assert_eq!(gets, 4);
    // Nor does anyone without read-ahead.
    let (gets, _) = gets_for_reads(&[0, 1, 2], 0);
    assert_eq!(gets, 3);
}

#[test]
fn recent_blocks_tell_sequential_reads_from_rereads() {
    let mut recent = RecentBlocks::default();
    assert!(!recent.note(0));
    assert!(recent.note(1));
    assert!(!recent.note(1), "a re-read is not progress");
    assert!(!recent.note(7));
    for block in 100..100 + RECENT_BLOCKS as u64 {
        recent.note(block);
    }
    assert!(!recent.note(2), "block 1 has been forgotten");
}
