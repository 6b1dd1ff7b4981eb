//! The store through its public interface: items, indexes, scans, queries, discarded jobs,
//! atomic conditional jobs and reopening.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod store_common;

use std::sync::Arc;

use rheo_dynamodb::key::{KeyCondition, KeyType, KeyValue, RangeCondition};
use rheo_dynamodb::store::{segment_of, Segment, StoreError};
use rheo_dynamodb::table::Projection;
use rheo_dynamodb::value::{AttrValue, Item};
use store_common::*;

fn collect(cursor: rheo_dynamodb::store::Cursor<'_>) -> Vec<Item> {
    cursor.collect::<Result<Vec<_>, _>>().unwrap()
}

fn pks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| match (item.get("pk"), item.get("sk")) {
            (Some(AttrValue::S(pk)), Some(AttrValue::N(sk))) => format!("{pk}/{sk:?}"),
            (Some(AttrValue::S(pk)), _) => pk.clone(),
            other => panic!("no key: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn put_get_delete_and_table_definitions() {
    let store = in_memory();
    let uid = write(&store, |txn| txn.allocate_uid()).await;
    let table = table(uid, "leases", None);
    let stored = table.clone();
    write(&store, move |txn| txn.put_table(&stored)).await;
    assert_eq!(store.tables().unwrap(), vec![table.clone()]);
    assert_ne!(write(&store, |txn| txn.allocate_uid()).await, uid);

    let lease = item(&[("pk", s("shard-1")), ("owner", s("w1")), ("counter", AttrValue::N(n(7)))]);
    let (t, l) = (table.clone(), lease.clone());
    write(&store, move |txn| txn.put(&t, &key_s("shard-1"), l)).await;
    assert_eq!(store.read().unwrap().get(&table, &key_s("shard-1")).unwrap(), Some(lease.clone()));
    assert_eq!(store.read().unwrap().get(&table, &key_s("shard-2")).unwrap(), None);
    assert_eq!(store.read().unwrap().table_stats(&table).unwrap().0, 1);

    // A job sees its own changes.
    let t = table.clone();
    let seen = write(&store, move |txn| {
        txn.delete(&t, &key_s("shard-1"))?;
        txn.get(&t, &key_s("shard-1"))
    })
    .await;
    assert_eq!(seen, None);
    assert_eq!(store.read().unwrap().get(&table, &key_s("shard-1")).unwrap(), None);
    assert_eq!(store.read().unwrap().table_stats(&table).unwrap().0, 0);
}

#[tokio::test]
async fn a_job_that_fails_leaves_no_trace() {
    let store = in_memory();
    let mut table = table(1, "t", None);
    table.indexes.push(owner_index(Projection::KeysOnly));
    let t = table.clone();
    write(&store, move |txn| {
        txn.put_table(&t)?;
        txn.put(&t, &key_s("a"), item(&[("pk", s("a")), ("owner", s("w1"))]))
    })
    .await;
    let before = collect(store.read().unwrap().scan(&table, table.index("OwnerIndex"), None, None).unwrap());

    let t = table.clone();
    let outcome = store
        .write(move |txn| {
            txn.put(&t, &key_s("a"), item(&[("pk", s("a")), ("owner", s("w2"))]))?;
            txn.put(&t, &key_s("b"), item(&[("pk", s("b")), ("owner", s("w2"))]))?;
            txn.delete_table(&t)?;
            let _ = txn.allocate_uid()?;
            Err::<(), _>(StoreError::Corrupt("the job changed its mind".into()))
        })
        .await
        .unwrap();
    assert!(outcome.is_err());

    let read = store.read().unwrap();
    assert_eq!(store.tables().unwrap(), vec![table.clone()]);
    assert_eq!(
        collect(read.scan(&table, None, None, None).unwrap()),
        vec![item(&[("pk", s("a")), ("owner", s("w1"))])]
    );
    assert_eq!(collect(read.scan(&table, table.index("OwnerIndex"), None, None).unwrap()), before);
    assert_eq!(read.table_stats(&table).unwrap().0, 1);
    assert_eq!(read.index_stats(&table, &table.indexes[0]).unwrap().0, 1);
    assert_eq!(write(&store, |txn| txn.allocate_uid()).await, 1, "the discarded uid is handed out again");
}

#[tokio::test]
async fn a_panicking_job_is_discarded_and_writes_go_on() {
    let store = in_memory();
    let table = table(1, "t", None);
    let t = table.clone();
    let outcome = store
        .write(move |txn| -> Result<(), StoreError> {
            txn.put(&t, &key_s("a"), item(&[("pk", s("a"))]))?;
            panic!("a job bug");
        })
        .await;
    assert!(matches!(outcome, Err(StoreError::Database(_))));
    let t = table.clone();
    write(&store, move |txn| txn.put(&t, &key_s("b"), item(&[("pk", s("b"))]))).await;
    assert_eq!(pks(&collect(store.read().unwrap().scan(&table, None, None, None).unwrap())), vec!["b"]);
}

#[tokio::test]
async fn queries_follow_number_sort_order_both_ways_with_ranges_and_paging() {
    let store = in_memory();
    let table = table(1, "t", Some(KeyType::N));
    let values = [-1000, -12, -1, 0, 1, 5, 10, 12, 100, 1200];
    let t = table.clone();
    write(&store, move |txn| {
        for hash in ["a", "a\u{0}", "b"] {
            for value in values {
                txn.put(&t, &key_sn(hash, value), item(&[("pk", s(hash)), ("sk", AttrValue::N(n(value)))]))?;
            }
        }
        Ok(())
    })
    .await;
    let read = store.read().unwrap();
    let query = |range: Option<RangeCondition>, forward: bool, start: Option<&Item>| {
        let condition = KeyCondition { hash: KeyValue::S("a".into()), range };
        collect(read.query(&table, None, &condition, forward, start).unwrap())
            .iter()
            .map(|item| match item.get("sk") {
                Some(AttrValue::N(number)) => values[values.iter().position(|v| n(*v) == *number).unwrap()],
                other => panic!("{other:?}"),
            })
            .collect::<Vec<i64>>()
    };
    let num = |v: i64| KeyValue::N(n(v));
    assert_eq!(query(None, true, None), values.to_vec());
    assert_eq!(query(None, false, None), values.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(query(Some(RangeCondition::Lt(num(1))), true, None), vec![-1000, -12, -1, 0]);
    assert_eq!(query(Some(RangeCondition::Le(num(1))), true, None), vec![-1000, -12, -1, 0, 1]);
    assert_eq!(query(Some(RangeCondition::Gt(num(10))), true, None), vec![12, 100, 1200]);
    assert_eq!(query(Some(RangeCondition::Ge(num(10))), false, None), vec![1200, 100, 12, 10]);
    assert_eq!(query(Some(RangeCondition::Eq(num(-12))), true, None), vec![-12]);
    assert_eq!(query(Some(RangeCondition::Between(num(-5), num(10))), true, None), vec![-1, 0, 1, 5, 10]);
    assert_eq!(query(Some(RangeCondition::Between(num(10), num(-5))), true, None), Vec::<i64>::new());
    let start = item(&[("pk", s("a")), ("sk", AttrValue::N(n(5)))]);
    assert_eq!(query(None, true, Some(&start)), vec![10, 12, 100, 1200]);
    assert_eq!(query(None, false, Some(&start)), vec![1, 0, -1, -12, -1000]);
    assert_eq!(query(Some(RangeCondition::Le(num(12))), true, Some(&start)), vec![10, 12]);
    let begins = KeyCondition { hash: KeyValue::S("a".into()), range: Some(RangeCondition::BeginsWith(num(1))) };
    assert!(read.query(&table, None, &begins, true, None).is_err());
}

#[tokio::test]
async fn string_sort_keys_and_begins_with() {
    let store = in_memory();
    let table = table(1, "t", Some(KeyType::S));
    let sorts = ["", "a", "a\u{0}", "a\u{0}b", "ab", "b", "\u{e9}"];
    let t = table.clone();
    write(&store, move |txn| {
        for sort in sorts {
            let key =
                rheo_dynamodb::key::PrimaryKey { hash: KeyValue::S("p".into()), range: Some(KeyValue::S(sort.into())) };
            txn.put(&t, &key, item(&[("pk", s("p")), ("sk", s(sort))]))?;
        }
        Ok(())
    })
    .await;
    let read = store.read().unwrap();
    let query = |range| {
        let condition = KeyCondition { hash: KeyValue::S("p".into()), range: Some(range) };
        collect(read.query(&table, None, &condition, true, None).unwrap())
            .into_iter()
            .map(|item| match item.get("sk") {
                Some(AttrValue::S(text)) => text.clone(),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(query(RangeCondition::Ge(KeyValue::S("".into()))), sorts.to_vec());
    assert_eq!(query(RangeCondition::BeginsWith(KeyValue::S("a".into()))), vec!["a", "a\u{0}", "a\u{0}b", "ab"]);
    assert_eq!(query(RangeCondition::BeginsWith(KeyValue::S("a\u{0}".into()))), vec!["a\u{0}", "a\u{0}b"]);
    assert_eq!(query(RangeCondition::Gt(KeyValue::S("a\u{0}".into()))), vec!["a\u{0}b", "ab", "b", "\u{e9}"]);
}

#[tokio::test]
async fn indexes_are_sparse_projected_kept_in_step_and_backfilled() {
    let store = in_memory();
    let mut table = table(1, "leases", None);
    let t = table.clone();
    write(&store, move |txn| {
        txn.put_table(&t)?;
        txn.put(&t, &key_s("s1"), item(&[("pk", s("s1")), ("owner", s("w1")), ("counter", AttrValue::N(n(1)))]))?;
        txn.put(&t, &key_s("s2"), item(&[("pk", s("s2")), ("owner", s("w2"))]))?;
        // No owner: not in the index.
        txn.put(&t, &key_s("s3"), item(&[("pk", s("s3"))]))?;
        // An owner of another type than the index's key: not in the index either.
        txn.put(&t, &key_s("s4"), item(&[("pk", s("s4")), ("owner", AttrValue::N(n(4)))]))
    })
    .await;

    table.indexes.push(owner_index(Projection::KeysOnly));
    let t = table.clone();
    write(&store, move |txn| {
        txn.put_table(&t)?;
        txn.build_index(&t, "OwnerIndex")
    })
    .await;
    let index = table.index("OwnerIndex").unwrap().clone();
    let by_owner = |owner: &str| {
        let read = store.read().unwrap();
        let condition = KeyCondition { hash: KeyValue::S(owner.into()), range: None };
        collect(read.query(&table, Some(&index), &condition, true, None).unwrap())
    };
    assert_eq!(by_owner("w1"), vec![item(&[("pk", s("s1")), ("owner", s("w1"))])], "keys only");
    assert_eq!(store.read().unwrap().index_stats(&table, &index).unwrap().0, 2);

    // Taking a lease moves its entry; removing the owner drops it.
    let t = table.clone();
    write(&store, move |txn| {
        txn.put(&t, &key_s("s1"), item(&[("pk", s("s1")), ("owner", s("w2")), ("counter", AttrValue::N(n(2)))]))?;
        txn.put(&t, &key_s("s2"), item(&[("pk", s("s2"))]))
    })
    .await;
    assert_eq!(by_owner("w1"), Vec::<Item>::new());
    assert_eq!(pks(&by_owner("w2")), vec!["s1"]);
    assert_eq!(store.read().unwrap().index_stats(&table, &index).unwrap().0, 1);

    let t = table.clone();
    write(&store, move |txn| txn.delete(&t, &key_s("s1"))).await;
    assert_eq!(by_owner("w2"), Vec::<Item>::new());

    // Include projection holds the listed attributes beside the keys.
    let mut include = owner_index(Projection::Include(vec!["counter".into()]));
    include.name = "WithCounter".into();
    table.indexes.push(include.clone());
    let t = table.clone();
    write(&store, move |txn| {
        txn.put(
            &t,
            &key_s("s5"),
            item(&[("pk", s("s5")), ("owner", s("w5")), ("counter", AttrValue::N(n(5))), ("x", s("y"))]),
        )?;
        txn.build_index(&t, "WithCounter")
    })
    .await;
    let read = store.read().unwrap();
    assert_eq!(
        collect(read.scan(&table, Some(&include), None, None).unwrap()),
        vec![item(&[("pk", s("s5")), ("owner", s("w5")), ("counter", AttrValue::N(n(5)))])]
    );

    let t = table.clone();
    write(&store, move |txn| txn.drop_index(&t, "WithCounter")).await;
    let read = store.read().unwrap();
    assert_eq!(collect(read.scan(&table, Some(&include), None, None).unwrap()), Vec::<Item>::new());
    assert_eq!(read.index_stats(&table, &include).unwrap().0, 0);
    assert_eq!(collect(read.scan(&table, Some(&index), None, None).unwrap()).len(), 1, "other index kept");
}

#[tokio::test]
async fn delete_table_removes_only_that_table() {
    let store = in_memory();
    let mut first = table(1, "first", None);
    first.indexes.push(owner_index(Projection::All));
    let second = table(2, "second", None);
    let (a, b) = (first.clone(), second.clone());
    write(&store, move |txn| {
        for table in [&a, &b] {
            txn.put_table(table)?;
            for i in 0..20 {
                let pk = format!("k{i}");
                txn.put(table, &key_s(&pk), item(&[("pk", s(&pk)), ("owner", s("w"))]))?;
            }
        }
        Ok(())
    })
    .await;
    let a = first.clone();
    write(&store, move |txn| txn.delete_table(&a)).await;
    let read = store.read().unwrap();
    assert_eq!(store.tables().unwrap(), vec![second.clone()]);
    assert_eq!(collect(read.scan(&first, None, None, None).unwrap()).len(), 0);
    assert_eq!(collect(read.scan(&first, first.index("OwnerIndex"), None, None).unwrap()).len(), 0);
    assert_eq!(read.table_stats(&first).unwrap(), (0, 0));
    assert_eq!(collect(read.scan(&second, None, None, None).unwrap()).len(), 20);
}

#[tokio::test]
async fn scans_page_and_segments_split_without_overlap() {
    let store = in_memory();
    let table = table(1, "t", Some(KeyType::N));
    let t = table.clone();
    write(&store, move |txn| {
        for i in 0..50 {
            let pk = format!("p{}", i % 17);
            txn.put(&t, &key_sn(&pk, i), item(&[("pk", s(&pk)), ("sk", AttrValue::N(n(i)))]))?;
        }
        Ok(())
    })
    .await;
    let read = store.read().unwrap();
    let all = collect(read.scan(&table, None, None, None).unwrap());
    assert_eq!(all.len(), 50);

    // Paging: each page starts after the previous page's last key.
    let mut paged = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page: Vec<Item> =
            read.scan(&table, None, start.as_ref(), None).unwrap().take(7).collect::<Result<_, _>>().unwrap();
        let Some(last) = page.last() else { break };
        start = Some(last.clone());
        paged.extend(page);
    }
    assert_eq!(paged, all);

    let total = 4;
    let mut union = Vec::new();
    for segment in 0..total {
        let part = collect(read.scan(&table, None, None, Some(Segment { segment, total })).unwrap());
        for item in &part {
            let hash = KeyValue::from_attr(item.get("pk").unwrap(), KeyType::S).unwrap();
            assert_eq!(segment_of(&hash, total), segment);
        }
        union.extend(part);
    }
    union.sort_by_key(|item| pks(std::slice::from_ref(item)));
    let mut expected = all.clone();
    expected.sort_by_key(|item| pks(std::slice::from_ref(item)));
    assert_eq!(union, expected);
}

#[tokio::test]
async fn invalid_segments_are_refused() {
    let store = in_memory();
    let table = table(1, "t", None);
    let read = store.read().unwrap();
    assert!(read.scan(&table, None, None, Some(Segment { segment: 2, total: 2 })).is_err());
}

/// Many workers try to take the same lease at once, each with a conditional job (the
/// lease must still have the counter it read): exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_takes_have_one_winner() {
    let store = Arc::new(in_memory());
    let table = table(1, "leases", None);
    let t = table.clone();
    write(&store, move |txn| {
        txn.put(&t, &key_s("lease"), item(&[("pk", s("lease")), ("counter", AttrValue::N(n(0)))]))
    })
    .await;
    let workers: Vec<_> = (0..64)
        .map(|worker| {
            let (store, table) = (store.clone(), table.clone());
            tokio::spawn(async move {
                store
                    .write(move |txn| {
                        let current = txn.get(&table, &key_s("lease"))?;
                        if current.as_ref().and_then(|item| item.get("counter")) != Some(&AttrValue::N(n(0))) {
                            return Ok(false);
                        }
                        let owner = format!("w{worker}");
                        txn.put(
                            &table,
                            &key_s("lease"),
                            item(&[("pk", s("lease")), ("counter", AttrValue::N(n(1))), ("owner", s(&owner))]),
                        )?;
                        Ok::<_, StoreError>(true)
                    })
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for worker in workers {
        winners += usize::from(worker.await.unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn reopening_sees_every_acknowledged_write_and_shutdown_refuses_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(1, "t", None);
    {
        let store = on_disk(dir.path());
        let t = table.clone();
        write(&store, move |txn| txn.put_table(&t)).await;
        for i in 0..30 {
            let t = table.clone();
            let pk = format!("k{i:02}");
            write(&store, move |txn| txn.put(&t, &key_s(&pk), item(&[("pk", s(&pk))]))).await;
        }
        store.shutdown();
        assert!(matches!(store.write(|_| Ok::<(), StoreError>(())).await, Err(StoreError::Closed)));
    }
    let store = on_disk(dir.path());
    assert_eq!(store.tables().unwrap(), vec![table.clone()]);
    let read = store.read().unwrap();
    assert_eq!(collect(read.scan(&table, None, None, None).unwrap()).len(), 30);
    assert_eq!(read.table_stats(&table).unwrap().0, 30);
}
