//! Kinesis data streams as delivery stream sources, read inside the process through the
//! engine's [`rheo_engine::StreamReader`].
//!
//! Reading starts at each open shard's LATEST when the delivery stream is created (as
//! AWS does); shards created later by resharding are read from their start, and only
//! after their parents are read to the end, so a partition key's records keep their
//! order (the reader's lineage rule). KPL-aggregated records are split into their user
//! records. Records are copied into the delivery stream's own log and the reader's
//! checkpoint is saved after each copy: a crash between the two re-copies one batch
//! (at-least-once). Between batches the task sleeps on the reader's event-driven wait.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rheo_engine::ids::ResourceName;
use rheo_engine::{EngineError, ReaderBatch, ReaderCheckpoint, ReaderStart, ShardCheckpoint, StreamReaderRequest};
use tokio::sync::watch;

use crate::error::{FirehoseError, Result};
use crate::limits::{READ_BATCH_BYTES, SOURCE_BATCH_RECORDS, SOURCE_RETRY_MS};

/// What the role of a delivery stream must be allowed on its Kinesis source, as AWS's
/// documentation of Firehose's role lists for reading a stream.
pub const SOURCE_ACTIONS: &[&str] = &["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords"];
use crate::metrics::StreamStats;
use crate::state::{self, StreamState};
use crate::stream::{append, Entry, Shared};

/// The stream name a Kinesis stream ARN names.
pub fn stream_name(arn: &str) -> Option<&str> {
    let (head, name) = arn.split_once(":stream/")?;
    (head.starts_with("arn:") && head.contains(":kinesis:") && !name.is_empty()).then_some(name)
}

/// Positions at LATEST for every open shard of the source stream, done for closed ones.
pub(crate) fn latest_positions(shared: &Shared, arn: &str) -> Result<BTreeMap<u32, ShardCheckpoint>> {
    let name = stream_name(arn).ok_or_else(|| {
        FirehoseError::Validation(format!(
            "1 validation error detected: Value '{arn}' at 'kinesisStreamSourceConfiguration.kinesisStreamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{{12}}:stream/[a-zA-Z0-9_.-]+"
        ))
    })?;
    // A stream of another partition, region or account is none of this server's: it
    // must not be read as ours (the role is authorized on the ARN as given).
    if shared.kinesis.account().parse_arn(arn) != Some(ResourceName::Stream(name.to_owned())) {
        return Err(FirehoseError::invalid(format!("Kinesis stream {arn} does not exist.")));
    }
    let request = StreamReaderRequest { stream_name: name.to_owned(), start: ReaderStart::Latest };
    let reader = shared.kinesis.stream_reader(request).map_err(|error| match error {
        EngineError::StreamNotFound { .. } => FirehoseError::invalid(format!("Kinesis stream {arn} does not exist.")),
        EngineError::Storage(error) => FirehoseError::Storage(error),
        other => FirehoseError::Internal(format!("opening a reader of {arn}: {other}")),
    })?;
    Ok(reader.checkpoint().shards)
}

/// Runs until the delivery stream is deleted or the server stops.
pub(crate) async fn run(shared: Arc<Shared>, entry: Arc<Entry>) {
    let mut stop = entry.stop.subscribe();
    let Some(source) = entry.state.read().source.clone() else { return };
    let Some(name) = stream_name(&source.stream_arn).map(str::to_owned) else { return };
    let stored = shared.log.stream(entry.stream_id).and_then(|m| StreamState::from_settings(&m.props.settings));
    // What is saved: after a failed copy, reading goes back to it.
    let mut saved = ReaderCheckpoint { shards: stored.map(|s| s.source_positions).unwrap_or_default() };
    let request = StreamReaderRequest { stream_name: name.clone(), start: ReaderStart::Checkpoint(saved.clone()) };
    let mut reader = match shared.kinesis.stream_reader(request) {
        Ok(reader) => reader,
        Err(error) => {
            tracing::error!(message = "The source stream cannot be read.", stream = %entry.name, source = %name, %error);
            return;
        }
    };
    loop {
        if *stop.borrow() {
            return;
        }
        // Checked before every read, so a changed policy applies from the next batch: a
        // denied role reads nothing (the records stay in the stream, to be copied once it
        // is allowed) and the denial is the delivery stream's failure description.
        if let Err(denied) = shared.kinesis.check_role(&source.role_arn, SOURCE_ACTIONS, &source.stream_arn) {
            let first = entry.source_failure.write().replace(denied.message.clone()).is_none();
            if first {
                tracing::warn!(message = "The delivery stream's role may not read its source; retrying.", stream = %entry.name, source = %name, %denied);
            }
            back_off(&mut stop).await;
            continue;
        }
        if entry.source_failure.read().is_some() {
            entry.source_failure.write().take();
            tracing::info!(message = "The delivery stream's role may read its source again.", stream = %entry.name, source = %name);
        }
        let batch = match reader.next_batch(SOURCE_BATCH_RECORDS, READ_BATCH_BYTES) {
            Ok(Some(batch)) => batch,
            Ok(None) => {
                tokio::select! {
                    () = reader.wait() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            Err(error) => {
                tracing::warn!(message = "Reading the source stream failed; retrying.", stream = %entry.name, source = %name, %error);
                back_off(&mut stop).await;
                continue;
            }
        };
        if let Err(error) = copy(&shared, &entry, &batch).await {
            tracing::warn!(message = "Copying source records failed; retrying.", stream = %entry.name, %error);
            back_off(&mut stop).await;
            reader.rewind(saved.clone());
            continue;
        }
        saved = reader.checkpoint();
        let positions = saved.shards.clone();
        let stored = shared
            .log
            .update_stream(entry.stream_id, move |txn| state::edit(txn, |s| s.source_positions = positions))
            .await;
        if let Err(error) = stored {
            tracing::warn!(message = "Source position not saved.", stream = %entry.name, %error);
        }
    }
}

/// Appends a batch's records (KPL aggregates split) to the delivery stream's log.
async fn copy(shared: &Shared, entry: &Entry, batch: &ReaderBatch) -> Result<()> {
    let mut data = Vec::with_capacity(batch.records.len());
    for record in &batch.records {
        if rheo_aws::kpl::is_aggregated(&record.data) {
            match rheo_aws::kpl::deaggregate(&record.data) {
                Ok(subrecords) => data.extend(subrecords.into_iter().map(|s| s.data)),
                Err(error) => {
                    // Not a valid aggregate after all: deliver it as it is.
                    tracing::debug!(message = "KPL magic without a valid aggregate.", ?error);
                    data.push(record.data.clone());
                }
            }
        } else {
            data.push(record.data.clone());
        }
    }
    if data.is_empty() {
        return Ok(());
    }
    follow_source_key(shared, entry, batch.sealing_key).await?;
    let copied = data.len() as u64;
    let bytes: u64 = data.iter().map(|d: &Bytes| d.len() as u64).sum();
    let results = append(shared, entry, data).await?;
    if let Some(Err(error)) = results.into_iter().find(Result::is_err) {
        return Err(error);
    }
    StreamStats::add(&entry.stats.incoming_records, copied);
    StreamStats::add(&entry.stats.incoming_bytes, bytes);
    Ok(())
}

/// Gives the delivery stream's log the key its source stream seals records with, before
/// records are copied, so copies of an encrypted stream's records are sealed too (and
/// stop being sealed once the source's encryption is stopped). Delivery streams with a
/// Kinesis source take no SSE of their own, so the source decides.
async fn follow_source_key(shared: &Shared, entry: &Entry, source_key: Option<u32>) -> Result<()> {
    let current = shared.log.stream(entry.stream_id).and_then(|m| m.props.encryption_key);
    if current == source_key {
        return Ok(());
    }
    shared
        .log
        .update_stream(entry.stream_id, move |txn| {
            txn.props_mut().encryption_key = source_key;
            Ok(())
        })
        .await?;
    tracing::info!(message = "The delivery stream now seals copies as its source does.", stream = %entry.name, sealed = source_key.is_some());
    Ok(())
}

/// Waits before retrying a failed read or copy, unless the task is stopped. Channels'
/// delivery tasks back off the same way.
pub(crate) async fn back_off(stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(SOURCE_RETRY_MS)) => {}
        _ = stop.changed() => {}
    }
}
