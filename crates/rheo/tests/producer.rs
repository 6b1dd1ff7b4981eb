//! The rheo-client producer against a real server: every record acknowledged and readable
//! in put order per key, bursts above `--enforce-limits` retried without loss, and
//! resharding in the middle of a run followed without loss or misrouted aggregates.

mod common;

use common::streams::{create_active, read_shard, wait_active};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::Server;
use rheo_client::producer::{Producer, ProducerConfig, PutHandle, PutOutcome};
use rheo_client::shards::{partition_key_hash, ShardMap};
use rheo_client::{ClientConfig, Kinesis};
use rheo_protocol::model::{ScalingType, UpdateShardCountInput};

/// A user record as read back: its shard, Kinesis sequence number, index in its aggregate.
#[derive(Debug, Clone)]
struct Read {
    shard_id: String,
    partition_key: String,
    data: String,
    sequence_number: String,
    sub_sequence_number: Option<u64>,
}

/// Reads every shard (closed ones included) from the start and de-aggregates as the KCL
/// does: a sub-record whose hash key the shard does not take is dropped (counted in the
/// second member). The producer resends the records of an aggregate that landed in an
/// unexpected shard, so such drops lose nothing.
async fn read_all(kinesis: &Kinesis, stream: &str) -> (Vec<Read>, usize) {
    let map = ShardMap::load(kinesis, stream).await.expect("shards");
    let mut out = Vec::new();
    let mut dropped = 0;
    for shard in map.shards() {
        for record in read_shard(kinesis, stream, &shard.shard_id).await {
            let sequence_number = record.sequence_number.as_str().to_owned();
            let users = if rheo_aws::kpl::is_aggregated(&record.data) {
                rheo_aws::kpl::deaggregate(&record.data)
                    .expect("an aggregate that decodes")
                    .into_iter()
                    .enumerate()
                    .map(|(i, sub)| (sub.partition_key, sub.explicit_hash_key, sub.data, Some(i as u64)))
                    .collect()
            } else {
                vec![(record.partition_key.clone().expect("key"), None, record.data.clone(), None)]
            };
            for (partition_key, explicit_hash_key, data, sub_sequence_number) in users {
                let hash = match explicit_hash_key {
                    Some(text) => text.parse::<u128>().expect("decimal hash key"),
                    None => partition_key_hash(&partition_key),
                };
                if !shard.contains(hash) {
                    assert!(sub_sequence_number.is_some(), "only aggregates can hold another shard's records");
                    dropped += 1;
                    continue;
                }
                out.push(Read {
                    shard_id: shard.shard_id.clone(),
                    partition_key,
                    data: String::from_utf8(data.to_vec()).expect("utf-8"),
                    sequence_number: sequence_number.clone(),
                    sub_sequence_number,
                });
            }
        }
    }
    (out, dropped)
}

fn config(aggregation: bool) -> ProducerConfig {
    ProducerConfig {
        aggregation,
        linger: Duration::from_millis(20),
        rate_limit: None,
        record_ttl: Duration::from_secs(120),
        ..ProducerConfig::default()
    }
}

/// `data` is `key/index` so order per key can be checked from what is read.
fn record_of(key: usize, index: usize) -> (String, String) {
    (format!("key-{key}"), format!("key-{key}/{index:06}"))
}

async fn put_all(producer: &Producer, stream: &str, keys: usize, per_key: usize) -> Vec<(String, PutHandle)> {
    let mut handles = Vec::new();
    for index in 0..per_key {
        for key in 0..keys {
            let (partition_key, data) = record_of(key, index);
            let handle = producer.put(stream, &partition_key, Bytes::from(data.clone())).await.expect("put");
            handles.push((data, handle));
        }
    }
    handles
}

async fn outcomes(handles: Vec<(String, PutHandle)>) -> HashMap<String, PutOutcome> {
    let mut out = HashMap::new();
    for (data, handle) in handles {
        let outcome = handle.await.unwrap_or_else(|e| panic!("{data} failed: {e}"));
        out.insert(data, outcome);
    }
    out
}

/// Per key, the data of what was read, in stream order (shard, sequence, sub-sequence).
fn per_key_order(reads: &[Read]) -> HashMap<String, Vec<String>> {
    let mut sorted: Vec<&Read> = reads.iter().collect();
    sorted.sort_by(|a, b| {
        (a.shard_id.as_str(), a.sequence_number.len(), a.sequence_number.as_str(), a.sub_sequence_number).cmp(&(
            b.shard_id.as_str(),
            b.sequence_number.len(),
            b.sequence_number.as_str(),
            b.sub_sequence_number,
        ))
    });
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for read in sorted {
        out.entry(read.partition_key.clone()).or_default().push(read.data.clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_is_acknowledged_and_read_back_in_put_order_per_key() {
    let server = Server::start(&[]);
    // A call timing out on a loaded machine would be retried legitimately; this test counts
    // on none being retried, so calls get all the time they need.
    let client = ClientConfig { timeout: Duration::from_secs(600), ..ClientConfig::local(&server.endpoint) };
    let kinesis = Kinesis::new_cbor(&client).expect("client");
    let (keys, per_key) = (40, 100);
    for (stream, aggregation) in [("aggregated", true), ("plain", false)] {
        create_active(&kinesis, stream, 4).await;
        let producer = Producer::new(&client, config(aggregation)).expect("producer");
        let handles = put_all(&producer, stream, keys, per_key).await;
        producer.flush().await;
        let acknowledged = outcomes(handles).await;
        assert_eq!(acknowledged.len(), keys * per_key);
        for (data, outcome) in &acknowledged {
            assert_eq!(outcome.attempts, 1, "{data}: no throttling here, so no retries");
            if !aggregation {
                assert_eq!(outcome.sub_sequence_number, None);
            }
        }
        if aggregation {
            assert!(acknowledged.values().any(|o| o.sub_sequence_number.is_some()), "aggregates were made");
        }
        let (reads, dropped) = read_all(&kinesis, stream).await;
        assert_eq!(dropped, 0);
        assert_eq!(reads.len(), keys * per_key, "{stream}: every record read once");
        for read in &reads {
            let outcome = &acknowledged[&read.data];
            assert_eq!(outcome.shard_id, read.shard_id);
            assert_eq!(outcome.sequence_number.as_str(), read.sequence_number);
            assert_eq!(outcome.sub_sequence_number, read.sub_sequence_number);
        }
        for (key, data) in per_key_order(&reads) {
            let expected: Vec<String> = (0..per_key).map(|i| format!("{key}/{i:06}")).collect();
            assert_eq!(data, expected, "{stream}: {key} in put order");
        }
        let metrics = producer.metrics();
        assert_eq!(metrics.user_records_put, (keys * per_key) as u64);
        assert_eq!(metrics.retries, 0);
        if aggregation {
            assert!(metrics.kinesis_records_put < metrics.user_records_put);
        } else {
            assert_eq!(metrics.kinesis_records_put, metrics.user_records_put);
        }
        producer.shutdown().await;
        assert!(producer.put(stream, "k", Bytes::from_static(b"late")).await.is_err(), "refused after shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_above_the_shard_limits_is_retried_without_loss() {
    let server = Server::start(&["--enforce-limits"]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).expect("client");
    create_active(&kinesis, "limited", 1).await;
    // No aggregation, no pacing, and a linger too long to matter: a call goes once a
    // quarter of the 5 MiB call limit is queued, so the first call carries five or more
    // 300 KB records, more than the shard's 1 MiB/s, and is throttled whatever the speed.
    let config = ProducerConfig {
        retry_base_delay: Duration::from_millis(50),
        linger: Duration::from_secs(600),
        ..config(false)
    };
    let producer = Producer::new(&client, config).expect("producer");
    let mut handles = Vec::new();
    for index in 0..12 {
        let key = format!("key-{}", index % 3);
        let data = format!("{key}/{index:06}/{}", "x".repeat(300_000));
        let handle = producer.put("limited", &key, Bytes::from(data.clone())).await.expect("put");
        handles.push((data, handle));
    }
    producer.flush().await;
    let acknowledged = outcomes(handles).await;
    let total = acknowledged.len();
    assert_eq!(total, 12);
    let metrics = producer.metrics();
    assert!(metrics.throttles > 0, "the server throttled: {metrics:?}");
    assert!(metrics.retries > 0);
    assert!(acknowledged.values().any(|o| o.attempts > 1));
    let (reads, dropped) = read_all(&kinesis, "limited").await;
    assert_eq!(dropped, 0);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for read in &reads {
        *seen.entry(read.data.as_str()).or_default() += 1;
    }
    assert_eq!(seen.len(), total, "nothing lost");
    assert!(acknowledged.keys().all(|data| seen.contains_key(data.as_str())));
    let duplicates = reads.len() - total;
    // A throttled record was not stored; only a call that failed as a whole after being
    // stored could duplicate, and each such record counts as a retry.
    assert!(duplicates as u64 <= metrics.retries, "{duplicates} duplicates, {} retries", metrics.retries);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_in_the_middle_of_a_run_loses_nothing() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).expect("client");
    create_active(&kinesis, "resharded", 2).await;
    let producer = Arc::new(Producer::new(&client, config(true)).expect("producer"));
    let (keys, per_key) = (50, 40);
    let first = put_all(&producer, "resharded", keys, per_key / 2).await;
    producer.flush().await;
    kinesis
        .update_shard_count(UpdateShardCountInput {
            stream_name: Some("resharded".into()),
            target_shard_count: 4,
            scaling_type: ScalingType::UniformScaling,
            stream_arn: None,
            stream_id: None,
        })
        .await
        .expect("update shard count");
    wait_active(&kinesis, "resharded").await;
    // The producer's map still has the two parents: its aggregates land in children.
    let mut second = Vec::new();
    for index in per_key / 2..per_key {
        for key in 0..keys {
            let (partition_key, data) = record_of(key, index);
            let handle = producer.put("resharded", &partition_key, Bytes::from(data.clone())).await.expect("put");
            second.push((data, handle));
        }
    }
    producer.flush().await;
    let mut acknowledged = outcomes(first).await;
    acknowledged.extend(outcomes(second).await);
    assert_eq!(acknowledged.len(), keys * per_key);
    let metrics = producer.metrics();
    assert!(metrics.shard_map_reloads > 0, "resharding was noticed: {metrics:?}");
    let (reads, dropped) = read_all(&kinesis, "resharded").await;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for read in &reads {
        *seen.entry(read.data.as_str()).or_default() += 1;
    }
    assert_eq!(seen.len(), keys * per_key, "nothing lost");
    let duplicates = (reads.len() - keys * per_key) as u64;
    assert!(duplicates <= metrics.retries, "{duplicates} duplicates, {} retries", metrics.retries);
    assert!(dropped == 0 || metrics.retries > 0, "records in a misrouted aggregate were resent");
    for (data, outcome) in &acknowledged {
        assert!(
            reads.iter().any(|r| &r.data == data && r.shard_id == outcome.shard_id),
            "{data} acknowledged in {} and read there",
            outcome.shard_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_waits_while_the_in_flight_bound_is_reached() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).expect("client");
    create_active(&kinesis, "bounded", 1).await;
    // Room for one largest record: a second 600 KB record waits for the first's answer.
    let bound = rheo_client::producer::config::RECORD_BYTES_MAX + rheo_client::producer::config::RECORD_OVERHEAD_BYTES;
    let producer =
        Producer::new(&client, ProducerConfig { max_in_flight_bytes: bound, ..config(true) }).expect("producer");
    let mut handles = Vec::new();
    for i in 0..5 {
        let handle = producer.put("bounded", "k", Bytes::from(vec![b'0' + i; 600_000])).await.expect("put");
        assert!(producer.outstanding() <= 1, "put {i} went on with {} records unanswered", producer.outstanding());
        handles.push(handle);
    }
    for handle in handles {
        let outcome = handle.await.expect("acknowledged");
        assert_eq!(outcome.sub_sequence_number, None, "a record too big to share an aggregate goes alone");
    }
    let refused = producer.put("bounded", "k", Bytes::from(vec![0; 1 << 20])).await;
    assert!(matches!(refused, Err(rheo_client::producer::ProducerError::InvalidRecord(_))));
}

/// Puts racing `shutdown()` either are refused with `Shutdown` or resolve: none hangs, and
/// `flush` returns afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_racing_shutdown_never_hang() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).expect("client");
    create_active(&kinesis, "racing", 2).await;
    // Generous: an "eventually" on a loaded machine, never reached when nothing hangs.
    let deadline = Duration::from_secs(120);
    // Room for one record only: puts queue on the bound, so each answer lets one in just
    // as the sender decides whether it is done.
    let bound = rheo_client::producer::config::RECORD_BYTES_MAX + rheo_client::producer::config::RECORD_OVERHEAD_BYTES;
    for round in 0..8u8 {
        let config = ProducerConfig { max_in_flight_bytes: bound, ..config(true) };
        let producer = Arc::new(Producer::new(&client, config).expect("producer"));
        let mut putters = Vec::new();
        for putter in 0..6u8 {
            let producer = Arc::clone(&producer);
            putters.push(tokio::spawn(async move {
                let mut handles = Vec::new();
                for i in 0.. {
                    let data = Bytes::from(vec![b'a' + (round * 6 + putter) % 26; 600_000]);
                    match producer.put("racing", &format!("k{i}"), data).await {
                        Ok(handle) => handles.push(handle),
                        Err(rheo_client::producer::ProducerError::Shutdown) => break,
                        Err(other) => panic!("unexpected refusal: {other}"),
                    }
                }
                for handle in handles {
                    // Acknowledged, or failed because the producer stopped: either way resolved.
                    let _ = handle.await;
                }
            }));
        }
        tokio::task::yield_now().await;
        tokio::time::timeout(deadline, producer.shutdown()).await.expect("shutdown returns");
        for putter in putters {
            tokio::time::timeout(deadline, putter).await.expect("every handle resolves").expect("putter");
        }
        tokio::time::timeout(deadline, producer.flush()).await.expect("flush returns after shutdown");
        assert_eq!(producer.outstanding(), 0);
    }
}

/// Concurrent first puts to a missing stream share one failed load, and the client error
/// is kept: not retryable, `ResourceNotFoundException`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_stream_is_refused_with_the_client_error_kept() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let producer = Producer::new(&client, config(false)).expect("producer");
    let (first, second) = tokio::join!(
        producer.put("missing", "k", Bytes::from_static(b"1")),
        producer.put("missing", "k", Bytes::from_static(b"2")),
    );
    for refused in [first, second] {
        let error = refused.expect_err("the stream does not exist");
        let client_error = error.client_error().expect("a client error behind it");
        assert_eq!(client_error.error_type(), Some("ResourceNotFoundException"), "{error:?}");
        assert!(!client_error.is_retryable());
        assert!(std::error::Error::source(&error).is_some(), "kept as the source");
    }
    assert_eq!(producer.outstanding(), 0);
}
