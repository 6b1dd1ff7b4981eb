//! KPL aggregated records: the Kinesis Producer Library packs many user records into
//! one Kinesis record as `magic ‖ protobuf AggregatedRecord ‖ MD5(protobuf)`.

use bytes::Bytes;
use md5::{Digest, Md5};
use prost::Message;

/// The four bytes every aggregated record starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
const DIGEST_BYTES: usize = 16;
/// Most user records accepted from one aggregate.
pub const SUB_RECORDS_MAX: usize = 1_000_000;

#[derive(Clone, PartialEq, prost::Message)]
struct AggregatedRecord {
    #[prost(string, repeated, tag = "1")]
    partition_key_table: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    explicit_hash_key_table: Vec<String>,
    #[prost(message, repeated, tag = "3")]
    records: Vec<Record>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Record {
    #[prost(uint64, required, tag = "1")]
    partition_key_index: u64,
    #[prost(uint64, optional, tag = "2")]
    explicit_hash_key_index: Option<u64>,
    #[prost(bytes = "vec", required, tag = "3")]
    data: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    tags: Vec<Tag>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Tag {
    #[prost(string, required, tag = "1")]
    key: String,
    #[prost(string, optional, tag = "2")]
    value: Option<String>,
}

/// One user record of an aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubRecord {
    pub partition_key: String,
    pub explicit_hash_key: Option<String>,
    pub data: Bytes,
}

/// Why an aggregate was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KplError {
    #[error("not a KPL aggregate (no magic)")]
    NoMagic,
    #[error("KPL aggregate checksum mismatch")]
    Checksum,
    #[error("KPL aggregate does not decode: {0}")]
    Protobuf(String),
    #[error("KPL record refers to a missing table entry")]
    IndexOutOfRange,
    #[error("KPL aggregate holds more than {SUB_RECORDS_MAX} records")]
    TooManyRecords,
}

/// The record carries the magic and room for a digest.
pub fn is_aggregated(data: &[u8]) -> bool {
    data.len() > MAGIC.len() + DIGEST_BYTES && data.starts_with(&MAGIC)
}

/// Splits an aggregate into its user records.
pub fn deaggregate(data: &[u8]) -> Result<Vec<SubRecord>, KplError> {
    if !is_aggregated(data) {
        return Err(KplError::NoMagic);
    }
    let (message, digest) = data[MAGIC.len()..].split_at(data.len() - MAGIC.len() - DIGEST_BYTES);
    if Md5::digest(message).as_slice() != digest {
        return Err(KplError::Checksum);
    }
    let aggregate = AggregatedRecord::decode(message).map_err(|e| KplError::Protobuf(e.to_string()))?;
    if aggregate.records.len() > SUB_RECORDS_MAX {
        return Err(KplError::TooManyRecords);
    }
    aggregate
        .records
        .into_iter()
        .map(|record| {
            let partition_key = aggregate
                .partition_key_table
                .get(usize::try_from(record.partition_key_index).map_err(|_| KplError::IndexOutOfRange)?)
                .ok_or(KplError::IndexOutOfRange)?
                .clone();
            let explicit_hash_key = match record.explicit_hash_key_index {
                None => None,
                Some(index) => Some(
                    aggregate
                        .explicit_hash_key_table
                        .get(usize::try_from(index).map_err(|_| KplError::IndexOutOfRange)?)
                        .ok_or(KplError::IndexOutOfRange)?
                        .clone(),
                ),
            };
            Ok(SubRecord { partition_key, explicit_hash_key, data: Bytes::from(record.data) })
        })
        .collect()
}

/// Packs user records `(partition key, explicit hash key, data)` into one aggregate.
pub fn aggregate(records: &[(String, Option<String>, Vec<u8>)]) -> Vec<u8> {
    let mut message = AggregatedRecord::default();
    for (key, hash_key, data) in records {
        let partition_key_index = match message.partition_key_table.iter().position(|k| k == key) {
            Some(i) => i,
            None => {
                message.partition_key_table.push(key.clone());
                message.partition_key_table.len() - 1
            }
        } as u64;
        let explicit_hash_key_index = hash_key.as_ref().map(|h| {
            (match message.explicit_hash_key_table.iter().position(|k| k == h) {
                Some(i) => i,
                None => {
                    message.explicit_hash_key_table.push(h.clone());
                    message.explicit_hash_key_table.len() - 1
                }
            }) as u64
        });
        message.records.push(Record {
            partition_key_index,
            explicit_hash_key_index,
            data: data.clone(),
            tags: Vec::new(),
        });
    }
    let body = message.encode_to_vec();
    let mut out = Vec::with_capacity(MAGIC.len() + body.len() + DIGEST_BYTES);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&body);
    out.extend_from_slice(&Md5::digest(&body));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hand_built_aggregate_decodes() {
        // AggregatedRecord { partition_key_table: ["pk"], records: [{0, data "hi"}, {0, data "yo"}] }
        let body: Vec<u8> = vec![
            0x0a, 0x02, b'p', b'k', // field 1: "pk"
            0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, b'h', b'i', // field 3: record
            0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, b'y', b'o',
        ];
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&body);
        data.extend_from_slice(&Md5::digest(&body));
        let records = deaggregate(&data).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].partition_key.as_str(), &records[1].data[..]), ("pk", &b"yo"[..]));
        let mut corrupt = data.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        assert_eq!(deaggregate(&corrupt), Err(KplError::Checksum));
        assert_eq!(deaggregate(b"plain"), Err(KplError::NoMagic));
    }

    proptest::proptest! {
        #[test]
        fn aggregates_round_trip(records in proptest::collection::vec(("[a-z]{1,4}", proptest::option::of("[0-9]{1,5}"), proptest::collection::vec(proptest::num::u8::ANY, 0..64)), 1..20)) {
            let packed = aggregate(&records);
            proptest::prop_assert!(is_aggregated(&packed));
            let unpacked = deaggregate(&packed).unwrap();
            let again: Vec<(String, Option<String>, Vec<u8>)> = unpacked.into_iter().map(|r| (r.partition_key, r.explicit_hash_key, r.data.to_vec())).collect();
            proptest::prop_assert_eq!(again, records);
        }

        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let mut data = MAGIC.to_vec();
            data.extend(tail);
            let _ = deaggregate(&data);
        }
    }
}
