//! Kinesis records to user records, as the KCL's de-aggregation does, shared by the
//! consumer and the lease-free reader: a KPL aggregate becomes its user records (sharing
//! the outer sequence number, with sub-sequence numbers 0..n-1), and a record that is not
//! a valid aggregate passes through whole rather than being lost.
//!
//! [`user_records_in_shard`] adds the KCL's check that every user record hashes into the
//! shard the aggregate was read from: one that does not means the producer routed the
//! aggregate with a stale shard map and re-sends its records, so the KCL drops the whole
//! aggregate. A debugging reader may skip the check and show everything
//! ([`user_records`]).

use bytes::Bytes;
use rheo_aws::kpl;
use rheo_protocol::model::Record;
use rheo_protocol::{SequenceNumber, Timestamp};

use crate::shards::partition_key_hash;

/// One user record of a Kinesis record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// The Kinesis record's sequence number (shared by the user records of an aggregate).
    pub sequence_number: SequenceNumber,
    /// The index within the aggregate; `None` for a record that is not one.
    pub sub_sequence_number: Option<u64>,
    /// The partition key (the user record's own, for an aggregate).
    pub partition_key: String,
    /// The explicit hash key a KPL producer set on the user record.
    pub explicit_hash_key: Option<String>,
    /// When Kinesis accepted the (outer) record.
    pub arrival: Option<Timestamp>,
    /// The data.
    pub data: Bytes,
}

impl UserRecord {
    /// The hash key that routes this user record (its explicit hash key, or the MD5 of its
    /// partition key); `None` for an explicit hash key that is not a number.
    pub fn hash_key(&self) -> Option<u128> {
        match &self.explicit_hash_key {
            Some(key) => key.parse().ok(),
            None => Some(partition_key_hash(&self.partition_key)),
        }
    }
}

/// An aggregate holding a user record that does not belong to the shard it was read from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("KPL aggregate {sequence_number:?} holds user record {partition_key:?}, which hashes outside the shard")]
pub struct OutsideShard {
    /// The aggregate's sequence number.
    pub sequence_number: SequenceNumber,
    /// The first user record outside the shard.
    pub partition_key: String,
}

/// The user records of `record`, without any shard check.
pub fn user_records(record: Record) -> Vec<UserRecord> {
    let sub_records = match kpl::is_aggregated(&record.data).then(|| kpl::deaggregate(&record.data)) {
        Some(Ok(sub_records)) => sub_records,
        Some(Err(error)) => {
            tracing::warn!(sequence_number = %record.sequence_number.as_str(), %error, "a KPL aggregate does not decode; passing it on whole");
            return vec![plain(record)];
        }
        None => return vec![plain(record)],
    };
    sub_records
        .into_iter()
        .zip(0u64..)
        .map(|(sub, index)| UserRecord {
            sequence_number: record.sequence_number.clone(),
            sub_sequence_number: Some(index),
            partition_key: sub.partition_key,
            explicit_hash_key: sub.explicit_hash_key,
            arrival: record.approximate_arrival_timestamp,
            data: sub.data,
        })
        .collect()
}

/// The user records of `record` read from a shard whose hash keys are
/// `shard_range.0..=shard_range.1`, or [`OutsideShard`] when an aggregate holds a user
/// record of another shard (the KCL drops such an aggregate whole). Records that are not
/// aggregates are not checked: Kinesis itself routed them.
pub fn user_records_in_shard(record: Record, shard_range: (u128, u128)) -> Result<Vec<UserRecord>, OutsideShard> {
    let records = user_records(record);
    let (start, end) = shard_range;
    let outside = records
        .iter()
        .find(|r| r.sub_sequence_number.is_some() && !r.hash_key().is_some_and(|hash| (start..=end).contains(&hash)));
    match outside {
        Some(r) => {
            Err(OutsideShard { sequence_number: r.sequence_number.clone(), partition_key: r.partition_key.clone() })
        }
        None => Ok(records),
    }
}

fn plain(record: Record) -> UserRecord {
    UserRecord {
        sequence_number: record.sequence_number,
        sub_sequence_number: None,
        partition_key: record.partition_key.unwrap_or_default(),
        explicit_hash_key: None,
        arrival: record.approximate_arrival_timestamp,
        data: record.data,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn record(sequence: u128, partition_key: &str, data: Vec<u8>) -> Record {
        Record {
            sequence_number: SequenceNumber::from_u128(sequence),
            approximate_arrival_timestamp: None,
            data: Bytes::from(data),
            partition_key: Some(partition_key.into()),
            encryption_type: None,
        }
    }

    /// An aggregate of user records with `keys`, their data `data-<index>`.
    pub(crate) fn aggregate(keys: &[&str]) -> Vec<u8> {
        let subs: Vec<kpl::SubRecord> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| kpl::SubRecord {
                partition_key: (*k).into(),
                explicit_hash_key: None,
                data: Bytes::from(format!("data-{i}")),
            })
            .collect();
        kpl::aggregate(&subs)
    }

    #[test]
    fn without_the_shard_check_a_mixed_aggregate_yields_every_user_record() {
        let only_a = partition_key_hash("a");
        let mixed = record(1, "a", aggregate(&["a", "b"]));
        assert_eq!(user_records(mixed.clone()).len(), 2);
        let refused = user_records_in_shard(mixed, (only_a, only_a));
        assert_eq!(refused.map_err(|e| e.partition_key), Err("b".to_owned()));
        assert_eq!(user_records_in_shard(record(2, "a", aggregate(&["a", "a"])), (only_a, only_a)).unwrap().len(), 2);
    }

    #[test]
    fn plain_records_are_not_checked_and_a_bad_aggregate_passes_whole() {
        assert_eq!(user_records_in_shard(record(1, "zzz", b"plain".to_vec()), (0, 0)).unwrap().len(), 1);
        let mut data = aggregate(&["a"]);
        let last = data.len() - 1;
        data[last] ^= 0xff;
        let users = user_records_in_shard(record(1, "a", data.clone()), (0, 0)).unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!((users[0].sub_sequence_number, &users[0].data), (None, &Bytes::from(data)));
    }

    #[test]
    fn an_explicit_hash_key_routes_the_user_record() {
        let subs =
            [kpl::SubRecord { partition_key: "a".into(), explicit_hash_key: Some("7".into()), data: Bytes::new() }];
        let agg = record(1, "a", kpl::aggregate(&subs));
        assert!(user_records_in_shard(agg.clone(), (7, 7)).is_ok());
        assert!(user_records_in_shard(agg, (8, u128::MAX)).is_err());
    }

    proptest! {
        #[test]
        fn every_user_record_of_an_aggregate_comes_out_in_order(keys in proptest::collection::vec("[a-z]{1,8}", 1..20)) {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let users = user_records_in_shard(record(9, "x", aggregate(&refs)), (0, u128::MAX)).unwrap();
            let got: Vec<_> = users.iter().map(|u| (u.sub_sequence_number, u.partition_key.clone())).collect();
            let want: Vec<_> = keys.iter().enumerate().map(|(i, k)| (Some(i as u64), k.clone())).collect();
            prop_assert_eq!(got, want);
        }
    }
}
