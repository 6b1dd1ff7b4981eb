//! Control-plane rate limits (`--enforce-limits`): AWS documents a transactions-per-second
//! limit for most Kinesis control operations, per account, per stream, per shard or per
//! consumer and shard. Each limited (operation, scope) pair has a token bucket holding one
//! second of its rate, refilled by the storage clock so tests move time instead of
//! sleeping.
//!
//! Besides the per-second rates, the encryption key of one stream may change only
//! [`ENCRYPTION_CHANGES_PER_DAY_MAX`] times in a rolling day: a log of change times per
//! stream, charged only for changes that succeeded (as AWS counts them).

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

use crate::limits::{CONTROL_RATE_BUDGETS_MAX, DAY_MS, ENCRYPTION_CHANGES_PER_DAY_MAX, ENCRYPTION_STREAMS_TRACKED_MAX};
use crate::throttle::Bucket;

/// What one budget of an operation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateScope {
    /// All calls of the account.
    Account,
    /// The calls naming one stream.
    Stream,
    /// The calls naming one shard of a stream.
    Shard,
    /// The calls of one consumer on one shard.
    ConsumerShard,
}

/// A Kinesis operation AWS documents a rate for. Operations without a documented rate
/// are not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlOperation {
    /// AddTagsToStream: 5 per second per account.
    AddTagsToStream,
    /// CreateStream: 5 per second per account.
    CreateStream,
    /// DeleteStream: 5 per second per account.
    DeleteStream,
    /// DeregisterStreamConsumer: 5 per second per stream.
    DeregisterStreamConsumer,
    /// DescribeAccountSettings: 5 per second per account.
    DescribeAccountSettings,
    /// DescribeLimits: 1 per second per account.
    DescribeLimits,
    /// DescribeStream: 10 per second per account.
    DescribeStream,
    /// DescribeStreamConsumer: 20 per second per stream.
    DescribeStreamConsumer,
    /// DescribeStreamSummary: 20 per second per account.
    DescribeStreamSummary,
    /// GetShardIterator: 5 per second per open shard (answered as the shard's
    /// throughput being exceeded).
    GetShardIterator,
    /// ListShards: 1000 per second per stream.
    ListShards,
    /// ListStreamConsumers: 5 per second per stream.
    ListStreamConsumers,
    /// ListStreams: 5 per second per account.
    ListStreams,
    /// ListTagsForStream: 5 per second per account.
    ListTagsForStream,
    /// MergeShards: 5 per second per account.
    MergeShards,
    /// RegisterStreamConsumer: 5 per second per account.
    RegisterStreamConsumer,
    /// RemoveTagsFromStream: 5 per second per account.
    RemoveTagsFromStream,
    /// SplitShard: 5 per second per account.
    SplitShard,
    /// SubscribeToShard: 1 per second per consumer and shard.
    SubscribeToShard,
    /// UpdateAccountSettings: 5 per second per account.
    UpdateAccountSettings,
    /// UpdateShardCount: 10 per second per account.
    UpdateShardCount,
    /// UpdateStreamWarmThroughput: 5 per second per account.
    UpdateStreamWarmThroughput,
}

impl ControlOperation {
    /// Every limited operation.
    pub const ALL: [ControlOperation; 22] = [
        ControlOperation::AddTagsToStream,
        ControlOperation::CreateStream,
        ControlOperation::DeleteStream,
        ControlOperation::DeregisterStreamConsumer,
        ControlOperation::DescribeAccountSettings,
        ControlOperation::DescribeLimits,
        ControlOperation::DescribeStream,
        ControlOperation::DescribeStreamConsumer,
        ControlOperation::DescribeStreamSummary,
        ControlOperation::GetShardIterator,
        ControlOperation::ListShards,
        ControlOperation::ListStreamConsumers,
        ControlOperation::ListStreams,
        ControlOperation::ListTagsForStream,
        ControlOperation::MergeShards,
        ControlOperation::RegisterStreamConsumer,
        ControlOperation::RemoveTagsFromStream,
        ControlOperation::SplitShard,
        ControlOperation::SubscribeToShard,
        ControlOperation::UpdateAccountSettings,
        ControlOperation::UpdateShardCount,
        ControlOperation::UpdateStreamWarmThroughput,
    ];

    /// Calls allowed per second, and what one budget covers (AWS API reference, each
    /// operation's description).
    pub fn rate(self) -> (u32, RateScope) {
        use ControlOperation as Op;
        match self {
            Op::DescribeLimits => (1, RateScope::Account),
            Op::AddTagsToStream
            | Op::CreateStream
            | Op::DeleteStream
            | Op::DescribeAccountSettings
            | Op::ListStreams
            | Op::ListTagsForStream
            | Op::MergeShards
            | Op::RegisterStreamConsumer
            | Op::RemoveTagsFromStream
            | Op::SplitShard
            | Op::UpdateAccountSettings
            | Op::UpdateStreamWarmThroughput => (5, RateScope::Account),
            Op::DescribeStream | Op::UpdateShardCount => (10, RateScope::Account),
            Op::DescribeStreamSummary => (20, RateScope::Account),
            Op::DeregisterStreamConsumer | Op::ListStreamConsumers => (5, RateScope::Stream),
            Op::DescribeStreamConsumer => (20, RateScope::Stream),
            Op::ListShards => (1000, RateScope::Stream),
            Op::GetShardIterator => (5, RateScope::Shard),
            Op::SubscribeToShard => (1, RateScope::ConsumerShard),
        }
    }
}

/// The budgets of every (operation, scope) pair seen in the last second, and the recent
/// encryption key changes of each stream.
#[derive(Debug, Default)]
pub(crate) struct ControlRates {
    budgets: Mutex<HashMap<(ControlOperation, String), Bucket>>,
    encryption_changes: Mutex<HashMap<String, VecDeque<u64>>>,
}

impl ControlRates {
    /// Takes one call of `operation` from the budget of `scope` (empty for the account);
    /// false when it is spent.
    pub(crate) fn admit(&self, operation: ControlOperation, scope: &str, now_ms: u64) -> bool {
        let (per_sec, _) = operation.rate();
        let mut budgets = self.budgets.lock();
        if budgets.len() >= CONTROL_RATE_BUDGETS_MAX && !budgets.contains_key(&(operation, scope.to_owned())) {
            // A budget idle for a second is full again: forgetting it changes nothing.
            budgets.retain(|_, bucket| {
                bucket.refill(now_ms);
                !bucket.is_full()
            });
            if budgets.len() >= CONTROL_RATE_BUDGETS_MAX {
                // So many distinct scopes within one second are a flood: refusing the
                // newcomer keeps the table bounded.
                return false;
            }
        }
        let bucket =
            budgets.entry((operation, scope.to_owned())).or_insert_with(|| Bucket::new(u64::from(per_sec), now_ms));
        bucket.refill(now_ms);
        if !bucket.has_whole_token() {
            return false;
        }
        bucket.charge(1);
        true
    }

    /// Whether the encryption of `stream` may change once more within the rolling day.
    pub(crate) fn encryption_change_allowed(&self, stream: &str, now_ms: u64) -> bool {
        let mut changes = self.encryption_changes.lock();
        let Some(times) = changes.get_mut(stream) else { return true };
        expire(times, now_ms);
        times.len() < ENCRYPTION_CHANGES_PER_DAY_MAX
    }

    /// Counts one successful encryption change of `stream`.
    pub(crate) fn note_encryption_change(&self, stream: &str, now_ms: u64) {
        let mut changes = self.encryption_changes.lock();
        if changes.len() >= ENCRYPTION_STREAMS_TRACKED_MAX && !changes.contains_key(stream) {
            changes.retain(|_, times| {
                expire(times, now_ms);
                !times.is_empty()
            });
            if changes.len() >= ENCRYPTION_STREAMS_TRACKED_MAX {
                // More streams changed encryption today than any account has streams:
                // keeping the table bounded matters more than counting this change.
                return;
            }
        }
        let times = changes.entry(stream.to_owned()).or_default();
        expire(times, now_ms);
        // Never more than the quota: a change is only made when allowed.
        if times.len() >= ENCRYPTION_CHANGES_PER_DAY_MAX {
            times.pop_front();
        }
        times.push_back(now_ms);
    }
}

/// Drops the changes older than a day.
fn expire(times: &mut VecDeque<u64>, now_ms: u64) {
    while times.front().is_some_and(|&t| now_ms.saturating_sub(t) >= DAY_MS) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each operation admits its documented rate per second, then refuses until a second
    /// has passed.
    #[test]
    fn every_operation_admits_its_rate_per_second() {
        for operation in ControlOperation::ALL {
            let rates = ControlRates::default();
            let (per_sec, _) = operation.rate();
            let admitted = (0..per_sec * 3).filter(|_| rates.admit(operation, "s", 1_000)).count();
            assert_eq!(admitted, per_sec as usize, "{operation:?}");
            assert!(!rates.admit(operation, "s", 1_000 + 999 / u64::from(per_sec)), "{operation:?}");
            assert!(rates.admit(operation, "s", 2_000), "{operation:?}");
        }
    }

    #[test]
    fn scopes_and_operations_have_separate_budgets() {
        let rates = ControlRates::default();
        for _ in 0..5 {
            assert!(rates.admit(ControlOperation::DeregisterStreamConsumer, "a", 0));
        }
        assert!(!rates.admit(ControlOperation::DeregisterStreamConsumer, "a", 0));
        assert!(rates.admit(ControlOperation::DeregisterStreamConsumer, "b", 0));
        assert!(rates.admit(ControlOperation::ListStreamConsumers, "a", 0));
    }

    #[test]
    fn the_rate_refills_gradually() {
        let rates = ControlRates::default();
        for _ in 0..10 {
            assert!(rates.admit(ControlOperation::DescribeStream, "", 0));
        }
        assert!(!rates.admit(ControlOperation::DescribeStream, "", 50));
        // A tenth of a second brings back one of ten calls.
        assert!(rates.admit(ControlOperation::DescribeStream, "", 100));
        assert!(!rates.admit(ControlOperation::DescribeStream, "", 100));
    }

    #[test]
    fn the_budget_table_stays_bounded() {
        let rates = ControlRates::default();
        for i in 0..CONTROL_RATE_BUDGETS_MAX {
            assert!(rates.admit(ControlOperation::ListShards, &i.to_string(), 0));
        }
        // All budgets were used this very second: a new scope is refused.
        assert!(!rates.admit(ControlOperation::ListShards, "new", 0));
        assert!(rates.admit(ControlOperation::ListShards, "0", 0));
        // A second later they are full again and forgotten.
        assert!(rates.admit(ControlOperation::ListShards, "new", 1_000));
        assert!(rates.budgets.lock().len() < 10);
    }

    #[test]
    fn encryption_changes_are_limited_per_rolling_day() {
        let rates = ControlRates::default();
        for i in 0..ENCRYPTION_CHANGES_PER_DAY_MAX as u64 {
            assert!(rates.encryption_change_allowed("s", i * 1000));
            rates.note_encryption_change("s", i * 1000);
        }
        assert!(!rates.encryption_change_allowed("s", 60_000));
        assert!(rates.encryption_change_allowed("other", 60_000));
        // The first change leaves the window a day after it was made.
        assert!(!rates.encryption_change_allowed("s", DAY_MS - 1));
        assert!(rates.encryption_change_allowed("s", DAY_MS));
        rates.note_encryption_change("s", DAY_MS);
        assert!(!rates.encryption_change_allowed("s", DAY_MS));
    }
}
