//! Prometheus counters: requests by operation and outcome, records in and out,
//! SubscribeToShard (subscriptions open, events, records and bytes pushed), connections
//! (open, accepted, waits at the connection limit, closed by each timeout), and the
//! storage logs' own figures (commits, sync latency, segments, whether writes stopped,
//! and the archive tier's uploads, local budget and reads of archived data).

mod archive;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot_free::Mutex;

use crate::conn::TimeoutKind;
use rheo_storage::stats::SYNC_BUCKET_BOUNDS_MICROS;
use rheo_storage::LogStats;

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String), u64>>,
    records_in: AtomicU64,
    records_out: AtomicU64,
    subscriptions_active: AtomicU64,
    subscriptions_total: AtomicU64,
    subscription_events: AtomicU64,
    subscription_records: AtomicU64,
    subscription_bytes: AtomicU64,
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    connection_limit_waits: AtomicU64,
    connections_evicted: AtomicU64,
    timeouts: [AtomicU64; TimeoutKind::ALL.len()],
}

/// Counts one open connection until dropped.
pub struct ConnectionGauge<'a>(&'a Metrics);

impl Drop for ConnectionGauge<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts one open subscription until dropped.
pub struct SubscriptionGauge<'a>(&'a Metrics);

impl Drop for SubscriptionGauge<'_> {
    fn drop(&mut self) {
        self.0.subscriptions_active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `std::sync::Mutex` that treats poisoning as "keep going": a counter cannot be left
/// inconsistent by a panic.
mod parking_lot_free {
    pub struct Mutex<T>(std::sync::Mutex<T>);

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex(std::sync::Mutex::new(T::default()))
        }
    }

    impl<T> Mutex<T> {
        pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }
}

impl Metrics {
    /// Counts one request; `outcome` is `ok` or the AWS error type.
    pub fn request(&self, operation: &'static str, outcome: &str) {
        // DynamoDB's error types carry a namespace (`com.amazon.coral.service#…`); the
        // label keeps the name after it, as clients do.
        let outcome = outcome.rsplit_once('#').map_or(outcome, |(_, name)| name);
        *self.requests.lock().entry((operation, outcome.to_owned())).or_insert(0) += 1;
    }

    /// Counts records written.
    pub fn records_in(&self, count: u64) {
        self.records_in.fetch_add(count, Ordering::Relaxed);
    }

    /// Counts records read.
    pub fn records_out(&self, count: u64) {
        self.records_out.fetch_add(count, Ordering::Relaxed);
    }

    /// Counts a subscription as open until the guard is dropped.
    pub fn subscription_opened(&self) -> SubscriptionGauge<'_> {
        self.subscriptions_total.fetch_add(1, Ordering::Relaxed);
        self.subscriptions_active.fetch_add(1, Ordering::Relaxed);
        SubscriptionGauge(self)
    }

    /// Counts one event pushed to a subscriber, with its records and their bytes.
    pub fn event_pushed(&self, records: u64, bytes: u64) {
        self.subscription_events.fetch_add(1, Ordering::Relaxed);
        self.subscription_records.fetch_add(records, Ordering::Relaxed);
        self.subscription_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts a connection as open until the guard is dropped.
    pub fn connection_opened(&self) -> ConnectionGauge<'_> {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        ConnectionGauge(self)
    }

    /// Counts one time the accept loop found every connection slot taken.
    pub fn connection_limit_reached(&self) {
        self.connection_limit_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection asked to give up its slot to a newcomer at the connection limit.
    pub fn connection_evicted(&self) {
        self.connections_evicted.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection closed (or, for [`TimeoutKind::BodyRead`], a request cut) by a
    /// timeout.
    pub fn timed_out(&self, kind: TimeoutKind) {
        self.timeouts[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections open now.
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP rheo_requests_total API requests by operation and outcome.\n");
        out.push_str("# TYPE rheo_requests_total counter\n");
        for ((operation, outcome), count) in self.requests.lock().iter() {
            let _ = writeln!(out, "rheo_requests_total{{operation=\"{operation}\",outcome=\"{outcome}\"}} {count}");
        }
        out.push_str("# HELP rheo_records_in_total Records written.\n# TYPE rheo_records_in_total counter\n");
        let _ = writeln!(out, "rheo_records_in_total {}", self.records_in.load(Ordering::Relaxed));
        out.push_str("# HELP rheo_records_out_total Records read.\n# TYPE rheo_records_out_total counter\n");
        let _ = writeln!(out, "rheo_records_out_total {}", self.records_out.load(Ordering::Relaxed));
        let gauges: [(&str, &str, &str, &AtomicU64); 9] = [
            ("rheo_subscriptions_active", "gauge", "SubscribeToShard subscriptions open.", &self.subscriptions_active),
            (
                "rheo_subscriptions_total",
                "counter",
                "SubscribeToShard subscriptions opened.",
                &self.subscriptions_total,
            ),
            ("rheo_subscription_events_total", "counter", "SubscribeToShard events pushed.", &self.subscription_events),
            (
                "rheo_subscription_records_total",
                "counter",
                "Records pushed to SubscribeToShard subscribers.",
                &self.subscription_records,
            ),
            (
                "rheo_subscription_bytes_total",
                "counter",
                "Record data and partition key bytes pushed to SubscribeToShard subscribers.",
                &self.subscription_bytes,
            ),
            ("rheo_connections_open", "gauge", "Client connections open.", &self.connections_open),
            ("rheo_connections_total", "counter", "Client connections accepted.", &self.connections_total),
            (
                "rheo_connection_limit_reached_total",
                "counter",
                "Times every connection slot was taken, so new connections waited in the listen backlog.",
                &self.connection_limit_waits,
            ),
            (
                "rheo_connections_evicted_total",
                "counter",
                "Connections without a request in progress closed to make room for a new one at the connection limit.",
                &self.connections_evicted,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}", value.load(Ordering::Relaxed));
        }
        let name = "rheo_connections_timed_out_total";
        let _ = writeln!(
            out,
            "# HELP {name} Connections closed by a timeout (body_read: requests answered 408; that closes an HTTP/1.1 connection, on HTTP/2 only the stream).\n# TYPE {name} counter"
        );
        for kind in TimeoutKind::ALL {
            let count = self.timeouts[kind.index()].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}{{timeout=\"{}\"}} {count}", kind.label());
        }
        out
    }
}

/// `/metrics` as it is put together: the text so far, and the storage logs whose figures
/// are appended at the end, one metric family at a time over all logs.
pub struct MetricsOutput {
    /// The exposition text; a service appends its own metric families.
    pub text: String,
    /// Each service's storage logs, under the name that becomes their `log` label.
    pub logs: Vec<(&'static str, LogStats)>,
}

/// A metric of a storage log: name, help text, and how to read it off the log's figures.
type LogMetric = (&'static str, &'static str, fn(&LogStats) -> u64);

/// Appends the figures of each named storage log (`streams`, `firehose`), one metric
/// family at a time as the exposition format wants, the log's name as the `log` label.
pub fn render_logs(out: &mut String, logs: &[(&str, LogStats)]) {
    let counters: [LogMetric; 4] = [
        ("rheo_log_commits_total", "Frames written to the log, one per group commit.", |s| s.commits),
        ("rheo_log_records_appended_total", "Records appended to the log.", |s| s.records_appended),
        ("rheo_log_written_bytes_total", "Bytes written to log segments.", |s| s.bytes_written),
        ("rheo_log_scrubbed_bytes_total", "Bytes of sealed segments verified by the background scrub.", |s| {
            s.scrubbed_bytes
        }),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (log, stats) in logs {
            let _ = writeln!(out, "{name}{{log=\"{log}\"}} {}", value(stats));
        }
    }
    let gauges: [LogMetric; 6] = [
        ("rheo_log_segments", "Segment files in use.", |s| s.segments),
        (
            "rheo_log_segment_bytes",
            "Size of the segment files on the local disk (segments only the archive holds are not counted).",
            |s| s.segment_bytes,
        ),
        ("rheo_log_segments_pending_delete", "Expired segments waiting for the background deleter.", |s| {
            s.segments_pending_delete
        }),
        ("rheo_log_writes_stopped", "1 once a failed write or sync stopped the log accepting writes.", |s| {
            u64::from(s.poisoned)
        }),
        (
            "rheo_log_damaged_chunks",
            "Chunks found damaged on disk (reads of them fail until cut); alert above 0.",
            |s| s.damaged_chunks,
        ),
        ("rheo_log_damaged_records", "Records in the damaged chunks.", |s| s.damaged_records),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (log, stats) in logs {
            let _ = writeln!(out, "{name}{{log=\"{log}\"}} {}", value(stats));
        }
    }
    let name = "rheo_log_sync_duration_seconds";
    let _ = writeln!(out, "# HELP {name} Time to make log segment data durable (fdatasync).\n# TYPE {name} histogram");
    for (log, stats) in logs {
        let mut cumulative = 0;
        for (bound, count) in SYNC_BUCKET_BOUNDS_MICROS.iter().zip(&stats.sync_buckets) {
            cumulative += count;
            let le = *bound as f64 / 1e6;
            let _ = writeln!(out, "{name}_bucket{{log=\"{log}\",le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{log=\"{log}\",le=\"+Inf\"}} {}", stats.sync_count());
        let _ = writeln!(out, "{name}_sum{{log=\"{log}\"}} {}", stats.sync_micros_sum as f64 / 1e6);
        let _ = writeln!(out, "{name}_count{{log=\"{log}\"}} {}", stats.sync_count());
    }
    archive::render_archive(out, logs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_figures_render_as_one_family_each_with_a_cumulative_histogram() {
        let mut slow = LogStats { commits: 7, segments: 2, poisoned: true, damaged_chunks: 1, ..LogStats::default() };
        slow.sync_buckets[0] = 3; // <= 100 us
        slow.sync_buckets[8] = 1; // (20 ms, 50 ms]
        slow.sync_buckets[rheo_storage::stats::SYNC_BUCKETS - 1] = 1; // beyond every bound
        slow.sync_micros_sum = 3_000_150;
        let mut out = String::new();
        render_logs(&mut out, &[("streams", slow), ("firehose", LogStats::default())]);
        assert_eq!(out.matches("# TYPE rheo_log_commits_total counter").count(), 1);
        assert!(out.contains("rheo_log_commits_total{log=\"streams\"} 7\n"));
        assert!(out.contains("rheo_log_commits_total{log=\"firehose\"} 0\n"));
        assert!(out.contains("rheo_log_writes_stopped{log=\"streams\"} 1\n"));
        assert!(out.contains("rheo_log_damaged_chunks{log=\"streams\"} 1\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_bucket{log=\"streams\",le=\"0.0001\"} 3\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_bucket{log=\"streams\",le=\"0.02\"} 3\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_bucket{log=\"streams\",le=\"0.05\"} 4\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_bucket{log=\"streams\",le=\"2.5\"} 4\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_bucket{log=\"streams\",le=\"+Inf\"} 5\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_count{log=\"streams\"} 5\n"));
        assert!(out.contains("rheo_log_sync_duration_seconds_sum{log=\"streams\"} 3.00015\n"));
    }
}
