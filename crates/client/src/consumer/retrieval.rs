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
use crate::producer::backoff::{backoff, RandomSource};
use crate::services::Kinesis;
use crate::transport::StreamingBody;

/// First pause after a throttled or failed call; doubled up to [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest pause between retries.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Failed calls in a row after which a fetcher gives up (the consumer then releases the
/// lease; this or another worker takes it again from the checkpoint).
pub const CONSECUTIVE_FAILURES_MAX: u32 = 10;
/// Shortest time between two `GetRecords` of one shard: AWS allows 5 per second per
/// shard, shared by every application reading it.
pub const GET_RECORDS_INTERVAL_MIN: Duration = Duration::from_millis(200);
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

/// Pauses between retries of one fetcher: exponential with full jitter (fetchers of
/// throttled shards do not retry in step), reset by a success. After
/// [`CONSECUTIVE_FAILURES_MAX`] failures in a row the error is given up on, so that the
/// shard consumer stops and releases the lease rather than holding a shard it cannot read.
#[derive(Debug)]
struct Backoff {
    failures: u32,
    random: Arc<dyn RandomSource>,
}

impl Backoff {
    fn new(random: Arc<dyn RandomSource>) -> Self {
        Backoff { failures: 0, random }
    }

    /// Waits before the next attempt after `error`, or returns it when too many attempts
    /// in a row failed.
    async fn wait(&mut self, error: impl Into<ConsumerError>) -> Result<(), ConsumerError> {
        self.failures += 1;
        if self.failures >= CONSECUTIVE_FAILURES_MAX {
            return Err(error.into());
        }
        tokio::time::sleep(backoff(BACKOFF_MIN, BACKOFF_MAX, self.failures, self.random.as_ref())).await;
        Ok(())
    }

    fn reset(&mut self) {
        self.failures = 0;
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
    last_call: Option<tokio::time::Instant>,
    backoff: Backoff,
}

impl PollingFetcher {
    /// A fetcher of `shard_id` starting at `start`; `random` jitters its retries.
    pub fn new(
        kinesis: Arc<Kinesis>,
        stream: &str,
        shard_id: &str,
        start: StartAt,
        max_records: u32,
        idle_time: Duration,
        random: Arc<dyn RandomSource>,
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
            last_call: None,
            backoff: Backoff::new(random),
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
            // that a reader behind the tip catches up as fast as the shard allows.
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
                        self.backoff.wait(e).await?;
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
            if let Some(last) = self.last_call {
                tokio::time::sleep_until(last + GET_RECORDS_INTERVAL_MIN).await;
            }
            self.last_call = Some(tokio::time::Instant::now());
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
                    self.backoff.wait(e).await?;
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
    /// must speak HTTP/2 ([`Kinesis::new_http2`]); `random` jitters its retries.
    pub fn new(
        kinesis: Arc<Kinesis>,
        consumer_arn: &str,
        shard_id: &str,
        start: StartAt,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        FanOutFetcher {
            kinesis,
            consumer_arn: consumer_arn.to_owned(),
            shard_id: shard_id.to_owned(),
            start,
            continuation: None,
            subscription: None,
            backoff: Backoff::new(random),
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
                        self.backoff.wait(e).await?;
                    }
                    Err(e) => return Err(e.into()),
                }
                continue;
            };
            let message = match decoder.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => {
                    if decoder.buffered() > EVENT_BUFFER_MAX {
                        // The broken subscription is dropped: whoever reads the shard next
                        // subscribes again from the continuation.
                        self.subscription = None;
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
                Err(e) => {
                    self.subscription = None;
                    return Err(decode_error(e.to_string()));
                }
            };
            match (message.header(":message-type"), message.header(":event-type")) {
                (Some("event"), Some("SubscribeToShardEvent")) => {}
                (Some("event"), _) => continue,
                _ => {
                    let error_type = message.header(":exception-type").unwrap_or("unknown").to_owned();
                    tracing::debug!(shard_id = %self.shard_id, error_type, "subscription ended with an exception");
                    self.subscription = None;
                    let error = ClientError::Api {
                        service: "Kinesis",
                        operation: "SubscribeToShard",
                        status: 400,
                        error_type,
                        message: String::from_utf8_lossy(message.payload()).into_owned(),
                    };
                    if error.error_type() == Some("ResourceNotFoundException") {
                        return Err(error.into());
                    }
                    self.backoff.wait(error).await?;
                    continue;
                }
            }
            let format = match message.header(":content-type") {
                Some(t) if t.contains("cbor") => WireFormat::Cbor,
                _ => WireFormat::Json,
            };
            let event = match rheo_protocol::decode_subscribe_to_shard_event(message.payload(), format) {
                Ok(event) => event,
                Err(e) => {
                    self.subscription = None;
                    return Err(decode_error(e.to_string()));
                }
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Highest;
    impl RandomSource for Highest {
        fn up_to(&self, bound: u64) -> u64 {
            bound
        }
    }

    fn throttled() -> ClientError {
        ClientError::Api {
            service: "Kinesis",
            operation: "GetRecords",
            status: 400,
            error_type: "ProvisionedThroughputExceededException".into(),
            message: String::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_after_the_maximum_of_consecutive_failures_and_a_success_resets_them() {
        let mut backoff = Backoff::new(Arc::new(Highest));
        let started = tokio::time::Instant::now();
        for _ in 1..CONSECUTIVE_FAILURES_MAX {
            assert!(backoff.wait(throttled()).await.is_ok());
        }
        let given_up = backoff.wait(throttled()).await;
        assert!(matches!(given_up, Err(ConsumerError::Client(e)) if e.is_throttling()));
        // 100, 200, 400, ..., capped at 5 s: the pauses were spent (paused clock).
        assert!(started.elapsed() >= BACKOFF_MAX);
        backoff.reset();
        assert!(backoff.wait(throttled()).await.is_ok());
    }
}
