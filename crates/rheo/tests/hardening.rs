//! An operator's mistakes and damaged files, against the real binary on a real
//! filesystem: two servers on one data folder, sequence numbers after a cut, and damage
//! inside a sealed segment. Each test kills the server with SIGKILL where a crash is part
//! of the story, and checks that nothing acknowledged and undamaged is lost.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;
use common::{wait_active, Server};

const STREAM: &str = "hardening";

fn folder() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let root = tempfile::Builder::new().prefix("rheo-hardening-").tempdir().expect("temp dir");
    let data = root.path().join("data");
    let log = root.path().join("server.log");
    (root, data, log)
}

fn segments(data: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("log"))
        .expect("log folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).expect("read segment");
    bytes[offset as usize] ^= 0x5A;
    std::fs::write(path, bytes).expect("write segment");
}

async fn create_stream(kin: &Client) {
    kin.create_stream().stream_name(STREAM).shard_count(1).send().await.expect("CreateStream");
    wait_active(kin, STREAM).await;
}

/// A sequence number: a decimal integer too wide for u128, ordered numerically.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seq(String);

impl Ord for Seq {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.len(), &self.0).cmp(&(other.0.len(), &other.0))
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Puts one record per call (one frame each); returns their sequence numbers.
async fn put(kin: &Client, data: &[String]) -> Vec<Seq> {
    let mut sequence_numbers = Vec::new();
    for item in data {
        let out = kin
            .put_record()
            .stream_name(STREAM)
            .partition_key("k")
            .data(Blob::new(item.as_bytes()))
            .send()
            .await
            .expect("PutRecord");
        assert!(out.sequence_number().bytes().all(|b| b.is_ascii_digit()));
        sequence_numbers.push(Seq(out.sequence_number().to_owned()));
    }
    sequence_numbers
}

async fn iterator(kin: &Client, kind: ShardIteratorType, sequence_number: Option<&Seq>) -> String {
    kin.get_shard_iterator()
        .stream_name(STREAM)
        .shard_id("shardId-000000000000")
        .shard_iterator_type(kind)
        .set_starting_sequence_number(sequence_number.map(|s| s.to_string()))
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator()
        .expect("iterator")
        .to_owned()
}

/// Reads from `iterator` until caught up; returns the records' data.
async fn read_all(kin: &Client, mut iterator: String) -> Vec<String> {
    let mut data = Vec::new();
    loop {
        let out = kin.get_records().shard_iterator(&iterator).send().await.expect("GetRecords");
        data.extend(out.records().iter().map(|r| String::from_utf8_lossy(r.data().as_ref()).into_owned()));
        iterator = out.next_shard_iterator().expect("open shard").to_owned();
        if out.millis_behind_latest() == Some(0) && out.records().is_empty() {
            return data;
        }
    }
}

#[test]
fn a_second_server_on_the_same_data_folder_refuses_to_start_and_names_the_holder() {
    let (_root, data, log) = folder();
    let first = Server::start_in(&data, &log, &[]);
    let second_log = data.parent().expect("root").join("second.log");
    let output = Command::new(env!("CARGO_BIN_EXE_rheo"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("NO_COLOR", "1")
        .output()
        .expect("run a second rheo");
    std::fs::write(&second_log, &output.stderr).expect("keep its log");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the second server started: {stderr}");
    assert!(stderr.contains(&data.display().to_string()), "names the folder: {stderr}");
    assert!(stderr.contains(&format!("pid {}", first.pid())), "names the holder: {stderr}");
    // The kernel drops the lock with its holder, whatever way it ends.
    first.kill();
    let again = Server::start_in(&data, &log, &[]);
    drop(again);
}

#[tokio::test(flavor = "multi_thread")]
async fn sequence_numbers_never_go_backwards_after_a_cut_tail() {
    let (_root, data, log) = folder();
    let server = Server::start_in(&data, &log, &[]);
    let kin = server.client();
    create_stream(&kin).await;
    let before = put(&kin, &["a".into(), "b".into(), "c".into()]).await;
    server.kill();

    // Damage the last acknowledged frame: start-up cannot tell it from a torn write and
    // cuts it, taking "c" and its sequence number with it.
    let newest = segments(&data).pop().expect("a segment");
    let len = std::fs::metadata(&newest).expect("stat").len();
    flip_byte(&newest, len - 2);
    let server = Server::start_in(&data, &log, &[]);
    let kin = server.client();
    assert_eq!(read_all(&kin, iterator(&kin, ShardIteratorType::TrimHorizon, None).await).await, ["a", "b"]);
    let after = put(&kin, &["d".into()]).await;
    assert!(after[0] > before[2], "new {} must sort after every acknowledged one ({before:?})", after[0]);
    // A consumer checkpointed at the lost record still sees everything new.
    let resumed = read_all(&kin, iterator(&kin, ShardIteratorType::AfterSequenceNumber, Some(&before[2])).await).await;
    assert_eq!(resumed, ["d"]);
    let output = server.output();
    assert!(output.contains("Cutting a torn tail."), "the cut is logged:\n{output}");

    // Damage in the middle needs the operator; --recover-truncate cuts only that frame.
    server.kill();
    // Segment header 32 bytes, then frame header 24, chunk header 24: inside record "a".
    flip_byte(&segments(&data)[0], 32 + 24 + 24 + 10);
    let refused = Server::try_start_in(&data, &log, &[]).err().expect("start-up must stop at mid-log damage");
    assert!(refused.contains("--recover-truncate"), "{refused}");
    let server = Server::start_in(&data, &log, &["--recover-truncate"]);
    let kin = server.client();
    assert_eq!(read_all(&kin, iterator(&kin, ShardIteratorType::TrimHorizon, None).await).await, ["b", "d"]);
    let last = put(&kin, &["e".into()]).await;
    assert!(last[0] > after[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn damage_in_a_sealed_segment_fails_only_its_range_and_repair_cuts_exactly_it() {
    let (_root, data, log) = folder();
    let small = ["--segment-bytes", "4096"];
    let server = Server::start_in(&data, &log, &small);
    let kin = server.client();
    create_stream(&kin).await;
    let records: Vec<String> = (0..60).map(|i| format!("{i:0100}")).collect();
    let sequence_numbers = put(&kin, &records).await;
    server.kill();
    assert!(segments(&data).len() >= 3, "small segments roll");

    // Inside the second record of the first, sealed segment: each frame holds one record
    // of 24 + 1 + 100 bytes in a 24-byte chunk header, behind a 24-byte frame header.
    flip_byte(&segments(&data)[0], 32 + 173 + 24 + 24 + 40);
    let server = Server::start_in(&data, &log, &small);
    let kin = server.client();
    let first = kin
        .get_records()
        .shard_iterator(iterator(&kin, ShardIteratorType::TrimHorizon, None).await)
        .send()
        .await
        .expect("records before the damage are served");
    assert_eq!(first.records().len(), 1);
    let error = kin
        .get_records()
        .shard_iterator(first.next_shard_iterator().expect("next"))
        .send()
        .await
        .expect_err("the damaged record cannot be served");
    let message = error.message().unwrap_or_default().to_owned();
    assert!(message.contains(&sequence_numbers[1].to_string()), "names the damaged range: {message}");
    assert!(message.contains("--recover-truncate"), "{message}");
    // Past the range, everything is readable.
    let rest =
        read_all(&kin, iterator(&kin, ShardIteratorType::AfterSequenceNumber, Some(&sequence_numbers[1])).await).await;
    assert_eq!(rest, records[2..]);
    let metrics = get_metrics(&server.endpoint).await;
    assert!(metrics.contains("rheo_log_damaged_chunks{log=\"streams\"} 1"), "{metrics}");
    assert!(server.output().contains("Damaged records on disk"), "the damage is logged");
    server.kill();

    // The operator's repair cuts exactly that record; a normal start follows.
    drop(Server::start_in(&data, &log, &["--segment-bytes", "4096", "--recover-truncate"]));
    let server = Server::start_in(&data, &log, &small);
    let kin = server.client();
    let all = read_all(&kin, iterator(&kin, ShardIteratorType::TrimHorizon, None).await).await;
    let expected: Vec<String> = records.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, r)| r.clone()).collect();
    assert_eq!(all, expected);
}

/// `GET /metrics` over a plain TCP connection (the suite has no HTTP client of its own).
async fn get_metrics(endpoint: &str) -> String {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: rheo\r\nConnection: close\r\n\r\n").expect("send");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read");
        text
    })
    .await
    .expect("metrics task")
}
