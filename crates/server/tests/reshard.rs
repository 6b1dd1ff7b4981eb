//! Resharding over HTTP with an UPDATING period (issue 14, item 8): while UPDATING the
//! answers show the old shards exactly, a child is an unknown shard, and the new layout
//! appears when the server's reaper has applied the change and the stream is ACTIVE.

#![allow(clippy::unwrap_used)] // test code

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use rheo_engine::EngineConfig;
use rheo_storage::ManualClock;
use serde_json::{json, Value};

use common::{bind, call_json as call, instant_lifecycle, memory_engine, TestServer};

const UPDATE_MS: u64 = 60_000;

/// A ceiling only a hung reaper would reach (it runs every 100 ms).
const REAPER_CEILING: Duration = Duration::from_secs(10);

async fn status(server: &TestServer) -> Value {
    call(server, "DescribeStreamSummary", json!({"StreamName": "S"})).await.1["StreamDescriptionSummary"]
        ["StreamStatus"]
        .clone()
}

#[tokio::test]
async fn a_split_shows_the_old_shards_until_the_stream_is_active_again() {
    let clock = ManualClock::new(1_700_000_000_000);
    let config = EngineConfig { update_stream_ms: UPDATE_MS, ..instant_lifecycle() };
    let engine = memory_engine(config, Arc::new(clock.clone()));
    let server = TestServer::spawn(bind(&engine).await, engine);
    call(&server, "CreateStream", json!({"StreamName": "S", "ShardCount": 1})).await;
    let (_, before) = call(&server, "DescribeStream", json!({"StreamName": "S"})).await;
    let old_shards = before["StreamDescription"]["Shards"].clone();
    let half = (u128::MAX / 2 + 1).to_string();
    let (ok, body) = call(
        &server,
        "SplitShard",
        json!({"StreamName": "S", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": half}),
    )
    .await;
    assert_eq!((ok, body), (StatusCode::OK, Value::Null));

    let (_, during) = call(&server, "DescribeStream", json!({"StreamName": "S"})).await;
    assert_eq!(during["StreamDescription"]["StreamStatus"], "UPDATING");
    assert_eq!(during["StreamDescription"]["Shards"], old_shards);
    let shard = &old_shards[0];
    let mut members: Vec<&String> = shard.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(members, ["HashKeyRange", "SequenceNumberRange", "ShardId"]);
    assert!(shard["SequenceNumberRange"].get("EndingSequenceNumber").is_none(), "{shard}");
    let (_, listed) = call(&server, "ListShards", json!({"StreamName": "S"})).await;
    assert_eq!(listed["Shards"], old_shards);
    let summary = call(&server, "DescribeStreamSummary", json!({"StreamName": "S"})).await.1;
    assert_eq!(summary["StreamDescriptionSummary"]["OpenShardCount"], 1);
    let (_, put) = call(
        &server,
        "PutRecord",
        json!({"StreamName": "S", "Data": "eA==", "PartitionKey": "k", "ExplicitHashKey": half}),
    )
    .await;
    assert_eq!(put["ShardId"], "shardId-000000000000");
    let child = json!({"StreamName": "S", "ShardId": "shardId-000000000002", "ShardIteratorType": "TRIM_HORIZON"});
    let (code, error) = call(&server, "GetShardIterator", child.clone()).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({
            "__type": "ResourceNotFoundException",
            "message": "Shard shardId-000000000002 in stream S under account 000000000000 does not exist"
        })
    );

    clock.advance_ms(UPDATE_MS);
    let deadline = Instant::now() + REAPER_CEILING;
    while status(&server).await != "ACTIVE" {
        assert!(Instant::now() < deadline, "the reaper did not apply the split");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, after) = call(&server, "DescribeStream", json!({"StreamName": "S"})).await;
    let shards = after["StreamDescription"]["Shards"].as_array().unwrap();
    let ids: Vec<&str> = shards.iter().map(|s| s["ShardId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]);
    let ending = shards[0]["SequenceNumberRange"]["EndingSequenceNumber"].as_str().unwrap();
    let put_sequence = put["SequenceNumber"].as_str().unwrap();
    assert!((ending.len(), ending) > (put_sequence.len(), put_sequence), "the parent ends after the put");
    assert_eq!(shards[2]["ParentShardId"], "shardId-000000000000");
    assert_eq!(call(&server, "GetShardIterator", child).await.0, StatusCode::OK);
    server.stop().await;
}
