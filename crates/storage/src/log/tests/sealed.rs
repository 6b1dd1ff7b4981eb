//! Sealed chunks through the whole log: appends to encrypted streams, reads, reopen,
//! recovery and the scrub without keys, a wrong or missing key, rotation and switching
//! encryption off, and what the files on disk hold.

use super::*;
use crate::cipher::{KeyProvider, KeyRef, MemKeys, RandomError, RandomSource};

const KEY: u32 = 4;

fn keys() -> Arc<MemKeys> {
    let keys = Arc::new(MemKeys::default());
    keys.rotate(KEY, [0x5A; 32]);
    keys
}

fn with_keys(keys: &Arc<MemKeys>, config: LogConfig) -> LogConfig {
    LogConfig { keys: Some(keys.clone() as Arc<dyn KeyProvider>), ..config }
}

fn encrypted_stream(log: &ShardLog, name: &str, key: u32) -> Arc<StreamMeta> {
    log.create_stream_blocking(NewStream {
        name: name.into(),
        shards: vec![(0, u128::MAX)],
        props: StreamProps { retention_hours: 24, encryption_key: Some(key), ..Default::default() },
    })
    .unwrap()
}

fn set_key(log: &ShardLog, stream_id: u64, key: Option<u32>) {
    log.update_stream_blocking(stream_id, move |txn| {
        txn.props_mut().encryption_key = key;
        Ok(())
    })
    .unwrap();
}

/// Every file under the data folder, with its bytes.
fn all_files(fs: &MemFs) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in ["/data", "/data/log", "/data/meta"] {
        for name in fs.list_dir(Path::new(dir)).unwrap() {
            let path = join(Path::new(dir), &name);
            if let Ok(bytes) = fs.read_all(&path) {
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    files
}

fn holds(files: &[(String, Vec<u8>)], needle: &[u8]) -> Vec<String> {
    files.iter().filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle)).map(|(p, _)| p.clone()).collect()
}

#[test]
fn sealed_chunks_are_read_back_and_survive_reopen() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let keys = keys();
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    let uid = encrypted_stream(&log, "s", KEY).shards[0].uid;
    let expected: Vec<String> = (0..60).map(|i| format!("record {i:080}")).collect();
    for chunk in expected.chunks(3) {
        let results = log.append_blocking(chunk.iter().map(|d| record(uid, d)).collect()).unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    }
    assert_eq!(read_all(&log, uid), expected);
    drop(log);
    // Several sealed segments with their index files; reopening uses them, and the scrub
    // verifies them (without decrypting) and finds nothing wrong.
    assert!(fs.list_dir(Path::new("/data/log")).unwrap().iter().filter(|n| n.ends_with(".idx")).count() >= 2);
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    assert_eq!(read_all(&log, uid), expected);
    assert!(eventually(|| log.stats().scrubbed_bytes > 0));
    assert_eq!(log.stats().damaged_chunks, 0);
    // Reads at a timestamp open the chunk that holds the answer.
    let middle = log.read(uid, 0, 30, usize::MAX).unwrap().records[29].clone();
    let at = log.resolve(uid, StartPosition::AtTimestamp(middle.arrival_ms)).unwrap();
    assert!(at <= middle.lsn);
}

#[test]
fn no_file_holds_the_plaintext_of_an_encrypted_stream() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let keys = keys();
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    let secret = encrypted_stream(&log, "secret", KEY).shards[0].uid;
    let plain = stream(&log, "plain", 1).shards[0].uid;
    let (hidden, visible) = ("the-secret-payload-0123456789", "the-clear-payload-0123456789");
    for _ in 0..40 {
        // Both in one append, so their chunks share frames.
        log.append_blocking(vec![record(secret, hidden), record(plain, visible)]).unwrap();
    }
    log.sync_blocking().unwrap();
    let files = all_files(&fs);
    assert!(holds(&files, hidden.as_bytes()).is_empty(), "plaintext in {:?}", holds(&files, hidden.as_bytes()));
    assert!(!holds(&files, visible.as_bytes()).is_empty(), "the clear stream's records are on disk as they are");
    // Nor after reopening (recovery rewrites nothing in the clear).
    drop(log);
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    assert_eq!(read_all(&log, secret).len(), 40);
    drop(log);
    assert!(holds(&all_files(&fs), hidden.as_bytes()).is_empty());
}

#[test]
fn records_keep_the_key_they_were_written_with() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let keys = keys();
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    let meta = encrypted_stream(&log, "s", KEY);
    let uid = meta.shards[0].uid;
    log.append_blocking(vec![record(uid, "under version 1")]).unwrap();
    // Rotation: the next frame seals with version 2, without a stream update.
    let second = keys.rotate(KEY, [0x77; 32]);
    log.append_blocking(vec![record(uid, "under version 2")]).unwrap();
    // Like StopStreamEncryption: new records in the clear, the old ones still open.
    set_key(&log, meta.stream_id, None);
    log.append_blocking(vec![record(uid, "in the clear")]).unwrap();
    let all = ["under version 1", "under version 2", "in the clear"];
    assert_eq!(read_all(&log, uid), all);
    drop(log);
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    assert_eq!(read_all(&log, uid), all);
    // Version 1 gone from the key store: its records fail, naming it; the rest read.
    keys.remove(KeyRef { key: KEY, version: 1 });
    let first_lsn = log.resolve(uid, StartPosition::TrimHorizon).unwrap();
    let error = log.read(uid, first_lsn, 10, usize::MAX).unwrap_err();
    let StorageError::KeyUnavailable { key, shard_uid, first_lsn: from, .. } = &error else {
        panic!("expected KeyUnavailable, got {error}");
    };
    assert_eq!((*key, *shard_uid, *from), (KeyRef { key: KEY, version: 1 }, uid, first_lsn));
    assert!(error.to_string().contains("key 4 version 1"), "{error}");
    let rest = log.read(uid, first_lsn + 1, 10, usize::MAX).unwrap();
    assert_eq!(rest.records.len(), 2);
    assert_eq!(log.stats().damaged_chunks, 0, "a missing key is not damage");
    // Back in the key store (a reload): readable again, no restart needed.
    let keys_back = MemKeys::default();
    keys_back.rotate(KEY, [0x5A; 32]);
    assert_eq!(keys_back.rotate(KEY, [0x77; 32]), second);
    drop(log);
    let log = open(&fs, &clock, with_keys(&Arc::new(keys_back), small_segments())).unwrap();
    assert_eq!(read_all(&log, uid), all);
}

#[test]
fn appends_to_a_stream_whose_key_is_missing_are_refused_whole() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let keys = keys();
    let log = open(&fs, &clock, with_keys(&keys, small_segments())).unwrap();
    let lost = encrypted_stream(&log, "lost", 9).shards[0].uid;
    let plain = stream(&log, "plain", 1).shards[0].uid;
    let error = log.append_blocking(vec![record(plain, "a"), record(lost, "b")]).unwrap_err();
    assert!(matches!(error, StorageError::EncryptionKeyUnavailable { key: 9 }), "{error}");
    assert!(error.to_string().contains("nothing was written"), "{error}");
    assert!(read_all(&log, plain).is_empty() && read_all(&log, lost).is_empty());
    // Other appends are not affected, even in the same group commit.
    log.append_blocking(vec![record(plain, "c")]).unwrap();
    assert_eq!(read_all(&log, plain), ["c"]);
    // Without any key store, an encrypted stream refuses appends the same way.
    drop(log);
    let log = open(&fs, &clock, small_segments()).unwrap();
    let error = log.append_blocking(vec![record(lost, "d")]).unwrap_err();
    assert!(matches!(error, StorageError::EncryptionKeyUnavailable { key: 9 }), "{error}");
}

#[derive(Debug)]
struct NoRandom;

impl RandomSource for NoRandom {
    fn fill(&self, _: &mut [u8]) -> std::result::Result<(), RandomError> {
        Err(RandomError("entropy source unavailable".into()))
    }
}

#[test]
fn without_randomness_nothing_is_sealed_or_written() {
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let keys = keys();
    let config = LogConfig { random: Arc::new(NoRandom), ..with_keys(&keys, small_segments()) };
    let log = open(&fs, &clock, config).unwrap();
    let uid = encrypted_stream(&log, "s", KEY).shards[0].uid;
    let plain = stream(&log, "plain", 1).shards[0].uid;
    let error = log.append_blocking(vec![record(uid, "x")]).unwrap_err();
    assert!(matches!(error, StorageError::Random(_)), "{error}");
    assert!(read_all(&log, uid).is_empty());
    // Clear streams need no randomness.
    log.append_blocking(vec![record(plain, "y")]).unwrap();
    assert_eq!(read_all(&log, plain), ["y"]);
}
