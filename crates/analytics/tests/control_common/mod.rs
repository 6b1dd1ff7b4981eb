//! What the control-plane tests share: a real engine and the Analytics service on an
//! in-memory filesystem with one manual clock (and a manual ticker for the runs' timers),
//! requests decoded from JSON as the server decodes them, and small configurations.
// Not every test binary uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rheo_analytics::error::AnalyticsError;
use rheo_analytics::runtime::{ManualTicker, RunMetrics};
use rheo_analytics::{Analytics, AnalyticsConfig};
use rheo_engine::{CreateStream, Engine};
use rheo_firehose::Firehose;
use rheo_protocol::analytics::model::*;
use rheo_protocol::analytics::{decode_request, AnalyticsOperation, AnalyticsRequest};
use rheo_storage::{Clock, Durability, FileSystem, LogConfig, ManualClock, MemFs};
use serde_json::{json, Value as Json};

/// 2023-11-14T22:13:20Z.
pub const T0_MS: u64 = 1_700_000_000_000;
pub const DATA_DIR: &str = "/rheo";
pub const ROLE: &str = "arn:aws:iam::000000000000:role/analytics";

pub fn stream_arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}")
}

pub fn app_arn(name: &str) -> String {
    format!("arn:aws:kinesisanalytics:us-east-1:000000000000:application/{name}")
}

/// A request decoded from its JSON body, as the server decodes it (model validation
/// included).
pub fn request(operation: &str, body: Json) -> AnalyticsRequest {
    let target = format!("KinesisAnalytics_20150814.{operation}");
    let operation = AnalyticsOperation::from_target(&target).unwrap().unwrap();
    decode_request(operation, body.to_string().as_bytes()).unwrap()
}

macro_rules! req {
    ($operation:ident, $body:expr) => {
        match $crate::control_common::request(stringify!($operation), $body) {
            rheo_protocol::analytics::AnalyticsRequest::$operation(request) => request,
            _ => unreachable!(),
        }
    };
}

pub fn log_config() -> LogConfig {
    LogConfig { durability: Durability::Never, ..LogConfig::default() }
}

pub struct Harness {
    pub fs: Arc<dyn FileSystem>,
    pub clock: ManualClock,
    /// Moves `clock` and wakes the runs' timers.
    pub ticker: Arc<ManualTicker>,
    pub engine: Arc<Engine>,
    pub firehose: Arc<Firehose>,
    pub config: AnalyticsConfig,
    slot: Option<Arc<Analytics>>,
    _buckets: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> Harness {
        Harness::with(0, 50).await
    }

    pub async fn with(transition_ms: u64, application_limit: usize) -> Harness {
        let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
        let clock = ManualClock::new(T0_MS);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let (engine, firehose, buckets) =
            crate::engines::open(fs.clone(), shared, Path::new(DATA_DIR), log_config(), "000000000000");
        let config = AnalyticsConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            transition_ms,
            application_limit,
        };
        let ticker = Arc::new(ManualTicker::new(clock.clone()));
        let analytics = Self::open(&fs, &clock, &ticker, &engine, &firehose, &config);
        let slot = Some(analytics);
        let harness = Harness { fs, clock, ticker, engine, firehose, config, slot, _buckets: buckets };
        harness.create_stream("in").await;
        harness.create_stream("out").await;
        harness
    }

    pub fn open(
        fs: &Arc<dyn FileSystem>,
        clock: &ManualClock,
        ticker: &Arc<ManualTicker>,
        engine: &Arc<Engine>,
        firehose: &Arc<Firehose>,
        config: &AnalyticsConfig,
    ) -> Arc<Analytics> {
        let clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let dir = Path::new(DATA_DIR);
        let (engine, firehose, config, ticker) =
            (engine.clone(), Some(firehose.clone()), config.clone(), ticker.clone());
        Analytics::open_with_ticker(fs.clone(), clock, dir, log_config(), engine, firehose, config, ticker).unwrap()
    }

    /// Drops the service without shutting it down, as a crash would (nothing drained,
    /// nothing more saved), and opens it again once its runs have let go of the log.
    pub async fn crash_and_reopen(&mut self) {
        let crashed = self.slot.take().expect("open");
        assert_eq!(Arc::strong_count(&crashed), 1, "nothing else holds the service");
        drop(crashed);
        let reopened = tokio::time::timeout(WAIT, async {
            loop {
                let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
                let opened = Analytics::open_with_ticker(
                    self.fs.clone(),
                    clock,
                    Path::new(DATA_DIR),
                    log_config(),
                    self.engine.clone(),
                    Some(self.firehose.clone()),
                    self.config.clone(),
                    self.ticker.clone(),
                );
                match opened {
                    Ok(analytics) => return analytics,
                    // The aborted runs drop their handles of the log asynchronously.
                    Err(AnalyticsError::Storage(rheo_storage::StorageError::Locked { .. })) => {
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await
                    }
                    Err(other) => panic!("{other:?}"),
                }
            }
        })
        .await;
        self.slot = Some(reopened.expect("the crashed service let go of its log"));
    }

    /// Moves the clock, waking the runs' timers.
    pub fn advance_ms(&self, delta_ms: u64) {
        self.ticker.advance_ms(delta_ms);
    }

    /// Shuts the service down and opens it again on the same folder.
    pub async fn reopen(&mut self) {
        if let Some(old) = self.slot.take() {
            old.shutdown().await;
            assert_eq!(Arc::strong_count(&old), 1, "nothing else holds the service");
        }
        self.slot = Some(Self::open(&self.fs, &self.clock, &self.ticker, &self.engine, &self.firehose, &self.config));
    }

    pub fn analytics(&self) -> &Arc<Analytics> {
        self.slot.as_ref().expect("open")
    }

    pub async fn create_stream(&self, name: &str) {
        let request = CreateStream {
            name: name.to_owned(),
            shard_count: Some(1),
            mode: None,
            tags: BTreeMap::new(),
            max_record_size_kib: None,
            warm_throughput_mibps: None,
            record_distribution: None,
        };
        self.engine.create_stream(request).await.unwrap();
    }

    pub async fn create(&self, body: Json) -> Result<CreateApplicationResponse, AnalyticsError> {
        self.analytics().create_application(req!(CreateApplication, body)).await
    }

    pub async fn describe(&self, name: &str) -> ApplicationDetail {
        let request = req!(DescribeApplication, json!({"ApplicationName": name}));
        self.analytics().describe_application(request).await.unwrap().application_detail
    }

    pub async fn version(&self, name: &str) -> i64 {
        self.describe(name).await.application_version_id
    }

    pub async fn status(&self, name: &str) -> ApplicationStatus {
        self.describe(name).await.application_status
    }

    pub async fn add_logging(&self, name: &str, version: i64) -> Result<(), AnalyticsError> {
        let body = json!({
            "ApplicationName": name,
            "CurrentApplicationVersionId": version,
            "CloudWatchLoggingOption": {"LogStreamARN": "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s", "RoleARN": ROLE},
        });
        self.analytics()
            .add_application_cloud_watch_logging_option(req!(AddApplicationCloudWatchLoggingOption, body))
            .await
            .map(drop)
    }

    pub async fn add_output(&self, name: &str, version: i64, output: Json) -> Result<(), AnalyticsError> {
        let body = json!({"ApplicationName": name, "CurrentApplicationVersionId": version, "Output": output});
        self.analytics().add_application_output(req!(AddApplicationOutput, body)).await.map(drop)
    }

    pub async fn update(&self, name: &str, version: i64, update: Json) -> Result<(), AnalyticsError> {
        let body =
            json!({"ApplicationName": name, "CurrentApplicationVersionId": version, "ApplicationUpdate": update});
        self.analytics().update_application(req!(UpdateApplication, body)).await.map(drop)
    }

    pub async fn start(&self, name: &str, inputs: Json) -> Result<(), AnalyticsError> {
        let body = json!({"ApplicationName": name, "InputConfigurations": inputs});
        self.analytics().start_application(req!(StartApplication, body)).await.map(drop)
    }

    pub async fn delete(&self, name: &str, created: Json) -> Result<(), AnalyticsError> {
        let body = json!({"ApplicationName": name, "CreateTimestamp": created});
        self.analytics().delete_application(req!(DeleteApplication, body)).await.map(drop)
    }

    pub async fn tags(&self, name: &str) -> BTreeMap<String, String> {
        let request = req!(ListTagsForResource, json!({"ResourceARN": app_arn(name)}));
        let tags = self.analytics().list_tags_for_resource(request).await.unwrap().tags.unwrap_or_default();
        tags.into_iter().map(|tag| (tag.key, tag.value.unwrap_or_default())).collect()
    }

    pub async fn tag(&self, name: &str, tags: Json) -> Result<(), AnalyticsError> {
        let request = req!(TagResource, json!({"ResourceARN": app_arn(name), "Tags": tags}));
        self.analytics().tag_resource(request).await.map(drop)
    }

    pub async fn list(&self, body: Json) -> ListApplicationsResponse {
        self.analytics().list_applications(req!(ListApplications, body)).await.unwrap()
    }
}

pub fn kinesis_output(name: &str, stream: &str) -> Json {
    json!({
        "Name": name,
        "KinesisStreamsOutput": {"ResourceARN": stream_arn(stream), "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"},
    })
}

pub fn lambda_output(name: &str) -> Json {
    json!({
        "Name": name,
        "LambdaOutput": {"ResourceARN": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"},
    })
}

pub fn created_seconds(detail: &ApplicationDetail) -> Json {
    let ms = detail.create_timestamp.unwrap().epoch_millis();
    json!(ms as f64 / 1000.0)
}

/// A bound on waiting for what background work does; never reached when the code is right.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The referrer events' schema: one JSON member.
pub fn json_input(stream: &str, parallelism: u32) -> Json {
    json!({
        "NamePrefix": "SOURCE_SQL_STREAM",
        "KinesisStreamsInput": {"ResourceARN": stream_arn(stream), "RoleARN": ROLE},
        "InputParallelism": {"Count": parallelism},
        "InputSchema": {
            "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
            "RecordEncoding": "UTF-8",
            "RecordColumns": [{"Name": "referrer", "Mapping": "$.referrer", "SqlType": "VARCHAR(32)"}],
        },
    })
}

/// Code that copies each event's referrer to `DESTINATION_SQL_STREAM`.
pub const PROJECTION: &str = r#"
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (referrer VARCHAR(32));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM "referrer" FROM "SOURCE_SQL_STREAM_001";
"#;

/// Starting positions for the one input `1.1`.
pub fn from(position: &str) -> Json {
    json!([{"Id": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": position}}])
}

impl Harness {
    /// Waits (bounded) until the application shows `status`.
    pub async fn wait_status(&self, name: &str, status: ApplicationStatus) {
        let reached = tokio::time::timeout(WAIT, async {
            while self.status(name).await != status {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
        .await;
        assert!(reached.is_ok(), "{name} never became {status:?}");
    }

    /// Waits (bounded) until the application's run has read `count` records.
    pub async fn wait_read(&self, name: &str, count: u64) {
        let metrics = self.analytics().run_metrics(name).expect("a run");
        let read = tokio::time::timeout(WAIT, async {
            while RunMetrics::get(&metrics.records_in) < count {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
        .await;
        assert!(read.is_ok(), "{name} never read {count} records");
    }

    /// Puts one JSON event per referrer.
    pub async fn put_referrers(&self, stream: &str, referrers: &[&str]) {
        let records = referrers
            .iter()
            .map(|referrer| rheo_engine::PutEntry {
                partition_key: Some("k".to_owned()),
                explicit_hash_key: None,
                data: bytes::Bytes::from(json!({"referrer": referrer}).to_string()),
            })
            .collect();
        let stream = rheo_engine::StreamRef { name: Some(stream.to_owned()), arn: None };
        let result = self.engine.put_records(rheo_engine::PutRecords { stream, records }).await.unwrap();
        assert_eq!(result.failed_count, 0);
    }
}

/// A delivery stream's ARN.
pub fn delivery_stream_arn(name: &str) -> String {
    format!("arn:aws:firehose:us-east-1:000000000000:deliverystream/{name}")
}

impl Harness {
    /// Creates a delivery stream of direct puts to a local bucket.
    pub async fn create_delivery_stream(&self, name: &str) {
        use rheo_protocol::firehose::{decode_request, FirehoseOperation, FirehoseRequest};
        let body = json!({
            "DeliveryStreamName": name,
            "ExtendedS3DestinationConfiguration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::bucket"},
        });
        let Ok(FirehoseRequest::CreateDeliveryStream(input)) =
            decode_request(FirehoseOperation::CreateDeliveryStream, body.to_string().as_bytes())
        else {
            unreachable!("a valid CreateDeliveryStream")
        };
        self.firehose.create_delivery_stream(input).await.unwrap();
    }
}
