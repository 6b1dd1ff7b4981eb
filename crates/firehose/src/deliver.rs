//! The delivery task of one delivery stream.
//!
//! It reads accepted records back from the stream's log, buffers them until the size
//! or the interval hint is reached (counting from the oldest buffered record's
//! arrival), processes, compresses and writes them to the destination, and only then
//! moves the durable checkpoint past them. A crash or restart therefore re-delivers at
//! most the buffer in flight (at-least-once, as AWS), and never loses or reorders it.
//! A failing destination stalls only its own task; the log keeps accepting records
//! (bounded by the 24-hour retention), and memory holds at most one buffer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rheo_storage::StoredRecord;

use crate::config::Destination;
use crate::dest::backup::{write_failures, write_source_backup};
use crate::dest::http::HttpEndpointSink;
use crate::dest::redshift::CopySink;
use crate::dest::retry::{unless_stopped, RetryPolicy, StopSignal};
use crate::dest::s3::ObjectSink;
use crate::dest::{
    on_blocking_pool, DeliveryContext, FailedRecord, Layout, Outcome, ProcessedGroup, ProcessedRecord, S3Sink, Sink,
};
use crate::jq::client::Extracted;
use crate::jq::JqClient;
use crate::limits::*;
use crate::metrics::StreamStats;
use crate::prefix::{self, KeyContext};
use crate::process::{Pipeline, ProcessResult};
use crate::state;
use crate::stream::{Active, Entry, Shared};

/// Runs until the stream is deleted or the server stops.
pub(crate) async fn run(shared: Arc<Shared>, entry: Arc<Entry>, delivered_lsn: u64) {
    let mut stop = entry.stop.subscribe();
    let Ok(mut appended) = shared.log.watch(entry.shard_uid) else {
        tracing::error!(message = "Delivery stream shard missing; not delivering.", stream = %entry.name);
        return;
    };
    // One receiver for the task's life: reading the configuration through it marks that
    // version seen, so an update landing at any later moment wakes the wait below.
    let mut config = entry.active.subscribe();
    // The stream's jq worker, started on first use; dropped (killed) with this task when
    // the stream is deleted or the server stops.
    let mut jq = JqClient::new(Arc::new(shared.config.jq_worker.clone()), &entry.name);
    let mut next_lsn = delivered_lsn;
    let mut buffer: Vec<StoredRecord> = Vec::new();
    let mut buffered_bytes: u64 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let active = config.borrow_and_update().clone();
        let hint = active.runtime.buffering;
        // Fill the buffer up to its size hint.
        while buffered_bytes < hint.bytes {
            let batch = match shared.log.read(entry.shard_uid, next_lsn, READ_BATCH_RECORDS, READ_BATCH_BYTES) {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(message = "Reading the delivery log failed.", stream = %entry.name, %error);
                    break;
                }
            };
            next_lsn = batch.next_lsn;
            if batch.records.is_empty() {
                break;
            }
            if buffer.is_empty() {
                if let Some(first) = batch.records.first() {
                    entry.stats.oldest_undelivered_ms.store(first.arrival_ms, std::sync::atomic::Ordering::Relaxed);
                }
            }
            for record in batch.records {
                buffered_bytes += record.data.len() as u64;
                buffer.push(record);
            }
        }
        let due_ms = buffer.first().map(|r| r.arrival_ms + hint.interval.as_millis() as u64);
        let now = shared.now_ms();
        if buffered_bytes >= hint.bytes || due_ms.is_some_and(|due| due <= now) {
            let Some(last_lsn) = buffer.last().map(|r| r.lsn) else { continue };
            if !flush(&shared, &entry, &active, &buffer, &mut jq, &mut stop).await {
                return; // stopped: the records stay in the log for the next start
            }
            let checkpoint = last_lsn + 1;
            let result = shared
                .log
                .update_stream(entry.stream_id, move |txn| {
                    state::edit(txn, |s| s.delivered_lsn = s.delivered_lsn.max(checkpoint))
                })
                .await;
            if let Err(error) = result {
                // The data is delivered; without the checkpoint it is delivered again
                // after a restart, which at-least-once allows.
                tracing::warn!(message = "Delivery checkpoint not saved.", stream = %entry.name, %error);
            }
            buffer.clear();
            buffered_bytes = 0;
            entry.stats.oldest_undelivered_ms.store(0, std::sync::atomic::Ordering::Relaxed);
            continue;
        }
        let wait = due_ms.map_or(Duration::from_secs(3600), |due| Duration::from_millis(due.saturating_sub(now)));
        tokio::select! {
            _ = appended.changed() => {}
            _ = stop.changed() => {}
            _ = config.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// A buffer after processing: groups for the destination, and the records that failed.
struct Processed {
    groups: Vec<ProcessedGroup>,
    failures: Vec<FailedRecord>,
}

/// Records split by the first processors (de-aggregation), and their partition keys.
struct Split {
    records: Vec<Result<Vec<Vec<u8>>, ProcessResult>>,
    keys: Option<Vec<Extracted>>,
}

impl Split {
    /// The processors' last step for every source record.
    fn finish(self, pipeline: &Pipeline) -> Vec<ProcessResult> {
        let mut keys = self.keys.map(Vec::into_iter);
        self.records
            .into_iter()
            .map(|split| match split {
                Ok(parts) => {
                    let taken = keys.as_mut().map(|keys| keys.by_ref().take(parts.len()).collect());
                    pipeline.finish(parts, taken)
                }
                Err(failed) => failed,
            })
            .collect()
    }
}

/// Runs the processors: de-aggregation on the blocking pool (CPU work), jq in the stream's
/// worker process, which bounds every record in time and memory (see [`crate::jq`]).
/// `None` when the stream stopped first (the worker is then killed), or if the splitting
/// task died (a bug; see [`on_blocking_pool`]). A worker that cannot be started is not any
/// record's fault: processing is retried, with back-off, until it can or the stream stops.
async fn split_and_extract(
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    jq: &mut JqClient,
    stop: &mut StopSignal,
) -> Option<Split> {
    let owner = active.clone();
    let data: Vec<Bytes> = records.iter().map(|r| r.data.clone()).collect();
    let split = on_blocking_pool("Processing", move || {
        data.iter().map(|d| owner.runtime.pipeline.split(d)).collect::<Vec<_>>()
    })
    .await?;
    let Some(query) = active.runtime.pipeline.extraction_query() else {
        return Some(Split { records: split, keys: None });
    };
    let parts: Vec<&[u8]> = split.iter().filter_map(|s| s.as_ref().ok()).flatten().map(Vec::as_slice).collect();
    let policy = RetryPolicy::delivery();
    let mut retries = 0;
    let keys = loop {
        match unless_stopped(stop, jq.extract(query, &parts)).await {
            None => return None,
            Some(Ok(keys)) => break keys,
            Some(Err(error)) => {
                StreamStats::add(&entry.stats.delivery_failures, 1);
                tracing::error!(message = "The jq worker failed; processing is retried.", stream = %entry.name, %error, attempt = retries);
                retries += 1;
                if !policy.wait(retries, stop).await {
                    return None;
                }
            }
        }
    };
    drop(parts);
    Some(Split { records: split, keys: Some(keys) })
}

/// Runs the processors and groups the results as the destination's `layout` asks.
async fn process(
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    layout: Layout<'_>,
    jq: &mut JqClient,
    stop: &mut StopSignal,
) -> Option<Processed> {
    let sink = match layout {
        Layout::Objects(sink) => Some(sink.clone()),
        Layout::Records => None,
    };
    // HTTP endpoints always ran the (possibly empty) pipeline; objects skip an empty one.
    let split = if sink.is_some() && active.runtime.pipeline.is_empty() {
        None
    } else {
        Some(split_and_extract(entry, active, records, jq, stop).await?)
    };
    let active = active.clone();
    let records = records.to_vec();
    on_blocking_pool("Processing", move || {
        let results = split.map(|split| split.finish(&active.runtime.pipeline));
        match &sink {
            Some(sink) => group_by_keys(&records, results, sink),
            None => in_order(&records, results.unwrap_or_default()),
        }
    })
    .await
}

/// Groups processed records by partition keys (`results`: `None` when the pipeline is
/// empty). A record whose keys cannot make an object key under `sink`'s prefix (a key the
/// prefix names but the query did not extract) is a processing failure, so it reaches the
/// error output instead of being lost.
fn group_by_keys(records: &[StoredRecord], results: Option<Vec<ProcessResult>>, sink: &S3Sink) -> Processed {
    let mut groups: BTreeMap<BTreeMap<String, String>, Vec<ProcessedRecord>> = BTreeMap::new();
    let mut failures = Vec::new();
    let Some(results) = results else {
        // Records pass unchanged: one object.
        if !records.is_empty() {
            let unchanged =
                records.iter().map(|r| ProcessedRecord { source: r.clone(), data: r.data.clone() }).collect();
            groups.insert(BTreeMap::new(), unchanged);
        }
        return Processed { groups: into_groups(groups), failures };
    };
    for (record, result) in records.iter().zip(results) {
        match result {
            ProcessResult::Ok(outputs) => {
                let mut unkeyable = None;
                for output in outputs {
                    if !groups.contains_key(&output.partition_keys) {
                        let context = KeyContext {
                            arrival_ms: record.arrival_ms,
                            time_zone: sink.time_zone,
                            error_output_type: None,
                            partition_keys: &output.partition_keys,
                        };
                        // A partition key such as ".." would make a key no store can hold;
                        // its record fails rather than the delivery being retried forever.
                        let checked = prefix::evaluate_prefix(sink.prefix.as_deref(), &context)
                            .and_then(|evaluated| prefix::check_key_path("Evaluated prefix", &evaluated));
                        if let Err(error) = checked {
                            unkeyable = Some(error);
                            continue;
                        }
                    }
                    groups
                        .entry(output.partition_keys)
                        .or_default()
                        .push(ProcessedRecord { source: record.clone(), data: Bytes::from(output.data) });
                }
                if let Some(error_message) = unkeyable {
                    let error_code = "DynamicPartitioning.PartitionKeyMissing".to_owned();
                    failures.push(FailedRecord { record: record.clone(), error_code, error_message, attempts: 1 });
                }
            }
            ProcessResult::Failed { error_code, error_message } => {
                failures.push(FailedRecord { record: record.clone(), error_code, error_message, attempts: 1 })
            }
        }
    }
    Processed { groups: into_groups(groups), failures }
}

fn into_groups(groups: BTreeMap<BTreeMap<String, String>, Vec<ProcessedRecord>>) -> Vec<ProcessedGroup> {
    groups.into_iter().map(|(partition_keys, records)| ProcessedGroup { partition_keys, records }).collect()
}

/// Processed records one by one, in order, as one group (HTTP requests carry records).
fn in_order(records: &[StoredRecord], results: Vec<ProcessResult>) -> Processed {
    let mut outputs = Vec::new();
    let mut failures = Vec::new();
    for (record, result) in records.iter().zip(results) {
        match result {
            ProcessResult::Ok(processed) => outputs.extend(
                processed.into_iter().map(|o| ProcessedRecord { source: record.clone(), data: Bytes::from(o.data) }),
            ),
            ProcessResult::Failed { error_code, error_message } => {
                failures.push(FailedRecord { record: record.clone(), error_code, error_message, attempts: 1 })
            }
        }
    }
    let groups = if outputs.is_empty() {
        Vec::new()
    } else {
        vec![ProcessedGroup { partition_keys: BTreeMap::new(), records: outputs }]
    };
    Processed { groups, failures }
}

pub(crate) fn count_delivered(context: &DeliveryContext<'_>, records: u64, bytes: u64, arrivals: &[u64]) {
    let now = context.clock.now_ms();
    let stats = context.stats;
    StreamStats::add(&stats.delivered_records, records);
    StreamStats::add(&stats.delivered_bytes, bytes);
    StreamStats::add(&stats.delivered_objects, 1);
    StreamStats::add(&stats.latency_ms_sum, arrivals.iter().map(|a| now.saturating_sub(*a)).sum());
    StreamStats::add(&stats.latency_count, arrivals.len() as u64);
}

/// Delivers one buffer; false when the stream stopped before it was delivered.
async fn flush(
    shared: &Shared,
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    jq: &mut JqClient,
    stop: &mut StopSignal,
) -> bool {
    let context = DeliveryContext {
        stream_name: &entry.name,
        stream_id: entry.stream_id,
        version: active.version,
        stats: &entry.stats,
        stores: &shared.stores,
        clock: shared.clock.as_ref(),
        gzip_level: shared.config.gzip_level,
    };
    let mut buffer = Buffer { entry, active, records, jq, stop };
    match &active.runtime.destination {
        Destination::S3 { sink, backup, .. } => {
            buffer.deliver(&context, &ObjectSink { sink, backup: backup.as_ref() }).await
        }
        Destination::Http { endpoint, backup, backup_all } => {
            let mut endpoint = endpoint.clone();
            endpoint.source_arn = entry.arn.clone();
            let sink = HttpEndpointSink { endpoint, client: shared.http(), backup, backup_all: *backup_all };
            buffer.deliver(&context, &sink).await
        }
        Destination::Redshift { staging, copy, retry, backup } => {
            let sink = CopySink { staging, copy, retry: *retry, backup: backup.as_ref() };
            buffer.deliver(&context, &sink).await
        }
    }
}

/// One buffer on its way to the destination.
struct Buffer<'a> {
    entry: &'a Entry,
    active: &'a Arc<Active>,
    records: &'a [StoredRecord],
    jq: &'a mut JqClient,
    stop: &'a mut StopSignal,
}

impl Buffer<'_> {
    /// The one delivery path of every destination: process, encode and deliver each
    /// group, then write the records that failed to the error output and, when
    /// configured, the source records to the backup. False when the stream stopped (or
    /// delivery cannot go on) before all of it was written; the buffer then stays in the
    /// log for the next start.
    async fn deliver<S: Sink>(&mut self, context: &DeliveryContext<'_>, sink: &S) -> bool {
        let Some(Processed { groups, failures }) =
            process(self.entry, self.active, self.records, sink.layout(), self.jq, self.stop).await
        else {
            return false;
        };
        for group in groups {
            let Some(payloads) = sink.encode(context, group).await else { return false };
            for payload in payloads {
                match sink.deliver(context, payload, self.stop).await {
                    Outcome::Delivered { records, bytes, arrivals } => {
                        count_delivered(context, records, bytes, &arrivals)
                    }
                    Outcome::Failed { output_type, failures } => {
                        if !write_failures(context, sink.error_output(), output_type, &failures, self.stop).await {
                            return false;
                        }
                    }
                    Outcome::Discarded { records } => StreamStats::add(&context.stats.failed_records, records),
                    Outcome::Stopped => return false,
                }
            }
        }
        if !write_failures(context, sink.error_output(), "processing-failed", &failures, self.stop).await {
            return false;
        }
        match sink.source_backup() {
            Some(backup) => write_source_backup(context, backup, self.records, self.stop).await,
            None => true,
        }
    }
}
