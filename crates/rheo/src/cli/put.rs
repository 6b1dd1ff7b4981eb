//! `rheo put STREAM`: one record per line of standard input, through rheo-client's
//! producer (batched, optionally KPL-aggregated, retried); a summary at the end, progress
//! on standard error when it is a terminal, and every failed line reported by number.

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use rheo_client::config::LOCAL_ENDPOINT;
use rheo_client::producer::{Producer, ProducerConfig, ProducerError, PutHandle};
use rheo_client::{ClientConfig, SystemEnvironment};

/// Lines read ahead of the producer; the producer's own in-flight bound applies after.
const LINES_QUEUED_MAX: usize = 1024;
/// Put handles awaited in order behind the producer.
const HANDLES_QUEUED_MAX: usize = 100_000;
/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// `rheo put`.
#[derive(clap::Args, Debug)]
pub struct PutArgs {
    #[command(flatten)]
    pub connection: super::Connection,
    /// The stream.
    pub stream: String,
    /// The partition key of every record (default: a random key per record, spreading
    /// records over all shards).
    #[arg(long, conflicts_with = "key_field")]
    pub partition_key: Option<String>,
    /// Take each record's partition key from this field of the line, read as a JSON object
    /// (a string, or a number written as text). A line without it fails.
    #[arg(long)]
    pub key_field: Option<String>,
    /// Pack records into KPL aggregates (many records per Kinesis record). Off by default:
    /// only de-aggregating consumers (the KCL, aws-kinesis-agg, rheo-client's consumer)
    /// read aggregates; everything else would see binary blobs.
    #[arg(long)]
    pub aggregate: bool,
    /// Do not pace writes to AWS's per-shard limits (1 MiB/s and 1000 records/s).
    #[arg(long)]
    pub no_rate_limit: bool,
    /// How long a record may wait for others to share its request, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub linger_ms: u64,
}

/// What was put, and which lines failed.
#[derive(Debug, Default)]
struct Tally {
    records: u64,
    shards: BTreeSet<String>,
    failures: Vec<(u64, String)>,
}

/// Runs `rheo put`.
pub fn run(args: PutArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(put(args))
}

async fn put(args: PutArgs) -> anyhow::Result<()> {
    let endpoint = args.connection.endpoint.as_deref().unwrap_or(LOCAL_ENDPOINT);
    let client = ClientConfig::resolve(Some(endpoint), args.connection.profile.as_deref(), &SystemEnvironment)?;
    let config = ProducerConfig {
        aggregation: args.aggregate,
        rate_limit: if args.no_rate_limit { None } else { ProducerConfig::default().rate_limit },
        linger: Duration::from_millis(args.linger_ms),
        ..ProducerConfig::default()
    };
    let producer = Producer::new(&client, config)?;
    let started = Instant::now();

    // Standard input is read on a thread of its own: its reads block.
    let (line_tx, mut lines) = tokio::sync::mpsc::channel::<(u64, Vec<u8>)>(LINES_QUEUED_MAX);
    let reader = std::thread::spawn(move || -> std::io::Result<()> {
        let mut stdin = std::io::stdin().lock();
        let mut number = 0;
        loop {
            let mut line = Vec::new();
            if stdin.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            number += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            }
            if line_tx.blocking_send((number, line)).is_err() {
                return Ok(());
            }
        }
    });

    let done = Arc::new(AtomicU64::new(0));
    let progress = std::io::stderr().is_terminal().then(|| tokio::spawn(show_progress(Arc::clone(&done))));
    let (handle_tx, mut handles) = tokio::sync::mpsc::channel::<(u64, Result<PutHandle, String>)>(HANDLES_QUEUED_MAX);
    let collector = {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut tally = Tally::default();
            while let Some((number, handle)) = handles.recv().await {
                let result = match handle {
                    Ok(handle) => handle.await.map_err(|e| e.to_string()),
                    Err(refused) => Err(refused),
                };
                match result {
                    Ok(outcome) => {
                        tally.records += 1;
                        if !tally.shards.contains(&outcome.shard_id) {
                            tally.shards.insert(outcome.shard_id);
                        }
                    }
                    Err(error) => tally.failures.push((number, error)),
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            tally
        })
    };

    let random_keys = std::collections::hash_map::RandomState::new();
    let mut missing = None;
    while let Some((number, line)) = lines.recv().await {
        let key = match (&args.partition_key, &args.key_field) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(field)) => key_of(&line, field),
            (None, None) => Ok(format!("{:016x}", random_keys.hash_one(number))),
        };
        let handle = match key {
            Ok(key) => match producer.put(&args.stream, &key, Bytes::from(line)).await {
                Ok(handle) => Ok(handle),
                Err(error) if stream_is_missing(&error) => {
                    missing = Some(error);
                    break;
                }
                Err(error) => Err(format!("{:#}", anyhow::Error::new(error))),
            },
            Err(error) => Err(error),
        };
        if handle_tx.send((number, handle)).await.is_err() {
            break;
        }
    }
    // The reader thread may be blocked sending to a full channel: closing it lets the
    // thread end, so the join below cannot wait for ever.
    drop(lines);
    drop(handle_tx);
    producer.flush().await;
    let tally = collector.await.context("the result collector stopped")?;
    producer.shutdown().await;
    if let Some(progress) = progress {
        progress.abort();
        eprint!("\r\x1b[K");
    }
    let read = reader.join().map_err(|_| anyhow::anyhow!("the standard input reader panicked"))?;
    if let Some(error) = missing {
        // Every further line would fail the same way.
        return Err(anyhow::Error::new(error).context(format!("stream {} not found; nothing more put", args.stream)));
    }
    read.context("reading standard input")?;

    for (number, error) in &tally.failures {
        eprintln!("line {number}: {error}");
    }
    let elapsed = started.elapsed();
    let metrics = producer.metrics();
    println!(
        "{} records put to {} ({} shard(s), {} Kinesis record(s), {} retried) in {:.2} s; {} failed",
        tally.records,
        args.stream,
        tally.shards.len(),
        metrics.kinesis_records_put,
        metrics.retries,
        elapsed.as_secs_f64(),
        tally.failures.len()
    );
    if !tally.failures.is_empty() {
        anyhow::bail!("{} of {} records failed", tally.failures.len(), tally.records + tally.failures.len() as u64);
    }
    Ok(())
}

/// True when the stream does not exist: every further put would fail the same way.
fn stream_is_missing(error: &ProducerError) -> bool {
    error.client_error().and_then(|e| e.error_type()) == Some("ResourceNotFoundException")
}

/// The partition key in `field` of a line holding a JSON object.
fn key_of(line: &[u8], field: &str) -> Result<String, String> {
    let object: HashMap<String, serde_json::Value> =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object ({e}), so no field {field:?}"))?;
    match object.get(field) {
        Some(serde_json::Value::String(key)) => Ok(key.clone()),
        Some(serde_json::Value::Number(number)) => Ok(number.to_string()),
        Some(other) => Err(format!("field {field:?} is {other}, not a string or number")),
        None => Err(format!("no field {field:?}")),
    }
}

async fn show_progress(done: Arc<AtomicU64>) {
    let mut ticks = tokio::time::interval(PROGRESS_EVERY);
    loop {
        ticks.tick().await;
        eprint!("\r{} records acknowledged…", done.load(Ordering::Relaxed));
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_a_json_field() {
        assert_eq!(key_of(br#"{"user":"ada","n":1}"#, "user"), Ok("ada".into()));
        assert_eq!(key_of(br#"{"user":42}"#, "user"), Ok("42".into()));
        assert!(key_of(br#"{"user":null}"#, "user").is_err());
        assert!(key_of(br#"{"other":"x"}"#, "user").is_err());
        assert!(key_of(b"plain text", "user").is_err());
    }
}
