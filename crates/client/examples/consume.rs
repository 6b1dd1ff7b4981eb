//! How to write a worker of a KCL application with rheo-client: this one appends every user
//! record it processes to a file (or stdout) as a JSON line
//! `{"shard", "sequence_number", "sub_sequence_number", "partition_key", "data_base64"}`,
//! checkpoints after each batch, and on SIGTERM or Ctrl-C shuts down gracefully (its
//! checkpoints stand, its leases are released for the next worker).
//!
//! Its leases and checkpoints live in the lease table named after the application, in the Java
//! KCL's schema: a Java KCL worker of the same application can take over where this one stopped,
//! and the other way round.
//!
//! ```text
//! cargo run -p rheo-client --example consume -- \
//!     --endpoint http://127.0.0.1:4567 --application my-app --stream my-stream \
//!     --initial-position trim-horizon --output records.jsonl
//! ```
//!
//! Without `--endpoint` it talks to AWS itself (region and credentials the AWS CLI's way).

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use clap::{Parser, ValueEnum};
use parking_lot::Mutex;
use rheo_client::consumer::{
    Checkpointer, ConsumedRecord, ConsumerError, InitialPosition, InitializeInput, ProcessRecordsInput,
    ProcessorFactory, RecordProcessor, RetrievalConfig, Worker, WorkerConfig,
};
use rheo_client::{ClientConfig, SystemEnvironment};
use rheo_protocol::Timestamp;
use tokio::sync::watch;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "A worker of a KCL application that appends each user record to a file as a JSON line")]
struct Args {
    /// The endpoint of Kinesis and DynamoDB (Rheo, e.g. http://127.0.0.1:4567). Default: AWS.
    #[arg(long)]
    endpoint: Option<String>,
    /// The profile of the AWS shared credentials and config files.
    #[arg(long)]
    profile: Option<String>,
    /// The application's name, which is also its lease table's name.
    #[arg(long)]
    application: String,
    /// The stream.
    #[arg(long)]
    stream: String,
    /// This worker's id in the lease table. Default: a random one.
    #[arg(long)]
    worker_id: Option<String>,
    /// Where shards without a checkpoint start: latest, trim-horizon, or a time in seconds since
    /// the Unix epoch.
    #[arg(long, default_value = "latest", value_parser = parse_initial_position)]
    initial_position: InitialPosition,
    /// How records are read.
    #[arg(long, value_enum, default_value_t = Retrieval::Polling)]
    retrieval: Retrieval,
    /// The file to append the records to. Default: stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// The lease duration: a lease not renewed for this long may be taken by another worker.
    #[arg(long)]
    failover_time_ms: Option<u64>,
    /// With polling, the pause after a read that found nothing new.
    #[arg(long)]
    idle_time_ms: Option<u64>,
    /// How often the stream's shards are compared with the leases.
    #[arg(long)]
    shard_sync_interval_ms: Option<u64>,
    /// How often a child shard checks whether its parents are finished.
    #[arg(long)]
    parent_shard_poll_interval_ms: Option<u64>,
    /// Stop after this many user records in all, checkpointed exactly at the last one (the
    /// records delivered after it are left to the next worker).
    #[arg(long)]
    stop_after: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Retrieval {
    /// GetRecords in a loop.
    Polling,
    /// Enhanced fan-out (a stream consumer named after the application, SubscribeToShard).
    FanOut,
}

fn parse_initial_position(text: &str) -> Result<InitialPosition, String> {
    match text {
        "latest" => Ok(InitialPosition::Latest),
        "trim-horizon" => Ok(InitialPosition::TrimHorizon),
        seconds => seconds
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .map(|s| InitialPosition::AtTimestamp(Timestamp::from_epoch_seconds_f64(s)))
            .ok_or_else(|| format!("{text:?} is not latest, trim-horizon or seconds since the epoch")),
    }
}

/// Where the JSON lines go, shared by the shards' processors. Each batch is written with one
/// `write_all` under the lock, so lines of different shards never interleave.
type Output = Arc<Mutex<Box<dyn Write + Send>>>;

/// What the shards' processors share besides the output: how many user records may still be
/// processed (`u64::MAX`: no limit), whether writing failed, and the way they stop the worker.
struct Progress {
    remaining: AtomicU64,
    write_failed: AtomicBool,
    stop: watch::Sender<bool>,
}

impl Progress {
    /// Takes up to `wanted` records from the budget; returns how many were granted, and stops
    /// the worker when that spends the budget.
    fn take(&self, wanted: usize) -> usize {
        let wanted = u64::try_from(wanted).unwrap_or(u64::MAX);
        let previous = self
            .remaining
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| Some(left.saturating_sub(wanted)))
            .unwrap_or(0);
        if previous > 0 && previous <= wanted {
            tracing::info!("Record budget spent: shutting down.");
            self.stop.send_replace(true);
        }
        usize::try_from(previous.min(wanted)).unwrap_or(usize::MAX)
    }

    /// A batch could not be written. Later batches must not be checkpointed either (their
    /// checkpoint would cover the lost one), so the worker stops and the process fails.
    fn fail(&self) {
        self.write_failed.store(true, Ordering::Release);
        self.stop.send_replace(true);
    }

    fn failed(&self) -> bool {
        self.write_failed.load(Ordering::Acquire)
    }
}

/// One shard's processor.
struct JsonLinesProcessor {
    shard_id: String,
    output: Output,
    progress: Arc<Progress>,
}

impl JsonLinesProcessor {
    fn write(&self, records: &[ConsumedRecord]) -> std::io::Result<()> {
        let mut text = String::new();
        for record in records {
            let line = serde_json::json!({
                "shard": record.shard_id,
                "sequence_number": record.sequence_number.as_str(),
                // As the KCL reports it: 0 for a record that is not a KPL aggregate.
                "sub_sequence_number": record.sub_sequence_number.unwrap_or(0),
                "partition_key": record.partition_key,
                "data_base64": base64::engine::general_purpose::STANDARD.encode(&record.data),
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        let mut output = self.output.lock();
        output.write_all(text.as_bytes())?;
        output.flush()
    }
}

impl RecordProcessor for JsonLinesProcessor {
    async fn initialize(&mut self, input: InitializeInput) {
        tracing::info!(shard = %self.shard_id, checkpoint = %input.extended_sequence_number, "Processing shard.");
    }

    async fn process_records(&mut self, input: ProcessRecordsInput, checkpointer: &Checkpointer) {
        if self.progress.failed() {
            return;
        }
        let granted = self.progress.take(input.records.len());
        let Some(processed) = input.records.get(..granted) else { return };
        let Some(last) = processed.last() else { return };
        if let Err(error) = self.write(processed) {
            // Not checkpointed: the batch comes again to whoever processes the shard next.
            tracing::error!(shard = %self.shard_id, %error, "Could not write the records: stopping.");
            self.progress.fail();
            return;
        }
        // After the write, never before: a crash in between repeats the batch rather than lose it.
        match checkpointer.checkpoint_record(last).await {
            Ok(()) => {}
            Err(ConsumerError::LeaseLost { .. }) => {
                tracing::info!(shard = %self.shard_id, "Lease lost: another worker goes on from the last checkpoint.");
            }
            Err(error) => tracing::warn!(shard = %self.shard_id, %error, "Checkpoint failed."),
        }
    }

    async fn lease_lost(&mut self) {
        tracing::info!(shard = %self.shard_id, "Lease lost.");
    }

    async fn shard_ended(&mut self, checkpointer: &Checkpointer) {
        // Checkpointing the end lets the shard's children start.
        if let Err(error) = checkpointer.checkpoint().await {
            tracing::warn!(shard = %self.shard_id, %error, "Could not checkpoint the shard's end.");
        }
    }

    async fn shutdown_requested(&mut self, _checkpointer: &Checkpointer) {
        // Every written batch is already checkpointed, so there is nothing left to record.
        tracing::info!(shard = %self.shard_id, "Shutting down.");
    }
}

struct Factory {
    output: Output,
    progress: Arc<Progress>,
}

impl ProcessorFactory for Factory {
    type Processor = JsonLinesProcessor;

    fn create(&self, shard_id: &str) -> JsonLinesProcessor {
        JsonLinesProcessor {
            shard_id: shard_id.to_owned(),
            output: self.output.clone(),
            progress: self.progress.clone(),
        }
    }
}

fn worker_config(args: &Args) -> WorkerConfig {
    let mut config = WorkerConfig::new(&args.application, &args.stream);
    if let Some(failover) = args.failover_time_ms {
        config = config.with_failover_time(Duration::from_millis(failover));
    }
    if let Some(id) = &args.worker_id {
        config.worker_id = id.clone();
    }
    config.initial_position = args.initial_position;
    config.retrieval = match args.retrieval {
        Retrieval::FanOut => RetrievalConfig::FanOut { consumer_name: args.application.clone() },
        Retrieval::Polling => match (RetrievalConfig::polling(), args.idle_time_ms) {
            (RetrievalConfig::Polling { max_records, .. }, Some(idle)) => {
                RetrievalConfig::Polling { max_records, idle_time: Duration::from_millis(idle) }
            }
            (polling, _) => polling,
        },
    };
    if let Some(interval) = args.shard_sync_interval_ms {
        config.shard_sync_interval = Duration::from_millis(interval);
    }
    if let Some(interval) = args.parent_shard_poll_interval_ms {
        config.parent_shard_poll_interval = Duration::from_millis(interval);
    }
    config
}

/// Completes on SIGTERM, Ctrl-C, or when a processor stops the worker.
async fn shutdown_signal(mut stop: watch::Receiver<bool>) {
    let stopped = async {
        // An error means the sender is gone, which cannot happen while the worker runs.
        let _ = stop.wait_for(|stop| *stop).await;
    };
    #[cfg(unix)]
    let terminated = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "Cannot listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminated = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("Interrupted: shutting down."),
        () = terminated => tracing::info!("Terminated: shutting down."),
        () = stopped => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();

    let client = ClientConfig::resolve(args.endpoint.as_deref(), args.profile.as_deref(), &SystemEnvironment)
        .context("resolving the endpoint, region and credentials")?;
    let output: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let (stop, stop_changes) = watch::channel(false);
    let progress = Arc::new(Progress {
        remaining: AtomicU64::new(args.stop_after.unwrap_or(u64::MAX)),
        write_failed: AtomicBool::new(false),
        stop,
    });
    let factory = Factory { output: Arc::new(Mutex::new(output)), progress: progress.clone() };

    let worker = Worker::new(&client, worker_config(&args), factory)?;
    worker.run(shutdown_signal(stop_changes)).await?;
    let metrics = worker.metrics();
    tracing::info!(
        records = metrics.shards.values().map(|shard| shard.records_processed).sum::<u64>(),
        leases_taken = metrics.leases_taken,
        aggregates_dropped = metrics.aggregates_dropped,
        "Worker stopped."
    );
    if progress.failed() {
        anyhow::bail!("records could not be written (see the log); the next worker processes them again");
    }
    Ok(())
}
