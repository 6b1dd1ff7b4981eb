//! The one retry policy of delivery: exponential back-off with a cap, optional jitter,
//! and a retry budget (AWS's `RetryOptions.DurationInSeconds` where the destination has
//! one). Every attempt and every wait can be raced against the stream's stop signal, so
//! deleting a stream or stopping the server never waits for a destination.

use std::future::Future;
use std::time::Duration;

use rand::Rng as _;
use rheo_storage::Clock;
use tokio::sync::watch;

use crate::limits::{DELIVERY_RETRY_INITIAL_MS, DELIVERY_RETRY_MAX_MS, RETRY_BACKOFF_MULTIPLIER};

/// The stream's stop signal: `true` once the stream is deleted or the server stops.
pub type StopSignal = watch::Receiver<bool>;

/// How long a destination keeps retrying before its records take the error path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryBudget {
    /// Until the attempt succeeds or the stream stops: object writes must not lose data.
    Forever,
    /// Until this much time was spent waiting between attempts (time spent in attempts
    /// does not count); the last wait is cut short so the final attempt happens when the
    /// budget ends. The HTTP endpoint protocol counts its retry duration this way.
    BackOff(Duration),
    /// Until this much time has passed (on the clock's monotonic time) since the first
    /// attempt began, attempts included. The Redshift loader counts its retry duration
    /// this way.
    Elapsed(Duration),
}

/// When to try again after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The wait before the first retry; each further wait is
    /// [`RETRY_BACKOFF_MULTIPLIER`] times longer.
    pub initial: Duration,
    /// No single wait exceeds this.
    pub cap: Duration,
    /// Each wait is randomly stretched or shrunk by up to this fraction (0: exact waits),
    /// so that many streams failing together do not retry in lock-step.
    pub jitter: f64,
    pub budget: RetryBudget,
}

/// How a retried operation ended.
#[derive(Debug)]
pub enum Retried<T, E> {
    /// It succeeded on attempt number `attempts`.
    Done { value: T, attempts: u32 },
    /// The budget ran out; `last` is the last attempt's error.
    GaveUp { attempts: u32, last: E },
    /// The stream stopped first.
    Stopped,
}

impl RetryPolicy {
    /// Object writes, PostgreSQL COPY and the jq worker: 1 s doubling up to 1 min, no
    /// jitter, until it works or the stream stops.
    pub const fn delivery() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(DELIVERY_RETRY_INITIAL_MS),
            cap: Duration::from_millis(DELIVERY_RETRY_MAX_MS),
            jitter: 0.0,
            budget: RetryBudget::Forever,
        }
    }

    /// The same policy with another budget.
    pub const fn with_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = budget;
        self
    }

    /// The wait before retry number `retry` (1 = the first retry) for a given `jitter`
    /// sample (clamped to the policy's ±[`RetryPolicy::jitter`]): `initial` doubling,
    /// stretched by the jitter, capped.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let bound = self.jitter.abs();
        let jitter = jitter.clamp(-bound, bound);
        // Exponent capped so the float stays finite; the cap below bites long before.
        let exponent = retry.saturating_sub(1).min(63);
        let secs = self.initial.as_secs_f64() * RETRY_BACKOFF_MULTIPLIER.powi(exponent as i32) * (1.0 + jitter);
        Duration::from_secs_f64(secs.min(self.cap.as_secs_f64()))
    }

    /// The wait before retry number `retry`, with a fresh jitter sample.
    fn next_delay(&self, retry: u32) -> Duration {
        let jitter = if self.jitter > 0.0 { rand::thread_rng().gen_range(-self.jitter..=self.jitter) } else { 0.0 };
        self.delay(retry, jitter)
    }

    /// Waits before retry number `retry`; false when the stream stopped meanwhile.
    pub async fn wait(&self, retry: u32, stop: &mut StopSignal) -> bool {
        sleep_unless_stopped(self.next_delay(retry), Some(stop)).await
    }

    /// Runs `attempt` until it succeeds, the budget runs out or `stop` (when given) fires;
    /// `failed` hears of each failed attempt (its error and number) before the wait.
    pub async fn run<T, E, Fut>(
        &self,
        clock: &dyn Clock,
        mut stop: Option<&mut StopSignal>,
        mut attempt: impl FnMut() -> Fut,
        mut failed: impl FnMut(&E, u32),
    ) -> Retried<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let started_micros = clock.monotonic_micros();
        let mut waited = Duration::ZERO;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let result = match stop.as_deref_mut() {
                Some(stop) => match unless_stopped(stop, attempt()).await {
                    Some(result) => result,
                    None => return Retried::Stopped,
                },
                None => attempt().await,
            };
            let error = match result {
                Ok(value) => return Retried::Done { value, attempts },
                Err(error) => error,
            };
            failed(&error, attempts);
            let mut delay = self.next_delay(attempts);
            match self.budget {
                RetryBudget::Forever => {}
                RetryBudget::BackOff(limit) => {
                    if waited >= limit {
                        return Retried::GaveUp { attempts, last: error };
                    }
                    delay = delay.min(limit - waited);
                }
                RetryBudget::Elapsed(limit) => {
                    let elapsed = Duration::from_micros(clock.monotonic_micros().saturating_sub(started_micros));
                    if elapsed >= limit {
                        return Retried::GaveUp { attempts, last: error };
                    }
                }
            }
            if !sleep_unless_stopped(delay, stop.as_deref_mut()).await {
                return Retried::Stopped;
            }
            waited += delay;
        }
    }
}

/// Awaits `work` unless the stream stops first (deletion or shutdown must not wait for a
/// destination's retry duration or a hung connection); `None` when stopped.
pub async fn unless_stopped<T>(stop: &mut StopSignal, work: impl Future<Output = T>) -> Option<T> {
    if *stop.borrow() {
        return None;
    }
    tokio::select! {
        result = work => Some(result),
        _ = stop.changed() => None,
    }
}

/// Sleeps for `delay`; false when the stream stopped meanwhile.
async fn sleep_unless_stopped(delay: Duration, stop: Option<&mut StopSignal>) -> bool {
    match stop {
        None => {
            tokio::time::sleep(delay).await;
            true
        }
        Some(stop) => tokio::select! {
            _ = tokio::time::sleep(delay) => !*stop.borrow(),
            _ = stop.changed() => false,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn delivery_schedule_doubles_to_its_cap_without_jitter() {
        let policy = RetryPolicy::delivery();
        assert_eq!(policy.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(policy.delay(2, 0.0), Duration::from_secs(2));
        assert_eq!(policy.delay(6, 0.0), Duration::from_secs(32));
        assert_eq!(policy.delay(7, 0.0), Duration::from_secs(60));
        assert_eq!(policy.delay(1000, 0.0), Duration::from_secs(60));
        // No jitter is configured, so a sample cannot stretch the wait.
        assert_eq!(policy.delay(1, 0.5), Duration::from_secs(1));
    }

    fn fast(budget: RetryBudget) -> RetryPolicy {
        RetryPolicy { initial: Duration::from_millis(10), cap: Duration::from_secs(1), jitter: 0.0, budget }
    }

    #[tokio::test]
    async fn back_off_budget_gives_up_after_waiting_that_long() {
        let clock = rheo_storage::ManualClock::new(0);
        let policy = fast(RetryBudget::BackOff(Duration::from_millis(25)));
        let mut seen = Vec::new();
        let outcome: Retried<(), &str> =
            policy.run(&clock, None, || async { Err("no") }, |_, attempt| seen.push(attempt)).await;
        // Waits of 10 ms, then 15 ms (20 ms cut to what is left of the budget), then none.
        assert!(matches!(outcome, Retried::GaveUp { attempts: 3, last: "no" }), "{outcome:?}");
        assert_eq!(seen, [1, 2, 3]);
    }

    #[tokio::test]
    async fn elapsed_budget_reads_the_clock() {
        let clock = rheo_storage::ManualClock::new(0);
        let policy = fast(RetryBudget::Elapsed(Duration::from_secs(3_600)));
        // Each attempt takes 25 minutes on the clock: the third ends past the hour.
        let outcome: Retried<(), &str> =
            policy.run(&clock, None, || async { Err("down") }, |_, _| clock.advance_ms(25 * 60_000)).await;
        assert!(matches!(outcome, Retried::GaveUp { attempts: 3, .. }), "{outcome:?}");
    }

    #[tokio::test]
    async fn stop_ends_a_forever_retry() {
        let clock = rheo_storage::ManualClock::new(0);
        let (stopper, mut stop) = watch::channel(false);
        let policy = fast(RetryBudget::Forever);
        let outcome: Retried<(), &str> = policy
            .run(
                &clock,
                Some(&mut stop),
                || async { Err("down") },
                |_, attempt| {
                    if attempt == 3 {
                        stopper.send_replace(true);
                    }
                },
            )
            .await;
        assert!(matches!(outcome, Retried::Stopped));
    }
}
