//! The `rheo` binary: `rheo serve` runs the Kinesis Data Streams API over a durable
//! shard log, with Firehose, Analytics and the DynamoDB API that KCL needs on the same port.

mod agent;
mod alloc_tuning;
mod archive;
mod cli;
mod keys;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use rheo_analytics::service::{Analytics, AnalyticsConfig};
use rheo_dynamodb::store::{StoreConfig, StoreLocation};
use rheo_dynamodb::{DynamoDb, DynamoDbConfig};
use rheo_engine::{Engine, EngineConfig};
use rheo_firehose::channel::Channels;
use rheo_firehose::dest::s3::ObjectStoreConfig;
use rheo_firehose::Firehose;
use rheo_server::auth::{AuthFiles, AuthReloader, Authenticator, Identities};
use rheo_server::reload::{Reload, ReloadHooks};
use rheo_server::services::{AnalyticsService, DynamoDbService, FirehoseService};
use rheo_server::{load_tls, ConnectionLimits, Server, SubscriptionConfig, TlsFiles};
use rheo_storage::{Durability, FileSystem, LogConfig, MemFs, RecoveryMode, StdFs, SystemClock};

#[derive(Parser)]
#[command(name = "rheo", version, about = "A self-hosted, AWS-compatible Kinesis Data Streams server.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Shown after `rheo serve --help`: what is configured outside the flags.
const SERVE_AFTER_HELP: &str = "\
Logging:
  RHEO_LOG sets what is logged, in tracing's EnvFilter syntax (default: info), e.g.
  RHEO_LOG=debug or RHEO_LOG=info,rheo_server=debug. Logs go to stderr, coloured only
  when stderr is a terminal (and NO_COLOR is unset).";

/// Open-file limit to ask for when the hard limit is unlimited (Linux caps it at
/// `fs.nr_open`, 1,048,576 by default).
const NOFILE_TARGET_WHEN_UNLIMITED: u64 = 1 << 20;

// Parsed once at start; the size of the serve flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the Kinesis Data Streams API.
    #[command(after_help = SERVE_AFTER_HELP)]
    Serve(ServeArgs),
    /// Measure any Kinesis-compatible endpoint (Rheo, kinesalite, kinesis-mock, AWS).
    Bench(rheo_bench::BenchArgs),
    /// List, create and rotate the keys encrypted streams are sealed with.
    Keys(keys::KeysArgs),
    /// List the streams: name, status, mode, open shards, retention.
    Streams(cli::StreamsArgs),
    /// Create a stream (and wait until it is ACTIVE when run on a terminal).
    Create(cli::CreateArgs),
    /// Show a stream's summary and its shards (ids, parents, hash ranges, open or closed).
    Describe(cli::DescribeArgs),
    /// Print a stream's records as they arrive, from every shard, through resharding.
    Tail(cli::TailArgs),
    /// Delete a stream.
    Delete(cli::DeleteArgs),
    /// Put one record per line of standard input.
    Put(cli::put::PutArgs),
    /// Ship log files to streams, with the Kinesis Agent's configuration format.
    Agent(agent::AgentArgs),
    /// Evaluate Firehose jq queries for a server (started by `serve`, never by hand).
    #[command(hide = true)]
    JqWorker,
}

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    /// Acknowledge writes once they are on disk (fdatasync). The default.
    Sync,
    /// Acknowledge writes once the operating system has them and sync every
    /// --sync-interval-ms. WEAKER: a machine crash or power loss can lose up to that much
    /// acknowledged data (a process crash loses nothing).
    Relaxed,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuthArg {
    /// Check only that requests carry a signature of the right shape; any key is accepted.
    None,
    /// Verify every request's AWS Signature Version 4 against --credentials.
    Sigv4,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (HTTP/1.1 and HTTP/2 prior knowledge on the same port).
    #[arg(long, env = "RHEO_LISTEN", default_value = "127.0.0.1:4567")]
    listen: SocketAddr,
    /// Folder for the log, metadata and the token key.
    #[arg(long, env = "RHEO_DATA_DIR", default_value = "./rheo-data")]
    data_dir: PathBuf,
    /// Folder of the key store encrypted streams are sealed with (default: the data
    /// folder's `keys`). Keep it apart from the data, and out of its backups, so that a
    /// copy of the data alone reveals no encrypted record.
    #[arg(long, env = "RHEO_KEY_DIR")]
    key_dir: Option<PathBuf>,
    /// Keep everything in memory (nothing survives a restart).
    #[arg(long, env = "RHEO_IN_MEMORY")]
    in_memory: bool,
    /// Region shown in ARNs.
    #[arg(long, env = "RHEO_REGION", default_value = "us-east-1")]
    region: String,
    /// 12-digit account id shown in ARNs and messages.
    #[arg(long, env = "RHEO_ACCOUNT_ID", default_value = "000000000000")]
    account_id: String,
    /// When writes are acknowledged.
    #[arg(long, env = "RHEO_DURABILITY", value_enum, default_value = "sync")]
    durability: DurabilityArg,
    /// Sync interval of --durability relaxed, in milliseconds.
    #[arg(long, env = "RHEO_SYNC_INTERVAL_MS", default_value_t = 100)]
    sync_interval_ms: u64,
    /// At start-up, verify every segment and cut exactly the damaged ranges (their records
    /// are lost, everything valid around them is kept) instead of refusing to start.
    #[arg(long, env = "RHEO_RECOVER_TRUNCATE")]
    recover_truncate: bool,
    /// Size at which a log segment file is sealed and the next begun. Retention deletes
    /// whole segments, and the background scrub verifies sealed ones.
    #[arg(long, env = "RHEO_SEGMENT_BYTES", default_value_t = rheo_storage::limits::SEGMENT_BYTES_DEFAULT,
          value_parser = clap::value_parser!(u64).range(4096..))]
    segment_bytes: u64,
    /// How long a new stream stays CREATING.
    #[arg(long, env = "RHEO_CREATE_STREAM_MS", default_value_t = 500)]
    create_stream_ms: u64,
    /// How long a deleted stream stays DELETING.
    #[arg(long, env = "RHEO_DELETE_STREAM_MS", default_value_t = 500)]
    delete_stream_ms: u64,
    /// How long a stream stays UPDATING after resharding or a mode/encryption change.
    #[arg(long, env = "RHEO_UPDATE_STREAM_MS", default_value_t = 500)]
    update_stream_ms: u64,
    /// How long a consumer stays CREATING (or DELETING after deregistration).
    #[arg(long, env = "RHEO_CONSUMER_MS", default_value_t = 500)]
    consumer_ms: u64,
    /// Enforce AWS's limits: per-shard throughput (1 MiB/s and 1000 records/s written, 5
    /// reads/s and 2 MiB/s read) with ProvisionedThroughputExceededException, 2 MiB/s per
    /// enhanced fan-out consumer and shard (SubscribeToShard events slow down), the
    /// documented rate of each control-plane operation ("Rate exceeded",
    /// LimitExceededException), at most 5 streams CREATING or DELETING at once and 25
    /// encryption changes per stream and day.
    #[arg(long, env = "RHEO_ENFORCE_LIMITS")]
    enforce_limits: bool,
    /// Account shard quota (open shards over all streams).
    #[arg(long, env = "RHEO_SHARD_LIMIT", default_value_t = rheo_engine::limits::SHARD_LIMIT_DEFAULT)]
    shard_limit: u32,
    /// Registered consumers per stream.
    #[arg(long, env = "RHEO_CONSUMER_LIMIT", default_value_t = rheo_engine::limits::CONSUMER_LIMIT_DEFAULT)]
    consumer_limit: u32,
    /// How long a SubscribeToShard subscription lasts before its stream ends (AWS: 5 minutes).
    #[arg(long, env = "RHEO_SUBSCRIPTION_LIFETIME_MS", default_value_t = 300_000)]
    subscription_lifetime_ms: u64,
    /// A SubscribeToShard subscription gets an event at least this often, with or without
    /// records (AWS: 5 s).
    #[arg(long, env = "RHEO_SUBSCRIPTION_HEARTBEAT_MS", default_value_t = 5_000)]
    subscription_heartbeat_ms: u64,
    /// Folder holding the buckets of Firehose's S3 destinations when no --s3-endpoint is
    /// given (default: `<data-dir>/buckets`, also with --in-memory).
    #[arg(long, env = "RHEO_S3_DIR")]
    s3_dir: Option<PathBuf>,
    /// An S3-compatible endpoint (path-style) for Firehose's S3 destinations and an s3://
    /// --archive; credentials come from the usual AWS environment variables.
    #[arg(long, env = "RHEO_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// How long a new delivery stream stays CREATING, and a deleted one DELETING.
    #[arg(long, env = "RHEO_FIREHOSE_LIFECYCLE_MS", default_value_t = 500)]
    firehose_lifecycle_ms: u64,
    /// How long delivery stream encryption stays ENABLING or DISABLING.
    #[arg(long, env = "RHEO_FIREHOSE_ENCRYPTION_MS", default_value_t = 500)]
    firehose_encryption_ms: u64,
    /// How long a Firehose buffer waits before delivery when its delivery stream was created
    /// without BufferingHints (AWS's default, 300000, is the most). Only that wait changes:
    /// DescribeDeliveryStream still shows AWS's default IntervalInSeconds 300, and streams
    /// given BufferingHints (even 300 s) wait as they asked.
    #[arg(long, env = "RHEO_FIREHOSE_DEFAULT_BUFFER_INTERVAL_MS",
          default_value_t = rheo_firehose::limits::BUFFER_INTERVAL_MS_DEFAULT,
          value_parser = parse_default_buffer_interval_ms)]
    firehose_default_buffer_interval_ms: u64,
    /// Delivery streams per account.
    #[arg(long, env = "RHEO_FIREHOSE_STREAM_LIMIT", default_value_t = rheo_firehose::limits::DELIVERY_STREAM_LIMIT_DEFAULT)]
    firehose_stream_limit: u32,
    /// Deflate level (0-9) of Firehose's GZIP objects: 1 is about three times faster than
    /// the default 6 for somewhat larger objects.
    #[arg(long, env = "RHEO_FIREHOSE_GZIP_LEVEL", default_value_t = rheo_firehose::compress::GZIP_LEVEL_DEFAULT,
          value_parser = clap::value_parser!(u32).range(0..=9))]
    firehose_gzip_level: u32,
    /// How long an Analytics application stays STARTING, STOPPING, UPDATING or DELETING
    /// before its next status (0: at once, for tests).
    #[arg(long, env = "RHEO_ANALYTICS_TRANSITION_MS", default_value_t = 1_000)]
    analytics_transition_ms: u64,
    /// Analytics applications per account (AWS's default quota).
    #[arg(long, env = "RHEO_ANALYTICS_APPLICATION_LIMIT",
          default_value_t = rheo_analytics::limits::APPLICATIONS_PER_ACCOUNT_DEFAULT)]
    analytics_application_limit: usize,
    /// How long a new DynamoDB table stays CREATING (CreateTable answers CREATING either
    /// way). 0 because KCL and boto3's waiters poll DescribeTable every 10 to 20 s, so any
    /// wait costs a whole poll.
    #[arg(long, env = "RHEO_DYNAMODB_CREATE_TABLE_MS", default_value_t = 0)]
    dynamodb_create_table_ms: u64,
    /// How long a deleted DynamoDB table stays DELETING.
    #[arg(long, env = "RHEO_DYNAMODB_DELETE_TABLE_MS", default_value_t = 0)]
    dynamodb_delete_table_ms: u64,
    /// How long a DynamoDB table stays UPDATING, and a new global secondary index CREATING.
    #[arg(long, env = "RHEO_DYNAMODB_UPDATE_TABLE_MS", default_value_t = 0)]
    dynamodb_update_table_ms: u64,
    /// DynamoDB tables per account (AWS's default quota).
    #[arg(long, env = "RHEO_DYNAMODB_TABLE_LIMIT",
          default_value_t = rheo_dynamodb::limits::TABLES_PER_ACCOUNT_DEFAULT)]
    dynamodb_table_limit: usize,
    /// How long a new Kinesis channel stays CREATING, an updated one UPDATING and a deleted
    /// one DELETING.
    #[arg(long, env = "RHEO_CHANNEL_LIFECYCLE_MS", default_value_t = 500)]
    channel_lifecycle_ms: u64,
    /// Make every Kinesis channel write its buffer after this many milliseconds instead of
    /// its DataFreshnessInSeconds (AWS allows 300 to 900 s), for tests. DescribeChannel
    /// still shows the channel's own freshness.
    #[arg(long, env = "RHEO_CHANNEL_DELIVERY_INTERVAL_MS", value_parser = clap::value_parser!(u64).range(1..))]
    channel_delivery_interval_ms: Option<u64>,
    /// Accept http:// (not only https://) Firehose HTTP endpoint URLs, for local testing.
    #[arg(long, env = "RHEO_ALLOW_HTTP_ENDPOINTS")]
    allow_http_endpoints: bool,
    /// PEM certificate chain; with --tls-key, serve HTTPS (h2 and http/1.1 by ALPN).
    #[arg(long, env = "RHEO_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "RHEO_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A client must send a request head within this many milliseconds (from connecting,
    /// or on a kept-alive HTTP/1.1 connection from its first byte); else it is disconnected.
    #[arg(long, env = "RHEO_HEADER_READ_TIMEOUT_MS", default_value_t = rheo_server::HEADER_READ_TIMEOUT_MS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout_ms: u64,
    /// A connection without a request in progress for this many milliseconds is closed
    /// (longer than the SDKs' own pool idle times, so clients usually close first).
    #[arg(long, env = "RHEO_IDLE_TIMEOUT_MS", default_value_t = rheo_server::IDLE_TIMEOUT_MS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_ms: u64,
    /// A request body not received in full within this many milliseconds is answered 408.
    #[arg(long, env = "RHEO_BODY_READ_TIMEOUT_MS", default_value_t = rheo_server::BODY_READ_TIMEOUT_MS_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    body_read_timeout_ms: u64,
    /// How requests are authenticated. `none` (the default) accepts any key, as kinesalite
    /// does; `sigv4` verifies each request's signature against --credentials (GET /health and
    /// /metrics stay open).
    #[arg(long, env = "RHEO_AUTH", value_enum, default_value = "none")]
    auth: AuthArg,
    /// The principals of --auth sigv4: an AWS shared-credentials file, one `[NAME]` section per
    /// principal with aws_access_key_id, aws_secret_access_key and optionally
    /// aws_session_token. Reloaded on SIGHUP.
    #[arg(long, env = "RHEO_CREDENTIALS")]
    credentials: Option<PathBuf>,
    /// With --auth sigv4: a folder of IAM identity policies, NAME.json for the principal NAME
    /// (one without a policy may do everything). Reloaded on SIGHUP.
    #[arg(long, env = "RHEO_POLICIES")]
    policies: Option<PathBuf>,
    /// Connections served at once. At the limit a new connection takes the slot of one
    /// that has not sent a request yet (else of an idle one); when every connection has a
    /// request in progress it waits until one closes. Default: the open-file limit (raised
    /// to its hard limit at start) less 1024 kept for log segments and other files, at most
    /// 16384.
    #[arg(long, env = "RHEO_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// Requests in progress at once on one HTTP/2 connection; more are refused with
    /// REFUSED_STREAM, which clients retry (on another connection).
    #[arg(long, env = "RHEO_HTTP2_MAX_STREAMS", default_value_t = rheo_server::HTTP2_MAX_STREAMS_DEFAULT,
          value_parser = clap::value_parser!(u32).range(1..))]
    http2_max_streams: u32,
    #[command(flatten)]
    archive: archive::ArchiveArgs,
}

fn main() -> anyhow::Result<()> {
    alloc_tuning::tune();
    let cli = Cli::parse();
    // The commands for people print their results; info logs would only clutter a
    // terminal, so they log warnings and errors unless RHEO_LOG asks for more.
    let default_log = match cli.command {
        Command::Streams(_)
        | Command::Create(_)
        | Command::Describe(_)
        | Command::Tail(_)
        | Command::Delete(_)
        | Command::Put(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RHEO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
        .init();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Bench(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(rheo_bench::run(args))?;
            Ok(())
        }
        Command::JqWorker => Ok(rheo_firehose::jq::run_worker()?),
        Command::Keys(args) => keys::run(args),
        Command::Streams(args) => cli::finish(cli::streams(args)),
        Command::Create(args) => cli::finish(cli::create(args)),
        Command::Describe(args) => cli::finish(cli::describe(args)),
        Command::Tail(args) => cli::finish(cli::tail(args)),
        Command::Delete(args) => cli::finish(cli::delete(args)),
        Command::Put(args) => cli::put::run(args),
        Command::Agent(args) => agent::run(args),
    }
}

/// Raises the soft open-file limit to the hard one (each connection is a descriptor, and
/// the usual soft limit of 1024 is far below what a server needs); returns the soft limit
/// in force afterwards.
fn raise_open_file_limit() -> Option<u64> {
    let (soft, hard) = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(message = "Could not read the open-file limit.", %error);
            return None;
        }
    };
    let target = if hard == rlimit::INFINITY { NOFILE_TARGET_WHEN_UNLIMITED } else { hard };
    match rlimit::increase_nofile_limit(target) {
        Ok(raised) => {
            if raised > soft {
                tracing::info!(message = "Raised the open-file limit.", from = soft, to = raised, hard);
            }
            Some(raised)
        }
        Err(error) => {
            tracing::warn!(message = "Could not raise the open-file limit.", soft, hard, %error);
            Some(soft)
        }
    }
}

/// The connection limit: as given, else what fits under the open-file limit.
fn connection_limits(args: &ServeArgs, open_files: Option<u64>) -> ConnectionLimits {
    let fitting = open_files.map(rheo_server::max_connections_for_descriptors);
    let max_connections = match (args.max_connections, fitting) {
        (Some(given), Some(fitting)) if given > fitting => {
            tracing::warn!(
                message = "--max-connections exceeds what the open-file limit leaves for connections; \
                           accepts may fail with EMFILE.",
                max_connections = given,
                fitting,
                open_files,
            );
            given
        }
        (Some(given), _) => given,
        (None, Some(fitting)) => fitting,
        (None, None) => rheo_server::MAX_CONNECTIONS_DEFAULT,
    };
    ConnectionLimits {
        header_read_timeout: Duration::from_millis(args.header_read_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        body_read_timeout: Duration::from_millis(args.body_read_timeout_ms),
        max_connections,
        http2_max_streams: args.http2_max_streams,
    }
}

/// The authenticator of --auth, and what reloads its files on SIGHUP. Refuses flags that
/// would silently do nothing.
fn authenticator(args: &ServeArgs) -> anyhow::Result<(Arc<Authenticator>, ReloadHooks)> {
    match (args.auth, &args.credentials) {
        (AuthArg::None, None) => {
            if args.policies.is_some() {
                anyhow::bail!(
                    "--policies needs --auth sigv4: policies apply to principals whose signatures are verified"
                );
            }
            Ok((Arc::new(Authenticator::none()), Vec::new()))
        }
        (AuthArg::None, Some(_)) => {
            anyhow::bail!("--credentials needs --auth sigv4: under --auth none no signature is verified")
        }
        (AuthArg::Sigv4, None) => anyhow::bail!(
            "--auth sigv4 needs --credentials FILE: the AWS shared-credentials file of the principals that may call"
        ),
        (AuthArg::Sigv4, Some(credentials)) => {
            let files = AuthFiles {
                credentials: credentials.clone(),
                policies: args.policies.clone(),
                account: rheo_engine::ids::Account { region: args.region.clone(), account_id: args.account_id.clone() },
            };
            let identities = Identities::load(&files)?;
            if identities.is_empty() {
                tracing::warn!(
                    message = "The credentials file has no principals: every request will be refused.",
                    credentials = %credentials.display(),
                );
            }
            tracing::info!(
                message = "Verifying SigV4 signatures.",
                principals = identities.len(),
                credentials = %credentials.display(),
                policies = ?args.policies,
            );
            let authenticator = Arc::new(Authenticator::sigv4(&args.region, Arc::new(SystemClock), identities));
            let reloader: Arc<dyn Reload> = Arc::new(AuthReloader::new(authenticator.clone(), files));
            Ok((authenticator, vec![reloader]))
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    alloc_tuning::spawn_trimmer();
    let (authenticator, mut reloads) = authenticator(&args)?;
    let limits = connection_limits(&args, raise_open_file_limit());
    let (fs, dir, durability): (Arc<dyn FileSystem>, PathBuf, Durability) = if args.in_memory {
        (Arc::new(MemFs::default()), PathBuf::from("/rheo"), Durability::Never)
    } else {
        let durability = match args.durability {
            DurabilityArg::Sync => Durability::Sync,
            DurabilityArg::Relaxed => Durability::Relaxed { interval_ms: args.sync_interval_ms.max(1) },
        };
        (Arc::new(StdFs), args.data_dir.clone(), durability)
    };
    let key_store = keys::open_for_server(
        &args.data_dir,
        args.key_dir.as_deref(),
        rheo_keys::Scope { region: args.region.clone(), account: args.account_id.clone() },
        args.in_memory,
    )?;
    reloads.push(Arc::new(keys::KeyReloader(key_store.clone())));
    let log_config = LogConfig {
        keys: Some(key_store.clone()),
        durability,
        recovery: if args.recover_truncate { RecoveryMode::TruncateAtCorruption } else { RecoveryMode::TornTailOnly },
        segment_bytes_max: args.segment_bytes,
        ..LogConfig::default()
    };
    // Only the Kinesis streams' log is archived; Firehose's, channels' and Analytics' logs
    // hold short-lived buffers and stay local.
    let streams_log_config = LogConfig {
        archive: archive::config(
            &args.archive,
            &args.data_dir,
            args.segment_bytes,
            args.in_memory,
            args.s3_endpoint.as_deref(),
            &args.region,
        )?,
        ..log_config.clone()
    };
    let firehose_config = rheo_firehose::FirehoseConfig {
        region: args.region.clone(),
        account_id: args.account_id.clone(),
        create_ms: args.firehose_lifecycle_ms,
        delete_ms: args.firehose_lifecycle_ms,
        encryption_ms: args.firehose_encryption_ms,
        stream_limit: args.firehose_stream_limit,
        allow_http_endpoints: args.allow_http_endpoints,
        gzip_level: args.firehose_gzip_level,
        default_buffer_interval_ms: args.firehose_default_buffer_interval_ms,
        jq_worker: rheo_firehose::jq::JqWorkerCommand {
            program: std::env::current_exe().context("locating the rheo executable to run jq workers")?,
            args: vec!["jq-worker".into()],
        },
        object_stores: match &args.s3_endpoint {
            Some(endpoint) => ObjectStoreConfig::S3 { endpoint: endpoint.clone(), region: args.region.clone() },
            None => {
                ObjectStoreConfig::Local { root: args.s3_dir.clone().unwrap_or_else(|| args.data_dir.join("buckets")) }
            }
        },
    };
    let channels_config = rheo_firehose::channel::ChannelsConfig {
        create_ms: args.channel_lifecycle_ms,
        update_ms: args.channel_lifecycle_ms,
        delete_ms: args.channel_lifecycle_ms,
        object_stores: firehose_config.object_stores.clone(),
        gzip_level: args.firehose_gzip_level,
        delivery_interval_ms: args.channel_delivery_interval_ms,
    };
    let analytics_config = AnalyticsConfig {
        region: args.region.clone(),
        account_id: args.account_id.clone(),
        transition_ms: args.analytics_transition_ms,
        application_limit: args.analytics_application_limit,
    };
    let dynamodb_config = DynamoDbConfig {
        region: args.region.clone(),
        account_id: args.account_id.clone(),
        store: StoreConfig {
            location: if args.in_memory {
                StoreLocation::InMemory
            } else {
                StoreLocation::Dir(args.data_dir.join("dynamodb"))
            },
            // Relaxed durability lets commits reach the operating system only, like the
            // shard log's writes between syncs.
            durable: matches!(durability, Durability::Sync),
        },
        create_table_ms: args.dynamodb_create_table_ms,
        delete_table_ms: args.dynamodb_delete_table_ms,
        update_table_ms: args.dynamodb_update_table_ms,
        table_limit: args.dynamodb_table_limit,
    };
    let config = EngineConfig {
        region: args.region,
        account_id: args.account_id,
        create_stream_ms: args.create_stream_ms,
        delete_stream_ms: args.delete_stream_ms,
        update_stream_ms: args.update_stream_ms,
        consumer_ms: args.consumer_ms,
        shard_limit: args.shard_limit,
        consumer_limit: args.consumer_limit,
        enforce_limits: args.enforce_limits,
        keys: Some(key_store.clone()),
        ..EngineConfig::default()
    };
    let engine = Engine::open(fs.clone(), Arc::new(SystemClock), &dir, streams_log_config, config)
        .with_context(|| format!("opening the data folder {}", dir.display()))?;
    let engine = Arc::new(engine);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(load_tls(&TlsFiles { cert: cert.clone(), key: key.clone() })?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rheo-worker")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let subscriptions = SubscriptionConfig {
            lifetime_ms: args.subscription_lifetime_ms,
            heartbeat_ms: args.subscription_heartbeat_ms.max(1),
        };
        let channels = Channels::open(
            fs.clone(),
            Arc::new(SystemClock),
            &dir,
            log_config.clone(),
            engine.clone(),
            channels_config,
        )
        .with_context(|| format!("opening the channels' log in {}", dir.display()))?;
        let firehose = Firehose::open(
            fs.clone(),
            Arc::new(SystemClock),
            &dir,
            log_config.clone(),
            engine.clone(),
            firehose_config,
        )
        .with_context(|| format!("opening Firehose's log in {}", dir.display()))?;
        // Applications read and write Kinesis streams and Firehose delivery streams of this
        // process; those that were RUNNING start again here.
        let analytics = Analytics::open(
            fs,
            Arc::new(SystemClock),
            &dir,
            log_config,
            engine.clone(),
            Some(firehose.clone()),
            analytics_config,
        )
        .with_context(|| format!("opening Analytics' log in {}", dir.display()))?;
        let dynamodb_store = match &dynamodb_config.store.location {
            StoreLocation::Dir(dir) => dir.display().to_string(),
            StoreLocation::InMemory => "in memory".to_owned(),
        };
        let dynamodb = DynamoDb::open(dynamodb_config, Arc::new(SystemClock))
            .with_context(|| format!("opening the DynamoDB store ({dynamodb_store})"))?;
        let server = Server::bind(args.listen, engine.clone(), tls)
            .await?
            .with_subscriptions(subscriptions)
            .with_limits(limits)
            .with_auth(authenticator)
            .with_channels(channels.clone())
            .with_service(FirehoseService::new(firehose.clone()))?
            .with_service(AnalyticsService::new(analytics.clone()))?
            .with_service(DynamoDbService::new(dynamodb.clone()))?;
        let address = server.local_addr()?;
        tracing::info!(
            message = "Rheo listening.",
            %address,
            data_dir = %dir.display(),
            in_memory = args.in_memory,
            max_connections = limits.max_connections,
        );
        // Without a handler SIGHUP would end the server; with one it reloads what can be.
        let reloader = tokio::spawn(rheo_server::reload::reload_on_sighup(reloads));
        // Scripts wait for this line to know the server is ready.
        println!("rheo listening on {scheme}://{address}");
        server.run(rheo_server::shutdown_signal()).await?;
        reloader.abort();
        // Running applications are stopped (their last rows written, positions saved)
        // while Firehose and the engine still take their output.
        analytics.shutdown().await;
        // No request is running any more: the writer commits what is queued and stops.
        dynamodb.shutdown().await;
        firehose.shutdown().await;
        channels.shutdown().await;
        anyhow::Ok(())
    })?;
    drop(runtime);
    match Arc::try_unwrap(engine) {
        Ok(engine) => engine.shutdown(),
        // Dropping the last handle also stops the log writer after queued work.
        Err(engine) => drop(engine),
    }
    tracing::info!(message = "Rheo stopped.");
    Ok(())
}

/// `--firehose-default-buffer-interval-ms`: whole milliseconds, from
/// `BUFFER_INTERVAL_MS_DEFAULT_MIN` up to AWS's default, since the flag only shortens it.
fn parse_default_buffer_interval_ms(text: &str) -> Result<u64, String> {
    use rheo_firehose::limits::{BUFFER_INTERVAL_MS_DEFAULT, BUFFER_INTERVAL_MS_DEFAULT_MIN};
    let ms: u64 = text.parse().map_err(|error| format!("{error}"))?;
    if (BUFFER_INTERVAL_MS_DEFAULT_MIN..=BUFFER_INTERVAL_MS_DEFAULT).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "must be from {BUFFER_INTERVAL_MS_DEFAULT_MIN} to {BUFFER_INTERVAL_MS_DEFAULT} (AWS's default): \
             the flag can only shorten the default"
        ))
    }
}
