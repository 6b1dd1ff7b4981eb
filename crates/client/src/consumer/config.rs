//! How a worker is configured, with the Java KCL's defaults.

use std::time::Duration;

use rheo_protocol::Timestamp;

use super::error::ConsumerError;

/// Where a shard without a checkpoint starts (the KCL's `InitialPositionInStream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialPosition {
    /// At the newest record (the KCL's default).
    Latest,
    /// At the oldest record still retained.
    TrimHorizon,
    /// At the first record that arrived at or after this time.
    AtTimestamp(Timestamp),
}

/// How records are fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetrievalConfig {
    /// `GetRecords` in a loop, each shard on its own.
    Polling {
        /// `Limit` of each `GetRecords` (the KCL's default 10 000, the API's maximum).
        max_records: u32,
        /// Pause after a `GetRecords` that returned nothing new (the KCL's default 1 s).
        idle_time: Duration,
    },
    /// Enhanced fan-out: a registered stream consumer and `SubscribeToShard`.
    FanOut {
        /// The stream consumer's name (registered if missing); the KCL uses the
        /// application name.
        consumer_name: String,
    },
}

impl RetrievalConfig {
    /// Polling with the KCL's defaults.
    pub fn polling() -> Self {
        RetrievalConfig::Polling { max_records: GET_RECORDS_LIMIT_MAX, idle_time: Duration::from_secs(1) }
    }
}

/// Most records one `GetRecords` may return (the API's limit).
pub const GET_RECORDS_LIMIT_MAX: u32 = 10_000;

/// The KCL's allowance for clock and scheduling slack in its lease timings.
pub const LEASE_EPSILON: Duration = Duration::from_millis(25);

/// Longest failover time, renew, take, shard-sync, parent-poll or idle interval a worker
/// accepts: longer ones are surely mistakes, and bounding them keeps timer arithmetic
/// from overflowing.
pub const WORKER_INTERVAL_MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// Shortest failover time, renew, take, shard-sync or parent-poll interval a worker
/// accepts (a zero period would make the timers spin or panic).
pub const WORKER_INTERVAL_MIN: Duration = Duration::from_millis(10);

/// The share of the renew interval one lease-table call may take.
pub const LEASE_CALL_TIMEOUT_SHARE: f64 = 0.9;

/// The KCL's lease duration.
pub const DEFAULT_FAILOVER_TIME: Duration = Duration::from_secs(10);

/// A worker's settings. [`WorkerConfig::new`] gives the Java KCL's defaults; change the
/// public fields to taste.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The application's name, which is also the lease table's name.
    pub application_name: String,
    /// The stream (a name, or an ARN).
    pub stream_name: String,
    /// This worker's identity in `leaseOwner`; unique per worker.
    pub worker_id: String,
    /// Where shards without a checkpoint start.
    pub initial_position: InitialPosition,
    /// Polling or enhanced fan-out.
    pub retrieval: RetrievalConfig,
    /// A lease whose counter did not change for this long is expired and may be taken
    /// (the KCL's `failoverTimeMillis`, 10 s).
    pub failover_time: Duration,
    /// How often held leases are renewed (the KCL's failover time / 3 − 25 ms).
    pub lease_renew_interval: Duration,
    /// How often the lease table is scanned for leases to take or steal (the KCL's
    /// (failover time + 25 ms) × 2).
    pub lease_take_interval: Duration,
    /// How often the shard list is compared with the leases (the KCL's 60 s).
    pub shard_sync_interval: Duration,
    /// How often a shard waiting for its parents checks them again (the KCL's 10 s).
    pub parent_shard_poll_interval: Duration,
    /// Most leases this worker holds (the KCL's default: unlimited).
    pub max_leases_per_worker: usize,
    /// Most leases stolen in one round (the KCL's 1).
    pub max_leases_to_steal_at_one_time: usize,
    /// Calls `process_records` with an empty list when a fetch found nothing new (the
    /// KCL's default: no).
    pub call_process_records_even_for_empty_list: bool,
}

impl WorkerConfig {
    /// A worker of `application_name` reading `stream_name`, with the KCL's defaults and
    /// a random worker id.
    pub fn new(application_name: impl Into<String>, stream_name: impl Into<String>) -> Self {
        let failover_time = DEFAULT_FAILOVER_TIME;
        WorkerConfig {
            application_name: application_name.into(),
            stream_name: stream_name.into(),
            worker_id: random_worker_id(),
            initial_position: InitialPosition::Latest,
            retrieval: RetrievalConfig::polling(),
            failover_time,
            lease_renew_interval: renew_interval_for(failover_time),
            lease_take_interval: take_interval_for(failover_time),
            shard_sync_interval: Duration::from_secs(60),
            parent_shard_poll_interval: Duration::from_secs(10),
            max_leases_per_worker: usize::MAX,
            max_leases_to_steal_at_one_time: 1,
            call_process_records_even_for_empty_list: false,
        }
    }

    /// Checks that the settings can work: names set, intervals between
    /// [`WORKER_INTERVAL_MIN`] and [`WORKER_INTERVAL_MAX`], renewals more frequent than the
    /// failover time, at least one record per `GetRecords`.
    pub fn validate(&self) -> Result<(), ConsumerError> {
        let refuse = |detail: String| Err(ConsumerError::Config(detail));
        if self.application_name.is_empty() || self.stream_name.is_empty() || self.worker_id.is_empty() {
            return refuse("application name, stream name and worker id must not be empty".into());
        }
        let intervals = [
            ("failover time", self.failover_time),
            ("lease renew interval", self.lease_renew_interval),
            ("lease take interval", self.lease_take_interval),
            ("shard sync interval", self.shard_sync_interval),
            ("parent shard poll interval", self.parent_shard_poll_interval),
        ];
        for (name, value) in intervals {
            if !(WORKER_INTERVAL_MIN..=WORKER_INTERVAL_MAX).contains(&value) {
                return refuse(format!(
                    "the {name} ({value:?}) must be between {WORKER_INTERVAL_MIN:?} and {WORKER_INTERVAL_MAX:?}"
                ));
            }
        }
        if self.lease_renew_interval >= self.failover_time {
            return refuse(format!(
                "the lease renew interval ({:?}) must be shorter than the failover time ({:?})",
                self.lease_renew_interval, self.failover_time
            ));
        }
        if let RetrievalConfig::Polling { max_records, idle_time } = self.retrieval {
            if !(1..=GET_RECORDS_LIMIT_MAX).contains(&max_records) {
                return refuse(format!("max records ({max_records}) must be between 1 and {GET_RECORDS_LIMIT_MAX}"));
            }
            if idle_time > WORKER_INTERVAL_MAX {
                return refuse(format!("the idle time ({idle_time:?}) must be at most {WORKER_INTERVAL_MAX:?}"));
            }
        }
        Ok(())
    }

    /// How long one lease-table call (renew, take, checkpoint, ...) may take: below the
    /// renew interval, so that a hung call neither holds up the next round of renewals
    /// nor keeps a lease's lock past it.
    pub fn lease_call_timeout(&self) -> Duration {
        self.lease_renew_interval.mul_f64(LEASE_CALL_TIMEOUT_SHARE)
    }

    /// Sets the failover time and derives the renew and take intervals from it as the
    /// KCL does.
    pub fn with_failover_time(mut self, failover_time: Duration) -> Self {
        self.failover_time = failover_time;
        self.lease_renew_interval = renew_interval_for(failover_time);
        self.lease_take_interval = take_interval_for(failover_time);
        self
    }
}

/// The KCL's renew interval: a third of the lease duration, less the epsilon.
fn renew_interval_for(failover_time: Duration) -> Duration {
    (failover_time / 3).saturating_sub(LEASE_EPSILON).max(LEASE_EPSILON)
}

/// The KCL's take interval: twice the lease duration plus the epsilon.
fn take_interval_for(failover_time: Duration) -> Duration {
    failover_time.saturating_add(LEASE_EPSILON).saturating_mul(2)
}

/// A worker id like the KCL's default (a random UUID).
fn random_worker_id() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kcl_defaults_are_valid() {
        let config = WorkerConfig::new("app", "stream");
        assert!(config.validate().is_ok());
        assert!(config.lease_call_timeout() < config.lease_renew_interval);
    }

    #[test]
    fn zero_huge_and_inconsistent_settings_are_refused() {
        let refused = |change: &dyn Fn(&mut WorkerConfig)| {
            let mut config = WorkerConfig::new("app", "stream");
            change(&mut config);
            matches!(config.validate(), Err(ConsumerError::Config(_)))
        };
        assert!(refused(&|c| c.lease_renew_interval = Duration::ZERO));
        assert!(refused(&|c| c.lease_take_interval = Duration::ZERO));
        assert!(refused(&|c| c.shard_sync_interval = Duration::ZERO));
        assert!(refused(&|c| c.parent_shard_poll_interval = Duration::ZERO));
        assert!(refused(&|c| *c = c.clone().with_failover_time(Duration::MAX)));
        assert!(refused(&|c| c.lease_renew_interval = c.failover_time));
        assert!(refused(&|c| c.worker_id.clear()));
        assert!(refused(&|c| c.retrieval = RetrievalConfig::Polling { max_records: 0, idle_time: Duration::ZERO }));
        assert!(refused(&|c| {
            c.retrieval = RetrievalConfig::Polling { max_records: 1, idle_time: WORKER_INTERVAL_MAX * 2 }
        }));
        assert!(!refused(&|c| c.retrieval = RetrievalConfig::Polling { max_records: 1, idle_time: Duration::ZERO }));
    }
}
