//! CPU time and memory of a process, from `/proc/PID/stat` and `/proc/PID/status`.

use std::time::Instant;

use serde::Serialize;

/// Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture Rheo
/// targets.
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading.
#[derive(Clone, Copy, Debug)]
pub struct ProcSample {
    /// When it was taken.
    pub at: Instant,
    /// User + system CPU seconds so far.
    pub cpu_s: f64,
    /// Resident set, KiB.
    pub rss_kib: u64,
    /// Peak resident set (VmHWM), KiB.
    pub hwm_kib: u64,
}

/// Reads a process's CPU time and memory; `None` when it is gone or unreadable.
pub fn sample(pid: u32) -> Option<ProcSample> {
    sample_path(&format!("/proc/{pid}"))
}

/// The same for this process.
pub fn sample_self() -> Option<ProcSample> {
    sample_path("/proc/self")
}

fn sample_path(dir: &str) -> Option<ProcSample> {
    let at = Instant::now();
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let cpu_s = parse_stat_cpu_ticks(&stat)? as f64 / TICKS_PER_SECOND;
    Some(ProcSample {
        at,
        cpu_s,
        rss_kib: parse_status_kib(&status, "VmRSS:").unwrap_or(0),
        hwm_kib: parse_status_kib(&status, "VmHWM:").unwrap_or(0),
    })
}

/// utime + stime (fields 14 and 15) from a `/proc/PID/stat` line; the command name (field 2)
/// may contain spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 → index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `Name:   123 kB` line of `/proc/PID/status`, in KiB.
pub fn parse_status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Server figures over a measured window.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ProcReport {
    /// The process.
    pub pid: u32,
    /// CPU seconds used during the window.
    pub cpu_s: f64,
    /// Average CPU% over the window (100 = one core).
    pub cpu_percent: f64,
    /// RSS at the end, MiB.
    pub rss_mib: f64,
    /// Highest RSS seen while sampling, MiB.
    pub rss_max_mib: f64,
    /// The kernel's peak RSS (VmHWM) at the end, MiB.
    pub rss_hwm_mib: f64,
}

/// Follows a process across a run: call [`Watch::tick`] periodically, [`Watch::start`] when
/// measuring begins and [`Watch::report`] at the end.
#[derive(Debug)]
pub struct Watch {
    pid: u32,
    start: Option<ProcSample>,
    last: Option<ProcSample>,
    previous_tick: Option<ProcSample>,
    rss_max_kib: u64,
}

impl Watch {
    /// Watches `pid`.
    pub fn new(pid: u32) -> Self {
        let first = sample(pid);
        Watch { pid, start: first, last: first, previous_tick: first, rss_max_kib: first.map_or(0, |s| s.rss_kib) }
    }

    /// Marks the start of the measured window.
    pub fn start(&mut self) {
        self.start = sample(self.pid);
        self.last = self.start;
        if let Some(s) = self.start {
            self.rss_max_kib = self.rss_max_kib.max(s.rss_kib);
        }
    }

    /// Samples; returns (CPU% since the previous tick, RSS MiB).
    pub fn tick(&mut self) -> Option<(f64, f64)> {
        let now = sample(self.pid)?;
        self.rss_max_kib = self.rss_max_kib.max(now.rss_kib);
        self.last = Some(now);
        let percent = self.previous_tick.map(|p| cpu_percent(&p, &now)).unwrap_or(0.0);
        self.previous_tick = Some(now);
        Some((percent, now.rss_kib as f64 / 1024.0))
    }

    /// Figures from [`Watch::start`] to now.
    pub fn report(&mut self) -> Option<ProcReport> {
        let end = sample(self.pid).or(self.last)?;
        self.rss_max_kib = self.rss_max_kib.max(end.rss_kib);
        let start = self.start.unwrap_or(end);
        Some(ProcReport {
            pid: self.pid,
            cpu_s: crate::stats::round3(end.cpu_s - start.cpu_s),
            cpu_percent: crate::stats::round1(cpu_percent(&start, &end)),
            rss_mib: crate::stats::round1(end.rss_kib as f64 / 1024.0),
            rss_max_mib: crate::stats::round1(self.rss_max_kib as f64 / 1024.0),
            rss_hwm_mib: crate::stats::round1(end.hwm_kib as f64 / 1024.0),
        })
    }
}

fn cpu_percent(a: &ProcSample, b: &ProcSample) -> f64 {
    let wall = b.at.duration_since(a.at).as_secs_f64();
    if wall <= 0.0 {
        return 0.0;
    }
    (b.cpu_s - a.cpu_s) / wall * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let stat = "1234 (my (weird) cmd) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 4 0 100 1000000 500";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(325));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn parses_status_memory() {
        let status = "Name:\trheo\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(20480));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(40960));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn reads_this_process() {
        let s = sample_self().unwrap();
        assert!(s.rss_kib > 0);
        assert!(s.cpu_s >= 0.0);
        let mut watch = Watch::new(std::process::id());
        watch.start();
        let r = watch.report().unwrap();
        assert_eq!(r.pid, std::process::id());
        assert!(r.rss_max_mib >= r.rss_mib * 0.5);
    }
}
