//! Counters and latency histograms shared by a run's tasks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency recorded, in microseconds (one hour); larger values are clamped.
const LATENCY_MAX_US: u64 = 3_600_000_000;

/// A fresh latency histogram: 1 µs to one hour, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, LATENCY_MAX_US, 3) {
        Ok(h) => h,
        Err(e) => panic!("constant histogram bounds rejected: {e}"),
    }
}

/// Records `latency` into `h` (µs, clamped into range).
pub fn record_latency(h: &mut Histogram<u64>, latency: Duration) {
    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).clamp(1, LATENCY_MAX_US);
    h.saturating_record(us);
}

/// Latency summary in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// Summarizes a microsecond histogram in milliseconds (all zero when empty).
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| round3(us as f64 / 1000.0);
        Percentiles {
            count: h.len(),
            mean: round3(h.mean() / 1000.0),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// Rounds to 3 decimals (for readable JSON).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Rounds to 1 decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

struct Histograms {
    total: Histogram<u64>,
    interval: Histogram<u64>,
}

/// What a group of request-sending tasks shares: counts only while `measuring` is set.
pub struct Meter {
    measuring: AtomicBool,
    /// Acknowledged records.
    pub records: AtomicU64,
    /// Acknowledged payload bytes (before base64).
    pub bytes: AtomicU64,
    /// Requests answered with success.
    pub requests: AtomicU64,
    /// Records the service refused inside a successful PutRecords.
    pub failed_records: AtomicU64,
    /// Requests that failed.
    pub errors: AtomicU64,
    interval_records: AtomicU64,
    interval_bytes: AtomicU64,
    interval_requests: AtomicU64,
    histograms: Mutex<Histograms>,
    by_type: Mutex<BTreeMap<String, u64>>,
    failed_by_code: Mutex<BTreeMap<String, u64>>,
}

impl Default for Meter {
    fn default() -> Self {
        Self::new(true)
    }
}

/// One second's figures, for the progress line.
#[derive(Debug, Default)]
pub struct Interval {
    /// Records in the interval.
    pub records: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// Requests.
    pub requests: u64,
    /// Latency.
    pub latency: Percentiles,
}

impl Meter {
    /// A meter, counting from the start or not.
    pub fn new(measuring: bool) -> Self {
        Meter {
            measuring: AtomicBool::new(measuring),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failed_records: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            interval_records: AtomicU64::new(0),
            interval_bytes: AtomicU64::new(0),
            interval_requests: AtomicU64::new(0),
            histograms: Mutex::new(Histograms { total: latency_histogram(), interval: latency_histogram() }),
            by_type: Mutex::new(BTreeMap::new()),
            failed_by_code: Mutex::new(BTreeMap::new()),
        }
    }

    /// Starts or stops counting.
    pub fn set_measuring(&self, on: bool) {
        self.measuring.store(on, Ordering::SeqCst);
    }

    /// Whether results are being counted.
    pub fn measuring(&self) -> bool {
        self.measuring.load(Ordering::Relaxed)
    }

    /// Records a successful request: acknowledged records and bytes, plus the records the
    /// service refused (by `ErrorCode`).
    pub fn ok(&self, latency: Duration, records: u64, bytes: u64, failed: &[(String, u64)]) {
        // The per-second figures are kept during warm-up too (for the progress line).
        self.interval_records.fetch_add(records, Ordering::Relaxed);
        self.interval_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.interval_requests.fetch_add(1, Ordering::Relaxed);
        let measuring = self.measuring();
        if let Ok(mut h) = self.histograms.lock() {
            record_latency(&mut h.interval, latency);
            if measuring {
                record_latency(&mut h.total, latency);
            }
        }
        if !measuring {
            return;
        }
        self.records.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !failed.is_empty() {
            let mut map = self.failed_by_code.lock().unwrap_or_else(|p| p.into_inner());
            for (code, n) in failed {
                self.failed_records.fetch_add(*n, Ordering::Relaxed);
                *map.entry(code.clone()).or_default() += n;
            }
        }
    }

    /// Records a failed request.
    pub fn error(&self, kind: &str) {
        if !self.measuring() {
            return;
        }
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut map = self.by_type.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(kind.to_owned()).or_default() += 1;
    }

    /// Takes the figures since the last call.
    pub fn take_interval(&self) -> Interval {
        let latency = match self.histograms.lock() {
            Ok(mut h) => {
                let p = Percentiles::from_histogram(&h.interval);
                h.interval.reset();
                p
            }
            Err(_) => Percentiles::default(),
        };
        Interval {
            records: self.interval_records.swap(0, Ordering::Relaxed),
            bytes: self.interval_bytes.swap(0, Ordering::Relaxed),
            requests: self.interval_requests.swap(0, Ordering::Relaxed),
            latency,
        }
    }

    /// Latency over the whole measured time.
    pub fn latency(&self) -> Percentiles {
        match self.histograms.lock() {
            Ok(h) => Percentiles::from_histogram(&h.total),
            Err(_) => Percentiles::default(),
        }
    }

    /// Request errors by type.
    pub fn errors_by_type(&self) -> BTreeMap<String, u64> {
        self.by_type.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Refused records by `ErrorCode`.
    pub fn failed_by_code(&self) -> BTreeMap<String, u64> {
        self.failed_by_code.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Acknowledged records so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }
}

/// A latency histogram behind a lock, for put→visible latencies.
pub struct SharedHistogram(Mutex<Histograms>);

impl Default for SharedHistogram {
    fn default() -> Self {
        SharedHistogram(Mutex::new(Histograms { total: latency_histogram(), interval: latency_histogram() }))
    }
}

impl SharedHistogram {
    /// Records many values at once.
    pub fn record_all(&self, values: &[Duration]) {
        if let Ok(mut h) = self.0.lock() {
            for v in values {
                record_latency(&mut h.total, *v);
                record_latency(&mut h.interval, *v);
            }
        }
    }

    /// Whole-run summary.
    pub fn summary(&self) -> Percentiles {
        self.0.lock().map(|h| Percentiles::from_histogram(&h.total)).unwrap_or_default()
    }

    /// Summary since the last call.
    pub fn take_interval(&self) -> Percentiles {
        match self.0.lock() {
            Ok(mut h) => {
                let p = Percentiles::from_histogram(&h.interval);
                h.interval.reset();
                p
            }
            Err(_) => Percentiles::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_uniform_milliseconds() {
        let mut h = latency_histogram();
        for ms in 1..=1000u64 {
            record_latency(&mut h, Duration::from_millis(ms));
        }
        let p = Percentiles::from_histogram(&h);
        assert_eq!(p.count, 1000);
        // hdrhistogram with 3 significant digits: within 0.1% of the exact rank value.
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 0.001;
        assert!(close(p.p50, 500.0), "p50 {}", p.p50);
        assert!(close(p.p90, 900.0), "p90 {}", p.p90);
        assert!(close(p.p99, 990.0), "p99 {}", p.p99);
        assert!(close(p.p999, 999.0), "p999 {}", p.p999);
        assert!(close(p.max, 1000.0), "max {}", p.max);
        assert!(close(p.mean, 500.5), "mean {}", p.mean);
    }

    #[test]
    fn percentiles_of_a_skewed_distribution() {
        let mut h = latency_histogram();
        // 990 fast (1 ms) and 10 slow (250 ms): p99 is still fast, p999 and max are slow.
        for _ in 0..990 {
            record_latency(&mut h, Duration::from_millis(1));
        }
        for _ in 0..10 {
            record_latency(&mut h, Duration::from_millis(250));
        }
        let p = Percentiles::from_histogram(&h);
        assert!((p.p50 - 1.0).abs() < 0.01);
        assert!((p.p99 - 1.0).abs() < 0.01, "p99 {}", p.p99);
        assert!((p.p999 - 250.0).abs() < 0.5, "p999 {}", p.p999);
        assert!((p.max - 250.0).abs() < 0.5);
    }

    #[test]
    fn empty_and_out_of_range() {
        assert_eq!(Percentiles::from_histogram(&latency_histogram()), Percentiles::default());
        let mut h = latency_histogram();
        record_latency(&mut h, Duration::ZERO);
        record_latency(&mut h, Duration::from_secs(10_000));
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 1);
    }

    #[test]
    fn meter_counts_only_while_measuring() {
        let meter = Meter::new(false);
        meter.ok(Duration::from_millis(5), 500, 500_000, &[]);
        meter.error("X");
        assert_eq!(meter.records(), 0);
        assert_eq!(meter.latency().count, 0);
        assert_eq!(meter.take_interval().records, 500, "warm-up still shows in progress lines");
        meter.set_measuring(true);
        meter.ok(Duration::from_millis(5), 498, 498_000, &[("ProvisionedThroughputExceededException".into(), 2)]);
        meter.error("ResourceNotFoundException");
        assert_eq!(meter.records(), 498);
        assert_eq!(meter.failed_records.load(Ordering::Relaxed), 2);
        assert_eq!(meter.errors_by_type().get("ResourceNotFoundException"), Some(&1));
        let interval = meter.take_interval();
        assert_eq!((interval.records, interval.requests), (498, 1));
        assert_eq!(meter.take_interval().records, 0);
        assert_eq!(meter.latency().count, 1);
    }
}
