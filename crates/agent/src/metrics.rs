//! Per-flow counters, readable by the caller and rendered as Prometheus text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters of one flow. All only grow.
#[derive(Debug, Default)]
pub struct FlowMetrics {
    /// Lines read from files (header lines included).
    pub lines_read: AtomicU64,
    /// Bytes read from files.
    pub bytes_read: AtomicU64,
    /// Records acknowledged by the service.
    pub records_sent: AtomicU64,
    /// Bytes of acknowledged records.
    pub bytes_sent: AtomicU64,
    /// Records sent again after a failure.
    pub records_retried: AtomicU64,
    /// Calls or records refused with throttling.
    pub throttles: AtomicU64,
    /// Failed calls and failed records (other than throttling).
    pub errors: AtomicU64,
    /// Records the service refused as invalid even alone, dropped.
    pub records_refused: AtomicU64,
    /// Records truncated to the maximum size.
    pub records_truncated: AtomicU64,
    /// Records a processor could not parse (sent unchanged).
    pub records_unparsed: AtomicU64,
    /// Successful put calls.
    pub put_calls: AtomicU64,
    /// Total time of successful put calls, in microseconds.
    pub put_latency_micros: AtomicU64,
    /// Files whose rotation or truncation was detected.
    pub rotations: AtomicU64,
}

impl FlowMetrics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn counters(&self) -> [(&'static str, &'static str, &AtomicU64); 13] {
        [
            ("lines_read", "Lines read from files.", &self.lines_read),
            ("bytes_read", "Bytes read from files.", &self.bytes_read),
            ("records_sent", "Records acknowledged by the service.", &self.records_sent),
            ("bytes_sent", "Bytes of acknowledged records.", &self.bytes_sent),
            ("records_retried", "Records sent again after a failure.", &self.records_retried),
            ("throttles", "Calls or records refused with throttling.", &self.throttles),
            ("errors", "Failed calls and records other than throttling.", &self.errors),
            ("records_refused", "Records refused as invalid even alone, dropped.", &self.records_refused),
            ("records_truncated", "Records cut to the maximum record size.", &self.records_truncated),
            ("records_unparsed", "Records a data processor could not parse, sent unchanged.", &self.records_unparsed),
            ("put_calls", "Successful put calls.", &self.put_calls),
            ("put_latency_micros", "Total time of successful put calls in microseconds.", &self.put_latency_micros),
            ("rotations", "Rotations and truncations detected.", &self.rotations),
        ]
    }

    /// A snapshot as (name, value) pairs, for logs and tests.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        self.counters().iter().map(|(name, _, c)| (*name, c.load(Ordering::Relaxed))).collect()
    }

    /// Reads one counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Prometheus text for all flows (`rheo_agent_<counter>_total{flow="…"}`).
pub fn prometheus_text(flows: &[(String, Arc<FlowMetrics>)]) -> String {
    let mut out = String::new();
    let Some((_, first)) = flows.first() else { return out };
    for (i, (name, help, _)) in first.counters().iter().enumerate() {
        out.push_str(&format!("# HELP rheo_agent_{name}_total {help}\n# TYPE rheo_agent_{name}_total counter\n"));
        for (flow, metrics) in flows {
            let value = metrics.counters()[i].2.load(Ordering::Relaxed);
            let label = flow.replace('\\', "\\\\").replace('"', "\\\"");
            out.push_str(&format!("rheo_agent_{name}_total{{flow=\"{label}\"}} {value}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_every_counter_per_flow() {
        let a = Arc::new(FlowMetrics::default());
        FlowMetrics::add(&a.records_sent, 3);
        let b = Arc::new(FlowMetrics::default());
        FlowMetrics::add(&b.throttles, 2);
        let text = prometheus_text(&[("kinesis:s:/x/\"q\".log".into(), a.clone()), ("firehose:d:/y".into(), b)]);
        assert!(text.contains("rheo_agent_records_sent_total{flow=\"kinesis:s:/x/\\\"q\\\".log\"} 3\n"), "{text}");
        assert!(text.contains("rheo_agent_throttles_total{flow=\"firehose:d:/y\"} 2\n"));
        assert_eq!(text.matches("# TYPE").count(), a.snapshot().len());
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 2 * a.snapshot().len());
    }
}
