//! `disk`: the latency of the disk's own `fdatasync`, the floor under every durable put.
//!
//! Appends a record to a file at a fixed rate and syncs after each one, the way a group
//! commit of one small batch does. Run beside the service benchmarks it tells how much
//! of a durable put's (and so of put→get and put→push) latency is the disk's.

use std::io::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{BenchError, Result};
use crate::report::{emit, latency_row, render, thousands};
use crate::stats::{latency_histogram, record_latency, round3, Percentiles};
use crate::DiskArgs;

/// A sync slower than this counts as a stall in the report.
const STALL: Duration = Duration::from_millis(10);

/// What one run measured.
struct Measured {
    syncs: Percentiles,
    stalls: u64,
    stalled: Duration,
}

fn measure(args: &DiskArgs) -> Result<Measured> {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir(),
    };
    let path = dir.join(format!("rheo-bench-disk-{:016x}", rand::random::<u64>()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().create_new(true).append(true).open(&path)?;
        let record = vec![0x5au8; args.record_bytes];
        let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
        let syncs_total = (args.duration * args.rate as f64).ceil().max(1.0) as u64;
        let mut histogram = latency_histogram();
        let (mut stalls, mut stalled) = (0u64, Duration::ZERO);
        let start = Instant::now();
        for i in 0..syncs_total {
            let scheduled = start + interval.mul_f64(i as f64);
            if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            file.write_all(&record)?;
            let before = Instant::now();
            file.sync_data()?;
            let took = before.elapsed();
            record_latency(&mut histogram, took);
            if took > STALL {
                stalls += 1;
                stalled += took;
            }
        }
        Ok::<_, std::io::Error>(Measured { syncs: Percentiles::from_histogram(&histogram), stalls, stalled })
    })();
    let _ = std::fs::remove_file(&path);
    Ok(result?)
}

/// Runs `disk`.
pub(crate) async fn run(args: &DiskArgs) -> Result<serde_json::Value> {
    if args.rate == 0 || args.record_bytes == 0 || args.duration.is_nan() || args.duration <= 0.0 {
        return Err(BenchError::Args("--rate, --record-bytes and --duration must be positive".into()));
    }
    let measured = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || measure(&args))
            .await
            .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))??
    };
    let json = json!({
        "tool": "rheo-bench",
        "schema": crate::report::SCHEMA_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": "disk",
        "label": args.label,
        "timestamp": rheo_aws::sigv4::amz_date(std::time::SystemTime::now()),
        "params": { "dir": args.dir, "rate": args.rate, "record_bytes": args.record_bytes, "duration_s": args.duration },
        "fdatasync_ms": measured.syncs,
        "stalls_over_10ms": measured.stalls,
        "stalled_ms": round3(measured.stalled.as_secs_f64() * 1000.0),
    });
    let rows = vec![
        (
            "file in".to_owned(),
            args.dir.as_ref().map_or_else(|| std::env::temp_dir().display().to_string(), |d| d.display().to_string()),
        ),
        (
            "append + fdatasync".to_owned(),
            format!("{} B at {} per second for {} s", args.record_bytes, args.rate, args.duration),
        ),
        ("fdatasync".to_owned(), latency_row(&measured.syncs)),
        (
            "stalls over 10 ms".to_owned(),
            format!("{}, {:.0} ms in all", thousands(measured.stalls), measured.stalled.as_secs_f64() * 1000.0),
        ),
    ];
    let table = render("rheo-bench disk", &rows);
    emit(&json, (!args.json_only).then_some(table.as_str()), args.out.as_deref())?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_every_sync_and_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("rheo-disk-test-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let args = DiskArgs {
            dir: Some(dir.clone()),
            rate: 200,
            record_bytes: 100,
            duration: 0.05,
            label: None,
            out: None,
            json_only: true,
        };
        let measured = measure(&args).unwrap();
        assert_eq!(measured.syncs.count, 10);
        assert!(measured.syncs.max >= measured.syncs.p50);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "the probe file is removed");
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn refuses_a_zero_rate() {
        let args =
            DiskArgs { dir: None, rate: 0, record_bytes: 1, duration: 1.0, label: None, out: None, json_only: true };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        assert!(matches!(runtime.block_on(run(&args)), Err(BenchError::Args(_))));
    }
}
