//! Append and read throughput of the shard log on the real filesystem.
//!
//! Each append iteration sends `producers` concurrent batches of 500 records of 1 KiB,
//! spread over the stream's shards, and waits for all acknowledgements; throughput is
//! in records. With one producer every batch pays its own fdatasync, which is what
//! `bench/disk-baseline.sh` measures for the bare disk (fio, 512 KiB writes with
//! fdatasync); with eight, group commit shares syncs.
//!
//! `sealing` compares a clear stream with an encrypted one (sealed chunks, AES-256-GCM),
//! appending and reading, in the relaxed mode so that fsync does not hide the cipher's cost.
//!
//! Run: `cargo bench -p rheo-storage --bench log` (data goes to a temporary folder
//! under $TMPDIR; several GB are written and deleted); `-- sealing` for that group only.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rheo_storage::cipher::SealingKey;
use rheo_storage::format::FrameBuilder;
use rheo_storage::{
    AppendRecord, Durability, KeyProvider, KeyRef, LogConfig, MemKeys, NewStream, ShardLog, StartPosition, StdFs,
    StreamProps, SystemClock,
};

const BATCH_RECORDS: usize = 500;
const RECORD_BYTES: usize = 1024;

/// The key encrypted streams use.
const KEY: u32 = 1;

fn open(dir: &std::path::Path, durability: Durability) -> ShardLog {
    let keys = MemKeys::default();
    keys.rotate(KEY, [0x5C; 32]);
    let config = LogConfig { durability, keys: Some(Arc::new(keys) as Arc<dyn KeyProvider>), ..LogConfig::default() };
    ShardLog::open(Arc::new(StdFs), Arc::new(SystemClock), dir, config).expect("open")
}

fn create(log: &ShardLog, shards: usize) -> Vec<u64> {
    create_stream(log, shards, None)
}

fn create_stream(log: &ShardLog, shards: usize, encryption_key: Option<u32>) -> Vec<u64> {
    let step = u128::MAX / shards as u128;
    let ranges = (0..shards)
        .map(|i| (step * i as u128, if i + 1 == shards { u128::MAX } else { step * (i as u128 + 1) - 1 }))
        .collect();
    let meta = log
        .create_stream_blocking(NewStream {
            name: "bench".into(),
            shards: ranges,
            props: StreamProps { retention_hours: 24, encryption_key, ..Default::default() },
        })
        .expect("create");
    meta.shards.iter().map(|s| s.uid).collect()
}

fn batch(uids: &[u64], seed: u64) -> Vec<AppendRecord> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let payload = Bytes::from((0..RECORD_BYTES).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    (0..BATCH_RECORDS)
        .map(|i| AppendRecord {
            shard_uid: uids[rng.gen_range(0..uids.len())],
            partition_key: Bytes::from(format!("key-{seed}-{i:08}")),
            explicit_hash_key: None,
            data: payload.clone(),
        })
        .collect()
}

/// Sends one batch per producer concurrently and waits for every acknowledgement.
fn append_all(runtime: &tokio::runtime::Runtime, log: &Arc<ShardLog>, batches: &[Vec<AppendRecord>]) {
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for records in batches {
            let (log, records) = (log.clone(), records.clone());
            tasks.spawn(async move { log.append(records).await.expect("append") });
        }
        while let Some(result) = tasks.join_next().await {
            let results = result.expect("task");
            assert!(results.iter().all(|r| r.is_ok()));
        }
    })
}

fn sealing(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mut group = c.benchmark_group("sealing");
    group.sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    const PRODUCERS: usize = 8;
    for shards in [4usize, 10_000] {
        for (mode, key) in [("clear", None), ("sealed", Some(KEY))] {
            let dir = tempfile::tempdir().expect("tempdir");
            let log = Arc::new(open(dir.path(), Durability::Relaxed { interval_ms: 1000 }));
            let uids = create_stream(&log, shards, key);
            let batches: Vec<Vec<AppendRecord>> = (0..PRODUCERS).map(|p| batch(&uids, p as u64)).collect();
            group.throughput(Throughput::Elements((BATCH_RECORDS * PRODUCERS) as u64));
            let id = BenchmarkId::new(format!("append_1KiB_x500/{shards}_shards/{PRODUCERS}_producers"), mode);
            group.bench_function(id, |b| b.iter(|| append_all(&runtime, &log, &batches)));
            if shards == 4 {
                // Enough records for the read however much the append bench ran (or was
                // filtered out): 8 × 500 × 8 spread over 4 shards, 8,000 per shard.
                for _ in 0..8 {
                    append_all(&runtime, &log, &batches);
                }
                let start = log.resolve(uids[0], StartPosition::TrimHorizon).expect("resolve");
                const LIMIT: usize = 5_000;
                group.throughput(Throughput::Elements(LIMIT as u64));
                let mut position = start;
                group.bench_function(BenchmarkId::new("read_1KiB/get_5000_records", mode), |b| {
                    b.iter(|| {
                        let batch = log.read(uids[0], position, LIMIT, 10 * 1024 * 1024 + 1).expect("read");
                        position = if batch.records.len() < LIMIT { start } else { batch.next_lsn };
                        batch.records.len()
                    })
                });
            }
            drop(log);
            drop(dir);
        }
    }
    group.finish();
}

/// The cipher's cost alone, without the log's threads and files: building one frame of
/// 500 records of 1 KiB in 4 chunks or in 500 (one record each), clear or sealed.
fn frame_sealing(c: &mut Criterion) {
    let key = SealingKey::new(KeyRef { key: KEY, version: 1 }, [0x5C; 32]);
    let payload = vec![7u8; RECORD_BYTES];
    let mut group = c.benchmark_group("sealing/frame_1KiB_x500");
    group.sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(BATCH_RECORDS as u64));
    let mut builder = FrameBuilder::default();
    for chunks in [4usize, BATCH_RECORDS] {
        for (mode, sealed) in [("clear", false), ("sealed", true)] {
            group.bench_function(BenchmarkId::new(format!("{chunks}_chunks"), mode), |b| {
                b.iter(|| {
                    builder.begin(1);
                    for chunk in 0..chunks {
                        builder.begin_chunk(chunk as u64, sealed);
                        for i in 0..BATCH_RECORDS / chunks {
                            builder.push_record(
                                1 + (chunk * BATCH_RECORDS + i) as u64,
                                1,
                                b"partition-key",
                                None,
                                &payload,
                            );
                        }
                        let salt = [chunk as u8; 16];
                        builder.end_chunk(sealed.then_some((&key, &salt))).expect("seal");
                    }
                    builder.finish().len()
                })
            });
        }
    }
    group.finish();
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mut group = c.benchmark_group("append_1KiB_x500");
    group.sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    for (mode, durability) in [("durable", Durability::Sync), ("relaxed", Durability::Relaxed { interval_ms: 1000 })] {
        for shards in [4usize, 10_000] {
            for producers in [1usize, 8] {
                let dir = tempfile::tempdir().expect("tempdir");
                let log = Arc::new(open(dir.path(), durability));
                let uids = create(&log, shards);
                let batches: Vec<Vec<AppendRecord>> = (0..producers).map(|p| batch(&uids, p as u64)).collect();
                group.throughput(Throughput::Elements((BATCH_RECORDS * producers) as u64));
                let id = BenchmarkId::new(format!("{mode}/{shards}_shards"), format!("{producers}_producers"));
                group.bench_function(id, |b| b.iter(|| append_all(&runtime, &log, &batches)));
                drop(log);
                drop(dir);
            }
        }
    }
    group.finish();
}

fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path(), Durability::Relaxed { interval_ms: 1000 });
    let uids = create(&log, 1);
    for seed in 0..200 {
        log.append_blocking(batch(&uids, seed)).expect("fill");
    }
    let start = log.resolve(uids[0], StartPosition::TrimHorizon).expect("resolve");
    let mut group = c.benchmark_group("read_1KiB");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    const LIMIT: usize = 10_000;
    group.throughput(Throughput::Elements(LIMIT as u64));
    let mut position = start;
    group.bench_function("get_10000_records", |b| {
        b.iter(|| {
            let batch = log.read(uids[0], position, LIMIT, 10 * 1024 * 1024 + 1).expect("read");
            position = if batch.records.len() < LIMIT { start } else { batch.next_lsn };
            batch.records.len()
        })
    });
    group.finish();
}

criterion_group!(benches, append, read, sealing, frame_sealing);
criterion_main!(benches);
