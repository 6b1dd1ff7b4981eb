//! Unit and fault tests of the shard log on the in-memory filesystem.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::deleter::{delete_segment_files, shrink_gradually, Files, Release};
use super::files::{index_name, segment_name};
use super::*;
use crate::clock::ManualClock;
use crate::format::{CHUNK_HEADER_BYTES, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES};
use crate::fs::{join, WriteFile};
use crate::limits::{DELETE_STEP_BYTES, RECORD_DATA_BYTES_MAX};
use crate::memfs::{MemFs, Tear};
use crate::meta::StreamProps;

pub(crate) const T0: u64 = 1_700_000_000_000;

pub(crate) fn open(fs: &MemFs, clock: &ManualClock, config: LogConfig) -> Result<ShardLog> {
    ShardLog::open(Arc::new(fs.clone()), Arc::new(clock.clone()), Path::new("/data"), config)
}

fn small_segments() -> LogConfig {
    LogConfig {
        segment_bytes_max: 4096,
        segment_age_ms_max: u64::MAX / 4,
        retention_check_ms: u64::MAX / 4,
        ..LogConfig::default()
    }
}

fn stream(log: &ShardLog, name: &str, shards: usize) -> Arc<StreamMeta> {
    log.create_stream_blocking(new_stream(name, shards)).unwrap()
}

/// A stream of `shards` equal hash-key ranges, kept 24 hours.
fn new_stream(name: &str, shards: usize) -> NewStream {
    let step = u128::MAX / shards as u128;
    let ranges = (0..shards)
        .map(|i| (step * i as u128, if i + 1 == shards { u128::MAX } else { step * (i as u128 + 1) - 1 }))
        .collect();
    NewStream { name: name.into(), shards: ranges, props: StreamProps { retention_hours: 24, ..Default::default() } }
}

/// Appends one record at a time, `data(i)` for i = 0, 1, … up to `max`, until an append
/// fails: the data acknowledged, and the failure (`None` if none failed).
fn append_until_refused(
    log: &ShardLog,
    uid: u64,
    max: usize,
    data: impl Fn(usize) -> String,
) -> (Vec<String>, Option<StorageError>) {
    let mut acknowledged = Vec::new();
    for i in 0..max {
        let data = data(i);
        match log.append_blocking(vec![record(uid, &data)]) {
            Ok(_) => acknowledged.push(data),
            Err(error) => return (acknowledged, Some(error)),
        }
    }
    (acknowledged, None)
}

fn record(shard_uid: u64, data: &str) -> AppendRecord {
    AppendRecord {
        shard_uid,
        partition_key: Bytes::from_static(b"pk"),
        explicit_hash_key: None,
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

fn read_all(log: &ShardLog, shard_uid: u64) -> Vec<String> {
    let from = log.resolve(shard_uid, StartPosition::TrimHorizon).unwrap();
    let batch = log.read(shard_uid, from, 100_000, usize::MAX).unwrap();
    batch.records.iter().map(|r| String::from_utf8(r.data.to_vec()).unwrap()).collect()
}

#[test]
fn appends_are_readable_in_order_and_survive_reopen() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let meta = stream(&log, "s", 2);
    let (a, b) = (meta.shards[0].uid, meta.shards[1].uid);
    for i in 0..100 {
        let results = log.append_blocking(vec![record(a, &format!("a{i}")), record(b, &format!("b{i}"))]).unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    }
    let expected_a: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
    assert_eq!(read_all(&log, a), expected_a);
    drop(log);
    // Several segments were sealed with indexes; reopening uses them.
    assert!(fs.list_dir(Path::new("/data/log")).unwrap().iter().any(|n| n.ends_with(".idx")));
    let log = open(&fs, &clock, small_segments()).unwrap();
    assert_eq!(read_all(&log, a), expected_a);
    assert_eq!(read_all(&log, b).len(), 100);
    // LSNs keep growing after the restart.
    let before = log.read(a, 0, 1000, usize::MAX).unwrap().records.last().unwrap().lsn;
    let after = log.append_blocking(vec![record(a, "later")]).unwrap()[0].as_ref().unwrap().lsn;
    assert!(after > before);
}

#[test]
fn concurrent_appends_share_syncs() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = Arc::new(open(&fs, &clock, LogConfig::default()).unwrap());
    let meta = stream(&log, "s", 4);
    let syncs_before = fs.sync_count();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            let uid = meta.shards[t % 4].uid;
            std::thread::spawn(move || {
                for i in 0..200 {
                    log.append_blocking(vec![record(uid, &format!("{t}-{i}"))]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let syncs = fs.sync_count() - syncs_before;
    assert!(syncs <= 1600, "at most one sync per append");
    for shard in &meta.shards {
        assert_eq!(read_all(&log, shard.uid).len(), 400);
    }
}

#[test]
fn arrival_times_never_go_backwards() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "1")]).unwrap();
    clock.set_ms(T0 - 50_000); // the host clock jumps back
    let second = log.append_blocking(vec![record(uid, "2")]).unwrap()[0].as_ref().unwrap().arrival_ms;
    assert_eq!(second, T0);
}

#[test]
fn start_positions_resolve_like_kinesis() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    assert_eq!(log.read(uid, log.resolve(uid, StartPosition::Latest).unwrap(), 10, 1000).unwrap().records.len(), 0);
    let mut lsns = Vec::new();
    for i in 0..10 {
        clock.set_ms(T0 + i * 1000);
        lsns.push(log.append_blocking(vec![record(uid, &i.to_string())]).unwrap()[0].as_ref().unwrap().lsn);
    }
    let first =
        |start| log.read(uid, log.resolve(uid, start).unwrap(), 1, usize::MAX).unwrap().records.first().map(|r| r.lsn);
    assert_eq!(first(StartPosition::TrimHorizon), Some(lsns[0]));
    assert_eq!(first(StartPosition::AtLsn(lsns[3])), Some(lsns[3]));
    assert_eq!(first(StartPosition::AfterLsn(lsns[3])), Some(lsns[4]));
    assert_eq!(first(StartPosition::AtTimestamp(T0 + 4500)), Some(lsns[5]));
    assert_eq!(first(StartPosition::AtTimestamp(T0 - 1)), Some(lsns[0]));
    assert_eq!(first(StartPosition::AtTimestamp(T0 + 99_000)), None);
    assert_eq!(first(StartPosition::Latest), None);
    // Limits by count and bytes.
    let batch = log.read(uid, lsns[0], 3, usize::MAX).unwrap();
    assert_eq!(batch.records.len(), 3);
    assert_eq!(batch.next_lsn, lsns[2] + 1);
    let batch = log.read(uid, lsns[0], 100, 7).unwrap(); // 3 bytes per record (key "pk" + 1 digit)
    assert_eq!(batch.records.len(), 2);
    let batch = log.read(uid, lsns[0], 100, 1).unwrap();
    assert_eq!(batch.records.len(), 1, "one record always fits");
}

#[test]
fn retention_hides_then_deletes_whole_files() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    for i in 0..50 {
        log.append_blocking(vec![record(uid, &format!("old-{i:03}-{}", "x".repeat(100)))]).unwrap();
    }
    clock.advance_ms(23 * HOUR_MS_TEST);
    for i in 0..50 {
        log.append_blocking(vec![record(uid, &format!("new-{i:03}-{}", "x".repeat(100)))]).unwrap();
    }
    let segments_before = fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".seg")).count();
    clock.advance_ms(2 * HOUR_MS_TEST); // old records are 25 h old, new ones 2 h
    let visible = read_all(&log, uid);
    assert_eq!(visible.len(), 50);
    assert!(visible[0].starts_with("new-000"));
    let deleted = log.enforce_retention_blocking().unwrap();
    assert!(deleted > 0);
    let segments_after = fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".seg")).count();
    assert_eq!(segments_after, segments_before - deleted);
    assert_eq!(read_all(&log, uid).len(), 50);
    // An empty timestamp read past everything lands at the tip.
    clock.advance_ms(30 * HOUR_MS_TEST);
    assert!(read_all(&log, uid).is_empty());
}

const HOUR_MS_TEST: u64 = crate::limits::HOUR_MS;

#[test]
fn reshard_closes_parent_at_an_exact_lsn() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let meta = stream(&log, "s", 1);
    let parent = meta.shards[0].uid;
    let last = log.append_blocking(vec![record(parent, "p")]).unwrap()[0].as_ref().unwrap().lsn;
    let meta = log
        .update_stream_blocking(meta.stream_id, |txn| {
            txn.close_shard(0)?;
            txn.add_shard(NewShard { hash_key_start: 0, hash_key_end: 10, parent: Some(0), adjacent_parent: None })?;
            txn.add_shard(NewShard {
                hash_key_start: 11,
                hash_key_end: u128::MAX,
                parent: Some(0),
                adjacent_parent: None,
            })?;
            Ok(())
        })
        .unwrap();
    let close = meta.shards[0].closed.unwrap();
    assert!(close.lsn > last);
    assert!(meta.shards[1].created_lsn > close.lsn);
    assert!(meta.shards[1].uid != parent && meta.shards[2].uid != meta.shards[1].uid);
    let rejected = log.append_blocking(vec![record(parent, "late")]).unwrap();
    assert!(matches!(rejected[0], Err(StorageError::ShardClosed { .. })));
    let child = meta.shards[1].uid;
    let child_lsn = log.append_blocking(vec![record(child, "c")]).unwrap()[0].as_ref().unwrap().lsn;
    assert!(child_lsn > close.lsn);
    // The parent stays readable and reports its end.
    let batch = log.read(parent, 0, 10, usize::MAX).unwrap();
    assert_eq!(batch.records.len(), 1);
    assert!(batch.shard_end);
    drop(log);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let reopened = log.stream(meta.stream_id).unwrap();
    assert_eq!(*reopened, *meta);
    assert!(matches!(
        log.append_blocking(vec![record(parent, "x")]).unwrap()[0],
        Err(StorageError::ShardClosed { .. })
    ));
    // A failed transaction changes nothing.
    let err = log.update_stream_blocking(meta.stream_id, |txn| txn.close_shard(0).map(|_| ())).unwrap_err();
    assert!(matches!(err, StorageError::Rejected(_)));
}

#[test]
fn deleting_a_stream_frees_its_sealed_segments_without_waiting_for_a_retention_check() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let (doomed, kept) = (stream(&log, "doomed", 1), stream(&log, "kept", 1));
    for i in 0..40 {
        log.append_blocking(vec![record(doomed.shards[0].uid, &format!("{i:0200}"))]).unwrap();
    }
    log.append_blocking(vec![record(kept.shards[0].uid, "stays")]).unwrap();
    let segments = || fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".seg")).count();
    assert!(segments() > 2);
    log.delete_stream_blocking(doomed.stream_id).unwrap();
    // The clock stands still and the retention timer is days away.
    assert!(eventually(|| segments() == 1), "{} segments left", segments());
    assert_eq!(read_all(&log, kept.shards[0].uid), vec!["stays"]);
}

#[test]
fn deleted_streams_stay_deleted_and_names_are_unique() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let meta = stream(&log, "s", 1);
    log.append_blocking(vec![record(meta.shards[0].uid, "x")]).unwrap();
    let duplicate = log.create_stream_blocking(NewStream {
        name: "s".into(),
        shards: vec![(0, 1)],
        props: StreamProps { retention_hours: 24, ..Default::default() },
    });
    assert!(matches!(duplicate, Err(StorageError::Rejected(_))));
    log.delete_stream_blocking(meta.stream_id).unwrap();
    assert!(matches!(log.read(meta.shards[0].uid, 0, 1, 1), Err(StorageError::ShardNotFound { .. })));
    drop(log);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert!(log.streams().is_empty());
    let again = stream(&log, "s", 1);
    assert_ne!(again.stream_id, meta.stream_id);
    assert!(read_all(&log, again.shards[0].uid).is_empty());
}

#[test]
fn torn_tail_is_truncated_and_acknowledged_data_kept() {
    for tear in [
        Tear::DropUnsynced,
        Tear::Partial { keep: 10, garbage: 0 },
        Tear::Partial { keep: 0, garbage: 100 },
        Tear::Partial { keep: 30, garbage: 5000 },
    ] {
        let fs = MemFs::new();
        let clock = ManualClock::new(T0);
        let log = open(
            &fs,
            &clock,
            LogConfig { durability: Durability::Relaxed { interval_ms: 1_000_000 }, ..LogConfig::default() },
        )
        .unwrap();
        let uid = stream(&log, "s", 1).shards[0].uid;
        log.append_blocking(vec![record(uid, "synced")]).unwrap();
        log.sync_blocking().unwrap();
        log.append_blocking(vec![record(uid, "unsynced")]).unwrap();
        drop(log); // the final sync on drop is undone by the crash below
        fs.crash(tear);
        let log = open(&fs, &clock, LogConfig::default()).unwrap();
        let data = read_all(&log, uid);
        assert_eq!(data[0], "synced", "{tear:?}");
        assert!(data.len() <= 2);
        // The log keeps working after the cut.
        log.append_blocking(vec![record(uid, "after")]).unwrap();
        assert_eq!(read_all(&log, uid).last().unwrap(), "after");
    }
}

/// A fresh data folder's own entry, `log/`'s and `meta/`'s are made durable at open
/// (MemFs loses folder entries a crash finds unsynced): without those folder syncs the
/// crash below takes the whole log with it.
#[test]
fn a_fresh_data_folder_keeps_its_acknowledged_records_across_a_crash() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "acknowledged")]).unwrap();
    drop(log);
    fs.crash(Tear::DropUnsynced);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), ["acknowledged"]);
}

/// Each new segment's folder entry is synced before a frame goes into it: without that
/// sync the crash loses every segment after the first, acknowledged records with them.
#[test]
fn records_in_segments_started_after_the_first_survive_a_crash() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let expected: Vec<String> = (0..40).map(|i| format!("record {i} {}", "x".repeat(300))).collect();
    for data in &expected {
        log.append_blocking(vec![record(uid, data)]).unwrap();
    }
    drop(log);
    let segments = fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".seg")).count();
    assert!(segments > 2, "only {segments} segments: the test needs rolls");
    fs.crash(Tear::DropUnsynced);
    let log = open(&fs, &clock, small_segments()).unwrap();
    assert_eq!(read_all(&log, uid), expected);
}

#[test]
fn garbage_tail_after_a_clean_shutdown_is_cut() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "a")]).unwrap();
    drop(log);
    let path = Path::new("/data/log/00000000000000000001.seg");
    let mut bytes = fs.read_all(path).unwrap();
    bytes.extend_from_slice(&[0xFF; 77]);
    fs.write_all(path, &bytes);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["a"]);
}

fn repair() -> LogConfig {
    LogConfig { recovery: RecoveryMode::TruncateAtCorruption, ..LogConfig::default() }
}

fn lsns(log: &ShardLog, shard_uid: u64) -> Vec<u64> {
    let from = log.resolve(shard_uid, StartPosition::TrimHorizon).unwrap();
    log.read(shard_uid, from, 100_000, usize::MAX).unwrap().records.iter().map(|r| r.lsn).collect()
}

#[test]
fn corruption_in_the_middle_stops_start_up_and_repair_cuts_exactly_the_damaged_frame() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        acknowledged.push(log.append_blocking(vec![record(uid, &format!("r{i}"))]).unwrap()[0].as_ref().unwrap().lsn);
    }
    drop(log);
    let path = Path::new("/data/log/00000000000000000001.seg");
    // Damage the first frame's payload; two intact frames follow it.
    fs.corrupt(path, SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + CHUNK_HEADER_BYTES + 25, &[0x00, 0x11]).unwrap();
    let error = open(&fs, &clock, LogConfig::default()).unwrap_err();
    assert!(matches!(error, StorageError::Corruption { .. }), "{error}");
    assert!(error.to_string().contains("--recover-truncate"));
    let log = open(&fs, &clock, repair()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["r1", "r2"], "only the damaged frame is cut");
    let fresh = log.append_blocking(vec![record(uid, "fresh")]).unwrap()[0].as_ref().unwrap().lsn;
    assert!(fresh > acknowledged[2], "{fresh} must follow every LSN handed out before ({acknowledged:?})");
    assert_eq!(read_all(&log, uid), vec!["r1", "r2", "fresh"]);
    drop(log);
    // The cut sticks: the default mode starts again and sees the same records.
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["r1", "r2", "fresh"]);
}

#[test]
fn lsns_never_go_backwards_after_a_cut_tail() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "kept")]).unwrap();
    let lost = log.append_blocking(vec![record(uid, "damaged")]).unwrap()[0].as_ref().unwrap().lsn;
    drop(log);
    // A flipped byte in the last (acknowledged) frame looks like a torn tail and is cut.
    let path = Path::new("/data/log/00000000000000000001.seg");
    let len = fs.read_all(path).unwrap().len();
    fs.corrupt(path, len - 3, &[0xEE]).unwrap();
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["kept"]);
    let next = log.append_blocking(vec![record(uid, "new")]).unwrap()[0].as_ref().unwrap().lsn;
    assert!(next > lost, "LSN {next} reissued below the cut record's {lost}");
    // A new shard's creation LSN comes from the same counter.
    let other = stream(&log, "t", 1);
    assert!(other.shards[0].created_lsn > lost);
}

#[test]
fn a_damaged_reservation_stops_start_up_unless_repairing() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let before = log.append_blocking(vec![record(uid, "a")]).unwrap()[0].as_ref().unwrap().lsn;
    drop(log);
    fs.corrupt(&crate::reserve::path(Path::new("/data/meta")), 13, &[0x01]).unwrap();
    let error = open(&fs, &clock, LogConfig::default()).unwrap_err();
    assert!(matches!(error, StorageError::MetadataCorrupt { .. }), "{error}");
    let log = open(&fs, &clock, repair()).unwrap();
    let after = log.append_blocking(vec![record(uid, "b")]).unwrap()[0].as_ref().unwrap().lsn;
    assert!(after > before);
}

#[test]
fn a_second_log_on_the_same_folder_is_refused_while_the_first_is_open() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let error = open(&fs, &clock, LogConfig::default()).unwrap_err();
    assert!(
        matches!(error, StorageError::Locked { holder_pid: Some(pid), .. } if pid == std::process::id()),
        "{error}"
    );
    assert!(error.to_string().contains("/data"), "{error}");
    drop(log);
    open(&fs, &clock, LogConfig::default()).unwrap();
}

/// Fills three small segments of one shard; returns the log's records' LSNs.
fn three_segments(fs: &MemFs, clock: &ManualClock) -> (u64, Vec<u64>) {
    let log = open(fs, clock, small_segments()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    for i in 0..100 {
        log.append_blocking(vec![record(uid, &format!("{i:0100}"))]).unwrap();
    }
    let all = lsns(&log, uid);
    assert_eq!(all.len(), 100);
    drop(log);
    (uid, all)
}

#[test]
fn damage_in_a_sealed_segment_fails_only_reads_of_that_range_until_repair_cuts_it() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let (uid, all) = three_segments(&fs, &clock);
    let path = Path::new("/data/log/00000000000000000001.seg");
    // Inside the second frame's chunk (the first is at 32.., each frame about 180 bytes).
    fs.corrupt(path, 300, &[0x42; 3]).unwrap();
    // The index still matches the file, so start-up succeeds without reading it.
    let no_scrub = LogConfig { scrub_bytes_per_sec: 0, ..small_segments() };
    let log = open(&fs, &clock, no_scrub.clone()).unwrap();
    // Records before the damage are served; the next read names the damaged range.
    let batch = log.read(uid, all[0], 1000, usize::MAX).unwrap();
    assert_eq!(batch.records.len(), 1);
    let error = log.read(uid, batch.next_lsn, 1000, usize::MAX).unwrap_err();
    let StorageError::Damaged { shard_uid, first_lsn, last_lsn, count, .. } = &error else {
        panic!("expected Damaged, got {error}");
    };
    assert_eq!((*shard_uid, *first_lsn, *last_lsn, *count), (uid, all[1], all[1], 1));
    assert!(error.to_string().contains("--recover-truncate"), "{error}");
    // The same error again, without reading the disk; everything after it still reads.
    assert!(matches!(log.read(uid, all[1], 1000, usize::MAX), Err(StorageError::Damaged { .. })));
    assert_eq!(log.read(uid, all[2], 1000, usize::MAX).unwrap().records.len(), 98);
    let stats = log.stats();
    assert_eq!((stats.damaged_chunks, stats.damaged_records), (1, 1));
    drop(log);
    // Repair cuts exactly that record; the default mode then starts and reads the rest.
    drop(open(&fs, &clock, LogConfig { recovery: RecoveryMode::TruncateAtCorruption, ..no_scrub.clone() }).unwrap());
    let log = open(&fs, &clock, no_scrub).unwrap();
    let expected: Vec<u64> = all.iter().copied().filter(|l| *l != all[1]).collect();
    assert_eq!(lsns(&log, uid), expected);
    assert_eq!(log.stats().damaged_chunks, 0);
    drop(log);
    // Without the index the scan finds the damage; repair keeps every intact frame.
    fs.corrupt(path, 700, &[0x42; 3]).unwrap();
    fs.remove_file(Path::new("/data/log/00000000000000000001.idx")).unwrap();
    assert!(matches!(open(&fs, &clock, small_segments()), Err(StorageError::Corruption { .. })));
    let log = open(&fs, &clock, repair()).unwrap();
    let kept = lsns(&log, uid);
    assert_eq!(kept.len(), 98, "one more frame cut, the rest kept: {kept:?}");
    assert!(!kept.contains(&all[1]), "the first cut stays cut");
}

#[test]
fn the_background_scrub_finds_damage_nobody_read() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let (uid, all) = three_segments(&fs, &clock);
    fs.corrupt(Path::new("/data/log/00000000000000000002.seg"), 300, &[0x42; 3]).unwrap();
    let log = open(&fs, &clock, small_segments()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while log.stats().damaged_chunks == 0 {
        assert!(std::time::Instant::now() < deadline, "scrub never reported the damage");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(log.stats().damaged_records, 1);
    assert!(log.stats().scrubbed_bytes > 0);
    // Readers before the damage are unaffected.
    assert_eq!(log.read(uid, all[0], 3, usize::MAX).unwrap().records.len(), 3);
}

#[test]
fn failed_fsync_stops_writes_and_loses_nothing_acknowledged() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "kept")]).unwrap();
    fs.fail_next_syncs(1);
    let error = log.append_blocking(vec![record(uid, "lost")]).unwrap_err();
    assert!(matches!(error, StorageError::Poisoned { operation: "fdatasync", .. }), "{error}");
    // Even though the disk works again, the log refuses writes until restarted.
    let error = log.append_blocking(vec![record(uid, "refused")]).unwrap_err();
    assert!(matches!(error, StorageError::Poisoned { .. }));
    assert!(log
        .create_stream_blocking(NewStream {
            name: "t".into(),
            shards: vec![(0, 1)],
            props: StreamProps { retention_hours: 24, ..Default::default() }
        })
        .is_err());
    drop(log);
    fs.crash(Tear::DropUnsynced);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    // The failed append was never acknowledged, so it may or may not have survived.
    let data = read_all(&log, uid);
    assert_eq!(data[0], "kept");
    assert!(!data.contains(&"refused".to_string()));
    log.append_blocking(vec![record(uid, "resumed")]).unwrap();
}

/// A new segment whose folder entry could not be made durable would vanish in a crash
/// with every record acknowledged into it: the failed folder sync stops writes like a
/// failed fdatasync, before anything goes into that segment.
#[test]
fn a_failed_folder_sync_at_a_segment_roll_stops_writes_and_loses_nothing_acknowledged() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let segments = || fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".seg")).count();
    let before = segments();
    // A roll syncs the folder twice: for the sealed segment's index (best effort; recovery
    // rebuilds a lost index from the segment) and for the new segment. Both fail.
    fs.fail_next_dir_syncs(Path::new("/data/log"), 2);
    let (acknowledged, refusal) = append_until_refused(&log, uid, 100, |i| format!("record {i} {}", "x".repeat(300)));
    match refusal {
        Some(StorageError::Poisoned { operation: "roll segment", cause }) => {
            assert!(matches!(&*cause, StorageError::Io { operation: "sync log folder", .. }), "{cause}");
        }
        other => panic!("expected the roll to stop writes: {other:?}"),
    }
    assert!(segments() > before, "the refused append did not start a segment");
    assert!(log.append_blocking(vec![record(uid, "refused")]).is_err());
    drop(log);
    fs.crash(Tear::DropUnsynced);
    let log = open(&fs, &clock, small_segments()).unwrap();
    assert_eq!(read_all(&log, uid), acknowledged);
    log.append_blocking(vec![record(uid, "resumed")]).unwrap();
}

/// The folder holding the data folder is synced at every open. One the process may not
/// read cannot be synced: that is warned about and the log opens; any other failure of
/// that sync refuses the open.
#[test]
fn an_unreadable_parent_of_the_data_folder_is_warned_about_and_other_sync_failures_refuse() {
    let (fs, clock) = (MemFs::new(), ManualClock::new(T0));
    fs.deny_dir_syncs(Path::new("/"), u32::MAX);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "kept")]).unwrap();
    drop(log);
    fs.fail_next_dir_syncs(Path::new("/"), 1);
    match open(&fs, &clock, LogConfig::default()) {
        Err(StorageError::Io { operation: "sync the folder holding", source, .. }) => {
            assert_eq!(source.raw_os_error(), Some(libc::EIO));
        }
        other => panic!("expected the open to fail: {:?}", other.err()),
    }
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["kept"]);
}

/// Stream metadata is durable only once its folder is synced: a failed sync there
/// stops writes too, and the stream is either wholly there after a crash or not at all.
#[test]
fn a_failed_folder_sync_of_stream_metadata_stops_writes() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "kept")]).unwrap();
    fs.fail_next_dir_syncs(Path::new("/data/meta"), 1);
    let error = log.create_stream_blocking(new_stream("t", 1)).unwrap_err();
    assert!(matches!(error, StorageError::Poisoned { operation: "write metadata", .. }), "{error}");
    assert!(log.append_blocking(vec![record(uid, "refused")]).is_err());
    drop(log);
    fs.crash(Tear::DropUnsynced);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["kept"]);
    let names: Vec<String> = log.streams().iter().map(|s| s.name.clone()).collect();
    assert!(names == ["s"] || names == ["s", "t"], "{names:?}");
    log.append_blocking(vec![record(uid, "resumed")]).unwrap();
}

#[test]
fn writes_after_a_failed_fsync_report_the_original_cause() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    fs.fail_next_syncs(1);
    let failed = log.append_blocking(vec![record(uid, "lost")]).unwrap_err();
    let first_cause = match &failed {
        StorageError::Poisoned { operation: "fdatasync", cause } => cause.clone(),
        other => panic!("{other}"),
    };
    // The cause is the I/O error itself, with its OS code and file, not a rewording.
    match &*first_cause {
        StorageError::Io { operation: "fdatasync", path, source } => {
            assert_eq!(path, Path::new("/data/log/00000000000000000001.seg"));
            assert_eq!(source.raw_os_error(), Some(libc::EIO));
            assert_eq!(source.to_string(), std::io::Error::from_raw_os_error(libc::EIO).to_string());
        }
        other => panic!("{other}"),
    }
    let source = std::error::Error::source(&failed).map(|s| s.to_string());
    assert_eq!(source, Some(first_cause.to_string()));

    // Every later write, whichever way it reaches the log, reports that same failure,
    // although the disk works again: a failed fsync is never retried.
    let refusals = [
        log.append_blocking(vec![record(uid, "refused")]).unwrap_err(),
        log.create_stream_blocking(NewStream {
            name: "t".into(),
            shards: vec![(0, 1)],
            props: StreamProps { retention_hours: 24, ..Default::default() },
        })
        .unwrap_err(),
        log.update_stream_blocking(log.streams()[0].stream_id, |_| Ok(())).unwrap_err(),
        log.sync_blocking().unwrap_err(),
    ];
    for refusal in refusals {
        match refusal {
            StorageError::Poisoned { operation: "fdatasync", cause } => {
                assert!(Arc::ptr_eq(&cause, &first_cause), "{cause}");
            }
            other => panic!("{other}"),
        }
    }
    assert!(log.stats().poisoned);
}

/// Wall time from a [`ManualClock`]; monotonic time that moves `step_micros` at every look,
/// so that every timed sync appears to take exactly that long.
struct SteppingClock {
    wall: ManualClock,
    micros: AtomicU64,
    step_micros: u64,
}

impl Clock for SteppingClock {
    fn now_ms(&self) -> u64 {
        self.wall.now_ms()
    }
    fn monotonic_micros(&self) -> u64 {
        self.micros.fetch_add(self.step_micros, Ordering::SeqCst)
    }
}

#[test]
fn stats_count_commits_records_bytes_and_sync_latency() {
    let fs = MemFs::new();
    let clock = SteppingClock { wall: ManualClock::new(T0), micros: AtomicU64::new(0), step_micros: 30_000 };
    let log = ShardLog::open(Arc::new(fs.clone()), Arc::new(clock), Path::new("/data"), small_segments()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    assert_eq!(log.stats().commits, 0);
    for i in 0..40 {
        log.append_blocking(vec![record(uid, &format!("{i:0100}")), record(uid, "x")]).unwrap();
    }
    let stats = log.stats();
    assert_eq!((stats.commits, stats.records_appended), (40, 80));
    assert!(stats.bytes_written > 40 * 101, "{stats:?}");
    // Every data sync took 30 ms on this clock: all of them in the (20 ms, 50 ms] bucket,
    // at least one per commit (rolling a segment syncs too).
    let bucket = crate::stats::sync_bucket(30_000);
    assert!(stats.sync_buckets[bucket] >= 40, "{stats:?}");
    assert_eq!(stats.sync_count(), stats.sync_buckets[bucket]);
    assert_eq!(stats.sync_micros_sum, 30_000 * stats.sync_count());
    assert!(stats.segments > 1, "small segments roll: {stats:?}");
    let on_disk: u64 = fs
        .list_dir(Path::new("/data/log"))
        .unwrap()
        .iter()
        .filter(|n| n.ends_with(".seg"))
        .map(|n| fs.read_all(&Path::new("/data/log").join(n)).unwrap().len() as u64)
        .sum();
    assert_eq!(stats.segment_bytes, on_disk);
    assert!(!stats.poisoned);
    // (A roll may spend the failure on the sealed segment's index, which is only a hint.)
    assert!((0..3).any(|_| {
        fs.fail_next_syncs(1);
        log.append_blocking(vec![record(uid, "lost")]).is_err()
    }));
    assert!(log.stats().poisoned);
}

/// Polls `done` for up to five seconds (the syncer thread works on its own time).
fn eventually(done: impl FnMut() -> bool) -> bool {
    within(Duration::from_secs(5), done)
}

/// Polls `done` until it holds or `limit` has passed.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn relaxed(interval_ms: u64) -> LogConfig {
    LogConfig { durability: Durability::Relaxed { interval_ms }, ..LogConfig::default() }
}

#[test]
fn relaxed_mode_syncs_in_the_background_once_the_interval_passed() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, relaxed(100)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "a")]).unwrap();
    let syncs = log.stats().sync_count();
    clock.advance_ms(150);
    // Acknowledged at once; the write that finds the interval passed asks for a sync (or
    // the idle writer does, if it looked at the clock first: then the next interval's
    // sync covers "b").
    log.append_blocking(vec![record(uid, "b")]).unwrap();
    let segment = Path::new("/data/log/00000000000000000001.seg");
    assert!(
        eventually(|| fs.unsynced_bytes(segment) == Some(0) || {
            clock.advance_ms(50);
            false
        }),
        "no background sync"
    );
    assert!(log.stats().sync_count() > syncs);
    fs.crash(Tear::DropUnsynced);
    drop(log);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["a", "b"]);
}

#[test]
fn relaxed_mode_background_sync_failure_stops_writes() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, relaxed(100)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    fs.fail_next_syncs(1);
    clock.advance_ms(150);
    // Relaxed: acknowledged before the sync that then fails.
    log.append_blocking(vec![record(uid, "acknowledged")]).unwrap();
    let refused = eventually(|| {
        matches!(
            log.append_blocking(vec![record(uid, "later")]),
            Err(StorageError::Poisoned { operation: "fdatasync", .. })
        )
    });
    assert!(refused, "a failed background sync must stop writes");
    assert!(log.append_blocking(vec![record(uid, "refused")]).is_err());
}

#[test]
fn failed_write_stops_writes() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    fs.fail_next_writes(1);
    assert!(matches!(
        log.append_blocking(vec![record(uid, "x")]),
        Err(StorageError::Poisoned { operation: "write", .. })
    ));
}

#[test]
fn disk_full_fails_appends_then_recovers_when_space_returns() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    log.append_blocking(vec![record(uid, "before")]).unwrap();
    fs.set_capacity(Some(fs.used_bytes() + 50));
    let error = log.append_blocking(vec![record(uid, &"y".repeat(500))]).unwrap_err();
    assert!(matches!(error, StorageError::DiskFull { .. }), "{error}");
    fs.set_capacity(None);
    log.append_blocking(vec![record(uid, "after")]).unwrap();
    assert_eq!(read_all(&log, uid), vec!["before", "after"]);
    drop(log);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    assert_eq!(read_all(&log, uid), vec!["before", "after"]);
}

#[test]
fn bad_records_fail_alone() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = open(&fs, &clock, LogConfig::default()).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let huge = AppendRecord { data: Bytes::from(vec![0u8; RECORD_DATA_BYTES_MAX + 1]), ..record(uid, "") };
    let results =
        log.append_blocking(vec![record(uid, "ok"), huge, record(999_999, "nowhere"), record(uid, "ok2")]).unwrap();
    assert!(results[0].is_ok() && results[3].is_ok());
    assert!(matches!(results[1], Err(StorageError::RecordTooLarge { .. })));
    assert!(matches!(results[2], Err(StorageError::ShardNotFound { .. })));
    assert_eq!(read_all(&log, uid), vec!["ok", "ok2"]);
    let max = AppendRecord { data: Bytes::from(vec![7u8; RECORD_DATA_BYTES_MAX]), ..record(uid, "") };
    assert!(log.append_blocking(vec![max]).unwrap()[0].is_ok());
}

#[tokio::test]
async fn readers_wait_for_new_records_without_polling() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let log = Arc::new(open(&fs, &clock, LogConfig::default()).unwrap());
    let spec = NewStream {
        name: "s".into(),
        shards: vec![(0, u128::MAX)],
        props: StreamProps { retention_hours: 24, ..Default::default() },
    };
    let uid = log.create_stream(spec).await.unwrap().shards[0].uid;
    let mut tip = log.watch(uid).unwrap();
    let writer = log.clone();
    let task = tokio::spawn(async move { writer.append(vec![record(uid, "wake")]).await });
    tokio::time::timeout(Duration::from_secs(5), tip.changed()).await.unwrap().unwrap();
    let lsn = *tip.borrow();
    assert_eq!(log.read(uid, lsn, 1, 100).unwrap().records[0].data, "wake");
    task.await.unwrap().unwrap();
}

mod archive_read;
mod ids;
mod model;
mod sealed;

#[test]
fn disk_full_never_poisons_wherever_it_strikes() {
    // Varying the capacity makes the disk fill up during frame writes, segment rolls and
    // index writes alike; each must refuse the append without stopping the log.
    for slack in (0..400).step_by(23) {
        let fs = MemFs::new();
        let clock = ManualClock::new(T0);
        let log = open(&fs, &clock, small_segments()).unwrap();
        let uid = stream(&log, "s", 1).shards[0].uid;
        fs.set_capacity(Some(fs.used_bytes() + 9000 + slack));
        let mut acknowledged = Vec::new();
        for i in 0..200 {
            let data = format!("{i:04}{}", "z".repeat(300));
            match log.append_blocking(vec![record(uid, &data)]) {
                Ok(results) => {
                    results[0].as_ref().unwrap();
                    acknowledged.push(data);
                }
                Err(StorageError::DiskFull { .. }) => break,
                Err(other) => panic!("slack {slack}: {other}"),
            }
        }
        assert_eq!(read_all(&log, uid), acknowledged, "slack {slack}");
        fs.set_capacity(None);
        log.append_blocking(vec![record(uid, "resumed")]).unwrap()[0].as_ref().unwrap();
        acknowledged.push("resumed".into());
        drop(log);
        let log = open(&fs, &clock, small_segments()).unwrap();
        assert_eq!(read_all(&log, uid), acknowledged, "slack {slack} after reopen");
    }
}

#[test]
fn idle_writer_deletes_expired_segments_in_the_background() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let config = LogConfig {
        segment_bytes_max: 4096,
        segment_age_ms_max: u64::MAX / 4,
        retention_check_ms: 5,
        ..LogConfig::default()
    };
    let log = open(&fs, &clock, config).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    for i in 0..60 {
        log.append_blocking(vec![record(uid, &format!("{i:0200}"))]).unwrap();
    }
    let count = || fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".seg")).count();
    let before = count();
    assert!(before > 2);
    clock.advance_ms(25 * HOUR_MS_TEST);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count() != 1 {
        assert!(std::time::Instant::now() < deadline, "expired segments were not deleted");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(read_all(&log, uid).is_empty());
    assert!(eventually(|| log.stats().segments_pending_delete == 0));
    assert_eq!(log.stats().segments, 1);
    // The log keeps working in its active segment.
    log.append_blocking(vec![record(uid, "fresh")]).unwrap();
    assert_eq!(read_all(&log, uid), vec!["fresh"]);
}

/// Records the lengths a shrinking file is cut to.
struct CutLog(Arc<parking_lot::Mutex<Vec<u64>>>);

impl WriteFile for CutLog {
    fn write_all_at(&mut self, _: &[u8], _: u64) -> std::io::Result<()> {
        Ok(())
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        self.0.lock().push(len);
        Ok(())
    }
}

#[test]
fn expired_segments_give_their_space_back_in_steps_unless_hurried() {
    let cuts = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let len = 2 * DELETE_STEP_BYTES + 5;
    shrink_gradually(Box::new(CutLog(cuts.clone())), len, &AtomicBool::new(false));
    assert_eq!(*cuts.lock(), vec![DELETE_STEP_BYTES + 5, 5]);

    cuts.lock().clear();
    shrink_gradually(Box::new(CutLog(cuts.clone())), len, &AtomicBool::new(true));
    assert!(cuts.lock().is_empty(), "a stopping log frees the rest at once, on close");
}

#[test]
fn paced_deletion_unlinks_before_shrinking() {
    let fs = MemFs::new();
    let dir = Path::new("/data/log");
    fs.create_dir_all(dir).unwrap();
    for name in [segment_name(7), index_name(7)] {
        fs.write_all(&join(dir, &name), &vec![1u8; 3 * 1024]);
    }
    delete_segment_files(&fs, dir, &[7], Files::SegmentAndIndex, Release::Paced { hurry: &AtomicBool::new(false) })
        .unwrap();
    assert!(!fs.exists(&join(dir, &segment_name(7))));
    assert!(!fs.exists(&join(dir, &index_name(7))));
    assert_eq!(fs.used_bytes(), 0);
}

/// MemFs that notes, at each shrink of an unlinked file, whether a crash then would bring
/// the file back (its name still durable).
struct ShrinkWatch {
    fs: MemFs,
    /// For each shrink of an unlinked file: whether its name was still durable.
    name_durable_at_shrink: Arc<parking_lot::Mutex<Vec<bool>>>,
}

struct WatchedFile {
    inner: Box<dyn WriteFile>,
    path: std::path::PathBuf,
    fs: MemFs,
    name_durable_at_shrink: Arc<parking_lot::Mutex<Vec<bool>>>,
}

impl WriteFile for WatchedFile {
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> std::io::Result<()> {
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.inner.sync_data()
    }
    fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        // Files still named (a new segment sized, a torn tail cut) are not the concern.
        if !self.fs.exists(&self.path) {
            self.name_durable_at_shrink.lock().push(self.fs.is_durable(&self.path));
        }
        self.inner.set_len(len)
    }
}

impl crate::fs::FileSystem for ShrinkWatch {
    fn create_dir_all(&self, path: &Path) -> std::io::Result<()> {
        self.fs.create_dir_all(path)
    }
    fn list_dir(&self, path: &Path) -> std::io::Result<Vec<String>> {
        self.fs.list_dir(path)
    }
    fn open_read(&self, path: &Path) -> std::io::Result<Arc<dyn crate::fs::ReadFile>> {
        self.fs.open_read(path)
    }
    fn open_write(&self, path: &Path) -> std::io::Result<Box<dyn WriteFile>> {
        Ok(Box::new(WatchedFile {
            inner: self.fs.open_write(path)?,
            path: path.to_path_buf(),
            fs: self.fs.clone(),
            name_durable_at_shrink: self.name_durable_at_shrink.clone(),
        }))
    }
    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.fs.remove_file(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.fs.rename(from, to)
    }
    fn sync_dir(&self, path: &Path) -> std::io::Result<()> {
        self.fs.sync_dir(path)
    }
    fn exists(&self, path: &Path) -> bool {
        self.fs.exists(path)
    }
    fn try_lock(&self, path: &Path) -> std::io::Result<Option<crate::fs::LockGuard>> {
        self.fs.try_lock(path)
    }
}

/// A crash in the middle of a paced deletion must not bring a shortened segment back
/// (recovery would take it for damage), so the unlink is durable before the first shrink.
#[test]
fn paced_deletion_makes_the_unlink_durable_before_the_first_shrink() {
    let watch = ShrinkWatch { fs: MemFs::new(), name_durable_at_shrink: Arc::default() };
    let dir = Path::new("/data/log");
    watch.fs.create_dir_all(dir).unwrap();
    watch.fs.write_all(&join(dir, &segment_name(7)), &vec![1u8; DELETE_STEP_BYTES as usize + 10]);
    watch.fs.sync_dir(dir).unwrap();
    delete_segment_files(&watch, dir, &[7], Files::SegmentOnly, Release::Paced { hurry: &AtomicBool::new(false) })
        .unwrap();
    assert_eq!(*watch.name_durable_at_shrink.lock(), [false], "one shrink, after the unlink was durable");
}

/// A paced deletion whose unlink cannot be made durable stops before shrinking: a crash
/// brings the file back whole (retention deletes it again later), not cut short.
#[test]
fn paced_deletion_whose_unlink_cannot_be_made_durable_leaves_the_file_whole() {
    let fs = MemFs::new();
    let dir = Path::new("/data/log");
    crate::fs::create_dir_durably(&fs, dir).unwrap();
    let path = join(dir, &segment_name(7));
    let bytes = vec![1u8; DELETE_STEP_BYTES as usize + 10];
    fs.write_all(&path, &bytes);
    fs.sync_dir(dir).unwrap();
    fs.fail_next_dir_syncs(dir, 1);
    let error =
        delete_segment_files(&fs, dir, &[7], Files::SegmentOnly, Release::Paced { hurry: &AtomicBool::new(false) })
            .unwrap_err();
    assert!(matches!(error, StorageError::Io { operation: "sync log folder", .. }), "{error}");
    fs.crash(Tear::DropUnsynced);
    assert_eq!(fs.read_all(&path).unwrap(), bytes);
}

// The archive tier's tests (kept apart from the module list above).
mod archive;
