//! Per-shard throughput budgets (`--enforce-limits`): token buckets refilled by the
//! storage clock, so tests can move time instead of sleeping.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::limits::{
    SHARD_READ_BYTES_PER_SEC, SHARD_READ_CALLS_PER_SEC, SHARD_WRITE_BYTES_PER_SEC, SHARD_WRITE_RECORDS_PER_SEC,
};

/// A token bucket holding up to one second of its rate. Tokens may go negative: a large
/// read is allowed once and then blocks the shard until the debt is repaid, which is how
/// AWS's "10 MiB read, then 5 s of throttling" behaves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    per_sec: f64,
    updated_ms: u64,
}

impl Bucket {
    pub(crate) fn new(per_sec: u64, now_ms: u64) -> Self {
        Bucket { tokens: per_sec as f64, per_sec: per_sec as f64, updated_ms: now_ms }
    }

    pub(crate) fn refill(&mut self, now_ms: u64) {
        let elapsed_ms = now_ms.saturating_sub(self.updated_ms);
        self.tokens = (self.tokens + self.per_sec * elapsed_ms as f64 / 1000.0).min(self.per_sec);
        self.updated_ms = self.updated_ms.max(now_ms);
    }

    /// After a refill: how long until the bucket holds tokens again (0 if it does).
    pub(crate) fn wait_ms(&self) -> u64 {
        if self.tokens > 0.0 {
            return 0;
        }
        // One millisecond past the point where the debt is repaid, so a wake-up at that
        // time finds tokens.
        (-self.tokens * 1000.0 / self.per_sec).ceil() as u64 + 1
    }

    /// After a refill: whether a whole token is there to take.
    pub(crate) fn has_whole_token(&self) -> bool {
        self.tokens >= 1.0
    }

    /// After a refill: whether the bucket holds a full second of its rate again.
    pub(crate) fn is_full(&self) -> bool {
        self.tokens >= self.per_sec
    }

    /// Takes `amount` tokens; the balance may go negative (a debt repaid over time).
    pub(crate) fn charge(&mut self, amount: usize) {
        self.tokens -= amount as f64;
    }
}

#[derive(Debug, Clone, Copy)]
struct ShardBudget {
    write_bytes: Bucket,
    write_records: Bucket,
    read_calls: Bucket,
    read_bytes: Bucket,
}

impl ShardBudget {
    fn new(now_ms: u64) -> Self {
        ShardBudget {
            write_bytes: Bucket::new(SHARD_WRITE_BYTES_PER_SEC, now_ms),
            write_records: Bucket::new(SHARD_WRITE_RECORDS_PER_SEC, now_ms),
            read_calls: Bucket::new(SHARD_READ_CALLS_PER_SEC, now_ms),
            read_bytes: Bucket::new(SHARD_READ_BYTES_PER_SEC, now_ms),
        }
    }
}

/// The budgets of every shard that has seen traffic.
#[derive(Debug, Default)]
pub struct Throttle {
    shards: Mutex<HashMap<u64, ShardBudget>>,
}

impl Throttle {
    /// Takes one record of `bytes` from a shard's write budget; false when it is spent.
    pub fn admit_write(&self, shard_uid: u64, bytes: usize, now_ms: u64) -> bool {
        let mut shards = self.shards.lock();
        let budget = shards.entry(shard_uid).or_insert_with(|| ShardBudget::new(now_ms));
        budget.write_bytes.refill(now_ms);
        budget.write_records.refill(now_ms);
        let bytes = bytes as f64;
        if budget.write_records.tokens < 1.0 || budget.write_bytes.tokens < bytes.min(budget.write_bytes.per_sec) {
            return false;
        }
        budget.write_records.tokens -= 1.0;
        budget.write_bytes.tokens -= bytes;
        true
    }

    /// Takes one GetRecords call from a shard's read budget; false when calls or bytes
    /// are spent.
    pub fn admit_read(&self, shard_uid: u64, now_ms: u64) -> bool {
        let mut shards = self.shards.lock();
        let budget = shards.entry(shard_uid).or_insert_with(|| ShardBudget::new(now_ms));
        budget.read_calls.refill(now_ms);
        budget.read_bytes.refill(now_ms);
        if budget.read_calls.tokens < 1.0 || budget.read_bytes.tokens <= 0.0 {
            return false;
        }
        budget.read_calls.tokens -= 1.0;
        true
    }

    /// Charges the bytes a read returned.
    pub fn charge_read(&self, shard_uid: u64, bytes: usize) {
        if let Some(budget) = self.shards.lock().get_mut(&shard_uid) {
            budget.read_bytes.tokens -= bytes as f64;
        }
    }

    /// Forgets shards that no longer exist.
    pub fn forget(&self, shard_uids: impl IntoIterator<Item = u64>) {
        let mut shards = self.shards.lock();
        for uid in shard_uids {
            shards.remove(&uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_limited_per_second_and_refill() {
        let throttle = Throttle::default();
        let admitted = (0..1500).filter(|_| throttle.admit_write(1, 10, 0)).count();
        assert_eq!(admitted, 1000);
        assert!(throttle.admit_write(1, 10, 1000));
        // Another shard has its own budget.
        assert!(throttle.admit_write(2, 10, 0));
        // A megabyte per second.
        assert!(throttle.admit_write(3, 1024 * 1024, 0));
        assert!(!throttle.admit_write(3, 1, 0));
    }

    #[test]
    fn a_big_read_blocks_the_shard_until_repaid() {
        let throttle = Throttle::default();
        assert!(throttle.admit_read(1, 0));
        throttle.charge_read(1, 10 * 1024 * 1024);
        assert!(!throttle.admit_read(1, 1000));
        assert!(!throttle.admit_read(1, 4000));
        assert!(throttle.admit_read(1, 5001));
        let calls = (0..10).filter(|_| throttle.admit_read(2, 0)).count();
        assert_eq!(calls, 5);
    }
}
