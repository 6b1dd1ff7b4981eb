//! Crash test: a child process appends to a real on-disk log from several threads and
//! prints every acknowledgement; the parent kills it with SIGKILL at a random moment,
//! reopens the log and checks that every acknowledged record is there exactly once, in
//! order. Repeated `RHEO_CRASH_KILLS` times (50 by default) on the same data folder, so
//! recovery also runs on logs that earlier recoveries cut. Half the shards belong to an
//! encrypted stream, so frames mix sealed and clear chunks.
//!
//! The child is this same test binary, re-executed with `RHEO_CRASH_CHILD_DIR` set.
//!
//! A second variant tiers the log to a folder archive (`FsArchive`) with a local budget
//! of two segments, so kills also land during uploads, records and evictions, and the
//! reads after each restart go to the archive for most segments.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use rheo_storage::{
    AppendRecord, ArchiveConfig, FsArchive, KeyProvider, LogConfig, MemKeys, NewStream, ShardLog, StartPosition, StdFs,
    StreamProps, SystemClock,
};

const CHILD_ENV: &str = "RHEO_CRASH_CHILD_DIR";
const RUN_ENV: &str = "RHEO_CRASH_RUN";
/// Set (to anything) when the child tiers its log to an archive.
const ARCHIVE_ENV: &str = "RHEO_CRASH_ARCHIVE";
const SEGMENT_BYTES: u64 = 256 * 1024;
const STREAM: &str = "crash";
const SEALED_STREAM: &str = "crash-sealed";
const KEY: u32 = 1;
const SHARDS: u128 = 4;
const WRITERS: usize = 4;

fn open(dir: &Path, archived: bool) -> ShardLog {
    // Small segments so that kills also land during segment rolls.
    let keys = MemKeys::default();
    keys.rotate(KEY, [0x33; 32]);
    let archive = archived.then(|| {
        std::fs::create_dir_all(dir.join("archive")).expect("archive folder");
        let store = FsArchive::open(Arc::new(StdFs), dir.join("archive")).expect("archive folder opens");
        ArchiveConfig {
            store: Arc::new(store),
            log_name: "streams".into(),
            local_retention_bytes: Some(2 * SEGMENT_BYTES),
            local_retention_ms: None,
            local_hard_limit_bytes: None,
            cache_bytes: 4 * 1024 * 1024,
            read_ahead_blocks: 1,
        }
    });
    let config = LogConfig {
        segment_bytes_max: SEGMENT_BYTES,
        keys: Some(Arc::new(keys) as Arc<dyn KeyProvider>),
        archive,
        ..LogConfig::default()
    };
    ShardLog::open(Arc::new(StdFs), Arc::new(SystemClock), &dir.join("data"), config).expect("log opens")
}

fn child(dir: &Path, run: u32, archived: bool) -> ! {
    let log = Arc::new(open(dir, archived));
    let mut uids: Vec<u64> = Vec::new();
    for (name, encryption_key) in [(STREAM, None), (SEALED_STREAM, Some(KEY))] {
        let meta = match log.streams().into_iter().find(|s| s.name == name) {
            Some(meta) => meta,
            None => {
                let step = u128::MAX / SHARDS;
                let shards = (0..SHARDS)
                    .map(|i| (i * step, if i + 1 == SHARDS { u128::MAX } else { (i + 1) * step - 1 }))
                    .collect();
                log.create_stream_blocking(NewStream {
                    name: name.into(),
                    shards,
                    props: StreamProps { retention_hours: 24, encryption_key, ..Default::default() },
                })
                .expect("stream created")
            }
        };
        uids.extend(meta.shards.iter().map(|s| s.uid));
    }
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (log, uids, stdout) = (log.clone(), uids.clone(), stdout.clone());
            std::thread::spawn(move || {
                let mut rng = rand::thread_rng();
                let mut seq = 0u64;
                loop {
                    let batch: Vec<(u64, String)> = (0..rng.gen_range(1..40))
                        .map(|_| {
                            seq += 1;
                            let uid = uids[rng.gen_range(0..uids.len())];
                            let padding = "x".repeat(rng.gen_range(0..3000));
                            (uid, format!("{run}:{writer}:{seq}:{padding}"))
                        })
                        .collect();
                    let records = batch
                        .iter()
                        .map(|(uid, data)| AppendRecord {
                            shard_uid: *uid,
                            partition_key: Bytes::from_static(b"k"),
                            explicit_hash_key: None,
                            data: Bytes::copy_from_slice(data.as_bytes()),
                        })
                        .collect();
                    let results = log.append_blocking(records).expect("append succeeds");
                    let mut out = stdout.lock().expect("stdout lock");
                    for ((uid, data), result) in batch.iter().zip(results) {
                        let appended = result.expect("record accepted");
                        let id = data.rsplit_once(':').map_or("", |(id, _)| id);
                        writeln!(out, "ack {uid} {} {id}", appended.lsn).expect("stdout");
                    }
                    out.flush().expect("stdout");
                }
            })
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
    std::process::exit(0)
}

#[test]
fn acknowledged_records_survive_sigkill() {
    kill_and_check("acknowledged_records_survive_sigkill", false, 50);
}

#[test]
fn acknowledged_records_survive_sigkill_with_an_archive_and_a_tiny_local_budget() {
    kill_and_check("acknowledged_records_survive_sigkill_with_an_archive_and_a_tiny_local_budget", true, 20);
}

/// Runs the child of test `name` `RHEO_CRASH_KILLS` times (`default_kills` unless set),
/// killing it each time and checking every acknowledged record after reopening.
fn kill_and_check(name: &str, archived: bool, default_kills: u32) {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let run = std::env::var(RUN_ENV).ok().and_then(|r| r.parse().ok()).unwrap_or(0);
        child(Path::new(&dir), run, std::env::var(ARCHIVE_ENV).is_ok());
    }
    let kills: u32 = std::env::var("RHEO_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(default_kills);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // shard uid → (lsn → record id) of everything acknowledged so far.
    let mut acked: HashMap<u64, BTreeMap<u64, String>> = HashMap::new();
    let mut rng = rand::thread_rng();
    let mut total_acked = 0usize;

    for run in 0..kills {
        let mut command = Command::new(&exe);
        if archived {
            command.env(ARCHIVE_ENV, "1");
        }
        let mut child = command
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env(RUN_ENV, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<String>>());
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            let parts: Vec<&str> = line.split(' ').collect();
            // A line cut by the kill is not an acknowledgement the test may rely on.
            if parts.len() != 4 || parts[0] != "ack" || parts[3].split(':').count() != 3 {
                continue;
            }
            let (uid, lsn) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
            let previous = acked.entry(uid).or_default().insert(lsn, parts[3].to_string());
            assert!(previous.is_none(), "LSN {lsn} acknowledged twice");
            total_acked += 1;
        }

        let log = open(dir.path(), archived);
        let mut seen_ids = HashSet::new();
        for stream in log.streams() {
            for shard in &stream.shards {
                let from = log.resolve(shard.uid, StartPosition::TrimHorizon).unwrap();
                let records = log.read(shard.uid, from, usize::MAX, usize::MAX).unwrap().records;
                let mut found = BTreeMap::new();
                let mut previous_lsn = 0;
                for record in &records {
                    assert!(
                        record.lsn > previous_lsn,
                        "run {run}: LSNs out of order in shard {}: {} after {previous_lsn}; dir {:?}",
                        shard.uid,
                        record.lsn,
                        dir.path()
                    );
                    previous_lsn = record.lsn;
                    let text = std::str::from_utf8(&record.data).unwrap();
                    let id = text.rsplit_once(':').unwrap().0.to_string();
                    assert!(seen_ids.insert(id.clone()), "run {run}: record {id} stored twice");
                    found.insert(record.lsn, id);
                }
                for (lsn, id) in acked.get(&shard.uid).into_iter().flatten() {
                    assert_eq!(found.get(lsn), Some(id), "run {run}: acknowledged record {id} (LSN {lsn}) lost");
                }
            }
        }
        drop(log);
    }
    assert!(total_acked > 0, "the child never acknowledged anything");
    if archived {
        // The archive was used: some segments are there and not on the local disk.
        let log = open(dir.path(), archived);
        let archive = (0..200)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(50));
                log.stats().archive
            })
            .find(|stats| stats.remote_only_segments > 0);
        assert!(archive.is_some(), "no segment was ever evicted to the archive");
    }
    eprintln!("{kills} kills, {total_acked} acknowledged records verified");
}
