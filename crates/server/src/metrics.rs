//! Prometheus counters: requests by operation and outcome, records in and out.

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
        out
    }
}
