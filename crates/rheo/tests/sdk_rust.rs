//! End-to-end tests: the real `rheo` binary driven by the AWS SDK for Rust (`aws-sdk-kinesis`,
//! HTTP/1.1, JSON 1.1, lean client without TLS).
//!
//! Every test starts its own `rheo serve` on a free port with a temporary data directory and kills
//! it when done. The expectations are AWS's documented or recorded behaviour (shared docs:
//! kinesis-api.md §1.4, §2.4, §3), not whatever the server happens to do.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{
    ChildShard, HashKeyRange, PutRecordsRequestEntry, Record, Shard, ShardIteratorType, StreamMode, StreamStatus,
};
use aws_sdk_kinesis::Client;

mod common;
use common::{wait_active, Server, REGION};
use md5::{Digest, Md5};

const ACCOUNT: &str = "000000000000";
const MAX_HASH: u128 = u128::MAX;

// ---------------------------------------------------------------------------------------------
// The server under test

// ---------------------------------------------------------------------------------------------
// Helpers

fn hash_of(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// AWS's initial split of the hash space into `count` shards (kinesis-api.md §3.2).
fn initial_ranges(count: u128) -> Vec<(String, String)> {
    let step = if count == 1 { MAX_HASH } else { (MAX_HASH / count) + u128::from(MAX_HASH % count == count - 1) };
    (0..count)
        .map(|i| {
            let end = if i == count - 1 { MAX_HASH } else { step * (i + 1) - 1 };
            ((step * i).to_string(), end.to_string())
        })
        .collect()
}

fn range(shard: &Shard) -> (String, String) {
    let r = shard.hash_key_range().expect("HashKeyRange");
    (r.starting_hash_key().to_owned(), r.ending_hash_key().to_owned())
}

fn range_of(r: Option<&HashKeyRange>) -> (String, String) {
    let r = r.expect("HashKeyRange");
    (r.starting_hash_key().to_owned(), r.ending_hash_key().to_owned())
}

fn is_open(shard: &Shard) -> bool {
    shard.sequence_number_range().expect("SequenceNumberRange").ending_sequence_number().is_none()
}

fn shard_for(shards: &[Shard], hash: u128) -> String {
    shards
        .iter()
        .filter(|s| is_open(s))
        .find(|s| {
            let (start, end) = range(s);
            start.parse::<u128>().expect("start") <= hash && hash <= end.parse::<u128>().expect("end")
        })
        .unwrap_or_else(|| panic!("no open shard covers {hash}"))
        .shard_id()
        .to_owned()
}

fn is_sequence_number(s: &str) -> bool {
    s == "0" || (!s.is_empty() && s.len() <= 129 && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
}

fn seq(s: &str) -> (usize, String) {
    (s.len(), s.to_owned()) // decimal strings without leading zeros sort like numbers this way
}

/// (sequence number, partition key, data) of one record.
type Rec = (String, String, String);

fn simplify(records: &[Record]) -> Vec<Rec> {
    records
        .iter()
        .map(|r| {
            (
                r.sequence_number().to_owned(),
                r.partition_key().unwrap_or_default().to_owned(),
                String::from_utf8(r.data().as_ref().to_vec()).expect("utf-8 data"),
            )
        })
        .collect()
}

fn sorted(mut records: Vec<Rec>) -> Vec<Rec> {
    records.sort_by_key(|r| seq(&r.0));
    records
}

fn now_millis() -> i64 {
    DateTime::from(SystemTime::now()).to_millis().expect("millis")
}

fn assert_arrival_recent(record: &Record) {
    let ts = record.approximate_arrival_timestamp().expect("ApproximateArrivalTimestamp").to_millis().expect("millis");
    assert!((now_millis() - ts).abs() < 60_000, "ApproximateArrivalTimestamp {ts} is not within a minute of now");
}

struct ShardRead {
    records: Vec<Record>,
    closed: bool,
    child_shards: Vec<ChildShard>,
    millis_behind_latest: Option<i64>,
}

/// Reads from `iterator` up to the tip of an open shard (empty batch, MillisBehindLatest 0) or
/// the end of a closed one (no NextShardIterator).
async fn read_shard(kin: &Client, iterator: &str) -> ShardRead {
    let mut records = Vec::new();
    let mut it = iterator.to_owned();
    for _ in 0..200 {
        let out = kin.get_records().shard_iterator(&it).send().await.expect("GetRecords");
        records.extend(out.records().iter().cloned());
        let Some(next) = out.next_shard_iterator() else {
            return ShardRead {
                records,
                closed: true,
                child_shards: out.child_shards().to_vec(),
                millis_behind_latest: out.millis_behind_latest(),
            };
        };
        assert!(out.child_shards().is_empty(), "ChildShards must only come with the end of a closed shard");
        if out.records().is_empty() && out.millis_behind_latest() == Some(0) {
            return ShardRead { records, closed: false, child_shards: Vec::new(), millis_behind_latest: Some(0) };
        }
        it = next.to_owned();
    }
    panic!("GetRecords never reached the tip of the shard");
}

async fn iterator(
    kin: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    sequence: Option<&str>,
    timestamp: Option<DateTime>,
) -> String {
    let out = kin
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind.clone())
        .set_starting_sequence_number(sequence.map(str::to_owned))
        .set_timestamp(timestamp)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetShardIterator {kind:?} on {shard}: {e:?}"));
    let it = out.shard_iterator().expect("ShardIterator").to_owned();
    assert!(!it.is_empty() && it.len() <= 512, "iterator length 1..512");
    it
}

async fn wait_gone(kin: &Client, stream: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match kin.describe_stream_summary().stream_name(stream).send().await {
            Err(e) if e.code() == Some("ResourceNotFoundException") => return,
            Err(e) => panic!("DescribeStreamSummary while deleting: {e:?}"),
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("{stream} was not deleted");
}

async fn list_shards(kin: &Client, stream: &str) -> Vec<Shard> {
    let out = kin.list_shards().stream_name(stream).send().await.expect("ListShards");
    assert_eq!(out.next_token(), None);
    out.shards().to_vec()
}

/// Collects mismatches of expected AWS errors, so that a test reports every wrong error and not
/// only the first one. `finish` panics listing them all.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    /// The call must fail with this AWS error code and HTTP 400; returns the message if it did.
    fn error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
        &mut self,
        result: Result<T, SdkError<E, HttpResponse>>,
        code: &str,
        what: &str,
    ) -> Option<String> {
        let error = match result {
            Ok(out) => {
                self.0.push(format!("{what}: expected {code}, got success: {out:?}"));
                return None;
            }
            Err(error) => error,
        };
        let SdkError::ServiceError(ref service) = error else {
            self.0.push(format!("{what}: expected {code}, got {error:?}"));
            return None;
        };
        let message = error.message().unwrap_or_default().to_owned();
        if error.code() != Some(code) {
            self.0.push(format!("{what}: expected code {code}, got {:?} (message {message:?})", error.code()));
            return None;
        }
        let status = service.raw().status().as_u16();
        if status != 400 {
            self.0.push(format!("{what}: expected HTTP 400, got {status}"));
        }
        Some(message)
    }

    /// The call must fail with this AWS error code, HTTP 400 and exactly this message.
    fn message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
        &mut self,
        result: Result<T, SdkError<E, HttpResponse>>,
        code: &str,
        message: &str,
        what: &str,
    ) {
        if let Some(actual) = self.error(result, code, what) {
            self.check(actual == message, format!("{what}: expected message {message:?}, got {actual:?}"));
        }
    }

    fn check(&mut self, ok: bool, mismatch: String) {
        if !ok {
            self.0.push(mismatch);
        }
    }

    fn finish(self) {
        assert!(self.0.is_empty(), "{} mismatches:\n  {}", self.0.len(), self.0.join("\n  "));
    }
}

fn remember(written: &mut BTreeMap<String, Vec<Rec>>, shard: &str, seq: &str, pk: &str, data: &str) {
    written.entry(shard.to_owned()).or_default().push((seq.to_owned(), pk.to_owned(), data.to_owned()));
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("clock").subsec_nanos();
    format!("rust-{prefix}-{}-{nanos}", std::process::id())
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn streams_records_iterators_tags() {
    let server = Server::start(&[]);
    let kin = server.client();
    let stream = unique("main");

    let listed = kin.list_streams().send().await.expect("ListStreams");
    assert!(listed.stream_names().is_empty());
    assert!(!listed.has_more_streams());

    kin.create_stream().stream_name(&stream).shard_count(3).send().await.expect("CreateStream");
    wait_active(&kin, &stream).await;

    // DescribeStream / DescribeStreamSummary / ListStreams
    let described = kin.describe_stream().stream_name(&stream).send().await.expect("DescribeStream");
    let d = described.stream_description().expect("StreamDescription");
    assert_eq!(d.stream_name(), stream);
    assert_eq!(d.stream_arn(), format!("arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"));
    assert_eq!(d.stream_status(), &StreamStatus::Active);
    assert!(!d.has_more_shards());
    assert_eq!(d.retention_period_hours(), 24);
    assert_eq!(d.shards().len(), 3);
    let created = d.stream_creation_timestamp().to_millis().expect("millis");
    assert!((now_millis() - created).abs() < 60_000, "StreamCreationTimestamp {created} is recent");
    assert_eq!(d.stream_mode_details().map(|m| m.stream_mode()), Some(&StreamMode::Provisioned));
    assert_eq!(d.encryption_type().map(|e| e.as_str()), Some("NONE"));
    assert_eq!(d.enhanced_monitoring().len(), 1);
    assert!(d.enhanced_monitoring()[0].shard_level_metrics().is_empty());

    let summary = kin.describe_stream_summary().stream_name(&stream).send().await.expect("DescribeStreamSummary");
    let s = summary.stream_description_summary().expect("summary");
    assert_eq!(s.open_shard_count(), 3);
    assert_eq!(s.stream_arn(), d.stream_arn());
    assert_eq!(s.retention_period_hours(), 24);
    let listed = kin.list_streams().send().await.expect("ListStreams");
    assert_eq!(listed.stream_names(), std::slice::from_ref(&stream));

    // ListShards: AWS's initial ranges
    let shards = list_shards(&kin, &stream).await;
    assert_eq!(
        shards.iter().map(|s| s.shard_id()).collect::<Vec<_>>(),
        ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    );
    assert_eq!(shards.iter().map(range).collect::<Vec<_>>(), initial_ranges(3));
    for s in &shards {
        assert!(is_open(s));
        assert!(s.parent_shard_id().is_none());
        assert!(is_sequence_number(s.sequence_number_range().expect("range").starting_sequence_number()));
    }

    let mut written: BTreeMap<String, Vec<Rec>> = BTreeMap::new();

    // PutRecord: MD5 routing and ExplicitHashKey
    for pk in ["alpha", "beta", "gamma", "delta"] {
        let data = format!("single {pk}");
        let out = kin
            .put_record()
            .stream_name(&stream)
            .partition_key(pk)
            .data(Blob::new(data.clone()))
            .send()
            .await
            .expect("PutRecord");
        assert_eq!(out.shard_id(), shard_for(&shards, hash_of(pk)), "shard of {pk}");
        assert!(is_sequence_number(out.sequence_number()));
        remember(&mut written, out.shard_id(), out.sequence_number(), pk, &data);
    }
    let explicit = range(&shards[2]).0;
    let first = kin
        .put_record()
        .stream_name(&stream)
        .partition_key("alpha")
        .explicit_hash_key(&explicit)
        .data(Blob::new("explicit"))
        .send()
        .await
        .expect("PutRecord explicit");
    assert_eq!(first.shard_id(), "shardId-000000000002");
    remember(&mut written, first.shard_id(), first.sequence_number(), "alpha", "explicit");
    let second = kin
        .put_record()
        .stream_name(&stream)
        .partition_key("alpha")
        .explicit_hash_key(&explicit)
        .sequence_number_for_ordering(first.sequence_number())
        .data(Blob::new("ordered"))
        .send()
        .await
        .expect("PutRecord ordered");
    assert_eq!(second.shard_id(), "shardId-000000000002");
    assert!(seq(second.sequence_number()) > seq(first.sequence_number()), "sequence numbers grow within a shard");
    remember(&mut written, second.shard_id(), second.sequence_number(), "alpha", "ordered");

    // PutRecords across all shards
    let entries: Vec<(String, String)> = (0..90)
        .map(|i| (format!("key-{i}"), format!("batch record {i}")))
        .chain([("empty-data".into(), String::new())])
        .collect();
    let request = entries
        .iter()
        .map(|(pk, data)| PutRecordsRequestEntry::builder().partition_key(pk).data(Blob::new(data.clone())).build())
        .collect::<Result<Vec<_>, _>>()
        .expect("entries");
    let out = kin.put_records().stream_name(&stream).set_records(Some(request)).send().await.expect("PutRecords");
    assert_eq!(out.failed_record_count().unwrap_or(0), 0);
    assert_eq!(out.records().len(), entries.len());
    for (i, (r, (pk, data))) in out.records().iter().zip(&entries).enumerate() {
        assert_eq!(r.error_code(), None, "entry {i}: {:?}", r.error_message());
        let shard = r.shard_id().expect("ShardId");
        assert_eq!(shard, shard_for(&shards, hash_of(pk)), "shard of entry {i}");
        let sequence = r.sequence_number().expect("SequenceNumber");
        assert!(is_sequence_number(sequence));
        remember(&mut written, shard, sequence, pk, data);
    }
    for s in &shards {
        assert!(written.get(s.shard_id()).map_or(0, Vec::len) >= 10, "{} got records", s.shard_id());
    }
    let expected =
        |written: &BTreeMap<String, Vec<Rec>>, shard: &str| sorted(written.get(shard).cloned().unwrap_or_default());

    // TRIM_HORIZON: everything back, in order, per shard
    for s in &shards {
        let it = iterator(&kin, &stream, s.shard_id(), ShardIteratorType::TrimHorizon, None, None).await;
        let got = read_shard(&kin, &it).await;
        assert!(!got.closed);
        assert_eq!(simplify(&got.records), expected(&written, s.shard_id()), "records of {}", s.shard_id());
        got.records.iter().for_each(assert_arrival_recent);
        assert_eq!(got.millis_behind_latest, Some(0));
    }
    // Limit
    let shard0 = shards[0].shard_id();
    let it = iterator(&kin, &stream, shard0, ShardIteratorType::TrimHorizon, None, None).await;
    let page = kin.get_records().shard_iterator(&it).limit(2).send().await.expect("GetRecords limit");
    assert_eq!(simplify(page.records()), expected(&written, shard0)[..2]);
    let rest = read_shard(&kin, page.next_shard_iterator().expect("NextShardIterator")).await;
    assert_eq!(simplify(&rest.records), expected(&written, shard0)[2..]);

    // AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER
    let shard1 = shards[1].shard_id();
    let all = expected(&written, shard1);
    let pivot = all[3].0.clone();
    let it = iterator(&kin, &stream, shard1, ShardIteratorType::AtSequenceNumber, Some(&pivot), None).await;
    assert_eq!(simplify(&read_shard(&kin, &it).await.records), all[3..]);
    let it = iterator(&kin, &stream, shard1, ShardIteratorType::AfterSequenceNumber, Some(&pivot), None).await;
    assert_eq!(simplify(&read_shard(&kin, &it).await.records), all[4..]);
    let last = all.last().expect("records").0.clone();
    let it = iterator(&kin, &stream, shard1, ShardIteratorType::AfterSequenceNumber, Some(&last), None).await;
    assert!(read_shard(&kin, &it).await.records.is_empty());

    // LATEST
    let it = iterator(&kin, &stream, shard0, ShardIteratorType::Latest, None, None).await;
    let empty = kin.get_records().shard_iterator(&it).send().await.expect("GetRecords LATEST");
    assert!(empty.records().is_empty());
    let next = empty.next_shard_iterator().expect("a new iterator even when empty").to_owned();
    let put = kin
        .put_record()
        .stream_name(&stream)
        .partition_key("latest")
        .explicit_hash_key(range(&shards[0]).0)
        .data(Blob::new("after LATEST"))
        .send()
        .await
        .expect("PutRecord after LATEST");
    assert_eq!(put.shard_id(), shard0);
    remember(&mut written, put.shard_id(), put.sequence_number(), "latest", "after LATEST");
    for start in [&it, &next] {
        let got = read_shard(&kin, start).await;
        assert_eq!(
            simplify(&got.records),
            [(put.sequence_number().to_owned(), "latest".to_owned(), "after LATEST".to_owned())]
        );
    }

    // AT_TIMESTAMP
    let shard2 = shards[2].shard_id();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ts = now_millis();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut fresh = Vec::new();
    for i in 0..3 {
        let (pk, data) = (format!("ts-{i}"), format!("after timestamp {i}"));
        let out = kin
            .put_record()
            .stream_name(&stream)
            .partition_key(&pk)
            .explicit_hash_key(range(&shards[2]).1)
            .data(Blob::new(data.clone()))
            .send()
            .await
            .expect("PutRecord");
        assert_eq!(out.shard_id(), shard2);
        remember(&mut written, out.shard_id(), out.sequence_number(), &pk, &data);
        fresh.push((out.sequence_number().to_owned(), pk, data));
    }
    let it =
        iterator(&kin, &stream, shard2, ShardIteratorType::AtTimestamp, None, Some(DateTime::from_millis(ts))).await;
    let got = read_shard(&kin, &it).await;
    assert_eq!(simplify(&got.records), fresh);
    for r in &got.records {
        assert_arrival_recent(r);
        let arrival = r.approximate_arrival_timestamp().expect("arrival").to_millis().expect("millis");
        assert!(arrival >= ts, "arrival {arrival} is before the AT_TIMESTAMP {ts}");
    }
    let an_hour_ago = DateTime::from_millis(now_millis() - 3_600_000);
    let it = iterator(&kin, &stream, shard2, ShardIteratorType::AtTimestamp, None, Some(an_hour_ago)).await;
    assert_eq!(simplify(&read_shard(&kin, &it).await.records), expected(&written, shard2));

    // Tags
    kin.add_tags_to_stream()
        .stream_name(&stream)
        .tags("env", "test")
        .tags("team", "rheo")
        .tags("empty", "")
        .send()
        .await
        .expect("AddTagsToStream");
    kin.add_tags_to_stream().stream_name(&stream).tags("env", "e2e").send().await.expect("AddTagsToStream overwrite");
    let tags = kin.list_tags_for_stream().stream_name(&stream).send().await.expect("ListTagsForStream");
    assert!(!tags.has_more_tags());
    let map: BTreeMap<&str, &str> = tags.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default())).collect();
    assert_eq!(map, BTreeMap::from([("empty", ""), ("env", "e2e"), ("team", "rheo")]));
    let page = kin.list_tags_for_stream().stream_name(&stream).limit(1).send().await.expect("ListTagsForStream limit");
    assert_eq!(page.tags().len(), 1);
    assert!(page.has_more_tags());
    kin.remove_tags_from_stream()
        .stream_name(&stream)
        .tag_keys("empty")
        .tag_keys("no-such-key")
        .send()
        .await
        .expect("RemoveTagsFromStream");
    let tags = kin.list_tags_for_stream().stream_name(&stream).send().await.expect("ListTagsForStream");
    let map: BTreeMap<&str, &str> = tags.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default())).collect();
    assert_eq!(map, BTreeMap::from([("env", "e2e"), ("team", "rheo")]));

    // DeleteStream
    kin.delete_stream().stream_name(&stream).send().await.expect("DeleteStream");
    wait_gone(&kin, &stream).await;
    let mut errors = Mismatches::default();
    errors.message(
        kin.describe_stream().stream_name(&stream).send().await,
        "ResourceNotFoundException",
        &format!("Stream {stream} under account {ACCOUNT} not found."),
        "DescribeStream after delete",
    );
    errors.finish();
    assert!(kin.list_streams().send().await.expect("ListStreams").stream_names().is_empty());
}

#[tokio::test]
async fn split_then_merge_reads_parents_before_children() {
    let server = Server::start(&[]);
    let kin = server.client();
    let stream = unique("reshard");
    let (s0, s1, s2, s3) =
        ("shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003");
    let half: u128 = 1 << 127;

    kin.create_stream().stream_name(&stream).shard_count(1).send().await.expect("CreateStream");
    wait_active(&kin, &stream).await;

    let mut written: BTreeMap<String, Vec<Rec>> = BTreeMap::new();
    async fn put(
        kin: &Client,
        stream: &str,
        written: &mut BTreeMap<String, Vec<Rec>>,
        pk: &str,
        data: &str,
        explicit: Option<String>,
        shard: &str,
    ) {
        let out = kin
            .put_record()
            .stream_name(stream)
            .partition_key(pk)
            .set_explicit_hash_key(explicit)
            .data(Blob::new(data))
            .send()
            .await
            .expect("PutRecord");
        assert_eq!(out.shard_id(), shard, "shard of {data}");
        written.entry(shard.to_owned()).or_default().push((
            out.sequence_number().to_owned(),
            pk.to_owned(),
            data.to_owned(),
        ));
    }
    for i in 0..5 {
        put(&kin, &stream, &mut written, &format!("a-{i}"), &format!("before split {i}"), None, s0).await;
    }

    kin.split_shard()
        .stream_name(&stream)
        .shard_to_split(s0)
        .new_starting_hash_key(half.to_string())
        .send()
        .await
        .expect("SplitShard");
    wait_active(&kin, &stream).await;
    let shards = list_shards(&kin, &stream).await;
    assert_eq!(shards.iter().map(|s| s.shard_id()).collect::<Vec<_>>(), [s0, s1, s2]);
    assert!(!is_open(&shards[0]), "the split parent is closed");
    assert!(is_sequence_number(
        shards[0].sequence_number_range().expect("range").ending_sequence_number().expect("end")
    ));
    assert_eq!(range(&shards[1]), ("0".to_owned(), (half - 1).to_string()));
    assert_eq!(range(&shards[2]), (half.to_string(), MAX_HASH.to_string()));
    for child in &shards[1..] {
        assert_eq!(child.parent_shard_id(), Some(s0));
        assert_eq!(child.adjacent_parent_shard_id(), None);
        assert!(is_open(child));
    }

    for i in 0..3 {
        put(&kin, &stream, &mut written, &format!("lo-{i}"), &format!("low child {i}"), Some("1".into()), s1).await;
        put(
            &kin,
            &stream,
            &mut written,
            &format!("hi-{i}"),
            &format!("high child {i}"),
            Some((half + 1).to_string()),
            s2,
        )
        .await;
    }
    let routed = if hash_of("route-me") < half { s1 } else { s2 };
    put(&kin, &stream, &mut written, "route-me", "routed after split", None, routed).await;

    kin.merge_shards()
        .stream_name(&stream)
        .shard_to_merge(s1)
        .adjacent_shard_to_merge(s2)
        .send()
        .await
        .expect("MergeShards");
    wait_active(&kin, &stream).await;
    let shards = list_shards(&kin, &stream).await;
    assert_eq!(shards.iter().map(|s| s.shard_id()).collect::<Vec<_>>(), [s0, s1, s2, s3]);
    for closed in &shards[..3] {
        assert!(!is_open(closed), "{} is closed", closed.shard_id());
    }
    assert_eq!(shards[3].parent_shard_id(), Some(s1));
    assert_eq!(shards[3].adjacent_parent_shard_id(), Some(s2));
    assert_eq!(range(&shards[3]), ("0".to_owned(), MAX_HASH.to_string()));
    assert!(is_open(&shards[3]));
    for i in 0..3 {
        put(&kin, &stream, &mut written, &format!("m-{i}"), &format!("merged {i}"), None, s3).await;
    }
    let summary = kin.describe_stream_summary().stream_name(&stream).send().await.expect("DescribeStreamSummary");
    assert_eq!(summary.stream_description_summary().expect("summary").open_shard_count(), 1);

    // The split parent: its records, then the end, naming both children.
    let it = iterator(&kin, &stream, s0, ShardIteratorType::TrimHorizon, None, None).await;
    let parent = read_shard(&kin, &it).await;
    assert_eq!(simplify(&parent.records), written[s0]);
    assert!(parent.closed, "NextShardIterator must be absent at the end of a closed shard");
    let mut children: Vec<(String, Vec<String>, (String, String))> = parent
        .child_shards
        .iter()
        .map(|c| (c.shard_id().to_owned(), c.parent_shards().to_vec(), range_of(c.hash_key_range())))
        .collect();
    children.sort();
    assert_eq!(
        children,
        [
            (s1.to_owned(), vec![s0.to_owned()], range(&shards[1])),
            (s2.to_owned(), vec![s0.to_owned()], range(&shards[2])),
        ]
    );
    // The split children: their records, then the end, naming the merged child.
    for child in [s1, s2] {
        let it = iterator(&kin, &stream, child, ShardIteratorType::TrimHorizon, None, None).await;
        let got = read_shard(&kin, &it).await;
        assert_eq!(simplify(&got.records), sorted(written[child].clone()), "records of {child}");
        assert!(got.closed, "{child} is closed");
        assert_eq!(got.child_shards.len(), 1);
        let merged = &got.child_shards[0];
        assert_eq!(merged.shard_id(), s3);
        let mut parents = merged.parent_shards().to_vec();
        parents.sort();
        assert_eq!(parents, [s1, s2]);
        assert_eq!(range_of(merged.hash_key_range()), range(&shards[3]));
    }
    // The merged child is open.
    let it = iterator(&kin, &stream, s3, ShardIteratorType::TrimHorizon, None, None).await;
    let merged = read_shard(&kin, &it).await;
    assert!(!merged.closed);
    assert_eq!(simplify(&merged.records), written[s3]);
    // AT_SEQUENCE_NUMBER inside the closed parent still reads to its end.
    let it = iterator(&kin, &stream, s0, ShardIteratorType::AtSequenceNumber, Some(&written[s0][2].0), None).await;
    let mid = read_shard(&kin, &it).await;
    assert_eq!(simplify(&mid.records), written[s0][2..]);
    assert!(mid.closed);
    assert_eq!(mid.child_shards.len(), 2);

    // A closed shard cannot be split again (real AWS CLI output, mhart/kinesalite#109).
    let mut errors = Mismatches::default();
    errors.message(
        kin.split_shard().stream_name(&stream).shard_to_split(s0).new_starting_hash_key("12345").send().await,
        "InvalidArgumentException",
        &format!(
            "Shard {s0} in stream {stream} under account {ACCOUNT} has already been merged or split, and thus is not eligible for merging or splitting."
        ),
        "SplitShard on a closed shard",
    );
    errors.finish();

    kin.delete_stream().stream_name(&stream).send().await.expect("DeleteStream");
    wait_gone(&kin, &stream).await;
}

#[tokio::test]
async fn errors_have_aws_codes_and_messages() {
    let server = Server::start(&[]);
    let kin = server.client();
    let stream = unique("errors");
    let missing = unique("missing");
    kin.create_stream().stream_name(&stream).shard_count(3).send().await.expect("CreateStream");
    wait_active(&kin, &stream).await;
    let shards = list_shards(&kin, &stream).await;
    let put = kin
        .put_record()
        .stream_name(&stream)
        .partition_key("k")
        .explicit_hash_key("0")
        .data(Blob::new("x"))
        .send()
        .await
        .expect("PutRecord");
    let mut errors = Mismatches::default();

    errors.message(
        kin.describe_stream().stream_name(&missing).send().await,
        "ResourceNotFoundException",
        &format!("Stream {missing} under account {ACCOUNT} not found."),
        "DescribeStream on a missing stream",
    );
    errors.message(
        kin.put_record().stream_name(&missing).partition_key("a").data(Blob::new("x")).send().await,
        "ResourceNotFoundException",
        &format!("Stream {missing} under account {ACCOUNT} not found."),
        "PutRecord to a missing stream",
    );
    errors.message(
        kin.create_stream().stream_name(&stream).shard_count(1).send().await,
        "ResourceInUseException",
        &format!("Stream {stream} under account {ACCOUNT} already exists."),
        "CreateStream with a name in use",
    );
    errors.message(
        kin.get_shard_iterator()
            .stream_name(&stream)
            .shard_id("shardId-000000000099")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Shard shardId-000000000099 in stream {stream} under account {ACCOUNT} does not exist"),
        "GetShardIterator with a bad shard id",
    );
    errors.message(
        kin.get_shard_iterator()
            .stream_name(&missing)
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::Latest)
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Shard shardId-000000000000 in stream {missing} under account {ACCOUNT} does not exist"),
        "GetShardIterator on a missing stream",
    );
    errors.message(
        kin.get_shard_iterator()
            .stream_name(&stream)
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .send()
            .await,
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or \
         (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
        "GetShardIterator AT_SEQUENCE_NUMBER without a sequence number",
    );
    errors.message(
        kin.get_shard_iterator()
            .stream_name(&stream)
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .starting_sequence_number(put.sequence_number())
            .send()
            .await,
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or \
         (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.",
        "GetShardIterator TRIM_HORIZON with a sequence number",
    );
    let future = now_millis() + 3_600_000;
    let prefix = format!(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {future}, currentTimestampInMillis: "
    );
    let message = errors.error(
        kin.get_shard_iterator()
            .stream_name(&stream)
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(DateTime::from_millis(future))
            .send()
            .await,
        "InvalidArgumentException",
        "GetShardIterator AT_TIMESTAMP in the future",
    );
    if let Some(message) = message {
        errors.check(
            message.strip_prefix(&prefix).is_some_and(|now| now.len() == 13 && now.bytes().all(|b| b.is_ascii_digit())),
            format!("GetShardIterator AT_TIMESTAMP in the future: expected {prefix:?} + 13 digits, got {message:?}"),
        );
    }

    let mut lookalike = vec![0u8, 0, 0, 0, 0, 0, 0, 1];
    lookalike.extend((0..160u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let lookalike = base64_encode(&lookalike);
    for bad in [lookalike.as_str(), "not-a-shard-iterator"] {
        errors.message(
            kin.get_records().shard_iterator(bad).send().await,
            "InvalidArgumentException",
            "Invalid ShardIterator.",
            "GetRecords with an invalid iterator",
        );
    }

    let entries = (0..501)
        .map(|i| PutRecordsRequestEntry::builder().partition_key(format!("k{i}")).data(Blob::new("x")).build())
        .collect::<Result<Vec<_>, _>>()
        .expect("entries");
    let message = errors.error(
        kin.put_records().stream_name(&stream).set_records(Some(entries)).send().await,
        "ValidationException",
        "PutRecords with 501 records",
    );
    let well_formed = |m: &str| -> bool {
        let Some(list) = m.strip_prefix("1 validation error detected: Value '[").and_then(|m| {
            m.strip_suffix(
                "]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500",
            )
        }) else {
            return false;
        };
        let items: Vec<&str> = list.split(", ").collect();
        items.len() == 501
            && items.iter().all(|item| {
                item.strip_prefix("com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@").is_some_and(|h| {
                    !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                })
            })
    };
    if let Some(message) = message {
        errors.check(well_formed(&message), format!("PutRecords with 501 records: unexpected message {message:?}"));
    }

    let (start, end) = range(&shards[1]);
    errors.message(
        kin.split_shard().stream_name(&stream).shard_to_split("shardId-000000000001").new_starting_hash_key("0").send().await,
        "InvalidArgumentException",
        &format!(
            "NewStartingHashKey 0 used in SplitShard() on shard shardId-000000000001 in stream {stream} under account {ACCOUNT} \
             is not both greater than one plus the shard's StartingHashKey {start} and less than the shard's EndingHashKey {end}."
        ),
        "SplitShard with a hash key outside the shard",
    );
    errors.message(
        kin.merge_shards()
            .stream_name(&stream)
            .shard_to_merge("shardId-000000000000")
            .adjacent_shard_to_merge("shardId-000000000002")
            .send()
            .await,
        "InvalidArgumentException",
        &format!(
            "Shards shardId-000000000000 and shardId-000000000002 in stream {stream} under account {ACCOUNT} \
             are not an adjacent pair of shards eligible for merging"
        ),
        "MergeShards on shards that are not adjacent",
    );

    kin.delete_stream().stream_name(&stream).send().await.expect("DeleteStream");
    wait_gone(&kin, &stream).await;
    errors.message(
        kin.delete_stream().stream_name(&stream).send().await,
        "ResourceNotFoundException",
        &format!("Stream {stream} under account {ACCOUNT} not found."),
        "DeleteStream on a deleted stream",
    );
    errors.finish();
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
