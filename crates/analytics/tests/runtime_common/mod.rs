//! What the runtime tests share: a Kinesis engine and Firehose on an in-memory filesystem
//! with one manual clock, a checkpoint store in memory, readers of what outputs wrote, and
//! small applications built as the compiler builds them.
// Not every test binary uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rheo_analytics::config::*;
use rheo_analytics::error::AnalyticsError;
use rheo_analytics::plan::*;
use rheo_analytics::runtime::*;
use rheo_analytics::value::{SqlType, Value};
use rheo_engine::{CreateStream, Engine, PutEntry, PutRecords, ReaderStart, StreamReaderRequest, StreamRef};
use rheo_firehose::tap::TapStart;
use rheo_firehose::Firehose;
use rheo_protocol::firehose::{decode_request, FirehoseOperation, FirehoseRequest};
use rheo_storage::{Clock, Durability, FileSystem, LogConfig, ManualClock, MemFs};
use serde_json::{json, Value as Json};

/// 2023-11-14T22:13:20Z, a multiple of every window width used here.
pub const T0_MS: u64 = 1_700_000_000_000;
/// A bound on waiting for what the tasks do; never reached when the code is right.
pub const WAIT: Duration = Duration::from_secs(30);
pub const WINDOW_MS: i64 = 10_000;

pub type Positions = BTreeMap<String, InputPosition>;

/// Positions saved, per application: the generation and positions of the last save.
#[derive(Default)]
pub struct MemoryStore {
    saved: Mutex<BTreeMap<String, (u64, Positions)>>,
}

impl CheckpointStore for MemoryStore {
    fn save<'a>(
        &'a self,
        application: &'a str,
        generation: u64,
        positions: Positions,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AnalyticsError>> + Send + 'a>> {
        self.saved.lock().insert(application.to_owned(), (generation, positions));
        Box::pin(async { Ok(()) })
    }
}

impl MemoryStore {
    pub fn positions(&self, application: &str) -> Positions {
        self.saved.lock().get(application).map(|(_, p)| p.clone()).expect("positions saved")
    }
}

pub struct Harness {
    pub ticker: Arc<ManualTicker>,
    pub engine: Arc<Engine>,
    pub firehose: Arc<Firehose>,
    pub store: Arc<MemoryStore>,
    pub runtime: Runtime,
    _buckets: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        let clock = ManualClock::new(T0_MS);
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
        let dir = Path::new("/rheo");
        let log_config = LogConfig { durability: Durability::Never, ..LogConfig::default() };
        let (engine, firehose, buckets) = crate::engines::open(fs, shared_clock, dir, log_config, "123456789012");
        let ticker = Arc::new(ManualTicker::new(clock));
        let store = Arc::new(MemoryStore::default());
        let runtime = Runtime::with_ticker(engine.clone(), Some(firehose.clone()), ticker.clone(), store.clone());
        Harness { ticker, engine, firehose, store, runtime, _buckets: buckets }
    }

    pub async fn create_stream(&self, name: &str, shards: u32) {
        let request = CreateStream {
            name: name.to_owned(),
            shard_count: Some(shards),
            mode: None,
            tags: BTreeMap::new(),
            max_record_size_kib: None,
            warm_throughput_mibps: None,
            record_distribution: None,
        };
        self.engine.create_stream(request).await.unwrap();
    }

    pub async fn create_delivery_stream(&self, name: &str) {
        let body = json!({
            "DeliveryStreamName": name,
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "BucketARN": "arn:aws:s3:::bucket",
            },
        });
        let FirehoseRequest::CreateDeliveryStream(input) =
            decode_request(FirehoseOperation::CreateDeliveryStream, body.to_string().as_bytes()).unwrap()
        else {
            unreachable!()
        };
        self.firehose.create_delivery_stream(input).await.unwrap();
    }

    /// Puts records, each with its explicit hash key when given.
    pub async fn put(&self, stream: &str, records: &[(&str, Option<&str>)]) {
        let records = records
            .iter()
            .map(|(referrer, hash_key)| PutEntry {
                partition_key: Some("k".to_owned()),
                explicit_hash_key: hash_key.map(str::to_owned),
                data: Bytes::from(json!({"referrer": referrer}).to_string()),
            })
            .collect();
        let stream = StreamRef { name: Some(stream.to_owned()), arn: None };
        let result = self.engine.put_records(PutRecords { stream, records }).await.unwrap();
        assert_eq!(result.failed_count, 0);
    }

    pub async fn put_referrers(&self, stream: &str, referrers: &[&str]) {
        let records: Vec<(&str, Option<&str>)> = referrers.iter().map(|r| (*r, None)).collect();
        self.put(stream, &records).await;
    }

    pub async fn start(&self, spec: RunSpec) -> RunHandle {
        let mut handle = self.runtime.start(spec);
        handle.started().await.unwrap();
        handle
    }
}

/// Waits (bounded) until `condition` holds.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

/// Waits (bounded) until `condition` holds, moving the clock by `step_ms` between looks:
/// for what waits on a back-off, whose sleep may begin just after any one move.
pub async fn eventually_advancing(h: &Harness, step_ms: u64, what: &str, mut condition: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        while !condition() {
            h.ticker.advance_ms(step_ms);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

pub async fn records_in(handle: &RunHandle, count: u64) {
    let metrics = handle.metrics();
    eventually("records read", || RunMetrics::get(&metrics.records_in) >= count).await;
}

/// Reads exactly `count` records of a Kinesis stream from its start, as JSON.
pub async fn read_kinesis(engine: &Arc<Engine>, stream: &str, count: usize) -> Vec<Json> {
    let request = StreamReaderRequest { stream_name: stream.to_owned(), start: ReaderStart::TrimHorizon };
    let mut reader = engine.stream_reader(request).unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        while out.len() < count {
            match reader.next_batch(1000, 1 << 20).unwrap() {
                Some(batch) => out.extend(batch.records.iter().map(|r| serde_json::from_slice(&r.data).unwrap())),
                None => reader.wait().await,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "timed out reading {stream}: {out:?}");
    assert_eq!(reader.next_batch(1000, 1 << 20).unwrap().map(|b| b.records.len()).unwrap_or(0), 0, "{out:?}");
    out
}

/// Reads exactly `count` records accepted by a delivery stream, as JSON.
pub async fn read_firehose(firehose: &Firehose, name: &str, count: usize) -> Vec<Json> {
    let mut tap = firehose.tap(name, TapStart::TrimHorizon).unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        while out.len() < count {
            match tap.next_batch(1000, 1 << 20).unwrap() {
                Some(records) => out.extend(records.iter().map(|r| serde_json::from_slice(&r.data).unwrap())),
                None => tap.wait().await,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "timed out reading {name}: {out:?}");
    out
}

// ----- Applications, built as the compiler would build them -----

pub const REFERRER: SqlType = SqlType::Varchar(32);

pub fn column(name: &str, sql_type: SqlType) -> ColumnDef {
    ColumnDef { name: name.to_owned(), sql_type, not_null: false }
}

pub fn expr(kind: ExprKind, ty: SqlType) -> Expr {
    Expr { kind, ty }
}

pub fn input_streams(parallelism: u32) -> Vec<StreamDef> {
    (1..=parallelism)
        .map(|n| StreamDef {
            name: format!("SOURCE_SQL_STREAM_{n:03}"),
            kind: StreamKind::Input,
            columns: vec![column("referrer", REFERRER), column(APPROXIMATE_ARRIVAL_TIME, SqlType::Timestamp)],
            line: 0,
        })
        .collect()
}

pub fn with_error_and_destination(mut streams: Vec<StreamDef>, destination: Vec<ColumnDef>) -> Vec<StreamDef> {
    streams.push(StreamDef {
        name: ERROR_STREAM.to_owned(),
        kind: StreamKind::Error,
        columns: error_stream_columns(),
        line: 0,
    });
    streams.push(StreamDef {
        name: "DESTINATION_SQL_STREAM".to_owned(),
        kind: StreamKind::Created,
        columns: destination,
        line: 1,
    });
    streams
}

/// `INSERT INTO DESTINATION_SQL_STREAM SELECT STREAM "referrer", <n> FROM SOURCE_SQL_STREAM_<n>`
/// for each input stream `n`.
pub fn projection_plan(parallelism: u32) -> AppPlan {
    let destination = vec![column("REFERRER", REFERRER), column("SOURCE", SqlType::Integer)];
    let streams = with_error_and_destination(input_streams(parallelism), destination);
    let target = streams.len() - 1;
    let pumps = (0..parallelism as usize)
        .map(|source| PumpPlan {
            name: format!("P{source}"),
            target,
            target_columns: vec![0, 1],
            query: Query {
                source: Source::Stream(source),
                filter: None,
                shape: QueryShape::Project(vec![
                    expr(ExprKind::Column(0), REFERRER),
                    expr(ExprKind::Literal(Value::Int(source as i64 + 1)), SqlType::Integer),
                ]),
            },
            line: 2,
        })
        .collect();
    AppPlan { streams, pumps }
}

/// `SELECT STREAM "referrer", COUNT(*) FROM SOURCE_SQL_STREAM_001
///  GROUP BY STEP(ROWTIME BY INTERVAL '10' SECOND), "referrer"`.
pub fn count_plan() -> AppPlan {
    let destination = vec![column("REFERRER", REFERRER), column("REFERRER_COUNT", SqlType::BigInt)];
    let streams = with_error_and_destination(input_streams(1), destination);
    let target = streams.len() - 1;
    let aggregate = AggregatePlan {
        progress: ProgressKey::Step { expr: expr(ExprKind::Rowtime, SqlType::Timestamp), width_ms: WINDOW_MS },
        keys: vec![expr(ExprKind::Column(0), REFERRER)],
        aggregates: vec![AggregateCall { function: AggregateFunction::Count, arg: None, result_type: SqlType::BigInt }],
        having: None,
        // The group row is [window, referrer, count].
        output: vec![expr(ExprKind::Column(1), REFERRER), expr(ExprKind::Column(2), SqlType::BigInt)],
    };
    let query = Query { source: Source::Stream(0), filter: None, shape: QueryShape::Aggregate(aggregate) };
    AppPlan { streams, pumps: vec![PumpPlan { name: "P".into(), target, target_columns: vec![0, 1], query, line: 2 }] }
}

pub fn input(source: SourceRef, parallelism: u32) -> InputConfig {
    InputConfig {
        id: "1.1".to_owned(),
        name_prefix: "SOURCE_SQL_STREAM".to_owned(),
        parallelism,
        source,
        schema: SourceSchemaDef {
            format: RecordFormat::Json { row_path: "$".to_owned() },
            columns: vec![RecordColumn {
                name: "referrer".to_owned(),
                sql_type: REFERRER,
                mapping: Some("$.referrer".to_owned()),
            }],
        },
        access: role_access(),
    }
}

pub fn kinesis_in(stream: &str) -> SourceRef {
    SourceRef::Kinesis { stream_name: stream.to_owned() }
}

pub fn output(destination: DestinationRef) -> OutputConfig {
    OutputConfig {
        id: "1.2".to_owned(),
        stream_name: "DESTINATION_SQL_STREAM".to_owned(),
        destination,
        format: OutputFormat::Json,
        access: role_access(),
    }
}

pub fn kinesis_out(stream: &str) -> DestinationRef {
    DestinationRef::Kinesis { stream_name: stream.to_owned() }
}

pub fn spec(
    application: &str,
    plan: AppPlan,
    input: InputConfig,
    output: OutputConfig,
    start: StartPosition,
) -> RunSpec {
    let config =
        AppConfig { name: application.to_owned(), code: String::new(), inputs: vec![input], outputs: vec![output] };
    RunSpec {
        application: application.to_owned(),
        generation: 1,
        config: Arc::new(config),
        plan: Arc::new(plan),
        starts: [("1.1".to_owned(), start)].into(),
    }
}

pub fn projected(referrer: &str, source: i64) -> Json {
    json!({"REFERRER": referrer, "SOURCE": source})
}

pub fn counted(referrer: &str, count: i64) -> Json {
    json!({"REFERRER": referrer, "REFERRER_COUNT": count})
}

/// The role an input or output acts as; no role check is installed here, so it may do all.
fn role_access() -> rheo_analytics::config::RoleAccess {
    rheo_analytics::config::RoleAccess {
        role_arn: "arn:aws:iam::000000000000:role/analytics".to_owned(),
        resource_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/in".to_owned(),
    }
}
