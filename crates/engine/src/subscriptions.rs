//! The registry of open SubscribeToShard subscriptions, which enforces AWS's takeover
//! rule: one subscription per consumer and shard. A second call within
//! [`SUBSCRIPTION_TAKEOVER_MS`] of the open one's start is refused; a later one takes
//! over, and the older one is told to end.
//!
//! Invariant: a slot is held by at most one [`Lease`], the newest; an older lease
//! dropping late never frees its successor's slot (slots carry a generation).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::ids::ConsumerArn;
use crate::limits::SUBSCRIPTION_TAKEOVER_MS;

/// A consumer and a shard uid.
pub(crate) type SlotKey = (ConsumerArn, u64);

/// The open subscription of one consumer on one shard.
struct Slot {
    generation: u64,
    started_ms: u64,
    /// Ends the subscription when a newer one takes over.
    takeover: oneshot::Sender<()>,
}

/// Open subscriptions by consumer and shard.
#[derive(Default)]
pub(crate) struct Subscriptions {
    slots: Arc<Mutex<HashMap<SlotKey, Slot>>>,
    next_generation: AtomicU64,
}

impl Subscriptions {
    /// Takes the slot of `key`, taking it over from an open subscription that started at
    /// least [`SUBSCRIPTION_TAKEOVER_MS`] ago. The receiver resolves when a newer one
    /// takes over in turn. `Err` carries how long ago the open one started.
    pub(crate) fn claim(&self, key: SlotKey, now_ms: u64) -> Result<(Lease, oneshot::Receiver<()>), u64> {
        let mut slots = self.slots.lock();
        if let Some(open) = slots.get(&key) {
            let age_ms = now_ms.saturating_sub(open.started_ms);
            if age_ms < SUBSCRIPTION_TAKEOVER_MS {
                return Err(age_ms);
            }
        }
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let (takeover, taken_over) = oneshot::channel();
        if let Some(previous) = slots.insert(key.clone(), Slot { generation, started_ms: now_ms, takeover }) {
            // The older subscription may have ended meanwhile; then nobody listens.
            let _ = previous.takeover.send(());
        }
        Ok((Lease { slots: self.slots.clone(), key, generation }, taken_over))
    }

    /// Subscriptions open now.
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().len()
    }
}

/// Holds a subscription's slot; frees it when dropped, unless a newer one took it.
pub(crate) struct Lease {
    slots: Arc<Mutex<HashMap<SlotKey, Slot>>>,
    key: SlotKey,
    generation: u64,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut slots = self.slots.lock();
        if slots.get(&self.key).is_some_and(|slot| slot.generation == self.generation) {
            slots.remove(&self.key);
        }
    }
}
