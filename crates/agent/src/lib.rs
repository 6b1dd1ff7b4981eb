//! `rheo-agent`: a log shipper with the configuration format of the AWS Kinesis Agent.
//!
//! It follows files matching each flow's pattern through rotation (rename, copytruncate,
//! create), cuts them into records (lines, or multi-line records), applies the flow's data
//! processing options, and sends them to a Kinesis stream (PutRecords) or a Firehose
//! delivery stream (PutRecordBatch) through `rheo-client`, against Rheo or AWS alike. The
//! position in every file is checkpointed durably once its records are acknowledged, so a
//! restart or a crash neither loses a line nor re-sends more than the batch in flight.
//!
//! - [`config`]: the `agent.json` format, validated.
//! - [`rotation`]: which file is which after rotation (pure).
//! - [`assemble`]: lines and multi-line records, header lines, truncation (pure).
//! - [`process`]: SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA.
//! - [`checkpoint`]: the checkpoint file (atomic, checksummed).
//! - [`send`]: batches sent until acknowledged, with back-off.
//! - [`flow`]: one flow's loop; [`Agent`] runs them all.

#![deny(missing_docs)]

pub mod assemble;
pub mod checkpoint;
pub mod config;
pub mod flow;
pub mod metrics;
pub mod process;
pub mod rotation;
pub mod send;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rheo_client::{ClientConfig, Credentials, Firehose, Kinesis};
use tokio::sync::watch;

use crate::checkpoint::{CheckpointError, Checkpoints, FileCheckpoint};
use crate::config::{AgentConfig, Target};
use crate::metrics::FlowMetrics;
use crate::send::Destination;

/// How often every flow's counters are logged.
pub const METRICS_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// Why the agent stopped other than by request.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The checkpoint file could not be read or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A client could not be built.
    #[error("client: {0}")]
    Client(#[from] rheo_client::ClientError),
    /// The stop took longer than `shutdownTimeoutMillis`; the batch in flight is sent again
    /// at the next start.
    #[error("flow {flow}: stopped with {unsent} records unacknowledged (they are sent again at the next start)")]
    Aborted {
        /// The flow.
        flow: String,
        /// Records not acknowledged.
        unsent: usize,
    },
    /// A flow's destination has no client: the clients are built from the same flows, so
    /// this is a broken invariant, reported rather than panicking.
    #[error("flow {flow}: no client was built for its destination")]
    MissingClient {
        /// The flow.
        flow: String,
    },
    /// A flow's task panicked or was cancelled.
    #[error("a flow's task ended abnormally: {0}")]
    FlowTask(#[from] tokio::task::JoinError),
}

/// The checkpoint file, shared by the flows (each owns its entry).
pub struct CheckpointStore {
    path: PathBuf,
    state: tokio::sync::Mutex<Checkpoints>,
}

impl CheckpointStore {
    /// Opens (reads) the checkpoint file.
    pub fn open(path: PathBuf) -> Result<Self, CheckpointError> {
        let state = checkpoint::load(&path)?;
        Ok(CheckpointStore { path, state: tokio::sync::Mutex::new(state) })
    }

    /// A flow's entries as last written.
    pub async fn flow(&self, flow: &str) -> Vec<FileCheckpoint> {
        self.state.lock().await.flows.get(flow).cloned().unwrap_or_default()
    }

    /// Replaces a flow's entries and writes the file durably.
    pub async fn update(&self, flow: &str, entries: Vec<FileCheckpoint>) -> Result<(), CheckpointError> {
        let mut state = self.state.lock().await;
        state.flows.insert(flow.to_owned(), entries);
        let snapshot = state.clone();
        let path = self.path.clone();
        // Holding the lock across the write keeps writers from racing on the temporary file.
        tokio::task::spawn_blocking(move || checkpoint::store(&path, &snapshot)).await.map_err(|e| {
            CheckpointError::Io { path: self.path.clone(), source: std::io::Error::other(e.to_string()) }
        })?
    }
}

/// The agent: every flow of a configuration.
pub struct Agent {
    flows: Vec<flow::Flow>,
    metrics: Vec<(String, Arc<FlowMetrics>)>,
}

impl Agent {
    /// Builds the flows. `base` carries the credentials and region found in the
    /// environment; the configuration's endpoints, region and keys take precedence.
    pub async fn new(config: &AgentConfig, base: ClientConfig) -> Result<Agent, AgentError> {
        let mut base = base;
        if let Some((access_key, secret_key)) = &config.static_credentials {
            base.credentials =
                Credentials { access_key: access_key.clone(), secret_key: secret_key.clone(), session_token: None };
        }
        let mut kinesis_config = base.clone();
        kinesis_config.endpoint = config.kinesis_endpoint.clone().or(base.endpoint.clone());
        if let Some(region) = &config.kinesis_region {
            kinesis_config.region = region.clone();
        }
        let mut firehose_config = base.clone();
        firehose_config.endpoint = config.firehose_endpoint.clone().or(base.endpoint.clone());
        let needs = |kinesis: bool| config.flows.iter().any(|f| matches!(f.target, Target::Kinesis { .. }) == kinesis);
        let kinesis = if needs(true) { Some(Arc::new(Kinesis::new_cbor(&kinesis_config)?)) } else { None };
        let firehose = if needs(false) { Some(Arc::new(Firehose::new(&firehose_config)?)) } else { None };
        let store = Arc::new(CheckpointStore::open(config.checkpoint_file.clone())?);
        let mut flows = Vec::new();
        let mut metrics = Vec::new();
        for flow_config in &config.flows {
            let destination = match (&flow_config.target, &kinesis, &firehose) {
                (Target::Kinesis { stream, partition_key }, Some(client), _) => Destination::Kinesis {
                    client: client.clone(),
                    stream: stream.clone(),
                    partition_key: *partition_key,
                },
                (Target::Firehose { delivery_stream }, _, Some(client)) => {
                    Destination::Firehose { client: client.clone(), delivery_stream: delivery_stream.clone() }
                }
                _ => return Err(AgentError::MissingClient { flow: flow_config.id.clone() }),
            };
            let flow_metrics = Arc::new(FlowMetrics::default());
            metrics.push((flow_config.id.clone(), flow_metrics.clone()));
            let restored = store.flow(&flow_config.id).await;
            flows.push(flow::Flow::new(flow_config.clone(), destination, flow_metrics, store.clone(), restored));
        }
        Ok(Agent { flows, metrics })
    }

    /// Every flow's counters, by flow id.
    pub fn metrics(&self) -> Vec<(String, Arc<FlowMetrics>)> {
        self.metrics.clone()
    }

    /// Runs the flows until `stop` is raised and they have sent what they buffered (or
    /// `abort` is raised). Counters are logged every [`METRICS_LOG_INTERVAL`] and at the end.
    pub async fn run(self, stop: watch::Receiver<bool>, abort: watch::Receiver<bool>) -> Result<(), AgentError> {
        let metrics = self.metrics.clone();
        let mut tasks = tokio::task::JoinSet::new();
        for flow in self.flows {
            tasks.spawn(flow.run(stop.clone(), abort.clone()));
        }
        let mut ticker = tokio::time::interval(METRICS_LOG_INTERVAL);
        ticker.tick().await;
        let mut result = Ok(());
        loop {
            tokio::select! {
                _ = ticker.tick() => log_metrics(&metrics),
                joined = tasks.join_next() => match joined {
                    None => break,
                    Some(Ok(Ok(()))) => {}
                    Some(Ok(Err(error))) => {
                        tracing::error!(%error, "flow stopped");
                        if result.is_ok() { result = Err(error); }
                    }
                    Some(Err(error)) => {
                        if result.is_ok() { result = Err(AgentError::FlowTask(error)); }
                    }
                },
            }
        }
        log_metrics(&metrics);
        result
    }
}

fn log_metrics(metrics: &[(String, Arc<FlowMetrics>)]) {
    for (flow, m) in metrics {
        let get = |c: &std::sync::atomic::AtomicU64| FlowMetrics::get(c);
        let calls = get(&m.put_calls);
        tracing::info!(
            flow = %flow,
            lines_read = get(&m.lines_read),
            bytes_read = get(&m.bytes_read),
            records_sent = get(&m.records_sent),
            bytes_sent = get(&m.bytes_sent),
            records_retried = get(&m.records_retried),
            throttles = get(&m.throttles),
            errors = get(&m.errors),
            records_truncated = get(&m.records_truncated),
            records_unparsed = get(&m.records_unparsed),
            rotations = get(&m.rotations),
            mean_put_latency_micros = get(&m.put_latency_micros).checked_div(calls).unwrap_or(0),
            "agent metrics"
        );
    }
}
