//! `consumer`: fills a fresh stream, then one rheo-client KCL-compatible worker reads it
//! all (from TRIM_HORIZON, with its lease table, checkpointing after every batch), once
//! by polling and once over enhanced fan-out: user records per second for one worker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::Rng;
use rheo_client::consumer::{
    Checkpointer, InitialPosition, InitializeInput, ProcessRecordsInput, ProcessorFactory, RecordProcessor,
    RetrievalConfig, Worker, WorkerConfig,
};
use rheo_client::{ClientConfig, Credentials, DynamoDb};
use rheo_protocol::dynamodb::DynamoDbOperation;
use serde_json::json;

use crate::error::{BenchError, Result};
use crate::fill::fill;
use crate::report::{per_s, thousands};
use crate::stats::{round1, round3};
use crate::{ConsumerArgs, Ctx, FillArgs, Retrieval};

/// What the counting processors share.
#[derive(Default)]
struct Progress {
    records: AtomicU64,
    first_at: Mutex<Option<Instant>>,
    last_at: Mutex<Option<Instant>>,
}

struct Counter(Arc<Progress>);

impl RecordProcessor for Counter {
    async fn initialize(&mut self, _input: InitializeInput) {}

    async fn process_records(&mut self, input: ProcessRecordsInput, checkpointer: &Checkpointer) {
        let now = Instant::now();
        self.0.first_at.lock().get_or_insert(now);
        *self.0.last_at.lock() = Some(now);
        self.0.records.fetch_add(input.records.len() as u64, Ordering::Relaxed);
        if let Err(e) = checkpointer.checkpoint().await {
            eprintln!("warning: checkpoint failed: {e}");
        }
    }

    async fn shard_ended(&mut self, checkpointer: &Checkpointer) {
        let _ = checkpointer.checkpoint().await;
    }
}

struct Counters(Arc<Progress>);

impl ProcessorFactory for Counters {
    type Processor = Counter;

    fn create(&self, _shard_id: &str) -> Counter {
        Counter(Arc::clone(&self.0))
    }
}

fn bench_error(detail: impl ToString) -> BenchError {
    BenchError::BadResponse { operation: "consumer", detail: detail.to_string() }
}

/// Runs the benchmark.
pub(crate) async fn run(ctx: &Ctx, args: &ConsumerArgs) -> Result<crate::report::Summary> {
    let plan = FillArgs {
        connections: args.connections,
        batch: 500,
        record_bytes: args.record_bytes,
        records: args.records,
        fill_secs: args.fill_secs,
        bodies: 64,
    };
    plan.check()?;
    let mut control = ctx.client();
    let name = ctx.stream_name("consumer");
    let stream = crate::api::ensure_stream(&mut control, &name, args.shards, ctx.control_timeout()).await?;
    let mut summary = ctx.summary("consumer");
    summary.stream = Some(name.clone());
    summary.shards = stream.open_shards.or(Some(u64::from(args.shards)));
    let mut watch = None;
    let filled = match fill(ctx, &name, &plan, &mut watch).await {
        Ok(filled) => filled,
        Err(e) => {
            ctx.cleanup(&mut control, &stream, false).await;
            return Err(e);
        }
    };
    filled.report_into(&mut summary);
    let client = ClientConfig::new(
        Some(&ctx.common.endpoint),
        &ctx.common.region,
        Credentials {
            access_key: ctx.common.access_key.clone(),
            secret_key: ctx.common.secret_key.clone(),
            session_token: ctx.common.session_token.clone(),
        },
    );
    let modes: &[Retrieval] = match args.retrieval {
        Retrieval::Both => &[Retrieval::Polling, Retrieval::FanOut],
        Retrieval::Polling => &[Retrieval::Polling],
        Retrieval::FanOut => &[Retrieval::FanOut],
    };
    let mut results = serde_json::Map::new();
    let mut outcome = Ok(());
    // The summary's own throughput is the workers' together: records read over seconds
    // spent reading, i.e. the mean records/s of one worker.
    let (mut read_total, mut reading_total) = (0, 0.0);
    for mode in modes {
        match read_all(ctx, &client, &name, *mode, filled.records, args).await {
            Ok((label, result, row)) => {
                read_total += result["records"].as_u64().unwrap_or(0);
                reading_total += result["reading_s"].as_f64().unwrap_or(0.0);
                summary.rows.push(row);
                results.insert(label.into(), result);
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    ctx.cleanup(&mut control, &stream, true).await;
    outcome?;
    summary.records = read_total;
    summary.elapsed_s = reading_total;
    summary.params = json!({
        "shards": args.shards, "records": args.records, "record_bytes": args.record_bytes,
        "connections": args.connections, "max_records": args.max_records,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    summary.extra.insert("workers".into(), serde_json::Value::Object(results));
    Ok(summary)
}

/// One worker reads `expected` records with `mode`; returns its label, JSON and table row.
async fn read_all(
    ctx: &Ctx,
    client: &ClientConfig,
    stream: &str,
    mode: Retrieval,
    expected: u64,
    args: &ConsumerArgs,
) -> Result<(&'static str, serde_json::Value, (String, String))> {
    let label = match mode {
        Retrieval::FanOut => "fan-out",
        _ => "polling",
    };
    let application = format!("rheo-bench-consumer-{:08x}", rand::thread_rng().gen::<u32>());
    let mut config = WorkerConfig::new(&application, stream);
    config.initial_position = InitialPosition::TrimHorizon;
    config.retrieval = match mode {
        Retrieval::FanOut => RetrievalConfig::FanOut { consumer_name: application.clone() },
        _ => RetrievalConfig::Polling { max_records: args.max_records, idle_time: Duration::from_millis(200) },
    };
    let progress = Arc::new(Progress::default());
    let worker = Worker::new(client, config, Counters(Arc::clone(&progress))).map_err(bench_error)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.read_timeout);
    let run = worker.run(async {
        let _ = stopped.await;
    });
    let watch = async {
        let mut second = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            second += 1;
            let read = progress.records.load(Ordering::Relaxed);
            ctx.progress(&format!("{label} {second:>4}s  {} of {} records", thousands(read), thousands(expected)));
            if read >= expected || Instant::now() >= deadline {
                let _ = stop.send(());
                return;
            }
        }
    };
    let (ran, ()) = tokio::join!(run, watch);
    ran.map_err(bench_error)?;
    let read = progress.records.load(Ordering::Relaxed);
    let total_s = started.elapsed().as_secs_f64();
    let first = *progress.first_at.lock();
    let last = *progress.last_at.lock();
    let reading_s = match (first, last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    let startup_s = first.map(|f| f.duration_since(started).as_secs_f64()).unwrap_or(total_s);
    let rate = per_s(read as f64, reading_s);
    let metrics = worker.metrics();
    if let Err(e) = DynamoDb::new(client)
        .map_err(bench_error)?
        .call_json(DynamoDbOperation::DeleteTable, &json!({ "TableName": application }))
        .await
    {
        eprintln!("warning: could not delete lease table {application}: {e}");
    }
    if read < expected {
        return Err(bench_error(format!("{label}: read {read} of {expected} records within {} s", args.read_timeout)));
    }
    let result = json!({
        "records": read, "records_per_s": round1(rate), "reading_s": round3(reading_s),
        "startup_s": round1(startup_s), "leases_taken": metrics.leases_taken,
    });
    let row = (
        format!("{label} worker"),
        format!(
            "{} records/s ({} records in {reading_s:.1} s; first after {startup_s:.1} s)",
            thousands(rate as u64),
            thousands(read)
        ),
    );
    Ok((label, result, row))
}
