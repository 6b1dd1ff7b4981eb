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
//! `taskset -c 0 cargo bench -p rheo-analytics --bench pipeline` (`RHEO_BENCH_RECORDS`,
//! default 200,000 records per iteration).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rheo_analytics::config::{OutputFormat, RecordColumn, RecordFormat, SourceSchemaDef};
use rheo_analytics::exec::{ExecLimits, Executor};
use rheo_analytics::limits::{READ_BATCH_BYTES, READ_BATCH_RECORDS};
use rheo_analytics::mapping::{RecordMapper, RowEncoder};
use rheo_analytics::plan::{
    error_stream_columns, AggregateCall, AggregateFunction, AggregatePlan, AppPlan, BinaryOp, ColumnDef, Expr,
    ExprKind, ProgressKey, PumpPlan, Query, QueryShape, Source, StreamDef, StreamKind, APPROXIMATE_ARRIVAL_TIME,
};
use rheo_analytics::value::{ErrorRow, Row, SqlType, Value};
use rheo_engine::{CreateStream, Engine, EngineConfig, PutEntry, PutRecords, ReaderStart, StreamReaderRequest, StreamRef};
use rheo_storage::{FileSystem, LogConfig, StdFs, SystemClock};

const STREAM: &str = "page-views";
const SHARDS: u32 = 4;
const REFERRERS: usize = 50;
const PUT_BATCH: usize = 500;
const START_MS: i64 = 1_733_480_000_000;
/// Synthetic processing time advances 1 s per this many records, so 10-second windows
/// close during an iteration, as they would at 1 M events/s.
const RECORDS_PER_SECOND: usize = 1_000_000;

const INPUT: usize = 0;
const OUTPUT: usize = 2;

fn record(index: usize) -> Bytes {
    let text = format!(
        r#"{{"ts":{},"referrer":"site-{}.example","path":"/a/b","ms":{}}}"#,
        START_MS + index as i64,
        index % REFERRERS,
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

fn column_def(name: &str, sql_type: SqlType) -> ColumnDef {
    ColumnDef { name: name.to_owned(), sql_type, not_null: false }
}

fn expr(kind: ExprKind, ty: SqlType) -> Expr {
    Expr { kind, ty }
}

/// The plan the SQL compiler gives for the benchmark's code (built here so the bench
/// measures the executor, not the compiler): `SOURCE_SQL_STREAM_001`, `error_stream`,
/// `DESTINATION_SQL_STREAM`, one pump with `WHERE "ms" > 50`.
fn plan(aggregate: bool) -> Arc<AppPlan> {
    let input_columns = vec![
        column_def("ts", SqlType::BigInt),
        column_def("referrer", SqlType::Varchar(32)),
        column_def("path", SqlType::Varchar(64)),
        column_def("ms", SqlType::Integer),
        column_def(APPROXIMATE_ARRIVAL_TIME, SqlType::Timestamp),
    ];
    let referrer = expr(ExprKind::Column(1), SqlType::Varchar(32));
    let ms = expr(ExprKind::Column(3), SqlType::Integer);
    let filter = expr(
        ExprKind::Binary {
            op: BinaryOp::Gt,
            left: Box::new(ms.clone()),
            right: Box::new(expr(ExprKind::Literal(Value::Int(50)), SqlType::Integer)),
        },
        SqlType::Boolean,
    );
    let (output_columns, shape) = if aggregate {
        let columns = vec![
            column_def("WINDOW_START", SqlType::Timestamp),
            column_def("referrer", SqlType::Varchar(32)),
            column_def("N", SqlType::BigInt),
        ];
        let shape = QueryShape::Aggregate(AggregatePlan {
            progress: ProgressKey::Step { expr: expr(ExprKind::Rowtime, SqlType::Timestamp), width_ms: 10_000 },
            keys: vec![referrer],
            aggregates: vec![AggregateCall { function: AggregateFunction::Count, arg: None, result_type: SqlType::BigInt }],
            having: None,
            // The group row is [window start, referrer, COUNT(*)].
            output: vec![
                expr(ExprKind::Column(0), SqlType::Timestamp),
                expr(ExprKind::Column(1), SqlType::Varchar(32)),
                expr(ExprKind::Column(2), SqlType::BigInt),
            ],
        });
        (columns, shape)
    } else {
        let columns = vec![column_def("referrer", SqlType::Varchar(32)), column_def("ms", SqlType::Integer)];
        (columns, QueryShape::Project(vec![referrer, ms]))
    };
    let stream = |name: &str, kind, columns| StreamDef { name: name.to_owned(), kind, columns, line: 0 };
    let target_columns = (0..output_columns.len()).collect();
    Arc::new(AppPlan {
        streams: vec![
            stream("SOURCE_SQL_STREAM_001", StreamKind::Input, input_columns),
            stream("error_stream", StreamKind::Error, error_stream_columns()),
            stream("DESTINATION_SQL_STREAM", StreamKind::Created, output_columns),
        ],
        pumps: vec![PumpPlan {
            name: "STREAM_PUMP".to_owned(),
            target: OUTPUT,
            target_columns,
            query: Query { source: Source::Stream(INPUT), filter: Some(filter), shape },
            line: 1,
        }],
    })
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
fn run_pipeline(engine: &Arc<Engine>, plan: &Arc<AppPlan>, expected: usize) -> usize {
    let mut mapper = RecordMapper::new(&schema()).expect("schema valid");
    let mut executor = Executor::new(plan.clone(), &[OUTPUT], ExecLimits::default(), START_MS);
    let encoder = RowEncoder::new(OutputFormat::Json, &plan.streams[OUTPUT].columns);
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
        executor.push(INPUT, &mut rows, now_ms);
        executor.push_errors(&mut errors);
        executor.drain(OUTPUT, &mut drained);
        for row in drained.drain(..) {
            out.clear();
            encoder.encode(&row, &mut out);
            encoded += out.len();
        }
    });
    assert_eq!(read, expected, "the whole stream is read");
    executor.close_all(START_MS + (mapped / (RECORDS_PER_SECOND / 1000)) as i64);
    executor.drain(OUTPUT, &mut drained);
    for row in drained.drain(..) {
        out.clear();
        encoder.encode(&row, &mut out);
        encoded += out.len();
    }
    assert!(encoded > 0, "rows came out");
    encoded
}

fn pipeline(c: &mut Criterion) {
    let count: usize =
        std::env::var("RHEO_BENCH_RECORDS").ok().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (_dir, engine) = filled_engine(&runtime, count);
    let in_memory: Vec<Bytes> = (0..count).map(record).collect();
    let average_bytes = in_memory.iter().map(Bytes::len).sum::<usize>() / count;
    eprintln!("pipeline: {count} records of {average_bytes} bytes on average, {SHARDS} shards");

    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("read", |b| b.iter(|| black_box(read_all(&engine, |records| drop(black_box(records))))));
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
    let filter_project = plan(false);
    group.bench_function("a_filter_project", |b| b.iter(|| run_pipeline(&engine, &filter_project, count)));
    let step_count = plan(true);
    group.bench_function("b_filter_step_count", |b| b.iter(|| run_pipeline(&engine, &step_count, count)));
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
