//! Engine scenarios on the in-memory filesystem and a manual clock.

use std::sync::Arc;

use bytes::Bytes;
use rheo_storage::{Durability, LogConfig, ManualClock, MemFs};

use crate::hashing::uniform_ranges;
use crate::model::*;
use crate::{
    EncodedShardId, Engine, EngineConfig, EngineError, InvalidArgument, LimitExceeded, RecordViolation, ResourceInUse,
    SequenceNumber, ShardId, Validation,
};

/// The InvalidArgumentException rule an error is; panics on any other error.
fn invalid_argument(error: EngineError) -> InvalidArgument {
    match error {
        EngineError::InvalidArgument(rule) => rule,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

mod access;
mod continuation;
mod control_limits;
mod deferred_reshard;
mod distribution;
mod encryption;
mod identities;

const START_MS: u64 = 1_700_000_000_000;

struct Harness {
    fs: MemFs,
    clock: ManualClock,
    engine: Engine,
}

fn config() -> EngineConfig {
    EngineConfig { create_stream_ms: 0, delete_stream_ms: 0, update_stream_ms: 0, consumer_ms: 0, ..Default::default() }
}

fn open(fs: &MemFs, clock: &ManualClock, config: EngineConfig) -> Engine {
    let log_config = LogConfig { durability: Durability::Never, ..Default::default() };
    Engine::open(Arc::new(fs.clone()), Arc::new(clock.clone()), "/data".as_ref(), log_config, config).unwrap()
}

fn harness_with(config: EngineConfig) -> Harness {
    let fs = MemFs::default();
    let clock = ManualClock::new(START_MS);
    let engine = open(&fs, &clock, config);
    Harness { fs, clock, engine }
}

fn harness() -> Harness {
    harness_with(config())
}

/// Whether `error` says that stream `name` of the test account was not found (the
/// server's errors.rs words it as AWS does; its tests pin the text).
fn stream_not_found(error: &EngineError, name: &str) -> bool {
    matches!(error, EngineError::StreamNotFound { stream, account } if stream == name && account == "000000000000")
}

fn entry(key: &str, data: &str) -> PutEntry {
    PutEntry { partition_key: Some(key.into()), explicit_hash_key: None, data: Bytes::copy_from_slice(data.as_bytes()) }
}

fn at_hash(hash: u128, data: &str) -> PutEntry {
    PutEntry {
        partition_key: Some("k".into()),
        explicit_hash_key: Some(hash.to_string()),
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

async fn create(engine: &Engine, name: &str, shards: u32) -> StreamRef {
    engine
        .create_stream(CreateStream { name: name.into(), shard_count: Some(shards), ..Default::default() })
        .await
        .unwrap();
    StreamRef::name(name)
}

fn iterator(engine: &Engine, stream: &StreamRef, shard: &str, start: IteratorStart) -> String {
    engine
        .get_shard_iterator(&GetShardIterator {
            stream: stream.clone(),
            shard_id: shard.into(),
            start,
            stray_sequence_number: false,
        })
        .unwrap()
}

/// Reads a shard to its current end; returns the data and the final result.
fn drain(engine: &Engine, mut iterator: String) -> (Vec<String>, GetRecordsResult) {
    let mut data = Vec::new();
    loop {
        let result = engine.get_records(&GetRecords { shard_iterator: iterator.to_string(), limit: None }).unwrap();
        data.extend(result.records.iter().map(|r| String::from_utf8_lossy(&r.data).into_owned()));
        match (&result.next_shard_iterator, result.records.is_empty()) {
            (Some(next), false) => iterator = next.clone(),
            _ => return (data, result),
        }
    }
}

#[tokio::test]
async fn records_route_by_md5_and_explicit_hash_key() {
    let h = harness();
    let stream = create(&h.engine, "orders", 4).await;
    let ranges = uniform_ranges(4);
    for (index, (start, end)) in ranges.iter().enumerate() {
        for hash in [*start, *end] {
            let put = h
                .engine
                .put_record(PutRecord {
                    stream: stream.clone(),
                    record: at_hash(hash, "x"),
                    sequence_number_for_ordering: None,
                })
                .await
                .unwrap();
            assert_eq!(put.placement.shard_id, format!("shardId-{index:012}"));
        }
    }
    // md5("a") = 0x0cc1…, which is in the first quarter.
    let put = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("a", "x"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    assert_eq!(put.placement.shard_id, "shardId-000000000000");
    let batch = h
        .engine
        .put_records(PutRecords {
            stream: stream.clone(),
            records: vec![at_hash(ranges[3].0, "d"), at_hash(0, "a"), at_hash(ranges[1].0, "b")],
        })
        .await
        .unwrap();
    assert_eq!(batch.failed_count, 0);
    let shards: Vec<_> = batch
        .records
        .iter()
        .map(|r| match r {
            PutOutcome::Stored(p) => p.shard_id,
            PutOutcome::Failed(error) => panic!("failed: {error}"),
        })
        .collect();
    assert_eq!(shards, ["shardId-000000000003", "shardId-000000000000", "shardId-000000000001"]);
}

#[tokio::test]
async fn put_validation_matches_aws() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    let error = h
        .engine
        .put_record(PutRecord {
            stream: stream.clone(),
            record: at_hash(0, "x").with_hash_text("340282366920938463463374607431768211456"),
            sequence_number_for_ordering: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        invalid_argument(error),
        InvalidArgument::ExplicitHashKey { hash_key: "340282366920938463463374607431768211456".into() }
    );
    let big = PutEntry {
        partition_key: Some("k".into()),
        explicit_hash_key: None,
        data: Bytes::from(vec![0u8; 1024 * 1024]),
    };
    let error = h
        .engine
        .put_records(PutRecords { stream: stream.clone(), records: vec![entry("a", "b"), big] })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::Validation(Validation::Records(violations))
            if *violations == [RecordViolation::DataTooLong { member: Some(2), data_bytes: 1_048_576, max_data_bytes: 1_048_575 }]),
        "{error:?}"
    );
    let no_key = PutEntry { partition_key: None, explicit_hash_key: None, data: Bytes::new() };
    let error = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: no_key, sequence_number_for_ordering: None })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::Validation(Validation::Records(violations))
            if *violations == [RecordViolation::PartitionKeyMissing { member: None }]),
        "{error:?}"
    );
    let error = h
        .engine
        .put_record(PutRecord {
            stream: stream.clone(),
            record: entry("a", "b"),
            sequence_number_for_ordering: Some("12".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        invalid_argument(error),
        InvalidArgument::SequenceNumberForOrdering {
            sequence_number: "12".into(),
            stream: "s".into(),
            account: "000000000000".into()
        }
    );
    let missing = h
        .engine
        .put_record(PutRecord {
            stream: StreamRef::name("nope"),
            record: entry("a", "b"),
            sequence_number_for_ordering: None,
        })
        .await
        .unwrap_err();
    assert!(stream_not_found(&missing, "nope"), "{missing}");
}

impl PutEntry {
    fn with_hash_text(mut self, text: &str) -> Self {
        self.explicit_hash_key = Some(text.into());
        self
    }
}

#[tokio::test]
async fn every_iterator_type_positions_as_aws_does() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    let shard = "shardId-000000000000";
    let mut sequence_numbers = Vec::new();
    for (i, data) in ["a", "b", "c"].iter().enumerate() {
        h.clock.advance_ms(1000 * (i as u64 + 1));
        let put = h
            .engine
            .put_record(PutRecord {
                stream: stream.clone(),
                record: entry("k", data),
                sequence_number_for_ordering: None,
            })
            .await
            .unwrap();
        sequence_numbers.push(put.placement.sequence_number);
    }
    let latest = iterator(&h.engine, &stream, shard, IteratorStart::Latest);
    let (all, _) = drain(&h.engine, iterator(&h.engine, &stream, shard, IteratorStart::TrimHorizon));
    assert_eq!(all, ["a", "b", "c"]);
    let (at, _) = drain(
        &h.engine,
        iterator(&h.engine, &stream, shard, IteratorStart::AtSequenceNumber(Some(sequence_numbers[1].to_string()))),
    );
    assert_eq!(at, ["b", "c"]);
    let (after, _) = drain(
        &h.engine,
        iterator(&h.engine, &stream, shard, IteratorStart::AfterSequenceNumber(Some(sequence_numbers[1].to_string()))),
    );
    assert_eq!(after, ["c"]);
    let (from_time, _) = drain(
        &h.engine,
        iterator(&h.engine, &stream, shard, IteratorStart::AtTimestamp(Some((START_MS + 2500) as i64))),
    );
    assert_eq!(from_time, ["b", "c"]);
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "d"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    let (new, last) = drain(&h.engine, latest);
    assert_eq!(new, ["d"]);
    assert_eq!(last.millis_behind_latest, 0);
    assert!(last.next_shard_iterator.is_some());
    // The shard's StartingSequenceNumber positions before every record.
    let description = h
        .engine
        .describe_stream(&DescribeStream { stream: stream.clone(), limit: None, exclusive_start_shard_id: None })
        .unwrap();
    let starting = description.shards[0].starting_sequence_number;
    let (everything, _) = drain(
        &h.engine,
        iterator(&h.engine, &stream, shard, IteratorStart::AtSequenceNumber(Some(starting.to_string()))),
    );
    assert_eq!(everything, ["a", "b", "c", "d"]);
}

#[tokio::test]
async fn iterator_errors_carry_aws_messages() {
    let h = harness();
    let stream = create(&h.engine, "s", 2).await;
    let request = |shard: &str, start: IteratorStart, stray: bool| GetShardIterator {
        stream: stream.clone(),
        shard_id: shard.into(),
        start,
        stray_sequence_number: stray,
    };
    let refused = |r: GetShardIterator| invalid_argument(h.engine.get_shard_iterator(&r).unwrap_err());
    assert_eq!(
        refused(request("shardId-000000000000", IteratorStart::TrimHorizon, true)),
        InvalidArgument::StartingPosition { iterator_type: "TRIM_HORIZON", has_sequence_number: true }
    );
    assert_eq!(
        refused(request("shardId-000000000000", IteratorStart::AtSequenceNumber(None), false)),
        InvalidArgument::StartingPosition { iterator_type: "AT_SEQUENCE_NUMBER", has_sequence_number: false }
    );
    assert_eq!(
        refused(request("shardId-000000000000", IteratorStart::AtTimestamp(None), false)),
        InvalidArgument::TimestampMissing
    );
    assert_eq!(
        refused(request("shardId-000000000000", IteratorStart::AtTimestamp(Some(START_MS as i64 + 5)), false)),
        InvalidArgument::TimestampInFuture { timestamp_ms: START_MS as i64 + 5, now_ms: START_MS }
    );
    let missing = h.engine.get_shard_iterator(&request("shardId-000000000005", IteratorStart::Latest, false));
    assert!(
        matches!(&missing, Err(EngineError::ShardNotFound { shard, stream, account })
            if shard == "shardId-000000000005" && stream == "s" && account == "000000000000"),
        "{missing:?}"
    );
    let unparsed = h.engine.get_shard_iterator(&request("shard-x", IteratorStart::Latest, false));
    assert!(
        matches!(&unparsed, Err(EngineError::ShardUnknown { shard, stream, account })
            if shard == "shard-x" && stream == "s" && account == "000000000000"),
        "{unparsed:?}"
    );
    let put = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: at_hash(0, "x"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    assert_eq!(
        refused(request(
            "shardId-000000000001",
            IteratorStart::AtSequenceNumber(Some(put.placement.sequence_number.to_string())),
            false
        )),
        InvalidArgument::StartingSequenceNumberShard { encoded: EncodedShardId::new(0), shard: ShardId::new(1) }
    );
    // A version-2 number whose counter has its top bit set is no sequence number at all.
    let counter_high = rheo_storage::decimal_from_hex("20000000000800000000000000000000000000000000002").unwrap();
    assert_eq!(
        refused(request("shardId-000000000000", IteratorStart::AtSequenceNumber(Some(counter_high.clone())), false)),
        InvalidArgument::StartingSequenceNumber {
            sequence_number: counter_high,
            operation: "GetShardIterator",
            shard: ShardId::new(0),
            stream: "s".into(),
            account: "000000000000".into()
        }
    );
}

// Issue 14, item 6: GetShardIterator reads the shard a number encodes (the low 16 bits
// below 2^124, digits 39-46 of a version-2 number as a signed integer) after checking
// that it is a number and before asking whether the shard issued it.
#[tokio::test]
async fn get_shard_iterator_reads_the_shard_a_sequence_number_encodes() {
    let h = harness();
    let stream = create(&h.engine, "s", 2).await;
    let at = |shard: &str, sequence_number: &str| {
        h.engine.get_shard_iterator(&GetShardIterator {
            stream: stream.clone(),
            shard_id: shard.into(),
            start: IteratorStart::AtSequenceNumber(Some(sequence_number.into())),
            stray_sequence_number: false,
        })
    };
    let refused = |shard: &str, sequence_number: &str| invalid_argument(at(shard, sequence_number).unwrap_err());
    let foreign = |shard: u32, quoted: &str| InvalidArgument::StartingSequenceNumberForeign {
        sequence_number: quoted.into(),
        operation: "GetShardIterator",
        shard: ShardId::new(shard),
        stream: "s".into(),
        account: "000000000000".into(),
    };
    let hex = |digits: &str| rheo_storage::decimal_from_hex(digits).unwrap();

    assert_eq!(
        refused("shardId-000000000001", "5"),
        InvalidArgument::StartingSequenceNumberShard { encoded: EncodedShardId::new(5), shard: ShardId::new(1) }
    );
    assert_eq!(
        refused("shardId-000000000001", "1234"),
        InvalidArgument::StartingSequenceNumberShard { encoded: EncodedShardId::new(1234), shard: ShardId::new(1) }
    );
    let negative = hex("20000000000000000000000000000000000000800000002");
    assert_eq!(
        refused("shardId-000000000000", &negative),
        InvalidArgument::StartingSequenceNumberShard {
            encoded: EncodedShardId::new(-2_147_483_648),
            shard: ShardId::new(0)
        }
    );
    assert_eq!(
        InvalidArgument::StartingSequenceNumberShard {
            encoded: EncodedShardId::new(-2_147_483_648),
            shard: ShardId::new(0)
        }
        .to_string(),
        "starting sequence number of shardId--02147483648 used on shardId-000000000000"
    );
    // The right shard, but not issued by it: AWS quotes a version-0 number plus 2^124.
    assert_eq!(refused("shardId-000000000000", "0"), foreign(0, "21267647932558653966460912964485513216"));
    let other_stream = hex("20000000011000000000000000000000000000000000012");
    assert_eq!(refused("shardId-000000000001", &other_stream), foreign(1, &other_stream));
    // Too late a creation time makes a version-0 number invalid.
    let large_date = hex("13bb2cc3d80000000000000000000000");
    assert!(matches!(refused("shardId-000000000000", &large_date), InvalidArgument::StartingSequenceNumber { .. }));

    let put = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: at_hash(0, "x"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    let issued = put.placement.sequence_number.to_string();
    assert!(at("shardId-000000000000", &issued).is_ok());
    assert_eq!(
        refused("shardId-000000000001", &issued),
        InvalidArgument::StartingSequenceNumberShard { encoded: EncodedShardId::new(0), shard: ShardId::new(1) }
    );
}

// Issue 14, item 7: SequenceNumberForOrdering accepts version-1 numbers and refuses
// version-2 numbers created at 16025175000 s or later.
#[tokio::test]
async fn sequence_number_for_ordering_follows_aws_layouts() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    let put = |ordering: String| {
        h.engine.put_record(PutRecord {
            stream: stream.clone(),
            record: entry("a", "b"),
            sequence_number_for_ordering: Some(ordering),
        })
    };
    let hex = |digits: &str| rheo_storage::decimal_from_hex(digits).unwrap();
    put(hex("20000000000000000000000000000000000000000000001")).await.unwrap();
    put(hex("23bb2cc3d70000000000000000000000000000000000002")).await.unwrap();
    let too_late = hex("23bb2cc3d80000000000000000000000000000000000002");
    assert_eq!(
        invalid_argument(put(too_late.clone()).await.unwrap_err()),
        InvalidArgument::SequenceNumberForOrdering {
            sequence_number: too_late,
            stream: "s".into(),
            account: "000000000000".into()
        }
    );
}

#[tokio::test]
async fn iterators_expire_resist_tampering_and_survive_restarts() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "a"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    let issued = iterator(&h.engine, &stream, "shardId-000000000000", IteratorStart::TrimHorizon);
    // Quoted iterators are accepted.
    assert_eq!(
        h.engine
            .get_records(&GetRecords { shard_iterator: format!("\"{issued}\""), limit: None })
            .unwrap()
            .records
            .len(),
        1
    );
    let mut forged = issued.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert!(matches!(
        h.engine.get_records(&GetRecords { shard_iterator: forged.to_string(), limit: None }),
        Err(EngineError::InvalidShardIterator)
    ));
    assert!(matches!(
        h.engine.get_records(&GetRecords { shard_iterator: "garbage".into(), limit: None }),
        Err(EngineError::InvalidShardIterator)
    ));

    // A restart on the same data keeps the iterator valid.
    let Harness { fs, clock, engine } = h;
    engine.shutdown();
    let engine = open(&fs, &clock, config());
    assert_eq!(
        engine.get_records(&GetRecords { shard_iterator: issued.to_string(), limit: None }).unwrap().records.len(),
        1
    );

    clock.advance_ms(300_001);
    let error = engine.get_records(&GetRecords { shard_iterator: issued.to_string(), limit: None }).unwrap_err();
    // The server words it (rheo-server errors.rs pins AWS's text for these times).
    assert!(
        matches!(error, EngineError::ExpiredIterator { issued_ms: START_MS, now_ms } if now_ms == START_MS + 300_001),
        "{error}"
    );
}

#[tokio::test]
async fn split_and_merge_keep_lineage_and_read_through_to_children() {
    let h = harness();
    let stream = create(&h.engine, "s", 2).await;
    let ranges = uniform_ranges(2);
    h.engine
        .put_record(PutRecord {
            stream: stream.clone(),
            record: at_hash(5, "before"),
            sequence_number_for_ordering: None,
        })
        .await
        .unwrap();
    let parent_iterator = iterator(&h.engine, &stream, "shardId-000000000000", IteratorStart::TrimHorizon);
    let split_at = ranges[0].1 / 2;
    h.engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: split_at.to_string(),
        })
        .await
        .unwrap();
    // Re-splitting the closed parent is refused with AWS's text.
    let again = h
        .engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: split_at.to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        invalid_argument(again),
        InvalidArgument::ShardResharded { shard: ShardId::new(0), stream: "s".into(), account: "000000000000".into() }
    );
    let low = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: at_hash(5, "low"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    assert_eq!(low.placement.shard_id, "shardId-000000000002");
    let high = h
        .engine
        .put_record(PutRecord {
            stream: stream.clone(),
            record: at_hash(split_at, "high"),
            sequence_number_for_ordering: None,
        })
        .await
        .unwrap();
    assert_eq!(high.placement.shard_id, "shardId-000000000003");

    let (data, end) = drain(&h.engine, parent_iterator);
    assert_eq!(data, ["before"]);
    assert_eq!(end.next_shard_iterator, None);
    let children = end.child_shards.unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0].shard_id, "shardId-000000000002");
    assert_eq!(children[0].parent_shards, ["shardId-000000000000"]);
    assert_eq!(children[0].hash_range, HashRange { start: 0, end: split_at - 1 });
    let (child, _) = drain(&h.engine, iterator(&h.engine, &stream, "shardId-000000000002", IteratorStart::TrimHorizon));
    assert_eq!(child, ["low"]);

    // The merge is ordered: the adjacent shard must follow the shard to merge.
    let reversed = h
        .engine
        .merge_shards(&MergeShards {
            stream: stream.clone(),
            shard_to_merge: "shardId-000000000003".into(),
            adjacent_shard_to_merge: "shardId-000000000002".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(invalid_argument(reversed), InvalidArgument::ShardsNotAdjacent { first, second, stream, account }
            if first == ShardId::new(3) && second == ShardId::new(2) && stream == "s" && account == "000000000000"));
    // Merge the two children back, in order.
    h.engine
        .merge_shards(&MergeShards {
            stream: stream.clone(),
            shard_to_merge: "shardId-000000000002".into(),
            adjacent_shard_to_merge: "shardId-000000000003".into(),
        })
        .await
        .unwrap();
    let description = h
        .engine
        .describe_stream(&DescribeStream { stream: stream.clone(), limit: None, exclusive_start_shard_id: None })
        .unwrap();
    let merged = description.shards.last().unwrap();
    assert_eq!(merged.shard_id, "shardId-000000000004");
    assert_eq!(merged.parent_shard_id.map(|id| id.to_string()).as_deref(), Some("shardId-000000000002"));
    assert_eq!(merged.adjacent_parent_shard_id.map(|id| id.to_string()).as_deref(), Some("shardId-000000000003"));
    assert_eq!(merged.hash_range, HashRange { start: 0, end: ranges[0].1 });
    assert!(description.shards[0].ending_sequence_number.is_some());
    let not_adjacent = h
        .engine
        .merge_shards(&MergeShards {
            stream: stream.clone(),
            shard_to_merge: "shardId-000000000001".into(),
            adjacent_shard_to_merge: "shardId-000000000001".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(not_adjacent, EngineError::InvalidArgument(_)));
    let bad_key = h
        .engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000001".into(),
            new_starting_hash_key: "1".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(invalid_argument(bad_key), InvalidArgument::SplitHashKey { hash_key, shard, stream, account, .. }
            if hash_key == "1" && shard == ShardId::new(1) && stream == "s" && account == "000000000000"));
    let unknown = h
        .engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000099".into(),
            new_starting_hash_key: "1".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, EngineError::ShardUnknown { shard, stream, account }
            if shard == "shardId-000000000099" && stream == "s" && account == "000000000000"),
        "{unknown}"
    );
}

// Issue 14, item 3: MergeShards and SplitShard check the shard ids' spelling (as
// GetShardIterator parses them) before the stream, ShardToMerge first.
#[tokio::test]
async fn resharding_checks_shard_ids_before_the_stream() {
    let h = harness();
    let stream = create(&h.engine, "s", 2).await;
    let merge = |stream: &str, shard: &str, adjacent: &str| MergeShards {
        stream: StreamRef::name(stream),
        shard_to_merge: shard.into(),
        adjacent_shard_to_merge: adjacent.into(),
    };
    let split = |stream: &str, shard: &str| SplitShard {
        stream: StreamRef::name(stream),
        shard_to_split: shard.into(),
        new_starting_hash_key: "1".into(),
    };
    let unknown = |error: EngineError, expected: &str, in_stream: &str| {
        assert!(
            matches!(&error, EngineError::ShardUnknown { shard, stream, account }
                if shard == expected && stream == in_stream && account == "000000000000"),
            "{error:?}"
        );
    };
    // A malformed id on a missing stream: the shard is reported, exactly as sent.
    unknown(
        h.engine.merge_shards(&merge("missing", "bogus", "shardId-000000000001")).await.unwrap_err(),
        "bogus",
        "missing",
    );
    unknown(h.engine.merge_shards(&merge("missing", "x-1", "shard-x")).await.unwrap_err(), "shard-x", "missing");
    unknown(h.engine.merge_shards(&merge("missing", "a-b", "c-d")).await.unwrap_err(), "a-b", "missing");
    unknown(
        h.engine.split_shard(&split("missing", "shardId-2147483648")).await.unwrap_err(),
        "shardId-2147483648",
        "missing",
    );
    unknown(
        h.engine.merge_shards(&merge("s", "shardId-00000000000x", "shardId-000000000001")).await.unwrap_err(),
        "shardId-00000000000x",
        "s",
    );
    // Ids that parse, on a missing stream: the stream is not found.
    let missing = h.engine.merge_shards(&merge("missing", "0", "shardId-000000000001")).await.unwrap_err();
    assert!(matches!(&missing, EngineError::StreamNotFound { stream, .. } if stream == "missing"), "{missing:?}");
    let missing = h.engine.split_shard(&split("missing", "shardId-000000000000")).await.unwrap_err();
    assert!(matches!(&missing, EngineError::StreamNotFound { stream, .. } if stream == "missing"), "{missing:?}");
    // Ids that parse but name no shard of an existing stream: normalised.
    unknown(h.engine.split_shard(&split("s", "7")).await.unwrap_err(), "shardId-000000000007", "s");
    // Nothing changed.
    let description =
        h.engine.describe_stream(&DescribeStream { stream, limit: None, exclusive_start_shard_id: None }).unwrap();
    assert_eq!(description.shards.len(), 2);
}

#[tokio::test]
async fn update_shard_count_reaches_the_uniform_layout() {
    let h = harness();
    let stream = create(&h.engine, "s", 2).await;
    for target in [3, 5, 4, 2, 1] {
        let change = h
            .engine
            .update_shard_count(&UpdateShardCount { stream: stream.clone(), target_shard_count: target })
            .await
            .unwrap();
        assert_eq!(change.target, target);
        let open = h
            .engine
            .list_shards(&ListShards {
                stream: stream.clone(),
                filter: Some(ShardFilter { kind: ShardFilterKind::AtLatest, shard_id: None, timestamp_ms: None }),
                ..Default::default()
            })
            .unwrap();
        let ranges: Vec<(u128, u128)> = open.shards.iter().map(|s| (s.hash_range.start, s.hash_range.end)).collect();
        let mut sorted = ranges.clone();
        sorted.sort();
        assert_eq!(sorted, uniform_ranges(target), "target {target}");
        // Every open shard descends from closed ones.
        assert!(open.shards.iter().all(|s| s.parent_shard_id.is_some()));
    }
    let error = h
        .engine
        .update_shard_count(&UpdateShardCount { stream: stream.clone(), target_shard_count: 3 })
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::LimitExceeded(_)));
    // Records written to the final shard can be read.
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "x"), sequence_number_for_ordering: None })
        .await
        .unwrap();
}

#[tokio::test]
async fn list_shards_pages_and_filters() {
    let h = harness();
    let stream = create(&h.engine, "s", 3).await;
    h.clock.advance_ms(10_000);
    h.engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: "1000".into(),
        })
        .await
        .unwrap();
    let list = |request: ListShards| h.engine.list_shards(&request).unwrap();
    let ids = |list: &ShardList| list.shards.iter().map(|s| s.shard_id).collect::<Vec<_>>();
    let all = list(ListShards { stream: stream.clone(), ..Default::default() });
    assert_eq!(all.shards.len(), 5);
    let first = list(ListShards { stream: stream.clone(), max_results: Some(2), ..Default::default() });
    assert_eq!(ids(&first), ["shardId-000000000000", "shardId-000000000001"]);
    let second = list(ListShards { next_token: first.next_token.clone(), max_results: Some(2), ..Default::default() });
    assert_eq!(ids(&second), ["shardId-000000000002", "shardId-000000000003"]);
    let third = list(ListShards { next_token: second.next_token.clone(), ..Default::default() });
    assert_eq!(ids(&third), ["shardId-000000000004"]);
    assert_eq!(third.next_token, None);
    let filtered = |kind, shard_id: Option<&str>, timestamp_ms: Option<i64>| {
        ids(&list(ListShards {
            stream: stream.clone(),
            filter: Some(ShardFilter { kind, shard_id: shard_id.map(str::to_owned), timestamp_ms }),
            ..Default::default()
        }))
    };
    assert_eq!(
        filtered(ShardFilterKind::AtLatest, None, None),
        ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003", "shardId-000000000004"]
    );
    assert_eq!(
        filtered(ShardFilterKind::AtTrimHorizon, None, None),
        ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    );
    assert_eq!(
        filtered(ShardFilterKind::AfterShardId, Some("shardId-000000000002"), None),
        ["shardId-000000000003", "shardId-000000000004"]
    );
    assert_eq!(
        filtered(ShardFilterKind::AtTimestamp, None, Some(START_MS as i64 + 1)),
        ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    );
    assert_eq!(filtered(ShardFilterKind::FromTimestamp, None, Some(START_MS as i64 + 20_000)).len(), 4);
    let both = h.engine.list_shards(&ListShards {
        stream: stream.clone(),
        next_token: Some("x".into()),
        ..Default::default()
    });
    assert_eq!(invalid_argument(both.unwrap_err()), InvalidArgument::ListShardsTokenWithStream);
    let neither = h.engine.list_shards(&ListShards::default());
    assert_eq!(invalid_argument(neither.unwrap_err()), InvalidArgument::ListShardsStreamMissing);
    h.clock.advance_ms(300_001);
    let expired = h.engine.list_shards(&ListShards { next_token: first.next_token, ..Default::default() });
    assert!(matches!(expired, Err(EngineError::ExpiredNextToken)));
}

/// A stream deleted while CREATING never had shards to show: DELETING with `Shards: []`
/// and `HasMoreShards: false` (issue 14, item 9); one deleted once ACTIVE keeps its shards.
#[tokio::test]
async fn a_stream_deleted_while_creating_describes_without_shards() {
    let h = harness_with(EngineConfig { create_stream_ms: 500, delete_stream_ms: 500, ..config() });
    let describe = |stream: &StreamRef| {
        h.engine
            .describe_stream(&DescribeStream { stream: stream.clone(), limit: None, exclusive_start_shard_id: None })
            .unwrap()
    };
    let early = create(&h.engine, "early", 2).await;
    h.engine.delete_stream(&DeleteStream { stream: early.clone(), enforce_consumer_deletion: false }).await.unwrap();
    let described = describe(&early);
    assert_eq!(described.summary.status, StreamStatus::Deleting);
    assert!(described.shards.is_empty());
    assert!(!described.has_more_shards);
    h.clock.advance_ms(100); // past nothing yet: still DELETING, still no shards
    assert!(describe(&early).shards.is_empty());

    let late = create(&h.engine, "late", 2).await;
    h.clock.advance_ms(600);
    h.engine.delete_stream(&DeleteStream { stream: late.clone(), enforce_consumer_deletion: false }).await.unwrap();
    let described = describe(&late);
    assert_eq!(described.summary.status, StreamStatus::Deleting);
    assert_eq!(described.shards.len(), 2);
}

#[tokio::test]
async fn lifecycle_follows_the_configured_delays() {
    let h = harness_with(EngineConfig {
        create_stream_ms: 500,
        delete_stream_ms: 500,
        update_stream_ms: 500,
        consumer_ms: 500,
        ..Default::default()
    });
    let stream = create(&h.engine, "s", 1).await;
    let status = || h.engine.describe_stream_summary(&stream).map(|s| s.status);
    assert_eq!(status().unwrap(), StreamStatus::Creating);
    assert!(h
        .engine
        .describe_stream(&DescribeStream { stream: stream.clone(), limit: None, exclusive_start_shard_id: None })
        .unwrap()
        .shards
        .is_empty());
    let early = h
        .engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "x"), sequence_number_for_ordering: None })
        .await
        .unwrap_err();
    assert!(matches!(early, EngineError::StreamNotFound { .. }));
    let busy = h
        .engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: "1000".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&busy, EngineError::StreamNotActive { stream, account, status: StreamStatus::Creating }
            if stream == "s" && account == "000000000000"),
        "{busy}"
    );
    h.clock.advance_ms(500);
    assert_eq!(status().unwrap(), StreamStatus::Active);
    h.engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: "1000".into(),
        })
        .await
        .unwrap();
    assert_eq!(status().unwrap(), StreamStatus::Updating);
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "x"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    h.clock.advance_ms(500);
    // The resharding is applied by the reaper at the end of the UPDATING period.
    h.engine.reap().await.unwrap();
    assert_eq!(status().unwrap(), StreamStatus::Active);

    let arn = h.engine.describe_stream_summary(&stream).unwrap().arn.into_string();
    let consumer = h
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "app".into(),
            tags: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(consumer.status, ConsumerStatus::Creating);
    assert!(consumer.arn.as_str().starts_with(&format!("{arn}/consumer/app:")));
    let in_use = h
        .engine
        .delete_stream(&DeleteStream { stream: stream.clone(), enforce_consumer_deletion: false })
        .await
        .unwrap_err();
    assert!(matches!(in_use, EngineError::ResourceInUse(_)));
    h.engine.delete_stream(&DeleteStream { stream: stream.clone(), enforce_consumer_deletion: true }).await.unwrap();
    assert_eq!(status().unwrap(), StreamStatus::Deleting);
    let exists = h
        .engine
        .create_stream(CreateStream { name: "s".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap_err();
    assert!(
        matches!(&exists, EngineError::StreamExists { stream, account } if stream == "s" && account == "000000000000"),
        "{exists}"
    );
    h.clock.advance_ms(500);
    assert!(stream_not_found(&status().unwrap_err(), "s"));
    h.engine.reap().await.unwrap();
    create(&h.engine, "s", 1).await;
}

#[tokio::test]
async fn retention_tags_and_consumers_follow_aws_rules() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    assert_eq!(
        invalid_argument(
            h.engine.increase_retention(&RetentionPeriod { stream: stream.clone(), hours: 23 }).await.unwrap_err()
        ),
        InvalidArgument::RetentionTooShort { hours: 23, min: 24 }
    );
    assert_eq!(
        invalid_argument(
            h.engine.increase_retention(&RetentionPeriod { stream: stream.clone(), hours: 8761 }).await.unwrap_err()
        ),
        InvalidArgument::RetentionTooLong { hours: 8761, max: 8760 }
    );
    h.engine.increase_retention(&RetentionPeriod { stream: stream.clone(), hours: 48 }).await.unwrap();
    assert_eq!(
        invalid_argument(
            h.engine.increase_retention(&RetentionPeriod { stream: stream.clone(), hours: 30 }).await.unwrap_err()
        ),
        InvalidArgument::RetentionIncreaseBelowCurrent { stream: "s".into(), hours: 30, current: 48 }
    );
    assert_eq!(
        invalid_argument(
            h.engine.decrease_retention(&RetentionPeriod { stream: stream.clone(), hours: 72 }).await.unwrap_err()
        ),
        InvalidArgument::RetentionDecreaseAboveCurrent { stream: "s".into(), hours: 72, current: 48 }
    );
    h.engine.decrease_retention(&RetentionPeriod { stream: stream.clone(), hours: 24 }).await.unwrap();
    assert_eq!(h.engine.describe_stream_summary(&stream).unwrap().retention_hours, 24);

    let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    h.engine
        .add_tags_to_stream(AddTagsToStream { stream: stream.clone(), tags: tags(&[("a", "1"), ("b", "2")]) })
        .await
        .unwrap();
    h.engine
        .remove_tags_from_stream(RemoveTagsFromStream {
            stream: stream.clone(),
            tag_keys: vec!["a".into(), "zzz".into()],
        })
        .await
        .unwrap();
    let TagList { tags: listed, has_more: more } = h
        .engine
        .list_tags_for_stream(&ListTagsForStream { stream: stream.clone(), exclusive_start_tag_key: None, limit: None })
        .unwrap();
    assert_eq!(listed, vec![Tag { key: "b".to_string(), value: "2".to_string() }]);
    assert!(!more);
    // Issue 14, item 4: keys to remove are checked like added tags, after the stream
    // exists; a refused call removes nothing.
    let remove = |stream: &StreamRef, keys: &[&str]| RemoveTagsFromStream {
        stream: stream.clone(),
        tag_keys: keys.iter().map(|k| k.to_string()).collect(),
    };
    assert_eq!(
        invalid_argument(h.engine.remove_tags_from_stream(remove(&stream, &["b", "a!"])).await.unwrap_err()),
        InvalidArgument::TagCharacters
    );
    assert_eq!(
        invalid_argument(h.engine.remove_tags_from_stream(remove(&stream, &["b", "!%"])).await.unwrap_err()),
        InvalidArgument::TagCharacters
    );
    assert_eq!(
        invalid_argument(h.engine.remove_tags_from_stream(remove(&stream, &["b", "a%"])).await.unwrap_err()),
        InvalidArgument::TagRemovePercent { stream: "s".into(), account: "000000000000".into() }
    );
    let missing = h.engine.remove_tags_from_stream(remove(&StreamRef::name("missing"), &["a%"])).await.unwrap_err();
    assert!(matches!(&missing, EngineError::StreamNotFound { stream, .. } if stream == "missing"), "{missing:?}");
    let listed = h
        .engine
        .list_tags_for_stream(&ListTagsForStream { stream: stream.clone(), exclusive_start_tag_key: None, limit: None })
        .unwrap()
        .tags;
    assert_eq!(listed, vec![Tag { key: "b".to_string(), value: "2".to_string() }]);
    let many: std::collections::BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    assert!(matches!(
        h.engine.add_tags_to_stream(AddTagsToStream { stream: stream.clone(), tags: many }).await,
        Err(EngineError::InvalidArgument(_))
    ));
    let arn = h.engine.describe_stream_summary(&stream).unwrap().arn.into_string();
    h.engine.tag_resource(TagResource { resource_arn: arn.clone(), tags: tags(&[("c", "3")]) }).await.unwrap();
    assert_eq!(h.engine.list_tags_for_resource(&arn).unwrap().len(), 2);

    let consumer = h
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "app".into(),
            tags: tags(&[("t", "v")]),
        })
        .await
        .unwrap();
    assert_eq!(consumer.status, ConsumerStatus::Active);
    assert_eq!(
        h.engine.list_tags_for_resource(consumer.arn.as_str()).unwrap(),
        vec![Tag { key: "t".to_string(), value: "v".to_string() }]
    );
    let by_name = ConsumerRef { stream_arn: Some(arn.clone()), consumer_name: Some("app".into()), consumer_arn: None };
    assert_eq!(h.engine.describe_consumer(&by_name).unwrap().arn, consumer.arn);
    assert_eq!(
        h.engine
            .list_consumers(&ListConsumers {
                stream_arn: arn.clone(),
                next_token: None,
                max_results: None,
                stream_creation_ms: None
            })
            .unwrap()
            .consumers
            .len(),
        1
    );
    assert!(matches!(
        h.engine
            .register_consumer(RegisterConsumer {
                stream_arn: arn.clone(),
                consumer_name: "app".into(),
                tags: Default::default()
            })
            .await,
        Err(EngineError::ResourceInUse(_))
    ));
    h.engine
        .deregister_consumer(&ConsumerRef { consumer_arn: Some(consumer.arn.to_string()), ..Default::default() })
        .await
        .unwrap();
    assert!(matches!(h.engine.describe_consumer(&by_name), Err(EngineError::ConsumerNotFound { .. })));
}

#[tokio::test]
async fn shard_limit_is_enforced_with_aws_text() {
    let h = harness_with(EngineConfig { shard_limit: 3, ..config() });
    let stream = create(&h.engine, "s", 2).await;
    let error = h
        .engine
        .create_stream(CreateStream { name: "t".into(), shard_count: Some(2), ..Default::default() })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::ShardLimit { account, region, current: 2, limit: 3, additional: 2 }
            if account == "000000000000" && region == "us-east-1"),
        "{error}"
    );
    h.engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: "1000".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        h.engine
            .split_shard(&SplitShard {
                stream: stream.clone(),
                shard_to_split: "shardId-000000000001".into(),
                new_starting_hash_key: (u128::MAX - 5).to_string()
            })
            .await,
        Err(EngineError::ShardLimit { .. })
    ));
}

/// ShardCount has no bound of its own in today's AWS model: a stream larger than the old
/// 10,000-shard cap gets the account quota's error with its facts, not a text of ours.
#[tokio::test]
async fn create_stream_beyond_the_quota_is_the_account_shard_limit() {
    let h = harness_with(EngineConfig { shard_limit: 10_000, ..config() });
    let error = h
        .engine
        .create_stream(CreateStream { name: "big".into(), shard_count: Some(10_001), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(&error, EngineError::ShardLimit { current: 0, limit: 10_000, additional: 10_001, .. }), "{error}");
}

#[tokio::test]
async fn on_demand_streams_start_with_four_shards_and_refuse_resharding() {
    let h = harness();
    h.engine.create_stream(CreateStream { name: "od".into(), ..Default::default() }).await.unwrap();
    let summary = h.engine.describe_stream_summary(&StreamRef::name("od")).unwrap();
    assert_eq!(summary.mode, StreamMode::OnDemand);
    assert_eq!(summary.open_shard_count, 4);
    let error = h
        .engine
        .split_shard(&SplitShard {
            stream: StreamRef::name("od"),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: "1000".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Validation(_)));
    assert_eq!(h.engine.describe_limits().on_demand_stream_count, 1);
}

#[tokio::test]
async fn throughput_limits_throttle_per_shard_with_the_clock() {
    let h = harness_with(EngineConfig { enforce_limits: true, ..config() });
    let stream = create(&h.engine, "s", 1).await;
    let entries: Vec<PutEntry> = (0..500).map(|i| entry(&i.to_string(), "x")).collect();
    assert_eq!(
        h.engine
            .put_records(PutRecords { stream: stream.clone(), records: entries.clone() })
            .await
            .unwrap()
            .failed_count,
        0
    );
    assert_eq!(
        h.engine
            .put_records(PutRecords { stream: stream.clone(), records: entries.clone() })
            .await
            .unwrap()
            .failed_count,
        0
    );
    let throttled =
        h.engine.put_records(PutRecords { stream: stream.clone(), records: entries.clone() }).await.unwrap();
    assert_eq!(throttled.failed_count, 500);
    let PutOutcome::Failed(error) = &throttled.records[0] else { panic!("expected a failure") };
    assert!(
        matches!(error, EngineError::ThroughputExceeded { shard, stream, account }
            if shard == "shardId-000000000000" && stream == "s" && account == "000000000000"),
        "{error}"
    );
    h.clock.advance_ms(1000);
    assert_eq!(
        h.engine.put_records(PutRecords { stream: stream.clone(), records: entries }).await.unwrap().failed_count,
        0
    );
    let it = iterator(&h.engine, &stream, "shardId-000000000000", IteratorStart::Latest);
    for _ in 0..5 {
        h.engine.get_records(&GetRecords { shard_iterator: it.to_string(), limit: Some(1) }).unwrap();
    }
    assert!(matches!(
        h.engine.get_records(&GetRecords { shard_iterator: it.to_string(), limit: Some(1) }),
        Err(EngineError::ThroughputExceeded { .. })
    ));
}

#[tokio::test]
async fn streams_resolve_by_arn_and_list_with_paging() {
    let h = harness();
    for name in ["a", "b", "c"] {
        create(&h.engine, name, 1).await;
    }
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/b";
    assert_eq!(h.engine.describe_stream_summary(&StreamRef::arn(arn)).unwrap().name, "b");
    let foreign = h.engine.describe_stream_summary(&StreamRef::arn("arn:aws:kinesis:eu-west-1:000000000000:stream/b"));
    assert!(stream_not_found(&foreign.unwrap_err(), "b"));
    let page = h
        .engine
        .list_streams(&ListStreams { limit: Some(2), exclusive_start_stream_name: None, next_token: None })
        .unwrap();
    assert_eq!(page.streams.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert!(page.has_more);
    let rest = h
        .engine
        .list_streams(&ListStreams {
            limit: None,
            exclusive_start_stream_name: None,
            next_token: page.next_token.clone(),
        })
        .unwrap();
    assert_eq!(rest.streams.len(), 1);
    assert!(!rest.has_more);
}

#[tokio::test]
async fn readers_can_wait_for_new_records() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    let mut watch =
        h.engine.watch_shard(&ShardRef { stream: stream.clone(), shard_id: "shardId-000000000000".into() }).unwrap();
    let before = *watch.borrow_and_update();
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "x"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    watch.changed().await.unwrap();
    assert!(*watch.borrow() > before);
    assert!(h
        .engine
        .watch_shard(&ShardRef { stream: stream.clone(), shard_id: "shardId-000000000009".into() })
        .is_err());
}

#[tokio::test]
async fn consumers_move_through_their_states_within_their_quotas() {
    let h = harness_with(EngineConfig { consumer_ms: 500, delete_stream_ms: 500, consumer_limit: 6, ..config() });
    let stream = create(&h.engine, "s", 1).await;
    let arn = h.engine.describe_stream_summary(&stream).unwrap().arn.into_string();
    let mut names = Vec::new();
    for i in 0..5 {
        let consumer = h
            .engine
            .register_consumer(RegisterConsumer {
                stream_arn: arn.clone(),
                consumer_name: format!("c{i}"),
                tags: Default::default(),
            })
            .await
            .unwrap();
        assert_eq!(consumer.status, ConsumerStatus::Creating);
        names.push(consumer.arn.into_string());
    }
    // At most five CREATING at once.
    let busy = h
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "c5".into(),
            tags: Default::default(),
        })
        .await
        .unwrap_err();
    assert!(matches!(busy, EngineError::LimitExceeded(_)), "{busy}");
    h.clock.advance_ms(500);
    let by_arn = |arn: &str| ConsumerRef { consumer_arn: Some(arn.into()), ..Default::default() };
    assert_eq!(h.engine.describe_consumer(&by_arn(&names[0])).unwrap().status, ConsumerStatus::Active);
    h.engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "c5".into(),
            tags: Default::default(),
        })
        .await
        .unwrap();
    // The configured per-stream quota.
    let full = h
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "c6".into(),
            tags: Default::default(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&full, EngineError::LimitExceeded(LimitExceeded::Consumers { stream, account, limit: 6 })
            if stream == "s" && account == "000000000000"),
        "{full:?}"
    );
    // Deregistering: DELETING for the configured delay, then gone.
    h.engine.deregister_consumer(&by_arn(&names[0])).await.unwrap();
    assert_eq!(h.engine.describe_consumer(&by_arn(&names[0])).unwrap().status, ConsumerStatus::Deleting);
    h.clock.advance_ms(500);
    assert!(matches!(h.engine.describe_consumer(&by_arn(&names[0])), Err(EngineError::ConsumerNotFound { .. })));
    h.engine.reap().await.unwrap();
    assert_eq!(
        h.engine
            .list_consumers(&ListConsumers {
                stream_arn: arn.clone(),
                next_token: None,
                max_results: None,
                stream_creation_ms: None
            })
            .unwrap()
            .consumers
            .len(),
        5
    );
    // DeleteStream needs EnforceConsumerDeletion; then its consumers are DELETING too.
    assert!(matches!(
        h.engine.delete_stream(&DeleteStream { stream: stream.clone(), enforce_consumer_deletion: false }).await,
        Err(EngineError::ResourceInUse(_))
    ));
    h.engine.delete_stream(&DeleteStream { stream: stream.clone(), enforce_consumer_deletion: true }).await.unwrap();
    assert_eq!(h.engine.describe_consumer(&by_arn(&names[1])).unwrap().status, ConsumerStatus::Deleting);
}

async fn subscribed(h: &Harness, stream: &str, shard: &str, start: IteratorStart) -> (String, crate::Subscription) {
    let arn = h.engine.describe_stream_summary(&StreamRef::name(stream)).unwrap().arn.into_string();
    let consumer = match h
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "app".into(),
            tags: Default::default(),
        })
        .await
    {
        Ok(consumer) => consumer.arn.into_string(),
        Err(_) => {
            let reference =
                ConsumerRef { stream_arn: Some(arn), consumer_name: Some("app".into()), consumer_arn: None };
            h.engine.describe_consumer(&reference).unwrap().arn.into_string()
        }
    };
    let request = SubscribeToShard {
        consumer_arn: consumer.clone(),
        shard_id: shard.into(),
        start,
        stray_sequence_number: false,
    };
    (consumer, h.engine.subscribe_to_shard(&request).unwrap())
}

fn read_data(h: &Harness, subscription: &mut crate::Subscription) -> (Vec<String>, bool) {
    match h.engine.read_subscription(subscription).unwrap() {
        crate::SubscriptionRead::Records { records, caught_up } => {
            (records.iter().map(|r| String::from_utf8_lossy(&r.data).into_owned()).collect(), caught_up)
        }
        other => panic!("expected records, got {other:?}"),
    }
}

#[tokio::test]
async fn a_subscription_waits_for_records_and_ends_with_the_children() {
    let h = harness();
    let stream = create(&h.engine, "s", 1).await;
    h.engine
        .put_records(PutRecords { stream: stream.clone(), records: vec![entry("k", "a"), entry("k", "b")] })
        .await
        .unwrap();
    let (_, mut subscription) = subscribed(&h, "s", "shardId-000000000000", IteratorStart::TrimHorizon).await;
    assert_eq!(read_data(&h, &mut subscription), (vec!["a".to_string(), "b".to_string()], true));
    let tip = h.engine.get_records(&GetRecords {
        shard_iterator: iterator(&h.engine, &stream, "shardId-000000000000", IteratorStart::TrimHorizon).to_string(),
        limit: None,
    });
    let last = tip.unwrap().records[1].sequence_number;
    assert_eq!(
        subscription.continuation_sequence_number(),
        SequenceNumber::resume_after(last.shard_created_secs, 0, last.lsn)
    );
    assert_eq!(read_data(&h, &mut subscription), (vec![], true));

    // The wait ends when records become visible, not on a timer.
    let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), subscription.wait()).await;
    assert!(waiting.is_err(), "nothing to wake for yet");
    h.engine
        .put_record(PutRecord { stream: stream.clone(), record: entry("k", "c"), sequence_number_for_ordering: None })
        .await
        .unwrap();
    let wake = tokio::time::timeout(std::time::Duration::from_secs(5), subscription.wait()).await.unwrap();
    assert_eq!(wake, crate::Wake::Records);
    assert_eq!(read_data(&h, &mut subscription).0, ["c"]);

    h.engine
        .split_shard(&SplitShard {
            stream: stream.clone(),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: (u128::MAX / 2).to_string(),
        })
        .await
        .unwrap();
    match h.engine.read_subscription(&mut subscription).unwrap() {
        crate::SubscriptionRead::ShardEnd { child_shards } => {
            let ids: Vec<String> = child_shards.iter().map(|c| c.shard_id.to_string()).collect();
            assert_eq!(ids, ["shardId-000000000001", "shardId-000000000002"]);
        }
        other => panic!("expected the shard's end, got {other:?}"),
    }
}

#[tokio::test]
async fn one_subscription_per_consumer_and_shard_with_takeover_after_five_seconds() {
    let h = harness();
    create(&h.engine, "s", 2).await;
    let (consumer, mut first) = subscribed(&h, "s", "shardId-000000000000", IteratorStart::Latest).await;
    let again = |shard: &str| SubscribeToShard {
        consumer_arn: consumer.clone(),
        shard_id: shard.into(),
        start: IteratorStart::Latest,
        stray_sequence_number: false,
    };
    // Another shard is another slot.
    let other = h.engine.subscribe_to_shard(&again("shardId-000000000001")).unwrap();
    assert_eq!(h.engine.open_subscriptions(), 2);
    h.clock.advance_ms(4_999);
    let refused = h.engine.subscribe_to_shard(&again("shardId-000000000000")).unwrap_err();
    assert!(matches!(refused, EngineError::ResourceInUse(_)), "{refused}");
    h.clock.advance_ms(1);
    let second = h.engine.subscribe_to_shard(&again("shardId-000000000000")).unwrap();
    assert_eq!(first.wait().await, crate::Wake::TakenOver);
    let ended = h.engine.check_subscription(&mut first).unwrap_err();
    assert!(matches!(ended, EngineError::ResourceInUse(ResourceInUse::SubscriptionTakenOver { .. })), "{ended}");
    // The old subscription's end does not free the new one's slot.
    drop(first);
    assert_eq!(h.engine.open_subscriptions(), 2);
    drop(second);
    drop(other);
    assert_eq!(h.engine.open_subscriptions(), 0);
    // Once closed, a slot is free at once.
    h.engine.subscribe_to_shard(&again("shardId-000000000000")).unwrap();
}

#[tokio::test]
async fn with_limits_enforced_a_consumer_reads_2_mib_per_second_per_shard() {
    let h = harness_with(EngineConfig { enforce_limits: true, ..config() });
    let stream = create(&h.engine, "s", 1).await;
    let record = "z".repeat(1_000_000);
    for _ in 0..5 {
        h.engine
            .put_record(PutRecord {
                stream: stream.clone(),
                record: entry("k", &record),
                sequence_number_for_ordering: None,
            })
            .await
            .unwrap();
        h.clock.advance_ms(1_000);
    }
    let (_, mut subscription) = subscribed(&h, "s", "shardId-000000000000", IteratorStart::TrimHorizon).await;
    // Two records fit an event (2 MiB); the full bucket allows a second read; then the
    // debt must be repaid first.
    assert_eq!(read_data(&h, &mut subscription).0.len(), 2);
    assert_eq!(read_data(&h, &mut subscription).0.len(), 2);
    let crate::SubscriptionRead::Throttled { wait_ms } = h.engine.read_subscription(&mut subscription).unwrap() else {
        panic!("expected throttling")
    };
    assert!((900..=1_000).contains(&wait_ms), "{wait_ms}");
    h.clock.advance_ms(wait_ms);
    assert_eq!(read_data(&h, &mut subscription).0.len(), 1);
}
