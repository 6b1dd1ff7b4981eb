//! Model-based test: random puts, deletes, discarded jobs, reopens, queries (table and
//! index, both directions, every sort-key condition, with start keys) and segmented scans
//! against a `BTreeMap` model.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod store_common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use rheo_dynamodb::key::{KeyCondition, KeyType, KeyValue, RangeCondition};
use rheo_dynamodb::store::{segment_of, Segment, Store, StoreError};
use rheo_dynamodb::table::{Projection, TableDef};
use rheo_dynamodb::value::{AttrValue, Item};
use store_common::*;

// No empty partition key: DynamoDB refuses empty key values, and indexes leave them out.
const PARTITIONS: [&str; 4] = ["a", "a\u{0}", "b", "\u{1}"];
const OWNERS: [&str; 3] = ["w1", "w2", "w\u{0}"];

#[derive(Clone, Debug)]
enum Op {
    Put {
        pk: usize,
        sk: i64,
        owner: Option<usize>,
        payload: String,
    },
    Delete {
        pk: usize,
        sk: i64,
    },
    /// A job that puts and deletes, then fails: nothing of it may stay.
    Failing {
        pk: usize,
        sk: i64,
    },
    Reopen,
    Query {
        pk: usize,
        condition: Cond,
        forward: bool,
        after: Option<i64>,
    },
    QueryIndex {
        owner: usize,
        forward: bool,
    },
    Scan {
        total: u32,
    },
}

#[derive(Clone, Debug)]
enum Cond {
    All,
    Eq(i64),
    Lt(i64),
    Le(i64),
    Gt(i64),
    Ge(i64),
    Between(i64, i64),
}

fn sort_key() -> impl Strategy<Value = i64> {
    prop_oneof![-3i64..=3, Just(-1000), Just(1000), Just(120), Just(12)]
}

fn op() -> impl Strategy<Value = Op> {
    let cond = prop_oneof![
        Just(Cond::All),
        sort_key().prop_map(Cond::Eq),
        sort_key().prop_map(Cond::Lt),
        sort_key().prop_map(Cond::Le),
        sort_key().prop_map(Cond::Gt),
        sort_key().prop_map(Cond::Ge),
        (sort_key(), sort_key()).prop_map(|(a, b)| Cond::Between(a.min(b), a.max(b))),
    ];
    prop_oneof![
        6 => (0..PARTITIONS.len(), sort_key(), proptest::option::of(0..OWNERS.len()), "[a-z]{0,5}")
            .prop_map(|(pk, sk, owner, payload)| Op::Put { pk, sk, owner, payload }),
        3 => (0..PARTITIONS.len(), sort_key()).prop_map(|(pk, sk)| Op::Delete { pk, sk }),
        1 => (0..PARTITIONS.len(), sort_key()).prop_map(|(pk, sk)| Op::Failing { pk, sk }),
        1 => Just(Op::Reopen),
        3 => (0..PARTITIONS.len(), cond, any::<bool>(), proptest::option::of(sort_key()))
            .prop_map(|(pk, condition, forward, after)| Op::Query { pk, condition, forward, after }),
        2 => (0..OWNERS.len(), any::<bool>()).prop_map(|(owner, forward)| Op::QueryIndex { owner, forward }),
        1 => (1u32..4).prop_map(|total| Op::Scan { total }),
    ]
}

fn make_item(pk: &str, sk: i64, owner: Option<&str>, payload: &str) -> Item {
    let mut item = item(&[("pk", s(pk)), ("sk", AttrValue::N(n(sk))), ("payload", s(payload))]);
    if let Some(owner) = owner {
        item.insert("owner".into(), s(owner));
    }
    item
}

fn key_of(item: &Item) -> (String, i64) {
    let pk = match item.get("pk") {
        Some(AttrValue::S(pk)) => pk.clone(),
        other => panic!("{other:?}"),
    };
    let sk = match item.get("sk") {
        Some(AttrValue::N(number)) => (-1000..=1000).find(|value| n(*value) == *number).unwrap(),
        other => panic!("{other:?}"),
    };
    (pk, sk)
}

fn run(ops: Vec<Op>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let mut table: TableDef = table(1, "model", Some(KeyType::N));
        table.indexes.push(owner_index(Projection::KeysOnly));
        let index = table.indexes[0].clone();
        let mut store: Store = on_disk_relaxed(dir.path());
        create(&store, &table).await;
        // (pk, sk) → item.
        let mut model: BTreeMap<(String, i64), Item> = BTreeMap::new();

        for op in ops {
            match op {
                Op::Put { pk, sk, owner, payload } => {
                    let item = make_item(PARTITIONS[pk], sk, owner.map(|o| OWNERS[o]), &payload);
                    let t = table.clone();
                    let stored = item.clone();
                    write(&store, move |txn| txn.put(&t, &key_sn(PARTITIONS[pk], sk), stored)).await;
                    model.insert((PARTITIONS[pk].to_string(), sk), item);
                }
                Op::Delete { pk, sk } => {
                    let t = table.clone();
                    write(&store, move |txn| txn.delete(&t, &key_sn(PARTITIONS[pk], sk))).await;
                    model.remove(&(PARTITIONS[pk].to_string(), sk));
                }
                Op::Failing { pk, sk } => {
                    let t = table.clone();
                    let outcome = store
                        .write(move |txn| {
                            txn.put(&t, &key_sn(PARTITIONS[pk], sk), make_item(PARTITIONS[pk], sk, Some("w1"), "x"))?;
                            txn.delete(&t, &key_sn(PARTITIONS[pk], sk + 1))?;
                            Err::<(), _>(StoreError::Closed)
                        })
                        .await
                        .unwrap();
                    assert!(outcome.is_err());
                }
                Op::Reopen => {
                    drop(store);
                    store = on_disk_relaxed(dir.path());
                }
                Op::Query { pk, condition, forward, after } => {
                    let partition = PARTITIONS[pk];
                    let number = |v: i64| KeyValue::N(n(v));
                    let (range, accepts): (Option<RangeCondition>, Box<dyn Fn(i64) -> bool>) = match condition {
                        Cond::All => (None, Box::new(|_| true)),
                        Cond::Eq(v) => (Some(RangeCondition::Eq(number(v))), Box::new(move |k| k == v)),
                        Cond::Lt(v) => (Some(RangeCondition::Lt(number(v))), Box::new(move |k| k < v)),
                        Cond::Le(v) => (Some(RangeCondition::Le(number(v))), Box::new(move |k| k <= v)),
                        Cond::Gt(v) => (Some(RangeCondition::Gt(number(v))), Box::new(move |k| k > v)),
                        Cond::Ge(v) => (Some(RangeCondition::Ge(number(v))), Box::new(move |k| k >= v)),
                        Cond::Between(a, b) => {
                            (Some(RangeCondition::Between(number(a), number(b))), Box::new(move |k| a <= k && k <= b))
                        }
                    };
                    let start = after.map(|sk| make_item(partition, sk, None, ""));
                    let condition = KeyCondition { hash: KeyValue::S(partition.into()), range };
                    let read = store.read().unwrap();
                    let found: Vec<Item> = read
                        .query(&table, None, &condition, forward, start.as_ref())
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    let mut expected: Vec<Item> = model
                        .iter()
                        .filter(|((pk, sk), _)| pk == partition && accepts(*sk))
                        .filter(|((_, sk), _)| after.is_none_or(|a| if forward { *sk > a } else { *sk < a }))
                        .map(|(_, item)| item.clone())
                        .collect();
                    if !forward {
                        expected.reverse();
                    }
                    assert_eq!(found, expected);
                }
                Op::QueryIndex { owner, forward } => {
                    let condition = KeyCondition { hash: KeyValue::S(OWNERS[owner].into()), range: None };
                    let read = store.read().unwrap();
                    let found: Vec<(String, i64)> = read
                        .query(&table, Some(&index), &condition, forward, None)
                        .unwrap()
                        .map(|item| key_of(&item.unwrap()))
                        .collect();
                    let mut expected: Vec<(String, i64)> = model
                        .iter()
                        .filter(|(_, item)| item.get("owner") == Some(&s(OWNERS[owner])))
                        .map(|(key, _)| key.clone())
                        .collect();
                    if !forward {
                        expected.reverse();
                    }
                    assert_eq!(found, expected);
                }
                Op::Scan { total } => {
                    let read = store.read().unwrap();
                    for segment in 0..total {
                        let found: Vec<Item> = read
                            .scan(&table, None, None, Some(Segment { segment, total }))
                            .unwrap()
                            .map(Result::unwrap)
                            .collect();
                        let expected: Vec<Item> = model
                            .iter()
                            .filter(|((pk, _), _)| segment_of(&KeyValue::S(pk.clone()), total) == segment)
                            .map(|(_, item)| item.clone())
                            .collect();
                        // Table order: partition keys by their bytes, then sort keys.
                        assert_eq!(found, expected);
                    }
                }
            }
            let read = store.read().unwrap();
            assert_eq!(read.table_stats(&table).unwrap().0, model.len() as u64);
            let owned = model.values().filter(|item| item.contains_key("owner")).count();
            assert_eq!(read.index_stats(&table, &index).unwrap().0, owned as u64);
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_a_btreemap_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}
