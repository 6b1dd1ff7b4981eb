//! Kinesis data streams as delivery stream sources, read inside the process.
//!
//! Reading starts at each open shard's LATEST when the delivery stream is created (as
//! AWS does); shards created later by resharding are read from their start, and only
//! after their parents are read to the end, so a partition key's records keep their
//! order. KPL-aggregated records are split into their user records. Records are copied
//! into the delivery stream's own log and the source position is saved after each
//! copy: a crash between the two re-copies one batch (at-least-once).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rheo_storage::{StartPosition, StreamMeta};

use crate::error::{FirehoseError, Result};
use crate::limits::{READ_BATCH_BYTES, SOURCE_BATCH_RECORDS, SOURCE_IDLE_POLL_MS};
use crate::metrics::StreamStats;
use crate::service::{Entry, Shared};
use crate::state::{self, SourcePosition, StreamState};

/// The stream name a Kinesis stream ARN names.
pub fn stream_name(arn: &str) -> Option<&str> {
    let (head, name) = arn.split_once(":stream/")?;
    (head.starts_with("arn:") && head.contains(":kinesis:") && !name.is_empty()).then_some(name)
}

fn find_stream(shared: &Shared, name: &str) -> Option<Arc<StreamMeta>> {
    shared.kinesis.log().streams().into_iter().find(|s| s.name == name)
}

/// Positions at LATEST for every open shard of the source stream, done for closed ones.
pub(crate) fn latest_positions(shared: &Shared, arn: &str) -> Result<BTreeMap<u32, SourcePosition>> {
    let name = stream_name(arn).ok_or_else(|| {
        FirehoseError::Validation(format!(
            "1 validation error detected: Value '{arn}' at 'kinesisStreamSourceConfiguration.kinesisStreamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{{12}}:stream/[a-zA-Z0-9_.-]+"
        ))
    })?;
    let stream = find_stream(shared, name)
        .ok_or_else(|| FirehoseError::invalid(format!("Kinesis stream {arn} does not exist.")))?;
    let mut positions = BTreeMap::new();
    for shard in &stream.shards {
        let position = match shard.closed {
            Some(_) => SourcePosition { shard_uid: shard.uid, next_lsn: 0, done: true },
            None => SourcePosition {
                shard_uid: shard.uid,
                next_lsn: shared.kinesis.log().resolve(shard.uid, StartPosition::Latest)?,
                done: false,
            },
        };
        positions.insert(shard.index, position);
    }
    Ok(positions)
}

/// A shard may be read once every parent it still knows of is read to the end.
fn parents_done(stream: &StreamMeta, index: u32, positions: &BTreeMap<u32, SourcePosition>) -> bool {
    let Some(shard) = stream.shard(index) else { return false };
    [shard.parent, shard.adjacent_parent].into_iter().flatten().all(|parent| {
        match (stream.shard(parent), positions.get(&parent)) {
            (None, _) => true, // expired long ago
            (Some(p), Some(position)) => position.shard_uid != p.uid || position.done,
            (Some(_), None) => false,
        }
    })
}

/// Runs until the delivery stream is deleted or the server stops.
pub(crate) async fn run(shared: Arc<Shared>, entry: Arc<Entry>) {
    let mut stop = entry.stop.subscribe();
    let Some(source) = entry.state.read().source.clone() else { return };
    let Some(name) = stream_name(&source.stream_arn).map(str::to_owned) else { return };
    let stored = shared.log.stream(entry.stream_id).and_then(|m| StreamState::from_settings(&m.props.settings));
    let mut positions = stored.map(|s| s.source_positions).unwrap_or_default();
    loop {
        if *stop.borrow() {
            return;
        }
        let mut progressed = false;
        let mut wake = None;
        if let Some(stream) = find_stream(&shared, &name) {
            for shard in &stream.shards {
                let position = match positions.get(&shard.index) {
                    Some(position) if position.shard_uid == shard.uid => *position,
                    // A shard created after reading began (or a recreated stream's): from its start.
                    _ => SourcePosition { shard_uid: shard.uid, next_lsn: 0, done: false },
                };
                if position.done || !parents_done(&stream, shard.index, &positions) {
                    positions.insert(shard.index, position);
                    continue;
                }
                let batch = match shared.kinesis.log().read(
                    shard.uid,
                    position.next_lsn,
                    SOURCE_BATCH_RECORDS,
                    READ_BATCH_BYTES,
                ) {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::warn!(message = "Reading the source shard failed.", stream = %entry.name, source = %name, %error);
                        continue;
                    }
                };
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
                let copied = data.len() as u64;
                let bytes: u64 = data.iter().map(|d: &Bytes| d.len() as u64).sum();
                if !data.is_empty() {
                    match crate::service::append(&shared, &entry, data).await {
                        Ok(results) if results.iter().all(Result::is_ok) => {}
                        Ok(_) | Err(_) => {
                            tracing::warn!(message = "Copying source records failed; retrying.", stream = %entry.name);
                            tokio::time::sleep(Duration::from_millis(SOURCE_IDLE_POLL_MS)).await;
                            continue;
                        }
                    }
                    StreamStats::add(&entry.stats.incoming_records, copied);
                    StreamStats::add(&entry.stats.incoming_bytes, bytes);
                }
                let done = batch.shard_end && batch.records.is_empty();
                let updated = SourcePosition { shard_uid: shard.uid, next_lsn: batch.next_lsn, done };
                if updated != position {
                    progressed = true;
                    positions.insert(shard.index, updated);
                    let index = shard.index;
                    let saved = shared
                        .log
                        .update_stream(entry.stream_id, move |txn| {
                            state::edit(txn, |s| {
                                s.source_positions.insert(index, updated);
                            })
                        })
                        .await;
                    if let Err(error) = saved {
                        tracing::warn!(message = "Source position not saved.", stream = %entry.name, %error);
                    }
                } else {
                    positions.insert(shard.index, position);
                }
                if !done && wake.is_none() {
                    wake = shared.kinesis.log().watch(shard.uid).ok();
                }
            }
        }
        if progressed {
            continue;
        }
        let idle = tokio::time::sleep(Duration::from_millis(SOURCE_IDLE_POLL_MS));
        match wake.as_mut() {
            Some(watch) => tokio::select! {
                _ = watch.changed() => {}
                _ = stop.changed() => {}
                _ = idle => {}
            },
            None => tokio::select! {
                _ = stop.changed() => {}
                _ = idle => {}
            },
        }
    }
}
