//! Per-shard pacing: two token buckets (records and bytes) refilled continuously at the
//! shard's limits, holding at most one second's worth, as the KPL's `RateLimit` does.

use tokio::time::Instant;

use crate::producer::config::ShardRateLimit;

/// The buckets of one shard.
#[derive(Debug, Clone)]
pub struct TokenBuckets {
    limit: ShardRateLimit,
    records: f64,
    bytes: f64,
    refilled: Instant,
}

impl TokenBuckets {
    /// Full buckets at `now`.
    pub fn new(limit: ShardRateLimit, now: Instant) -> Self {
        TokenBuckets {
            limit,
            records: f64::from(limit.records_per_second),
            bytes: f64::from(limit.bytes_per_second),
            refilled: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        let (records_max, bytes_max) =
            (f64::from(self.limit.records_per_second), f64::from(self.limit.bytes_per_second));
        self.records = (self.records + elapsed * records_max).min(records_max);
        self.bytes = (self.bytes + elapsed * bytes_max).min(bytes_max);
    }

    /// Takes one record of `bytes` if both buckets hold enough at `now`.
    pub fn try_take(&mut self, bytes: usize, now: Instant) -> bool {
        self.refill(now);
        let bytes = bytes as f64;
        if self.records >= 1.0 && self.bytes >= bytes {
            self.records -= 1.0;
            self.bytes -= bytes;
            true
        } else {
            false
        }
    }

    /// When a record of `bytes` could be taken, if it cannot be now.
    pub fn ready_at(&mut self, bytes: usize, now: Instant) -> Instant {
        self.refill(now);
        let wait_records = (1.0 - self.records).max(0.0) / f64::from(self.limit.records_per_second);
        let wait_bytes = (bytes as f64 - self.bytes).max(0.0) / f64::from(self.limit.bytes_per_second);
        now + std::time::Duration::from_secs_f64(wait_records.max(wait_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_second_holds_the_limit_and_no_more() {
        let start = Instant::now();
        let limit = ShardRateLimit { records_per_second: 1000, bytes_per_second: 1 << 20 };
        let mut buckets = TokenBuckets::new(limit, start);
        // Over ten simulated seconds, records of 10 bytes: the record limit binds.
        let mut taken = 0;
        for ms in 0..10_000u64 {
            let now = start + Duration::from_millis(ms);
            while buckets.try_take(10, now) {
                taken += 1;
            }
        }
        // One second's burst plus ten seconds' refill (minus the last millisecond's).
        assert!((10_000..=11_000).contains(&taken), "{taken}");
        // Bytes bind for large records: 1 MiB/s lets 2 records of 512 KiB through per second.
        let mut buckets = TokenBuckets::new(limit, start);
        assert!(buckets.try_take(512 << 10, start));
        assert!(buckets.try_take(512 << 10, start));
        assert!(!buckets.try_take(512 << 10, start));
        let ready = buckets.ready_at(512 << 10, start);
        assert_eq!(ready, start + Duration::from_millis(500));
        assert!(buckets.try_take(512 << 10, ready));
    }
}
