//! `queue`: receive+acknowledge throughput of a Kinesis queue. Fills an on-demand stream,
//! creates a queue on it from TRIM_HORIZON, then runs N receivers, each on its own
//! connection looping ReceiveQueueRecords (Limit ≤ 10) then AcknowledgeQueueRecords of what
//! it got, until every filled record is acknowledged or the duration ends.
//!
//! Throughput counts distinct records acknowledged; a record received again (a redelivery,
//! which a queue may do on rare occasions per API_ReceiveQueueRecords) is reported, not
//! counted twice.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Notify;

use crate::api::Capacity;
use crate::body::decoded_len;
use crate::error::{BenchError, Result};
use crate::fill::fill;
use crate::http::{Client, SignedBody};
use crate::procstat::Watch;
use crate::report::{latency_row, progress_line, thousands, Summary};
use crate::stats::{Meter, SharedHistogram};
use crate::{Ctx, QueueArgs};

/// Most receivers a run may start (each is a connection and a task).
pub const RECEIVERS_MAX: usize = 256;
/// ReceiveQueueRecords' Limit range (API_ReceiveQueueRecords).
const LIMIT_RANGE: std::ops::RangeInclusive<u32> = 1..=10;
/// ReceiveQueueRecords' WaitTimeSeconds range (API_ReceiveQueueRecords).
const WAIT_RANGE: std::ops::RangeInclusive<u32> = 1..=20;
/// QueueAttributes' VisibilityTimeoutSeconds range (API_QueueAttributes).
const VISIBILITY_RANGE: std::ops::RangeInclusive<u32> = 0..=43_200;
/// Pause after a failed request, so an error does not turn into a busy loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(5);
/// How long receivers may finish their requests in flight after the end, beyond one long poll.
const GRACE: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct ReceiveOut<'a> {
    #[serde(rename = "QueueRecords", borrow, default)]
    records: Vec<QueueRecordOut<'a>>,
}

#[derive(Deserialize)]
struct QueueRecordOut<'a> {
    #[serde(rename = "ReceiptHandle", borrow)]
    receipt_handle: Cow<'a, str>,
    #[serde(rename = "RecordId", borrow)]
    record_id: Cow<'a, str>,
    /// Base64 text; only its decoded length is used.
    #[serde(rename = "Data", borrow, with = "serde_bytes")]
    data: Cow<'a, [u8]>,
}

#[derive(Deserialize)]
struct AcknowledgeOut {
    #[serde(rename = "Failed", default)]
    failed: Vec<FailedEntry>,
}

#[derive(Deserialize)]
struct FailedEntry {
    #[serde(rename = "ReceiptHandle")]
    receipt_handle: String,
    #[serde(rename = "ErrorCode")]
    error_code: Option<String>,
}

/// What the receivers share.
struct Shared {
    /// ReceiveQueueRecords: records received (redeliveries included), call latency.
    receive: Meter,
    /// AcknowledgeQueueRecords: distinct records acknowledged, call latency, refused entries.
    acknowledge: Meter,
    /// One receive plus its acknowledge.
    cycle: SharedHistogram,
    /// Ids received so far, to tell redeliveries apart (bounded by the records filled).
    received: Mutex<HashSet<String>>,
    /// Ids acknowledged so far.
    acknowledged: Mutex<HashSet<String>>,
    redelivered: AtomicU64,
    empty_receives: AtomicU64,
    /// Distinct records to acknowledge before the run is complete.
    target: u64,
    stop: AtomicBool,
    drained: Notify,
}

impl Shared {
    fn new(target: u64) -> Self {
        Shared {
            receive: Meter::new(true),
            acknowledge: Meter::new(true),
            cycle: SharedHistogram::default(),
            received: Mutex::new(HashSet::new()),
            acknowledged: Mutex::new(HashSet::new()),
            redelivered: AtomicU64::new(0),
            empty_receives: AtomicU64::new(0),
            target,
            stop: AtomicBool::new(false),
            drained: Notify::new(),
        }
    }

    /// Counts the ids received; returns how many had been received before.
    fn note_received<'a>(&self, ids: impl Iterator<Item = &'a str>) -> u64 {
        let mut seen = self.received.lock().unwrap_or_else(|p| p.into_inner());
        let again = ids.filter(|id| !seen.insert((*id).to_owned())).count() as u64;
        self.redelivered.fetch_add(again, Ordering::Relaxed);
        again
    }

    /// Counts the ids acknowledged; returns how many were new and whether every filled
    /// record is now in (the caller wakes the run after counting its own figures).
    fn note_acknowledged<'a>(&self, ids: impl Iterator<Item = &'a str>) -> (u64, bool) {
        let mut done = self.acknowledged.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = ids.filter(|id| done.insert((*id).to_owned())).count() as u64;
        (fresh, done.len() as u64 >= self.target)
    }

    fn acknowledged_count(&self) -> u64 {
        self.acknowledged.lock().map(|s| s.len() as u64).unwrap_or(0)
    }
}

/// `{"QueueARN":…,"Entries":[{"ReceiptHandle":…},…]}`.
fn acknowledge_body<'a>(queue_arn: &str, handles: impl Iterator<Item = &'a str>) -> SignedBody {
    let entries: Vec<serde_json::Value> = handles.map(|h| json!({ "ReceiptHandle": h })).collect();
    SignedBody::new(None, Bytes::from(json!({ "QueueARN": queue_arn, "Entries": entries }).to_string()))
}

/// One receiver: receive, acknowledge, repeat until told to stop.
async fn receiver(mut client: Client, queue_arn: Arc<str>, receive_body: SignedBody, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let reply = match client.send("ReceiveQueueRecords", &receive_body).await {
            Ok(reply) => reply,
            Err(e) => {
                shared.receive.error(&e.kind());
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        };
        if let Some(error_type) = &reply.error_type {
            shared.receive.error(error_type);
            tokio::time::sleep(ERROR_BACKOFF).await;
            continue;
        }
        let received_at = Instant::now();
        let Ok(out) = serde_json::from_slice::<ReceiveOut>(&reply.body) else {
            shared.receive.error("BadResponse");
            tokio::time::sleep(ERROR_BACKOFF).await;
            continue;
        };
        let bytes: u64 = out.records.iter().map(|r| decoded_len(&r.data)).sum();
        shared.receive.ok(received_at - started, out.records.len() as u64, bytes, &[]);
        if out.records.is_empty() {
            shared.empty_receives.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        shared.note_received(out.records.iter().map(|r| &*r.record_id));

        let body = acknowledge_body(&queue_arn, out.records.iter().map(|r| &*r.receipt_handle));
        let reply = match client.send("AcknowledgeQueueRecords", &body).await {
            Ok(reply) if reply.error_type.is_none() => reply,
            Ok(reply) => {
                shared.acknowledge.error(reply.error_type.as_deref().unwrap_or("Unknown"));
                continue;
            }
            Err(e) => {
                shared.acknowledge.error(&e.kind());
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        };
        let finished = Instant::now();
        let Ok(acked) = serde_json::from_slice::<AcknowledgeOut>(&reply.body) else {
            shared.acknowledge.error("BadResponse");
            continue;
        };
        let refused: HashSet<&str> = acked.failed.iter().map(|f| f.receipt_handle.as_str()).collect();
        let mut codes: Vec<(String, u64)> = Vec::new();
        for failure in &acked.failed {
            let code = failure.error_code.clone().unwrap_or_else(|| "Unspecified".into());
            match codes.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => codes.push((code, 1)),
            }
        }
        let accepted = || out.records.iter().filter(|r| !refused.contains(&*r.receipt_handle));
        let (fresh, complete) = shared.note_acknowledged(accepted().map(|r| &*r.record_id));
        let fresh_bytes = if fresh == 0 { 0 } else { accepted().map(|r| decoded_len(&r.data)).sum() };
        shared.acknowledge.ok(finished - received_at, fresh, fresh_bytes, &codes);
        shared.cycle.record_all(&[finished - started]);
        if complete {
            shared.drained.notify_one();
        }
    }
}

fn check(args: &QueueArgs) -> Result<()> {
    if args.receivers == 0 || args.receivers > RECEIVERS_MAX {
        return Err(BenchError::Args(format!("--receivers must be 1..={RECEIVERS_MAX}")));
    }
    if !LIMIT_RANGE.contains(&args.limit) {
        return Err(BenchError::Args("--limit must be 1..=10 (ReceiveQueueRecords' Limit)".into()));
    }
    if !WAIT_RANGE.contains(&args.wait_secs) {
        return Err(BenchError::Args("--wait-secs must be 1..=20 (ReceiveQueueRecords' WaitTimeSeconds)".into()));
    }
    if !VISIBILITY_RANGE.contains(&args.visibility_secs) {
        return Err(BenchError::Args("--visibility-secs must be 0..=43200".into()));
    }
    args.fill.check()
}

/// Runs `queue`.
pub async fn run(ctx: &Ctx, args: &QueueArgs) -> Result<Summary> {
    check(args)?;
    let mut control = ctx.client();
    let name = ctx.stream_name("queue");
    let stream = crate::api::ensure_stream_with(&mut control, &name, Capacity::OnDemand, ctx.control_timeout()).await?;
    let Some(stream_arn) = stream.arn.clone() else {
        ctx.cleanup(&mut control, &stream, false).await;
        return Err(BenchError::BadResponse { operation: "DescribeStreamSummary", detail: "no StreamARN".into() });
    };
    let result = drive(ctx, args, &stream.name, &stream_arn, &mut control).await;
    ctx.cleanup(&mut control, &stream, false).await;
    let mut summary = result?;
    summary.shards = stream.open_shards;
    Ok(summary)
}

async fn drive(ctx: &Ctx, args: &QueueArgs, stream: &str, stream_arn: &str, control: &mut Client) -> Result<Summary> {
    let mut watch = ctx.common.pid.map(Watch::new);
    let filled = fill(ctx, stream, &args.fill, &mut watch).await?;
    let queue_name = format!("{stream}-q");
    let queue_arn: Arc<str> =
        crate::api::create_queue(control, stream_arn, &queue_name, Some(args.visibility_secs), ctx.control_timeout())
            .await?
            .into();
    ctx.say(&format!("queue {queue_name} ACTIVE; {} receivers", args.receivers));
    let result = receive_all(ctx, args, &queue_arn, filled.records, &mut watch).await;
    if !ctx.common.keep {
        let timeout = Duration::from_secs(60);
        let deleted = match crate::api::delete_queue(control, &queue_arn, timeout).await {
            Ok(()) => crate::api::wait_for_no_queues(control, stream, timeout).await,
            Err(e) => Err(e),
        };
        if let Err(e) = deleted {
            eprintln!("warning: could not delete queue {queue_arn}: {e}");
        }
    }
    let mut summary = result?;
    summary.stream = Some(stream.to_owned());
    summary.connects += filled.connects;
    summary.extra.insert("queue".into(), json!(queue_name));
    filled.report_into(&mut summary);
    Ok(summary)
}

async fn receive_all(
    ctx: &Ctx,
    args: &QueueArgs,
    queue_arn: &Arc<str>,
    filled: u64,
    watch: &mut Option<Watch>,
) -> Result<Summary> {
    let shared = Arc::new(Shared::new(filled));
    let receive_body = SignedBody::new(
        Some(0),
        Bytes::from(
            json!({ "QueueARN": &**queue_arn, "Limit": args.limit, "WaitTimeSeconds": args.wait_secs }).to_string(),
        ),
    );
    let clients = crate::put::connected_clients(ctx, args.receivers).await?;
    let connects = clients.len() as u64;
    let mut me = Watch::new(std::process::id());
    if let Some(w) = watch.as_mut() {
        w.start();
    }
    me.start();
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for client in clients {
        workers.spawn(receiver(client, queue_arn.clone(), receive_body.clone(), shared.clone()));
    }
    let end = start + Duration::from_secs_f64(args.duration.max(0.0));
    let mut second = 0u64;
    let mut next_tick = start + Duration::from_secs(1);
    let drained = loop {
        if shared.acknowledge.records() >= filled {
            break true;
        }
        let now = Instant::now();
        if now >= end {
            break false;
        }
        if now >= next_tick {
            second += 1;
            next_tick += Duration::from_secs(1);
            let errors =
                shared.receive.errors.load(Ordering::Relaxed) + shared.acknowledge.errors.load(Ordering::Relaxed);
            let server = watch.as_mut().and_then(|w| w.tick());
            ctx.progress(&progress_line("queue", second, &shared.acknowledge.take_interval(), errors, server));
        }
        tokio::select! {
            _ = shared.drained.notified() => {}
            _ = tokio::time::sleep_until(next_tick.min(end).into()) => {}
        }
    };
    let elapsed = start.elapsed();
    shared.receive.set_measuring(false);
    shared.acknowledge.set_measuring(false);
    shared.stop.store(true, Ordering::SeqCst);
    let server = watch.as_mut().and_then(|w| w.report());
    let client_cpu = me.report().map(|r| r.cpu_percent);
    let grace = GRACE + Duration::from_secs(u64::from(args.wait_secs));
    let _ = tokio::time::timeout(grace, async { while workers.join_next().await.is_some() {} }).await;
    workers.abort_all();

    let acknowledged = shared.acknowledge.records();
    let redelivered = shared.redelivered.load(Ordering::Relaxed);
    let receives = shared.receive.requests.load(Ordering::Relaxed);
    let empty = shared.empty_receives.load(Ordering::Relaxed);
    let receive_latency = shared.receive.latency();
    let acknowledge_latency = shared.acknowledge.latency();
    let mut summary = ctx.summary("queue");
    summary.params = args.fill.params();
    summary.params.extend(
        json!({
            "receivers": args.receivers, "limit": args.limit, "wait_secs": args.wait_secs,
            "visibility_secs": args.visibility_secs, "duration_s": args.duration,
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
    );
    summary.elapsed_s = elapsed.as_secs_f64();
    summary.records = acknowledged;
    summary.bytes = shared.acknowledge.bytes.load(Ordering::Relaxed);
    summary.requests = receives + shared.acknowledge.requests.load(Ordering::Relaxed);
    summary.latency = shared.cycle.summary();
    let mut errors = shared.receive.errors_by_type();
    for (kind, n) in shared.acknowledge.errors_by_type() {
        *errors.entry(kind).or_default() += n;
    }
    summary.errors = errors;
    summary.failed_records = shared.acknowledge.failed_by_code();
    summary.connects = connects;
    summary.server = server;
    summary.client_cpu_percent = client_cpu;
    summary.extra.insert("receivers".into(), json!(args.receivers));
    summary.extra.insert("drained".into(), json!(drained));
    summary.extra.insert("acknowledged".into(), json!(acknowledged));
    summary.extra.insert("remaining".into(), json!(filled.saturating_sub(shared.acknowledged_count())));
    summary.extra.insert("redelivered".into(), json!(redelivered));
    summary
        .extra
        .insert("receives".into(), json!({ "calls": receives, "empty": empty, "latency_ms": receive_latency }));
    summary.extra.insert("acknowledge_latency_ms".into(), json!(acknowledge_latency));
    summary.rows.push(("receive".into(), latency_row(&receive_latency)));
    summary.rows.push(("acknowledge".into(), latency_row(&acknowledge_latency)));
    summary.rows.push((
        "queue".into(),
        format!(
            "{} receivers; {} of {} acknowledged ({}); {} redelivered; {} receive calls, {} empty",
            args.receivers,
            thousands(shared.acknowledged_count()),
            thousands(filled),
            if drained { "drained" } else { "duration reached" },
            thousands(redelivered),
            thousands(receives),
            thousands(empty),
        ),
    ));
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_answer_parses_borrowing() {
        let body = br#"{"QueueRecords":[{"ReceiptHandle":"h1","RecordId":"r1","PartitionKey":"k",
            "Data":"aGVsbG8=","ApproximateArrivalTimestamp":1.7E9,"FirstReceiveTimestamp":1.7E9,"ReceiveCount":1}]}"#;
        let out: ReceiveOut = serde_json::from_slice(body).unwrap();
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.records[0].receipt_handle, "h1");
        assert_eq!(out.records[0].record_id, "r1");
        assert_eq!(decoded_len(&out.records[0].data), 5);
        let empty: ReceiveOut = serde_json::from_slice(br#"{"QueueRecords":[]}"#).unwrap();
        assert!(empty.records.is_empty());
    }

    #[test]
    fn acknowledge_body_lists_the_handles() {
        let body = acknowledge_body("arn:aws:kinesis:us-east-1:000000000000:queue/q", ["a", "b\"c"].into_iter());
        let value: serde_json::Value = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(
            value,
            json!({ "QueueARN": "arn:aws:kinesis:us-east-1:000000000000:queue/q",
                    "Entries": [{ "ReceiptHandle": "a" }, { "ReceiptHandle": "b\"c" }] })
        );
    }

    #[test]
    fn redeliveries_and_acknowledgements_count_distinct_ids() {
        let shared = Shared::new(3);
        assert_eq!(shared.note_received(["a", "b"].into_iter()), 0);
        assert_eq!(shared.note_received(["b", "c"].into_iter()), 1);
        assert_eq!(shared.redelivered.load(Ordering::Relaxed), 1);
        assert_eq!(shared.note_acknowledged(["a", "b"].into_iter()), (2, false));
        assert_eq!(shared.note_acknowledged(["b"].into_iter()), (0, false));
        assert_eq!(shared.acknowledged_count(), 2);
        assert_eq!(shared.note_acknowledged(["c"].into_iter()), (1, true));
        assert_eq!(shared.acknowledged_count(), 3);
    }

    #[test]
    fn arguments_out_of_range_are_refused() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            bench: crate::BenchArgs,
        }
        let parse = |extra: &[&str]| {
            let mut argv = vec!["rheo", "queue"];
            argv.extend_from_slice(extra);
            match Cli::try_parse_from(argv).unwrap().bench.mode {
                crate::Mode::Queue(q) => q,
                other => panic!("{other:?}"),
            }
        };
        let defaults = parse(&[]);
        assert!(check(&defaults).is_ok());
        assert_eq!((defaults.receivers, defaults.limit, defaults.wait_secs), (1, 10, 1));
        assert!(check(&parse(&["--receivers", "4", "-l", "10", "--wait-secs", "20"])).is_ok());
        for bad in [["--receivers", "0"], ["--limit", "11"], ["--wait-secs", "0"], ["--visibility-secs", "43201"]] {
            assert!(check(&parse(&bad)).is_err(), "{bad:?}");
        }
    }
}
