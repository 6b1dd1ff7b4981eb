//! The block store behind [`super::ArchiveReader`]: aligned blocks of archived segments
//! in memory, least recently used first out, never above its byte capacity, with at most
//! one fetch of a block under way at a time.
//!
//! Invariants:
//! - `bytes` is the sum of the ready blocks' lengths and never exceeds `capacity`; a
//!   block larger than the capacity is served to its readers but not kept. The
//!   `cache_bytes` gauge is set under the same lock, so it is always exact.
//! - A block is either ready, being fetched (one [`Flight`] every reader of it waits
//!   on), or absent. A failed fetch leaves it absent: nothing wrong is ever cached.
//! - The state's lock is held for map updates only, never across a fetch or a wait.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

use crate::archive::ArchiveError;
use crate::stats::ArchiveCounters;

/// A block: the segment id and the block's number within the segment.
pub(super) type BlockKey = (u64, u64);

/// One fetch of one block; every reader that wants the block meanwhile waits for it.
#[derive(Default)]
pub(super) struct Flight {
    result: Mutex<Option<Result<Bytes, ArchiveError>>>,
    done: Condvar,
}

impl Flight {
    /// Waits for the fetch's outcome.
    pub(super) fn wait(&self) -> Result<Bytes, ArchiveError> {
        let mut result = self.result.lock();
        loop {
            if let Some(outcome) = result.as_ref() {
                return outcome.clone();
            }
            self.done.wait(&mut result);
        }
    }

    fn finish(&self, outcome: Result<Bytes, ArchiveError>) {
        *self.result.lock() = Some(outcome);
        self.done.notify_all();
    }
}

/// What a lookup found.
pub(super) enum Lookup {
    /// The block is cached.
    Hit(Bytes),
    /// Someone is fetching it: wait on the flight.
    Wait(Arc<Flight>),
    /// Nobody is: the caller fetches it and must call [`BlockCache::complete`].
    Fetch(Arc<Flight>),
}

enum Slot {
    Ready { bytes: Bytes, tick: u64 },
    Fetching(Arc<Flight>),
}

#[derive(Default)]
struct State {
    slots: BTreeMap<BlockKey, Slot>,
    /// Ready blocks by last use, oldest first.
    lru: BTreeMap<u64, BlockKey>,
    next_tick: u64,
    bytes: u64,
}

impl State {
    fn tick(&mut self) -> u64 {
        self.next_tick += 1;
        self.next_tick
    }
}

/// Bounded LRU of blocks with single-flight fetches.
pub(super) struct BlockCache {
    capacity: u64,
    state: Mutex<State>,
    counters: Arc<ArchiveCounters>,
}

impl BlockCache {
    pub(super) fn new(capacity: u64, counters: Arc<ArchiveCounters>) -> Self {
        BlockCache { capacity, state: Mutex::new(State::default()), counters }
    }

    /// Finds a block, marking it used; an absent block is marked as being fetched by the
    /// caller.
    pub(super) fn lookup(&self, key: BlockKey) -> Lookup {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let tick = state.tick();
        match state.slots.get_mut(&key) {
            Some(Slot::Ready { bytes, tick: used }) => {
                state.lru.remove(used);
                *used = tick;
                state.lru.insert(tick, key);
                Lookup::Hit(bytes.clone())
            }
            Some(Slot::Fetching(flight)) => Lookup::Wait(flight.clone()),
            None => {
                let flight = Arc::new(Flight::default());
                state.slots.insert(key, Slot::Fetching(flight.clone()));
                Lookup::Fetch(flight)
            }
        }
    }

    /// Whether the block is cached (ready), without marking it used.
    pub(super) fn is_ready(&self, key: BlockKey) -> bool {
        matches!(self.state.lock().slots.get(&key), Some(Slot::Ready { .. }))
    }

    /// Whether the block is cached or being fetched.
    pub(super) fn is_present(&self, key: BlockKey) -> bool {
        self.state.lock().slots.contains_key(&key)
    }

    /// Ends the fetch `flight` of `key`: keeps the block if it succeeded (and the segment
    /// was not forgotten meanwhile), evicting the least recently used blocks to make room,
    /// then wakes every waiter.
    pub(super) fn complete(&self, key: BlockKey, flight: &Arc<Flight>, outcome: Result<Bytes, ArchiveError>) {
        {
            let mut guard = self.state.lock();
            let state = &mut *guard;
            let ours = matches!(state.slots.get(&key), Some(Slot::Fetching(f)) if Arc::ptr_eq(f, flight));
            if ours {
                state.slots.remove(&key);
                if let Ok(bytes) = &outcome {
                    let len = bytes.len() as u64;
                    if len <= self.capacity {
                        while state.bytes + len > self.capacity {
                            let Some((_, oldest)) = state.lru.pop_first() else { break };
                            if let Some(Slot::Ready { bytes, .. }) = state.slots.remove(&oldest) {
                                state.bytes -= bytes.len() as u64;
                            }
                        }
                        let tick = state.tick();
                        state.lru.insert(tick, key);
                        state.slots.insert(key, Slot::Ready { bytes: bytes.clone(), tick });
                        state.bytes += len;
                    }
                }
            }
            self.counters.cache_bytes.store(state.bytes, Ordering::Relaxed);
        }
        flight.finish(outcome);
    }

    /// Drops every block of a segment; fetches under way still answer their waiters but
    /// keep nothing.
    pub(super) fn forget_segment(&self, segment_id: u64) {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let keys: Vec<BlockKey> =
            state.slots.range((segment_id, 0)..=(segment_id, u64::MAX)).map(|(k, _)| *k).collect();
        for key in keys {
            if let Some(Slot::Ready { bytes, tick }) = state.slots.remove(&key) {
                state.lru.remove(&tick);
                state.bytes -= bytes.len() as u64;
            }
        }
        self.counters.cache_bytes.store(state.bytes, Ordering::Relaxed);
    }

    /// Bytes of the ready blocks.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> u64 {
        self.state.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetch_that_ends_after_its_segment_is_forgotten_keeps_nothing() {
        let cache = BlockCache::new(1024, Arc::new(ArchiveCounters::default()));
        let Lookup::Fetch(flight) = cache.lookup((7, 0)) else { panic!("the block is not cached yet") };
        cache.forget_segment(7);
        cache.complete((7, 0), &flight, Ok(Bytes::from_static(b"deleted segment")));
        assert_eq!(flight.wait().unwrap(), Bytes::from_static(b"deleted segment"), "the waiter is answered");
        assert!(!cache.is_present((7, 0)), "the forgotten segment's block is not kept");
        assert_eq!(cache.bytes(), 0);
    }
}
