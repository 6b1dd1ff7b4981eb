#![allow(clippy::unwrap_used)]
//! Runaway `MetadataExtractionQuery`s (memory, CPU, stack) against a whole delivery stream:
//! each fails only its own record, which lands in the error output, while the other records
//! of the same batch are delivered; deleting the stream or stopping the service kills the
//! worker that evaluates a runaway query.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{files, open_firehose, request};
use rheo_firehose::jq::JqWorkerCommand;
use rheo_firehose::Firehose;
use rheo_protocol::firehose::{FirehoseOperation, FirehoseRequest};
use rheo_storage::SystemClock;
use serde_json::{json, Value};

/// Generous: every bound involved is a second or two, but CI machines are slow and shared.
const WAIT: Duration = Duration::from_secs(90);
/// How soon a stop must end a runaway worker: far less than the [`RUNAWAYS`] records'
/// timeouts add up to, so that only a kill on the stop passes.
const PROMPT: Duration = Duration::from_secs(20);
/// Runaway records per test of stopping: one second each before the record timeout.
const RUNAWAYS: usize = 60;

/// One query for every case, chosen by the record's `kind`.
const QUERY: &str = r#"{k: (if .kind == "mem" then ([range(0; 1000000000)] | length | tostring)
    elif .kind == "cpu" then (last(range(0; 1e15)) | tostring)
    elif .kind == "stack" then (reduce range(0; 1000000) as $i (0; [.]) | tojson)
    else .id end)}"#;

async fn create(firehose: &Firehose, name: &str) {
    let FirehoseRequest::CreateDeliveryStream(input) = request(
        FirehoseOperation::CreateDeliveryStream,
        json!({
            "DeliveryStreamName": name,
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "BucketARN": "arn:aws:s3:::bucket",
                "Prefix": "data/!{partitionKeyFromQuery:k}/",
                "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1},
                "DynamicPartitioningConfiguration": {"Enabled": true},
                "ProcessingConfiguration": {"Enabled": true, "Processors": [{
                    "Type": "MetadataExtraction",
                    "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": QUERY},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                    ],
                }]},
            },
        }),
    ) else {
        unreachable!()
    };
    firehose.create_delivery_stream(input).await.unwrap();
}

async fn put(firehose: &Firehose, name: &str, records: &[Value]) {
    let records: Vec<Value> = records
        .iter()
        .map(|r| json!({"Data": base64::engine::general_purpose::STANDARD.encode(r.to_string())}))
        .collect();
    let FirehoseRequest::PutRecordBatch(input) =
        request(FirehoseOperation::PutRecordBatch, json!({"DeliveryStreamName": name, "Records": records}))
    else {
        unreachable!()
    };
    let answer = firehose.put_record_batch(input).await.unwrap();
    assert_eq!(answer.failed_put_count, 0, "{answer:?}");
}

async fn delete(firehose: &Firehose, name: &str) {
    let FirehoseRequest::DeleteDeliveryStream(input) =
        request(FirehoseOperation::DeleteDeliveryStream, json!({"DeliveryStreamName": name}))
    else {
        unreachable!()
    };
    firehose.delete_delivery_stream(input).await.unwrap();
}

/// Live (not zombie) jq workers started by this test process.
fn workers() -> Vec<u32> {
    let me = std::process::id();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // "pid (comm) state ppid ..."; comm may hold spaces, so split after its ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = tail.split_whitespace().collect();
        if head.ends_with("(rheo-jq-worker") && fields.first() != Some(&"Z") && fields.get(1) == Some(&&*me.to_string())
        {
            pids.push(pid);
        }
    }
    pids
}

async fn wait_for(what: &str, done: impl FnMut() -> bool) {
    wait_at_most(WAIT, what, done).await;
}

async fn wait_at_most(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_queries_fail_only_their_own_records() {
    let buckets = tempfile::tempdir().unwrap();
    let firehose = open_firehose(buckets.path(), Arc::new(SystemClock));
    create(&firehose, "runaway").await;
    let bad = [json!({"kind": "mem"}), json!({"kind": "cpu"}), json!({"kind": "stack"})];
    let records = vec![
        json!({"id": "a"}),
        bad[0].clone(),
        json!({"id": "b"}),
        bad[1].clone(),
        json!({"id": "c"}),
        bad[2].clone(),
        json!({"id": "d"}),
        // A key that would climb out of the bucket: not a jq failure, but its record's too.
        json!({"id": ".."}),
    ];
    put(&firehose, "runaway", &records).await;

    let bucket = buckets.path().join("bucket");
    let error_lines = || -> Vec<Value> {
        files(&bucket.join("errors"))
            .into_iter()
            .flat_map(|(_, body)| {
                String::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>()
            })
            .collect()
    };
    let delivered = |id: &str| !files(&bucket.join("data").join(id)).is_empty();
    wait_for("every record delivered or failed", || {
        ["a", "b", "c", "d"].iter().all(|id| delivered(id)) && error_lines().len() > bad.len()
    })
    .await;

    for id in ["a", "b", "c", "d"] {
        let objects = files(&bucket.join("data").join(id));
        let body: Vec<u8> = objects.into_iter().flat_map(|(_, body)| body).collect();
        assert_eq!(body, json!({"id": id}).to_string().into_bytes(), "record {id}");
    }
    let mut lines = error_lines();
    assert_eq!(lines.len(), bad.len() + 1, "{lines:#?}");
    let escaping = lines.iter().position(|l| l["errorCode"] == "DynamicPartitioning.PartitionKeyMissing").unwrap();
    let escaping = lines.remove(escaping);
    assert!(escaping["errorMessage"].as_str().unwrap().contains("\"..\""), "{escaping}");
    assert!(
        !buckets.path().join("stream-").exists() && files(buckets.path()).iter().all(|(p, _)| p.starts_with("bucket"))
    );
    let mut failed: Vec<Value> = lines
        .iter()
        .map(|line| {
            assert_eq!(line["errorCode"], "DynamicPartitioning.MetadataExtractionFailed", "{line}");
            let raw = base64::engine::general_purpose::STANDARD.decode(line["rawData"].as_str().unwrap()).unwrap();
            serde_json::from_slice(&raw).unwrap()
        })
        .collect();
    failed.sort_by_key(|v| v.to_string());
    let mut expected = bad.to_vec();
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(failed, expected);
    let messages: Vec<&str> = lines.iter().map(|l| l["errorMessage"].as_str().unwrap()).collect();
    // Which limit stops the memory and stack cases first depends on the machine's speed:
    // the memory cap, the stack, or the record's time. Each is a limit, and only its record fails.
    assert!(
        messages.iter().all(|m| m.contains("took longer than") || m.contains("exceeded its limits")),
        "{messages:?}"
    );

    firehose.shutdown().await;
    wait_for("the worker to go", || workers().is_empty()).await;
}

/// Enough runaway records that, were the worker not killed on stop, workers would go on
/// being started (one per record, each killed after its timeout) long after the stop.
fn runaways() -> Vec<Value> {
    (0..RUNAWAYS).map(|_| json!({"kind": "cpu"})).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_stream_kills_its_runaway_worker() {
    let buckets = tempfile::tempdir().unwrap();
    let firehose = open_firehose(buckets.path(), Arc::new(SystemClock));
    create(&firehose, "spin").await;
    put(&firehose, "spin", &runaways()).await;
    wait_for("a worker to start", || !workers().is_empty()).await;

    delete(&firehose, "spin").await;
    wait_at_most(PROMPT, "the worker to be killed", || workers().is_empty()).await;
    // Killed on the stop, not at the end of a record's time: and none comes back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(workers().is_empty(), "a worker was started after the stream was deleted");
    firehose.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_prompt_while_a_query_runs_away() {
    let buckets = tempfile::tempdir().unwrap();
    let firehose = open_firehose(buckets.path(), Arc::new(SystemClock));
    create(&firehose, "spin").await;
    put(&firehose, "spin", &runaways()).await;
    wait_for("a worker to start", || !workers().is_empty()).await;

    // The runaway records take a minute to time out one by one; shutdown must not wait.
    tokio::time::timeout(PROMPT, firehose.shutdown()).await.expect("shutdown waited for the queries");
    wait_at_most(PROMPT, "the worker to be killed", || workers().is_empty()).await;
}

fn client(program: &str) -> rheo_firehose::jq::JqClient {
    let command = JqWorkerCommand { program: program.into(), args: Vec::new() };
    rheo_firehose::jq::JqClient::new(Arc::new(command), "test")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_output_fails_its_record_and_the_worker_carries_on() {
    let mut jq = client(env!("CARGO_BIN_EXE_rheo-jq-worker"));
    let query = r#"{k: (if .big then ([range(0; 200000)] | tojson) else .id end)}"#;
    let records: Vec<&[u8]> = vec![br#"{"id":"a"}"#, br#"{"big":true}"#, br#"{"id":"b"}"#];
    let outcomes = jq.extract(query, &records).await.unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap()["k"], "a");
    assert!(outcomes[1].as_ref().unwrap_err().contains("bytes of partition keys"), "{outcomes:?}");
    assert_eq!(outcomes[2].as_ref().unwrap()["k"], "b");
    // A failure inside jq is an answer, not a crash: the same worker serves on.
    let pid = jq.worker_pid();
    assert!(pid.is_some());
    let again = jq.extract("{k: .id}", &[br#"{"id":"c"}"#]).await.unwrap();
    assert_eq!(again[0].as_ref().unwrap()["k"], "c");
    assert_eq!(jq.worker_pid(), pid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_cannot_start_fails_no_record() {
    let mut jq = client("/nonexistent/rheo-jq-worker");
    let error = jq.extract("{k: .id}", &[br#"{"id":"a"}"#]).await.unwrap_err();
    assert!(matches!(error, rheo_firehose::jq::JqError::Spawn { .. }), "{error}");
    // Something that runs but is no worker is refused at its greeting.
    let mut jq = client("/bin/true");
    let error = jq.extract("{k: .id}", &[br#"{"id":"a"}"#]).await.unwrap_err();
    assert!(matches!(error, rheo_firehose::jq::JqError::Start(_)), "{error}");
}
