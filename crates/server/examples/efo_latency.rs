//! Enhanced fan-out benchmark: put-to-push latency and push throughput of SubscribeToShard.
//!
//! Latency: for each rate (records/s) and number of subscribers on one shard, a producer
//! sends PutRecords every 10 ms for `--seconds`, and each subscriber (its own consumer,
//! SubscribeToShard from LATEST) notes when each record's event arrives. The latency of a
//! delivery is its arrival minus the producer's PutRecords acknowledgement (0 when the
//! event came first: records are pushed once durable, which is before the response).
//! Throughput: one subscriber reads a pre-loaded shard from TRIM_HORIZON.
//!
//! The server runs in-process on 127.0.0.1 (a temporary data folder, fsync durability
//! unless `--durability never`), or elsewhere with `--endpoint`. Producer, subscribers and
//! server share the machine, so the figures include their competition for CPU.
//!
//! ```text
//! cargo run --release -p rheo-server --example efo_latency -- \
//!     [--rates 1000,10000] [--subscribers 1,5,20] [--seconds 5] [--http 1|2] \
//!     [--durability sync|never] [--throughput-records 200000] [--record-bytes 100] [--endpoint URL]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rheo_aws::event_stream::Decoder;
use rheo_engine::{Engine, EngineConfig};
use rheo_server::Server;
use rheo_storage::{Durability, LogConfig, StdFs, SystemClock};
use serde_json::{json, Value};

type Http = Client<HttpConnector, Full<Bytes>>;
type Failure = Box<dyn std::error::Error + Send + Sync>;

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=bench/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
const TICK_MS: u64 = 10;

struct Options {
    rates: Vec<u64>,
    subscribers: Vec<usize>,
    seconds: u64,
    http2: bool,
    durability: Durability,
    throughput_records: usize,
    record_bytes: usize,
    endpoint: Option<String>,
}

fn options() -> Result<Options, Failure> {
    let mut options = Options {
        rates: vec![1_000, 10_000],
        subscribers: vec![1, 5, 20],
        seconds: 5,
        http2: false,
        durability: Durability::Sync,
        throughput_records: 200_000,
        record_bytes: 100,
        endpoint: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let list = |v: &str| -> Result<Vec<u64>, Failure> { Ok(v.split(',').map(str::parse).collect::<Result<_, _>>()?) };
    for pair in args.chunks(2) {
        let [flag, value] = pair else { return Err(format!("{} needs a value", pair[0]).into()) };
        match flag.as_str() {
            "--rates" => options.rates = list(value)?,
            "--subscribers" => options.subscribers = list(value)?.into_iter().map(|n| n as usize).collect(),
            "--seconds" => options.seconds = value.parse()?,
            "--http" => options.http2 = value == "2",
            "--durability" => options.durability = if value == "never" { Durability::Never } else { Durability::Sync },
            "--throughput-records" => options.throughput_records = value.parse()?,
            "--record-bytes" => options.record_bytes = value.parse::<usize>()?.max(1),
            "--endpoint" => options.endpoint = Some(value.clone()),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(options)
}

struct Api {
    http: Http,
    streaming: Http,
    endpoint: String,
}

impl Api {
    fn request(&self, operation: &str, body: &Value) -> Request<Full<Bytes>> {
        Request::post(format!("{}/", self.endpoint))
            .header("X-Amz-Target", format!("Kinesis_20131202.{operation}"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("Authorization", AUTHORIZATION)
            .header("X-Amz-Date", "20240101T000000Z")
            .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default())))
            .unwrap_or_default()
    }

    async fn call(&self, operation: &str, body: Value) -> Result<Value, Failure> {
        let response = self.http.request(self.request(operation, &body)).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status != StatusCode::OK {
            return Err(format!("{operation}: {status} {value}").into());
        }
        Ok(value)
    }

    /// A one-shard stream and `consumers` ACTIVE consumers; returns their ARNs.
    async fn stream(&self, name: &str, consumers: usize) -> Result<Vec<String>, Failure> {
        self.call("CreateStream", json!({"StreamName": name, "ShardCount": 1})).await?;
        let arn = loop {
            let summary = self.call("DescribeStreamSummary", json!({"StreamName": name})).await?;
            if summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE" {
                break summary["StreamDescriptionSummary"]["StreamARN"].as_str().unwrap_or_default().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut arns = Vec::new();
        for i in 0..consumers {
            let body = json!({"StreamARN": arn, "ConsumerName": format!("c{i}")});
            // At most five consumers may be CREATING at once.
            let registered = loop {
                match self.call("RegisterStreamConsumer", body.clone()).await {
                    Ok(registered) => break registered,
                    Err(error) if error.to_string().contains("LimitExceeded") => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    Err(error) => return Err(error),
                }
            };
            arns.push(registered["Consumer"]["ConsumerARN"].as_str().unwrap_or_default().to_owned());
        }
        for consumer in &arns {
            loop {
                let described = self.call("DescribeStreamConsumer", json!({"ConsumerARN": consumer})).await?;
                if described["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(arns)
    }

    /// Puts records whose partition keys are their ids; returns when acknowledged.
    async fn put(&self, stream: &str, ids: std::ops::Range<u64>, padding: &str) -> Result<(), Failure> {
        let records: Vec<Value> = ids.map(|id| json!({"PartitionKey": id.to_string(), "Data": padding})).collect();
        let out = self.call("PutRecords", json!({"StreamName": stream, "Records": records})).await?;
        if out["FailedRecordCount"].as_u64() != Some(0) {
            return Err(format!("PutRecords failed: {out}").into());
        }
        Ok(())
    }

    /// Opens a subscription; the task it starts notes (record id, arrival) until the
    /// stream ends, `stop` is set, or the record `last_id` arrived.
    async fn subscribe(
        &self,
        consumer: &str,
        position: &str,
        stop: tokio::sync::watch::Receiver<bool>,
        last_id: Option<u64>,
    ) -> Result<tokio::task::JoinHandle<Vec<(u64, Instant)>>, Failure> {
        let body =
            json!({"ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": {"Type": position}});
        let response = self.streaming.request(self.request("SubscribeToShard", &body)).await?;
        if response.status() != StatusCode::OK {
            let bytes = response.into_body().collect().await?.to_bytes();
            return Err(format!("SubscribeToShard: {}", String::from_utf8_lossy(&bytes)).into());
        }
        let mut body = response.into_body();
        let mut decoder = Decoder::default();
        // Wait for the initial response, so that the subscription is open when this returns.
        'initial: loop {
            let Some(frame) = body.frame().await else { return Err("the stream ended at once".into()) };
            if let Ok(data) = frame?.into_data() {
                decoder.push(&data);
            }
            while let Some(message) = decoder.next_message()? {
                if message.header(":event-type") == Some("initial-response") {
                    break 'initial;
                }
            }
        }
        Ok(tokio::spawn(async move {
            let mut stop = stop;
            let mut seen: Vec<(u64, Instant)> = Vec::new();
            loop {
                if last_id.is_some() && seen.last().map(|(id, _)| *id) == last_id {
                    break;
                }
                let frame = tokio::select! {
                    frame = body.frame() => frame,
                    _ = stop.changed() => break,
                };
                let Some(Ok(frame)) = frame else { break };
                let now = Instant::now();
                let Ok(data) = frame.into_data() else { continue };
                decoder.push(&data);
                while let Ok(Some(message)) = decoder.next_message() {
                    let payload = String::from_utf8_lossy(message.payload());
                    // Partition keys are the record ids; no need to parse the whole event.
                    for (at, _) in payload.match_indices("\"PartitionKey\":\"") {
                        let digits = &payload[at + 16..];
                        let end = digits.find('"').unwrap_or(0);
                        if let Ok(id) = digits[..end].parse::<u64>() {
                            seen.push((id, now));
                        }
                    }
                }
            }
            seen
        }))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

async fn latency(api: &Api, options: &Options, rate: u64, subscribers: usize) -> Result<(), Failure> {
    let stream = format!("efo-latency-{rate}-{subscribers}-{}", std::process::id());
    let consumers = api.stream(&stream, subscribers).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    for consumer in &consumers {
        readers.push(api.subscribe(consumer, "LATEST", stopped.clone(), None).await?);
    }
    let padding = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; options.record_bytes]);
    let per_tick = (rate * TICK_MS / 1000).max(1);
    let ticks = options.seconds * 1000 / TICK_MS;
    // (request sent, response received) per record id.
    let mut acknowledged: Vec<(Instant, Instant)> = Vec::with_capacity((per_tick * ticks) as usize);
    let mut interval = tokio::time::interval(Duration::from_millis(TICK_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut next_id = 0u64;
    for _ in 0..ticks {
        interval.tick().await;
        let sent = Instant::now();
        api.put(&stream, next_id..next_id + per_tick, &padding).await?;
        let now = Instant::now();
        acknowledged.extend((0..per_tick).map(|_| (sent, now)));
        next_id += per_tick;
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(true);
    let mut latencies = Vec::with_capacity(acknowledged.len() * subscribers);
    let mut from_send = Vec::with_capacity(acknowledged.len() * subscribers);
    let mut delivered = 0usize;
    let mut out_of_order = 0usize;
    for reader in readers {
        let seen = reader.await?;
        delivered += seen.len();
        out_of_order += seen.windows(2).filter(|w| w[1].0 != w[0].0 + 1).count();
        for (id, arrived) in seen {
            if let Some((sent, ack)) = acknowledged.get(id as usize) {
                latencies.push(arrived.saturating_duration_since(*ack));
                from_send.push(arrived.saturating_duration_since(*sent));
            }
        }
    }
    latencies.sort_unstable();
    from_send.sort_unstable();
    let expected = acknowledged.len() * subscribers;
    println!(
        "{rate:>7} {subscribers:>5} {:>9.0} {:>9} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>8.2} | {:>8.2} {:>8.2} {:>8.2}{}",
        acknowledged.len() as f64 / elapsed.as_secs_f64(),
        acknowledged.len(),
        delivered,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        percentile(&from_send, 0.50),
        percentile(&from_send, 0.99),
        from_send.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        if delivered != expected || out_of_order > 0 {
            format!("   MISSING {} / OUT OF ORDER {out_of_order}", expected.saturating_sub(delivered))
        } else {
            String::new()
        }
    );
    Ok(())
}

async fn throughput(api: &Api, options: &Options, subscribers: usize) -> Result<(), Failure> {
    let stream = format!("efo-throughput-{subscribers}-{}", std::process::id());
    let consumers = api.stream(&stream, subscribers).await?;
    let padding = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; options.record_bytes]);
    let total = options.throughput_records as u64;
    let mut next_id = 0;
    while next_id < total {
        let end = (next_id + 500).min(total);
        api.put(&stream, next_id..end, &padding).await?;
        next_id = end;
    }
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let mut readers = Vec::new();
    for consumer in &consumers {
        readers.push(api.subscribe(consumer, "TRIM_HORIZON", stopped.clone(), Some(total - 1)).await?);
    }
    let mut delivered = 0usize;
    let mut finished = started;
    for reader in readers {
        let seen = tokio::time::timeout(Duration::from_secs(300), reader).await??;
        delivered += seen.len();
        if let Some((_, at)) = seen.last() {
            finished = finished.max(*at);
        }
    }
    let seconds = finished.duration_since(started).as_secs_f64();
    let bytes = delivered as f64 * options.record_bytes as f64;
    println!(
        "throughput: {subscribers} subscriber(s) from TRIM_HORIZON: {delivered} of {} records of {} B in {seconds:.2} s = {:.0} records/s, {:.1} MiB/s of record data",
        total * subscribers as u64,
        options.record_bytes,
        delivered as f64 / seconds,
        bytes / seconds / (1024.0 * 1024.0)
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Failure> {
    let options = options()?;
    let mut _server = None;
    let mut _root = None;
    let endpoint = match &options.endpoint {
        Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
        None => {
            let root = std::env::temp_dir().join(format!("rheo-efo-bench-{}", std::process::id()));
            let config = EngineConfig {
                create_stream_ms: 0,
                delete_stream_ms: 0,
                update_stream_ms: 0,
                consumer_ms: 0,
                ..Default::default()
            };
            let log_config = LogConfig { durability: options.durability, ..Default::default() };
            let engine = Arc::new(Engine::open(Arc::new(StdFs), Arc::new(SystemClock), &root, log_config, config)?);
            let server = Server::bind("127.0.0.1:0".parse()?, engine, None).await?;
            let address = server.local_addr()?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(server.run(async {
                let _ = stopped.await;
            }));
            _server = Some((stop, task));
            _root = Some(root);
            format!("http://{address}")
        }
    };
    let mut streaming = Client::builder(TokioExecutor::new());
    streaming.http2_only(options.http2);
    let api = Api {
        http: Client::builder(TokioExecutor::new()).build_http(),
        streaming: streaming.build_http(),
        endpoint: endpoint.clone(),
    };
    println!(
        "# endpoint {endpoint}{}, subscriptions over HTTP/{}, {} B records, PutRecords every {TICK_MS} ms, {} s per run",
        if options.endpoint.is_none() {
            format!(" (in-process, durability {:?})", options.durability)
        } else {
            String::new()
        },
        if options.http2 { 2 } else { 1 },
        options.record_bytes,
        options.seconds
    );
    println!("# left: event arrival at the subscriber - PutRecords acknowledgement (0 if the event came first)");
    println!("# right: event arrival - PutRecords request sent (includes the put's own fsync and HTTP round trip)");
    println!(
        "{:>7} {:>5} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8}",
        "rate",
        "subs",
        "put/s",
        "records",
        "delivered",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "p50_ms",
        "p99_ms",
        "max_ms"
    );
    for &rate in &options.rates {
        for &subscribers in &options.subscribers {
            latency(&api, &options, rate, subscribers).await?;
        }
    }
    if options.throughput_records > 0 {
        throughput(&api, &options, 1).await?;
        throughput(&api, &options, 5).await?;
    }
    if let Some((stop, task)) = _server.take() {
        let _ = stop.send(());
        let _ = task.await;
    }
    if let Some(root) = _root {
        let _ = std::fs::remove_dir_all(root);
    }
    Ok(())
}
