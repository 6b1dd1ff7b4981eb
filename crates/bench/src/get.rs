//! `get`: fill a fresh stream (or, with --no-fill, take an existing one as it is), then read it
//! all back, one reader per shard.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::body::decoded_len;
use crate::error::{BenchError, Result};
use crate::fill::fill;
use crate::http::Client;
use crate::procstat::Watch;
use crate::report::{progress_line, thousands, Summary};
use crate::stats::Meter;
use crate::{Ctx, GetArgs};

/// Pause after a failed read.
const READ_BACKOFF: Duration = Duration::from_millis(50);

/// A GetRecords answer, borrowing from the body.
#[derive(Deserialize)]
pub(crate) struct GetRecordsOut<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub(crate) records: Vec<RecordOut<'a>>,
    #[serde(rename = "NextShardIterator")]
    pub(crate) next: Option<String>,
    #[serde(rename = "MillisBehindLatest")]
    pub(crate) behind_ms: Option<u64>,
}

/// One record of a GetRecords answer (or of a SubscribeToShard event).
#[derive(Deserialize)]
pub(crate) struct RecordOut<'a> {
    /// The base64 text, as bytes: deserializing it as bytes skips a UTF-8 check of every
    /// megabyte the reader parses (base64 is ASCII; anything else fails the stamp check).
    #[serde(rename = "Data", borrow, with = "serde_bytes")]
    pub(crate) data: Cow<'a, [u8]>,
    #[serde(rename = "SequenceNumber", borrow, default)]
    pub(crate) sequence_number: Option<Cow<'a, str>>,
}

/// Gets an iterator, retrying until `deadline`: after `after` if known, else of `kind`.
pub(crate) async fn iterator_with_retry(
    client: &mut Client,
    stream: &str,
    shard: &str,
    kind: &str,
    after: Option<&str>,
    meter: &Meter,
    deadline: Instant,
) -> Option<String> {
    loop {
        let result = match after {
            Some(sequence) => {
                #[derive(Deserialize)]
                struct Out {
                    #[serde(rename = "ShardIterator")]
                    shard_iterator: Option<String>,
                }
                client
                    .call::<Out>(
                        "GetShardIterator",
                        &json!({ "StreamName": stream, "ShardId": shard,
                                 "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": sequence }),
                    )
                    .await
                    .and_then(|o| {
                        o.shard_iterator.ok_or(BenchError::BadResponse {
                            operation: "GetShardIterator",
                            detail: "no ShardIterator".into(),
                        })
                    })
            }
            None => crate::api::shard_iterator(client, stream, shard, kind).await,
        };
        match result {
            Ok(iterator) => return Some(iterator),
            Err(e) => meter.error(&e.kind()),
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(READ_BACKOFF).await;
    }
}

/// Reads one shard from TRIM_HORIZON until caught up; returns whether it finished.
async fn reader(
    mut client: Client,
    stream: String,
    shard: String,
    limit: u32,
    meter: Arc<Meter>,
    deadline: Instant,
) -> bool {
    let Some(mut iterator) =
        iterator_with_retry(&mut client, &stream, &shard, "TRIM_HORIZON", None, &meter, deadline).await
    else {
        return false;
    };
    let mut last_sequence: Option<String> = None;
    loop {
        if Instant::now() > deadline {
            return false;
        }
        let body = crate::http::SignedBody::new(
            None,
            bytes::Bytes::from(json!({ "ShardIterator": iterator, "Limit": limit }).to_string()),
        );
        let started = Instant::now();
        let reply = match client.send("GetRecords", &body).await {
            Ok(reply) => reply,
            Err(e) => {
                meter.error(&e.kind());
                tokio::time::sleep(READ_BACKOFF).await;
                continue;
            }
        };
        if let Some(error_type) = &reply.error_type {
            meter.error(error_type);
            if error_type == "ExpiredIteratorException" {
                let kind = "TRIM_HORIZON";
                match iterator_with_retry(
                    &mut client,
                    &stream,
                    &shard,
                    kind,
                    last_sequence.as_deref(),
                    &meter,
                    deadline,
                )
                .await
                {
                    Some(fresh) => iterator = fresh,
                    None => return false,
                }
            } else {
                tokio::time::sleep(READ_BACKOFF).await;
            }
            continue;
        }
        let latency = started.elapsed();
        let out: GetRecordsOut = match serde_json::from_slice(&reply.body) {
            Ok(out) => out,
            Err(_) => {
                meter.error("BadResponse");
                tokio::time::sleep(READ_BACKOFF).await;
                continue;
            }
        };
        let n = out.records.len() as u64;
        let bytes: u64 = out.records.iter().map(|r| decoded_len(&r.data)).sum();
        meter.ok(latency, n, bytes, &[]);
        if let Some(last) = out.records.last().and_then(|r| r.sequence_number.as_deref()) {
            last_sequence = Some(last.to_owned());
        }
        if n == 0 && out.behind_ms.unwrap_or(0) == 0 {
            return true;
        }
        match out.next {
            Some(next) => iterator = next,
            None => return true,
        }
    }
}

/// Runs `get`.
pub async fn run(ctx: &Ctx, args: &GetArgs) -> Result<Summary> {
    args.fill.check()?;
    if args.readers == 0 {
        return Err(BenchError::Args("--readers must be at least 1".into()));
    }
    let mut control = ctx.client();
    let name = ctx.stream_name("get");
    let stream = crate::api::ensure_stream(&mut control, &name, args.shards, ctx.control_timeout()).await?;
    if args.no_fill && stream.created {
        ctx.cleanup(&mut control, &stream, false).await;
        return Err(BenchError::Args(format!("--no-fill: there is no stream {name} to read")));
    }
    let result = drive(ctx, args, &stream.name, &mut control).await;
    ctx.cleanup(&mut control, &stream, false).await;
    let mut summary = result?;
    summary.shards = stream.open_shards.or(Some(u64::from(args.shards)));
    Ok(summary)
}

async fn drive(ctx: &Ctx, args: &GetArgs, stream: &str, control: &mut Client) -> Result<Summary> {
    // Fill, unless the stream is read as it is.
    let mut watch = ctx.common.pid.map(Watch::new);
    let filled_run = if args.no_fill { None } else { Some(fill(ctx, stream, &args.fill, &mut watch).await?) };
    ctx.say("reading back");

    // Read.
    let shards = crate::api::list_shards(control, stream, false).await?;
    let read = Arc::new(Meter::new(true));
    let semaphore = Arc::new(Semaphore::new(args.readers));
    let mut me = Watch::new(std::process::id());
    if let Some(w) = watch.as_mut() {
        w.start();
    }
    me.start();
    let read_start = Instant::now();
    let deadline = read_start + Duration::from_secs_f64(args.read_timeout.max(0.0));
    let mut readers = tokio::task::JoinSet::new();
    for shard in &shards {
        let (semaphore, meter, stream, shard) = (semaphore.clone(), read.clone(), stream.to_owned(), shard.clone());
        let client = ctx.client();
        let limit = args.limit;
        readers.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            reader(client, stream, shard, limit, meter, deadline).await
        });
    }
    let mut complete = 0usize;
    let mut second = 0;
    let mut next_tick = read_start + Duration::from_secs(1);
    loop {
        tokio::select! {
            joined = readers.join_next() => match joined {
                None => break,
                Some(Ok(true)) => complete += 1,
                Some(_) => {}
            },
            _ = tokio::time::sleep_until(next_tick.into()) => {
                second += 1;
                next_tick += Duration::from_secs(1);
                let server = watch.as_mut().and_then(|w| w.tick());
                let line = progress_line("read", second, &read.take_interval(), read.errors.load(Ordering::Relaxed), server);
                ctx.progress(&line);
            }
        }
    }
    let read_elapsed = read_start.elapsed().as_secs_f64();
    let server = watch.as_mut().and_then(|w| w.report());
    let client_cpu = me.report().map(|r| r.cpu_percent);
    let read_records = read.records();
    // Without a fill (and no --expect) every record read is expected.
    let filled = filled_run.as_ref().map(|f| f.records).or(args.expect).unwrap_or(read_records);
    let missing = filled.saturating_sub(read_records);

    let mut summary = ctx.summary("get");
    summary.params = args.fill.params();
    summary.params.extend(
        json!({ "shards": args.shards, "limit": args.limit, "readers": args.readers, "no_fill": args.no_fill })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    summary.stream = Some(stream.to_owned());
    summary.elapsed_s = read_elapsed;
    summary.records = read_records;
    summary.bytes = read.bytes.load(Ordering::Relaxed);
    summary.requests = read.requests.load(Ordering::Relaxed);
    summary.latency = read.latency();
    summary.errors = read.errors_by_type();
    summary.connects = filled_run.as_ref().map_or(0, |f| f.connects) + shards.len() as u64;
    summary.server = server;
    summary.client_cpu_percent = client_cpu;
    match &filled_run {
        Some(filled_run) => filled_run.report_into(&mut summary),
        None => summary.rows.push(("fill".into(), "none (--no-fill: the existing stream as it is)".into())),
    }
    summary.extra.insert("read_records".into(), json!(read_records));
    summary.extra.insert("missing".into(), json!(missing));
    summary.extra.insert("unexpected".into(), json!(read_records.saturating_sub(filled)));
    summary.extra.insert("shards_read".into(), json!(shards.len()));
    summary.extra.insert("shards_incomplete".into(), json!(shards.len() - complete));
    summary.rows.push((
        "read back".into(),
        format!(
            "{} of {} (missing {}, unexpected {}), {} GetRecords calls, {} of {} shards complete",
            thousands(read_records),
            thousands(filled),
            thousands(missing),
            read_records.saturating_sub(filled),
            thousands(summary.requests),
            complete,
            shards.len()
        ),
    ));
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_records_parse_borrows() {
        let body = br#"{"Records":[{"Data":"aGVsbG8=","PartitionKey":"k","SequenceNumber":"49590","ApproximateArrivalTimestamp":1.7E9}],
                        "NextShardIterator":"AAA","MillisBehindLatest":0}"#;
        let out: GetRecordsOut = serde_json::from_slice(body).unwrap();
        assert_eq!(out.records.len(), 1);
        assert!(matches!(out.records[0].data, Cow::Borrowed(b"aGVsbG8=")));
        assert_eq!(out.records[0].sequence_number.as_deref(), Some("49590"));
        assert_eq!(out.next.as_deref(), Some("AAA"));
        assert_eq!(out.behind_ms, Some(0));
        // Escaped slashes still parse (owned).
        let out: GetRecordsOut = serde_json::from_slice(br#"{"Records":[{"Data":"a\/b="}]}"#).unwrap();
        assert_eq!(&*out.records[0].data, b"a/b=");
        assert!(out.next.is_none());
    }
}
