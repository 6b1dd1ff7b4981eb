//! Per-delivery-stream counters, rendered in Prometheus's text format by the server.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one delivery stream. Relaxed atomics: each is independent and only
/// ever read for reporting.
#[derive(Debug, Default)]
pub struct StreamStats {
    pub incoming_records: AtomicU64,
    pub incoming_bytes: AtomicU64,
    pub delivered_records: AtomicU64,
    pub delivered_bytes: AtomicU64,
    pub delivered_objects: AtomicU64,
    /// Records sent to an error output or given up on.
    pub failed_records: AtomicU64,
    /// Failed attempts to write to a destination (each is retried).
    pub delivery_failures: AtomicU64,
    /// Sum and count of (delivery time − arrival time) over delivered records, ms.
    pub latency_ms_sum: AtomicU64,
    pub latency_count: AtomicU64,
    /// Arrival time of the oldest record not yet delivered, epoch ms; 0 when none.
    pub oldest_undelivered_ms: AtomicU64,
}

impl StreamStats {
    pub(crate) fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Renders the counters of every delivery stream; `now_ms` gives data freshness.
pub fn render(out: &mut String, streams: &[(String, std::sync::Arc<StreamStats>)], now_ms: u64) {
    render_family(out, "rheo_firehose", "delivery_stream", streams, now_ms);
}

/// Renders the counters of every Kinesis channel (the same figures as delivery streams',
/// "incoming" being the records read from the source stream).
pub fn render_channels(out: &mut String, channels: &[(String, std::sync::Arc<StreamStats>)], now_ms: u64) {
    render_family(out, "rheo_channel", "channel", channels, now_ms);
}

/// The counters of `streams` as metrics named `<family>_…`, each labelled `<label>="name"`.
fn render_family(
    out: &mut String,
    family: &str,
    label: &str,
    streams: &[(String, std::sync::Arc<StreamStats>)],
    now_ms: u64,
) {
    type Getter = fn(&StreamStats) -> u64;
    let families: [(&str, &str, &str, Getter); 9] = [
        (
            "incoming_records_total",
            "counter",
            "Records accepted (PutRecord, PutRecordBatch, a Kinesis source; for channels, read from the stream).",
            |s| s.incoming_records.load(Ordering::Relaxed),
        ),
        ("incoming_bytes_total", "counter", "Bytes of accepted records.", |s| s.incoming_bytes.load(Ordering::Relaxed)),
        ("delivered_records_total", "counter", "Records delivered to the destination.", |s| {
            s.delivered_records.load(Ordering::Relaxed)
        }),
        ("delivered_bytes_total", "counter", "Bytes of delivered records (before compression).", |s| {
            s.delivered_bytes.load(Ordering::Relaxed)
        }),
        ("delivered_objects_total", "counter", "Objects or requests delivered.", |s| {
            s.delivered_objects.load(Ordering::Relaxed)
        }),
        (
            "failed_records_total",
            "counter",
            "Records written to an error output or dropped after a permanent failure.",
            |s| s.failed_records.load(Ordering::Relaxed),
        ),
        ("delivery_failures_total", "counter", "Failed delivery attempts (each is retried).", |s| {
            s.delivery_failures.load(Ordering::Relaxed)
        }),
        (
            "delivery_latency_ms_sum",
            "counter",
            "Sum over delivered records of the time from arrival to delivery, ms.",
            |s| s.latency_ms_sum.load(Ordering::Relaxed),
        ),
        ("delivery_latency_ms_count", "counter", "Records counted in the latency sum.", |s| {
            s.latency_count.load(Ordering::Relaxed)
        }),
    ];
    for (suffix, kind, help, get) in families {
        let name = format!("{family}_{suffix}");
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (stream, stats) in streams {
            let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {}", escape(stream), get(stats));
        }
    }
    let name = format!("{family}_data_freshness_seconds");
    let _ = writeln!(
        out,
        "# HELP {name} Age of the oldest record not yet delivered (0 when all are delivered).\n# TYPE {name} gauge"
    );
    for (stream, stats) in streams {
        let oldest = stats.oldest_undelivered_ms.load(Ordering::Relaxed);
        let age = if oldest == 0 { 0.0 } else { now_ms.saturating_sub(oldest) as f64 / 1000.0 };
        let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {age}", escape(stream));
    }
}
