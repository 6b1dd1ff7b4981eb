//! Prometheus counters: requests by operation and outcome, records in and out, and
//! SubscribeToShard (subscriptions open, events, records and bytes pushed).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot_free::Mutex;

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
        let gauges: [(&str, &str, &str, &AtomicU64); 5] = [
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
        ];
        for (name, kind, help, value) in gauges {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}
