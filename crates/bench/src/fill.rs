//! Filling a stream before a read-side run (`get`, `queue`): C connections with one
//! PutRecords in flight each until a record budget is spent or a time cap passes, with a
//! progress line per second.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::body::{bodies_to_build, build_bodies};
use crate::error::BenchError;
use crate::error::Result;
use crate::procstat::Watch;
use crate::put::{connected_clients, spawn_producers, Budget};
use crate::report::{latency_row, per_s, progress_line, thousands, Summary};
use crate::stats::{round1, round3, Meter};
use crate::{Ctx, FillArgs};

/// What a fill did.
pub(crate) struct Filled {
    /// Records acknowledged.
    pub(crate) records: u64,
    /// Seconds it took.
    pub(crate) elapsed_s: f64,
    /// Its counters and latency.
    pub(crate) meter: Arc<Meter>,
    /// Connections it opened.
    pub(crate) connects: u64,
}

impl FillArgs {
    /// Refuses values that cannot work.
    pub(crate) fn check(&self) -> Result<()> {
        if self.batch == 0 || self.batch > 500 {
            return Err(BenchError::Args("--batch must be 1..=500 (the PutRecords limit)".into()));
        }
        if self.connections == 0 {
            return Err(BenchError::Args("--connections must be at least 1".into()));
        }
        Ok(())
    }

    /// The options, for a summary's `params`.
    pub(crate) fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        json!({
            "connections": self.connections, "batch": self.batch, "record_bytes": self.record_bytes,
            "fill": self.records, "fill_secs": self.fill_secs, "bodies": self.bodies,
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }
}

/// Fills `stream` as `plan` says; `watch` (the server's process) ticks in the progress lines.
pub(crate) async fn fill(ctx: &Ctx, stream: &str, plan: &FillArgs, watch: &mut Option<Watch>) -> Result<Filled> {
    let count = bodies_to_build(plan.bodies, plan.batch, plan.record_bytes);
    let bodies = Arc::new(build_bodies(stream, plan.batch, plan.record_bytes, count, 0));
    let meter = Arc::new(Meter::new(true));
    let stop = Arc::new(AtomicBool::new(false));
    let budget = Arc::new(Budget::new(plan.records));
    let connects = Arc::new(AtomicU64::new(0));
    let clients = connected_clients(ctx, plan.connections).await?;
    connects.fetch_add(clients.len() as u64, Ordering::Relaxed);
    let start = Instant::now();
    let mut workers = spawn_producers(clients, &bodies, &meter, &stop, Some(&budget), &connects);
    let deadline = start + Duration::from_secs_f64(plan.fill_secs.max(0.0));
    let mut second = 0;
    let mut next_tick = start + Duration::from_secs(1);
    loop {
        let wake = if stop.load(Ordering::Relaxed) { next_tick } else { next_tick.min(deadline) };
        tokio::select! {
            joined = workers.join_next() => if joined.is_none() { break },
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if now >= deadline && !stop.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::SeqCst);
                    ctx.say(&format!("fill: {} s cap reached, waiting for requests in flight", plan.fill_secs));
                }
                if now >= next_tick {
                    second += 1;
                    next_tick += Duration::from_secs(1);
                    let server = watch.as_mut().and_then(|w| w.tick());
                    let line = progress_line("fill", second, &meter.take_interval(), meter.errors.load(Ordering::Relaxed), server);
                    ctx.progress(&line);
                }
            }
        }
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    let records = meter.records();
    ctx.say(&format!("filled {} records in {elapsed_s:.2} s", thousands(records)));
    Ok(Filled { records, elapsed_s, meter, connects: connects.load(Ordering::Relaxed) })
}

impl Filled {
    /// Adds the fill's figures to a summary: the `fill` object and `filled` in the JSON, a
    /// `fill` row in the table.
    pub(crate) fn report_into(&self, summary: &mut Summary) {
        let latency = self.meter.latency();
        let rate = per_s(self.records as f64, self.elapsed_s);
        summary.extra.insert(
            "fill".into(),
            json!({
                "records": self.records,
                "elapsed_s": round3(self.elapsed_s),
                "records_per_s": round1(rate),
                "mb_per_s": round3(per_s(self.meter.bytes.load(Ordering::Relaxed) as f64 / 1e6, self.elapsed_s)),
                "latency_ms": latency,
                "errors": { "total": self.meter.errors.load(Ordering::Relaxed), "by_type": self.meter.errors_by_type() },
                "failed_records": { "total": self.meter.failed_records.load(Ordering::Relaxed), "by_code": self.meter.failed_by_code() },
            }),
        );
        summary.extra.insert("filled".into(), json!(self.records));
        summary.rows.push((
            "fill".into(),
            format!(
                "{} records in {:.2} s = {} rec/s; {}",
                thousands(self.records),
                self.elapsed_s,
                thousands(rate.round() as u64),
                latency_row(&latency)
            ),
        ));
    }
}
