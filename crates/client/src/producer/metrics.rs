//! Counters and a latency histogram the caller reads as a [`ProducerMetrics`] snapshot.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;

/// Latency buckets: bucket `i` holds latencies in `[2^i, 2^(i+1))` microseconds.
const LATENCY_BUCKETS: usize = 40;
/// Distinct error types counted one by one; further types are counted under `other`.
const ERROR_TYPES_MAX: usize = 64;

/// The live counters.
#[derive(Debug)]
pub(crate) struct Metrics {
    pub user_records_put: AtomicU64,
    pub user_records_failed: AtomicU64,
    pub kinesis_records_put: AtomicU64,
    pub bytes_put: AtomicU64,
    pub put_records_calls: AtomicU64,
    pub retries: AtomicU64,
    pub throttles: AtomicU64,
    pub shard_map_reloads: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    latency: [AtomicU64; LATENCY_BUCKETS],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            user_records_put: AtomicU64::new(0),
            user_records_failed: AtomicU64::new(0),
            kinesis_records_put: AtomicU64::new(0),
            bytes_put: AtomicU64::new(0),
            put_records_calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
            shard_map_reloads: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

fn bucket_of(latency: Duration) -> usize {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
    (63 - micros.leading_zeros() as usize).min(LATENCY_BUCKETS - 1)
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn error(&self, error_type: &str) {
        let mut errors = self.errors.lock();
        let key = if errors.len() < ERROR_TYPES_MAX || errors.contains_key(error_type) { error_type } else { "other" };
        *errors.entry(key.to_owned()).or_default() += 1;
    }

    pub fn latency(&self, latency: Duration) {
        self.latency[bucket_of(latency)].fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> ProducerMetrics {
        ProducerMetrics {
            user_records_put: self.user_records_put.load(Relaxed),
            user_records_failed: self.user_records_failed.load(Relaxed),
            kinesis_records_put: self.kinesis_records_put.load(Relaxed),
            bytes_put: self.bytes_put.load(Relaxed),
            put_records_calls: self.put_records_calls.load(Relaxed),
            retries: self.retries.load(Relaxed),
            throttles: self.throttles.load(Relaxed),
            shard_map_reloads: self.shard_map_reloads.load(Relaxed),
            errors: self.errors.lock().clone(),
            latency_buckets: self.latency.iter().map(|b| b.load(Relaxed)).collect(),
        }
    }
}

/// What a producer has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerMetrics {
    /// User records acknowledged.
    pub user_records_put: u64,
    /// User records that failed for good (expired, refused, shut down).
    pub user_records_failed: u64,
    /// Kinesis records acknowledged (an aggregate counts once).
    pub kinesis_records_put: u64,
    /// Bytes of Kinesis records acknowledged (data and partition key).
    pub bytes_put: u64,
    /// `PutRecords` calls made.
    pub put_records_calls: u64,
    /// User records sent again after a failure (throttling, a failed call, an aggregate that
    /// landed in an unexpected shard); the most duplicates a consumer may see.
    pub retries: u64,
    /// Records or calls refused for throughput.
    pub throttles: u64,
    /// Times the shard map was read again (resharding).
    pub shard_map_reloads: u64,
    /// Failures by error type (record-level codes and call errors).
    pub errors: BTreeMap<String, u64>,
    /// Put-to-acknowledgement latencies: entry `i` counts those in `[2^i, 2^(i+1))` µs.
    pub latency_buckets: Vec<u64>,
}

impl ProducerMetrics {
    /// The latency under which a fraction `q` (0..=1) of acknowledged records fell, as the
    /// upper edge of its bucket (so at most twice the real value); `None` before any.
    pub fn latency_quantile(&self, q: f64) -> Option<Duration> {
        let total: u64 = self.latency_buckets.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, count) in self.latency_buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(Duration::from_micros(1u64 << (i + 1).min(63)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_buckets() {
        let metrics = Metrics::default();
        for _ in 0..99 {
            metrics.latency(Duration::from_micros(1000)); // bucket 9: [512, 1024)… 1000 → 9
        }
        metrics.latency(Duration::from_secs(1));
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.latency_quantile(0.5), Some(Duration::from_micros(1024)));
        assert_eq!(snapshot.latency_quantile(0.99), Some(Duration::from_micros(1024)));
        assert_eq!(snapshot.latency_quantile(1.0), Some(Duration::from_micros(1 << 20)));
        assert_eq!(ProducerMetrics::default().latency_quantile(0.5), None);
        for i in 0..100 {
            metrics.error(&format!("E{i}"));
        }
        assert_eq!(metrics.snapshot().errors.len(), ERROR_TYPES_MAX + 1);
    }
}
