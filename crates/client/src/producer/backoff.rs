//! Retry back-off: exponential, capped, with full jitter (a uniformly random pause between
//! zero and the exponential bound), so producers throttled together do not retry together.

use std::fmt;
use std::time::Duration;

/// Where the jitter's randomness comes from; tests replace it.
pub trait RandomSource: Send + Sync + fmt::Debug {
    /// A uniformly random number in `0..=bound`.
    fn up_to(&self, bound: u64) -> u64;
}

/// The thread-local generator of `rand`.
#[derive(Debug, Default)]
pub struct ThreadRandom;

impl RandomSource for ThreadRandom {
    fn up_to(&self, bound: u64) -> u64 {
        use rand::Rng;
        rand::thread_rng().gen_range(0..=bound)
    }
}

/// The largest pause before retry number `attempt` (1 for the first retry):
/// `base × 2^(attempt-1)`, at most `max`.
pub fn backoff_bound(base: Duration, max: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    base.saturating_mul(1u32 << doublings.min(31)).min(max)
}

/// The pause before retry number `attempt`: full jitter under [`backoff_bound`].
pub fn backoff(base: Duration, max: Duration, attempt: u32, random: &dyn RandomSource) -> Duration {
    let bound = backoff_bound(base, max, attempt);
    let micros = u64::try_from(bound.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(random.up_to(micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug)]
    struct Fixed(f64);
    impl RandomSource for Fixed {
        fn up_to(&self, bound: u64) -> u64 {
            (bound as f64 * self.0) as u64
        }
    }

    #[test]
    fn bound_doubles_then_caps() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(5));
        let bounds: Vec<_> = (1..=8).map(|a| backoff_bound(base, max, a).as_millis()).collect();
        assert_eq!(bounds, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff_bound(base, max, u32::MAX), max);
        assert_eq!(backoff(base, max, 3, &Fixed(1.0)), Duration::from_millis(400));
        assert_eq!(backoff(base, max, 3, &Fixed(0.0)), Duration::ZERO);
    }

    proptest! {
        #[test]
        fn jittered_pause_stays_within_the_bound(attempt in 1u32..100, base_ms in 1u64..1000, extra_ms in 0u64..10_000) {
            let (base, max) = (Duration::from_millis(base_ms), Duration::from_millis(base_ms + extra_ms));
            let pause = backoff(base, max, attempt, &ThreadRandom);
            prop_assert!(pause <= backoff_bound(base, max, attempt));
            prop_assert!(pause <= max);
        }
    }
}
