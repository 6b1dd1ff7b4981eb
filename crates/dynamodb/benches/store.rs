//! The store under KCL's load, without the wire: lease renewals as conditional jobs from
//! many tasks through the group-committing writer (durable, on the real filesystem), and
//! the item codec against parsing the same item's wire JSON.
//!
//! A renewal job reads the lease, checks its counter and owner (what KCL's `Expected`
//! checks) and writes it back with the counter plus one; the lease table has KCL's
//! `LeaseOwnerToLeaseKeyIndex` (owner hash, lease key range, keys only), so each renewal
//! also rewrites nothing in the index (owner unchanged) but reads and compares it.
//!
//! Run: `cargo bench -p rheo-dynamodb --bench store` (data goes to a temporary folder
//! under $TMPDIR).

#![allow(clippy::unwrap_used)] // bench code: a panic is the failure report

#[path = "../tests/store_common/mod.rs"]
mod store_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rheo_dynamodb::key::{KeyCondition, KeySchema, KeyType, KeyValue, PrimaryKey};
use rheo_dynamodb::store::codec::{decode_item, encode_item};
use rheo_dynamodb::store::{Store, StoreConfig, StoreLocation};
use rheo_dynamodb::table::{IndexDef, IndexStatus, Projection, TableDef};
use rheo_dynamodb::value::{AttrValue, Item, Number};
use store_common::{attr, n, table_keyed};

const LEASES: usize = 4000;
/// Renewals per measured iteration, spread over the tasks.
const RENEWALS: usize = 2048;

fn number(value: u64) -> Number {
    n(value as i64)
}

/// A whole non-negative number's value (`0.d₁d₂… × 10^e`).
fn whole(number: &Number) -> u64 {
    let mut value = 0u64;
    for position in 0..number.exponent().max(0) as usize {
        value = value * 10 + u64::from(number.digits().get(position).copied().unwrap_or(0));
    }
    value
}

fn lease_table() -> TableDef {
    let mut table = table_keyed(1, "bench-leases", KeySchema { hash: attr("leaseKey", KeyType::S), range: None });
    table.indexes.push(IndexDef {
        name: "LeaseOwnerToLeaseKeyIndex".into(),
        local: false,
        key: KeySchema { hash: attr("leaseOwner", KeyType::S), range: Some(attr("leaseKey", KeyType::S)) },
        projection: Projection::KeysOnly,
        status: IndexStatus::Active,
        provisioned: None,
        transition_ends_ms: None,
    });
    table
}

fn lease_key(lease: usize) -> String {
    format!("shardId-{lease:012}")
}

/// A lease as KCL 3 stores it.
fn lease(lease: usize, owner: &str, counter: u64) -> Item {
    let s = |text: &str| AttrValue::S(text.into());
    Item::from([
        ("leaseKey".to_string(), s(&lease_key(lease))),
        ("leaseOwner".to_string(), s(owner)),
        ("leaseCounter".to_string(), AttrValue::N(number(counter))),
        ("checkpoint".to_string(), s("49650283746728391029384756102938475610293847561029")),
        ("checkpointSubSequenceNumber".to_string(), AttrValue::N(Number::zero())),
        ("ownerSwitchesSinceCheckpoint".to_string(), AttrValue::N(number(1))),
        ("parentShardId".to_string(), AttrValue::Ss(vec!["shardId-000000000000".into()])),
        ("leaseState".to_string(), s("ACTIVE")),
        ("throughputKBps".to_string(), AttrValue::N(number(12))),
    ])
}

fn owner_of(lease: usize, workers: usize) -> String {
    format!("worker-{}", lease % workers)
}

/// Opens a durable store in `dir` holding the lease table and its leases.
fn prepare(dir: &std::path::Path, runtime: &tokio::runtime::Runtime, workers: usize) -> Arc<Store> {
    let store = Arc::new(Store::open(StoreConfig { location: StoreLocation::Dir(dir.into()), durable: true }).unwrap());
    let table = lease_table();
    runtime.block_on(async {
        let t = table.clone();
        store.write(move |txn| txn.put_table(&t)).await.unwrap().unwrap();
        for chunk in (0..LEASES).collect::<Vec<_>>().chunks(500) {
            let (t, chunk) = (table.clone(), chunk.to_vec());
            store
                .write(move |txn| {
                    for lease_number in chunk {
                        let key = PrimaryKey { hash: KeyValue::S(lease_key(lease_number)), range: None };
                        txn.put(&t, &key, lease(lease_number, &owner_of(lease_number, workers), 0))?;
                    }
                    Ok::<_, rheo_dynamodb::store::StoreError>(())
                })
                .await
                .unwrap()
                .unwrap();
        }
    });
    store
}

/// One renewal: the job KCL's UpdateItem with `Expected {leaseCounter, leaseOwner}` and
/// `AttributeUpdates {leaseCounter: ADD 1}` becomes.
async fn renew(store: &Store, table: &TableDef, lease_number: usize, owner: String) -> bool {
    let table = table.clone();
    store
        .write(move |txn| {
            let key = PrimaryKey { hash: KeyValue::S(lease_key(lease_number)), range: None };
            let Some(mut item) = txn.get(&table, &key)? else { return Ok(false) };
            if item.get("leaseOwner") != Some(&AttrValue::S(owner)) {
                return Ok(false);
            }
            let counter = match item.get("leaseCounter") {
                Some(AttrValue::N(counter)) => whole(counter),
                _ => return Ok(false),
            };
            item.insert("leaseCounter".into(), AttrValue::N(number(counter + 1)));
            txn.put(&table, &key, item)?;
            Ok::<_, rheo_dynamodb::store::StoreError>(true)
        })
        .await
        .unwrap()
        .unwrap()
}

fn renewals(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("lease_renewals_durable");
    group.throughput(Throughput::Elements(RENEWALS as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for tasks in [1usize, 8, 64] {
        let dir = tempfile::tempdir().unwrap();
        let workers = 8;
        let store = prepare(dir.path(), &runtime, workers);
        let table = lease_table();
        group.bench_with_input(BenchmarkId::from_parameter(format!("{tasks}_tasks")), &tasks, |b, &tasks| {
            b.iter_custom(|iterations| {
                let started = Instant::now();
                for iteration in 0..iterations {
                    runtime.block_on(async {
                        let handles: Vec<_> = (0..tasks)
                            .map(|task| {
                                let (store, table) = (store.clone(), table.clone());
                                tokio::spawn(async move {
                                    let mut renewed = 0;
                                    for step in (task..RENEWALS).step_by(tasks) {
                                        let lease_number = (step * 7 + iteration as usize * 13) % LEASES;
                                        let owner = owner_of(lease_number, workers);
                                        renewed += usize::from(renew(&store, &table, lease_number, owner).await);
                                    }
                                    renewed
                                })
                            })
                            .collect();
                        let mut renewed = 0;
                        for handle in handles {
                            renewed += handle.await.unwrap();
                        }
                        assert_eq!(renewed, RENEWALS, "every renewal's condition holds");
                    });
                }
                started.elapsed()
            })
        });
        drop(store);
    }
    group.finish();
}

/// The stored item as serde JSON of its wire form would be (the alternative to the codec).
fn json_encode(item: &Item) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        item.iter().map(|(name, value)| (name.clone(), value.to_json())).collect();
    serde_json::Value::Object(map).to_string()
}

fn json_decode(text: &str) -> Item {
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap();
    json.iter().map(|(name, value)| (name.clone(), AttrValue::from_json(value).unwrap())).collect()
}

fn codec(c: &mut Criterion) {
    let item = lease(42, "worker-3", 123_456);
    let stored = encode_item(&item);
    let json = json_encode(&item);
    assert_eq!(json_decode(&json), item);
    let mut group = c.benchmark_group("lease_item");
    group.bench_function(format!("codec_encode_{}B", stored.len()), |b| b.iter(|| encode_item(&item)));
    group.bench_function(format!("codec_decode_{}B", stored.len()), |b| b.iter(|| decode_item(&stored).unwrap()));
    group.bench_function(format!("wire_json_encode_{}B", json.len()), |b| b.iter(|| json_encode(&item)));
    group.bench_function(format!("wire_json_decode_{}B", json.len()), |b| b.iter(|| json_decode(&json)));
    group.finish();
}

/// What KCL reads: the whole lease table (its lease taker scans it every failover
/// interval) and one worker's leases through the owner index.
fn reads(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workers = 8;
    let store = prepare(dir.path(), &runtime, workers);
    let table = lease_table();
    let index = table.indexes[0].clone();
    let mut group = c.benchmark_group("lease_reads");
    group.throughput(Throughput::Elements(LEASES as u64));
    group.bench_function(format!("scan_{LEASES}_leases"), |b| {
        b.iter(|| {
            let read = store.read().unwrap();
            assert_eq!(read.scan(&table, None, None, None).unwrap().count(), LEASES);
        })
    });
    group.throughput(Throughput::Elements((LEASES / workers) as u64));
    group.bench_function(format!("query_owner_index_{}_leases", LEASES / workers), |b| {
        let condition = KeyCondition { hash: KeyValue::S(owner_of(3, workers)), range: None };
        b.iter(|| {
            let read = store.read().unwrap();
            assert_eq!(read.query(&table, Some(&index), &condition, true, None).unwrap().count(), LEASES / workers);
        })
    });
    group.finish();
}

criterion_group!(benches, renewals, codec, reads);
criterion_main!(benches);
