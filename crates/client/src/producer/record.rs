//! User records as the producer holds them, the checks AWS applies to them, and the size an
//! aggregate of them takes.

use bytes::Bytes;
use tokio::sync::{oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;

use crate::producer::config::{PARTITION_KEY_CHARS_MAX, RECORD_BYTES_MAX};
use crate::producer::error::ProducerError;
use crate::producer::PutOutcome;
use crate::shards::partition_key_hash;

/// Magic and MD5 trailer around an aggregate's protobuf.
pub(crate) const AGGREGATE_FRAMING_BYTES: usize = 4 + 16;

/// The routing facts of a record after validation: its hash key, and the explicit hash key
/// to send (if the caller gave one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Routing {
    pub hash: u128,
    pub explicit_hash_key: Option<String>,
}

/// Checks a record the way `PutRecords` does and works out its hash key.
pub(crate) fn validate(
    partition_key: &str,
    explicit_hash_key: Option<&str>,
    data: &[u8],
) -> Result<Routing, ProducerError> {
    let chars = partition_key.chars().count();
    if chars == 0 || chars > PARTITION_KEY_CHARS_MAX {
        return Err(ProducerError::InvalidRecord(format!(
            "partition key must be 1..={PARTITION_KEY_CHARS_MAX} characters, this one has {chars}"
        )));
    }
    if data.len() + partition_key.len() > RECORD_BYTES_MAX {
        return Err(ProducerError::InvalidRecord(format!(
            "data and partition key are {} bytes, more than the {RECORD_BYTES_MAX} a record may carry",
            data.len() + partition_key.len()
        )));
    }
    match explicit_hash_key {
        None => Ok(Routing { hash: partition_key_hash(partition_key), explicit_hash_key: None }),
        Some(text) => {
            let hash = parse_hash_key(text).ok_or_else(|| {
                ProducerError::InvalidRecord(format!("explicit hash key {text:?} is not a decimal number in 0..2^128"))
            })?;
            Ok(Routing { hash, explicit_hash_key: Some(text.to_owned()) })
        }
    }
}

/// A decimal 128-bit number, digits only (as AWS accepts).
fn parse_hash_key(text: &str) -> Option<u128> {
    if text.is_empty() || text.len() > 39 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A user record waiting for its acknowledgement.
#[derive(Debug)]
pub(crate) struct UserEntry {
    pub partition_key: String,
    pub routing: Routing,
    pub data: Bytes,
    pub arrived: Instant,
    pub deadline: Instant,
    /// Times it was sent.
    pub attempts: u32,
    /// The last failure it met, for the TTL's error.
    pub last_error: Option<String>,
    pub reply: oneshot::Sender<Result<PutOutcome, ProducerError>>,
    /// Its share of the in-flight byte bound, given back when the entry is dropped.
    pub _permit: OwnedSemaphorePermit,
    /// Keeps the producer's count of unfinished records (what `flush` waits on).
    pub _ticket: super::Ticket,
}

impl rheo_aws::kpl::UserRecord for UserEntry {
    fn partition_key(&self) -> &str {
        &self.partition_key
    }
    fn explicit_hash_key(&self) -> Option<&str> {
        self.routing.explicit_hash_key.as_deref()
    }
    fn data(&self) -> &[u8] {
        &self.data
    }
}

fn varint_len(value: u64) -> usize {
    // 7 bits per byte, at least one byte.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// An upper bound of the bytes a user record adds to an aggregate already holding
/// `records_before` records: its `Record` entry, and table entries for its keys as if they
/// were new (repeated keys make the real aggregate smaller, never larger).
pub(crate) fn aggregated_size(
    partition_key: &str,
    explicit_hash_key: Option<&str>,
    data_len: usize,
    records_before: usize,
) -> usize {
    let table_entry = |key: &str| 1 + varint_len(key.len() as u64) + key.len();
    let index = varint_len(records_before as u64);
    let inner = 1 + index + explicit_hash_key.map_or(0, |_| 1 + index) + 1 + varint_len(data_len as u64) + data_len;
    table_entry(partition_key) + explicit_hash_key.map_or(0, table_entry) + 1 + varint_len(inner as u64) + inner
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn records_are_checked_like_aws() {
        assert!(validate("", None, b"x").is_err());
        assert!(validate(&"k".repeat(256), None, b"x").is_ok());
        assert!(validate(&"é".repeat(256), None, b"x").is_ok(), "characters, not bytes");
        assert!(validate(&"k".repeat(257), None, b"x").is_err());
        assert!(validate("k", None, &vec![0; RECORD_BYTES_MAX - 1]).is_ok());
        assert!(validate("k", None, &vec![0; RECORD_BYTES_MAX]).is_err());
        assert_eq!(validate("k", Some("0"), b"").unwrap().hash, 0);
        assert_eq!(validate("k", Some(&u128::MAX.to_string()), b"").unwrap().hash, u128::MAX);
        assert!(validate("k", Some("340282366920938463463374607431768211456"), b"").is_err(), "2^128");
        assert!(validate("k", Some("-1"), b"").is_err());
        assert!(validate("k", Some("+1"), b"").is_err());
        assert!(validate("k", Some("0x10"), b"").is_err());
        assert_eq!(validate("a", None, b"").unwrap().hash, partition_key_hash("a"));
    }

    proptest! {
        /// The running estimate never undercounts what `aggregate` writes.
        #[test]
        fn aggregate_size_estimate_is_an_upper_bound(
            records in proptest::collection::vec(
                ("[a-c]{1,3}", proptest::option::of("[0-9]{1,39}"), proptest::collection::vec(any::<u8>(), 0..300)),
                1..200,
            )
        ) {
            let mut estimate = AGGREGATE_FRAMING_BYTES;
            for (i, (pk, ehk, data)) in records.iter().enumerate() {
                estimate += aggregated_size(pk, ehk.as_deref(), data.len(), i);
            }
            let triples: Vec<_> = records.into_iter().collect::<Vec<(String, Option<String>, Vec<u8>)>>();
            let real = rheo_aws::kpl::aggregate(&triples).len();
            prop_assert!(real <= estimate, "real {real} > estimate {estimate}");
        }
    }

    #[test]
    fn varint_lengths() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(u64::MAX), 10);
    }
}
