//! `rheo streams`, `rheo create`, `rheo describe`, `rheo delete`: the control plane.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use rheo_client::producer::backoff::{backoff, ThreadRandom};
use rheo_client::shards::{ShardInfo, ShardMap};
use rheo_client::{ClientError, Kinesis};
use rheo_protocol::model::{
    CreateStreamInput, DeleteStreamInput, DescribeStreamSummaryInput, ListStreamsInput, StreamDescriptionSummary,
    StreamMode, StreamModeDetails,
};
use serde_json::json;

use super::output::{status_paint, table, Cell, Paint, Progress, Style};
use super::{rfc3339, runtime, Connection};

/// Most streams `rheo streams` lists; more are refused rather than paged through forever.
const STREAMS_LISTED_MAX: usize = 10_000;

/// Streams asked for per `ListStreams` page.
const STREAMS_PER_PAGE: i32 = 100;

/// Pause between two status checks while waiting.
const WAIT_POLL: Duration = Duration::from_millis(250);

/// Longest wait for a stream to become ACTIVE or to disappear.
const WAIT_TIMEOUT: Duration = Duration::from_secs(600);

/// Hex digits of a hash key shown in the shard table (its top 32 bits).
const HASH_PREFIX_DIGITS: usize = 8;

/// Attempts of one throttled listing or description before `rheo streams` gives up: AWS
/// allows 20 DescribeStreamSummary and 5 ListStreams calls a second per account, shared
/// with everything else in it.
const THROTTLED_ATTEMPTS_MAX: u32 = 10;

/// First and longest pause (full jitter) before a throttled call is made again.
const THROTTLED_BACKOFF_BASE: Duration = Duration::from_millis(100);
const THROTTLED_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// `rheo streams`.
#[derive(clap::Args, Debug)]
pub struct StreamsArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `rheo create`.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The stream's name.
    pub stream: String,
    /// Shards of a provisioned stream.
    #[arg(long, required_unless_present = "on_demand", value_parser = clap::value_parser!(i32).range(1..))]
    pub shards: Option<i32>,
    /// Create an on-demand stream (capacity follows the traffic).
    #[arg(long, conflicts_with = "shards")]
    pub on_demand: bool,
    /// Wait until the stream is ACTIVE (the default when stderr is a terminal).
    #[arg(long, conflicts_with = "no_wait")]
    pub wait: bool,
    /// Return as soon as the stream is being created.
    #[arg(long)]
    pub no_wait: bool,
}

/// `rheo describe`.
#[derive(clap::Args, Debug)]
pub struct DescribeArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The stream's name or ARN.
    pub stream: String,
    /// Print JSON instead of a summary and a shard table.
    #[arg(long)]
    pub json: bool,
}

/// `rheo delete`.
#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub connection: Connection,
    /// The stream's name or ARN.
    pub stream: String,
    /// Wait until the stream is gone.
    #[arg(long)]
    pub wait: bool,
}

/// Runs `rheo streams`.
pub fn streams(args: StreamsArgs) -> anyhow::Result<()> {
    let kinesis = args.connection.kinesis()?;
    let summaries = runtime()?.block_on(async {
        let mut summaries = Vec::new();
        for name in list_stream_names(&kinesis).await? {
            match unless_throttled(|| summary(&kinesis, &name)).await {
                Ok(summary) => summaries.push(summary),
                // Deleted between the listing and the description: not there any more.
                Err(e) if e.error_type() == Some("ResourceNotFoundException") => {}
                Err(e) => return Err(e.into()),
            }
        }
        anyhow::Ok(summaries)
    })?;
    if args.json {
        let list: Vec<_> = summaries.iter().map(summary_json).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if summaries.is_empty() {
        eprintln!("No streams.");
        return Ok(());
    }
    let style = Style::stdout();
    let rows: Vec<Vec<Cell>> = summaries
        .iter()
        .map(|s| {
            vec![
                Cell::plain(&s.stream_name),
                Cell::painted(s.stream_status.as_str(), status_paint(s.stream_status.as_str())),
                Cell::plain(mode(s)),
                Cell::plain(s.open_shard_count.to_string()),
                Cell::plain(format!("{}h", s.retention_period_hours)),
            ]
        })
        .collect();
    print!("{}", table(style, &["NAME", "STATUS", "MODE", "OPEN SHARDS", "RETENTION"], &rows));
    Ok(())
}

/// Runs `rheo create`.
pub fn create(args: CreateArgs) -> anyhow::Result<()> {
    let kinesis = args.connection.kinesis()?;
    let wait = args.wait || (!args.no_wait && std::io::stderr().is_terminal());
    runtime()?.block_on(async {
        kinesis
            .create_stream(CreateStreamInput {
                shard_count: args.shards,
                stream_name: args.stream.clone(),
                stream_mode_details: Some(StreamModeDetails {
                    stream_mode: if args.on_demand { StreamMode::OnDemand } else { StreamMode::Provisioned },
                }),
                tags: None,
                warm_throughput_mibps: None,
                max_record_size_in_kib: None,
                record_distribution_strategy: None,
            })
            .await?;
        if !wait {
            println!("Creating stream {}.", args.stream);
            return Ok(());
        }
        let mut progress = Progress::new();
        let started = Instant::now();
        loop {
            let status = summary(&kinesis, &args.stream).await?.stream_status;
            if status.as_str() == "ACTIVE" {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < WAIT_TIMEOUT,
                "stream {} still {status} after {}s",
                args.stream,
                WAIT_TIMEOUT.as_secs()
            );
            progress.update(&format!("{} is {status}", args.stream), started.elapsed());
            tokio::time::sleep(WAIT_POLL).await;
        }
        progress.finish();
        let style = Style::stdout();
        println!("Stream {} is {}.", args.stream, style.paint(Paint::Green, "ACTIVE"));
        anyhow::Ok(())
    })
}

/// Runs `rheo describe`.
pub fn describe(args: DescribeArgs) -> anyhow::Result<()> {
    let kinesis = args.connection.kinesis()?;
    let (summary, map) = runtime()?.block_on(async {
        let summary = summary(&kinesis, &args.stream).await?;
        let map = ShardMap::load(&kinesis, &args.stream).await?;
        anyhow::Ok((summary, map))
    })?;
    if args.json {
        let mut object = summary_json(&summary);
        let shards: Vec<_> = map.shards().iter().map(shard_json).collect();
        if let Some(object) = object.as_object_mut() {
            object.insert("shards".into(), shards.into());
        }
        println!("{}", serde_json::to_string_pretty(&object)?);
        return Ok(());
    }
    let style = Style::stdout();
    let status = summary.stream_status.as_str();
    let fields = [
        ("Name", summary.stream_name.clone()),
        ("ARN", summary.stream_arn.clone()),
        ("Status", style.paint(status_paint(status), status)),
        ("Mode", mode(&summary).to_owned()),
        ("Open shards", summary.open_shard_count.to_string()),
        ("Retention", format!("{}h", summary.retention_period_hours)),
        ("Consumers", summary.consumer_count.unwrap_or(0).to_string()),
        ("Encryption", summary.encryption_type.map_or("NONE", |e| e.as_str()).to_owned()),
        ("Created", rfc3339(summary.stream_creation_timestamp)),
    ];
    for (label, value) in fields {
        println!("{}  {value}", style.paint(Paint::Bold, &format!("{label:<12}")));
    }
    println!();
    let rows: Vec<Vec<Cell>> = map
        .shards()
        .iter()
        .map(|s| {
            let parents: Vec<&str> = s.parents().collect();
            vec![
                Cell::plain(&s.shard_id),
                Cell::plain(if parents.is_empty() { "-".to_owned() } else { parents.join(",") }),
                Cell::plain(format!("{}..{}", hash_prefix(s.starting_hash_key), hash_prefix(s.ending_hash_key))),
                if s.is_open() { Cell::painted("open", Paint::Green) } else { Cell::painted("closed", Paint::Dim) },
            ]
        })
        .collect();
    print!("{}", table(style, &["SHARD", "PARENTS", "HASH RANGE (top 32 bits)", "STATE"], &rows));
    Ok(())
}

/// Runs `rheo delete`.
pub fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let kinesis = args.connection.kinesis()?;
    runtime()?.block_on(async {
        let arn = args.stream.starts_with("arn:");
        kinesis
            .delete_stream(DeleteStreamInput {
                stream_name: (!arn).then(|| args.stream.clone()),
                enforce_consumer_deletion: None,
                stream_arn: arn.then(|| args.stream.clone()),
                stream_id: None,
            })
            .await?;
        if !args.wait {
            println!("Deleting stream {}.", args.stream);
            return Ok(());
        }
        let mut progress = Progress::new();
        let started = Instant::now();
        loop {
            match summary(&kinesis, &args.stream).await {
                Ok(summary) => {
                    anyhow::ensure!(
                        started.elapsed() < WAIT_TIMEOUT,
                        "stream {} still {} after {}s",
                        args.stream,
                        summary.stream_status,
                        WAIT_TIMEOUT.as_secs()
                    );
                    progress.update(&format!("{} is {}", args.stream, summary.stream_status), started.elapsed());
                }
                Err(e) if e.error_type() == Some("ResourceNotFoundException") => break,
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
        progress.finish();
        println!("Stream {} is deleted.", args.stream);
        anyhow::Ok(())
    })
}

/// Every stream name, following `ListStreams` pages.
async fn list_stream_names(kinesis: &Kinesis) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let input = ListStreamsInput {
            limit: Some(STREAMS_PER_PAGE),
            // AWS refuses a token together with a start name; older servers know
            // only the start name, so the token is used when there is one.
            exclusive_start_stream_name: if next_token.is_none() { names.last().cloned() } else { None },
            next_token: next_token.take(),
        };
        let page = unless_throttled(|| kinesis.list_streams(input.clone())).await?;
        let got = page.stream_names.len();
        names.extend(page.stream_names);
        anyhow::ensure!(names.len() <= STREAMS_LISTED_MAX, "more than {STREAMS_LISTED_MAX} streams; not listing them");
        if !page.has_more_streams || got == 0 {
            return Ok(names);
        }
        next_token = page.next_token.filter(|t| !t.is_empty());
    }
}

/// Makes `call` again, after a jittered back-off, while it is throttled (at most
/// [`THROTTLED_ATTEMPTS_MAX`] attempts).
async fn unless_throttled<T, F, Fut>(mut call: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_throttling() && attempt < THROTTLED_ATTEMPTS_MAX => {
                let pause = backoff(THROTTLED_BACKOFF_BASE, THROTTLED_BACKOFF_MAX, attempt, &ThreadRandom);
                tracing::debug!(message = "Throttled; trying again.", attempt, ?pause, error = %e);
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

async fn summary(kinesis: &Kinesis, stream: &str) -> Result<StreamDescriptionSummary, ClientError> {
    let arn = stream.starts_with("arn:");
    let output = kinesis
        .describe_stream_summary(DescribeStreamSummaryInput {
            stream_name: (!arn).then(|| stream.to_owned()),
            stream_arn: arn.then(|| stream.to_owned()),
            stream_id: None,
        })
        .await?;
    Ok(output.stream_description_summary)
}

fn mode(summary: &StreamDescriptionSummary) -> &'static str {
    summary.stream_mode_details.as_ref().map_or("PROVISIONED", |m| m.stream_mode.as_str())
}

fn summary_json(s: &StreamDescriptionSummary) -> serde_json::Value {
    json!({
        "name": s.stream_name,
        "arn": s.stream_arn,
        "status": s.stream_status.as_str(),
        "mode": mode(s),
        "open_shards": s.open_shard_count,
        "retention_hours": s.retention_period_hours,
        "consumers": s.consumer_count,
        "encryption": s.encryption_type.map(|e| e.as_str()),
        "created": rfc3339(s.stream_creation_timestamp),
    })
}

fn shard_json(s: &ShardInfo) -> serde_json::Value {
    json!({
        "shard_id": s.shard_id,
        "parents": s.parents().collect::<Vec<_>>(),
        "starting_hash_key": s.starting_hash_key.to_string(),
        "ending_hash_key": s.ending_hash_key.to_string(),
        "open": s.is_open(),
        "starting_sequence_number": s.starting_sequence_number.as_str(),
        "ending_sequence_number": s.ending_sequence_number.as_ref().map(|n| n.as_str()),
    })
}

/// The top bits of a hash key in hex: enough to tell ranges apart in a table that fits a
/// terminal (the JSON output has the full decimal keys).
fn hash_prefix(key: u128) -> String {
    let hex = format!("{key:032x}");
    hex.get(..HASH_PREFIX_DIGITS).unwrap_or(&hex).to_owned()
}
