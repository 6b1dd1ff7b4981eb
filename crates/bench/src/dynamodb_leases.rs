//! `dynamodb-leases`: the DynamoDB load a fleet of KCL workers puts on a lease table.
//! Creates a lease table as KCL 3 does (on demand, `leaseKey` hash key, then the
//! `LeaseOwnerToLeaseKeyIndex` GSI added by UpdateTable), puts N leases spread over W
//! workers with KCL's create condition, then each worker renews all of its leases every R
//! ms with KCL's renewal call: UpdateItem with the legacy `Expected {leaseCounter: {Value},
//! leaseOwner: {Value}}` and `AttributeUpdates {leaseCounter: ADD 1}`, on C connections.
//!
//! Reports renewals per second (each one durable and conditional), their latency, rounds
//! that did not fit in R ms, and the server's CPU (with `--pid`). A renewal refused with
//! `ConditionalCheckFailedException` is an error: nobody else touches the leases.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use crate::error::{BenchError, Result};
use crate::http::{Client, SignedBody};
use crate::procstat::Watch;
use crate::report::{latency_row, progress_line, thousands, Summary};
use crate::stats::Meter;
use crate::{Ctx, DynamoLeasesArgs};

/// DynamoDB's JSON protocol: version 1.0 and its target prefix.
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// KCL's lease-owner index.
const OWNER_INDEX: &str = "LeaseOwnerToLeaseKeyIndex";
/// Most workers and connections per worker a run may start.
pub const WORKERS_MAX: usize = 256;
const CONNECTIONS_MAX: usize = 64;
/// Most leases a run may create.
const LEASES_MAX: usize = 1_000_000;
/// Pause after a failed request, so an error does not turn into a busy loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(5);
/// How often table and index status are polled.
const POLL: Duration = Duration::from_millis(50);

fn client(ctx: &Ctx) -> Client {
    ctx.client_for("dynamodb").with_target_prefix(TARGET_PREFIX).with_content_type(CONTENT_TYPE)
}

#[derive(Deserialize)]
struct DescribeOut {
    #[serde(rename = "Table")]
    table: TableOut,
}

#[derive(Deserialize)]
struct TableOut {
    #[serde(rename = "TableStatus")]
    status: String,
    #[serde(rename = "GlobalSecondaryIndexes", default)]
    indexes: Vec<IndexOut>,
}

#[derive(Deserialize)]
struct IndexOut {
    #[serde(rename = "IndexName")]
    name: String,
    #[serde(rename = "IndexStatus")]
    status: String,
}

/// Waits until the table (and, with `index`, that index) is ACTIVE.
async fn wait_active(client: &mut Client, table: &str, index: Option<&str>, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match client.call::<DescribeOut>("DescribeTable", &json!({ "TableName": table })).await {
            Ok(out) => {
                let index_active = index.is_none_or(|wanted| {
                    out.table.indexes.iter().any(|index| index.name == wanted && index.status == "ACTIVE")
                });
                if out.table.status == "ACTIVE" && index_active {
                    return Ok(());
                }
            }
            Err(e) if e.error_type() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(e),
        }
        if Instant::now() > deadline {
            return Err(BenchError::Timeout(format!("table {table} not ACTIVE after {timeout:?}")));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Creates the lease table with KCL's index, as KCL 3.x does.
async fn create_lease_table(client: &mut Client, table: &str, timeout: Duration) -> Result<()> {
    let create = json!({
        "TableName": table,
        "KeySchema": [{ "AttributeName": "leaseKey", "KeyType": "HASH" }],
        "AttributeDefinitions": [{ "AttributeName": "leaseKey", "AttributeType": "S" }],
        "BillingMode": "PAY_PER_REQUEST",
        "DeletionProtectionEnabled": false,
    });
    client.call::<serde_json::Value>("CreateTable", &create).await?;
    wait_active(client, table, None, timeout).await?;
    let index = json!({
        "TableName": table,
        "AttributeDefinitions": [
            { "AttributeName": "leaseKey", "AttributeType": "S" },
            { "AttributeName": "leaseOwner", "AttributeType": "S" },
        ],
        "GlobalSecondaryIndexUpdates": [{ "Create": {
            "IndexName": OWNER_INDEX,
            "KeySchema": [
                { "AttributeName": "leaseOwner", "KeyType": "HASH" },
                { "AttributeName": "leaseKey", "KeyType": "RANGE" },
            ],
            "Projection": { "ProjectionType": "KEYS_ONLY" },
        }}],
    });
    client.call::<serde_json::Value>("UpdateTable", &index).await?;
    wait_active(client, table, Some(OWNER_INDEX), timeout).await
}

fn lease_key(lease: usize) -> String {
    format!("shardId-{lease:012}")
}

fn worker_name(worker: usize) -> String {
    format!("bench-worker-{worker}")
}

/// KCL's create-lease call: PutItem with `Expected {leaseKey: {Exists: false}}`.
fn create_lease_body(table: &str, lease: usize, owner: &str) -> SignedBody {
    let body = json!({
        "TableName": table,
        "Item": {
            "leaseKey": { "S": lease_key(lease) },
            "leaseOwner": { "S": owner },
            "leaseCounter": { "N": "0" },
            "checkpoint": { "S": "TRIM_HORIZON" },
            "checkpointSubSequenceNumber": { "N": "0" },
            "ownerSwitchesSinceCheckpoint": { "N": "0" },
            "leaseState": { "S": "ACTIVE" },
        },
        "Expected": { "leaseKey": { "Exists": false } },
    });
    SignedBody::new(None, Bytes::from(body.to_string()))
}

/// KCL's renewal call.
fn renew_body(table: &str, lease: usize, owner: &str, counter: u64) -> SignedBody {
    let body = json!({
        "TableName": table,
        "Key": { "leaseKey": { "S": lease_key(lease) } },
        "Expected": {
            "leaseCounter": { "Value": { "N": counter.to_string() } },
            "leaseOwner": { "Value": { "S": owner } },
        },
        "AttributeUpdates": { "leaseCounter": { "Action": "ADD", "Value": { "N": "1" } } },
    });
    SignedBody::new(None, Bytes::from(body.to_string()))
}

/// Sends one request, counting it in `meter`; whether it succeeded.
async fn send(client: &mut Client, operation: &'static str, body: &SignedBody, meter: &Meter) -> bool {
    let started = Instant::now();
    match client.send(operation, body).await {
        Ok(reply) => match reply.error_type {
            None => {
                meter.ok(started.elapsed(), 1, 0, &[]);
                true
            }
            Some(error_type) => {
                meter.error(&error_type);
                false
            }
        },
        Err(e) => {
            meter.error(&e.kind());
            tokio::time::sleep(ERROR_BACKOFF).await;
            false
        }
    }
}

/// Puts every lease, `connections` at a time.
async fn create_leases(ctx: &Ctx, args: &DynamoLeasesArgs, table: &Arc<str>) -> Result<u64> {
    let meter = Arc::new(Meter::new(true));
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.connections.max(1) * args.workers.min(4) {
        let (meter, next, table, mut client) = (meter.clone(), next.clone(), table.clone(), client(ctx));
        let (leases, workers) = (args.leases, args.workers);
        tasks.spawn(async move {
            loop {
                let lease = next.fetch_add(1, Ordering::Relaxed) as usize;
                if lease >= leases {
                    break;
                }
                let body = create_lease_body(&table, lease, &worker_name(lease % workers));
                send(&mut client, "PutItem", &body, &meter).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let failed = meter.errors.load(Ordering::Relaxed);
    if failed > 0 {
        return Err(BenchError::Args(format!("{failed} leases could not be created: {:?}", meter.errors_by_type())));
    }
    Ok(meter.records())
}

/// What the renewing workers share.
struct Shared {
    meter: Meter,
    /// Rounds that took longer than the renewal interval.
    late_rounds: AtomicU64,
    rounds: AtomicU64,
    stop: AtomicBool,
}

/// One worker: every interval, renews each of its leases, spread over its connections.
async fn worker(ctx: Arc<Ctx>, args: DynamoLeasesArgs, table: Arc<str>, worker: usize, shared: Arc<Shared>) {
    let owner: Arc<str> = worker_name(worker).into();
    let leases: Vec<usize> = (worker..args.leases).step_by(args.workers).collect();
    let interval = Duration::from_millis(args.renew_ms);
    // Each connection renews every `connections`-th lease of the worker's, keeping its
    // counters (KCL keeps each lease's counter in memory the same way).
    let mut lanes: Vec<(Client, Vec<(usize, u64)>)> = (0..args.connections)
        .map(|lane| {
            let own = leases.iter().skip(lane).step_by(args.connections).map(|&lease| (lease, 0u64)).collect();
            (client(&ctx), own)
        })
        .collect();
    let mut next_round = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let rounds = lanes.drain(..).map(|(mut client, mut own)| {
            let (shared, owner, table) = (shared.clone(), owner.clone(), table.clone());
            tokio::spawn(async move {
                for (lease, counter) in &mut own {
                    if shared.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = renew_body(&table, *lease, &owner, *counter);
                    if send(&mut client, "UpdateItem", &body, &shared.meter).await {
                        *counter += 1;
                    }
                }
                (client, own)
            })
        });
        let rounds: Vec<_> = rounds.collect();
        for round in rounds {
            match round.await {
                Ok(lane) => lanes.push(lane),
                Err(_) => return,
            }
        }
        shared.rounds.fetch_add(1, Ordering::Relaxed);
        next_round += interval;
        if started.elapsed() > interval {
            shared.late_rounds.fetch_add(1, Ordering::Relaxed);
            next_round = Instant::now();
        }
        tokio::time::sleep_until(next_round.into()).await;
    }
}

fn check(args: &DynamoLeasesArgs) -> Result<()> {
    if args.workers == 0 || args.workers > WORKERS_MAX {
        return Err(BenchError::Args(format!("--workers must be 1..={WORKERS_MAX}")));
    }
    if args.connections == 0 || args.connections > CONNECTIONS_MAX {
        return Err(BenchError::Args(format!("--connections must be 1..={CONNECTIONS_MAX}")));
    }
    if args.leases == 0 || args.leases > LEASES_MAX {
        return Err(BenchError::Args(format!("--leases must be 1..={LEASES_MAX}")));
    }
    if args.renew_ms == 0 {
        return Err(BenchError::Args("--renew-ms must be positive".into()));
    }
    Ok(())
}

/// Runs `dynamodb-leases`.
pub async fn run(ctx: Arc<Ctx>, args: &DynamoLeasesArgs) -> Result<Summary> {
    check(args)?;
    let table: Arc<str> = match &ctx.common.stream {
        Some(name) => name.as_str().into(),
        None => ctx.stream_name("leases").into(),
    };
    let mut control = client(&ctx);
    create_lease_table(&mut control, &table, ctx.control_timeout()).await?;
    let result = drive(ctx.clone(), args, &table).await;
    if !ctx.common.keep {
        if let Err(e) = control.call::<serde_json::Value>("DeleteTable", &json!({ "TableName": &*table })).await {
            eprintln!("warning: could not delete table {table}: {e}");
        }
    }
    result
}

async fn drive(ctx: Arc<Ctx>, args: &DynamoLeasesArgs, table: &Arc<str>) -> Result<Summary> {
    let created_at = Instant::now();
    let created = create_leases(&ctx, args, table).await?;
    ctx.say(&format!("{created} leases created in {:.1} s", created_at.elapsed().as_secs_f64()));

    let shared = Arc::new(Shared {
        meter: Meter::new(false),
        late_rounds: AtomicU64::new(0),
        rounds: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let mut workers = tokio::task::JoinSet::new();
    for index in 0..args.workers {
        workers.spawn(worker(ctx.clone(), args.clone(), table.clone(), index, shared.clone()));
    }
    // One renewal interval of warm-up: every worker has started its rounds.
    let warmup = Duration::from_millis(args.renew_ms);
    tokio::time::sleep(warmup).await;
    let mut watch = ctx.common.pid.map(Watch::new);
    if let Some(w) = watch.as_mut() {
        w.start();
    }
    let mut me = Watch::new(std::process::id());
    me.start();
    let (late_before, rounds_before) =
        (shared.late_rounds.load(Ordering::Relaxed), shared.rounds.load(Ordering::Relaxed));
    shared.meter.set_measuring(true);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.duration.max(0.0));
    let mut second = 0;
    while Instant::now() < end {
        let next = (start + Duration::from_secs(second + 1)).min(end);
        tokio::time::sleep_until(next.into()).await;
        second += 1;
        let errors = shared.meter.errors.load(Ordering::Relaxed);
        let server = watch.as_mut().and_then(|w| w.tick());
        ctx.progress(&progress_line("renew", second, &shared.meter.take_interval(), errors, server));
    }
    shared.meter.set_measuring(false);
    let elapsed = start.elapsed();
    let server = watch.as_mut().and_then(|w| w.report());
    let client_cpu = me.report().map(|r| r.cpu_percent);
    let late = shared.late_rounds.load(Ordering::Relaxed) - late_before;
    let rounds = shared.rounds.load(Ordering::Relaxed) - rounds_before;
    shared.stop.store(true, Ordering::SeqCst);
    while workers.join_next().await.is_some() {}

    let renewals = shared.meter.records();
    let offered = args.leases as f64 * 1000.0 / args.renew_ms as f64;
    let mut summary = ctx.summary("dynamodb-leases");
    summary.stream = Some(table.to_string());
    summary.params = json!({
        "leases": args.leases, "workers": args.workers, "connections_per_worker": args.connections,
        "renew_ms": args.renew_ms, "duration_s": args.duration,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    summary.elapsed_s = elapsed.as_secs_f64();
    summary.records = renewals;
    summary.requests = shared.meter.requests.load(Ordering::Relaxed);
    summary.latency = shared.meter.latency();
    summary.errors = shared.meter.errors_by_type();
    summary.connects = (args.workers * args.connections) as u64;
    summary.server = server;
    summary.client_cpu_percent = client_cpu;
    summary.extra.insert("renewals".into(), json!(renewals));
    summary.extra.insert("offered_renewals_per_s".into(), json!(offered.round()));
    summary.extra.insert("rounds".into(), json!(rounds));
    summary.extra.insert("late_rounds".into(), json!(late));
    summary.rows.push((
        "leases".into(),
        format!(
            "{} leases, {} workers × {} connections, renewing every {} ms (offered {} renewals/s); {} of {} rounds late",
            thousands(args.leases as u64),
            args.workers,
            args.connections,
            args.renew_ms,
            thousands(offered.round() as u64),
            late,
            rounds
        ),
    ));
    summary.rows.push(("renewal latency".into(), latency_row(&summary.latency)));
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_kcls_call() {
        let body = renew_body("app", 7, "w1", 41);
        let json: serde_json::Value = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(json["Key"]["leaseKey"]["S"], "shardId-000000000007");
        assert_eq!(json["Expected"]["leaseCounter"]["Value"]["N"], "41");
        assert_eq!(json["Expected"]["leaseOwner"]["Value"]["S"], "w1");
        assert_eq!(json["AttributeUpdates"]["leaseCounter"]["Action"], "ADD");
    }

    #[test]
    fn describe_answer_parses() {
        let body = br#"{"Table":{"TableName":"t","TableStatus":"ACTIVE","GlobalSecondaryIndexes":[
            {"IndexName":"LeaseOwnerToLeaseKeyIndex","IndexStatus":"CREATING"}]}}"#;
        let out: DescribeOut = serde_json::from_slice(body).unwrap();
        assert_eq!(out.table.status, "ACTIVE");
        assert_eq!(out.table.indexes[0].status, "CREATING");
    }
}
