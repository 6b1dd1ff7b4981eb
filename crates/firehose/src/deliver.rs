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

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rheo_storage::StoredRecord;
use serde_json::json;

use crate::config::{Destination, S3Sink};
use crate::dest::http::HttpDelivery;
use crate::jq::client::Extracted;
use crate::jq::JqClient;
use crate::limits::*;
use crate::metrics::StreamStats;
use crate::prefix::{self, KeyContext};
use crate::process::{Pipeline, ProcessResult};
use crate::state;
use crate::stream::{Active, Entry, Shared};

/// A record failed processing or delivery, written as one line of an error object.
struct Failure {
    record: StoredRecord,
    error_code: String,
    error_message: String,
    attempts: u32,
}

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

/// Awaits `work` unless the stream stops first (deletion or shutdown must not wait for a
/// destination's retry duration or a hung connection); `None` when stopped.
async fn unless_stopped<T>(
    stop: &mut tokio::sync::watch::Receiver<bool>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    if *stop.borrow() {
        return None;
    }
    tokio::select! {
        result = work => Some(result),
        _ = stop.changed() => None,
    }
}

/// Waits before the next attempt; false when the stream stopped meanwhile.
async fn back_off(attempt: u32, stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    let delay = DELIVERY_RETRY_INITIAL_MS.saturating_mul(1u64 << attempt.min(16)).min(DELIVERY_RETRY_MAX_MS);
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(delay)) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

/// Writes one object, retrying until it is written or the stream stops.
async fn put_object(
    shared: &Shared,
    entry: &Entry,
    bucket: &str,
    key: &str,
    body: Bytes,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let mut attempt = 0;
    loop {
        match unless_stopped(stop, shared.stores.put(bucket, key, body.clone())).await {
            None => return false,
            Some(Ok(())) => return true,
            Some(Err(error)) => {
                StreamStats::add(&entry.stats.delivery_failures, 1);
                tracing::warn!(message = "Writing an object failed; retrying.", stream = %entry.name, bucket, key, %error);
                if !back_off(attempt, stop).await {
                    return false;
                }
                attempt += 1;
            }
        }
    }
}

fn object_key(
    entry: &Entry,
    active: &Active,
    sink: &S3Sink,
    arrival_ms: u64,
    keys: &BTreeMap<String, String>,
    now: u64,
) -> Result<String, String> {
    let context = KeyContext { arrival_ms, time_zone: sink.time_zone, error_output_type: None, partition_keys: keys };
    let prefix = prefix::evaluate_prefix(sink.prefix.as_deref(), &context)?;
    Ok(format!("{prefix}{}", prefix::object_name(&entry.name, active.version, now, sink.time_zone, &sink.extension)))
}

/// The key of a group's object. Partition keys were checked while processing (records
/// that cannot make a key go to the error output), so a failure here is a bug: delivery
/// of the stream stops, logged, rather than dropping the group's records.
fn group_key(
    entry: &Entry,
    active: &Active,
    sink: &S3Sink,
    arrival_ms: u64,
    keys: &BTreeMap<String, String>,
    now: u64,
) -> Option<String> {
    object_key(entry, active, sink, arrival_ms, keys, now)
        .map_err(|error| tracing::error!(message = "Object key could not be built; delivery of this stream stops.", stream = %entry.name, %error))
        .ok()
}

fn error_key(entry: &Entry, active: &Active, sink: &S3Sink, arrival_ms: u64, output_type: &str, now: u64) -> String {
    let empty = BTreeMap::new();
    let context = KeyContext {
        arrival_ms,
        time_zone: sink.time_zone,
        error_output_type: Some(output_type),
        partition_keys: &empty,
    };
    let prefix =
        prefix::evaluate_error_prefix(sink.error_prefix.as_deref(), sink.prefix.as_deref(), output_type, &context)
            .unwrap_or_else(|_| format!("{output_type}/"));
    format!("{prefix}{}", prefix::object_name(&entry.name, active.version, now, sink.time_zone, &sink.extension))
}

/// Compresses on the blocking pool: a 128 MiB buffer takes seconds, which must not
/// stall the runtime's workers (they serve the API).
/// `None` only if the compression task died (a bug): the caller then stops delivering
/// the stream rather than writing a damaged object and moving the checkpoint.
async fn compress(sink: &S3Sink, body: Vec<u8>, entry: &Entry, gzip_level: u32) -> Option<Bytes> {
    let compression = sink.compression;
    let name = entry.name.clone();
    let level = gzip_level;
    on_blocking_pool("Compression", move || match compression.compress_at(&body, &name, level) {
        Ok(compressed) => Bytes::from(compressed),
        Err(error) => {
            // Compressing into memory cannot fail short of a bug; keep the data uncompressed.
            tracing::error!(message = "Compression failed; writing uncompressed.", stream = %name, %error);
            Bytes::from(body)
        }
    })
    .await
}

/// Writes failed records as AWS's error documents, one JSON object per line.
async fn write_failures(
    shared: &Shared,
    entry: &Entry,
    active: &Active,
    sink: &S3Sink,
    output_type: &str,
    failures: &[Failure],
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let Some(first) = failures.first() else { return true };
    let now = shared.now_ms();
    let mut body = Vec::new();
    for failure in failures {
        let document = json!({
            "attemptsMade": failure.attempts,
            "arrivalTimestamp": failure.record.arrival_ms,
            "errorCode": failure.error_code,
            "errorMessage": failure.error_message,
            "attemptEndingTimestamp": now,
            "rawData": STANDARD.encode(&failure.record.data),
            "subsequenceNumber": 0,
            "dataId": format!("{}.{}", entry.stream_id, failure.record.lsn),
        });
        body.extend_from_slice(document.to_string().as_bytes());
        body.push(b'\n');
    }
    let key = error_key(entry, active, sink, first.record.arrival_ms, output_type, now);
    let Some(body) = compress(sink, body, entry, shared.config.gzip_level).await else { return false };
    let written = put_object(shared, entry, &sink.bucket, &key, body, stop).await;
    if written {
        StreamStats::add(&entry.stats.failed_records, failures.len() as u64);
    }
    written
}

/// Copies the source records, unprocessed, to a backup bucket.
async fn write_backup(
    shared: &Shared,
    entry: &Entry,
    active: &Active,
    sink: &S3Sink,
    records: &[StoredRecord],
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let Some(first) = records.first() else { return true };
    let body: Vec<u8> = records.iter().flat_map(|r| r.data.iter().copied()).collect();
    let now = shared.now_ms();
    let key = match object_key(entry, active, sink, first.arrival_ms, &BTreeMap::new(), now) {
        Ok(key) => key,
        Err(error) => {
            tracing::error!(message = "Backup key could not be built.", stream = %entry.name, %error);
            return true;
        }
    };
    let Some(body) = compress(sink, body, entry, shared.config.gzip_level).await else { return false };
    put_object(shared, entry, &sink.bucket, &key, body, stop).await
}

/// Processed records grouped by partition keys (one group without dynamic partitioning).
struct Groups {
    groups: BTreeMap<BTreeMap<String, String>, ObjectGroup>,
    failures: Vec<Failure>,
}

/// The records of one object.
struct ObjectGroup {
    /// Arrival of the oldest record: the instant `timestamp` expressions evaluate.
    first_arrival_ms: u64,
    body: Vec<u8>,
    records: u64,
    arrivals: Vec<u64>,
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
/// task died (a bug; see [`compress`]). A worker that cannot be started is not any
/// record's fault: processing is retried, with back-off, until it can or the stream stops.
async fn split_and_extract(
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    jq: &mut JqClient,
    stop: &mut tokio::sync::watch::Receiver<bool>,
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
    let mut attempt = 0;
    let keys = loop {
        match unless_stopped(stop, jq.extract(query, &parts)).await {
            None => return None,
            Some(Ok(keys)) => break keys,
            Some(Err(error)) => {
                StreamStats::add(&entry.stats.delivery_failures, 1);
                tracing::error!(message = "The jq worker failed; processing is retried.", stream = %entry.name, %error, attempt);
                if !back_off(attempt, stop).await {
                    return None;
                }
                attempt += 1;
            }
        }
    };
    drop(parts);
    Some(Split { records: split, keys: Some(keys) })
}

/// Runs the processors and groups the results by partition keys.
async fn process(
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    sink: &S3Sink,
    jq: &mut JqClient,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Groups> {
    let split = if active.runtime.pipeline.is_empty() {
        None
    } else {
        Some(split_and_extract(entry, active, records, jq, stop).await?)
    };
    let active = active.clone();
    let records = records.to_vec();
    let sink = sink.clone();
    on_blocking_pool("Processing", move || {
        let results = split.map(|split| split.finish(&active.runtime.pipeline));
        process_now(&records, results, &sink)
    })
    .await
}

/// Runs CPU work off the runtime's workers; `None` (logged) only if the work panicked.
async fn on_blocking_pool<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(
            |error| tracing::error!(message = "Delivery work failed; delivery of this stream stops.", what, %error),
        )
        .ok()
}

/// Groups processed records by partition keys (`results`: `None` when the pipeline is
/// empty). A record whose keys cannot make an object key under `sink`'s prefix (a key the
/// prefix names but the query did not extract) is a processing failure, so it reaches the
/// error output instead of being lost.
fn process_now(records: &[StoredRecord], results: Option<Vec<ProcessResult>>, sink: &S3Sink) -> Groups {
    let mut groups: BTreeMap<BTreeMap<String, String>, ObjectGroup> = BTreeMap::new();
    let mut failures = Vec::new();
    let Some(results) = results else {
        // Records pass unchanged: one object, built without a copy per record.
        if let Some(first) = records.first() {
            let mut body = Vec::with_capacity(records.iter().map(|r| r.data.len()).sum());
            for record in records {
                body.extend_from_slice(&record.data);
            }
            let arrivals = records.iter().map(|r| r.arrival_ms).collect();
            let group =
                ObjectGroup { first_arrival_ms: first.arrival_ms, body, records: records.len() as u64, arrivals };
            groups.insert(BTreeMap::new(), group);
        }
        return Groups { groups, failures };
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
                    let group = groups.entry(output.partition_keys).or_insert_with(|| ObjectGroup {
                        first_arrival_ms: record.arrival_ms,
                        body: Vec::new(),
                        records: 0,
                        arrivals: Vec::new(),
                    });
                    group.body.extend_from_slice(&output.data);
                    group.records += 1;
                    group.arrivals.push(record.arrival_ms);
                }
                if let Some(error_message) = unkeyable {
                    let error_code = "DynamicPartitioning.PartitionKeyMissing".to_owned();
                    failures.push(Failure { record: record.clone(), error_code, error_message, attempts: 1 });
                }
            }
            ProcessResult::Failed { error_code, error_message } => {
                failures.push(Failure { record: record.clone(), error_code, error_message, attempts: 1 })
            }
        }
    }
    Groups { groups, failures }
}

fn count_delivered(shared: &Shared, entry: &Entry, records: u64, bytes: u64, arrivals: &[u64]) {
    let now = shared.now_ms();
    StreamStats::add(&entry.stats.delivered_records, records);
    StreamStats::add(&entry.stats.delivered_bytes, bytes);
    StreamStats::add(&entry.stats.delivered_objects, 1);
    StreamStats::add(&entry.stats.latency_ms_sum, arrivals.iter().map(|a| now.saturating_sub(*a)).sum());
    StreamStats::add(&entry.stats.latency_count, arrivals.len() as u64);
}

/// Delivers one buffer; false when the stream stopped before it was delivered.
async fn flush(
    shared: &Shared,
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    jq: &mut JqClient,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    match &active.runtime.destination {
        Destination::S3 { sink, backup, .. } => {
            let Some(Groups { groups, failures }) = process(entry, active, records, sink, jq, stop).await else {
                return false;
            };
            for (keys, ObjectGroup { first_arrival_ms: arrival_ms, body, records: count, arrivals }) in groups {
                let now = shared.now_ms();
                let Some(key) = group_key(entry, active, sink, arrival_ms, &keys, now) else { return false };
                let size = body.len() as u64;
                let Some(body) = compress(sink, body, entry, shared.config.gzip_level).await else { return false };
                if !put_object(shared, entry, &sink.bucket, &key, body, stop).await {
                    return false;
                }
                count_delivered(shared, entry, count, size, &arrivals);
            }
            if !write_failures(shared, entry, active, sink, "processing-failed", &failures, stop).await {
                return false;
            }
            match backup {
                Some(backup) => write_backup(shared, entry, active, backup, records, stop).await,
                None => true,
            }
        }
        Destination::Http { endpoint, backup, backup_all } => {
            let Some(FlatGroups { groups, failures }) = process_flat(entry, active, records, jq, stop).await else {
                return false;
            };
            let mut endpoint = endpoint.clone();
            endpoint.source_arn = entry.arn.clone();
            for chunk in groups.chunks(HTTP_RECORDS_PER_REQUEST_MAX) {
                let data: Vec<Bytes> = chunk.iter().map(|(_, data)| data.clone()).collect();
                let size: u64 = data.iter().map(|d| d.len() as u64).sum();
                let Some(client) = shared.http() else {
                    // Only a broken TLS set-up gets here (logged): delivery of this stream
                    // stops and its records stay in the log for the next start.
                    return false;
                };
                let Some(outcome) = unless_stopped(stop, client.deliver(&endpoint, &data)).await else {
                    return false;
                };
                match outcome {
                    HttpDelivery::Delivered { .. } => {
                        let arrivals: Vec<u64> = chunk.iter().map(|(r, _)| r.arrival_ms).collect();
                        count_delivered(shared, entry, chunk.len() as u64, size, &arrivals);
                    }
                    HttpDelivery::PayloadTooLarge { attempts, detail } => {
                        // AWS treats 413 as permanent and does not back the batch up.
                        StreamStats::add(&entry.stats.failed_records, chunk.len() as u64);
                        tracing::warn!(message = "HTTP endpoint refused the batch as too large; dropped.", stream = %entry.name, attempts, %detail);
                    }
                    HttpDelivery::GaveUp { attempts, error_code, error_message } => {
                        StreamStats::add(&entry.stats.delivery_failures, u64::from(attempts));
                        let failed: Vec<Failure> = chunk
                            .iter()
                            .map(|(record, _)| Failure {
                                record: record.clone(),
                                error_code: error_code.clone(),
                                error_message: error_message.clone(),
                                attempts,
                            })
                            .collect();
                        if !write_failures(shared, entry, active, backup, "http-endpoint-failed", &failed, stop).await {
                            return false;
                        }
                    }
                }
            }
            if !write_failures(shared, entry, active, backup, "processing-failed", &failures, stop).await {
                return false;
            }
            if *backup_all {
                return write_backup(shared, entry, active, backup, records, stop).await;
            }
            true
        }
        Destination::Redshift { staging, copy, retry, backup } => {
            let Some(Groups { groups, failures }) = process(entry, active, records, staging, jq, stop).await else {
                return false;
            };
            for (keys, ObjectGroup { first_arrival_ms: arrival_ms, body, records: count, arrivals }) in groups {
                let now = shared.now_ms();
                let Some(key) = group_key(entry, active, staging, arrival_ms, &keys, now) else { return false };
                let size = body.len() as u64;
                let Some(object) = compress(staging, body, entry, shared.config.gzip_level).await else { return false };
                if !put_object(shared, entry, &staging.bucket, &key, object.clone(), stop).await {
                    return false;
                }
                let deadline = tokio::time::Instant::now() + *retry;
                let mut attempt = 0;
                loop {
                    let Some(copied) = unless_stopped(stop, crate::dest::redshift::copy_object(copy, &object)).await
                    else {
                        return false;
                    };
                    match copied {
                        Ok(_) => {
                            count_delivered(shared, entry, count, size, &arrivals);
                            break;
                        }
                        Err(error) => {
                            StreamStats::add(&entry.stats.delivery_failures, 1);
                            tracing::warn!(message = "COPY into the database failed.", stream = %entry.name, %error, attempt);
                            if tokio::time::Instant::now() >= deadline {
                                // AWS skips the object and records it in a manifest under errors/.
                                let manifest = json!({"entries": [{"url": format!("s3://{}/{key}", staging.bucket), "mandatory": true}]});
                                let manifest_key = format!(
                                    "errors/manifests/{}",
                                    prefix::object_name(
                                        &entry.name,
                                        active.version,
                                        shared.now_ms(),
                                        staging.time_zone,
                                        ""
                                    )
                                );
                                let body = Bytes::from(manifest.to_string());
                                if !put_object(shared, entry, &staging.bucket, &manifest_key, body, stop).await {
                                    return false;
                                }
                                StreamStats::add(&entry.stats.failed_records, count);
                                break;
                            }
                            if !back_off(attempt, stop).await {
                                return false;
                            }
                            attempt += 1;
                        }
                    }
                }
            }
            if !write_failures(shared, entry, active, staging, "processing-failed", &failures, stop).await {
                return false;
            }
            match backup {
                Some(backup) => write_backup(shared, entry, active, backup, records, stop).await,
                None => true,
            }
        }
    }
}

/// Processed records one by one (HTTP requests carry records, not objects).
struct FlatGroups {
    groups: Vec<(StoredRecord, Bytes)>,
    failures: Vec<Failure>,
}

async fn process_flat(
    entry: &Entry,
    active: &Arc<Active>,
    records: &[StoredRecord],
    jq: &mut JqClient,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<FlatGroups> {
    let split = split_and_extract(entry, active, records, jq, stop).await?;
    let active = active.clone();
    let records = records.to_vec();
    on_blocking_pool("Processing", move || process_flat_now(&records, split.finish(&active.runtime.pipeline))).await
}

fn process_flat_now(records: &[StoredRecord], results: Vec<ProcessResult>) -> FlatGroups {
    let mut groups = Vec::new();
    let mut failures = Vec::new();
    for (record, result) in records.iter().zip(results) {
        match result {
            ProcessResult::Ok(outputs) => {
                groups.extend(outputs.into_iter().map(|o| (record.clone(), Bytes::from(o.data))));
            }
            ProcessResult::Failed { error_code, error_message } => {
                failures.push(Failure { record: record.clone(), error_code, error_message, attempts: 1 })
            }
        }
    }
    FlatGroups { groups, failures }
}
