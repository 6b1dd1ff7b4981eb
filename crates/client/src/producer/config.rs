//! What a producer can be tuned by, with the KPL's defaults where the KPL has one.

use std::time::Duration;

use crate::producer::error::ProducerError;

/// Most records one `PutRecords` call takes (AWS's limit).
pub const PUT_RECORDS_RECORDS_MAX: usize = 500;
/// Most bytes (data and partition keys) one `PutRecords` call takes (AWS's limit).
pub const PUT_RECORDS_BYTES_MAX: usize = 5 << 20;
/// Largest Kinesis record: data and partition key together (AWS's default limit).
pub const RECORD_BYTES_MAX: usize = 1 << 20;
/// Longest partition key, in Unicode characters (AWS's limit).
pub const PARTITION_KEY_CHARS_MAX: usize = 256;
/// Most user records one aggregate carries: de-aggregators refuse far larger ones.
pub const AGGREGATION_RECORDS_MAX: usize = 100_000;
/// Most concurrent `PutRecords` calls one producer may be configured with.
pub const CONCURRENT_REQUESTS_MAX: usize = 1024;
/// Bytes a buffered record is charged beyond its data and key, so the in-flight bound also
/// bounds how many tiny records are held.
pub const RECORD_OVERHEAD_BYTES: usize = 64;
/// Longest record TTL, linger and retry delay: far beyond any use, and small enough that
/// adding one to the time now can never overflow.
pub const DURATION_MAX: Duration = Duration::from_secs(7 * 24 * 3600);
/// Largest in-flight byte bound (the back-pressure semaphore counts in `u32`).
pub const IN_FLIGHT_BYTES_MAX: usize = u32::MAX as usize;

/// A per-shard rate limit (AWS's write limits are 1 MiB/s and 1000 records/s per shard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardRateLimit {
    /// Kinesis records per second per shard (an aggregate counts once).
    pub records_per_second: u32,
    /// Bytes (data and partition key) per second per shard.
    pub bytes_per_second: u32,
}

impl Default for ShardRateLimit {
    fn default() -> Self {
        ShardRateLimit { records_per_second: 1000, bytes_per_second: 1 << 20 }
    }
}

/// How a [`Producer`](super::Producer) buffers, aggregates, paces and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// Pack user records into KPL aggregates, one aggregate per shard at a time (the KPL's
    /// `AggregationEnabled`, default true). Consumers must de-aggregate (the KCL does).
    pub aggregation: bool,
    /// Largest aggregate, data and partition key together (default 1 MiB, AWS's record
    /// limit, so an aggregate carries as much as one record can; the KPL's
    /// `AggregationMaxSize` defaults to 50 KiB).
    pub aggregation_max_bytes: usize,
    /// Most user records per aggregate (default and maximum [`AGGREGATION_RECORDS_MAX`]).
    pub aggregation_max_records: usize,
    /// How long a record may wait for others to share its aggregate or call (the KPL's
    /// `RecordMaxBufferedTime`, default 100 ms).
    pub linger: Duration,
    /// Most records per `PutRecords` (default and maximum 500).
    pub put_records_max_records: usize,
    /// Most bytes per `PutRecords` (default and maximum 5 MiB).
    pub put_records_max_bytes: usize,
    /// Per-shard pacing (the KPL's `RateLimit`); `None` turns it off, e.g. against a Rheo
    /// without `--enforce-limits`. Default: AWS's shard limits.
    pub rate_limit: Option<ShardRateLimit>,
    /// How long a record may wait for an acknowledgement, retries included, before it fails
    /// with [`ProducerError::Expired`] (the KPL's `RecordTtl`, default 30 s). Like the KPL,
    /// an aggregate expires whole when its oldest record does, so the records of a shard
    /// that go on keep their order. A record in flight is checked when its answer comes.
    pub record_ttl: Duration,
    /// Bytes of records put but not yet acknowledged or failed; `put` waits while the bound
    /// is reached (default 64 MiB).
    pub max_in_flight_bytes: usize,
    /// Most `PutRecords` calls at once (the KPL's `MaxConnections`, default 24).
    pub max_concurrent_requests: usize,
    /// First retry back-off; doubles each attempt, with full jitter (default 100 ms).
    pub retry_base_delay: Duration,
    /// Largest retry back-off (default 5 s).
    pub retry_max_delay: Duration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            aggregation: true,
            aggregation_max_bytes: RECORD_BYTES_MAX,
            aggregation_max_records: AGGREGATION_RECORDS_MAX,
            linger: Duration::from_millis(100),
            put_records_max_records: PUT_RECORDS_RECORDS_MAX,
            put_records_max_bytes: PUT_RECORDS_BYTES_MAX,
            rate_limit: Some(ShardRateLimit::default()),
            record_ttl: Duration::from_secs(30),
            max_in_flight_bytes: 64 << 20,
            max_concurrent_requests: 24,
            retry_base_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_secs(5),
        }
    }
}

impl ProducerConfig {
    /// Refuses settings AWS or the producer cannot honour.
    pub fn validate(&self) -> Result<(), ProducerError> {
        let bad = |what: String| Err(ProducerError::Config(what));
        if self.put_records_max_records == 0 || self.put_records_max_records > PUT_RECORDS_RECORDS_MAX {
            return bad(format!("put_records_max_records must be 1..={PUT_RECORDS_RECORDS_MAX}"));
        }
        if self.put_records_max_bytes < RECORD_BYTES_MAX || self.put_records_max_bytes > PUT_RECORDS_BYTES_MAX {
            return bad(format!("put_records_max_bytes must be {RECORD_BYTES_MAX}..={PUT_RECORDS_BYTES_MAX}"));
        }
        if self.aggregation_max_bytes < 1024 || self.aggregation_max_bytes > RECORD_BYTES_MAX {
            return bad(format!("aggregation_max_bytes must be 1024..={RECORD_BYTES_MAX}"));
        }
        if self.aggregation_max_records == 0 || self.aggregation_max_records > AGGREGATION_RECORDS_MAX {
            return bad(format!("aggregation_max_records must be 1..={AGGREGATION_RECORDS_MAX}"));
        }
        if self.max_concurrent_requests == 0 || self.max_concurrent_requests > CONCURRENT_REQUESTS_MAX {
            return bad(format!("max_concurrent_requests must be 1..={CONCURRENT_REQUESTS_MAX}"));
        }
        // One largest record must fit, or `put` would wait forever.
        let smallest_bound = RECORD_BYTES_MAX + RECORD_OVERHEAD_BYTES;
        if self.max_in_flight_bytes < smallest_bound || self.max_in_flight_bytes > IN_FLIGHT_BYTES_MAX {
            return bad(format!("max_in_flight_bytes must be {smallest_bound}..={IN_FLIGHT_BYTES_MAX}"));
        }
        if let Some(limit) = self.rate_limit {
            if limit.records_per_second == 0 || (limit.bytes_per_second as usize) < RECORD_BYTES_MAX {
                return bad(format!(
                    "rate_limit needs at least 1 record/s and {RECORD_BYTES_MAX} bytes/s per shard (one largest record)"
                ));
            }
        }
        if self.record_ttl.is_zero() || self.retry_base_delay.is_zero() || self.retry_max_delay < self.retry_base_delay
        {
            return bad("record_ttl and retry_base_delay must be positive, retry_max_delay ≥ retry_base_delay".into());
        }
        for (name, value) in [
            ("record_ttl", self.record_ttl),
            ("linger", self.linger),
            ("retry_base_delay", self.retry_base_delay),
            ("retry_max_delay", self.retry_max_delay),
        ] {
            if value > DURATION_MAX {
                return bad(format!("{name} must be at most {DURATION_MAX:?}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_limits_beyond_aws_are_refused() {
        assert!(ProducerConfig::default().validate().is_ok());
        let over = |f: fn(&mut ProducerConfig)| {
            let mut config = ProducerConfig::default();
            f(&mut config);
            config.validate().is_err()
        };
        assert!(over(|c| c.put_records_max_records = 501));
        assert!(over(|c| c.put_records_max_bytes = (5 << 20) + 1));
        assert!(over(|c| c.aggregation_max_bytes = (1 << 20) + 1));
        assert!(over(|c| c.max_in_flight_bytes = 1000));
        assert!(over(|c| c.max_concurrent_requests = 0));
        assert!(over(|c| c.record_ttl = Duration::MAX), "a TTL that would overflow the clock is refused");
        assert!(over(|c| c.linger = DURATION_MAX + Duration::from_secs(1)));
        assert!(over(|c| {
            c.retry_max_delay = Duration::MAX;
        }));
        assert!(over(|c| c.record_ttl = Duration::ZERO));
        assert!(over(|c| c.rate_limit = Some(ShardRateLimit { records_per_second: 0, bytes_per_second: 1 << 20 })));
    }
}
