//! Sending a batch until every record of it is acknowledged: PutRecords (Kinesis) or
//! PutRecordBatch (Firehose); failed records (throttled or not) are sent again, alone, with
//! exponential back-off and full jitter. Nothing is dropped: a batch ends only when all its
//! records are in, or when the agent is stopping (then nothing of it is checkpointed, and
//! the next start sends it again).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::{Digest as _, Md5};
use rand::Rng as _;
use rheo_client::{ClientError, Firehose, Kinesis};
use rheo_protocol::firehose::model as fh;
use rheo_protocol::model as k;
use tokio::sync::watch;

use crate::config::PartitionKeyOption;
use crate::metrics::FlowMetrics;

/// First back-off after a failure.
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// Longest back-off between attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// The throttling error code of a PutRecords entry.
const THROTTLED_RECORD: &str = "ProvisionedThroughputExceededException";

/// Where a flow sends.
pub enum Destination {
    /// A Kinesis data stream.
    Kinesis {
        /// The client (CBOR: record data travels raw).
        client: Arc<Kinesis>,
        /// The stream.
        stream: String,
        /// How partition keys are chosen.
        partition_key: PartitionKeyOption,
    },
    /// A Firehose delivery stream.
    Firehose {
        /// The client.
        client: Arc<Firehose>,
        /// The delivery stream.
        delivery_stream: String,
    },
}

/// The batch was not fully acknowledged because the agent is stopping.
#[derive(Debug, thiserror::Error)]
#[error("stopped before the batch was acknowledged")]
pub struct Interrupted;

/// The back-off before attempt `attempt` (1-based): full jitter over an exponential cap.
pub fn backoff(attempt: u32, rng: &mut impl rand::Rng) -> Duration {
    let cap = BACKOFF_INITIAL.saturating_mul(1u32 << attempt.min(16)).min(BACKOFF_MAX);
    Duration::from_micros(rng.gen_range(0..=cap.as_micros() as u64))
}

/// The partition key of a record.
pub fn partition_key(option: PartitionKeyOption, data: &[u8]) -> String {
    match option {
        PartitionKeyOption::Deterministic => Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect(),
        PartitionKeyOption::Random => format!("{}", rand::thread_rng().gen_range(0.0..1_000_000.0f64)),
    }
}

impl Destination {
    /// Sends `records` until all are acknowledged, or the stop signal is raised.
    pub async fn send_all(
        &self,
        records: &[Bytes],
        metrics: &FlowMetrics,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), Interrupted> {
        let mut remaining: Vec<usize> = (0..records.len()).collect();
        let mut attempt = 0u32;
        while !remaining.is_empty() {
            if attempt > 0 {
                FlowMetrics::add(&metrics.records_retried, remaining.len() as u64);
                let delay = backoff(attempt, &mut rand::thread_rng());
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|s| *s) => return Err(Interrupted),
                }
            }
            attempt += 1;
            let started = Instant::now();
            let outcome = tokio::select! {
                outcome = self.put(records, &remaining) => outcome,
                _ = stop.wait_for(|s| *s) => return Err(Interrupted),
            };
            match outcome {
                Ok(failed) => {
                    FlowMetrics::add(&metrics.put_calls, 1);
                    FlowMetrics::add(&metrics.put_latency_micros, started.elapsed().as_micros() as u64);
                    let mut still = Vec::new();
                    for (index, code) in failed {
                        if code == THROTTLED_RECORD {
                            FlowMetrics::add(&metrics.throttles, 1);
                        } else {
                            FlowMetrics::add(&metrics.errors, 1);
                        }
                        still.push(index);
                    }
                    let done: Vec<usize> = remaining.iter().copied().filter(|i| !still.contains(i)).collect();
                    FlowMetrics::add(&metrics.records_sent, done.len() as u64);
                    FlowMetrics::add(&metrics.bytes_sent, done.iter().map(|i| records[*i].len() as u64).sum());
                    if !still.is_empty() {
                        tracing::debug!(failed = still.len(), "records refused; sending them again");
                    } else {
                        attempt = 0;
                    }
                    remaining = still;
                }
                Err(error) => {
                    if error.is_throttling() {
                        FlowMetrics::add(&metrics.throttles, 1);
                    } else {
                        FlowMetrics::add(&metrics.errors, 1);
                    }
                    // Not-retryable errors (a missing stream, bad keys) are retried too: the
                    // agent must not drop lines, and the operator may fix the cause.
                    tracing::warn!(%error, retryable = error.is_retryable(), records = remaining.len(), attempt, "put failed; retrying");
                }
            }
        }
        Ok(())
    }

    /// One call for the records at `indexes`; returns the failed ones with their codes.
    async fn put(&self, records: &[Bytes], indexes: &[usize]) -> Result<Vec<(usize, String)>, ClientError> {
        match self {
            Destination::Kinesis { client, stream, partition_key: option } => {
                let entries = indexes
                    .iter()
                    .map(|i| k::PutRecordsRequestEntry {
                        partition_key: Some(partition_key(*option, &records[*i])),
                        explicit_hash_key: None,
                        data: records[*i].clone(),
                    })
                    .collect();
                let input = k::PutRecordsInput {
                    records: entries,
                    stream_name: Some(stream.clone()),
                    stream_arn: None,
                    stream_id: None,
                    dry_run: None,
                };
                let output = client.put_records(input).await?;
                Ok(failures(indexes, output.records.iter().map(|r| r.error_code.clone())))
            }
            Destination::Firehose { client, delivery_stream } => {
                let input = fh::PutRecordBatchInput {
                    delivery_stream_name: delivery_stream.clone(),
                    records: indexes.iter().map(|i| fh::Record { data: records[*i].clone() }).collect(),
                };
                let output = client.put_record_batch(input).await?;
                Ok(failures(indexes, output.request_responses.iter().map(|r| r.error_code.clone())))
            }
        }
    }
}

/// The indexes whose answer carries an error code. An answer with fewer entries than
/// records sent counts the missing ones as failed, so none is assumed delivered.
fn failures(indexes: &[usize], codes: impl Iterator<Item = Option<String>>) -> Vec<(usize, String)> {
    let mut codes = codes;
    indexes
        .iter()
        .filter_map(|i| match codes.next() {
            Some(None) => None,
            Some(Some(code)) => Some((*i, code)),
            None => Some((*i, "MissingResult".to_owned())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng as _;

    #[test]
    fn backoff_grows_to_the_cap_and_stays_within_it() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempt in 1..40 {
            let cap = BACKOFF_INITIAL.saturating_mul(1u32 << attempt.min(16)).min(BACKOFF_MAX);
            for _ in 0..50 {
                assert!(backoff(attempt, &mut rng) <= cap);
            }
        }
        let late: Vec<Duration> = (0..200).map(|_| backoff(30, &mut rng)).collect();
        assert!(late.iter().any(|d| *d > BACKOFF_MAX / 2), "jitter spans the whole range");
    }

    #[test]
    fn deterministic_keys_are_the_md5_of_the_data() {
        assert_eq!(partition_key(PartitionKeyOption::Deterministic, b""), "d41d8cd98f00b204e9800998ecf8427e");
        let a = partition_key(PartitionKeyOption::Random, b"x");
        assert!(a.parse::<f64>().is_ok_and(|v| (0.0..1_000_000.0).contains(&v)));
    }

    #[test]
    fn missing_and_failed_entries_are_failures() {
        let codes = vec![None, Some("InternalFailure".to_owned())];
        assert_eq!(
            failures(&[4, 5, 6], codes.into_iter()),
            vec![(5, "InternalFailure".to_owned()), (6, "MissingResult".to_owned())]
        );
    }
}
