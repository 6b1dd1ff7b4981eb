//! `put`: closed-loop PutRecords throughput, C connections with one request in flight each.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::body::{bodies_to_build, build_bodies, Batch};
use crate::error::{BenchError, Result};
use crate::http::Client;
use crate::procstat::Watch;
use crate::report::{progress_line, Summary};
use crate::stats::Meter;
use crate::{Ctx, PutArgs};

/// How long workers may finish their in-flight request after the end before being cut off.
const GRACE: Duration = Duration::from_secs(5);
/// Pause after a failed request, so an error does not turn into a busy loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(5);

#[derive(Deserialize)]
struct PutRecordsOut {
    #[serde(rename = "FailedRecordCount", default)]
    failed: u64,
    #[serde(rename = "Records", default)]
    records: Vec<PutEntry>,
}

#[derive(Deserialize)]
struct PutEntry {
    #[serde(rename = "ErrorCode")]
    error_code: Option<String>,
}

/// Refused records of a PutRecords answer, grouped by `ErrorCode`; `None` if unparseable.
pub fn failed_records(body: &[u8]) -> Option<(u64, Vec<(String, u64)>)> {
    let out: PutRecordsOut = serde_json::from_slice(body).ok()?;
    if out.failed == 0 {
        return Some((0, Vec::new()));
    }
    let mut codes: Vec<(String, u64)> = Vec::new();
    for code in out.records.into_iter().filter_map(|r| r.error_code) {
        match codes.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => codes.push((code, 1)),
        }
    }
    let listed: u64 = codes.iter().map(|(_, n)| n).sum();
    if listed < out.failed {
        codes.push(("Unspecified".into(), out.failed - listed));
    }
    Some((out.failed, codes))
}

/// Records still allowed to be sent (for count-bounded runs).
pub struct Budget(AtomicU64);

impl Budget {
    /// `records` to send.
    pub fn new(records: u64) -> Self {
        Budget(AtomicU64::new(records))
    }

    /// Takes one batch's worth; false when the budget is spent.
    pub fn take(&self, n: u64) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                if left == 0 {
                    None
                } else {
                    Some(left.saturating_sub(n))
                }
            })
            .is_ok()
    }
}

/// One PutRecords sent and counted.
pub async fn put_once(client: &mut Client, batch: &Batch, meter: &Meter) -> bool {
    let started = Instant::now();
    match client.send("PutRecords", &batch.body).await {
        Ok(reply) if reply.error_type.is_none() => {
            let latency = started.elapsed();
            match failed_records(&reply.body) {
                Some((failed, codes)) => {
                    let acked = batch.records.saturating_sub(failed);
                    let bytes = batch.payload_bytes * acked / batch.records.max(1);
                    meter.ok(latency, acked, bytes, &codes);
                    true
                }
                None => {
                    meter.error("BadResponse");
                    false
                }
            }
        }
        Ok(reply) => {
            meter.error(reply.error_type.as_deref().unwrap_or("Unknown"));
            false
        }
        Err(e) => {
            meter.error(&e.kind());
            false
        }
    }
}

/// Sends the bodies round-robin (starting at `offset`) until `stop` is set or `budget` is
/// spent. Returns the connections it opened.
pub async fn producer(
    mut client: Client,
    bodies: Arc<Vec<Arc<Batch>>>,
    offset: usize,
    meter: Arc<Meter>,
    stop: Arc<AtomicBool>,
    budget: Option<Arc<Budget>>,
    connects: Arc<AtomicU64>,
) {
    let mut i = offset;
    let mut opened = client.connects;
    while !stop.load(Ordering::Relaxed) {
        let batch = &bodies[i % bodies.len()];
        i += 1;
        if let Some(budget) = &budget {
            if !budget.take(batch.records) {
                break;
            }
        }
        let ok = put_once(&mut client, batch, &meter).await;
        if client.connects > opened {
            connects.fetch_add(client.connects - opened, Ordering::Relaxed);
            opened = client.connects;
        }
        if !ok {
            tokio::time::sleep(ERROR_BACKOFF).await;
        }
    }
}

/// Starts one [`producer`] per client, each beginning at its own share of `bodies`.
pub fn spawn_producers(
    clients: Vec<Client>,
    bodies: &Arc<Vec<Arc<Batch>>>,
    meter: &Arc<Meter>,
    stop: &Arc<AtomicBool>,
    budget: Option<&Arc<Budget>>,
    connects: &Arc<AtomicU64>,
) -> tokio::task::JoinSet<()> {
    let mut workers = tokio::task::JoinSet::new();
    let n = clients.len();
    for (i, client) in clients.into_iter().enumerate() {
        let offset = i * bodies.len() / n.max(1);
        workers.spawn(producer(
            client,
            bodies.clone(),
            offset,
            meter.clone(),
            stop.clone(),
            budget.cloned(),
            connects.clone(),
        ));
    }
    workers
}

/// Opens `n` connected clients.
pub async fn connected_clients(ctx: &Ctx, n: usize) -> Result<Vec<Client>> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let mut client = ctx.client();
        client.connect().await?;
        clients.push(client);
    }
    Ok(clients)
}

/// Runs `put`.
pub async fn run(ctx: &Ctx, args: &PutArgs) -> Result<Summary> {
    if args.batch == 0 || args.batch > 500 {
        return Err(BenchError::Args("--batch must be 1..=500 (the PutRecords limit)".into()));
    }
    if args.connections == 0 {
        return Err(BenchError::Args("--connections must be at least 1".into()));
    }
    let mut control = ctx.client();
    let name = ctx.stream_name("put");
    let stream = crate::api::ensure_stream(&mut control, &name, args.shards, ctx.control_timeout()).await?;
    let result = drive(ctx, args, &stream.name).await;
    ctx.cleanup(&mut control, &stream, false).await;
    let mut summary = result?;
    summary.shards = stream.open_shards.or(Some(u64::from(args.shards)));
    Ok(summary)
}

async fn drive(ctx: &Ctx, args: &PutArgs, stream: &str) -> Result<Summary> {
    let count = bodies_to_build(args.bodies, args.batch, args.record_bytes);
    let started_build = Instant::now();
    let bodies = Arc::new(build_bodies(stream, args.batch, args.record_bytes, count, 0));
    ctx.say(&format!(
        "built {count} bodies of {} records × {} B ({:.1} MB) in {:.0} ms",
        args.batch,
        args.record_bytes,
        bodies.iter().map(|b| b.body.bytes.len()).sum::<usize>() as f64 / 1e6,
        started_build.elapsed().as_secs_f64() * 1000.0
    ));

    let count_mode = args.records.is_some();
    let warmup = if count_mode { Duration::ZERO } else { Duration::from_secs_f64(args.warmup.max(0.0)) };
    let duration = Duration::from_secs_f64(args.duration.max(0.0));
    let meter = Arc::new(Meter::new(warmup.is_zero()));
    let stop = Arc::new(AtomicBool::new(false));
    let budget = args.records.map(|n| Arc::new(Budget::new(n)));
    let connects = Arc::new(AtomicU64::new(0));

    let clients = connected_clients(ctx, args.connections).await?;
    connects.fetch_add(clients.len() as u64, Ordering::Relaxed);
    let mut watch = ctx.common.pid.map(Watch::new);
    let mut me = Watch::new(std::process::id());
    let start = Instant::now();
    let mut measure_start = start;
    if warmup.is_zero() {
        if let Some(w) = watch.as_mut() {
            w.start();
        }
        me.start();
    }
    let mut workers = spawn_producers(clients, &bodies, &meter, &stop, budget.as_ref(), &connects);

    let warmup_end = start + warmup;
    let end = warmup_end + duration;
    let mut second = 0u64;
    let mut next_tick = start + Duration::from_secs(1);
    let mut warming = !warmup.is_zero();
    loop {
        let now = Instant::now();
        if warming && now >= warmup_end {
            meter.set_measuring(true);
            measure_start = Instant::now();
            if let Some(w) = watch.as_mut() {
                w.start();
            }
            me.start();
            warming = false;
        }
        if count_mode && workers.is_empty() {
            break;
        }
        if !count_mode && now >= end {
            break;
        }
        if now >= next_tick {
            second += 1;
            let phase = if !warmup.is_zero() && next_tick <= warmup_end { "warmup" } else { "put" };
            next_tick += Duration::from_secs(1);
            let interval = meter.take_interval();
            let server = watch.as_mut().and_then(|w| w.tick());
            ctx.progress(&progress_line(phase, second, &interval, meter.errors.load(Ordering::Relaxed), server));
        }
        let mut wake = next_tick;
        if warming {
            wake = wake.min(warmup_end);
        }
        if !count_mode {
            wake = wake.min(end);
        }
        if count_mode {
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                joined = workers.join_next() => { if joined.is_none() { break; } }
            }
        } else {
            tokio::time::sleep_until(wake.into()).await;
        }
    }
    let elapsed = measure_start.elapsed();
    meter.set_measuring(false);
    stop.store(true, Ordering::SeqCst);
    let server = watch.as_mut().and_then(|w| w.report());
    let client_cpu = me.report().map(|r| r.cpu_percent);
    let _ = tokio::time::timeout(GRACE, async { while workers.join_next().await.is_some() {} }).await;
    workers.abort_all();

    let mut summary = ctx.summary("put");
    summary.params = json!({
        "shards": args.shards, "connections": args.connections, "batch": args.batch, "record_bytes": args.record_bytes,
        "duration_s": args.duration, "warmup_s": warmup.as_secs_f64(), "records": args.records, "bodies": count,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    summary.stream = Some(stream.to_owned());
    summary.elapsed_s = elapsed.as_secs_f64();
    summary.records = meter.records();
    summary.bytes = meter.bytes.load(Ordering::Relaxed);
    summary.requests = meter.requests.load(Ordering::Relaxed);
    summary.latency = meter.latency();
    summary.errors = meter.errors_by_type();
    summary.failed_records = meter.failed_by_code();
    summary.connects = connects.load(Ordering::Relaxed);
    summary.server = server;
    summary.client_cpu_percent = client_cpu;
    summary.extra.insert("distinct_partition_keys".into(), json!(count * args.batch));
    summary.rows.push(("bodies".into(), format!("{count} distinct, {} random keys", count * args.batch)));
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_records_are_grouped() {
        assert_eq!(
            failed_records(
                br#"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}"#
            ),
            Some((0, vec![]))
        );
        let body = br#"{"FailedRecordCount":3,"Records":[
            {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"x"},
            {"SequenceNumber":"1","ShardId":"shardId-000000000000"},
            {"ErrorCode":"InternalFailure"},
            {"ErrorCode":"ProvisionedThroughputExceededException"}]}"#;
        let (n, codes) = failed_records(body).unwrap();
        assert_eq!(n, 3);
        assert_eq!(codes, vec![("ProvisionedThroughputExceededException".into(), 2), ("InternalFailure".into(), 1)]);
        assert_eq!(failed_records(b"not json"), None);
    }

    #[test]
    fn budget_runs_out() {
        let b = Budget::new(1000);
        assert!(b.take(500));
        assert!(b.take(500));
        assert!(!b.take(500));
        let b = Budget::new(700);
        assert!(b.take(500));
        assert!(b.take(500));
        assert!(!b.take(500));
    }
}
