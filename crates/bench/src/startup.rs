//! `startup`: spawn a server, time it to its first answered ListStreams, read its idle RSS.
//! `ready`: wait for an endpoint to answer.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::error::{BenchError, Result};
use crate::report::{emit, render};
use crate::stats::{round1, round3};
use crate::{Ctx, StartupArgs};

/// Pause between attempts while a server starts.
const ATTEMPT_EVERY: Duration = Duration::from_millis(1);
/// How long a stopped server may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Tries ListStreams until it is answered with success; the child, if given, must not exit.
async fn wait_answered(ctx: &Ctx, deadline: Instant, mut child: Option<&mut Child>) -> Result<()> {
    loop {
        if let Some(child) = child.as_deref_mut() {
            if let Some(status) = child.try_wait()? {
                return Err(BenchError::Io(std::io::Error::other(format!(
                    "the server exited with {status} before answering (run the command by hand to see why)"
                ))));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(BenchError::Timeout(format!("{} did not answer ListStreams", ctx.common.endpoint)));
        }
        let mut client = ctx.client();
        if let Ok(Ok(())) = tokio::time::timeout(deadline - now, crate::api::list_streams(&mut client)).await {
            return Ok(());
        }
        tokio::time::sleep(ATTEMPT_EVERY).await;
    }
}

async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}

fn fresh_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("rheo-bench-startup-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `startup`.
pub(crate) async fn run(ctx: &Ctx, args: &StartupArgs) -> Result<Value> {
    if args.repeat == 0 || args.command.is_empty() {
        return Err(BenchError::Args("--repeat must be at least 1 and a command is needed".into()));
    }
    let timeout = Duration::from_secs_f64(args.timeout.max(0.0));
    let mut runs_ms = Vec::new();
    let mut idle_rss_mib = None;
    let mut idle_cpu_percent = None;
    for i in 0..args.repeat {
        let dir = if args.command.iter().any(|a| a.contains("{tmpdir}")) { Some(fresh_dir()?) } else { None };
        let command: Vec<String> = args
            .command
            .iter()
            .map(|a| match &dir {
                Some(d) => a.replace("{tmpdir}", &d.to_string_lossy()),
                None => a.clone(),
            })
            .collect();
        let started = Instant::now();
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let answered = wait_answered(ctx, started + timeout, Some(&mut child)).await;
        let elapsed = started.elapsed();
        if answered.is_ok() {
            ctx.say(&format!("start {}: answered after {:.1} ms", i + 1, elapsed.as_secs_f64() * 1000.0));
            runs_ms.push(round3(elapsed.as_secs_f64() * 1000.0));
            if i == 0 && args.idle_secs > 0.0 {
                if let Some(pid) = child.id() {
                    let mut watch = crate::procstat::Watch::new(pid);
                    tokio::time::sleep(Duration::from_secs_f64(args.idle_secs)).await;
                    watch.start();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if let Some(r) = watch.report() {
                        idle_rss_mib = Some(r.rss_mib);
                        idle_cpu_percent = Some(r.cpu_percent);
                    }
                }
            }
        }
        stop(&mut child).await;
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        answered?;
    }
    let median_ms = round3(median(&runs_ms));
    let min = runs_ms.iter().copied().fold(f64::INFINITY, f64::min);
    let max = runs_ms.iter().copied().fold(0.0, f64::max);
    let json = json!({
        "tool": "rheo-bench",
        "schema": crate::report::SCHEMA_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": "startup",
        "label": ctx.common.label,
        "endpoint": ctx.common.endpoint,
        "timestamp": rheo_aws::sigv4::amz_date(std::time::SystemTime::now()),
        "command": args.command.join(" "),
        "startup_ms": { "runs": runs_ms, "median": median_ms, "min": round3(min), "max": round3(max) },
        "idle_secs": args.idle_secs,
        "idle_rss_mib": idle_rss_mib,
        "idle_cpu_percent": idle_cpu_percent.map(round1),
    });
    let rows = vec![
        ("target".to_owned(), format!("{} ({})", ctx.common.label.as_deref().unwrap_or("-"), ctx.common.endpoint)),
        ("command".to_owned(), args.command.join(" ")),
        (
            "spawn → first answered ListStreams".to_owned(),
            format!("median {median_ms:.1} ms (min {min:.1}, max {max:.1}, {} starts)", runs_ms.len()),
        ),
        (
            format!("idle RSS after {} s", args.idle_secs),
            idle_rss_mib.map_or("-".into(), |r| format!("{r:.1} MiB (cpu {:.1}%)", idle_cpu_percent.unwrap_or(0.0))),
        ),
    ];
    let table = render("rheo-bench startup", &rows);
    emit(&json, (!ctx.common.json_only).then_some(table.as_str()), ctx.common.out.as_deref())?;
    Ok(json)
}

/// Runs `ready`.
pub(crate) async fn ready(ctx: &Ctx, timeout: Duration) -> Result<Value> {
    let started = Instant::now();
    wait_answered(ctx, started + timeout, None).await?;
    let json = json!({
        "tool": "rheo-bench",
        "mode": "ready",
        "label": ctx.common.label,
        "endpoint": ctx.common.endpoint,
        "ready_ms": round3(started.elapsed().as_secs_f64() * 1000.0),
    });
    emit(&json, None, ctx.common.out.as_deref())?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
