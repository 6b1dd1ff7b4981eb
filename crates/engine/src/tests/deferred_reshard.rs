//! Resharding takes effect when the stream returns to ACTIVE (issue 14, item 8): while
//! UPDATING the shard list is unchanged and puts go to the old shards; the parents'
//! ending sequence numbers and the children appear together when the update completes,
//! also across a restart or a crash during UPDATING.

use rheo_storage::Tear;

use super::*;

const UPDATE_MS: u64 = 500;

fn slow_update_config() -> EngineConfig {
    EngineConfig { update_stream_ms: UPDATE_MS, ..config() }
}

fn describe(engine: &Engine, stream: &StreamRef) -> StreamDescription {
    engine
        .describe_stream(&DescribeStream { stream: stream.clone(), limit: None, exclusive_start_shard_id: None })
        .unwrap()
}

fn listed(engine: &Engine, stream: &StreamRef) -> Vec<ShardInfo> {
    engine.list_shards(&ListShards { stream: stream.clone(), ..Default::default() }).unwrap().shards
}

fn ids(shards: &[ShardInfo]) -> Vec<String> {
    shards.iter().map(|s| s.shard_id.to_string()).collect()
}

fn split_request(stream: &StreamRef) -> SplitShard {
    SplitShard {
        stream: stream.clone(),
        shard_to_split: "shardId-000000000000".into(),
        new_starting_hash_key: (u128::MAX / 2 + 1).to_string(),
    }
}

async fn put_at(engine: &Engine, stream: &StreamRef, hash: u128, data: &str) -> PutPlacement {
    engine
        .put_record(PutRecord {
            stream: stream.clone(),
            record: at_hash(hash, data),
            sequence_number_for_ordering: None,
        })
        .await
        .unwrap()
        .placement
}

/// What the stream shows while a split of its one shard waits: the old layout.
fn assert_unchanged(engine: &Engine, stream: &StreamRef, before: &StreamDescription) {
    let during = describe(engine, stream);
    assert_eq!(during.summary.status, StreamStatus::Updating);
    assert_eq!(during.shards, before.shards);
    assert_eq!(listed(engine, stream), before.shards);
    let summary = engine.describe_stream_summary(stream).unwrap();
    assert_eq!((summary.status, summary.open_shard_count), (StreamStatus::Updating, 1));
}

#[tokio::test]
async fn a_split_shows_and_routes_the_old_shards_until_the_stream_is_active() {
    let h = harness_with(slow_update_config());
    let stream = create(&h.engine, "s", 1).await;
    let before = describe(&h.engine, &stream);
    h.engine.split_shard(&split_request(&stream)).await.unwrap();
    assert_unchanged(&h.engine, &stream, &before);

    // Puts go to the old shard; the children do not exist yet.
    let during = put_at(&h.engine, &stream, u128::MAX, "during").await;
    assert_eq!(during.shard_id.to_string(), "shardId-000000000000");
    for child in ["shardId-000000000001", "shardId-000000000002"] {
        let request = GetShardIterator {
            stream: stream.clone(),
            shard_id: child.into(),
            start: IteratorStart::TrimHorizon,
            stray_sequence_number: false,
        };
        let error = h.engine.get_shard_iterator(&request).unwrap_err();
        assert!(matches!(&error, EngineError::ShardNotFound { shard, .. } if shard == child), "{error}");
    }
    // A second change waits for the first: the stream is not ACTIVE.
    let busy = h.engine.split_shard(&split_request(&stream)).await.unwrap_err();
    assert!(matches!(busy, EngineError::StreamNotActive { status: StreamStatus::Updating, .. }), "{busy}");

    // The reaper before the deadline changes nothing.
    h.clock.advance_ms(UPDATE_MS - 1);
    h.engine.reap().await.unwrap();
    assert_unchanged(&h.engine, &stream, &before);

    h.clock.advance_ms(1);
    h.engine.reap().await.unwrap();
    let after = describe(&h.engine, &stream);
    assert_eq!(after.summary.status, StreamStatus::Active);
    assert_eq!(ids(&after.shards), ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]);
    let ending = after.shards[0].ending_sequence_number.expect("the parent is closed");
    assert!(ending.lsn > during.sequence_number.lsn, "the parent ends after the record put while UPDATING");
    assert_eq!(after.shards[1].parent_shard_id, Some(ShardId::new(0)));
    assert_eq!(listed(&h.engine, &stream), after.shards);

    // The record put while UPDATING stays in the parent; new puts go to the children.
    let parent = iterator(&h.engine, &stream, "shardId-000000000000", IteratorStart::TrimHorizon);
    assert_eq!(drain(&h.engine, parent).0, ["during"]);
    let now = put_at(&h.engine, &stream, u128::MAX, "after").await;
    assert_eq!(now.shard_id.to_string(), "shardId-000000000002");
}

#[tokio::test]
async fn merge_and_update_shard_count_also_wait_for_the_end_of_updating() {
    let h = harness_with(slow_update_config());
    let stream = create(&h.engine, "s", 2).await;
    let before = describe(&h.engine, &stream);
    h.engine
        .merge_shards(&MergeShards {
            stream: stream.clone(),
            shard_to_merge: "shardId-000000000000".into(),
            adjacent_shard_to_merge: "shardId-000000000001".into(),
        })
        .await
        .unwrap();
    assert_eq!(describe(&h.engine, &stream).shards, before.shards);
    assert_eq!(put_at(&h.engine, &stream, u128::MAX, "x").await.shard_id.to_string(), "shardId-000000000001");
    h.clock.advance_ms(UPDATE_MS);
    h.engine.reap().await.unwrap();
    let merged = describe(&h.engine, &stream);
    assert_eq!(merged.summary.status, StreamStatus::Active);
    assert_eq!(ids(&merged.shards), ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]);
    assert_eq!(merged.summary.open_shard_count, 1);

    let change =
        h.engine.update_shard_count(&UpdateShardCount { stream: stream.clone(), target_shard_count: 2 }).await.unwrap();
    assert_eq!((change.current, change.target), (1, 2));
    let waiting = h.engine.describe_stream_summary(&stream).unwrap();
    assert_eq!((waiting.status, waiting.open_shard_count), (StreamStatus::Updating, 1));
    assert_eq!(describe(&h.engine, &stream).shards, merged.shards);
    h.clock.advance_ms(UPDATE_MS);
    h.engine.reap().await.unwrap();
    let scaled = h.engine.describe_stream_summary(&stream).unwrap();
    assert_eq!((scaled.status, scaled.open_shard_count), (StreamStatus::Active, 2));
}

#[tokio::test]
async fn the_shard_quota_counts_a_waiting_split() {
    let h = harness_with(EngineConfig { shard_limit: 2, ..slow_update_config() });
    let stream = create(&h.engine, "s", 1).await;
    h.engine.split_shard(&split_request(&stream)).await.unwrap();
    let refused = h
        .engine
        .create_stream(CreateStream { name: "t".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(refused, EngineError::ShardLimit { current: 2, .. }), "{refused}");
}

#[tokio::test]
async fn a_restart_while_updating_keeps_the_split_and_applies_it_at_the_deadline() {
    let h = harness_with(slow_update_config());
    let stream = create(&h.engine, "s", 1).await;
    let before = describe(&h.engine, &stream);
    h.engine.split_shard(&split_request(&stream)).await.unwrap();
    put_at(&h.engine, &stream, 0, "during").await;

    let Harness { fs, clock, engine } = h;
    engine.shutdown();
    let engine = open(&fs, &clock, slow_update_config());
    assert_unchanged(&engine, &stream, &before);
    clock.advance_ms(UPDATE_MS - 1);
    engine.reap().await.unwrap();
    assert_unchanged(&engine, &stream, &before);
    clock.advance_ms(1);
    engine.reap().await.unwrap();
    let after = describe(&engine, &stream);
    assert_eq!(after.summary.status, StreamStatus::Active);
    assert_eq!(ids(&after.shards), ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]);
    let parent = iterator(&engine, &stream, "shardId-000000000000", IteratorStart::TrimHorizon);
    assert_eq!(drain(&engine, parent).0, ["during"]);
}

#[tokio::test]
async fn a_crash_while_updating_applies_the_split_whole_after_the_deadline() {
    let fs = MemFs::default();
    let clock = ManualClock::new(START_MS);
    // Synced writes, as a real server: what was acknowledged survives the crash.
    let durable = |fs: &MemFs, clock: &ManualClock| {
        Engine::open(
            Arc::new(fs.clone()),
            Arc::new(clock.clone()),
            "/data".as_ref(),
            LogConfig::default(),
            slow_update_config(),
        )
        .unwrap()
    };
    let engine = durable(&fs, &clock);
    let stream = create(&engine, "s", 1).await;
    engine.split_shard(&split_request(&stream)).await.unwrap();
    drop(engine);
    fs.crash(Tear::DropUnsynced);
    // Back after the deadline: still UPDATING with the old shard until the reaper runs,
    // which applies the whole split.
    clock.advance_ms(UPDATE_MS * 10);
    let engine = durable(&fs, &clock);
    let waiting = describe(&engine, &stream);
    assert_eq!(waiting.summary.status, StreamStatus::Updating);
    assert_eq!(ids(&waiting.shards), ["shardId-000000000000"]);
    engine.reap().await.unwrap();
    let after = describe(&engine, &stream);
    assert_eq!(after.summary.status, StreamStatus::Active);
    assert_eq!(ids(&after.shards), ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]);
    assert!(after.shards[0].ending_sequence_number.is_some());
    assert_eq!(after.summary.open_shard_count, 2);
}
