//! Time for a running application: what time it is and sleeping until a moment, through
//! the storage crate's `Clock` seam. The executor never reads a clock; the task stamps
//! ROWTIME and closes windows with this, so tests drive time by hand without real sleeps.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rheo_storage::{Clock, ManualClock};
use tokio::sync::watch;

/// The time source of running applications.
pub trait Ticker: Send + Sync + 'static {
    /// Now, epoch ms.
    fn now_ms(&self) -> i64;

    /// Resolves once [`Ticker::now_ms`] has reached `deadline_ms`.
    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Epoch ms of a clock as the signed type SQL timestamps use (no clock reaches the bound).
fn signed_ms(clock: &dyn Clock) -> i64 {
    i64::try_from(clock.now_ms()).unwrap_or(i64::MAX)
}

/// A clock with tokio's timer: sleeps the difference and looks again, so a clock that
/// moved differently from the timer (a manual one, a stepped system clock) is still obeyed.
pub struct SystemTicker {
    clock: Arc<dyn Clock>,
}

impl SystemTicker {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        SystemTicker { clock }
    }
}

impl Ticker for SystemTicker {
    fn now_ms(&self) -> i64 {
        signed_ms(self.clock.as_ref())
    }

    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            loop {
                let left = deadline_ms.saturating_sub(self.now_ms());
                if left <= 0 {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(left.unsigned_abs())).await;
            }
        })
    }
}

/// A [`ManualClock`] whose sleepers wake when a test moves it with
/// [`ManualTicker::advance_ms`] or [`ManualTicker::set_ms`].
pub struct ManualTicker {
    clock: ManualClock,
    moved: watch::Sender<()>,
}

impl ManualTicker {
    /// A ticker over `clock` (the same clock the engine and Firehose were opened with).
    pub fn new(clock: ManualClock) -> Self {
        ManualTicker { clock, moved: watch::Sender::new(()) }
    }

    pub fn advance_ms(&self, delta_ms: u64) {
        self.clock.advance_ms(delta_ms);
        self.moved.send_replace(());
    }

    pub fn set_ms(&self, now_ms: u64) {
        self.clock.set_ms(now_ms);
        self.moved.send_replace(());
    }
}

impl Ticker for ManualTicker {
    fn now_ms(&self) -> i64 {
        signed_ms(&self.clock)
    }

    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        // Subscribed before the first look, so a move between the look and the wait wakes it.
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            while self.now_ms() < deadline_ms {
                // The sender lives as long as `self`.
                if moved.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn manual_sleepers_wake_only_once_the_deadline_is_reached() {
        let ticker = Arc::new(ManualTicker::new(ManualClock::new(1_000)));
        let sleeper = {
            let ticker = ticker.clone();
            tokio::spawn(async move { ticker.sleep_until(1_500).await })
        };
        tokio::task::yield_now().await;
        ticker.advance_ms(499);
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        ticker.advance_ms(1);
        sleeper.await.unwrap();
        // A deadline already passed resolves at once.
        ticker.sleep_until(1_200).await;
    }
}
