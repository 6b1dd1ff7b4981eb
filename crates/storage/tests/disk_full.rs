//! Disk full on a real filesystem: a small tmpfs is filled until appends fail with
//! `DiskFull`; every acknowledged record must still be readable (also after reopening),
//! and appends must succeed again once space is freed.
//!
//! Mounting needs root (CI runs as root). Elsewhere set RHEO_SKIP_MOUNT_TESTS=1.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use rheo_storage::{
    AppendRecord, LogConfig, NewStream, ShardLog, StartPosition, StdFs, StorageError, StreamProps, SystemClock,
};

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    let status = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(dir).status();
    match status {
        Ok(status) if status.success() => Some(Mount(dir.to_path_buf())),
        _ => None,
    }
}

fn open(dir: &Path) -> ShardLog {
    let config = LogConfig { segment_bytes_max: 1024 * 1024, ..LogConfig::default() };
    ShardLog::open(Arc::new(StdFs), Arc::new(SystemClock), dir, config).expect("open")
}

fn read_all(log: &ShardLog, uid: u64) -> Vec<Bytes> {
    let from = log.resolve(uid, StartPosition::TrimHorizon).unwrap();
    log.read(uid, from, usize::MAX, usize::MAX).unwrap().records.into_iter().map(|r| r.data).collect()
}

#[test]
fn appends_fail_cleanly_when_the_disk_is_full_and_resume_when_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = mount_tmpfs(dir.path(), "6m") else {
        if std::env::var_os("RHEO_SKIP_MOUNT_TESTS").is_some() {
            eprintln!("skipped: cannot mount tmpfs");
            return;
        }
        panic!("cannot mount a tmpfs (needs root); set RHEO_SKIP_MOUNT_TESTS=1 to skip");
    };
    let ballast = dir.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; 2 * 1024 * 1024]).unwrap();
    let data_dir = dir.path().join("data");

    let log = open(&data_dir);
    let meta = log
        .create_stream_blocking(NewStream {
            name: "full".into(),
            shards: vec![(0, u128::MAX)],
            props: StreamProps { retention_hours: 24, ..Default::default() },
        })
        .unwrap();
    let uid = meta.shards[0].uid;
    let record = |i: u32| AppendRecord {
        shard_uid: uid,
        partition_key: Bytes::from(format!("k{i}")),
        explicit_hash_key: None,
        data: Bytes::from(vec![(i % 251) as u8; 64 * 1024]),
    };

    let mut acknowledged = Vec::new();
    let mut full = None;
    for i in 0..1000 {
        match log.append_blocking(vec![record(i)]) {
            Ok(results) => {
                results[0].as_ref().unwrap();
                acknowledged.push(record(i).data);
            }
            Err(error) => {
                full = Some(error);
                break;
            }
        }
    }
    let error = full.expect("the disk filled up");
    assert!(matches!(error, StorageError::DiskFull { .. }), "{error}");
    assert!(error.to_string().contains("disk full"));
    assert!(acknowledged.len() > 10);
    assert_eq!(read_all(&log, uid), acknowledged);
    // Still full: still refused, nothing lost.
    assert!(matches!(log.append_blocking(vec![record(5000)]), Err(StorageError::DiskFull { .. })));

    std::fs::remove_file(&ballast).unwrap();
    log.append_blocking(vec![record(6000)]).unwrap()[0].as_ref().unwrap();
    acknowledged.push(record(6000).data);
    assert_eq!(read_all(&log, uid), acknowledged);
    drop(log);

    let log = open(&data_dir);
    assert_eq!(read_all(&log, uid), acknowledged);
}
