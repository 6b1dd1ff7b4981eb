//! The delivery task of one channel.
//!
//! It reads the source stream through a [`rheo_engine::StreamReader`] and buffers records
//! until the oldest is `DataFreshnessInSeconds` old (or the buffer reaches its bound),
//! then validates them by `RecordFormatType`, writes the valid ones as one object and
//! the others as one dead-letter object, and only then saves the reader's position. A
//! crash before the save writes the buffer again after restart (at-least-once, in order
//! per shard, as Firehose's Kinesis sources); nothing is skipped. Writes retry until they
//! succeed or the channel stops (there is nowhere else for the records to go).
//!
//! Objects hold the records as they are, one after another with nothing added: AWS
//! delivers records "in their source format" with "no transformation" (developer guide,
//! "Create an Amazon S3 delivery" and "Delivery quotas and limits"), as Firehose does
//! without its `AppendDelimiterToRecord` processor. KPL aggregates are not split, for the
//! same reason.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rheo_engine::{ReaderBatch, ReaderCheckpoint, ReaderRecord, ReaderStart, StreamReaderRequest, StreamRef};
use serde_json::json;

use super::model::RecordFormat;
use super::service::{bucket_name, Entry, Shared};
use super::state::{self, ChannelState};
use super::template::{KeyTemplate, KeyValues};
use crate::deliver::count_delivered;
use crate::dest::retry::StopSignal;
use crate::dest::s3::{put_until_written, put_until_written_in_class};
use crate::dest::{on_blocking_pool, DeliveryContext};
use crate::limits::*;
use crate::metrics::StreamStats;
use crate::source::back_off;

/// A record read and not yet written, with the shard it came from.
struct Buffered {
    shard_index: u32,
    record: ReaderRecord,
}

/// Records read since the last write.
#[derive(Default)]
struct Buffer {
    records: Vec<Buffered>,
    bytes: usize,
}

impl Buffer {
    fn is_full(&self) -> bool {
        self.bytes >= CHANNEL_BUFFER_BYTES_MAX || self.records.len() >= CHANNEL_BUFFER_RECORDS_MAX
    }

    /// Adds a batch's records that arrived once the channel was ACTIVE ("no backfill").
    fn extend(&mut self, batch: ReaderBatch, active_from_ms: u64, stats: &StreamStats) {
        for record in batch.records.into_iter().filter(|r| r.arrival_ms >= active_from_ms) {
            if self.records.is_empty() {
                stats.oldest_undelivered_ms.store(record.arrival_ms, Ordering::Relaxed);
            }
            StreamStats::add(&stats.incoming_records, 1);
            StreamStats::add(&stats.incoming_bytes, record.data.len() as u64);
            self.bytes += record.data.len();
            self.records.push(Buffered { shard_index: batch.shard_index, record });
        }
    }

    fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
    }
}

/// Why a record goes to the dead-letter location instead of the object, if it does
/// (developer guide, "How Amazon S3 delivery works": STRING records must be UTF-8, JSON
/// records one JSON payload; BYTE_ARRAY records are not checked).
pub fn validation_error(format: RecordFormat, data: &[u8]) -> Option<&'static str> {
    match format {
        RecordFormat::String if std::str::from_utf8(data).is_err() => Some("The record is not valid UTF-8."),
        RecordFormat::Json if serde_json::from_slice::<serde::de::IgnoredAny>(data).is_err() => {
            Some("The record is not valid JSON.")
        }
        _ => None,
    }
}

/// The unique suffix AWS appends to every key: the write time and a random part, so keys
/// sort by time within a folder and never collide.
fn unique_suffix(now_ms: u64) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("-{now_ms:013}-{}", &random[..8])
}

/// Runs until the channel is deleted or the server stops.
pub(crate) async fn run(shared: Arc<Shared>, entry: Arc<Entry>) {
    let mut stop = entry.stop.subscribe();
    let mut wait_ms = entry.wait_ms.subscribe();
    let (stream_name, mut saved, active_from_ms) = {
        let state = entry.state.read();
        let active_from = state.created_ms.saturating_add(shared.config.create_ms);
        (state.stream_name.clone(), state.positions.clone(), active_from)
    };
    if entry.state.read().failure.is_some() {
        return;
    }
    let request =
        StreamReaderRequest { stream_name: stream_name.clone(), start: ReaderStart::Checkpoint(saved.clone()) };
    let mut reader = match shared.kinesis.stream_reader(request) {
        Ok(reader) => reader,
        Err(error) => {
            tracing::error!(message = "The channel's stream cannot be read.", channel = %entry.name, %error);
            return;
        }
    };
    let mut buffer = Buffer::default();
    // The reader moved past records (or empty stretches) not yet saved.
    let mut moved = false;
    // The channel reads its stream as its service execution role, checked before every
    // read like a delivery stream's Kinesis source: a denied role reads nothing (what is
    // buffered is still written) until a policy allows it again.
    let role_arn = entry.state.read().role_arn.clone();
    let stream_arn = shared.kinesis.account().stream_arn(&stream_name).into_string();
    let mut denied_before = false;
    'deliver: loop {
        if *stop.borrow() {
            return;
        }
        let allowed = match shared.kinesis.check_role(&role_arn, crate::source::SOURCE_ACTIONS, &stream_arn) {
            Ok(()) => {
                if std::mem::take(&mut denied_before) {
                    tracing::info!(message = "The channel's role may read its stream again.", channel = %entry.name);
                }
                true
            }
            Err(denied) => {
                if !std::mem::replace(&mut denied_before, true) {
                    tracing::warn!(message = "The channel's role may not read its stream; retrying.", channel = %entry.name, %denied);
                }
                // Backing off every time also keeps a reader that has records waiting
                // from waking this loop at once while nothing may be read.
                back_off(&mut stop).await;
                if buffer.records.is_empty() {
                    continue 'deliver;
                }
                false
            }
        };
        while allowed && !buffer.is_full() {
            match reader.next_batch(SOURCE_BATCH_RECORDS, READ_BATCH_BYTES) {
                Ok(Some(batch)) => {
                    moved = true;
                    buffer.extend(batch, active_from_ms, &entry.stats);
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(message = "Reading the channel's stream failed; retrying.", channel = %entry.name, %error);
                    back_off(&mut stop).await;
                    reader.rewind(saved.clone());
                    buffer.clear();
                    moved = false;
                    continue 'deliver;
                }
            }
        }
        if buffer.records.is_empty() && source_gone(&shared, &entry) {
            fail(&shared, &entry, "The source stream was deleted.").await;
            return;
        }
        let now = shared.clock.now_ms();
        let wait = *wait_ms.borrow_and_update();
        let due_ms = buffer.records.first().map(|b| b.record.arrival_ms.saturating_add(wait));
        if buffer.is_full() || due_ms.is_some_and(|due| due <= now) {
            if !write(&shared, &entry, &buffer.records, &mut stop).await {
                return; // stopped: the buffer is read again after the next start
            }
            buffer.clear();
            entry.stats.oldest_undelivered_ms.store(0, Ordering::Relaxed);
        }
        if moved && buffer.records.is_empty() {
            saved = reader.checkpoint();
            moved = false;
            save(&shared, &entry, saved.clone()).await;
            continue;
        }
        let sleep = due_ms.map_or(Duration::from_secs(3600), |due| Duration::from_millis(due.saturating_sub(now)));
        tokio::select! {
            () = reader.wait() => {}
            _ = stop.changed() => {}
            _ = wait_ms.changed() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

/// The stream the channel was created on is gone: being deleted, deleted, or replaced by
/// another of the same name.
fn source_gone(shared: &Shared, entry: &Entry) -> bool {
    let (name, created_ms) = {
        let state = entry.state.read();
        (state.stream_name.clone(), state.stream_created_ms)
    };
    match shared.kinesis.describe_stream_summary(&StreamRef { name: Some(name), arn: None }) {
        Ok(summary) => summary.created_ms != created_ms || summary.status == rheo_engine::StreamStatus::Deleting,
        Err(rheo_engine::EngineError::StreamNotFound { .. }) => true,
        Err(_) => false,
    }
}

/// Saves the reader's position; a failure only means records are written again after a
/// restart, which at-least-once allows.
async fn save(shared: &Shared, entry: &Entry, positions: ReaderCheckpoint) {
    let result =
        shared.log.update_stream(entry.stream_id, move |txn| state::edit(txn, |s| s.positions = positions)).await;
    if let Err(error) = result {
        tracing::warn!(message = "Channel position not saved.", channel = %entry.name, %error);
    }
}

/// Marks the channel FAILED for good.
async fn fail(shared: &Shared, entry: &Entry, reason: &str) {
    tracing::warn!(message = "Channel failed.", channel = %entry.name, reason);
    let stored = reason.to_owned();
    let result =
        shared.log.update_stream(entry.stream_id, move |txn| state::edit(txn, |s| s.failure = Some(stored))).await;
    if let Err(error) = result {
        tracing::warn!(message = "Channel failure not saved.", channel = %entry.name, %error);
    }
    entry.state.write().failure = Some(reason.to_owned());
}

/// Writes one buffer: the valid records as one object, the others as one dead-letter
/// object. False when the channel stopped first.
async fn write(shared: &Shared, entry: &Entry, records: &[Buffered], stop: &mut StopSignal) -> bool {
    let state: ChannelState = entry.state.read().clone();
    let context = DeliveryContext {
        stream_name: &entry.name,
        stream_id: entry.stream_id,
        version: 1,
        stats: &entry.stats,
        stores: &shared.stores,
        clock: shared.clock.as_ref(),
        gzip_level: shared.config.gzip_level,
    };
    let (valid, invalid): (Vec<&Buffered>, Vec<&Buffered>) =
        records.iter().partition(|b| validation_error(state.stream.record_format, &b.record.data).is_none());
    if let Some(first) = valid.first() {
        let time_ms = first.record.arrival_ms;
        let parts: Vec<Bytes> = valid.iter().map(|b| b.record.data.clone()).collect();
        let bytes: u64 = parts.iter().map(|p| p.len() as u64).sum();
        let codec = state.storage.compression.codec();
        let level = shared.config.gzip_level;
        let name = entry.name.clone();
        let Some(body) = on_blocking_pool("Compression", move || {
            let body: Vec<u8> = parts.concat();
            codec.compress_at(&body, &name, level).map(Bytes::from)
        })
        .await
        else {
            return false;
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                // Compressing into memory cannot fail short of a bug.
                tracing::error!(message = "Compression failed; delivery of this channel stops.", channel = %entry.name, %error);
                return false;
            }
        };
        let template = match &state.storage.output_key_template {
            Some(text) => KeyTemplate::parse(text).unwrap_or_else(|_| KeyTemplate::default_template()),
            None => KeyTemplate::default_template(),
        };
        let unique = unique_suffix(shared.clock.now_ms());
        let key = template.render(&KeyValues {
            channel_name: &entry.name,
            channel_id: &state.id,
            stream_name: &state.stream_name,
            time_ms,
            extension: codec.extension(),
            unique: &unique,
        });
        let bucket = bucket_name(&state.storage.bucket_arn);
        let class = state.storage.storage_class.as_deref();
        if !put_until_written_in_class(&context, bucket, &key, body, class, stop).await {
            return false;
        }
        let arrivals: Vec<u64> = valid.iter().map(|b| b.record.arrival_ms).collect();
        count_delivered(&context, valid.len() as u64, bytes, &arrivals);
    }
    if !invalid.is_empty() && !write_dead_letters(shared, entry, &state, &context, &invalid, stop).await {
        return false;
    }
    true
}

/// Writes records that failed validation as JSON lines with their error context: where
/// the record came from (stream, shard, sequence number, arrival), why it failed, and
/// its data in base64. AWS documents only "with error context"; the fields follow what
/// Firehose's error documents carry, named for a stream's records.
async fn write_dead_letters(
    shared: &Shared,
    entry: &Entry,
    state: &ChannelState,
    context: &DeliveryContext<'_>,
    invalid: &[&Buffered],
    stop: &mut StopSignal,
) -> bool {
    let now_ms = shared.clock.now_ms();
    let mut body = Vec::new();
    for buffered in invalid {
        let record = &buffered.record;
        let document = json!({
            "streamARN": state.stream.stream_arn,
            "shardId": rheo_engine::ShardId::new(buffered.shard_index).to_string(),
            "sequenceNumber": record.sequence_number.to_string(),
            "approximateArrivalTimestamp": record.arrival_ms,
            "partitionKey": String::from_utf8_lossy(&record.partition_key),
            "errorCode": "RecordValidationFailed",
            "errorMessage": validation_error(state.stream.record_format, &record.data).unwrap_or_default(),
            "recordFormatType": format_name(state.stream.record_format),
            "attemptEndingTimestamp": now_ms,
            "rawData": STANDARD.encode(&record.data),
        });
        body.extend_from_slice(document.to_string().as_bytes());
        body.push(b'\n');
    }
    let (bucket_arn, prefix) = match &state.dead_letter {
        Some(dead_letter) => (
            dead_letter.bucket_arn.as_str(),
            dead_letter.error_output_prefix.as_deref().unwrap_or(CHANNEL_ERROR_PREFIX_DEFAULT),
        ),
        None => (state.storage.bucket_arn.as_str(), CHANNEL_ERROR_PREFIX_DEFAULT),
    };
    let unique = unique_suffix(now_ms);
    let time_ms = invalid.first().map_or(now_ms, |b| b.record.arrival_ms);
    let name = KeyTemplate::default_template().render(&KeyValues {
        channel_name: &entry.name,
        channel_id: &state.id,
        stream_name: &state.stream_name,
        time_ms,
        extension: ".json",
        unique: &unique,
    });
    // The default template's folders under the error prefix, without its leading
    // `kinesis-channel/`.
    let name = name.strip_prefix("kinesis-channel/").unwrap_or(&name);
    let key = format!("{}{name}", with_trailing_slash(prefix));
    let written = put_until_written(context, bucket_name(bucket_arn), &key, Bytes::from(body), stop).await;
    if written {
        StreamStats::add(&entry.stats.failed_records, invalid.len() as u64);
    }
    written
}

/// The error prefix as a folder: objects go under it, never beside it.
pub(crate) fn with_trailing_slash(prefix: &str) -> String {
    if prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

/// `RecordFormatType` as AWS spells it.
pub fn format_name(format: RecordFormat) -> &'static str {
    match format {
        RecordFormat::GsrJson => "GSR_JSON",
        RecordFormat::Json => "JSON",
        RecordFormat::String => "STRING",
        RecordFormat::ByteArray => "BYTE_ARRAY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_checked_by_their_format() {
        assert_eq!(validation_error(RecordFormat::Json, br#"{"a":1}"#), None);
        assert_eq!(validation_error(RecordFormat::Json, b"42"), None);
        assert_eq!(validation_error(RecordFormat::Json, b"{\"a\":"), Some("The record is not valid JSON."));
        assert_eq!(validation_error(RecordFormat::Json, b"{} {}"), Some("The record is not valid JSON."));
        assert_eq!(validation_error(RecordFormat::String, "héllo".as_bytes()), None);
        assert_eq!(validation_error(RecordFormat::String, b"\xff\xfe"), Some("The record is not valid UTF-8."));
        assert_eq!(validation_error(RecordFormat::ByteArray, b"\xff{"), None);
    }

    #[test]
    fn unique_suffixes_sort_by_time_and_differ() {
        let (a, b) = (unique_suffix(5), unique_suffix(5));
        assert_ne!(a, b);
        assert!(a.starts_with("-0000000000005-") && a.len() == 23, "{a}");
        assert!(unique_suffix(10) > unique_suffix(9));
    }
}
