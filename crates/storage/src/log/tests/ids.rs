//! Identities (stream ids, shard uids) come from the metadata store's own counter, not
//! from the LSN counter: LSN bounds use a shard's creation LSN, and the counter's file
//! is guarded like the LSN reservation.

use super::*;
use crate::metastore::{LocalMetaStore, MetaStore, IDS_FILE};

fn ids_path() -> std::path::PathBuf {
    Path::new("/data/meta").join(IDS_FILE)
}

/// Puts the identity counter of the log in `/data` far above any LSN it will use, as
/// after many id-hungry restarts, so a uid taken for an LSN shows.
fn ids_far_ahead(fs: &MemFs) -> u64 {
    let store = LocalMetaStore::open(Arc::new(fs.clone()), "/data/meta".into()).unwrap();
    store.start_ids(1 << 40).unwrap();
    store.allocate_ids(1).unwrap().end
}

#[test]
fn empty_shards_start_at_their_creation_lsn_when_ids_run_ahead_of_lsns() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let floor = ids_far_ahead(&fs);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let meta = stream(&log, "s", 1);
    let shard = &meta.shards[0];
    assert!(meta.stream_id >= floor && shard.uid > meta.stream_id);
    assert!(shard.created_lsn < floor, "creation LSN {} follows the ids", shard.created_lsn);
    let latest = log.resolve(shard.uid, StartPosition::Latest).unwrap();
    let horizon = log.resolve(shard.uid, StartPosition::TrimHorizon).unwrap();
    let at_time = log.resolve(shard.uid, StartPosition::AtTimestamp(T0)).unwrap();
    let lsn = log.append_blocking(vec![record(shard.uid, "first")]).unwrap()[0].as_ref().unwrap().lsn;
    for from in [latest, horizon, at_time] {
        assert!(from <= lsn, "a read from {from} misses the record at {lsn}");
        let batch = log.read(shard.uid, from, 10, usize::MAX).unwrap();
        assert_eq!(batch.records.len(), 1);
    }
    // Reopening keeps the LSNs where they were: identities do not push them.
    drop(log);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert!(log.next_lsn_hint() < floor);
    let other = stream(&log, "t", 1);
    assert!(other.stream_id > shard.uid && other.shards[0].created_lsn > lsn);
}

#[test]
fn a_damaged_id_reservation_stops_start_up_unless_repairing() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let gone = stream(&log, "gone", 2);
    log.append_blocking(vec![record(gone.shards[1].uid, "old")]).unwrap();
    let kept = stream(&log, "kept", 1);
    log.delete_stream_blocking(gone.stream_id).unwrap();
    drop(log);
    fs.corrupt(&ids_path(), 21, &[0x01]).unwrap();
    let error = open(&fs, &clock, LogConfig::default()).unwrap_err();
    assert!(matches!(error, StorageError::MetadataCorrupt { ref path, .. } if *path == ids_path()), "{error}");
    let log = open(&fs, &clock, repair()).unwrap();
    // Every id still known (the deleted stream's shards have chunks in the segments)
    // stays taken.
    let again = stream(&log, "again", 2);
    let known = [gone.stream_id, gone.shards[0].uid, gone.shards[1].uid, kept.stream_id, kept.shards[0].uid];
    let new = [again.stream_id, again.shards[0].uid, again.shards[1].uid];
    assert!(new.iter().all(|id| known.iter().all(|k| id > k)), "{new:?} vs {known:?}");
    assert!(read_all(&log, again.shards[1].uid).is_empty());
    // The repaired reservation is written at that allocation; the next start accepts it.
    drop(log);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert!(stream(&log, "later", 1).stream_id > again.shards[1].uid);
}
