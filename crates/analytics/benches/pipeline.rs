//! Events per second through an application's per-record path, on one core: records read
//! from the log of a real engine (4-shard stream on a temporary folder), mapped from JSON,
//! run through the executor, and the output rows encoded as JSON records.
//!
//! - `a_filter_project`: `SELECT STREAM "referrer", "ms" … WHERE "ms" > 50`;
//! - `b_filter_step_count`: the same filter, `COUNT(*) GROUP BY "referrer",
//!   STEP(ROWTIME BY INTERVAL '10' SECOND)`;
//! - sub-steps, to see where the time goes: `read` (reader only), `read_map` (reader and
//!   mapping), `map` (mapping of records already in memory).
//!
//! Time is the benchmark thread's CPU time (user + system), not wall time: on a shared
//! machine the wall clock also counts the time other processes hold the core, and the
//! figure wanted is events per second *per core*. Everything runs on that thread (the
//! reader reads the log synchronously).
//!
//! `taskset -c 0 cargo bench -p rheo-analytics --bench pipeline` (`RHEO_BENCH_RECORDS`,
//! default 200,000 records per iteration).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rheo_analytics::config::{OutputFormat, RecordColumn, RecordFormat, SourceSchemaDef};
use rheo_analytics::exec::{ExecLimits, Executor};
use rheo_analytics::limits::{READ_BATCH_BYTES, READ_BATCH_RECORDS};
use rheo_analytics::mapping::{RecordMapper, RowEncoder};
use rheo_analytics::plan::{AppPlan, ColumnDef, StreamId, APPROXIMATE_ARRIVAL_TIME};
use rheo_analytics::sql::{compile, InputCatalog, InputStreamDef};
use rheo_analytics::value::{ErrorRow, Row, SqlType};
use rheo_engine::{
    CreateStream, Engine, EngineConfig, PutEntry, PutRecords, ReaderStart, StreamReaderRequest, StreamRef,
};
use rheo_storage::{FileSystem, LogConfig, StdFs, SystemClock};

const STREAM: &str = "page-views";
const SHARDS: u32 = 4;
const REFERRERS: usize = 50;
const PUT_BATCH: usize = 500;
const START_MS: i64 = 1_733_480_000_000;
/// Synthetic processing time advances 1 s per this many records, so 10-second windows
/// close during an iteration, as they would at 1 M events/s.
const RECORDS_PER_SECOND: usize = 1_000_000;

/// Criterion measurement of the calling thread's CPU time, from `/proc/thread-self/stat`
/// (clock ticks of 10 ms: iterations here last 100 ms or more, samples seconds).
struct ThreadCpuTime {
    wall: WallTime,
}

/// `/proc` reports times in USER_HZ ticks, 100 per second on every Linux.
const NANOS_PER_TICK: u64 = 10_000_000;

fn thread_cpu_nanos() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |at: usize| fields.get(at).and_then(|field| field.parse::<u64>().ok()).expect("a tick count");
    (ticks(11) + ticks(12)) * NANOS_PER_TICK
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }

    fn end(&self, started: u64) -> Duration {
        Duration::from_nanos(thread_cpu_nanos().saturating_sub(started))
    }

    fn add(&self, first: &Duration, second: &Duration) -> Duration {
        *first + *second
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, as wall time's are.
        self.wall.formatter()
    }
}

fn record(index: usize) -> Bytes {
    let text = format!(
        r#"{{"ts":{},"referrer":"site-{}.example","path":"/articles/2024/12/page-{}.html","ms":{}}}"#,
        START_MS + index as i64,
        index % REFERRERS,
        index % 1000,
        index * 37 % 200
    );
    Bytes::from(text)
}

fn schema() -> SourceSchemaDef {
    let column = |name: &str, sql_type, mapping: &str| RecordColumn {
        name: name.to_owned(),
        sql_type,
        mapping: Some(mapping.to_owned()),
    };
    SourceSchemaDef {
        format: RecordFormat::Json { row_path: "$".to_owned() },
        columns: vec![
            column("ts", SqlType::BigInt, "$.ts"),
            column("referrer", SqlType::Varchar(32), "$.referrer"),
            column("path", SqlType::Varchar(64), "$.path"),
            column("ms", SqlType::Integer, "$.ms"),
        ],
    }
}

/// (a): a filter and a projection.
const FILTER_PROJECT: &str = r#"
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" ("referrer" VARCHAR(32), "ms" INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM "referrer", "ms" FROM "SOURCE_SQL_STREAM_001" WHERE "ms" > 50;
"#;

/// (b): the same filter, counted per referrer in 10-second tumbling windows.
const FILTER_STEP_COUNT: &str = r#"
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" ("WINDOW_START" TIMESTAMP, "referrer" VARCHAR(32), "N" BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM STEP(s.ROWTIME BY INTERVAL '10' SECOND), "referrer", COUNT(*)
  FROM "SOURCE_SQL_STREAM_001" AS s
  WHERE "ms" > 50
  GROUP BY "referrer", STEP(s.ROWTIME BY INTERVAL '10' SECOND);
"#;

/// The compiled application and its input and output streams.
struct App {
    plan: Arc<AppPlan>,
    input: StreamId,
    output: StreamId,
}

fn compile_app(code: &str) -> App {
    let schema = schema();
    let columns = schema
        .columns
        .iter()
        .map(|column| ColumnDef { name: column.name.clone(), sql_type: column.sql_type, not_null: false })
        .chain([ColumnDef { name: APPROXIMATE_ARRIVAL_TIME.to_owned(), sql_type: SqlType::Timestamp, not_null: false }])
        .collect();
    let catalog = InputCatalog { streams: vec![InputStreamDef { name: "SOURCE_SQL_STREAM_001".to_owned(), columns }] };
    let plan = Arc::new(compile(code, &catalog).expect("the benchmark's code compiles"));
    let input = plan.stream_id("SOURCE_SQL_STREAM_001").expect("input stream");
    let output = plan.stream_id("DESTINATION_SQL_STREAM").expect("output stream");
    App { plan, input, output }
}

/// An engine on a temporary folder holding `count` records in a 4-shard stream.
fn filled_engine(runtime: &tokio::runtime::Runtime, count: usize) -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let fs: Arc<dyn FileSystem> = Arc::new(StdFs);
    let config = EngineConfig { create_stream_ms: 0, ..EngineConfig::default() };
    let engine = Arc::new(
        Engine::open(fs, Arc::new(SystemClock), Path::new(dir.path()), LogConfig::default(), config)
            .expect("engine opens"),
    );
    runtime.block_on(async {
        let request = CreateStream {
            name: STREAM.to_owned(),
            shard_count: Some(SHARDS),
            mode: None,
            tags: BTreeMap::new(),
            max_record_size_kib: None,
            warm_throughput_mibps: None,
            record_distribution: None,
        };
        engine.create_stream(request).await.expect("stream created");
        for start in (0..count).step_by(PUT_BATCH) {
            let records = (start..count.min(start + PUT_BATCH))
                .map(|index| PutEntry {
                    partition_key: Some(format!("pk-{index}")),
                    explicit_hash_key: None,
                    data: record(index),
                })
                .collect();
            engine.put_records(PutRecords { stream: StreamRef::name(STREAM), records }).await.expect("records put");
        }
    });
    (dir, engine)
}

/// Reads the whole stream once, handing each batch's records to `each`.
fn read_all(engine: &Arc<Engine>, mut each: impl FnMut(&[rheo_engine::ReaderRecord])) -> usize {
    let request = StreamReaderRequest { stream_name: STREAM.to_owned(), start: ReaderStart::TrimHorizon };
    let mut reader = engine.stream_reader(request).expect("reader opens");
    let mut read = 0;
    while let Some(batch) = reader.next_batch(READ_BATCH_RECORDS, READ_BATCH_BYTES).expect("batch read") {
        read += batch.records.len();
        each(&batch.records);
    }
    read
}

/// One pass of the whole path: read, map, execute, encode. Returns encoded bytes.
fn run_pipeline(engine: &Arc<Engine>, app: &App, expected: usize) -> usize {
    let mut mapper = RecordMapper::new(&schema()).expect("schema valid");
    let mut executor = Executor::new(app.plan.clone(), &[app.output], ExecLimits::default(), START_MS);
    let encoder = RowEncoder::new(OutputFormat::Json, &app.plan.streams[app.output].columns);
    let (mut rows, mut errors, mut drained, mut out): (Vec<Row>, Vec<ErrorRow>, Vec<Row>, Vec<u8>) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut mapped = 0usize;
    let mut encoded = 0usize;
    let read = read_all(engine, |records| {
        let now_ms = START_MS + (mapped / (RECORDS_PER_SECOND / 1000)) as i64;
        for record in records {
            mapper.map_bytes(&record.data, record.arrival_ms as i64, now_ms, 0, &mut rows, &mut errors);
        }
        mapped += records.len();
        executor.push(app.input, &mut rows, now_ms);
        executor.push_errors(&mut errors);
        executor.drain(app.output, &mut drained);
        for row in drained.drain(..) {
            out.clear();
            encoder.encode(&row, &mut out);
            encoded += out.len();
        }
    });
    assert_eq!(read, expected, "the whole stream is read");
    executor.close_all(START_MS + (mapped / (RECORDS_PER_SECOND / 1000)) as i64);
    executor.drain(app.output, &mut drained);
    for row in drained.drain(..) {
        out.clear();
        encoder.encode(&row, &mut out);
        encoded += out.len();
    }
    assert!(encoded > 0, "rows came out");
    encoded
}

fn pipeline(c: &mut Criterion<ThreadCpuTime>) {
    let count: usize = std::env::var("RHEO_BENCH_RECORDS").ok().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("tokio runtime");
    let (_dir, engine) = filled_engine(&runtime, count);
    let in_memory: Vec<Bytes> = (0..count).map(record).collect();
    let average_bytes = in_memory.iter().map(Bytes::len).sum::<usize>() / count;
    eprintln!("pipeline: {count} records of {average_bytes} bytes on average, {SHARDS} shards");

    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("read", |b| {
        b.iter(|| {
            black_box(read_all(&engine, |records| {
                black_box(records);
            }))
        })
    });
    group.bench_function("map", |b| {
        let mut mapper = RecordMapper::new(&schema()).expect("schema valid");
        let (mut rows, mut errors) = (Vec::with_capacity(READ_BATCH_RECORDS), Vec::new());
        b.iter(|| {
            for chunk in in_memory.chunks(READ_BATCH_RECORDS) {
                for record in chunk {
                    mapper.map_bytes(record, START_MS, START_MS, 0, &mut rows, &mut errors);
                }
                black_box(&rows);
                rows.clear();
            }
        })
    });
    group.bench_function("read_map", |b| {
        let mut mapper = RecordMapper::new(&schema()).expect("schema valid");
        let (mut rows, mut errors) = (Vec::with_capacity(READ_BATCH_RECORDS), Vec::new());
        b.iter(|| {
            read_all(&engine, |records| {
                for record in records {
                    mapper.map_bytes(&record.data, START_MS, START_MS, 0, &mut rows, &mut errors);
                }
                black_box(&rows);
                rows.clear();
            })
        })
    });
    let filter_project = compile_app(FILTER_PROJECT);
    group.bench_function("a_filter_project", |b| b.iter(|| run_pipeline(&engine, &filter_project, count)));
    let step_count = compile_app(FILTER_STEP_COUNT);
    group.bench_function("b_filter_step_count", |b| b.iter(|| run_pipeline(&engine, &step_count, count)));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime { wall: WallTime });
    targets = pipeline
}
criterion_main!(benches);
