//! AUTO record distribution and UpdateStreamRecordDistributionStrategy: even placement
//! whatever the keys, optional partition keys, AWS's refusals, and persistence.

use std::collections::BTreeMap;

use super::*;

const ON_DEMAND_SHARDS: usize = 4;

async fn create_on_demand(engine: &Engine, name: &str, record_distribution: Option<RecordDistribution>) -> StreamRef {
    engine.create_stream(CreateStream { name: name.into(), record_distribution, ..Default::default() }).await.unwrap();
    StreamRef::name(name)
}

fn arn_of(engine: &Engine, stream: &StreamRef) -> String {
    engine.describe_stream_summary(stream).unwrap().arn.into_string()
}

async fn set_strategy(engine: &Engine, stream: &StreamRef, strategy: RecordDistribution) -> Result<(), EngineError> {
    let stream_arn = arn_of(engine, stream);
    engine.update_record_distribution(&UpdateRecordDistribution { stream_arn, strategy }).await
}

fn keyless(data: &str) -> PutEntry {
    PutEntry { partition_key: None, explicit_hash_key: None, data: Bytes::copy_from_slice(data.as_bytes()) }
}

/// Records per shard index, from the puts' answers.
fn per_shard(outcomes: &[PutOutcome]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for outcome in outcomes {
        match outcome {
            PutOutcome::Stored(placement) => *counts.entry(placement.shard_id.to_string()).or_insert(0) += 1,
            PutOutcome::Failed(error) => panic!("put failed: {error}"),
        }
    }
    counts
}

/// Every record of the stream as (partition key, data), shard by shard.
fn read_all(engine: &Engine, stream: &StreamRef) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for index in 0..ON_DEMAND_SHARDS as u32 {
        let iterator = iterator(engine, stream, &ShardId::new(index).to_string(), IteratorStart::TrimHorizon);
        let result = engine.get_records(&GetRecords { shard_iterator: iterator, limit: None }).unwrap();
        out.extend(
            result.records.into_iter().map(|r| (r.partition_key, String::from_utf8_lossy(&r.data).into_owned())),
        );
    }
    out
}

#[tokio::test]
async fn auto_spreads_records_evenly_whatever_the_keys() {
    let h = harness();
    let stream = create_on_demand(&h.engine, "auto", Some(RecordDistribution::Auto)).await;
    // The same partition key and an explicit hash key of shard 0 would put everything on
    // one shard under USER_PARTITION_KEY; AUTO ignores both.
    let records: Vec<PutEntry> = (0..100)
        .map(|n| match n % 3 {
            0 => keyless(&format!("r{n}")),
            1 => entry("same", &format!("r{n}")),
            _ => at_hash(0, &format!("r{n}")),
        })
        .collect();
    let put = h.engine.put_records(PutRecords { stream: stream.clone(), records }).await.unwrap();
    assert_eq!(put.failed_count, 0);
    let counts = per_shard(&put.records);
    assert_eq!(counts.len(), ON_DEMAND_SHARDS);
    assert!(counts.values().all(|n| *n == 25), "{counts:?}");

    // Single puts keep the rotation going: four more records, one per shard.
    let mut singles = Vec::new();
    for n in 0..ON_DEMAND_SHARDS {
        let record = entry("same", &format!("single{n}"));
        let put =
            h.engine.put_record(PutRecord { stream: stream.clone(), record, sequence_number_for_ordering: None }).await;
        singles.push(PutOutcome::Stored(put.unwrap().placement));
    }
    assert_eq!(per_shard(&singles).len(), ON_DEMAND_SHARDS);

    // Keys are kept for consumers as sent; a record put without one reads back without one.
    let read = read_all(&h.engine, &stream);
    assert_eq!(read.len(), 104);
    assert!(read.contains(&(None, "r0".to_owned())));
    assert!(read.contains(&(Some("same".to_owned()), "r1".to_owned())));
}

#[tokio::test]
async fn the_strategy_is_on_demand_only_and_refuses_what_aws_refuses() {
    let h = harness();
    let account = || "000000000000".to_owned();
    let error = h
        .engine
        .create_stream(CreateStream {
            name: "prov".into(),
            shard_count: Some(1),
            record_distribution: Some(RecordDistribution::Auto),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        invalid_argument(error),
        InvalidArgument::AutoDistributionProvisioned { stream: "prov".into(), account: account() }
    );
    let provisioned = create(&h.engine, "prov", 1).await;
    let error = set_strategy(&h.engine, &provisioned, RecordDistribution::Auto).await.unwrap_err();
    assert_eq!(
        invalid_argument(error),
        InvalidArgument::AutoDistributionProvisioned { stream: "prov".into(), account: account() }
    );
    // USER_PARTITION_KEY is what a provisioned stream does anyway.
    set_strategy(&h.engine, &provisioned, RecordDistribution::UserPartitionKey).await.unwrap();
    assert_eq!(h.engine.describe_stream_summary(&provisioned).unwrap().record_distribution, None);

    let auto = create_on_demand(&h.engine, "auto", Some(RecordDistribution::Auto)).await;
    let error = h
        .engine
        .update_stream_mode(&UpdateStreamMode {
            stream_arn: arn_of(&h.engine, &auto),
            mode: StreamMode::Provisioned,
            warm_throughput_mibps: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        invalid_argument(error),
        InvalidArgument::ProvisionedWithAutoDistribution { stream: "auto".into(), account: account() }
    );
    let error = h
        .engine
        .put_record(PutRecord {
            stream: auto.clone(),
            record: keyless("x"),
            sequence_number_for_ordering: Some("1".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(
        invalid_argument(error),
        InvalidArgument::OrderingWithAutoDistribution { stream: "auto".into(), account: account() }
    );

    // Back to USER_PARTITION_KEY: a partition key is required again, and the stream may
    // become provisioned.
    set_strategy(&h.engine, &auto, RecordDistribution::UserPartitionKey).await.unwrap();
    let error = h
        .engine
        .put_records(PutRecords { stream: auto.clone(), records: vec![entry("k", "a"), keyless("b")] })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::Validation(Validation::Records(violations))
            if *violations == [RecordViolation::PartitionKeyMissing { member: Some(2) }]),
        "{error:?}"
    );
    h.engine
        .update_stream_mode(&UpdateStreamMode {
            stream_arn: arn_of(&h.engine, &auto),
            mode: StreamMode::Provisioned,
            warm_throughput_mibps: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_strategy_needs_an_active_stream_named_by_arn() {
    let h = harness_with(EngineConfig { create_stream_ms: 500, ..config() });
    let stream = create_on_demand(&h.engine, "young", None).await;
    let error = set_strategy(&h.engine, &stream, RecordDistribution::Auto).await.unwrap_err();
    assert!(matches!(error, EngineError::StreamNotActive { status: StreamStatus::Creating, .. }), "{error}");
    let stream_arn = arn_of(&h.engine, &stream).replace("young", "other");
    let error = h
        .engine
        .update_record_distribution(&UpdateRecordDistribution { stream_arn, strategy: RecordDistribution::Auto })
        .await
        .unwrap_err();
    assert!(stream_not_found(&error, "other"), "{error}");
}

#[tokio::test]
async fn the_strategy_takes_effect_at_once_and_survives_a_restart() {
    let h = harness();
    let stream = create_on_demand(&h.engine, "s", None).await;
    let summary = h.engine.describe_stream_summary(&stream).unwrap();
    assert_eq!(summary.record_distribution, Some(RecordDistribution::UserPartitionKey));
    let same_key: Vec<PutEntry> = (0..8).map(|n| entry("same", &n.to_string())).collect();
    let put = h.engine.put_records(PutRecords { stream: stream.clone(), records: same_key.clone() }).await.unwrap();
    assert_eq!(per_shard(&put.records).len(), 1, "one key, one shard");

    set_strategy(&h.engine, &stream, RecordDistribution::Auto).await.unwrap();
    let summary = h.engine.describe_stream_summary(&stream).unwrap();
    assert_eq!((summary.status, summary.record_distribution), (StreamStatus::Active, Some(RecordDistribution::Auto)));

    let Harness { fs, clock, engine } = h;
    engine.shutdown();
    let engine = open(&fs, &clock, config());
    assert_eq!(engine.describe_stream_summary(&stream).unwrap().record_distribution, Some(RecordDistribution::Auto));
    let put = engine.put_records(PutRecords { stream: stream.clone(), records: same_key }).await.unwrap();
    assert!(per_shard(&put.records).values().all(|n| *n == 2), "{:?}", per_shard(&put.records));
}
