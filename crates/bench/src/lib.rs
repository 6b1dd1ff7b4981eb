//! `rheo bench`: a load generator for any Kinesis-compatible endpoint (Rheo, kinesalite,
//! kinesis-mock, AWS) that speaks only the public wire API: SigV4-signed JSON 1.1 requests
//! over HTTP/1.1 keep-alive connections (or h2c with `--http2`).
//!
//! Modes:
//! * `put` — C connections each with one PutRecords of B records × R bytes in flight, for a
//!   duration after a warm-up (or for a record count); pre-built, pre-hashed bodies.
//! * `get` — fills a fresh stream, then reads everything back with one reader per shard
//!   (TRIM_HORIZON, GetRecords Limit 10000) and reports `missing` = acknowledged − read.
//! * `e2e` — open-loop producer at a fixed rate, records stamped with their scheduled send
//!   time, one poller per shard from LATEST: put→get latency.
//! * `subscribe` — the same producer, consumers over SubscribeToShard (enhanced fan-out):
//!   put→push latency; reported as not supported when the service refuses it.
//! * `queue` — fills an on-demand stream, creates a Kinesis queue on it, then N receivers
//!   each loop ReceiveQueueRecords + AcknowledgeQueueRecords: records/s acknowledged.
//! * `dynamodb-leases` — KCL's lease table on the DynamoDB API: W workers renew N leases
//!   every R ms with KCL's conditional UpdateItem: renewals/s, latency, server CPU.
//! * `producer` — rheo-client's producer (aggregating or not) at full speed into a stream.
//! * `startup` — spawns a server command and times it to the first answered ListStreams,
//!   then its idle RSS; `ready` waits for an endpoint to answer.
//!
//! Each run prints a progress line per second and a summary table on stderr and one JSON
//! line on stdout (appended to `--out` too).
//!
//! ```no_run
//! use clap::Parser;
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     bench: rheo_bench::BenchArgs,
//! }
//! # async fn main_() -> Result<(), rheo_bench::BenchError> {
//! rheo_bench::run(Cli::parse().bench).await
//! # }
//! ```

#![deny(missing_docs)]

pub mod api;
pub mod body;
mod consumer;
mod disk;
mod dynamodb_leases;
mod e2e;
pub mod error;
mod fill;
mod firehose;
mod get;
pub mod http;
pub mod procstat;
pub mod producer;
mod put;
mod queue;
pub mod report;
pub mod server_syncs;
mod startup;
pub mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use rand::Rng;

pub use error::BenchError;
use http::{Client, Endpoint};
use report::Summary;
use rheo_aws::sigv4::{Credentials, Signer};

/// `rheo bench <mode> [options]`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub mode: Mode,
}

/// The benchmarks.
#[derive(Subcommand, Debug, Clone)]
pub enum Mode {
    /// PutRecords throughput: C connections, batches of B records of R bytes.
    Put(PutArgs),
    /// Fill a stream, then read it all back with one GetRecords reader per shard.
    Get(GetArgs),
    /// Put→get latency: fixed-rate producer, one poller per shard from LATEST.
    E2e(E2eArgs),
    /// Put→push latency over SubscribeToShard (enhanced fan-out).
    Subscribe(E2eArgs),
    /// Kinesis queue receive+acknowledge throughput: fill an on-demand stream, then N
    /// receivers loop ReceiveQueueRecords + AcknowledgeQueueRecords.
    Queue(QueueArgs),
    /// KCL lease renewals over the DynamoDB API: W workers renew N leases every R ms.
    DynamodbLeases(DynamoLeasesArgs),
    /// Spawn a server and time it to its first answered ListStreams; then its idle RSS.
    Startup(StartupArgs),
    /// rheo-client's KPL-compatible producer at full speed: user and Kinesis records/s, MB/s,
    /// put→acknowledgement latency.
    Producer(producer::ProducerArgs),
    /// Wait until an endpoint answers ListStreams.
    Ready(ReadyArgs),
    /// rheo-client's KCL-compatible consumer: fill a stream, then one worker reads it all
    /// (polling, then enhanced fan-out): records/s per worker.
    Consumer(ConsumerArgs),
    /// Firehose: PutRecordBatch into a delivery stream, then time its delivery as objects.
    Firehose(FirehoseArgs),
    /// The disk's own fdatasync latency (append, sync, at a fixed rate): the floor under
    /// every durable put. Talks to no service.
    Disk(DiskArgs),
}

/// `consumer` options.
#[derive(Args, Debug, Clone)]
pub struct ConsumerArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Shards of the stream.
    #[arg(short = 's', long, default_value_t = 4)]
    pub shards: u32,
    /// Records to fill the stream with (and read back).
    #[arg(short = 'n', long, default_value_t = 200_000)]
    pub records: u64,
    /// Bytes per record.
    #[arg(short = 'r', long, default_value_t = 100)]
    pub record_bytes: usize,
    /// Connections filling the stream.
    #[arg(short = 'c', long, default_value_t = 8)]
    pub connections: usize,
    /// Cap on the fill's seconds.
    #[arg(long, default_value_t = 300.0)]
    pub fill_secs: f64,
    /// Which retrieval to measure.
    #[arg(long, value_enum, default_value_t = Retrieval::Both)]
    pub retrieval: Retrieval,
    /// GetRecords Limit of the polling worker.
    #[arg(long, default_value_t = 10_000)]
    pub max_records: u32,
    /// Give up a worker's reading after this many seconds.
    #[arg(long, default_value_t = 300.0)]
    pub read_timeout: f64,
}

/// The consumer's retrieval modes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retrieval {
    /// GetRecords polling.
    Polling,
    /// Enhanced fan-out (SubscribeToShard).
    FanOut,
    /// Polling, then fan-out.
    Both,
}

/// `disk` options.
#[derive(Args, Debug, Clone)]
pub struct DiskArgs {
    /// Folder for the probe file (the service's data directory's file system, ideally);
    /// default: the temporary folder.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Appends (each followed by fdatasync) per second.
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// Bytes per append.
    #[arg(short = 'r', long, default_value_t = 1024)]
    pub record_bytes: usize,
    /// Seconds to run.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// A name copied into the output.
    #[arg(long)]
    pub label: Option<String>,
    /// Also append the JSON line to this file.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// No summary table (the JSON line only).
    #[arg(long)]
    pub json_only: bool,
}

/// `firehose` options.
#[derive(Args, Debug, Clone)]
pub struct FirehoseArgs {
    /// Common options (`--stream` names the delivery stream).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Concurrent connections, one request in flight each.
    #[arg(short = 'c', long, default_value_t = 8)]
    pub connections: usize,
    /// Records per PutRecordBatch (1..=500).
    #[arg(short = 'b', long, default_value_t = 500)]
    pub batch: usize,
    /// Bytes per record.
    #[arg(short = 'r', long, default_value_t = 1024)]
    pub record_bytes: usize,
    /// Seconds of producing.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// CompressionFormat of the destination.
    #[arg(long, default_value = "GZIP")]
    pub compression: String,
    /// BufferingHints.SizeInMBs.
    #[arg(long, default_value_t = 64)]
    pub buffer_mib: u32,
    /// BufferingHints.IntervalInSeconds.
    #[arg(long, default_value_t = 1)]
    pub interval_secs: u32,
    /// Bucket of the S3 destination.
    #[arg(long, default_value = "rheo-bench")]
    pub bucket: String,
    /// Seconds to wait after producing for the delivery of every acknowledged record.
    #[arg(long, default_value_t = 120.0)]
    pub drain: f64,
}

/// Options every mode shares.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// The service, e.g. http://127.0.0.1:4567 (https:// uses TLS with the system's roots).
    #[arg(short = 'e', long, env = "RHEO_BENCH_ENDPOINT", default_value = "http://127.0.0.1:4567")]
    pub endpoint: String,
    /// A name for the target, copied into the output (e.g. rheo, kinesalite).
    #[arg(long)]
    pub label: Option<String>,
    /// The server's process id: report its CPU% and RSS (read from /proc).
    #[arg(long)]
    pub pid: Option<u32>,
    /// Speak HTTP/2 (h2c by prior knowledge; ALPN h2 over TLS).
    #[arg(long)]
    pub http2: bool,
    /// Region to sign for.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Access key to sign with.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "AKIDRHEOBENCH", hide_env_values = true)]
    pub access_key: String,
    /// Secret key to sign with.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", default_value = "rheo-bench-secret", hide_env_values = true)]
    pub secret_key: String,
    /// Session token (sent as x-amz-security-token).
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    pub session_token: Option<String>,
    /// Stream to use: created if missing, reused if present (default: a fresh
    /// rheo-bench-MODE-RANDOM stream, deleted afterwards).
    #[arg(long)]
    pub stream: Option<String>,
    /// Do not delete the stream this run created.
    #[arg(long)]
    pub keep: bool,
    /// Also append the JSON line to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress lines.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// No summary table (the JSON line only).
    #[arg(long)]
    pub json_only: bool,
    /// Seconds before a request is abandoned.
    #[arg(long, default_value_t = 60.0)]
    pub request_timeout: f64,
}

/// `put` options.
#[derive(Args, Debug, Clone)]
pub struct PutArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Shards of the stream.
    #[arg(short = 's', long, default_value_t = 4)]
    pub shards: u32,
    /// Concurrent connections, one request in flight each.
    #[arg(short = 'c', long, default_value_t = 8)]
    pub connections: usize,
    /// Records per PutRecords (1..=500).
    #[arg(short = 'b', long, default_value_t = 500)]
    pub batch: usize,
    /// Bytes per record.
    #[arg(short = 'r', long, default_value_t = 1000)]
    pub record_bytes: usize,
    /// Measured seconds.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Send this many records instead (no warm-up; waits for every answer).
    #[arg(short = 'n', long)]
    pub records: Option<u64>,
    /// Distinct pre-built bodies (capped at 256 MB in total); each brings B random
    /// partition keys, so raise it for streams with many shards.
    #[arg(long, default_value_t = 64)]
    pub bodies: usize,
}

/// How a read-side run (`get`, `queue`) fills its stream first.
#[derive(Args, Debug, Clone)]
pub struct FillArgs {
    /// Connections filling the stream.
    #[arg(short = 'c', long, default_value_t = 8)]
    pub connections: usize,
    /// Records per PutRecords while filling.
    #[arg(short = 'b', long, default_value_t = 100)]
    pub batch: usize,
    /// Bytes per record.
    #[arg(short = 'r', long, default_value_t = 1000)]
    pub record_bytes: usize,
    /// Records to put before reading.
    #[arg(long = "fill", default_value_t = 100_000)]
    pub records: u64,
    /// Stop filling after this many seconds even if --fill is not reached.
    #[arg(long, default_value_t = 20.0)]
    pub fill_secs: f64,
    /// Distinct pre-built bodies for the fill.
    #[arg(long, default_value_t = 64)]
    pub bodies: usize,
}

/// `get` options.
#[derive(Args, Debug, Clone)]
pub struct GetArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// How the stream is filled.
    #[command(flatten)]
    pub fill: FillArgs,
    /// Shards of the stream.
    #[arg(short = 's', long, default_value_t = 4)]
    pub shards: u32,
    /// GetRecords Limit.
    #[arg(short = 'l', long, default_value_t = 10_000)]
    pub limit: u32,
    /// Most readers running at once (one per shard).
    #[arg(long, default_value_t = 64)]
    pub readers: usize,
    /// Give up reading after this many seconds.
    #[arg(long, default_value_t = 120.0)]
    pub read_timeout: f64,
    /// Do not fill: read back the existing stream --stream names as it is (e.g. one whose
    /// older segments only the archive holds, after a restart with a cold cache).
    #[arg(long, requires = "stream")]
    pub no_fill: bool,
    /// With --no-fill: the records the stream holds, to report missing ones.
    #[arg(long, requires = "no_fill")]
    pub expect: Option<u64>,
}

/// `e2e` and `subscribe` options.
#[derive(Args, Debug, Clone)]
pub struct E2eArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Shards of the stream.
    #[arg(short = 's', long, default_value_t = 4)]
    pub shards: u32,
    /// Producer connections.
    #[arg(short = 'c', long, default_value_t = 4)]
    pub connections: usize,
    /// Offered records per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Records per PutRecords.
    #[arg(short = 'b', long, default_value_t = 10)]
    pub batch: usize,
    /// Bytes per record (at least 16: the first 8 carry the send-time stamp).
    #[arg(short = 'r', long, default_value_t = 100)]
    pub record_bytes: usize,
    /// Seconds of producing.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// Poller sleep after an empty GetRecords, ms.
    #[arg(long, default_value_t = 10)]
    pub poll_ms: u64,
    /// GetRecords Limit.
    #[arg(short = 'l', long, default_value_t = 10_000)]
    pub limit: u32,
    /// Batches waiting for a free connection before one is skipped.
    #[arg(long, default_value_t = 8)]
    pub queue: usize,
    /// Seconds to wait after producing for the last records to show up.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
}

/// `queue` options.
#[derive(Args, Debug, Clone)]
pub struct QueueArgs {
    /// Common options (`--stream` names the on-demand stream).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Concurrent receivers, each on its own connection.
    #[arg(long, default_value_t = 1)]
    pub receivers: usize,
    /// ReceiveQueueRecords Limit (1..=10).
    #[arg(short = 'l', long, default_value_t = 10)]
    pub limit: u32,
    /// ReceiveQueueRecords WaitTimeSeconds (1..=20): how long a receive that finds nothing waits.
    #[arg(long, default_value_t = 1)]
    pub wait_secs: u32,
    /// The queue's VisibilityTimeoutSeconds.
    #[arg(long, default_value_t = 30)]
    pub visibility_secs: u32,
    /// Measured seconds at most (the run ends earlier once every filled record is acknowledged).
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// How the on-demand stream is filled.
    #[command(flatten)]
    pub fill: FillArgs,
}

/// `dynamodb-leases` options.
#[derive(Args, Debug, Clone)]
pub struct DynamoLeasesArgs {
    /// Common options (`--stream` names the lease table; default a fresh one, deleted
    /// afterwards).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Leases in the table.
    #[arg(long, default_value_t = 4000)]
    pub leases: usize,
    /// Workers, each owning every W-th lease.
    #[arg(short = 'w', long, default_value_t = 8)]
    pub workers: usize,
    /// Connections per worker renewing its leases in parallel (KCL renews on a thread pool).
    #[arg(short = 'c', long, default_value_t = 4)]
    pub connections: usize,
    /// Each worker renews all its leases every this many ms (KCL: failover time / 3).
    #[arg(long, default_value_t = 3333)]
    pub renew_ms: u64,
    /// Measured seconds (after one renewal interval of warm-up).
    #[arg(short = 'd', long, default_value_t = 30.0)]
    pub duration: f64,
}

/// `startup` options.
#[derive(Args, Debug, Clone)]
pub struct StartupArgs {
    /// Common options (the endpoint is where the spawned server will answer).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Starts to time (median reported). `{tmpdir}` in the command becomes a fresh empty
    /// directory for each start.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// After the first start, wait this long and read the idle RSS (0: skip).
    #[arg(long, default_value_t = 2.0)]
    pub idle_secs: f64,
    /// Give up on a start after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// The server command and its arguments (after `--`).
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// `ready` options.
#[derive(Args, Debug, Clone)]
pub struct ReadyArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
}

/// What a run needs besides its mode's options.
pub(crate) struct Ctx {
    pub(crate) common: CommonArgs,
    pub(crate) endpoint: Arc<Endpoint>,
    signer: Signer,
}

impl Ctx {
    fn new(common: &CommonArgs) -> Result<Self, BenchError> {
        if common.request_timeout.is_nan() || common.request_timeout <= 0.0 {
            return Err(BenchError::Args("--request-timeout must be positive".into()));
        }
        let endpoint =
            Arc::new(Endpoint::parse(&common.endpoint, common.http2, Duration::from_secs_f64(common.request_timeout))?);
        let signer = Signer::new(
            Credentials {
                access_key: common.access_key.clone(),
                secret_key: common.secret_key.clone(),
                session_token: common.session_token.clone(),
            },
            &common.region,
            "kinesis",
        );
        Ok(Ctx { common: common.clone(), endpoint, signer })
    }

    /// A new (unconnected) client.
    pub(crate) fn client(&self) -> Client {
        Client::new(self.endpoint.clone(), self.signer.clone())
    }

    /// A new client signing for another service (e.g. `firehose`).
    pub(crate) fn client_for(&self, service: &str) -> Client {
        let signer = Signer::new(
            Credentials {
                access_key: self.common.access_key.clone(),
                secret_key: self.common.secret_key.clone(),
                session_token: self.common.session_token.clone(),
            },
            &self.common.region,
            service,
        );
        Client::new(self.endpoint.clone(), signer)
    }

    pub(crate) fn stream_name(&self, mode: &str) -> String {
        match &self.common.stream {
            Some(name) => name.clone(),
            None => format!("rheo-bench-{mode}-{:08x}", rand::thread_rng().gen::<u32>()),
        }
    }

    pub(crate) fn control_timeout(&self) -> Duration {
        Duration::from_secs(300)
    }

    /// Deletes the stream if this run created it (errors are reported, not fatal).
    pub(crate) async fn cleanup(&self, control: &mut Client, stream: &api::StreamHandle, consumers: bool) {
        if !stream.created || self.common.keep {
            return;
        }
        if let Err(e) = api::delete_stream(control, &stream.name, consumers, Duration::from_secs(60)).await {
            eprintln!("warning: could not delete stream {}: {e}", stream.name);
        }
    }

    pub(crate) fn summary(&self, mode: &'static str) -> Summary {
        Summary {
            mode,
            label: self.common.label.clone(),
            endpoint: self.common.endpoint.clone(),
            http2: self.common.http2,
            ..Default::default()
        }
    }

    /// A progress line (unless quiet).
    pub(crate) fn progress(&self, line: &str) {
        if !self.common.quiet {
            eprintln!("{line}");
        }
    }

    /// A note (unless quiet).
    pub(crate) fn say(&self, line: &str) {
        if !self.common.quiet {
            eprintln!("{line}");
        }
    }

    fn emit(&self, summary: &Summary) -> Result<serde_json::Value, BenchError> {
        let json = summary.to_json();
        let table = summary.table();
        report::emit(&json, (!self.common.json_only).then_some(table.as_str()), self.common.out.as_deref())?;
        Ok(json)
    }
}

/// Runs a benchmark, printing progress and the summary table on stderr and the JSON line
/// on stdout.
pub async fn run(args: BenchArgs) -> Result<(), BenchError> {
    execute(args).await.map(|_| ())
}

/// [`run`], also returning the JSON object it printed.
pub async fn execute(args: BenchArgs) -> Result<serde_json::Value, BenchError> {
    match &args.mode {
        Mode::Put(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = put::run(&ctx, a).await?;
            ctx.emit(&summary)
        }
        Mode::Get(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = get::run(&ctx, a).await?;
            ctx.emit(&summary)
        }
        Mode::E2e(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = e2e::run(&ctx, a, e2e::Consumer::Poll).await?;
            ctx.emit(&summary)
        }
        Mode::Subscribe(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = e2e::run(&ctx, a, e2e::Consumer::Subscribe).await?;
            ctx.emit(&summary)
        }
        Mode::Queue(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = queue::run(&ctx, a).await?;
            ctx.emit(&summary)
        }
        Mode::DynamodbLeases(a) => {
            let ctx = Arc::new(Ctx::new(&a.common)?);
            let summary = dynamodb_leases::run(ctx.clone(), a).await?;
            ctx.emit(&summary)
        }
        Mode::Consumer(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = consumer::run(&ctx, a).await?;
            ctx.emit(&summary)
        }
        Mode::Startup(a) => {
            let ctx = Ctx::new(&a.common)?;
            startup::run(&ctx, a).await
        }
        Mode::Ready(a) => {
            let ctx = Ctx::new(&a.common)?;
            startup::ready(&ctx, Duration::from_secs_f64(a.timeout.max(0.0))).await
        }
        Mode::Firehose(a) => {
            let ctx = Ctx::new(&a.common)?;
            let summary = firehose::run(&ctx, a).await?;
            ctx.emit(&summary)
        }
        Mode::Disk(a) => disk::run(a).await,
        Mode::Producer(a) => producer::run(&Ctx::new(&a.common)?, a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    #[test]
    fn command_line_parses() {
        let cli = Cli::try_parse_from([
            "rheo",
            "put",
            "--endpoint",
            "http://127.0.0.1:1",
            "-s",
            "4",
            "-c",
            "8",
            "-b",
            "500",
            "-r",
            "1000",
            "-d",
            "3",
            "--warmup",
            "1",
            "--pid",
            "42",
        ])
        .unwrap();
        match cli.bench.mode {
            Mode::Put(p) => {
                assert_eq!((p.shards, p.connections, p.batch, p.record_bytes), (4, 8, 500, 1000));
                assert_eq!(p.common.pid, Some(42));
                assert_eq!(p.duration, 3.0);
            }
            other => panic!("{other:?}"),
        }
        let cli =
            Cli::try_parse_from(["rheo", "startup", "-e", "http://127.0.0.1:1", "--", "rheo", "serve", "--x"]).unwrap();
        match cli.bench.mode {
            Mode::Startup(s) => assert_eq!(s.command, ["rheo", "serve", "--x"]),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["rheo", "e2e", "--rate", "1000", "--poll-ms", "10"]).is_ok());
        assert!(Cli::try_parse_from(["rheo", "subscribe", "--http2"]).is_ok());
        let cli = Cli::try_parse_from(["rheo", "dynamodb-leases", "--leases", "100", "-w", "2", "--renew-ms", "500"])
            .unwrap();
        match cli.bench.mode {
            Mode::DynamodbLeases(l) => assert_eq!((l.leases, l.workers, l.connections, l.renew_ms), (100, 2, 4, 500)),
            other => panic!("{other:?}"),
        }
    }
}
