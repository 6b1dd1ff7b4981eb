#![allow(clippy::unwrap_used)]
//! Kinesis channels end to end inside the process: a stream delivered to a folder bucket
//! (objects named by the template, compressed, records in order, invalid records in the
//! dead-letter folder), a restart that resumes where delivery stopped, and the control
//! plane's rules.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::files;
use rheo_engine::{CreateStream, Engine, EngineConfig, EngineError, PutEntry, PutRecord, StreamMode, StreamRef};
use rheo_firehose::channel::model::*;
use rheo_firehose::channel::{ChannelError, Channels, ChannelsConfig, InvalidChannel};
use rheo_firehose::dest::s3::ObjectStoreConfig;
use rheo_storage::{Clock, Durability, FileSystem, LogConfig, ManualClock, MemFs, SystemClock};

const WAIT: Duration = Duration::from_secs(60);
const DATA_DIR: &str = "/rheo";

fn log_config() -> LogConfig {
    LogConfig { durability: Durability::Never, ..LogConfig::default() }
}

async fn open_engine(fs: &Arc<dyn FileSystem>) -> Arc<Engine> {
    open_engine_on(fs, Arc::new(SystemClock)).await
}

async fn open_engine_on(fs: &Arc<dyn FileSystem>, clock: Arc<dyn Clock>) -> Arc<Engine> {
    let config = EngineConfig { create_stream_ms: 0, delete_stream_ms: 0, ..EngineConfig::default() };
    let engine = Engine::open(fs.clone(), clock, Path::new(DATA_DIR), log_config(), config);
    Arc::new(engine.unwrap())
}

fn channels_config(buckets: &Path) -> ChannelsConfig {
    ChannelsConfig {
        create_ms: 0,
        update_ms: 60_000,
        delete_ms: 60_000,
        object_stores: ObjectStoreConfig::Local { root: buckets.to_path_buf() },
        gzip_level: 1,
        delivery_interval_ms: Some(100),
    }
}

fn open_channels(fs: &Arc<dyn FileSystem>, engine: &Arc<Engine>, buckets: &Path) -> Arc<Channels> {
    let config = channels_config(buckets);
    Channels::open(fs.clone(), Arc::new(SystemClock), Path::new(DATA_DIR), log_config(), engine.clone(), config)
        .unwrap()
}

async fn create_stream(engine: &Engine, name: &str, mode: StreamMode) {
    let shard_count = (mode == StreamMode::Provisioned).then_some(2);
    let request = CreateStream {
        name: name.to_owned(),
        shard_count,
        mode: Some(mode),
        tags: BTreeMap::new(),
        max_record_size_kib: None,
        warm_throughput_mibps: None,
        record_distribution: None,
    };
    engine.create_stream(request).await.unwrap();
}

async fn put(engine: &Engine, stream: &str, key: &str, data: &[u8]) {
    let record =
        PutEntry { partition_key: Some(key.to_owned()), explicit_hash_key: None, data: Bytes::copy_from_slice(data) };
    let stream = StreamRef { name: Some(stream.to_owned()), arn: None };
    engine.put_record(PutRecord { stream, record, sequence_number_for_ordering: None }).await.unwrap();
}

fn stream_arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}")
}

fn channel_arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:000000000000:channel/{name}")
}

fn create_request(name: &str, stream: &str, format: RecordFormat, compression: ObjectCompression) -> CreateChannel {
    CreateChannel {
        name: name.to_owned(),
        role_arn: "arn:aws:iam::000000000000:role/channel".to_owned(),
        streams: vec![StreamConfig { stream_arn: stream_arn(stream), record_format: format, gsr_schema_arn: None }],
        s3: Some(S3Destination {
            data_freshness_secs: None,
            dead_letter: None,
            storage: Storage {
                bucket_arn: "arn:aws:s3:::out".to_owned(),
                expected_bucket_owner: "000000000000".to_owned(),
                output_key_template: None,
                storage_class: None,
                compression,
            },
        }),
        s3_tables: false,
        encryption: None,
        tags: BTreeMap::new(),
        logging: None,
    }
}

/// Objects under `folder` of the bucket, oldest key first.
fn objects(buckets: &Path, folder: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found: Vec<_> =
        files(&buckets.join("out")).into_iter().filter(|(path, _)| path.starts_with(folder)).collect();
    found.sort();
    found
}

/// Waits until `folder` holds `count` objects (or more), failing after [`WAIT`].
async fn wait_for_objects(buckets: &Path, folder: &str, count: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let started = Instant::now();
    loop {
        let found = objects(buckets, folder);
        if found.len() >= count {
            return found;
        }
        assert!(started.elapsed() < WAIT, "{count} objects expected under {folder}, found {found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_delivers_to_a_folder_bucket_and_resumes_after_a_restart() {
    let buckets = tempfile::tempdir().unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
    let engine = open_engine(&fs).await;
    create_stream(&engine, "src", StreamMode::OnDemand).await;
    let channels = open_channels(&fs, &engine, buckets.path());
    let info = channels
        .create_channel(create_request("orders", "src", RecordFormat::Json, ObjectCompression::Gzip))
        .await
        .unwrap();
    assert_eq!(info.arn, channel_arn("orders"));
    assert_eq!(info.s3.data_freshness_secs, 300, "AWS's default freshness is described");
    assert_eq!(info.s3.dead_letter.error_output_prefix.as_deref(), Some("kinesis-channel-errors/"));

    for (key, data) in [("a", r#"{"n":1}"#), ("b", "not json"), ("a", r#"{"n":2}"#), ("c", r#"{"n":3}"#)] {
        put(&engine, "src", key, data.as_bytes()).await;
    }
    let delivered = wait_for_objects(buckets.path(), "kinesis-channel", 1).await;
    let (key, body) = &delivered[0];
    let key = key.to_string_lossy();
    let prefix = format!("kinesis-channel/orders/{}/", info.id);
    assert!(key.starts_with(&prefix) && key.ends_with(".gz"), "{key}");
    // One object with the valid records as they are, in order per partition key (one
    // on-demand stream spreads keys over shards, so compare per key).
    let text = String::from_utf8(gunzip(body)).unwrap();
    assert_eq!(text.len(), r#"{"n":1}{"n":2}{"n":3}"#.len(), "{text}");
    assert!(text.find(r#"{"n":1}"#).unwrap() < text.find(r#"{"n":2}"#).unwrap(), "{text}");
    assert!(text.contains(r#"{"n":3}"#));
    let dead = wait_for_objects(buckets.path(), "kinesis-channel-errors", 1).await;
    let line: serde_json::Value = serde_json::from_slice(dead[0].1.trim_ascii_end()).unwrap();
    assert_eq!(line["rawData"], "bm90IGpzb24=", "the record, base64");
    assert_eq!(line["errorMessage"], "The record is not valid JSON.");
    assert_eq!(line["streamARN"], stream_arn("src"));
    assert_eq!(line["partitionKey"], "b");
    // The counters move just after each write lands.
    let started = Instant::now();
    let metrics = loop {
        let mut metrics = String::new();
        channels.render_metrics(&mut metrics);
        if metrics.contains("rheo_channel_failed_records_total{channel=\"orders\"} 1\n") {
            break metrics;
        }
        assert!(started.elapsed() < WAIT, "{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(metrics.contains("rheo_channel_delivered_records_total{channel=\"orders\"} 3\n"), "{metrics}");
    assert!(metrics.contains("rheo_channel_incoming_records_total{channel=\"orders\"} 4\n"), "{metrics}");

    // Records put while the channels are down are delivered after they come back, once.
    channels.shutdown().await;
    drop(channels);
    put(&engine, "src", "a", br#"{"n":4}"#).await;
    let channels = open_channels(&fs, &engine, buckets.path());
    let again = channels.describe_channel(&channel_arn("orders")).unwrap();
    assert_eq!(again.id, info.id, "the channel survived the restart");
    put(&engine, "src", "a", br#"{"n":5}"#).await;
    let started = Instant::now();
    let all = loop {
        let all: String = objects(buckets.path(), "kinesis-channel/")
            .iter()
            .map(|(_, body)| String::from_utf8(gunzip(body)).unwrap())
            .collect();
        if all.contains(r#"{"n":5}"#) && all.contains(r#"{"n":4}"#) {
            break all;
        }
        assert!(started.elapsed() < WAIT, "records 4 and 5 not delivered: {all}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for n in 1..=5 {
        assert_eq!(all.matches(&format!(r#"{{"n":{n}}}"#)).count(), 1, "record {n} exactly once: {all}");
    }
    assert!(all.find(r#"{"n":4}"#).unwrap() < all.find(r#"{"n":5}"#).unwrap(), "{all}");
    assert_eq!(objects(buckets.path(), "kinesis-channel-errors").len(), 1, "nothing dead-lettered twice");
    channels.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_objects_follow_a_custom_template() {
    let buckets = tempfile::tempdir().unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
    let engine = open_engine(&fs).await;
    create_stream(&engine, "raw", StreamMode::OnDemand).await;
    let channels = open_channels(&fs, &engine, buckets.path());
    let mut request = create_request("bytes", "raw", RecordFormat::ByteArray, ObjectCompression::Zstd);
    if let Some(s3) = request.s3.as_mut() {
        s3.storage.output_key_template = Some("data/!{stream-name}/!{yyyy}/part!{extension}".to_owned());
    }
    channels.create_channel(request).await.unwrap();
    put(&engine, "raw", "k", b"\xff\x00binary").await;
    let found = wait_for_objects(buckets.path(), "data", 1).await;
    let key = found[0].0.to_string_lossy().into_owned();
    assert!(key.starts_with("data/raw/20") && key.contains("/part-") && key.ends_with(".zst"), "{key}");
    let mut out = Vec::new();
    ruzstd::decoding::StreamingDecoder::new(&found[0].1[..]).unwrap().read_to_end(&mut out).unwrap();
    assert_eq!(out, b"\xff\x00binary");
    channels.shutdown().await;
}

fn invalid(error: ChannelError) -> InvalidChannel {
    match error {
        ChannelError::Invalid(rule) => rule,
        other => panic!("InvalidArgument expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_plane_keeps_aws_rules() {
    let buckets = tempfile::tempdir().unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
    let engine = open_engine(&fs).await;
    create_stream(&engine, "src", StreamMode::OnDemand).await;
    create_stream(&engine, "other", StreamMode::OnDemand).await;
    create_stream(&engine, "prov", StreamMode::Provisioned).await;
    let channels = open_channels(&fs, &engine, buckets.path());
    let request =
        |name: &str, stream: &str| create_request(name, stream, RecordFormat::String, ObjectCompression::None);

    let mut tables = request("t", "src");
    tables.s3 = None;
    tables.s3_tables = true;
    assert_eq!(invalid(channels.create_channel(tables).await.unwrap_err()), InvalidChannel::S3TablesNotSupported);
    let mut both = request("t", "src");
    both.s3_tables = true;
    assert_eq!(invalid(channels.create_channel(both).await.unwrap_err()), InvalidChannel::BothDestinations);
    let mut stale = request("t", "src");
    if let Some(s3) = stale.s3.as_mut() {
        s3.data_freshness_secs = Some(299);
    }
    assert_eq!(
        invalid(channels.create_channel(stale).await.unwrap_err()),
        InvalidChannel::Freshness { given: 299, min: 300, max: 900 }
    );
    let mut template = request("t", "src");
    if let Some(s3) = template.s3.as_mut() {
        s3.storage.output_key_template = Some("!{nope}/x".to_owned());
    }
    assert!(matches!(invalid(channels.create_channel(template).await.unwrap_err()), InvalidChannel::Template { .. }));
    let mut dots = request("t", "src");
    if let Some(s3) = dots.s3.as_mut() {
        s3.storage.bucket_arn = "arn:aws:s3:::...".to_owned();
    }
    assert_eq!(
        invalid(channels.create_channel(dots).await.unwrap_err()),
        InvalidChannel::BucketName { bucket: "...".to_owned() }
    );
    let mut escape = request("t", "src");
    if let Some(s3) = escape.s3.as_mut() {
        s3.dead_letter = Some(DeadLetter {
            bucket_arn: "arn:aws:s3:::dlq".to_owned(),
            expected_bucket_owner: "000000000000".to_owned(),
            error_output_prefix: Some("errors/..".to_owned()),
        });
    }
    assert!(matches!(
        invalid(channels.create_channel(escape).await.unwrap_err()),
        InvalidChannel::ErrorOutputPrefix { reason } if reason.contains("would leave the bucket's key space")
    ));
    let gsr = create_request("t", "src", RecordFormat::GsrJson, ObjectCompression::None);
    assert!(matches!(invalid(channels.create_channel(gsr).await.unwrap_err()), InvalidChannel::RecordFormat { .. }));
    let mut two = request("t", "src");
    two.streams.push(two.streams[0].clone());
    assert_eq!(invalid(channels.create_channel(two).await.unwrap_err()), InvalidChannel::StreamCount { given: 2 });
    assert!(matches!(
        channels.create_channel(request("t", "prov")).await.unwrap_err(),
        ChannelError::StreamNotOnDemand { stream, .. } if stream == "prov"
    ));
    assert!(matches!(
        channels.create_channel(request("t", "missing")).await.unwrap_err(),
        ChannelError::Engine(error) if matches!(*error, EngineError::StreamNotFound { .. })
    ));

    channels.create_channel(request("first", "src")).await.unwrap();
    assert!(matches!(
        channels.create_channel(request("first", "other")).await.unwrap_err(),
        ChannelError::Exists { name, .. } if name == "first"
    ));
    assert!(matches!(
        channels.create_channel(request("second", "src")).await.unwrap_err(),
        ChannelError::StreamHasChannel { channel, .. } if channel == "first"
    ));
    channels.create_channel(request("second", "other")).await.unwrap();
    assert_eq!(channels.channel_count(), 2);
    assert_eq!(channels.stream_channel_count("src"), 1);
    assert_eq!(channels.channel_count_limit(), 2 * engine.describe_limits().on_demand_stream_count_limit);

    // Listing: by stream, and in pages.
    let filtered = channels
        .list_channels(ListChannels {
            stream_filter: vec![StreamFilter { stream_arn: stream_arn("other"), stream_created_ms: None }],
            ..ListChannels::default()
        })
        .unwrap();
    assert_eq!(filtered.channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["second"]);
    let first_page = channels.list_channels(ListChannels { max_results: Some(1), ..ListChannels::default() }).unwrap();
    assert_eq!(first_page.channels[0].name, "first");
    let second_page =
        channels.list_channels(ListChannels { next_token: first_page.next_token, ..ListChannels::default() }).unwrap();
    assert_eq!(second_page.channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["second"]);
    assert_eq!(second_page.next_token, None);

    // Update: only the freshness (and logging), then UPDATING for a while.
    let update =
        UpdateChannel { arn: channel_arn("first"), s3_freshness_secs: Some(600), s3_tables: false, logging: None };
    let updated = channels.update_channel(update.clone()).await.unwrap();
    assert_eq!((updated.s3.data_freshness_secs, updated.status), (600, ChannelStatus::Updating));
    assert!(matches!(
        channels.update_channel(update).await.unwrap_err(),
        ChannelError::NotActive { status: "UPDATING", .. }
    ));

    // Tags and policies on channel ARNs.
    let arn = channel_arn("second");
    channels.tag_resource(&arn, BTreeMap::from([("team".to_owned(), "data".to_owned())])).await.unwrap();
    assert_eq!(channels.list_tags(&arn).unwrap(), BTreeMap::from([("team".to_owned(), "data".to_owned())]));
    channels.untag_resource(&arn, vec!["team".to_owned()]).await.unwrap();
    assert!(channels.list_tags(&arn).unwrap().is_empty());
    assert_eq!(channels.get_resource_policy(&arn).unwrap(), "{}");
    assert!(channels.put_resource_policy(&arn, "[]".to_owned()).await.is_err());
    channels.put_resource_policy(&arn, r#"{"Version":"2012-10-17"}"#.to_owned()).await.unwrap();
    assert_eq!(channels.get_resource_policy(&arn).unwrap(), r#"{"Version":"2012-10-17"}"#);
    channels.delete_resource_policy(&arn).await.unwrap();
    assert!(channels.delete_resource_policy(&arn).await.is_err());

    // Delete: DELETING for a while, not counted, and the name stays taken meanwhile.
    channels.delete_channel(&arn).await.unwrap();
    assert_eq!(channels.describe_channel(&arn).unwrap().status, ChannelStatus::Deleting);
    assert_eq!(channels.channel_count(), 1);
    assert!(matches!(channels.delete_channel(&arn).await.unwrap_err(), ChannelError::NotFound { .. }));
    assert!(matches!(channels.describe_channel(&channel_arn("never")).unwrap_err(), ChannelError::NotFound { .. }));
    channels.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_whose_stream_is_deleted_fails_with_a_reason() {
    let buckets = tempfile::tempdir().unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
    let engine = open_engine(&fs).await;
    create_stream(&engine, "doomed", StreamMode::OnDemand).await;
    let channels = open_channels(&fs, &engine, buckets.path());
    let request = create_request("orphan", "doomed", RecordFormat::ByteArray, ObjectCompression::None);
    channels.create_channel(request).await.unwrap();
    let stream = StreamRef { name: Some("doomed".to_owned()), arn: None };
    engine.delete_stream(&rheo_engine::DeleteStream { stream, enforce_consumer_deletion: false }).await.unwrap();
    let started = Instant::now();
    let info = loop {
        let info = channels.describe_channel(&channel_arn("orphan")).unwrap();
        if info.status == ChannelStatus::Failed {
            break info;
        }
        assert!(started.elapsed() < WAIT, "the channel did not fail: {info:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(info.status_reason.as_deref(), Some("The source stream was deleted."));
    // A failed channel reads nothing: a new stream of the same name can have a channel.
    assert_eq!(channels.stream_channel_count("doomed"), 0);
    create_stream(&engine, "doomed", StreamMode::OnDemand).await;
    let request = create_request("successor", "doomed", RecordFormat::ByteArray, ObjectCompression::None);
    channels.create_channel(request).await.unwrap();
    channels.shutdown().await;
}

/// The channel's StreamStats counter `name` from its metrics.
fn counter(channels: &Channels, name: &str) -> u64 {
    let mut metrics = String::new();
    channels.render_metrics(&mut metrics);
    let prefix = format!("rheo_channel_{name}{{channel=\"timed\"}} ");
    metrics.lines().find_map(|line| line.strip_prefix(prefix.as_str())).unwrap().parse().unwrap()
}

/// Waits until the channel has read `records` records.
async fn wait_read(channels: &Channels, records: u64) {
    let started = Instant::now();
    while counter(channels, "incoming_records_total") < records {
        assert!(started.elapsed() < WAIT, "{records} records not read");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshness_is_measured_on_the_clock_and_updates_take_effect() {
    // 2024-03-05T06:07:08Z.
    const T0_MS: u64 = 1_709_618_828_000;
    let buckets = tempfile::tempdir().unwrap();
    let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
    let clock = ManualClock::new(T0_MS);
    let engine = open_engine_on(&fs, Arc::new(clock.clone())).await;
    create_stream(&engine, "src", StreamMode::OnDemand).await;
    let config = ChannelsConfig { update_ms: 0, delivery_interval_ms: None, ..channels_config(buckets.path()) };
    let channels =
        Channels::open(fs.clone(), Arc::new(clock.clone()), Path::new(DATA_DIR), log_config(), engine.clone(), config)
            .unwrap();
    let info = channels
        .create_channel(create_request("timed", "src", RecordFormat::ByteArray, ObjectCompression::None))
        .await
        .unwrap();

    // AWS's default freshness, 300 s from the oldest record's arrival. The task sleeps
    // the rest of the wait in real time (here 100 s), so only a new record wakes it.
    put(&engine, "src", "k", b"a").await;
    clock.advance_ms(200_000);
    put(&engine, "src", "k", b"b").await;
    wait_read(&channels, 2).await;
    assert_eq!(counter(&channels, "delivered_objects_total"), 0, "200 s is not 300 s");
    clock.advance_ms(100_000);
    put(&engine, "src", "k", b"c").await; // wakes the task at 300 s
    let found = wait_for_objects(buckets.path(), "kinesis-channel", 1).await;
    let write_ms = T0_MS + 300_000;
    let expected_prefix =
        format!("kinesis-channel/timed/{id}/2024/03/05/06/timed-{id}-2024-03-05-06-07-{write_ms:013}-", id = info.id);
    let key = found[0].0.to_string_lossy().into_owned();
    assert!(key.starts_with(&expected_prefix) && key.len() == expected_prefix.len() + 8, "{key}");
    assert_eq!(found[0].1, b"abc");

    // A longer freshness applies from the next buffer on.
    let update =
        UpdateChannel { arn: channel_arn("timed"), s3_freshness_secs: Some(900), s3_tables: false, logging: None };
    channels.update_channel(update).await.unwrap();
    put(&engine, "src", "k", b"d").await;
    clock.advance_ms(600_000);
    put(&engine, "src", "k", b"e").await;
    wait_read(&channels, 5).await;
    assert_eq!(counter(&channels, "delivered_objects_total"), 1, "600 s is not 900 s");
    clock.advance_ms(300_000);
    put(&engine, "src", "k", b"f").await;
    let found = wait_for_objects(buckets.path(), "kinesis-channel", 2).await;
    assert_eq!(found.iter().map(|(_, body)| body.as_slice()).collect::<Vec<_>>(), [&b"abc"[..], b"def"]);
    channels.shutdown().await;
}
