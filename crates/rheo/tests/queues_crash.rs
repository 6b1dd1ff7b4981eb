//! Queues survive kill -9 of the real binary: an acknowledged record is never delivered
//! again, a received but unacknowledged one comes back after its visibility timeout, and
//! dead-letter records stay dead-letter records. The AWS SDK for Rust in use predates the
//! queue operations, so they go over plain HTTP/1.1 JSON.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails};
use common::{wait_active, Server};
use serde_json::{json, Value};

/// One queue call; panics unless it answers 200.
fn call(server: &Server, operation: &str, body: &Value) -> Value {
    let address = server.endpoint.trim_start_matches("http://");
    let body = body.to_string();
    let mut stream = TcpStream::connect(address).expect("connect");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: Kinesis_20131202.{operation}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00\r\n\
         X-Amz-Date: 20240101T000000Z\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, payload) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{operation}: {head}\n{payload}");
    serde_json::from_str(payload).unwrap_or(Value::Null)
}

fn receive(server: &Server, queue: &str, operation: &str, wait_secs: u32) -> Vec<Value> {
    let body = json!({"QueueARN": queue, "WaitTimeSeconds": wait_secs, "Limit": 10});
    call(server, operation, &body)["QueueRecords"].as_array().cloned().unwrap_or_default()
}

fn key(record: &Value) -> String {
    record["PartitionKey"].as_str().unwrap_or_default().to_owned()
}

/// Receives until as many records as `expected` keys came (at most ten receives), and
/// checks their keys.
fn receive_keys(server: &Server, queue: &str, operation: &str, expected: &[&str]) -> Vec<Value> {
    let mut got: Vec<Value> = Vec::new();
    for _ in 0..10 {
        got.extend(receive(server, queue, operation, 5));
        if got.len() >= expected.len() {
            break;
        }
    }
    got.sort_by_key(key);
    assert_eq!(got.iter().map(key).collect::<Vec<_>>(), expected, "{got:?}");
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_state_survives_kill_9() {
    let root = tempfile::Builder::new().prefix("rheo-queues-crash-").tempdir().expect("temp dir");
    let (data, log) = (root.path().join("data"), root.path().join("server.log"));
    let flags = ["--consumer-ms", "0"];
    let server = Server::start_in(&data, &log, &flags);
    let kin = server.client();
    let on_demand = StreamModeDetails::builder().stream_mode(StreamMode::OnDemand).build().expect("mode");
    kin.create_stream().stream_name("s").stream_mode_details(on_demand).send().await.expect("CreateStream");
    wait_active(&kin, "s").await;
    let created = call(
        &server,
        "CreateQueue",
        &json!({
            "QueueName": "q",
            "StreamConfigurationList": [{
                "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                "StartingPosition": {"Type": "TRIM_HORIZON"},
            }],
            "QueueAttributes": {
                "VisibilityTimeoutSeconds": 1,
                "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 2},
            },
        }),
    );
    let queue = created["QueueDescription"]["QueueARN"].as_str().expect("QueueARN").to_owned();
    for key in ["a", "b", "c", "d"] {
        kin.put_record().stream_name("s").partition_key(key).data(Blob::new(key)).send().await.expect("PutRecord");
    }
    let first = receive_keys(&server, &queue, "ReceiveQueueRecords", &["a", "b", "c", "d"]);
    let acked = call(
        &server,
        "AcknowledgeQueueRecords",
        &json!({"QueueARN": queue, "Entries": [{"ReceiptHandle": first[0]["ReceiptHandle"]}]}),
    );
    assert_eq!(acked["Successful"].as_array().map(Vec::len), Some(1), "{acked}");
    server.kill();

    // The acknowledged record never comes back; the others do, received a second time.
    let server = Server::start_in(&data, &log, &flags);
    let again = receive_keys(&server, &queue, "ReceiveQueueRecords", &["b", "c", "d"]);
    assert!(again.iter().all(|record| record["ReceiveCount"] == 2), "{again:?}");
    server.kill();

    // Received twice: once their timeout runs out they are dead-letter records, across a
    // crash too.
    let server = Server::start_in(&data, &log, &flags);
    let dead = receive_keys(&server, &queue, "ReceiveDeadLetterQueueRecords", &["b", "c", "d"]);
    assert!(dead.iter().all(|record| record["ReceiveCount"] == 3), "{dead:?}");
    assert!(receive(&server, &queue, "ReceiveQueueRecords", 1).is_empty());
}
