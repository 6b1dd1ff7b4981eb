//! The time seam: the engine never reads the system clock directly, so tests can move
//! time forward to expire retention without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A source of wall-clock time in milliseconds since the Unix epoch, and of a monotonic
/// microsecond count for measuring how long the disk takes.
pub trait Clock: Send + Sync + 'static {
    /// Current time.
    fn now_ms(&self) -> u64;

    /// Microseconds on a clock that never goes backwards, from an arbitrary start; only
    /// differences mean anything.
    fn monotonic_micros(&self) -> u64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 is a broken host; treating it as the epoch keeps the
        // engine running and arrival timestamps monotonic per shard regardless.
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    fn monotonic_micros(&self) -> u64 {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_micros() as u64
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
    /// How far the wall clock was stepped back: the monotonic clock keeps counting.
    stepped_back_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        ManualClock { now_ms: Arc::new(AtomicU64::new(start_ms)), stepped_back_ms: Arc::new(AtomicU64::new(0)) }
    }

    /// Moves the clock forward (or backward, to test that arrival times stay monotonic).
    pub fn set_ms(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Steps the wall clock back by `delta_ms` (an NTP correction, say) while the
    /// monotonic clock stands still.
    pub fn step_back_ms(&self, delta_ms: u64) {
        self.now_ms.fetch_sub(delta_ms, Ordering::SeqCst);
        self.stepped_back_ms.fetch_add(delta_ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `delta_ms`.
    pub fn advance_ms(&self, delta_ms: u64) {
        self.now_ms.fetch_add(delta_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    /// The manual time in microseconds: durations are whatever the test moved it by
    /// (steps back excepted).
    fn monotonic_micros(&self) -> u64 {
        self.now_ms().saturating_add(self.stepped_back_ms.load(Ordering::SeqCst)).saturating_mul(1000)
    }
}
