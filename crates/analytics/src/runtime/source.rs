//! An application's input, whichever service it lives in: batches of records with the
//! in-application stream they feed, an event-driven wait, and a position to checkpoint.

use std::sync::Arc;

use bytes::Bytes;
use rheo_engine::{EngineError, ReaderStart, StreamReader, StreamReaderRequest};
use rheo_firehose::tap::{FirehoseTap, TapPosition, TapStart};
use rheo_firehose::{Firehose, FirehoseError};

use super::role::{RoleCheck, FIREHOSE_INPUT_ACTIONS, KINESIS_INPUT_ACTIONS};
use super::{InputPosition, StartPosition};
use crate::config::{InputConfig, SourceRef};
use crate::error::AnalyticsError;
use crate::limits::{READ_BATCH_BYTES, READ_BATCH_RECORDS};
use crate::plan::{AppPlan, StreamId};

/// One record read: when its source accepted it, and its payload.
pub(super) struct SourceRecord {
    pub arrival_ms: i64,
    pub data: Bytes,
}

/// Records of one read, all for one in-application stream.
pub(super) struct SourceBatch {
    pub stream: StreamId,
    pub records: Vec<SourceRecord>,
}

enum Reader {
    Kinesis(StreamReader),
    Firehose(FirehoseTap),
}

/// An open input.
pub(super) struct Source {
    reader: Reader,
    /// The role the input reads as, checked before every read.
    role: RoleCheck,
    /// The in-application streams `<prefix>_001..N`, by `(shard index mod N)`.
    streams: Vec<StreamId>,
}

fn signed(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn invalid(message: String) -> AnalyticsError {
    AnalyticsError::InvalidConfiguration(message)
}

impl Source {
    /// Opens the input at `start`; a missing stream or a start the source cannot take is
    /// a configuration error.
    pub fn open(
        engine: &Arc<rheo_engine::Engine>,
        firehose: Option<&Arc<Firehose>>,
        input: &InputConfig,
        plan: &AppPlan,
        start: &StartPosition,
    ) -> Result<Source, AnalyticsError> {
        let streams = input
            .in_app_stream_names()
            .iter()
            .map(|name| {
                plan.stream_id(name).ok_or_else(|| {
                    AnalyticsError::Internal(format!("input {} feeds {name}, which the plan lacks", input.id))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if streams.is_empty() {
            return Err(AnalyticsError::Internal(format!("input {} feeds no stream", input.id)));
        }
        let reader = match &input.source {
            SourceRef::Kinesis { stream_name } => {
                let start = match start {
                    StartPosition::Now => ReaderStart::Latest,
                    StartPosition::TrimHorizon => ReaderStart::TrimHorizon,
                    StartPosition::At(InputPosition::Kinesis(checkpoint)) => {
                        ReaderStart::Checkpoint(checkpoint.clone())
                    }
                    StartPosition::At(InputPosition::Firehose { .. }) => {
                        return Err(invalid(format!("input {} was saved at a Firehose position", input.id)))
                    }
                };
                let request = StreamReaderRequest { stream_name: stream_name.clone(), start };
                let reader = engine.stream_reader(request).map_err(|error| match error {
                    EngineError::StreamNotFound { .. } => {
                        invalid(format!("Kinesis stream {stream_name} of input {} does not exist", input.id))
                    }
                    EngineError::Storage(error) => AnalyticsError::Storage(error),
                    other => AnalyticsError::Internal(format!("opening a reader of {stream_name}: {other}")),
                })?;
                Reader::Kinesis(reader)
            }
            SourceRef::Firehose { delivery_stream_name: name } => {
                let Some(firehose) = firehose else {
                    return Err(invalid(format!("Firehose is not served here; input {} cannot read {name}", input.id)));
                };
                let start = match start {
                    StartPosition::Now => TapStart::Latest,
                    // AWS: a Firehose input has no TRIM_HORIZON.
                    StartPosition::TrimHorizon => {
                        return Err(AnalyticsError::InvalidArgument(format!(
                            "input {} reads a Firehose delivery stream, which cannot start at TRIM_HORIZON",
                            input.id
                        )))
                    }
                    StartPosition::At(InputPosition::Firehose { stream_uid, next_lsn }) => {
                        TapStart::At(TapPosition { stream_id: *stream_uid, next_lsn: *next_lsn })
                    }
                    StartPosition::At(InputPosition::Kinesis(_)) => {
                        return Err(invalid(format!("input {} was saved at a Kinesis position", input.id)))
                    }
                };
                let tap = firehose.tap(name, start).map_err(|error| match error {
                    FirehoseError::NotFound { .. } => {
                        invalid(format!("Firehose delivery stream {name} of input {} does not exist", input.id))
                    }
                    FirehoseError::Storage(error) => AnalyticsError::Storage(error),
                    other => AnalyticsError::Internal(format!("opening a tap of {name}: {other}")),
                })?;
                Reader::Firehose(tap)
            }
        };
        let actions = match &input.source {
            SourceRef::Kinesis { .. } => KINESIS_INPUT_ACTIONS,
            SourceRef::Firehose { .. } => FIREHOSE_INPUT_ACTIONS,
        };
        Ok(Source { reader, role: RoleCheck::new(engine.clone(), input.access.clone(), actions), streams })
    }

    /// Where reading goes on.
    pub fn position(&self) -> InputPosition {
        match &self.reader {
            Reader::Kinesis(reader) => InputPosition::Kinesis(reader.checkpoint()),
            Reader::Firehose(tap) => {
                let position = tap.position();
                InputPosition::Firehose { stream_uid: position.stream_id, next_lsn: position.next_lsn }
            }
        }
    }

    /// The next batch; `None` when caught up.
    pub fn next_batch(&mut self) -> Result<Option<SourceBatch>, AnalyticsError> {
        self.role.check().map_err(|denied| AnalyticsError::AccessDenied(denied.message))?;
        match &mut self.reader {
            Reader::Kinesis(reader) => {
                let batch = reader.next_batch(READ_BATCH_RECORDS, READ_BATCH_BYTES).map_err(|error| match error {
                    EngineError::Storage(error) => AnalyticsError::Storage(error),
                    other => AnalyticsError::Internal(format!("reading {}: {other}", reader.stream_name())),
                })?;
                Ok(batch.map(|batch| {
                    // AWS maps shards to in-application streams "by shard"; which shard goes
                    // where is Rheo's choice: index modulo the parallelism.
                    let slot = batch.shard_index as usize % self.streams.len();
                    let records = batch
                        .records
                        .into_iter()
                        .map(|record| SourceRecord { arrival_ms: signed(record.arrival_ms), data: record.data })
                        .collect();
                    SourceBatch { stream: self.streams[slot], records }
                }))
            }
            Reader::Firehose(tap) => {
                let records = tap.next_batch(READ_BATCH_RECORDS, READ_BATCH_BYTES).map_err(|error| match error {
                    FirehoseError::Storage(error) => AnalyticsError::Storage(error),
                    other => AnalyticsError::Internal(format!("reading {}: {other}", tap.name())),
                })?;
                // One shard per delivery stream: it feeds the first stream only.
                Ok(records.map(|records| SourceBatch {
                    stream: self.streams[0],
                    records: records
                        .into_iter()
                        .map(|record| SourceRecord { arrival_ms: signed(record.arrival_ms), data: record.data })
                        .collect(),
                }))
            }
        }
    }

    /// Waits until there may be something new to read.
    pub async fn wait(&mut self) {
        match &mut self.reader {
            Reader::Kinesis(reader) => reader.wait().await,
            Reader::Firehose(tap) => tap.wait().await,
        }
    }
}
