//! `firehose`: PutRecordBatch throughput into a delivery stream and the rate at which the
//! server delivers it as objects, with the server's CPU.
//!
//! The delivery stream writes to an S3 destination (Rheo: a folder under its data
//! directory) with the chosen compression. Producers run for the duration; then the
//! run waits until the server's `/metrics` shows every acknowledged record delivered,
//! so "delivered records/s" covers put, buffering, compression and the object writes.
//! Endpoints without Rheo's metrics (AWS) report the put side only.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rand::{Rng, RngCore};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{BenchError, Result};
use crate::http::{Client, SignedBody};
use crate::procstat::Watch;
use crate::report::{progress_line, Summary};
use crate::stats::Meter;
use crate::{Ctx, FirehoseArgs};

/// The Firehose target prefix.
pub const TARGET_PREFIX: &str = "Firehose_20150804.";
/// PutRecordBatch's record limit.
const BATCH_MAX: usize = 500;
/// Distinct pre-built bodies (random payloads, so compression ratios are honest).
const BODIES: usize = 16;
/// Pause after a failed request.
const ERROR_BACKOFF: Duration = Duration::from_millis(5);
/// The largest /metrics answer read.
const METRICS_BYTES_MAX: usize = 16 * 1024 * 1024;

fn client(ctx: &Ctx) -> Client {
    ctx.client_for("firehose").with_target_prefix(TARGET_PREFIX)
}

/// Payloads shaped like JSON log lines (a timestamp, ids and random words from a small
/// vocabulary), so the compression ratio and speed resemble a real log pipeline's.
fn payload(bytes: usize) -> Vec<u8> {
    const WORDS: [&str; 32] = [
        "request",
        "served",
        "user",
        "cache",
        "miss",
        "hit",
        "timeout",
        "retry",
        "order",
        "payment",
        "accepted",
        "declined",
        "session",
        "login",
        "logout",
        "error",
        "warning",
        "upstream",
        "latency",
        "bytes",
        "region",
        "eu-west-1",
        "us-east-1",
        "checkout",
        "cart",
        "item",
        "added",
        "removed",
        "search",
        "query",
        "page",
        "view",
    ];
    let mut rng = rand::thread_rng();
    let mut line = format!(
        "{{\"ts\":{},\"level\":\"{}\",\"user\":\"u{:06}\",\"trace\":\"{:016x}\",\"msg\":\"",
        1_764_000_000_000u64 + rng.gen_range(0..86_400_000u64),
        ["INFO", "WARN", "ERROR", "DEBUG"][rng.gen_range(0..4)],
        rng.gen_range(0..1_000_000),
        rng.next_u64()
    );
    while line.len() + 3 < bytes {
        line.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
        line.push(' ');
    }
    line.truncate(bytes.saturating_sub(3));
    line.push_str("\"}\n");
    line.into_bytes()
}

fn body(stream: &str, batch: usize, record_bytes: usize) -> Bytes {
    let records: Vec<Value> = (0..batch).map(|_| json!({ "Data": STANDARD.encode(payload(record_bytes)) })).collect();
    Bytes::from(json!({ "DeliveryStreamName": stream, "Records": records }).to_string())
}

/// Reads `name{delivery_stream="stream"}` from the server's Prometheus text.
async fn delivered(ctx: &Ctx, stream: &str) -> Option<u64> {
    let address = ctx.endpoint.address.clone();
    let mut socket = tokio::net::TcpStream::connect(&address).await.ok()?;
    let request = format!("GET /metrics HTTP/1.0\r\nHost: {}\r\n\r\n", ctx.endpoint.authority);
    socket.write_all(request.as_bytes()).await.ok()?;
    let mut text = Vec::new();
    socket.take(METRICS_BYTES_MAX as u64).read_to_end(&mut text).await.ok()?;
    let text = String::from_utf8_lossy(&text);
    let wanted = format!("rheo_firehose_delivered_records_total{{delivery_stream=\"{stream}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&wanted)).and_then(|v| v.trim().parse().ok())
}

async fn create(ctx: &Ctx, control: &mut Client, name: &str, args: &FirehoseArgs) -> Result<()> {
    let input = json!({
        "DeliveryStreamName": name,
        "DeliveryStreamType": "DirectPut",
        "ExtendedS3DestinationConfiguration": {
            "RoleARN": "arn:aws:iam::000000000000:role/rheo-bench",
            "BucketARN": format!("arn:aws:s3:::{}", args.bucket),
            "Prefix": format!("{name}/"),
            "ErrorOutputPrefix": format!("{name}-errors/!{{firehose:error-output-type}}/"),
            "CompressionFormat": args.compression,
            "BufferingHints": { "SizeInMBs": args.buffer_mib, "IntervalInSeconds": args.interval_secs },
        }
    });
    let _: Value = control.call("CreateDeliveryStream", &input).await?;
    let deadline = Instant::now() + ctx.control_timeout();
    loop {
        let out: Value = control.call("DescribeDeliveryStream", &json!({ "DeliveryStreamName": name })).await?;
        if out["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE" {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout(format!("delivery stream {name} did not become ACTIVE")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn producer(
    mut client: Client,
    bodies: Arc<Vec<SignedBody>>,
    offset: usize,
    batch: u64,
    payload: u64,
    meter: Arc<Meter>,
    stop: Arc<AtomicBool>,
) {
    let mut i = offset;
    while !stop.load(Ordering::Relaxed) {
        let body = &bodies[i % bodies.len()];
        i += 1;
        let started = Instant::now();
        match client.send("PutRecordBatch", body).await {
            Ok(reply) if reply.error_type.is_none() => {
                let failed = serde_json::from_slice::<Value>(&reply.body)
                    .ok()
                    .and_then(|v| v["FailedPutCount"].as_u64())
                    .unwrap_or(batch);
                let acked = batch.saturating_sub(failed);
                let codes = if failed > 0 { vec![("Failed".to_owned(), failed)] } else { Vec::new() };
                meter.ok(started.elapsed(), acked, payload * acked, &codes);
            }
            Ok(reply) => {
                meter.error(reply.error_type.as_deref().unwrap_or("Unknown"));
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
            Err(e) => {
                meter.error(&e.kind());
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    }
}

/// Runs `firehose`.
pub async fn run(ctx: &Ctx, args: &FirehoseArgs) -> Result<Summary> {
    if args.batch == 0 || args.batch > BATCH_MAX {
        return Err(BenchError::Args("--batch must be 1..=500 (the PutRecordBatch limit)".into()));
    }
    if args.connections == 0 {
        return Err(BenchError::Args("--connections must be at least 1".into()));
    }
    let name = ctx.stream_name("firehose");
    let mut control = client(ctx);
    create(ctx, &mut control, &name, args).await?;
    let bodies: Arc<Vec<SignedBody>> = Arc::new(
        (0..BODIES).map(|i| SignedBody::new(Some(i as u64), body(&name, args.batch, args.record_bytes))).collect(),
    );
    let meter = Arc::new(Meter::new(true));
    let stop = Arc::new(AtomicBool::new(false));
    let mut watch = ctx.common.pid.map(Watch::new);
    let mut me = Watch::new(std::process::id());
    let mut workers = tokio::task::JoinSet::new();
    let start = Instant::now();
    if let Some(w) = watch.as_mut() {
        w.start();
    }
    me.start();
    for i in 0..args.connections {
        let mut worker = client(ctx);
        worker.connect().await?;
        workers.spawn(producer(
            worker,
            bodies.clone(),
            i * BODIES / args.connections,
            args.batch as u64,
            args.record_bytes as u64,
            meter.clone(),
            stop.clone(),
        ));
    }
    let duration = Duration::from_secs_f64(args.duration.max(0.0));
    let mut second = 0;
    while start.elapsed() < duration {
        tokio::time::sleep(Duration::from_secs(1)).await;
        second += 1;
        let server = watch.as_mut().and_then(Watch::tick);
        let interval = meter.take_interval();
        ctx.progress(&progress_line("put", second, &interval, meter.errors.load(Ordering::Relaxed), server));
    }
    stop.store(true, Ordering::Relaxed);
    while workers.join_next().await.is_some() {}
    let put_elapsed = start.elapsed().as_secs_f64();
    let acked = meter.records();

    // Wait for delivery of everything acknowledged.
    let drain_deadline = Instant::now() + Duration::from_secs_f64(args.drain.max(0.0));
    let mut delivered_count = None;
    let mut delivered_at = None;
    loop {
        let now = delivered(ctx, &name).await;
        delivered_count = now.or(delivered_count);
        if now.is_some_and(|d| d >= acked) {
            delivered_at = Some(start.elapsed().as_secs_f64());
            break;
        }
        if now.is_none() || Instant::now() > drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let server = watch.as_mut().and_then(Watch::report);
    let client_cpu = me.report().map(|r| r.cpu_percent);
    if !ctx.common.keep {
        let _: Result<Value> = control.call("DeleteDeliveryStream", &json!({ "DeliveryStreamName": name })).await;
    }

    let mut summary = ctx.summary("firehose");
    summary.stream = Some(name);
    summary.elapsed_s = put_elapsed;
    summary.records = acked;
    summary.bytes = meter.bytes.load(Ordering::Relaxed);
    summary.requests = meter.requests.load(Ordering::Relaxed);
    summary.latency = meter.latency();
    summary.errors = meter.errors_by_type();
    summary.failed_records = meter.failed_by_code();
    summary.server = server;
    summary.client_cpu_percent = client_cpu;
    for (key, value) in [
        ("connections", json!(args.connections)),
        ("batch", json!(args.batch)),
        ("record_bytes", json!(args.record_bytes)),
        ("compression", json!(args.compression)),
        ("buffer_mib", json!(args.buffer_mib)),
        ("interval_secs", json!(args.interval_secs)),
    ] {
        summary.params.insert(key.into(), value);
    }
    summary.extra.insert("delivered_records".into(), json!(delivered_count));
    match delivered_at {
        Some(seconds) => {
            let rate = acked as f64 / seconds;
            summary.extra.insert("delivered_seconds".into(), json!(seconds));
            summary.extra.insert("delivered_records_per_s".into(), json!(rate.round()));
            summary.extra.insert(
                "delivered_mb_per_s".into(),
                json!((summary.bytes as f64 / seconds / 1e6 * 100.0).round() / 100.0),
            );
            summary.rows.push(("delivered".into(), format!("{acked} records in {seconds:.2} s = {rate:.0} rec/s")));
        }
        None => summary.rows.push((
            "delivered".into(),
            match delivered_count {
                Some(count) => format!("only {count} of {acked} records within the drain time"),
                None => "not measured (no Rheo /metrics on this endpoint)".into(),
            },
        )),
    }
    Ok(summary)
}
