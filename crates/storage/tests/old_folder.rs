//! A data folder written before identities had their own counter (`tests/data/
//! folder-before-ids`, made by that version and committed, never regenerated): stream
//! ids and shard uids were taken from the LSN counter, the metadata has no
//! `created_lsn`, and there is no `meta/ids.reserve`. It holds stream "orders" (id 1;
//! shards uid 2 "a0".."a4", closed at LSN 15; uid 3 "b0".."b2"; uid 16 "c0"; uid 17
//! empty), and the chunks of a deleted stream "gone" (id 12, shard uid 13, "g0").

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use rheo_storage::clock::ManualClock;
use rheo_storage::{AppendRecord, LogConfig, NewStream, ShardLog, StartPosition, StdFs, StreamMeta, StreamProps};

/// The folder's newest LSN ("c0").
const OLD_LAST_LSN: u64 = 18;
/// A little after the folder's records were written.
const NOW_MS: u64 = 1_700_000_100_000;

fn copy_folder(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &to.join(&name), skip);
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

fn old_folder(skip: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/folder-before-ids"), dir.path(), skip);
    dir
}

fn open(dir: &Path) -> ShardLog {
    ShardLog::open(Arc::new(StdFs), Arc::new(ManualClock::new(NOW_MS)), dir, LogConfig::default()).unwrap()
}

fn read_from(log: &ShardLog, uid: u64, start: StartPosition) -> Vec<String> {
    let from = log.resolve(uid, start).unwrap();
    let batch = log.read(uid, from, 1_000, usize::MAX).unwrap();
    batch.records.iter().map(|r| String::from_utf8(r.data.to_vec()).unwrap()).collect()
}

fn append(log: &ShardLog, uid: u64, data: &'static str) -> u64 {
    let record = AppendRecord {
        shard_uid: uid,
        partition_key: Bytes::from_static(b"pk"),
        explicit_hash_key: None,
        data: data.into(),
    };
    log.append_blocking(vec![record]).unwrap()[0].as_ref().unwrap().lsn
}

fn create(log: &ShardLog, name: &str) -> Arc<StreamMeta> {
    log.create_stream_blocking(NewStream {
        name: name.into(),
        shards: vec![(0, u128::MAX / 2), (u128::MAX / 2 + 1, u128::MAX)],
        props: StreamProps { retention_hours: 8760, ..Default::default() },
    })
    .unwrap()
}

fn ids(meta: &StreamMeta) -> Vec<u64> {
    std::iter::once(meta.stream_id).chain(meta.shards.iter().map(|s| s.uid)).collect()
}

fn assert_old_records(log: &ShardLog) {
    let orders = log.streams().into_iter().find(|s| s.name == "orders").unwrap();
    assert_eq!(orders.stream_id, 1);
    let uids: Vec<(u64, u64)> = orders.shards.iter().map(|s| (s.uid, s.created_lsn)).collect();
    assert_eq!(uids, [(2, 2), (3, 3), (16, 16), (17, 17)]);
    assert_eq!(read_from(log, 2, StartPosition::TrimHorizon), ["a0", "a1", "a2", "a3", "a4"]);
    assert_eq!(read_from(log, 3, StartPosition::TrimHorizon), ["b0", "b1", "b2"]);
    assert_eq!(read_from(log, 16, StartPosition::TrimHorizon), ["c0"]);
    let closed = log.read(2, 0, 1_000, usize::MAX).unwrap();
    assert!(closed.shard_end);
}

#[test]
fn a_folder_from_before_identities_opens_reads_and_continues() {
    let dir = old_folder(&[]);
    let log = open(dir.path());
    assert_old_records(&log);
    // LATEST on the empty old shard sees every later record.
    let latest = log.resolve(17, StartPosition::Latest).unwrap();
    assert!(latest <= OLD_LAST_LSN + 1);
    let lsn = append(&log, 17, "d0");
    assert!(lsn > OLD_LAST_LSN);
    assert_eq!(log.read(17, latest, 10, usize::MAX).unwrap().records.len(), 1);
    // New identities are above every old LSN (old uids may still have chunks in the
    // segments), and a new shard holds nothing of the old ones.
    let new = create(&log, "new");
    assert!(ids(&new).iter().all(|id| *id > OLD_LAST_LSN), "{:?}", ids(&new));
    assert!(new.shards.iter().all(|s| read_from(&log, s.uid, StartPosition::TrimHorizon).is_empty()));
    drop(log);

    let log = open(dir.path());
    assert_old_records(&log);
    assert_eq!(read_from(&log, 17, StartPosition::TrimHorizon), ["d0"]);
    assert!(dir.path().join("meta/ids.reserve").exists());
    let later = create(&log, "later");
    assert!(ids(&later)[0] > *ids(&new).iter().max().unwrap());
}

#[test]
fn without_an_lsn_reservation_new_ids_still_avoid_every_old_one() {
    // Folders older still had no LSN reservation either: the floor is then the
    // recovered log's next LSN, just above the deleted stream's uid whose chunks remain.
    let dir = old_folder(&["lsn.reserve"]);
    let log = open(dir.path());
    assert_old_records(&log);
    let new = create(&log, "new");
    assert!(ids(&new).iter().all(|id| *id > OLD_LAST_LSN), "{:?}", ids(&new));
    for shard in &new.shards {
        assert!(read_from(&log, shard.uid, StartPosition::TrimHorizon).is_empty());
        let lsn = append(&log, shard.uid, "n");
        assert_eq!(read_from(&log, shard.uid, StartPosition::TrimHorizon), ["n"]);
        assert!(lsn > OLD_LAST_LSN);
    }
}
