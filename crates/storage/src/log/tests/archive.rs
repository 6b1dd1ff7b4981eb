//! The archive tier on the in-memory filesystem, a manual clock and [`MemArchive`]:
//! uploads, the local budget, the hard limit, archive retention, reconciliation and the
//! crash points in between. The archiver runs on its own thread, so the tests wait for
//! what it must eventually do (never for how fast).

use super::*;
use crate::archive::{ArchiveConfig, MemArchive, SegmentManifest, LAYOUT_MARKER_KEY};

const HOUR_MS: u64 = 3_600_000;

fn tiered(store: &Arc<MemArchive>, budget_bytes: Option<u64>, hard_limit_bytes: Option<u64>) -> LogConfig {
    LogConfig {
        archive: Some(ArchiveConfig {
            store: store.clone(),
            log_name: "streams".into(),
            local_retention_bytes: budget_bytes,
            local_retention_ms: None,
            local_hard_limit_bytes: hard_limit_bytes,
            cache_bytes: 1 << 20,
            read_ahead_blocks: 0,
        }),
        ..small_segments()
    }
}

/// Polls `done` for up to 30 seconds (the archiver backs off up to seconds after failures).
fn soon(done: impl FnMut() -> bool) -> bool {
    within(Duration::from_secs(30), done)
}

/// Appends `count` records of about 200 bytes, returning their data.
fn fill(log: &ShardLog, uid: u64, from: usize, count: usize) -> Vec<String> {
    (from..from + count)
        .map(|i| {
            let data = format!("{i:05}-{}", "x".repeat(200));
            log.append_blocking(vec![record(uid, &data)]).unwrap()[0].as_ref().unwrap();
            data
        })
        .collect()
}

/// A log on `fs` tiered to `store` with local budget `budget_bytes`, holding `count`
/// records of one shard, every sealed segment archived (and, with a budget, at least
/// one only in the archive).
fn archived_log(
    fs: &MemFs,
    clock: &ManualClock,
    store: &Arc<MemArchive>,
    budget_bytes: Option<u64>,
    count: usize,
) -> (ShardLog, u64, Vec<String>) {
    let log = open(fs, clock, tiered(store, budget_bytes, None)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let written = fill(&log, uid, 0, count);
    assert!(all_archived(&log, 0));
    assert!(budget_bytes.is_none() || soon(|| log.stats().archive.remote_only_segments >= 1));
    (log, uid, written)
}

/// Waits until every sealed segment is archived, `before` of them by an earlier run.
fn all_archived(log: &ShardLog, before: u64) -> bool {
    soon(|| {
        let stats = log.stats();
        stats.segments == stats.archive.uploaded_segments_total + before + 1
    })
}

fn local_files(fs: &MemFs, suffix: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = fs
        .list_dir(Path::new("/data/log"))
        .unwrap()
        .iter()
        .filter_map(|n| n.strip_suffix(suffix)?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// Bytes of the segment files on the local disk.
fn local_segment_bytes(fs: &MemFs) -> u64 {
    let dir = Path::new("/data/log");
    local_files(fs, ".seg")
        .into_iter()
        .map(|id| fs.read_all(&join(dir, &segment_name(id))).map_or(0, |b| b.len() as u64))
        .sum()
}

fn records(fs: &MemFs) -> Vec<SegmentManifest> {
    let store = crate::metastore::LocalMetaStore::open(Arc::new(fs.clone()), "/data/meta".into()).unwrap();
    // The archiver may remove a record between the listing and the read: list again.
    let mut loaded = crate::metastore::MetaStore::load_archived(&store);
    for _ in 0..100 {
        if loaded.is_ok() {
            break;
        }
        loaded = crate::metastore::MetaStore::load_archived(&store);
    }
    loaded.unwrap()
}

/// The ids of the segments the archive has a manifest of.
fn manifests(store: &MemArchive) -> Vec<u64> {
    store.keys().iter().filter_map(|k| k.strip_suffix(".json")?.rsplit('/').next()?.parse().ok()).collect()
}

/// A segment object's key of this log.
fn sample_key(store: &MemArchive) -> String {
    store.keys().into_iter().find(|k| k.starts_with("v1/") && k.ends_with(".json")).unwrap()
}

/// The key `key` would have for segment `id`.
fn key_of(key: &str, id: u64, suffix: &str) -> String {
    let (prefix, _) = key.rsplit_once('/').unwrap();
    format!("{prefix}/{id:020}{suffix}")
}

#[test]
fn sealed_segments_are_uploaded_with_their_index_manifest_and_record() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 60);
    let sealed: Vec<u64> = local_files(&fs, ".seg").into_iter().rev().skip(1).rev().collect();
    assert!(sealed.len() >= 2, "{sealed:?}");
    assert!(store.object(LAYOUT_MARKER_KEY).is_some());
    assert_eq!(manifests(&store), sealed);
    let recorded = records(&fs);
    assert_eq!(recorded.iter().map(|m| m.segment_id).collect::<Vec<_>>(), sealed);
    let any_key = sample_key(&store);
    for manifest in &recorded {
        let id = manifest.segment_id;
        let json = store.object(&key_of(&any_key, id, ".json")).unwrap();
        assert_eq!(&serde_json::from_slice::<SegmentManifest>(&json).unwrap(), manifest);
        let segment = store.object(&key_of(&any_key, id, ".seg")).unwrap();
        assert_eq!(segment.to_vec(), fs.read_all(&join(Path::new("/data/log"), &segment_name(id))).unwrap());
        assert_eq!(crc32c::crc32c(&segment), manifest.segment_crc32c);
        let index = store.object(&key_of(&any_key, id, ".idx")).unwrap();
        assert_eq!(crc32c::crc32c(&index), manifest.index_crc32c);
        assert_eq!(index.len() as u64, manifest.index_len);
    }
    let stats = log.stats().archive;
    assert!(stats.enabled);
    assert_eq!(stats.uploaded_segments_total, sealed.len() as u64);
    assert_eq!(stats.evicted_segments_total, 0);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn the_byte_budget_evicts_archived_segments_and_their_records_stay_readable_across_restarts() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let mut written = fill(&log, uid, 0, 80);
    // The statistics count a segment as evicted when its reader is swapped, before the paced
    // unlink of its file: wait for the files too.
    assert!(soon(|| {
        let stats = log.stats().archive;
        stats.backlog_segments == 0
            && stats.local_segments <= 2
            && stats.remote_only_segments >= 2
            && local_files(&fs, ".seg").len() <= 2
    }));
    let evicted = log.stats().archive.evicted_segments_total;
    assert!(evicted >= 2);
    // Evicted segments keep only their index locally.
    let (segs, idxs) = (local_files(&fs, ".seg"), local_files(&fs, ".idx"));
    assert!(segs.len() <= 2, "{segs:?}");
    assert!(records(&fs).iter().all(|m| idxs.contains(&m.segment_id)));
    assert_eq!(read_all(&log, uid), written);
    // `segment_bytes` is the local disk's share; the archive-only bytes are counted apart.
    assert!(soon(|| log.stats().segment_bytes == local_segment_bytes(&fs)));
    assert!(log.stats().archive.remote_only_bytes > 0);
    drop(log);

    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    assert_eq!(read_all(&log, uid), written);
    assert!(soon(|| log.stats().archive.remote_only_segments >= evicted));
    // New segments number above every archived one.
    let before = records(&fs).len() as u64;
    written.extend(fill(&log, uid, 80, 40));
    assert_eq!(read_all(&log, uid), written);
    assert!(all_archived(&log, before));
    let ids = records(&fs).iter().map(|m| m.segment_id).collect::<Vec<_>>();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

/// Eviction, like retention's deleter, makes the unlink durable before it shrinks the
/// file: a crash in between must not bring a shortened sealed segment back (recovery
/// would read it as damage).
#[test]
fn eviction_makes_the_unlink_durable_before_the_first_shrink() {
    let watch = Arc::new(ShrinkWatch { fs: MemFs::new(), name_durable_at_shrink: Arc::default() });
    let (clock, store) = (ManualClock::new(T0), Arc::new(MemArchive::new()));
    // Segments above one shrink step, or eviction frees them at close without a shrink.
    let segment_bytes_max = DELETE_STEP_BYTES + (2 << 20);
    let config = LogConfig { segment_bytes_max, ..tiered(&store, Some(0), None) };
    let log = ShardLog::open(watch.clone(), Arc::new(clock), Path::new("/data"), config).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let big = "x".repeat(512 << 10);
    for _ in 0..3 * segment_bytes_max / (512 << 10) {
        log.append_blocking(vec![record(uid, &big)]).unwrap()[0].as_ref().unwrap();
    }
    assert!(soon(|| log.stats().archive.evicted_segments_total >= 2 && watch.name_durable_at_shrink.lock().len() >= 2));
    let shrinks = watch.name_durable_at_shrink.lock().clone();
    assert!(shrinks.iter().all(|durable| !durable), "a shrink came before its unlink was durable: {shrinks:?}");
}

/// When the unlink cannot be made durable (the folder sync fails), eviction stops before
/// the shrink: a crash then brings the segment back whole, readable as before.
#[test]
fn eviction_whose_unlink_cannot_be_made_durable_leaves_the_file_whole() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    // Segments above one shrink step: smaller ones are freed at close, without a shrink.
    let segment_bytes_max = DELETE_STEP_BYTES + (2 << 20);
    let config = |budget| LogConfig { segment_bytes_max, ..tiered(&store, budget, None) };
    let log = open(&fs, &clock, config(None)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let written: Vec<String> =
        (0..3 * segment_bytes_max / (512 << 10)).map(|i| format!("{i:05}{}", "x".repeat(512 << 10))).collect();
    for data in &written {
        log.append_blocking(vec![record(uid, data)]).unwrap()[0].as_ref().unwrap();
    }
    assert!(all_archived(&log, 0));
    drop(log);
    let local_segments = local_files(&fs, ".seg");
    // Down while the folder is armed, so the first eviction meets the failing sync.
    store.faults.down.store(true, Ordering::Relaxed);
    let log = open(&fs, &clock, config(Some(0))).unwrap();
    let log_dir = Path::new("/data/log");
    fs.fail_next_dir_syncs(log_dir, u32::MAX);
    store.faults.down.store(false, Ordering::Relaxed);
    assert!(soon(|| log.stats().archive.local_failures_total > 0));
    assert!(local_files(&fs, ".seg").len() < local_segments.len(), "no segment was unlinked");
    assert_eq!(log.stats().archive.evicted_segments_total, 0);
    assert_eq!(read_all(&log, uid), written);
    drop(log);
    fs.fail_next_dir_syncs(log_dir, 0);
    fs.crash(Tear::DropUnsynced);
    assert_eq!(local_files(&fs, ".seg"), local_segments);
    let log = open(&fs, &clock, config(None)).unwrap();
    assert_eq!(read_all(&log, uid), written);
    assert_eq!(log.stats().damaged_chunks, 0);
}

#[test]
fn the_age_budget_evicts_archived_segments_once_their_newest_record_is_old() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let mut config = tiered(&store, None, None);
    if let Some(archive) = config.archive.as_mut() {
        archive.local_retention_ms = Some(HOUR_MS);
    }
    let log = open(&fs, &clock, config).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let written = fill(&log, uid, 0, 60);
    assert!(all_archived(&log, 0));
    let archived = log.stats().archive.uploaded_segments_total;
    assert_eq!(log.stats().archive.remote_only_segments, 0);
    clock.advance_ms(2 * HOUR_MS);
    assert!(soon(|| log.stats().archive.evicted_segments_total == archived));
    assert_eq!(local_files(&fs, ".seg").len(), 1);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn an_archive_that_is_down_stops_appends_at_the_hard_limit_and_they_resume_when_it_is_back() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    store.faults.down.store(true, Ordering::Relaxed);
    let log = open(&fs, &clock, tiered(&store, Some(4_096), Some(12_000))).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let (mut written, refusal) = append_until_refused(&log, uid, 1_000, |i| format!("{i:05}-{}", "x".repeat(200)));
    assert!(matches!(refusal, Some(StorageError::ArchiveBacklogFull { limit_bytes: 12_000, .. })), "{refusal:?}");
    // Nothing of the refused append was written, and nothing unarchived was dropped.
    assert_eq!(read_all(&log, uid), written);
    let stats = log.stats().archive;
    assert!(stats.writes_refused);
    assert!(stats.refused_appends_total >= 1);
    assert_eq!(stats.evicted_segments_total, 0);
    assert!(soon(|| log.stats().archive.upload_failures_total > 0));
    // The archive failed, not the disk.
    assert_eq!(log.stats().archive.local_failures_total, 0);
    assert!(!log.stats().archive.refused);

    store.faults.down.store(false, Ordering::Relaxed);
    let data = "after the archive came back".to_string();
    assert!(soon(|| log.append_blocking(vec![record(uid, &data)]).is_ok()));
    written.push(data);
    assert!(all_archived(&log, 0));
    assert!(soon(|| !log.stats().archive.writes_refused));
    assert_eq!(read_all(&log, uid), written);
    drop(log);
    let log = open(&fs, &clock, tiered(&store, Some(4_096), Some(12_000))).unwrap();
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn retention_deletes_archived_objects_then_their_records() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, _) = archived_log(&fs, &clock, &store, Some(6_000), 60);
    let archived = records(&fs).len() as u64;
    clock.advance_ms(25 * HOUR_MS);
    assert_eq!(log.enforce_retention_blocking().unwrap() as u64, archived);
    assert!(soon(|| log.stats().archive.deleted_segments_total == archived));
    assert!(records(&fs).is_empty());
    assert_eq!(store.keys(), vec![LAYOUT_MARKER_KEY.to_string()]);
    // Only the active segment is left locally, index files included.
    assert_eq!(local_files(&fs, ".seg").len(), 1);
    assert!(local_files(&fs, ".idx").is_empty());
    assert!(read_all(&log, uid).is_empty());
}

#[test]
fn an_upload_whose_record_was_lost_is_redone_without_leaking() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 60);
    drop(log);
    // The crash came after the manifest, before the record.
    let lost = records(&fs)[0].segment_id;
    fs.remove_file(Path::new(&format!("/data/meta/archive/{lost:020}.rec"))).unwrap();
    // The record's absence must be durable for the crash to keep it (MemFs undoes
    // unsynced removals).
    fs.sync_dir(Path::new("/data/meta/archive")).unwrap();
    fs.crash(Tear::DropUnsynced);
    let keys = store.keys();
    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    assert!(soon(|| log.stats().archive.uploaded_segments_total == 1));
    assert!(records(&fs).iter().any(|m| m.segment_id == lost));
    assert!(soon(|| log.stats().archive.remote_only_segments >= 1));
    assert_eq!(store.keys(), keys);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn a_retention_delete_cut_short_is_finished_after_restart() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, _) = archived_log(&fs, &clock, &store, Some(6_000), 60);
    drop(log);
    // The crash came after the manifest and the segment object went, before the index
    // object, the record and the local index.
    let victim = records(&fs)[0].segment_id;
    let any_key = sample_key(&store);
    for suffix in [".json", ".seg"] {
        crate::archive::ObjectArchive::delete(&*store, &key_of(&any_key, victim, suffix)).unwrap();
    }
    fs.crash(Tear::DropUnsynced);
    clock.advance_ms(25 * HOUR_MS);
    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    log.enforce_retention_blocking().unwrap();
    assert!(soon(|| records(&fs).is_empty()));
    assert!(soon(|| store.keys() == vec![LAYOUT_MARKER_KEY.to_string()]));
    assert!(read_all(&log, uid).is_empty());
}

#[test]
fn objects_with_neither_record_nor_local_file_are_reconciled_away() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 40);
    drop(log);
    let any_key = sample_key(&store);
    let leaked = key_of(&any_key, 999_999, ".seg");
    store.set_object(&leaked, Bytes::from_static(b"an upload retention overtook"));
    let other_log = any_key.replace("/streams/", "/firehose/");
    store.set_object(&other_log, Bytes::from_static(b"not this log's"));
    let kept = store.keys().len() - 1;
    let log = open(&fs, &clock, tiered(&store, None, None)).unwrap();
    assert!(soon(|| log.stats().archive.reconciled_objects_total == 1));
    assert!(store.object(&leaked).is_none());
    assert!(store.object(&other_log).is_some());
    assert_eq!(store.keys().len(), kept);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn a_lost_or_damaged_local_index_of_a_remote_segment_is_fetched_from_the_archive() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let written = fill(&log, uid, 0, 80);
    assert!(soon(|| log.stats().archive.remote_only_segments >= 2 && log.stats().archive.backlog_segments == 0));
    drop(log);
    let remote: Vec<u64> =
        records(&fs).iter().map(|m| m.segment_id).filter(|id| !local_files(&fs, ".seg").contains(id)).collect();
    let (lost, damaged) = (remote[0], remote[1]);
    let lost_path = join(Path::new("/data/log"), &index_name(lost));
    let damaged_path = join(Path::new("/data/log"), &index_name(damaged));
    let good = fs.read_all(&lost_path).unwrap();
    fs.remove_file(&lost_path).unwrap();
    fs.corrupt(&damaged_path, 40, &[0xFF, 0xFF]).unwrap();

    // With the archive down as well, the log cannot know those records: it refuses to start.
    store.faults.down.store(true, Ordering::Relaxed);
    let refused = open(&fs, &clock, tiered(&store, Some(6_000), None));
    assert!(matches!(refused, Err(StorageError::Archive { .. })), "{refused:?}");
    store.faults.down.store(false, Ordering::Relaxed);

    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    assert_eq!(fs.read_all(&lost_path).unwrap(), good);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn a_store_with_another_layout_version_is_left_alone() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let marker = Bytes::from_static(br#"{"format":"rheo-archive","version":99}"#);
    store.set_object(LAYOUT_MARKER_KEY, marker.clone());
    let log = open(&fs, &clock, tiered(&store, Some(4_096), Some(12_000))).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let refused =
        (0..1_000).find_map(|i| log.append_blocking(vec![record(uid, &format!("{i:05}-{}", "x".repeat(200)))]).err());
    assert!(matches!(refused, Some(StorageError::ArchiveBacklogFull { .. })));
    assert_eq!(store.keys(), vec![LAYOUT_MARKER_KEY.to_string()]);
    assert_eq!(store.object(LAYOUT_MARKER_KEY), Some(marker));
    assert!(soon(|| log.stats().archive.refused));
    // A refusal is no failed upload: nothing was tried.
    assert_eq!(log.stats().archive.upload_failures_total, 0);
}

#[test]
fn segments_retention_takes_during_their_upload_leave_neither_objects_nor_records() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    // Slow calls, so retention lands before, during or after uploads: every order must
    // end with nothing of the expired segments left anywhere.
    store.faults.delay_ms.store(20, Ordering::Relaxed);
    let log = open(&fs, &clock, tiered(&store, None, None)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    fill(&log, uid, 0, 60);
    // The layout marker is the first put; the second is the first segment's, in flight.
    assert!(soon(|| store.calls[0].load(Ordering::Relaxed) >= 2));
    clock.advance_ms(25 * HOUR_MS);
    assert!(log.enforce_retention_blocking().unwrap() >= 2);
    let sealed_left = || log.stats().segments == 1;
    assert!(soon(sealed_left));
    assert!(soon(|| records(&fs).is_empty() && store.keys() == vec![LAYOUT_MARKER_KEY.to_string()]));
    assert_eq!(local_files(&fs, ".seg").len(), 1);
    assert!(soon(|| local_files(&fs, ".idx").is_empty()));
    assert!(read_all(&log, uid).is_empty());
}

#[test]
fn a_log_whose_segments_only_the_archive_holds_refuses_to_open_without_it() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, _, _) = archived_log(&fs, &clock, &store, Some(6_000), 60);
    drop(log);
    let refused = open(&fs, &clock, small_segments());
    assert!(matches!(refused, Err(StorageError::Archive { .. })), "{refused:?}");
    assert!(open(&fs, &clock, tiered(&store, Some(6_000), None)).is_ok());
}

fn aged(store: &Arc<MemArchive>, hard_limit_bytes: Option<u64>) -> LogConfig {
    let mut config = tiered(store, None, hard_limit_bytes);
    if let Some(archive) = config.archive.as_mut() {
        archive.local_retention_ms = Some(HOUR_MS);
    }
    config
}

#[test]
fn damage_in_a_local_copy_is_forgotten_once_the_segment_is_evicted() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 60);
    drop(log);
    let victim = records(&fs)[0].segment_id;
    fs.corrupt(&join(Path::new("/data/log"), &segment_name(victim)), 300, &[0x42; 3]).unwrap();
    let log = open(&fs, &clock, aged(&store, None)).unwrap();
    assert!(soon(|| log.stats().damaged_chunks >= 1));
    clock.advance_ms(2 * HOUR_MS);
    assert!(soon(|| log.stats().archive.remote_only_segments >= 1 && log.stats().damaged_chunks == 0));
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn an_archive_without_its_marker_while_records_exist_is_refused_and_nothing_is_evicted() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 60);
    drop(log);
    let segs = local_files(&fs, ".seg");
    // The bucket was emptied by a lifecycle rule, or `--archive` now names another one.
    let emptied = Arc::new(MemArchive::new());
    let log = open(&fs, &clock, tiered(&emptied, Some(4_096), None)).unwrap();
    assert!(soon(|| log.stats().archive.refused));
    fill(&log, uid, 60, 20);
    assert!(emptied.keys().is_empty());
    assert_eq!(log.stats().archive.evicted_segments_total, 0);
    assert_eq!(log.stats().archive.upload_failures_total, 0);
    assert!(segs.iter().all(|id| local_files(&fs, ".seg").contains(id)));
    assert_eq!(read_all(&log, uid)[..written.len()], written[..]);
}

#[test]
fn a_segment_whose_manifest_the_archive_lacks_is_not_evicted() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 60);
    drop(log);
    let victim = records(&fs)[0].segment_id;
    let any_key = sample_key(&store);
    crate::archive::ObjectArchive::delete(&*store, &key_of(&any_key, victim, ".json")).unwrap();
    let log = open(&fs, &clock, tiered(&store, Some(4_096), None)).unwrap();
    assert!(soon(|| log.stats().archive.evicted_segments_total >= 1));
    assert!(soon(|| log.stats().archive.missing_manifests_total >= 1));
    // The archive answered every call: nothing failed, it lost an object.
    assert_eq!(log.stats().archive.upload_failures_total, 0);
    assert!(local_files(&fs, ".seg").contains(&victim));
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn a_hard_limit_below_the_segment_size_seals_the_active_segment_so_appends_resume() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let log = open(&fs, &clock, tiered(&store, None, Some(2_000))).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let mut written = Vec::new();
    for i in 0..40 {
        let data = format!("{i:05}-{}", "x".repeat(200));
        assert!(soon(|| log.append_blocking(vec![record(uid, &data)]).is_ok()), "append {i} stalled");
        written.push(data);
    }
    assert!(log.stats().archive.refused_appends_total >= 1);
    assert!(log.stats().archive.uploaded_segments_total >= 2);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn objects_leaked_at_run_time_are_reconciled_away_without_a_restart() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 40);
    let leaked = key_of(&sample_key(&store), 999_999, ".seg");
    store.set_object(&leaked, Bytes::from_static(b"a delete that failed"));
    clock.advance_ms(crate::limits::ARCHIVE_RECONCILE_MS + 1);
    assert!(soon(|| store.object(&leaked).is_none()));
    assert_eq!(log.stats().archive.reconciled_objects_total, 1);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn an_index_with_neither_segment_nor_record_is_removed_at_start_up() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, Some(6_000), 60);
    drop(log);
    let kept = local_files(&fs, ".idx");
    fs.write_all(&join(Path::new("/data/log"), &index_name(999_999)), b"left by a crash");
    let log = open(&fs, &clock, tiered(&store, Some(6_000), None)).unwrap();
    assert_eq!(local_files(&fs, ".idx"), kept);
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn a_local_failure_of_one_segment_does_not_hold_back_the_others() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    store.faults.down.store(true, Ordering::Relaxed);
    let log = open(&fs, &clock, tiered(&store, None, None)).unwrap();
    let uid = stream(&log, "s", 1).shards[0].uid;
    let written = fill(&log, uid, 0, 50);
    let sealed = local_files(&fs, ".seg").len() as u64 - 1;
    assert!(sealed >= 3);
    // The oldest segment's index is damaged and the disk too full to store it again
    // (with room for the other segments' records).
    let oldest = local_files(&fs, ".seg")[0];
    let index_path = join(Path::new("/data/log"), &index_name(oldest));
    let index_len = fs.read_all(&index_path).unwrap().len() as u64;
    fs.corrupt(&index_path, 40, &[0xFF, 0xFF]).unwrap();
    fs.set_capacity(Some(fs.used_bytes() + index_len - 1));
    store.faults.down.store(false, Ordering::Relaxed);
    assert!(soon(|| log.stats().archive.uploaded_segments_total == sealed - 1));
    assert!(log.stats().archive.local_failures_total >= 1);
    assert!(!manifests(&store).contains(&oldest));
    fs.set_capacity(None);
    assert!(all_archived(&log, 0));
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn a_shutdown_does_not_wait_for_a_put_the_archive_holds_and_the_upload_is_redone_after_restart() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, mut written) = archived_log(&fs, &clock, &store, None, 40);
    let recorded_before = records(&fs).len();
    // The store stops answering puts; the next sealed segment's upload hangs in it.
    store.faults.hold_puts.store(true, Ordering::Release);
    written.extend(fill(&log, uid, 40, 30));
    assert!(soon(|| store.held_puts() == 1));
    let (done, stopped) = std::sync::mpsc::channel();
    let stopping = std::thread::spawn(move || {
        log.shutdown();
        let _ = done.send(());
    });
    // Generous: the bound is the close, not the store (which never answers here).
    let returned = stopped.recv_timeout(Duration::from_secs(30)).is_ok();
    // Let a shutdown stuck in the put end either way, so a failure does not hang the run.
    store.faults.hold_puts.store(false, Ordering::Release);
    assert!(returned, "the shutdown waited for the held put");
    stopping.join().unwrap();
    assert_eq!(store.held_puts(), 0);
    // The cut upload left no record; the next start uploads it and everything reads back.
    assert_eq!(records(&fs).len(), recorded_before);
    let log = open(&fs, &clock, tiered(&store, None, None)).unwrap();
    assert!(all_archived(&log, recorded_before as u64));
    assert_eq!(read_all(&log, uid), written);
}

#[test]
fn reconciliation_lists_and_deletes_page_by_page() {
    let (fs, clock, store) = (MemFs::new(), ManualClock::new(T0), Arc::new(MemArchive::new()));
    let (log, uid, written) = archived_log(&fs, &clock, &store, None, 40);
    drop(log);
    let any_key = sample_key(&store);
    let leaked = 2 * crate::archive::ARCHIVE_LIST_PAGE + 1;
    for id in 0..leaked as u64 {
        store.set_object(&key_of(&any_key, 1_000_000 + id, ".seg"), Bytes::from_static(b"leaked"));
    }
    let kept = store.keys().len() - leaked;
    let lists_before = store.calls[3].load(Ordering::Relaxed);
    let log = open(&fs, &clock, tiered(&store, None, None)).unwrap();
    assert!(soon(|| log.stats().archive.reconciled_objects_total == leaked as u64));
    assert_eq!(store.keys().len(), kept);
    // One store call a page: the listing was never held whole.
    assert!(store.calls[3].load(Ordering::Relaxed) - lists_before >= 3);
    assert_eq!(read_all(&log, uid), written);
}
