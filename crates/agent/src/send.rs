//! Sending a batch until every record of it is acknowledged: PutRecords (Kinesis) or
//! PutRecordBatch (Firehose); failed records (throttled or not) are sent again, alone, with
//! exponential back-off and full jitter. A batch ends when all its records are in, or when
//! the agent is stopping (then nothing of it is checkpointed, and the next start sends it
//! again). The one exception: a request the service refuses as a whole as invalid is split
//! in halves, and a single record refused that way is reported and dropped, since sending
//! it again can never succeed and would hold back every later line.
//!
//! A Kinesis record's partition key counts in the service's record and request limits, so
//! it is chosen when the record is buffered and the data is cut to leave room for it.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use md5::{Digest as _, Md5};
use rand::Rng as _;
use rheo_client::producer::backoff::backoff;
use rheo_client::producer::ThreadRandom;
use rheo_client::{ClientError, Firehose, Kinesis};
use rheo_protocol::firehose::model as fh;
use rheo_protocol::model as k;
use tokio::sync::watch;

use crate::assemble::truncate;
use crate::config::{PartitionKeyOption, RetryBackoff, KINESIS_MAX_RECORD_SIZE_BYTES};
use crate::metrics::FlowMetrics;

/// The throttling error code of a PutRecords entry.
const THROTTLED_RECORD: &str = "ProvisionedThroughputExceededException";
/// Length of a deterministic partition key (hex MD5).
const DETERMINISTIC_KEY_CHARS: usize = 32;
/// Error codes of a request refused as a whole as invalid: the same request can never succeed.
const INVALID_REQUEST_ERRORS: &[&str] =
    &["ValidationException", "InvalidArgumentException", "SerializationException", "InvalidRequestException"];

/// A record ready to send: its data and (Kinesis) partition key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The data.
    pub data: Bytes,
    /// The partition key (Kinesis only).
    pub partition_key: Option<String>,
}

impl Outgoing {
    /// What the record counts for in the service's size limits: data and key.
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.as_ref().map_or(0, String::len)
    }
}

/// How one request for part of a batch ended.
enum GroupOutcome {
    Acknowledged,
    /// The service refused the request as a whole as invalid.
    Invalid(ClientError),
}

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

/// The partition key of a record.
pub fn partition_key(option: PartitionKeyOption, data: &[u8]) -> String {
    match option {
        PartitionKeyOption::Deterministic => Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect(),
        PartitionKeyOption::Random => format!("{}", rand::thread_rng().gen_range(0.0..1_000_000.0f64)),
    }
}

impl Destination {
    /// Makes `data` a record: chooses its partition key and cuts the data (ending it with
    /// `terminator`) so that it fits `max_record_bytes` and, with the key, the service's
    /// record limit. Returns whether it was cut.
    pub fn outgoing(&self, data: Vec<u8>, max_record_bytes: usize, terminator: &[u8]) -> (Outgoing, bool) {
        let (budget, random_key) = match self {
            Destination::Kinesis { partition_key: PartitionKeyOption::Random, .. } => {
                let key = partition_key(PartitionKeyOption::Random, &[]);
                (KINESIS_MAX_RECORD_SIZE_BYTES - key.len(), Some(key))
            }
            Destination::Kinesis { partition_key: PartitionKeyOption::Deterministic, .. } => {
                (KINESIS_MAX_RECORD_SIZE_BYTES - DETERMINISTIC_KEY_CHARS, None)
            }
            Destination::Firehose { .. } => (usize::MAX, None),
        };
        let budget = budget.min(max_record_bytes);
        let cut = data.len() > budget;
        let data = truncate(data, budget, terminator);
        let partition_key = match self {
            Destination::Kinesis { partition_key: option, .. } => {
                random_key.or_else(|| Some(partition_key(*option, &data)))
            }
            Destination::Firehose { .. } => None,
        };
        (Outgoing { data: Bytes::from(data), partition_key }, cut)
    }

    /// Sends `records` until all are acknowledged (or refused as invalid: see the module
    /// documentation), or the stop signal is raised.
    pub async fn send_all(
        &self,
        records: &[Outgoing],
        retry: &RetryBackoff,
        metrics: &FlowMetrics,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), Interrupted> {
        // Parts of the batch still to send, in order; a refused part is replaced by its halves.
        let mut groups: std::collections::VecDeque<Vec<usize>> = [(0..records.len()).collect()].into();
        while let Some(group) = groups.pop_front() {
            match self.send_group(records, group.clone(), retry, metrics, stop).await? {
                GroupOutcome::Acknowledged => {}
                GroupOutcome::Invalid(error) if group.len() > 1 => {
                    tracing::warn!(%error, records = group.len(), "request refused as invalid; sending it in halves");
                    let (first, second) = group.split_at(group.len() / 2);
                    groups.push_front(second.to_vec());
                    groups.push_front(first.to_vec());
                }
                GroupOutcome::Invalid(error) => {
                    FlowMetrics::add(&metrics.records_refused, 1);
                    let record = &records[group[0]];
                    tracing::error!(%error, bytes = record.size(), "record refused as invalid; dropping it");
                }
            }
        }
        Ok(())
    }

    /// Sends the records at `indexes` until all are acknowledged, or the request is refused
    /// as invalid.
    async fn send_group(
        &self,
        records: &[Outgoing],
        indexes: Vec<usize>,
        retry: &RetryBackoff,
        metrics: &FlowMetrics,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<GroupOutcome, Interrupted> {
        let mut remaining = indexes;
        let mut attempt = 0u32;
        while !remaining.is_empty() {
            if attempt > 0 {
                FlowMetrics::add(&metrics.records_retried, remaining.len() as u64);
                let delay = backoff(retry.initial, retry.max, attempt, &ThreadRandom);
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
                    FlowMetrics::add(&metrics.bytes_sent, done.iter().map(|i| records[*i].data.len() as u64).sum());
                    if !still.is_empty() {
                        tracing::debug!(failed = still.len(), "records refused; sending them again");
                    } else {
                        attempt = 0;
                    }
                    remaining = still;
                }
                Err(error) if error.error_type().is_some_and(|t| INVALID_REQUEST_ERRORS.contains(&t)) => {
                    FlowMetrics::add(&metrics.errors, 1);
                    return Ok(GroupOutcome::Invalid(error));
                }
                Err(error) => {
                    if error.is_throttling() {
                        FlowMetrics::add(&metrics.throttles, 1);
                    } else {
                        FlowMetrics::add(&metrics.errors, 1);
                    }
                    // Other errors that are not retryable (a missing stream, bad keys) are
                    // retried too: the agent must not drop lines, and the operator may fix
                    // the cause.
                    tracing::warn!(%error, retryable = error.is_retryable(), records = remaining.len(), attempt, "put failed; retrying");
                }
            }
        }
        Ok(GroupOutcome::Acknowledged)
    }

    /// One call for the records at `indexes`; returns the failed ones with their codes.
    async fn put(&self, records: &[Outgoing], indexes: &[usize]) -> Result<Vec<(usize, String)>, ClientError> {
        match self {
            Destination::Kinesis { client, stream, .. } => {
                let entries = indexes
                    .iter()
                    .map(|i| k::PutRecordsRequestEntry {
                        partition_key: records[*i].partition_key.clone(),
                        explicit_hash_key: None,
                        data: records[*i].data.clone(),
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
                    records: indexes.iter().map(|i| fh::Record { data: records[*i].data.clone() }).collect(),
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

    #[test]
    fn deterministic_keys_are_the_md5_of_the_data() {
        assert_eq!(partition_key(PartitionKeyOption::Deterministic, b""), "d41d8cd98f00b204e9800998ecf8427e");
        let a = partition_key(PartitionKeyOption::Random, b"x");
        assert!(a.parse::<f64>().is_ok_and(|v| (0.0..1_000_000.0).contains(&v)));
    }

    fn kinesis(option: PartitionKeyOption) -> Destination {
        let client = Kinesis::new(&rheo_client::ClientConfig::local("http://127.0.0.1:9")).unwrap();
        Destination::Kinesis { client: Arc::new(client), stream: "s".into(), partition_key: option }
    }

    #[test]
    fn the_partition_key_counts_in_the_record_limit() {
        for option in [PartitionKeyOption::Deterministic, PartitionKeyOption::Random] {
            let destination = kinesis(option);
            let line = vec![b'z'; KINESIS_MAX_RECORD_SIZE_BYTES];
            let (record, cut) = destination.outgoing(line, KINESIS_MAX_RECORD_SIZE_BYTES, b"~\n");
            assert!(cut, "{option:?}");
            assert!(record.size() <= KINESIS_MAX_RECORD_SIZE_BYTES, "{option:?}: {}", record.size());
            assert!(record.data.ends_with(b"~\n"));
            let key = record.partition_key.unwrap();
            if option == PartitionKeyOption::Deterministic {
                assert_eq!(key, partition_key(option, &record.data), "the key is the MD5 of what is sent");
            }
            // A record that fits with its key is left alone.
            let (small, cut) = destination.outgoing(b"ok\n".to_vec(), KINESIS_MAX_RECORD_SIZE_BYTES, b"~\n");
            assert!(!cut);
            assert_eq!(small.data.as_ref(), b"ok\n");
        }
        // The configured maximum applies when it is the smaller.
        let (record, cut) = kinesis(PartitionKeyOption::Deterministic).outgoing(vec![b'a'; 40], 16, b"~\n");
        assert!(cut);
        assert_eq!(record.data.len(), 16);
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
