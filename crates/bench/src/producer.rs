//! `producer`: rheo-client's KPL-compatible producer at full speed into one stream — user
//! records/s, Kinesis records/s, MB/s, and put→acknowledgement latency from the producer's
//! own histogram. One putter task, one producer: what one application gets.

use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, ValueEnum};
use rheo_client::producer::{Producer, ProducerConfig};
use rheo_client::{ClientConfig, Credentials};
use serde_json::json;

use crate::error::BenchError;
use crate::{api, report, CommonArgs, Ctx};

/// Largest number of distinct partition keys the run cycles through.
const KEYS_MAX: usize = 1_000_000;
/// How often a progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// `producer` options.
#[derive(Args, Debug, Clone)]
pub struct ProducerArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Shards of the stream the run creates.
    #[arg(long, default_value_t = 4)]
    pub stream_shards: u32,
    /// Bytes of data per user record.
    #[arg(short = 'r', long, default_value_t = 100)]
    pub record_bytes: usize,
    /// Seconds of putting (then the producer is flushed).
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// KPL aggregation.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub aggregation: Switch,
    /// Per-shard pacing to AWS's limits (off for a Rheo without --enforce-limits).
    #[arg(long, value_enum, default_value_t = Switch::Off)]
    pub rate_limit: Switch,
    /// Distinct partition keys, cycled through.
    #[arg(long, default_value_t = 10_000)]
    pub keys: usize,
    /// The producer's linger, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub linger_ms: u64,
}

pub(crate) async fn run(ctx: &Ctx, args: &ProducerArgs) -> Result<serde_json::Value, BenchError> {
    if args.keys == 0 || args.keys > KEYS_MAX {
        return Err(BenchError::Args(format!("--keys must be 1..={KEYS_MAX}")));
    }
    if args.duration.is_nan() || args.duration <= 0.0 {
        return Err(BenchError::Args("--duration must be positive".into()));
    }
    let mut control = ctx.client();
    let stream =
        api::ensure_stream(&mut control, &ctx.stream_name("producer"), args.stream_shards, ctx.control_timeout())
            .await?;
    let common = &args.common;
    let client = ClientConfig::new(
        Some(&common.endpoint),
        &common.region,
        Credentials {
            access_key: common.access_key.clone(),
            secret_key: common.secret_key.clone(),
            session_token: common.session_token.clone(),
        },
    );
    let config = ProducerConfig {
        aggregation: args.aggregation == Switch::On,
        rate_limit: match args.rate_limit {
            Switch::On => ProducerConfig::default().rate_limit,
            Switch::Off => None,
        },
        linger: Duration::from_millis(args.linger_ms),
        ..ProducerConfig::default()
    };
    let producer = Producer::new(&client, config).map_err(|e| BenchError::Args(e.to_string()))?;
    let keys: Vec<String> = (0..args.keys).map(|i| format!("key-{i:07}")).collect();
    let data = Bytes::from(vec![b'x'; args.record_bytes]);

    let started = Instant::now();
    let stop = started + Duration::from_secs_f64(args.duration);
    let mut next_progress = started + PROGRESS_EVERY;
    let mut put = 0u64;
    'putting: loop {
        // The clock is read once per thousand puts, not per put.
        for _ in 0..1000 {
            let key = &keys[(put % keys.len() as u64) as usize];
            // The handle is dropped: outcomes are read from the producer's counters.
            let _handle = producer
                .put(&stream.name, key, data.clone())
                .await
                .map_err(|e| BenchError::BadResponse { operation: "PutRecords", detail: e.to_string() })?;
            put += 1;
        }
        let now = Instant::now();
        if now >= stop {
            break 'putting;
        }
        if now >= next_progress {
            next_progress += PROGRESS_EVERY;
            let m = producer.metrics();
            ctx.progress(&format!(
                "{:>5.1} s  put {put}  acknowledged {}  kinesis records {}  retries {}",
                started.elapsed().as_secs_f64(),
                m.user_records_put,
                m.kinesis_records_put,
                m.retries
            ));
        }
    }
    let put_phase = started.elapsed();
    producer.flush().await;
    let elapsed = started.elapsed().as_secs_f64();
    let metrics = producer.metrics();
    producer.shutdown().await;
    ctx.cleanup(&mut control, &stream, false).await;

    let per_s = |n: u64| n as f64 / elapsed;
    let ms = |q: f64| metrics.latency_quantile(q).map(|d| d.as_secs_f64() * 1e3);
    let json = json!({
        "mode": "producer",
        "label": common.label,
        "endpoint": common.endpoint,
        "stream": stream.name,
        "shards": args.stream_shards,
        "record_bytes": args.record_bytes,
        "aggregation": args.aggregation == Switch::On,
        "rate_limit": args.rate_limit == Switch::On,
        "put_phase_s": put_phase.as_secs_f64(),
        "elapsed_s": elapsed,
        "user_records": metrics.user_records_put,
        "user_records_failed": metrics.user_records_failed,
        "kinesis_records": metrics.kinesis_records_put,
        "put_records_calls": metrics.put_records_calls,
        "retries": metrics.retries,
        "user_records_per_s": per_s(metrics.user_records_put),
        "kinesis_records_per_s": per_s(metrics.kinesis_records_put),
        "mb_per_s": per_s(metrics.bytes_put) / 1e6,
        "latency_p50_ms_at_most": ms(0.5),
        "latency_p99_ms_at_most": ms(0.99),
        "errors": metrics.errors,
    });
    let table = format!(
        "producer → {} ({} shards, {} B records, aggregation {:?})\n  user records/s     {:>12.0}\n  kinesis records/s  {:>12.0}\n  MB/s               {:>12.1}\n  latency p50 ≤ {:.1} ms, p99 ≤ {:.1} ms (bucket upper edges)\n  acknowledged {} user records in {} Kinesis records, {} failed, {} retried\n",
        stream.name,
        args.stream_shards,
        args.record_bytes,
        args.aggregation,
        per_s(metrics.user_records_put),
        per_s(metrics.kinesis_records_put),
        per_s(metrics.bytes_put) / 1e6,
        ms(0.5).unwrap_or(f64::NAN),
        ms(0.99).unwrap_or(f64::NAN),
        metrics.user_records_put,
        metrics.kinesis_records_put,
        metrics.user_records_failed,
        metrics.retries,
    );
    report::emit(&json, (!common.json_only).then_some(table.as_str()), common.out.as_deref())?;
    Ok(json)
}
