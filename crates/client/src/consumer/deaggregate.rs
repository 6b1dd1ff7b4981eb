//! The consumer's side of de-aggregation ([`crate::deaggregate`]): user records for the
//! processor, with the KCL's shard check whenever the shard's hash-key range is known.

use rheo_protocol::model::Record;

use super::processor::ConsumedRecord;
use crate::deaggregate::{self, UserRecord};

/// The user records of `records`, read from `shard_id` whose hash-key range is
/// `shard_range` (when known), and how many aggregates were dropped.
pub fn user_records(
    shard_id: &str,
    shard_range: Option<(u128, u128)>,
    records: Vec<Record>,
) -> (Vec<ConsumedRecord>, u64) {
    let mut out = Vec::with_capacity(records.len());
    let mut dropped = 0;
    for record in records {
        let users = match shard_range {
            Some(range) => match deaggregate::user_records_in_shard(record, range) {
                Ok(users) => users,
                Err(outside) => {
                    tracing::warn!(shard_id, error = %outside, "dropping the KPL aggregate, as the KCL does");
                    dropped += 1;
                    continue;
                }
            },
            None => deaggregate::user_records(record),
        };
        out.extend(users.into_iter().map(|user| consumed(shard_id, user)));
    }
    (out, dropped)
}

fn consumed(shard_id: &str, user: UserRecord) -> ConsumedRecord {
    ConsumedRecord {
        shard_id: shard_id.to_owned(),
        sequence_number: user.sequence_number,
        sub_sequence_number: user.sub_sequence_number,
        partition_key: user.partition_key,
        explicit_hash_key: user.explicit_hash_key,
        data: user.data,
        approximate_arrival_timestamp: user.arrival,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deaggregate::tests::{aggregate, record};
    use crate::shards::partition_key_hash;
    use bytes::Bytes;
    use proptest::prelude::*;

    #[test]
    fn plain_records_pass_through_and_aggregates_split_with_sub_sequence_numbers() {
        let records = vec![record(1, "plain", b"hello".to_vec()), record(2, "agg", aggregate(&["a", "b", "c"]))];
        let (users, dropped) = user_records("shardId-0", Some((0, u128::MAX)), records);
        assert_eq!(dropped, 0);
        let seen: Vec<_> = users
            .iter()
            .map(|u| {
                (u.sequence_number.as_str().to_owned(), u.sub_sequence_number, u.partition_key.as_str(), u.data.clone())
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("1".to_owned(), None, "plain", Bytes::from_static(b"hello")),
                ("2".to_owned(), Some(0), "a", Bytes::from_static(b"data-0")),
                ("2".to_owned(), Some(1), "b", Bytes::from_static(b"data-1")),
                ("2".to_owned(), Some(2), "c", Bytes::from_static(b"data-2")),
            ]
        );
    }

    #[test]
    fn an_aggregate_with_a_user_record_outside_the_shard_is_dropped_whole() {
        let inside = partition_key_hash("a");
        let range = Some((inside, inside));
        let records = vec![record(1, "a", aggregate(&["a", "a"])), record(2, "a", aggregate(&["a", "b"]))];
        let (users, dropped) = user_records("shardId-0", range, records);
        assert_eq!(dropped, 1);
        assert_eq!(users.len(), 2);
        assert!(users.iter().all(|u| u.sequence_number.as_str() == "1"));
    }

    #[test]
    fn a_record_with_the_magic_but_a_bad_digest_passes_through() {
        let mut data = aggregate(&["a"]);
        let last = data.len() - 1;
        data[last] ^= 0xff;
        let (users, dropped) = user_records("shardId-0", Some((0, 0)), vec![record(1, "a", data.clone())]);
        assert_eq!((users.len(), dropped), (1, 0));
        assert_eq!(users[0].data, Bytes::from(data));
        assert_eq!(users[0].sub_sequence_number, None);
    }

    proptest! {
        #[test]
        fn every_user_record_of_an_aggregate_in_range_comes_out_in_order(keys in proptest::collection::vec("[a-z]{1,8}", 1..20)) {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let (users, dropped) = user_records("s", None, vec![record(9, "x", aggregate(&refs))]);
            prop_assert_eq!(dropped, 0);
            let got: Vec<_> = users.iter().map(|u| (u.sub_sequence_number, u.partition_key.clone())).collect();
            let want: Vec<_> = keys.iter().enumerate().map(|(i, k)| (Some(i as u64), k.clone())).collect();
            prop_assert_eq!(got, want);
        }
    }
}
