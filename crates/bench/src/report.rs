//! The final JSON line, the summary table and the per-second progress line.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::procstat::ProcReport;
use crate::stats::{round1, round3, Interval, Percentiles};

/// Version of the JSON line's shape; bump when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// What every mode reports.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// `put`, `get`, `e2e`, `subscribe`.
    pub mode: &'static str,
    /// Free-form name of the target (`rheo`, `kinesalite`…).
    pub label: Option<String>,
    /// The endpoint URL.
    pub endpoint: String,
    /// HTTP/2 used.
    pub http2: bool,
    /// The stream.
    pub stream: Option<String>,
    /// Its shard count.
    pub shards: Option<u64>,
    /// The parameters of the run, as given.
    pub params: Map<String, Value>,
    /// Measured seconds.
    pub elapsed_s: f64,
    /// Records counted (acknowledged for put/e2e, read for get).
    pub records: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Requests that succeeded.
    pub requests: u64,
    /// Their latency.
    pub latency: Percentiles,
    /// Failed requests by `__type`.
    pub errors: BTreeMap<String, u64>,
    /// Records refused inside successful PutRecords, by `ErrorCode`.
    pub failed_records: BTreeMap<String, u64>,
    /// Connections opened.
    pub connects: u64,
    /// Server CPU and memory (with `--pid`).
    pub server: Option<ProcReport>,
    /// This process's CPU% over the measured time.
    pub client_cpu_percent: Option<f64>,
    /// Mode-specific fields, added at the top level.
    pub extra: Map<String, Value>,
    /// Mode-specific rows for the table.
    pub rows: Vec<(String, String)>,
}

impl Summary {
    /// Records per second.
    pub fn records_per_s(&self) -> f64 {
        per_s(self.records as f64, self.elapsed_s)
    }

    /// Payload MB (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        per_s(self.bytes as f64 / 1e6, self.elapsed_s)
    }

    /// The machine-readable form (one JSON object).
    pub fn to_json(&self) -> Value {
        let server = self.server.as_ref().map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
            let per_cpu = if s.cpu_s > 0.0 { (self.records as f64 / s.cpu_s).round() } else { 0.0 };
            v["records_per_cpu_s"] = json!(per_cpu);
            v
        });
        let mut out = json!({
            "tool": "rheo-bench",
            "schema": SCHEMA_VERSION,
            "version": env!("CARGO_PKG_VERSION"),
            "mode": self.mode,
            "label": self.label,
            "endpoint": self.endpoint,
            "http2": self.http2,
            "timestamp": rheo_aws::sigv4::amz_date(std::time::SystemTime::now()),
            "stream": self.stream,
            "shards": self.shards,
            "params": self.params,
            "elapsed_s": round3(self.elapsed_s),
            "records": self.records,
            "bytes": self.bytes,
            "records_per_s": round1(self.records_per_s()),
            "mb_per_s": round3(self.mb_per_s()),
            "requests": self.requests,
            "requests_per_s": round1(per_s(self.requests as f64, self.elapsed_s)),
            "latency_ms": self.latency,
            "errors": { "total": self.errors.values().sum::<u64>(), "by_type": self.errors },
            "failed_records": { "total": self.failed_records.values().sum::<u64>(), "by_code": self.failed_records },
            "connects": self.connects,
            "server": server,
            "client": { "cpu_percent": self.client_cpu_percent },
        });
        if let Some(map) = out.as_object_mut() {
            for (k, v) in &self.extra {
                map.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, String)> = vec![
            ("target".into(), format!("{} ({})", self.label.as_deref().unwrap_or("-"), self.endpoint)),
            (
                "stream".into(),
                format!(
                    "{} ({} shards)",
                    self.stream.as_deref().unwrap_or("-"),
                    self.shards.map_or("?".into(), |s| s.to_string())
                ),
            ),
            ("measured".into(), format!("{:.2} s", self.elapsed_s)),
            ("records".into(), thousands(self.records)),
            (
                "throughput".into(),
                format!(
                    "{} rec/s   {:.2} MB/s   {} req/s",
                    thousands(self.records_per_s().round() as u64),
                    self.mb_per_s(),
                    fmt1(per_s(self.requests as f64, self.elapsed_s))
                ),
            ),
            ("request latency".into(), latency_row(&self.latency)),
        ];
        rows.extend(self.rows.iter().cloned());
        rows.push(("errors".into(), counts_row(&self.errors)));
        if !self.failed_records.is_empty() {
            rows.push(("failed records".into(), counts_row(&self.failed_records)));
        }
        rows.push(("connections opened".into(), self.connects.to_string()));
        if let Some(s) = &self.server {
            let per_cpu = if s.cpu_s > 0.0 { thousands((self.records as f64 / s.cpu_s) as u64) } else { "-".into() };
            rows.push((
                "server".into(),
                format!(
                    "pid {}  cpu {:.0}%  rss {:.1} MiB (max {:.1}, hwm {:.1})  {} rec per cpu-s",
                    s.pid, s.cpu_percent, s.rss_mib, s.rss_max_mib, s.rss_hwm_mib, per_cpu
                ),
            ));
        }
        if let Some(c) = self.client_cpu_percent {
            rows.push(("client cpu".into(), format!("{c:.0}%")));
        }
        render(&format!("rheo-bench {}", self.mode), &rows)
    }
}

/// A two-column table with a title.
pub fn render(title: &str, rows: &[(String, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = format!("── {title} ──\n");
    for (k, v) in rows {
        out.push_str(&format!("  {k:<width$}  {v}\n"));
    }
    out
}

/// `p50 1.2  p99 3.4  p999 5.6  max 7.8 ms (n)`.
pub fn latency_row(p: &Percentiles) -> String {
    if p.count == 0 {
        return "-".into();
    }
    format!(
        "p50 {}  p99 {}  p999 {}  max {} ms  (n = {})",
        fmt_ms(p.p50),
        fmt_ms(p.p99),
        fmt_ms(p.p999),
        fmt_ms(p.max),
        thousands(p.count)
    )
}

fn counts_row(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter().map(|(k, v)| format!("{k} × {}", thousands(*v))).collect::<Vec<_>>().join(", ")
}

/// A latency figure, or `-` when nothing was recorded.
pub fn fmt_ms_opt(p: &Percentiles, pick: impl Fn(&Percentiles) -> f64) -> String {
    if p.count == 0 {
        "-".into()
    } else {
        fmt_ms(pick(p))
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

/// `x / seconds`, 0 for no time.
pub fn per_s(x: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        x / seconds
    } else {
        0.0
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One progress line (stderr).
pub fn progress_line(phase: &str, second: u64, i: &Interval, errors: u64, server: Option<(f64, f64)>) -> String {
    let mut line = format!(
        "[{phase:>7} {second:>3}s] {:>9} rec/s {:>8.2} MB/s {:>7} req/s  p50 {:>7} p99 {:>7} ms  errors {}",
        thousands(i.records),
        i.bytes as f64 / 1e6,
        i.requests,
        if i.latency.count > 0 { fmt_ms(i.latency.p50) } else { "-".into() },
        if i.latency.count > 0 { fmt_ms(i.latency.p99) } else { "-".into() },
        errors,
    );
    if let Some((cpu, rss)) = server {
        line.push_str(&format!("  | server {cpu:>4.0}% cpu {rss:>7.1} MiB"));
    }
    line
}

/// Prints the table (stderr) and the JSON line (stdout), and appends the line to `out`.
pub fn emit(json: &Value, table: Option<&str>, out: Option<&Path>) -> Result<()> {
    if let Some(table) = table {
        eprint!("{table}");
    }
    let line = json.to_string();
    println!("{line}");
    if let Some(path) = out {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(file, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Summary {
        let mut errors = BTreeMap::new();
        errors.insert("ProvisionedThroughputExceededException".to_owned(), 3);
        let mut extra = Map::new();
        extra.insert("missing".into(), json!(0));
        Summary {
            mode: "put",
            label: Some("rheo".into()),
            endpoint: "http://127.0.0.1:4567".into(),
            stream: Some("s".into()),
            shards: Some(4),
            params: json!({"connections": 8, "batch": 500}).as_object().cloned().unwrap_or_default(),
            elapsed_s: 10.0,
            records: 1_000_000,
            bytes: 1_000_000_000,
            requests: 2000,
            latency: Percentiles { count: 2000, mean: 30.0, p50: 29.0, p90: 35.0, p99: 40.0, p999: 45.0, max: 50.0 },
            errors,
            connects: 8,
            server: Some(ProcReport {
                pid: 42,
                cpu_s: 15.0,
                cpu_percent: 150.0,
                rss_mib: 40.0,
                rss_max_mib: 41.0,
                rss_hwm_mib: 41.0,
            }),
            client_cpu_percent: Some(20.0),
            extra,
            ..Default::default()
        }
    }

    #[test]
    fn json_line_shape() {
        let v = sample().to_json();
        let line = v.to_string();
        assert!(!line.contains('\n'));
        for key in [
            "tool",
            "schema",
            "version",
            "mode",
            "label",
            "endpoint",
            "http2",
            "timestamp",
            "stream",
            "shards",
            "params",
            "elapsed_s",
            "records",
            "bytes",
            "records_per_s",
            "mb_per_s",
            "requests",
            "requests_per_s",
            "latency_ms",
            "errors",
            "failed_records",
            "connects",
            "server",
            "client",
            "missing",
        ] {
            assert!(v.get(key).is_some(), "missing key {key}");
        }
        assert_eq!(v["tool"], "rheo-bench");
        assert_eq!(v["mode"], "put");
        assert_eq!(v["records_per_s"], 100_000.0);
        assert_eq!(v["mb_per_s"], 100.0);
        assert_eq!(v["requests_per_s"], 200.0);
        for key in ["count", "mean", "p50", "p90", "p99", "p999", "max"] {
            assert!(v["latency_ms"][key].is_number(), "latency_ms.{key}");
        }
        assert_eq!(v["latency_ms"]["p99"], 40.0);
        assert_eq!(v["errors"]["total"], 3);
        assert_eq!(v["errors"]["by_type"]["ProvisionedThroughputExceededException"], 3);
        assert_eq!(v["failed_records"]["total"], 0);
        assert_eq!(v["server"]["pid"], 42);
        assert_eq!(v["server"]["cpu_percent"], 150.0);
        assert_eq!(v["server"]["records_per_cpu_s"], 66_667.0);
        assert_eq!(v["params"]["batch"], 500);
        assert_eq!(v["timestamp"].as_str().map(str::len), Some(16));
    }

    #[test]
    fn json_without_server_has_null() {
        let mut s = sample();
        s.server = None;
        s.elapsed_s = 0.0;
        let v = s.to_json();
        assert!(v["server"].is_null());
        assert_eq!(v["records_per_s"], 0.0);
    }

    #[test]
    fn table_mentions_the_figures() {
        let t = sample().table();
        assert!(t.contains("100,000 rec/s"), "{t}");
        assert!(t.contains("p99 40.0"), "{t}");
        assert!(t.contains("ProvisionedThroughputExceededException × 3"), "{t}");
        assert!(t.contains("cpu 150%"), "{t}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
