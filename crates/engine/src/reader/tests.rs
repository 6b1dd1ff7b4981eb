//! Stream readers on the in-memory filesystem and a manual clock.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

use bytes::Bytes;
use rheo_storage::{Durability, LogConfig, ManualClock, MemFs};

use super::*;
use crate::hashing::uniform_ranges;
use crate::model::{CreateStream, DeleteStream, MergeShards, PutEntry, PutRecord, SplitShard, StreamRef};
use crate::EngineConfig;

const START_MS: u64 = 1_700_000_000_000;

/// Only a guard against a hung test: every wait below is expected to end at once.
const WAKE_GUARD: Duration = Duration::from_secs(10);

fn open() -> (Arc<Engine>, ManualClock) {
    open_with_update_ms(0)
}

/// An engine whose streams stay UPDATING `update_stream_ms` after resharding.
fn open_with_update_ms(update_stream_ms: u64) -> (Arc<Engine>, ManualClock) {
    let clock = ManualClock::new(START_MS);
    let config = EngineConfig {
        create_stream_ms: 0,
        delete_stream_ms: 0,
        update_stream_ms,
        consumer_ms: 0,
        ..Default::default()
    };
    let log_config = LogConfig { durability: Durability::Never, ..Default::default() };
    let engine =
        Engine::open(Arc::new(MemFs::default()), Arc::new(clock.clone()), "/data".as_ref(), log_config, config)
            .unwrap();
    (Arc::new(engine), clock)
}

async fn create(engine: &Engine, name: &str, shards: u32) -> StreamRef {
    engine
        .create_stream(CreateStream { name: name.into(), shard_count: Some(shards), ..Default::default() })
        .await
        .unwrap();
    StreamRef::name(name)
}

async fn put(engine: &Engine, stream: &StreamRef, hash: u128, data: &str) {
    let entry = PutEntry {
        partition_key: Some("k".into()),
        explicit_hash_key: Some(hash.to_string()),
        data: Bytes::copy_from_slice(data.as_bytes()),
    };
    engine
        .put_record(PutRecord { stream: stream.clone(), record: entry, sequence_number_for_ordering: None })
        .await
        .unwrap();
}

/// Splits shard 0 at `at`.
async fn split(engine: &Engine, stream: &StreamRef, at: u128) {
    let request = SplitShard {
        stream: stream.clone(),
        shard_to_split: "shardId-000000000000".into(),
        new_starting_hash_key: at.to_string(),
    };
    engine.split_shard(&request).await.unwrap();
}

fn reader(engine: &Arc<Engine>, name: &str, start: ReaderStart) -> StreamReader {
    engine.stream_reader(StreamReaderRequest { stream_name: name.into(), start }).unwrap()
}

/// Everything readable now, `max_records` at a time, as (shard index, data).
fn drain(reader: &mut StreamReader, max_records: usize) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    while let Some(batch) = reader.next_batch(max_records, usize::MAX).unwrap() {
        for record in &batch.records {
            assert_eq!(record.sequence_number.shard_index, batch.shard_index);
            out.push((batch.shard_index, String::from_utf8_lossy(&record.data).into_owned()));
        }
    }
    out
}

fn data(read: &[(u32, String)]) -> Vec<&str> {
    read.iter().map(|(_, data)| data.as_str()).collect()
}

/// Whether a future is still pending after one poll (it is kept, to be awaited later).
fn pending<F: Future>(future: std::pin::Pin<&mut F>) -> bool {
    future.poll(&mut Context::from_waker(Waker::noop())).is_pending()
}

#[tokio::test]
async fn children_are_read_only_after_their_parents_across_split_and_merge() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 2).await;
    let ranges = uniform_ranges(2);
    let split_at = ranges[0].1 / 2;
    for n in 0..3 {
        put(&engine, &stream, 5, &format!("p0-{n}")).await;
        put(&engine, &stream, ranges[1].0, &format!("p1-{n}")).await;
    }
    // Open before resharding: the children appear while reading.
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    split(&engine, &stream, split_at).await;
    for n in 0..3 {
        put(&engine, &stream, 5, &format!("low-{n}")).await; // shard 2
        put(&engine, &stream, split_at, &format!("high-{n}")).await; // shard 3
    }
    engine
        .merge_shards(&MergeShards {
            stream: stream.clone(),
            shard_to_merge: "shardId-000000000002".into(),
            adjacent_shard_to_merge: "shardId-000000000003".into(),
        })
        .await
        .unwrap();
    for n in 0..3 {
        put(&engine, &stream, 5, &format!("merged-{n}")).await; // shard 4
    }

    let read = drain(&mut reader, 1);
    let position = |shard: u32| {
        let at: Vec<usize> = read.iter().enumerate().filter(|(_, (s, _))| *s == shard).map(|(i, _)| i).collect();
        (at[0], at[at.len() - 1])
    };
    let (_, parent_last) = position(0);
    let (low_first, low_last) = position(2);
    let (high_first, high_last) = position(3);
    let (merged_first, _) = position(4);
    assert!(parent_last < low_first && parent_last < high_first, "{read:?}");
    assert!(low_last < merged_first && high_last < merged_first, "{read:?}");
    // Per shard, in write order; every record exactly once.
    for (shard, prefix) in [(0, "p0"), (1, "p1"), (2, "low"), (3, "high"), (4, "merged")] {
        let of_shard: Vec<&str> = read.iter().filter(|(s, _)| *s == shard).map(|(_, d)| d.as_str()).collect();
        assert_eq!(of_shard, (0..3).map(|n| format!("{prefix}-{n}")).collect::<Vec<_>>(), "shard {shard}");
    }
    assert_eq!(read.len(), 15);
    let checkpoint = reader.checkpoint();
    for index in [0, 2, 3] {
        assert!(checkpoint.shards[&index].done, "shard {index} is closed and read");
    }
    assert!(!checkpoint.shards[&1].done && !checkpoint.shards[&4].done);
}

#[tokio::test]
async fn starts_at_trim_horizon_latest_or_a_timestamp() {
    let (engine, clock) = open();
    let stream = create(&engine, "s", 2).await;
    let ranges = uniform_ranges(2);
    put(&engine, &stream, 0, "early").await;
    clock.advance_ms(10_000);
    put(&engine, &stream, ranges[1].0, "late").await;

    let mut horizon = reader(&engine, "s", ReaderStart::TrimHorizon);
    let mut latest = reader(&engine, "s", ReaderStart::Latest);
    let mut at_time = reader(&engine, "s", ReaderStart::AtTimestamp(START_MS + 5_000));
    assert_eq!(data(&drain(&mut horizon, 10)), ["early", "late"]);
    assert_eq!(drain(&mut latest, 10), []);
    assert_eq!(data(&drain(&mut at_time, 10)), ["late"]);
    put(&engine, &stream, 0, "next").await;
    assert_eq!(data(&drain(&mut latest, 10)), ["next"]);

    // LATEST skips closed shards, and reads their children from the start.
    split(&engine, &stream, ranges[0].1 / 2).await;
    let mut latest = reader(&engine, "s", ReaderStart::Latest);
    assert!(latest.checkpoint().shards[&0].done);
    put(&engine, &stream, 0, "child").await;
    assert_eq!(drain(&mut latest, 10), [(2, "child".to_owned())]);

    let missing = engine
        .stream_reader(StreamReaderRequest { stream_name: "nope".into(), start: ReaderStart::Latest })
        .unwrap_err();
    assert!(matches!(missing, EngineError::StreamNotFound { .. }), "{missing:?}");
}

#[tokio::test]
async fn a_saved_checkpoint_resumes_with_exactly_the_unread_records() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 3).await;
    let ranges = uniform_ranges(3);
    let mut written = Vec::new();
    for n in 0..12 {
        let data = format!("r{n}");
        put(&engine, &stream, ranges[n % 3].0, &data).await;
        written.push(data);
    }
    let mut first = reader(&engine, "s", ReaderStart::TrimHorizon);
    let mut read = Vec::new();
    for _ in 0..3 {
        let batch = first.next_batch(2, usize::MAX).unwrap().unwrap();
        read.extend(batch.records.iter().map(|r| String::from_utf8_lossy(&r.data).into_owned()));
    }
    assert_eq!(read.len(), 6);
    // Stored as JSON and loaded again, as a consumer would.
    let saved = serde_json::to_string(&first.checkpoint()).unwrap();
    drop(first);
    for n in 12..15 {
        let data = format!("r{n}");
        put(&engine, &stream, ranges[n % 3].0, &data).await;
        written.push(data);
    }
    let checkpoint: ReaderCheckpoint = serde_json::from_str(&saved).unwrap();
    let mut resumed = reader(&engine, "s", ReaderStart::Checkpoint(checkpoint));
    read.extend(drain(&mut resumed, 2).into_iter().map(|(_, data)| data));
    read.sort();
    written.sort();
    assert_eq!(read, written, "none lost, none repeated");
}

#[test]
fn the_checkpoint_is_stored_as_a_map_of_shard_positions() {
    // The shape Firehose has kept in existing data folders.
    let stored = r#"{"0":{"shard_uid":7,"next_lsn":12,"done":false},"3":{"shard_uid":9,"next_lsn":0,"done":true}}"#;
    let checkpoint: ReaderCheckpoint = serde_json::from_str(stored).unwrap();
    assert_eq!(checkpoint.shards[&0], ShardCheckpoint { shard_uid: 7, next_lsn: 12, done: false });
    assert_eq!(checkpoint.shards[&3], ShardCheckpoint { shard_uid: 9, next_lsn: 0, done: true });
    assert_eq!(serde_json::to_string(&checkpoint).unwrap(), stored);
}

#[tokio::test]
async fn wait_wakes_on_an_append_and_on_a_reshard() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 1).await;
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    assert!(reader.next_batch(10, usize::MAX).unwrap().is_none());

    {
        let mut wait = pin!(reader.wait());
        assert!(pending(wait.as_mut()), "nothing happened yet");
        put(&engine, &stream, 0, "a").await;
        tokio::time::timeout(WAKE_GUARD, wait).await.unwrap();
    }
    assert_eq!(data(&drain(&mut reader, 10)), ["a"]);

    {
        let mut wait = pin!(reader.wait());
        assert!(pending(wait.as_mut()), "nothing happened yet");
        split(&engine, &stream, 1000).await;
        tokio::time::timeout(WAKE_GUARD, wait).await.unwrap();
    }
    // The parent's end is a position worth saving, then the children are readable.
    let end = reader.next_batch(10, usize::MAX).unwrap().unwrap();
    assert_eq!((end.shard_index, end.records.len(), end.shard_end()), (0, 0, true));
    assert!(reader.next_batch(10, usize::MAX).unwrap().is_none());
    {
        let mut wait = pin!(reader.wait());
        assert!(pending(wait.as_mut()), "the children are watched");
        put(&engine, &stream, 0, "child").await;
        tokio::time::timeout(WAKE_GUARD, wait).await.unwrap();
    }
    assert_eq!(drain(&mut reader, 10), [(1, "child".to_owned())]);
}

/// Issue 14, item 8: a split waits for the end of UPDATING; records put meanwhile are
/// the parent's, and the reader reads them before the children it finds when the split
/// is applied.
#[tokio::test]
async fn lineage_is_followed_across_a_split_applied_at_the_end_of_updating() {
    let (engine, clock) = open_with_update_ms(500);
    let stream = create(&engine, "s", 1).await;
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    put(&engine, &stream, 0, "before").await;
    split(&engine, &stream, 1000).await;
    put(&engine, &stream, 0, "during").await;
    assert_eq!(drain(&mut reader, 10), [(0, "before".to_owned()), (0, "during".to_owned())]);
    assert!(!reader.checkpoint().shards[&0].done, "the parent is still open while UPDATING");

    {
        let mut wait = pin!(reader.wait());
        assert!(pending(wait.as_mut()), "nothing happened yet");
        clock.advance_ms(500);
        engine.reap().await.unwrap();
        tokio::time::timeout(WAKE_GUARD, wait).await.unwrap();
    }
    put(&engine, &stream, 0, "low").await;
    put(&engine, &stream, 1000, "high").await;
    let read = drain(&mut reader, 10);
    assert_eq!(data(&read).len(), 2, "{read:?}");
    assert!(read.contains(&(1, "low".to_owned())) && read.contains(&(2, "high".to_owned())), "{read:?}");
    assert!(reader.checkpoint().shards[&0].done);
}

#[tokio::test]
async fn an_append_between_a_read_and_the_wait_is_not_missed() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 1).await;
    let mut reader = reader(&engine, "s", ReaderStart::Latest);
    assert!(reader.next_batch(10, usize::MAX).unwrap().is_none());
    put(&engine, &stream, 0, "a").await;
    tokio::time::timeout(WAKE_GUARD, reader.wait()).await.unwrap();
    assert_eq!(data(&drain(&mut reader, 10)), ["a"]);
}

#[tokio::test]
async fn a_recreated_stream_is_read_from_its_start_and_old_positions_are_dropped() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 2).await;
    put(&engine, &stream, 0, "old").await;
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    assert_eq!(data(&drain(&mut reader, 10)), ["old"]);
    let old = reader.checkpoint();

    engine.delete_stream(&DeleteStream { stream: stream.clone(), enforce_consumer_deletion: false }).await.unwrap();
    tokio::time::timeout(WAKE_GUARD, reader.wait()).await.unwrap();
    assert!(reader.next_batch(10, usize::MAX).unwrap().is_none(), "the stream is gone");
    {
        let mut wait = pin!(reader.wait());
        assert!(pending(wait.as_mut()), "nothing to read until the stream is back");
        create(&engine, "s", 1).await;
        tokio::time::timeout(WAKE_GUARD, wait).await.unwrap();
    }
    put(&engine, &stream, 0, "new").await;
    assert_eq!(data(&drain(&mut reader, 10)), ["new"]);

    // A saved checkpoint naming the deleted stream's shards resumes the same way.
    let mut resumed = self::reader(&engine, "s", ReaderStart::Checkpoint(old.clone()));
    assert_eq!(data(&drain(&mut resumed, 10)), ["new"]);
    let now = resumed.checkpoint();
    assert_eq!(now.shards.len(), 1);
    assert_ne!(now.shards[&0].shard_uid, old.shards[&0].shard_uid);
}

#[tokio::test]
async fn records_past_retention_are_skipped_and_the_position_moves() {
    let (engine, clock) = open();
    let stream = create(&engine, "s", 1).await;
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    put(&engine, &stream, 0, "expiring").await;
    let before = reader.checkpoint();
    clock.advance_ms(25 * 60 * 60 * 1000);
    let skipped = reader.next_batch(10, usize::MAX).unwrap().unwrap();
    assert!(skipped.records.is_empty());
    assert!(skipped.position.next_lsn > before.shards[&0].next_lsn);
    assert!(reader.next_batch(10, usize::MAX).unwrap().is_none());
    put(&engine, &stream, 0, "fresh").await;
    assert_eq!(data(&drain(&mut reader, 10)), ["fresh"]);
}

#[tokio::test]
async fn batches_respect_the_limits_and_rotate_over_shards() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 2).await;
    let ranges = uniform_ranges(2);
    for n in 0..4 {
        put(&engine, &stream, 0, &format!("a{n}")).await;
        put(&engine, &stream, ranges[1].0, &format!("b{n}")).await;
    }
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    let shards: Vec<u32> = (0..4).map(|_| reader.next_batch(2, usize::MAX).unwrap().unwrap().shard_index).collect();
    assert_eq!(shards, [0, 1, 0, 1]);
    // One record larger than the byte budget still comes, alone.
    put(&engine, &stream, 0, "big").await;
    put(&engine, &stream, 0, "bigger").await;
    let batch = reader.next_batch(10, 1).unwrap().unwrap();
    assert_eq!(batch.records.len(), 1);
}

#[tokio::test]
async fn rewinding_to_a_checkpoint_returns_the_same_records_again() {
    let (engine, _clock) = open();
    let stream = create(&engine, "s", 1).await;
    let mut reader = reader(&engine, "s", ReaderStart::TrimHorizon);
    put(&engine, &stream, 0, "a").await;
    assert_eq!(data(&drain(&mut reader, 10)), ["a"]);
    let saved = reader.checkpoint();
    put(&engine, &stream, 0, "b").await;
    put(&engine, &stream, 0, "c").await;
    assert_eq!(data(&drain(&mut reader, 10)), ["b", "c"]);
    reader.rewind(saved.clone());
    assert_eq!(data(&drain(&mut reader, 10)), ["b", "c"]);
    // Waiting right after a rewind does not sleep on records already there.
    reader.rewind(saved);
    tokio::time::timeout(WAKE_GUARD, reader.wait()).await.unwrap();
    assert_eq!(data(&drain(&mut reader, 10)), ["b", "c"]);
}
