//! Model-based test: random sequences of appends, reads, time steps, retention passes,
//! clean reopens, crashes, and switching the stream's encryption key (on, off, to
//! another key, rotated) run against the real log (on the in-memory filesystem) and
//! against a plain in-memory model; every read must agree with the model, and no file
//! may hold a record written while the stream was encrypted.

use super::*;
use crate::archive::{ArchiveConfig, MemArchive};
use crate::cipher::MemKeys;
use proptest::prelude::*;

const SHARDS: usize = 3;
const RETENTION_HOURS: u64 = 24;
/// Keys 1 to this exist in the key store.
const KEYS: u32 = 2;

#[derive(Debug, Clone)]
enum Op {
    Append {
        shard: usize,
        sizes: Vec<usize>,
    },
    /// One batch spread over several shards, as PutRecords sends it.
    AppendSpread {
        records: Vec<(usize, usize)>,
    },
    ReadFromStart {
        shard: usize,
        limit: usize,
    },
    ReadFrom {
        shard: usize,
        pick: usize,
        after: bool,
        limit: usize,
    },
    ReadAtTimestamp {
        shard: usize,
        pick: usize,
    },
    AdvanceHours(u64),
    AdvanceMs(u64),
    EnforceRetention,
    Reopen,
    Crash {
        keep: usize,
        garbage: usize,
    },
    /// Seal the stream's new records with this key (or stop sealing them).
    SetEncryption(Option<u32>),
    /// A new version of this key seals from now on.
    RotateKey(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..SHARDS, proptest::collection::vec(0usize..300, 1..6)).prop_map(|(shard, sizes)| Op::Append { shard, sizes }),
        4 => proptest::collection::vec((0..SHARDS, 0usize..300), 1..8).prop_map(|records| Op::AppendSpread { records }),
        2 => (0..SHARDS, 1usize..50).prop_map(|(shard, limit)| Op::ReadFromStart { shard, limit }),
        2 => (0..SHARDS, any::<usize>(), any::<bool>(), 1usize..20).prop_map(|(shard, pick, after, limit)| Op::ReadFrom { shard, pick, after, limit }),
        1 => (0..SHARDS, any::<usize>()).prop_map(|(shard, pick)| Op::ReadAtTimestamp { shard, pick }),
        1 => (0u64..30).prop_map(Op::AdvanceHours),
        2 => (0u64..5000).prop_map(Op::AdvanceMs),
        1 => Just(Op::EnforceRetention),
        1 => Just(Op::Reopen),
        1 => (0usize..64, 0usize..64).prop_map(|(keep, garbage)| Op::Crash { keep, garbage }),
        2 => proptest::option::of(1u32..=KEYS).prop_map(Op::SetEncryption),
        1 => (1u32..=KEYS).prop_map(Op::RotateKey),
    ]
}

#[derive(Debug, Clone)]
struct ModelRecord {
    lsn: u64,
    arrival_ms: u64,
    data: Vec<u8>,
}

struct Model {
    shards: Vec<Vec<ModelRecord>>,
}

impl Model {
    fn visible(&self, shard: usize, now_ms: u64) -> Vec<&ModelRecord> {
        let from = now_ms.saturating_sub(RETENTION_HOURS * crate::limits::HOUR_MS);
        self.shards[shard].iter().filter(|r| r.arrival_ms >= from).collect()
    }
}

fn config(keys: &Arc<MemKeys>, archive: Option<&Arc<MemArchive>>) -> LogConfig {
    LogConfig {
        segment_bytes_max: 2048,
        segment_age_ms_max: 3 * crate::limits::HOUR_MS,
        retention_check_ms: u64::MAX / 4,
        keys: Some(keys.clone() as Arc<dyn crate::cipher::KeyProvider>),
        // A budget below one segment: every archived segment leaves the disk as soon as it
        // can, so reads go to the archive while the archiver works beside them.
        archive: archive.map(|store| ArchiveConfig {
            store: store.clone(),
            log_name: "streams".into(),
            local_retention_bytes: Some(1_024),
            local_retention_ms: None,
            local_hard_limit_bytes: None,
            cache_bytes: 1 << 20,
            read_ahead_blocks: 0,
        }),
        ..LogConfig::default()
    }
}

fn run(ops: Vec<Op>, archive: Option<Arc<MemArchive>>) -> std::result::Result<(), TestCaseError> {
    let config = |keys: &Arc<MemKeys>| config(keys, archive.as_ref());
    let fs = MemFs::new();
    let clock = ManualClock::new(T0);
    let keys = Arc::new(MemKeys::default());
    for key in 1..=KEYS {
        keys.rotate(key, [key as u8; 32]);
    }
    let mut log = open(&fs, &clock, config(&keys)).unwrap();
    let ranges = (0..SHARDS as u128).map(|i| (i * 10, i * 10 + 9)).collect();
    let meta = log
        .create_stream_blocking(NewStream {
            name: "model".into(),
            shards: ranges,
            props: StreamProps { retention_hours: RETENTION_HOURS as u32, ..Default::default() },
        })
        .unwrap();
    let uids: Vec<u64> = meta.shards.iter().map(|s| s.uid).collect();
    let mut model = Model { shards: vec![Vec::new(); SHARDS] };
    let mut counter = 0u32;
    let mut encrypted = false;
    // Payloads written sealed, long enough that finding one on disk is no coincidence.
    let mut sealed_payloads: Vec<Vec<u8>> = Vec::new();

    for op in ops {
        let op = match op {
            // A single-shard batch is a spread batch with one target.
            Op::Append { shard, sizes } => {
                Op::AppendSpread { records: sizes.into_iter().map(|size| (shard, size)).collect() }
            }
            other => other,
        };
        match op {
            Op::Append { .. } => unreachable!("rewritten above"),
            Op::AppendSpread { records: spread } => {
                let records: Vec<AppendRecord> = spread
                    .iter()
                    .map(|&(shard, size)| {
                        counter += 1;
                        let mut data = counter.to_le_bytes().to_vec();
                        data.resize(4 + size, (counter % 251) as u8);
                        AppendRecord {
                            shard_uid: uids[shard],
                            partition_key: Bytes::from_static(b"k"),
                            explicit_hash_key: None,
                            data: Bytes::from(data),
                        }
                    })
                    .collect();
                let datas: Vec<Vec<u8>> = records.iter().map(|r| r.data.to_vec()).collect();
                if encrypted {
                    sealed_payloads.extend(datas.iter().filter(|d| d.len() >= 16).cloned());
                }
                let results = log.append_blocking(records).unwrap();
                for ((result, data), &(shard, _)) in results.into_iter().zip(datas).zip(&spread) {
                    let appended = result.unwrap();
                    if let Some(previous) = model.shards[shard].last() {
                        prop_assert!(appended.lsn > previous.lsn);
                        prop_assert!(appended.arrival_ms >= previous.arrival_ms);
                    }
                    model.shards[shard].push(ModelRecord { lsn: appended.lsn, arrival_ms: appended.arrival_ms, data });
                }
            }
            Op::ReadFromStart { shard, limit } => {
                let from = log.resolve(uids[shard], StartPosition::TrimHorizon).unwrap();
                let batch = log.read(uids[shard], from, limit, usize::MAX).unwrap();
                let expected: Vec<&ModelRecord> =
                    model.visible(shard, clock.now_ms()).into_iter().take(limit).collect();
                prop_assert_eq!(batch.records.len(), expected.len());
                for (got, want) in batch.records.iter().zip(&expected) {
                    prop_assert_eq!(got.lsn, want.lsn);
                    prop_assert_eq!(got.arrival_ms, want.arrival_ms);
                    prop_assert_eq!(&got.data[..], &want.data[..]);
                }
            }
            Op::ReadFrom { shard, pick, after, limit } => {
                let all = &model.shards[shard];
                if all.is_empty() {
                    continue;
                }
                let chosen = &all[pick % all.len()];
                let start = if after { StartPosition::AfterLsn(chosen.lsn) } else { StartPosition::AtLsn(chosen.lsn) };
                let from = log.resolve(uids[shard], start).unwrap();
                let batch = log.read(uids[shard], from, limit, usize::MAX).unwrap();
                let expected: Vec<u64> = model
                    .visible(shard, clock.now_ms())
                    .into_iter()
                    .filter(|r| if after { r.lsn > chosen.lsn } else { r.lsn >= chosen.lsn })
                    .take(limit)
                    .map(|r| r.lsn)
                    .collect();
                let got: Vec<u64> = batch.records.iter().map(|r| r.lsn).collect();
                prop_assert_eq!(got, expected);
            }
            Op::ReadAtTimestamp { shard, pick } => {
                let all = &model.shards[shard];
                if all.is_empty() {
                    continue;
                }
                let ts = all[pick % all.len()].arrival_ms;
                let from = log.resolve(uids[shard], StartPosition::AtTimestamp(ts)).unwrap();
                let batch = log.read(uids[shard], from, 1, usize::MAX).unwrap();
                let expected =
                    model.visible(shard, clock.now_ms()).into_iter().find(|r| r.arrival_ms >= ts).map(|r| r.lsn);
                prop_assert_eq!(batch.records.first().map(|r| r.lsn), expected);
            }
            Op::AdvanceHours(hours) => clock.advance_ms(hours * crate::limits::HOUR_MS),
            Op::AdvanceMs(ms) => clock.advance_ms(ms),
            Op::EnforceRetention => {
                log.enforce_retention_blocking().unwrap();
            }
            Op::Reopen => {
                drop(log);
                log = open(&fs, &clock, config(&keys)).unwrap();
            }
            Op::Crash { keep, garbage } => {
                drop(log);
                fs.crash(Tear::Partial { keep, garbage });
                log = open(&fs, &clock, config(&keys)).unwrap();
            }
            Op::SetEncryption(key) => {
                log.update_stream_blocking(meta.stream_id, move |txn| {
                    txn.props_mut().encryption_key = key;
                    Ok(())
                })
                .unwrap();
                encrypted = key.is_some();
            }
            Op::RotateKey(key) => {
                counter += 1;
                keys.rotate(key, [counter as u8; 32]);
            }
        }
    }
    if archive.is_some() {
        // Every sealed segment ends up only in the archive, so the final reads go there.
        let all_remote = || {
            let stats = log.stats();
            stats.archive.remote_only_segments + 1 == stats.segments
        };
        prop_assert!(within(Duration::from_secs(30), all_remote));
    }
    // Finally every visible acknowledged record is there, exactly once, in order.
    drop(log);
    fs.crash(Tear::DropUnsynced);
    let log = open(&fs, &clock, config(&keys)).unwrap();
    for (shard, uid) in uids.iter().copied().enumerate() {
        let from = log.resolve(uid, StartPosition::TrimHorizon).unwrap();
        let got: Vec<u64> =
            log.read(uid, from, usize::MAX, usize::MAX).unwrap().records.iter().map(|r| r.lsn).collect();
        let expected: Vec<u64> = model.visible(shard, clock.now_ms()).iter().map(|r| r.lsn).collect();
        prop_assert_eq!(got, expected);
    }
    drop(log);
    let mut files: Vec<(String, Vec<u8>)> = fs
        .list_dir(Path::new("/data/log"))
        .unwrap()
        .into_iter()
        .map(|name| (name.clone(), fs.read_all(&join(Path::new("/data/log"), &name)).unwrap()))
        .collect();
    if let Some(store) = &archive {
        files.extend(store.keys().into_iter().map(|key| (key.clone(), store.object(&key).unwrap().to_vec())));
    }
    for (name, bytes) in files {
        for payload in &sealed_payloads {
            prop_assert!(!bytes.windows(payload.len()).any(|w| w == &payload[..]), "a sealed payload in {}", name);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn log_matches_model(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops, None)?;
    }
}

proptest! {
    // Fewer cases: the archive adds threads, not new operations.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn log_with_an_archive_and_a_tiny_local_budget_matches_model(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops, Some(Arc::new(MemArchive::new())))?;
    }
}
