//! `e2e` and `subscribe`: an open-loop producer at a fixed rate whose records carry their
//! scheduled send time, and consumers (GetRecords pollers or SubscribeToShard subscribers)
//! that measure when each record becomes visible. Same process, monotonic clock; a late
//! producer counts against the latency (the stamp is the *scheduled* time).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use rand::{RngCore, SeedableRng};
use serde::Deserialize;
use serde_json::json;

use crate::body::{decoded_len, read_stamp, stamped_batch, Batch, STAMP_BYTES};
use crate::error::{BenchError, Result};
use crate::get::{iterator_with_retry, GetRecordsOut, RecordOut};
use crate::http::{Client, SignedBody};
use crate::procstat::Watch;
use crate::put::put_once;
use crate::report::{fmt_ms_opt, latency_row, per_s, thousands, Summary};
use crate::stats::{round1, Meter, SharedHistogram};
use crate::{Ctx, E2eArgs};
use rheo_aws::event_stream::Decoder;

/// How the records are consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Consumer {
    /// GetRecords pollers from LATEST.
    Poll,
    /// SubscribeToShard from LATEST.
    Subscribe,
}

/// How long subscribers may take to be established.
const SUBSCRIBE_READY: Duration = Duration::from_secs(15);

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Nanoseconds since the process's base instant.
fn stamp(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(base()).as_nanos()).unwrap_or(u64::MAX)
}

/// Put→visible latencies of a batch of records seen at `now`.
fn latencies<'a>(records: impl Iterator<Item = &'a RecordOut<'a>>, now: Instant) -> Vec<Duration> {
    let now = stamp(now);
    records.filter_map(|r| read_stamp(&r.data)).map(|s| Duration::from_nanos(now.saturating_sub(s))).collect()
}

struct Shared {
    /// Consumer side: records seen, calls, errors.
    seen: Meter,
    /// Put→visible.
    e2e: SharedHistogram,
    stop: AtomicBool,
}

async fn poller(
    mut client: Client,
    stream: String,
    shard: String,
    mut iterator: String,
    args: E2eArgs,
    shared: Arc<Shared>,
) {
    let poll = Duration::from_millis(args.poll_ms);
    let mut last_sequence: Option<String> = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let body =
            SignedBody::new(None, Bytes::from(json!({ "ShardIterator": iterator, "Limit": args.limit }).to_string()));
        let started = Instant::now();
        let reply = match client.send("GetRecords", &body).await {
            Ok(reply) => reply,
            Err(e) => {
                shared.seen.error(&e.kind());
                tokio::time::sleep(poll).await;
                continue;
            }
        };
        let now = Instant::now();
        if let Some(error_type) = reply.error_type {
            shared.seen.error(&error_type);
            if error_type == "ExpiredIteratorException" {
                let deadline = Instant::now() + Duration::from_secs(10);
                let after = last_sequence.as_deref();
                match iterator_with_retry(&mut client, &stream, &shard, "LATEST", after, &shared.seen, deadline).await {
                    Some(fresh) => iterator = fresh,
                    None => return,
                }
            } else {
                tokio::time::sleep(poll).await;
            }
            continue;
        }
        let out: GetRecordsOut = match serde_json::from_slice(&reply.body) {
            Ok(out) => out,
            Err(_) => {
                shared.seen.error("BadResponse");
                tokio::time::sleep(poll).await;
                continue;
            }
        };
        let values = latencies(out.records.iter(), now);
        shared.e2e.record_all(&values);
        let bytes = out.records.iter().map(|r| decoded_len(&r.data)).sum();
        shared.seen.ok(now - started, out.records.len() as u64, bytes, &[]);
        if let Some(last) = out.records.last().and_then(|r| r.sequence_number.as_deref()) {
            last_sequence = Some(last.to_owned());
        }
        let empty = out.records.is_empty();
        match out.next {
            Some(next) => iterator = next,
            None => return,
        }
        if empty {
            tokio::time::sleep(poll).await;
        }
    }
}

#[derive(Deserialize)]
struct SubscribeEvent<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Vec<RecordOut<'a>>,
    #[serde(rename = "ContinuationSequenceNumber")]
    continuation: Option<String>,
}

/// Subscribes to one shard and re-subscribes (after the continuation sequence number) when
/// the service ends the subscription. Reports on `ready` once, after the first answer.
async fn subscriber(
    mut client: Client,
    consumer_arn: String,
    shard: String,
    ready: flume::Sender<std::result::Result<(), String>>,
    shared: Arc<Shared>,
) {
    let mut position = json!({ "Type": "LATEST" });
    let mut first = true;
    let fail = |first: &mut bool, error: String, shared: &Shared| {
        if *first {
            let _ = ready.send(Err(error));
            *first = false;
            true
        } else {
            shared.seen.error(error.split(':').next().unwrap_or("Error"));
            false
        }
    };
    while !shared.stop.load(Ordering::Relaxed) {
        let input = json!({ "ConsumerARN": consumer_arn, "ShardId": shard, "StartingPosition": position });
        let body = SignedBody::new(None, Bytes::from(input.to_string()));
        let response = match client.send_streaming("SubscribeToShard", &body).await {
            Ok(response) => response,
            Err(e) => {
                if fail(&mut first, format!("{}: {e}", e.kind()), &shared) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            let header_type = response
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(crate::http::normalize_error_type);
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let reply = crate::http::Reply {
                status,
                error_type: Some(header_type.unwrap_or_else(|| format!("HTTP_{status}"))),
                body,
            };
            let error = match reply.into_result("SubscribeToShard") {
                Err(BenchError::Api { error_type, message, .. }) => format!("{error_type}: {message}"),
                _ => format!("HTTP_{status}"),
            };
            if fail(&mut first, error, &shared) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if first {
            let _ = ready.send(Ok(()));
            first = false;
        }
        let mut body = response.into_body();
        let mut decoder = Decoder::new();
        'stream: while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                shared.seen.error("HttpError");
                break;
            };
            let Ok(data) = frame.into_data() else { continue };
            decoder.push(&data);
            loop {
                let message = match decoder.next_message() {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(_) => {
                        shared.seen.error("BadEventStream");
                        break 'stream;
                    }
                };
                let now = Instant::now();
                match message.header(":message-type") {
                    Some("event") if message.header(":event-type") == Some("SubscribeToShardEvent") => {
                        let Ok(event) = serde_json::from_slice::<SubscribeEvent>(message.payload()) else {
                            shared.seen.error("BadResponse");
                            continue;
                        };
                        shared.e2e.record_all(&latencies(event.records.iter(), now));
                        let bytes = event.records.iter().map(|r| decoded_len(&r.data)).sum();
                        shared.seen.ok(Duration::from_micros(1), event.records.len() as u64, bytes, &[]);
                        if let Some(continuation) = event.continuation {
                            position = json!({ "Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation });
                        }
                    }
                    Some("exception") => {
                        shared.seen.error(message.header(":exception-type").unwrap_or("Exception"));
                        break 'stream;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Runs `e2e` or `subscribe`.
pub(crate) async fn run(ctx: &Ctx, args: &E2eArgs, consumer: Consumer) -> Result<Summary> {
    // Fix the stamp origin before any send time is taken: an instant earlier than the
    // origin would stamp as 0 and inflate its latency.
    base();
    if args.record_bytes < 2 * STAMP_BYTES {
        return Err(BenchError::Args(format!("--record-bytes must be at least {}", 2 * STAMP_BYTES)));
    }
    if args.batch == 0 || args.batch > 500 || args.rate == 0 || args.connections == 0 || args.queue == 0 {
        return Err(BenchError::Args("--batch 1..=500, and --rate, --connections, --queue at least 1".into()));
    }
    base();
    let mode = match consumer {
        Consumer::Poll => "e2e",
        Consumer::Subscribe => "subscribe",
    };
    let mut control = ctx.client();
    let name = ctx.stream_name(mode);
    let stream = crate::api::ensure_stream(&mut control, &name, args.shards, ctx.control_timeout()).await?;
    let result = drive(ctx, args, consumer, mode, &stream, &mut control).await;
    ctx.cleanup(&mut control, &stream, consumer == Consumer::Subscribe).await;
    let mut summary = result?;
    summary.shards = stream.open_shards.or(Some(u64::from(args.shards)));
    Ok(summary)
}

async fn drive(
    ctx: &Ctx,
    args: &E2eArgs,
    consumer: Consumer,
    mode: &'static str,
    stream: &crate::api::StreamHandle,
    control: &mut Client,
) -> Result<Summary> {
    let shards = crate::api::list_shards(control, &stream.name, true).await?;
    let shared =
        Arc::new(Shared { seen: Meter::new(true), e2e: SharedHistogram::default(), stop: AtomicBool::new(false) });
    let mut consumers = tokio::task::JoinSet::new();
    let mut consumer_arn = None;
    let mut summary = ctx.summary(mode);
    summary.stream = Some(stream.name.clone());
    summary.params = json!({
        "shards": args.shards, "connections": args.connections, "rate": args.rate, "batch": args.batch,
        "record_bytes": args.record_bytes, "duration_s": args.duration, "poll_ms": args.poll_ms, "limit": args.limit,
        "queue": args.queue, "drain_s": args.drain,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();

    match consumer {
        Consumer::Poll => {
            let deadline = Instant::now() + Duration::from_secs(30);
            for shard in &shards {
                let mut client = ctx.client();
                let iterator =
                    iterator_with_retry(&mut client, &stream.name, shard, "LATEST", None, &shared.seen, deadline)
                        .await
                        .ok_or_else(|| BenchError::Timeout(format!("no LATEST iterator for {shard}")))?;
                consumers.spawn(poller(
                    client,
                    stream.name.clone(),
                    shard.clone(),
                    iterator,
                    args.clone(),
                    shared.clone(),
                ));
            }
        }
        Consumer::Subscribe => {
            let unsupported = |reason: String, mut summary: Summary| {
                summary.extra.insert("supported".into(), json!(false));
                summary.extra.insert("unsupported_reason".into(), json!(reason));
                summary.rows.push(("SubscribeToShard".into(), format!("not supported: {reason}")));
                Ok(summary)
            };
            let Some(arn) = stream.arn.clone() else {
                return unsupported("the service reports no StreamARN".into(), summary);
            };
            let consumer_name = format!("rheo-bench-{:08x}", rand::random::<u32>());
            let arn = match crate::api::register_consumer(control, &arn, &consumer_name, Duration::from_secs(60)).await
            {
                Ok(arn) => arn,
                Err(e) => return unsupported(format!("RegisterStreamConsumer: {e}"), summary),
            };
            consumer_arn = Some(arn.clone());
            let (ready_tx, ready_rx) = flume::unbounded();
            for shard in &shards {
                let client = ctx.client();
                consumers.spawn(subscriber(client, arn.clone(), shard.clone(), ready_tx.clone(), shared.clone()));
            }
            drop(ready_tx);
            let deadline = Instant::now() + SUBSCRIBE_READY;
            let mut failure = None;
            for _ in 0..shards.len() {
                match tokio::time::timeout_at(deadline.into(), ready_rx.recv_async()).await {
                    Ok(Ok(Ok(()))) => {}
                    Ok(Ok(Err(error))) => {
                        failure = Some(error);
                        break;
                    }
                    Ok(Err(_)) => break,
                    Err(_) => {
                        failure = Some(format!("no answer to SubscribeToShard within {SUBSCRIBE_READY:?}"));
                        break;
                    }
                }
            }
            if let Some(reason) = failure {
                consumers.abort_all();
                let _ = crate::api::deregister_consumer(control, &arn).await;
                return unsupported(format!("SubscribeToShard: {reason}"), summary);
            }
        }
    }

    // Producer: a scheduler puts stamped batches on a bounded queue; C connections send them.
    let put = Arc::new(Meter::new(true));
    let (tx, rx) = flume::bounded::<Batch>(args.queue);
    let mut senders = tokio::task::JoinSet::new();
    let mut connects = 0u64;
    for _ in 0..args.connections {
        let mut client = ctx.client();
        client.connect().await?;
        connects += 1;
        let (rx, put) = (rx.clone(), put.clone());
        senders.spawn(async move {
            while let Ok(batch) = rx.recv_async().await {
                put_once(&mut client, &batch, &put).await;
            }
            client.connects
        });
    }
    drop(rx);
    let interval = Duration::from_secs_f64(args.batch as f64 / args.rate as f64);
    let batches = ((args.duration * args.rate as f64) / args.batch as f64).ceil().max(0.0) as u64;
    let skipped = Arc::new(AtomicU64::new(0));
    let syncs_before = crate::server_syncs::scrape(control).await;
    let mut watch = ctx.common.pid.map(Watch::new);
    let mut me = Watch::new(std::process::id());
    if let Some(w) = watch.as_mut() {
        w.start();
    }
    me.start();
    let start = Instant::now();
    let scheduler = {
        let (skipped, stream, batch, record_bytes) =
            (skipped.clone(), stream.name.clone(), args.batch, args.record_bytes);
        tokio::spawn(async move {
            let mut filler = vec![0u8; record_bytes - STAMP_BYTES];
            rand::thread_rng().fill_bytes(&mut filler);
            let mut rng = rand::rngs::StdRng::from_entropy();
            for i in 0..batches {
                let scheduled = start + interval.mul_f64(i as f64);
                tokio::time::sleep_until(scheduled.into()).await;
                let batch = stamped_batch(&stream, batch, stamp(scheduled), &filler, &mut rng);
                match tx.try_send(batch) {
                    Ok(()) => {}
                    Err(flume::TrySendError::Full(_)) => {
                        skipped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(flume::TrySendError::Disconnected(_)) => break,
                }
            }
        })
    };
    let produce_for = interval.mul_f64(batches as f64);
    let drain_until = start + produce_for + Duration::from_secs_f64(args.drain.max(0.0));
    let mut second = 0u64;
    let mut next_tick = start + Duration::from_secs(1);
    let mut scheduler = Some(scheduler);
    loop {
        if let Some(handle) = scheduler.as_mut() {
            if handle.is_finished() {
                scheduler = None;
            }
        }
        let producing = scheduler.is_some() || !senders.is_empty();
        if !producing {
            let acked = put.records();
            if shared.seen.records() >= acked || Instant::now() >= drain_until {
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next_tick.into()) => {
                second += 1;
                next_tick += Duration::from_secs(1);
                let p = put.take_interval();
                let s = shared.seen.take_interval();
                let e = shared.e2e.take_interval();
                let server = watch.as_mut().and_then(|w| w.tick());
                let mut line = format!(
                    "[{mode:>7} {second:>3}s] put {:>7} rec/s (p99 {} ms)  seen {:>7} rec/s  put→{} p50 {} p99 {} ms  errors {}",
                    thousands(p.records),
                    fmt_ms_opt(&p.latency, |l| l.p99),
                    thousands(s.records),
                    if consumer == Consumer::Poll { "get" } else { "push" },
                    fmt_ms_opt(&e, |l| l.p50),
                    fmt_ms_opt(&e, |l| l.p99),
                    put.errors.load(Ordering::Relaxed) + shared.seen.errors.load(Ordering::Relaxed),
                );
                if let Some((cpu, rss)) = server {
                    line.push_str(&format!("  | server {cpu:>4.0}% cpu {rss:>7.1} MiB"));
                }
                ctx.progress(&line);
            }
            joined = senders.join_next(), if scheduler.is_none() && !senders.is_empty() => {
                if let Some(Ok(opened)) = joined {
                    connects += opened.saturating_sub(1);
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(5)), if scheduler.is_some() || senders.is_empty() => {}
        }
    }
    shared.stop.store(true, Ordering::SeqCst);
    consumers.abort_all();
    senders.abort_all();
    let server = watch.as_mut().and_then(|w| w.report());
    let client_cpu = me.report().map(|r| r.cpu_percent);
    let server_syncs = match &syncs_before {
        Some(before) => crate::server_syncs::scrape(control).await.map(|after| after.since(before)),
        None => None,
    };
    if let Some(arn) = consumer_arn {
        let _ = crate::api::deregister_consumer(control, &arn).await;
    }

    let acked = put.records();
    let seen = shared.seen.records();
    let e2e = shared.e2e.summary();
    let seconds = produce_for.as_secs_f64();
    let skipped = skipped.load(Ordering::Relaxed);
    summary.elapsed_s = seconds;
    summary.records = acked;
    summary.bytes = put.bytes.load(Ordering::Relaxed);
    summary.requests = put.requests.load(Ordering::Relaxed);
    summary.latency = put.latency();
    summary.errors = put.errors_by_type();
    summary.failed_records = put.failed_by_code();
    summary.connects = connects + shards.len() as u64;
    summary.server = server;
    summary.client_cpu_percent = client_cpu;
    let offered = args.rate as f64;
    let achieved = round1(per_s(acked as f64, seconds));
    let consumer_errors = shared.seen.errors_by_type();
    let x = &mut summary.extra;
    x.insert("supported".into(), json!(true));
    x.insert("offered_rate".into(), json!(offered));
    x.insert("achieved_rate".into(), json!(achieved));
    x.insert("offered_batches".into(), json!(batches));
    x.insert("skipped_batches".into(), json!(skipped));
    x.insert("seen".into(), json!(seen));
    x.insert("missing".into(), json!(acked.saturating_sub(seen)));
    x.insert("e2e_latency_ms".into(), json!(e2e));
    x.insert(
        "consumer_errors".into(),
        json!({ "total": consumer_errors.values().sum::<u64>(), "by_type": consumer_errors }),
    );
    if consumer == Consumer::Poll {
        x.insert("get_calls".into(), json!(shared.seen.requests.load(Ordering::Relaxed)));
        x.insert("get_latency_ms".into(), json!(shared.seen.latency()));
    }
    let what = if consumer == Consumer::Poll { "put→get" } else { "put→push" };
    summary.rows.push((
        "offered / achieved".into(),
        format!("{} / {achieved} rec/s, {skipped} of {batches} batches skipped", offered),
    ));
    summary.rows.push((what.into(), latency_row(&e2e)));
    summary.rows.push(("seen".into(), format!("{} of {} acknowledged", thousands(seen), thousands(acked))));
    if !consumer_errors.is_empty() {
        let list: Vec<String> = consumer_errors.iter().map(|(k, v)| format!("{k} × {v}")).collect();
        summary.rows.push(("consumer errors".into(), list.join(", ")));
    }
    if let Some(syncs) = server_syncs {
        summary.extra.insert("server_syncs".into(), syncs.to_json());
        summary.rows.push(("server disk".into(), syncs.row()));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn latency_from_stamps() {
        base();
        let sent = Instant::now();
        let mut record = stamp(sent).to_le_bytes().to_vec();
        record.extend_from_slice(&[0u8; 92]);
        let data = base64::engine::general_purpose::STANDARD.encode(&record);
        let records = [RecordOut { data: data.into_bytes().into(), sequence_number: None }];
        let values = latencies(records.iter(), sent + Duration::from_millis(7));
        assert_eq!(values.len(), 1);
        let ms = values[0].as_secs_f64() * 1000.0;
        assert!((ms - 7.0).abs() < 0.01, "{ms}");
    }
}
