//! Fetching a shard's records: polling (`GetShardIterator` + `GetRecords`) or enhanced
//! fan-out (`SubscribeToShard`, resubscribing from the continuation sequence number when a
//! subscription ends). Both resume after the last record they returned; the consumer
//! filters what it already delivered, so a fetcher may return a record twice but never
//! skip one.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use rheo_aws::event_stream::Decoder;
use rheo_protocol::model::{
    ChildShard, GetRecordsInput, GetShardIteratorInput, Record, ShardIteratorType, StartingPosition,
    SubscribeToShardInput,
};
use rheo_protocol::{SequenceNumber, Timestamp, WireFormat};

use super::checkpoint::{Checkpoint, ExtendedSequenceNumber};
use super::config::GET_RECORDS_LIMIT_MAX;
use super::error::ConsumerError;
use crate::error::ClientError;
use crate::services::Kinesis;
use crate::transport::StreamingBody;

/// First pause after a throttled or failed call; doubled up to [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest pause between retries.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A subscription silent for this long is abandoned and made again (AWS sends an event at
/// least every 5 seconds).
pub const SUBSCRIPTION_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of event-stream frames buffered before a whole message arrives.
pub const EVENT_BUFFER_MAX: usize = 16 * 1024 * 1024;

/// One fetch's result.
#[derive(Debug, Default)]
pub struct Batch {
    /// The records, in order.
    pub records: Vec<Record>,
    /// How far behind the newest record the shard's reader is.
    pub millis_behind_latest: Option<i64>,
    /// The shard is closed and every record was returned.
    pub shard_ended: bool,
    /// The closed shard's children, when the service said.
    pub child_shards: Vec<ChildShard>,
}

/// Where reading starts: the checkpoint's position (records at it are filtered by the
/// consumer, which is how a sub-sequence checkpoint inside an aggregate resumes).
#[derive(Clone, Debug)]
pub enum StartAt {
    /// `TRIM_HORIZON`.
    TrimHorizon,
    /// `LATEST`.
    Latest,
    /// `AT_TIMESTAMP`.
    AtTimestamp(Timestamp),
    /// `AT_SEQUENCE_NUMBER`.
    AtSequence(SequenceNumber),
}

impl StartAt {
    /// Where a shard with `checkpoint` resumes; `None` at `SHARD_END`.
    pub fn from_checkpoint(checkpoint: &ExtendedSequenceNumber, timestamp: Option<Timestamp>) -> Option<Self> {
        Some(match &checkpoint.checkpoint {
            Checkpoint::TrimHorizon => StartAt::TrimHorizon,
            Checkpoint::Latest => StartAt::Latest,
            Checkpoint::AtTimestamp => match timestamp {
                Some(t) => StartAt::AtTimestamp(t),
                None => StartAt::TrimHorizon,
            },
            Checkpoint::Sequence(sequence) => StartAt::AtSequence(sequence.clone()),
            Checkpoint::ShardEnd => return None,
        })
    }

    fn iterator_type(&self) -> (ShardIteratorType, Option<SequenceNumber>, Option<Timestamp>) {
        match self {
            StartAt::TrimHorizon => (ShardIteratorType::TrimHorizon, None, None),
            StartAt::Latest => (ShardIteratorType::Latest, None, None),
            StartAt::AtTimestamp(t) => (ShardIteratorType::AtTimestamp, None, Some(*t)),
            StartAt::AtSequence(s) => (ShardIteratorType::AtSequenceNumber, Some(s.clone()), None),
        }
    }
}

/// Doubling pauses between retries, reset by a success.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Backoff { next: BACKOFF_MIN }
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(BACKOFF_MAX);
    }

    fn reset(&mut self) {
        self.next = BACKOFF_MIN;
    }
}

/// A shard's record source.
#[derive(Debug)]
pub enum Fetcher {
    /// `GetRecords` polling.
    Polling(PollingFetcher),
    /// Enhanced fan-out.
    FanOut(FanOutFetcher),
}

impl Fetcher {
    /// The next batch; retries what is worth retrying.
    pub async fn next_batch(&mut self) -> Result<Batch, ConsumerError> {
        match self {
            Fetcher::Polling(fetcher) => fetcher.next_batch().await,
            Fetcher::FanOut(fetcher) => fetcher.next_batch().await,
        }
    }
}

/// Polls one shard with `GetRecords`.
#[derive(Debug)]
pub struct PollingFetcher {
    kinesis: Arc<Kinesis>,
    stream: String,
    shard_id: String,
    start: StartAt,
    iterator: Option<String>,
    last_sequence: Option<SequenceNumber>,
    max_records: u32,
    idle_time: Duration,
    was_empty: bool,
    backoff: Backoff,
}

impl PollingFetcher {
    /// A fetcher of `shard_id` starting at `start`.
    pub fn new(
        kinesis: Arc<Kinesis>,
        stream: &str,
        shard_id: &str,
        start: StartAt,
        max_records: u32,
        idle_time: Duration,
    ) -> Self {
        PollingFetcher {
            kinesis,
            stream: stream.to_owned(),
            shard_id: shard_id.to_owned(),
            start,
            iterator: None,
            last_sequence: None,
            max_records,
            idle_time,
            was_empty: false,
            backoff: Backoff::new(),
        }
    }

    async fn shard_iterator(&self) -> Result<Option<String>, ClientError> {
        let (kind, sequence, timestamp) = match &self.last_sequence {
            Some(last) => (ShardIteratorType::AfterSequenceNumber, Some(last.clone()), None),
            None => self.start.iterator_type(),
        };
        let (stream_name, stream_arn) = stream_name_or_arn(&self.stream);
        let input = GetShardIteratorInput {
            shard_id: self.shard_id.clone(),
            shard_iterator_type: kind,
            starting_sequence_number: sequence,
            stream_name,
            timestamp,
            stream_arn,
            stream_id: None,
            dry_run: None,
        };
        Ok(self.kinesis.get_shard_iterator(input).await?.shard_iterator)
    }

    async fn next_batch(&mut self) -> Result<Batch, ConsumerError> {
        if self.was_empty {
            // The KCL's idle time between reads, spent only when there was nothing new so
            // that a reader behind the tip catches up at full speed.
            tokio::time::sleep(self.idle_time).await;
        }
        loop {
            let iterator = match self.iterator.clone() {
                Some(iterator) => iterator,
                None => match self.shard_iterator().await {
                    Ok(Some(iterator)) => iterator,
                    Ok(None) => return Ok(Batch { shard_ended: true, ..Batch::default() }),
                    Err(e) if e.is_retryable() => {
                        tracing::debug!(shard_id = %self.shard_id, error = %e, "GetShardIterator failed; retrying");
                        self.backoff.wait().await;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
            };
            let input = GetRecordsInput {
                shard_iterator: iterator,
                limit: Some(self.max_records.min(GET_RECORDS_LIMIT_MAX) as i32),
                stream_arn: None,
                stream_id: None,
                dry_run: None,
            };
            match self.kinesis.get_records(input).await {
                Ok(out) => {
                    self.backoff.reset();
                    if let Some(last) = out.records.last() {
                        self.last_sequence = Some(last.sequence_number.clone());
                    }
                    self.iterator = out.next_shard_iterator.filter(|i| !i.is_empty());
                    self.was_empty = out.records.is_empty();
                    return Ok(Batch {
                        shard_ended: self.iterator.is_none(),
                        records: out.records,
                        millis_behind_latest: out.millis_behind_latest,
                        child_shards: out.child_shards.unwrap_or_default(),
                    });
                }
                Err(e) if e.error_type() == Some("ExpiredIteratorException") => {
                    tracing::debug!(shard_id = %self.shard_id, "shard iterator expired; getting a new one");
                    self.iterator = None;
                }
                Err(e) if e.is_retryable() => {
                    tracing::debug!(shard_id = %self.shard_id, error = %e, "GetRecords failed; retrying");
                    self.backoff.wait().await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Reads one shard through `SubscribeToShard`.
#[derive(Debug)]
pub struct FanOutFetcher {
    kinesis: Arc<Kinesis>,
    consumer_arn: String,
    shard_id: String,
    start: StartAt,
    continuation: Option<SequenceNumber>,
    subscription: Option<(StreamingBody, Decoder)>,
    backoff: Backoff,
}

impl FanOutFetcher {
    /// A fetcher of `shard_id` for the registered consumer `consumer_arn`; `kinesis`
    /// must speak HTTP/2 ([`Kinesis::new_http2`]).
    pub fn new(kinesis: Arc<Kinesis>, consumer_arn: &str, shard_id: &str, start: StartAt) -> Self {
        FanOutFetcher {
            kinesis,
            consumer_arn: consumer_arn.to_owned(),
            shard_id: shard_id.to_owned(),
            start,
            continuation: None,
            subscription: None,
            backoff: Backoff::new(),
        }
    }

    async fn subscribe(&self) -> Result<StreamingBody, ClientError> {
        let (kind, sequence, timestamp) = match &self.continuation {
            Some(continuation) => (ShardIteratorType::AfterSequenceNumber, Some(continuation.clone()), None),
            None => self.start.iterator_type(),
        };
        let input = SubscribeToShardInput {
            consumer_arn: self.consumer_arn.clone(),
            stream_id: None,
            shard_id: self.shard_id.clone(),
            starting_position: StartingPosition { r#type: kind, sequence_number: sequence, timestamp },
            dry_run: None,
        };
        self.kinesis.subscribe_to_shard_raw(input).await
    }

    async fn next_batch(&mut self) -> Result<Batch, ConsumerError> {
        loop {
            let Some((body, decoder)) = self.subscription.as_mut() else {
                match self.subscribe().await {
                    Ok(body) => self.subscription = Some((body, Decoder::new())),
                    Err(e) if e.is_retryable() || e.error_type() == Some("ResourceInUseException") => {
                        tracing::debug!(shard_id = %self.shard_id, error = %e, "SubscribeToShard failed; retrying");
                        self.backoff.wait().await;
                    }
                    Err(e) => return Err(e.into()),
                }
                continue;
            };
            let message = match decoder.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => {
                    if decoder.buffered() > EVENT_BUFFER_MAX {
                        return Err(decode_error(format!("an event larger than {EVENT_BUFFER_MAX} bytes")));
                    }
                    match tokio::time::timeout(SUBSCRIPTION_IDLE_TIMEOUT, body.frame()).await {
                        Ok(Some(Ok(frame))) => {
                            if let Ok(data) = frame.into_data() {
                                decoder.push(&data);
                            }
                        }
                        // The subscription ended (AWS ends each after 5 minutes), broke, or
                        // went silent: subscribe again from the continuation.
                        Ok(None) | Ok(Some(Err(_))) | Err(_) => {
                            tracing::debug!(shard_id = %self.shard_id, "subscription ended; resubscribing");
                            self.subscription = None;
                        }
                    }
                    continue;
                }
                Err(e) => return Err(decode_error(e.to_string())),
            };
            match (message.header(":message-type"), message.header(":event-type")) {
                (Some("event"), Some("SubscribeToShardEvent")) => {}
                (Some("event"), _) => continue,
                _ => {
                    let error_type = message.header(":exception-type").unwrap_or("unknown").to_owned();
                    tracing::debug!(shard_id = %self.shard_id, error_type, "subscription ended with an exception");
                    self.subscription = None;
                    if error_type == "ResourceNotFoundException" {
                        return Err(ConsumerError::Client(ClientError::Api {
                            service: "Kinesis",
                            operation: "SubscribeToShard",
                            status: 400,
                            error_type,
                            message: String::from_utf8_lossy(message.payload()).into_owned(),
                        }));
                    }
                    self.backoff.wait().await;
                    continue;
                }
            }
            let format = match message.header(":content-type") {
                Some(t) if t.contains("cbor") => WireFormat::Cbor,
                _ => WireFormat::Json,
            };
            let event = rheo_protocol::decode_subscribe_to_shard_event(message.payload(), format)
                .map_err(|e| decode_error(e.to_string()))?;
            self.backoff.reset();
            let shard_ended = event.continuation_sequence_number.is_none();
            if let Some(continuation) = event.continuation_sequence_number {
                self.continuation = Some(continuation);
            }
            if shard_ended {
                self.subscription = None;
            }
            return Ok(Batch {
                records: event.records,
                millis_behind_latest: Some(event.millis_behind_latest),
                shard_ended,
                child_shards: event.child_shards.unwrap_or_default(),
            });
        }
    }
}

fn decode_error(detail: String) -> ConsumerError {
    ConsumerError::Client(ClientError::Decode { service: "Kinesis", operation: "SubscribeToShard", detail })
}

/// `(StreamName, StreamARN)` for a stream given by name or ARN.
pub(crate) fn stream_name_or_arn(stream: &str) -> (Option<String>, Option<String>) {
    if stream.starts_with("arn:") {
        (None, Some(stream.to_owned()))
    } else {
        (Some(stream.to_owned()), None)
    }
}
