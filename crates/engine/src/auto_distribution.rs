//! Where AUTO record distribution puts records: round robin over a stream's open shards
//! in hash-key order, one turn per record, so that every open shard gets the same number
//! of records (±1) whatever the keys (AWS: "distributes records evenly across shards";
//! API_UpdateStreamRecordDistributionStrategy). Round robin rather than chance keeps the
//! evenness exact, so tests can pin it.
//!
//! The turns are kept per stream in memory only: they decide placement, not durable state,
//! and after a restart the rotation simply starts again at the first shard.

use std::collections::HashMap;

use parking_lot::Mutex;

/// The next turn of each AUTO stream that has received records.
#[derive(Debug, Default)]
pub(crate) struct AutoDistribution {
    turns: Mutex<HashMap<u64, u64>>,
}

impl AutoDistribution {
    /// Takes `count` consecutive turns of stream `stream_id` and returns the first; record
    /// `i` of a request goes to open shard `(first + i) % open shards`.
    pub(crate) fn take_turns(&self, stream_id: u64, count: usize) -> u64 {
        let mut turns = self.turns.lock();
        let next = turns.entry(stream_id).or_insert(0);
        let first = *next;
        *next = next.wrapping_add(count as u64);
        first
    }

    /// Forgets a deleted stream.
    pub(crate) fn forget(&self, stream_id: u64) {
        self.turns.lock().remove(&stream_id);
    }
}
