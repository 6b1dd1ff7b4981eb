//! KPL (Kinesis Producer Library) record aggregation format.
//!
//! An aggregated record is the 4-byte magic `F3 89 9A C2`, a protobuf `AggregatedRecord`,
//! and the 16-byte MD5 digest of the protobuf bytes:
//!
//! ```text
//! AggregatedRecord { repeated string partition_key_table = 1;
//!                    repeated string explicit_hash_key_table = 2;
//!                    repeated Record records = 3; }
//! Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
//!          required bytes data = 3; repeated Tag tags = 4; }
//! ```
//!
//! Firehose with a Kinesis data stream as its source de-aggregates these before
//! processing, as the KCL does ([`deaggregate`]); a producer packs many small user records
//! into one Kinesis record with [`aggregate`], which shares repeated keys through the tables.

use std::collections::HashMap;

use bytes::Bytes;
use md5::{Digest, Md5};
use prost::Message;

use crate::limits::KPL_SUB_RECORDS_MAX;

/// Leading bytes that mark a KPL-aggregated record.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// Length of the trailing MD5 digest.
const DIGEST_LEN: usize = 16;

/// Why an aggregated record could not be de-aggregated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KplError {
    /// No magic, or too short to hold the magic and a digest.
    #[error("record does not start with the KPL magic or is too short to hold one")]
    BadMagic,
    /// The MD5 trailer does not match the protobuf bytes.
    #[error("KPL aggregate MD5 checksum does not match its protobuf payload")]
    BadChecksum,
    /// The protobuf does not decode as an `AggregatedRecord`.
    #[error("KPL aggregate protobuf is malformed: {0}")]
    BadProtobuf(String),
    /// A sub-record points past the end of a key table.
    #[error("KPL sub-record {record} refers to {table} index {index}, but the table has {len} entries")]
    IndexOutOfRange {
        /// Position of the sub-record in the aggregate.
        record: usize,
        /// `partition_key_table` or `explicit_hash_key_table`.
        table: &'static str,
        /// The index it refers to.
        index: u64,
        /// How many entries the table has.
        len: usize,
    },
    /// More than [`KPL_SUB_RECORDS_MAX`] sub-records.
    #[error("KPL aggregate holds more than {KPL_SUB_RECORDS_MAX} sub-records")]
    TooManySubRecords,
}

/// One user record carried inside an aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubRecord {
    /// The user record's partition key.
    pub partition_key: String,
    /// The explicit hash key (a decimal 128-bit number), when the producer set one.
    pub explicit_hash_key: Option<String>,
    /// The user record's data.
    pub data: Bytes,
}

/// What [`aggregate`] needs from a user record: implemented by [`SubRecord`] and by
/// `(partition key, explicit hash key, data)` triples, and by a producer's own record
/// type so that aggregating copies each record's bytes once, into the aggregate.
pub trait UserRecord {
    /// The partition key.
    fn partition_key(&self) -> &str;
    /// The explicit hash key, if any.
    fn explicit_hash_key(&self) -> Option<&str>;
    /// The data.
    fn data(&self) -> &[u8];
}

impl UserRecord for SubRecord {
    fn partition_key(&self) -> &str {
        &self.partition_key
    }
    fn explicit_hash_key(&self) -> Option<&str> {
        self.explicit_hash_key.as_deref()
    }
    fn data(&self) -> &[u8] {
        &self.data
    }
}

impl UserRecord for (String, Option<String>, Vec<u8>) {
    fn partition_key(&self) -> &str {
        &self.0
    }
    fn explicit_hash_key(&self) -> Option<&str> {
        self.1.as_deref()
    }
    fn data(&self) -> &[u8] {
        &self.2
    }
}

// The KPL's `messages.proto` (proto2), written out by hand so no build script is needed.
// Used to decode; encoding is done field by field in `aggregate` to avoid copying data.

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

/// Whether `data` carries the KPL magic and is long enough to hold a digest after it.
pub fn is_aggregated(data: &[u8]) -> bool {
    data.len() >= MAGIC.len() + DIGEST_LEN && data.starts_with(&MAGIC)
}

/// Splits a KPL aggregate into its sub-records. Tags are dropped: nothing downstream uses them.
pub fn deaggregate(data: &[u8]) -> Result<Vec<SubRecord>, KplError> {
    if !is_aggregated(data) {
        return Err(KplError::BadMagic);
    }
    let body = &data[MAGIC.len()..];
    let (proto, digest) = body.split_at(body.len() - DIGEST_LEN);
    if Md5::digest(proto).as_slice() != digest {
        return Err(KplError::BadChecksum);
    }
    if count_records(proto)? > KPL_SUB_RECORDS_MAX {
        return Err(KplError::TooManySubRecords);
    }
    let agg = AggregatedRecord::decode(proto).map_err(|e| KplError::BadProtobuf(e.to_string()))?;
    let lookup = |record: usize, table: &'static str, entries: &[String], index: u64| {
        usize::try_from(index).ok().and_then(|i| entries.get(i)).cloned().ok_or(KplError::IndexOutOfRange {
            record,
            table,
            index,
            len: entries.len(),
        })
    };
    agg.records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(SubRecord {
                partition_key: lookup(i, "partition_key_table", &agg.partition_key_table, r.partition_key_index)?,
                explicit_hash_key: r
                    .explicit_hash_key_index
                    .map(|ehk| lookup(i, "explicit_hash_key_table", &agg.explicit_hash_key_table, ehk))
                    .transpose()?,
                data: Bytes::from(r.data),
            })
        })
        .collect()
}

/// Counts top-level field-3 (`records`) entries by walking the protobuf wire format without
/// decoding, so [`KPL_SUB_RECORDS_MAX`] is enforced before any per-record allocation.
fn count_records(mut buf: &[u8]) -> Result<usize, KplError> {
    const RECORDS_FIELD: u64 = 3;
    let bad = |what: &str| KplError::BadProtobuf(what.to_owned());
    let mut count = 0usize;
    while !buf.is_empty() {
        let key = prost::encoding::decode_varint(&mut buf).map_err(|e| KplError::BadProtobuf(e.to_string()))?;
        let skip = match key & 0x7 {
            0 => {
                prost::encoding::decode_varint(&mut buf).map_err(|e| KplError::BadProtobuf(e.to_string()))?;
                0
            }
            1 => 8,
            2 => {
                let len = prost::encoding::decode_varint(&mut buf).map_err(|e| KplError::BadProtobuf(e.to_string()))?;
                usize::try_from(len).map_err(|_| bad("length-delimited field too long"))?
            }
            5 => 4,
            _ => return Err(bad("unsupported wire type")),
        };
        if skip > buf.len() {
            return Err(bad("field runs past the end of the buffer"));
        }
        buf = &buf[skip..];
        if key >> 3 == RECORDS_FIELD {
            count += 1;
        }
    }
    Ok(count)
}

/// Builds a KPL aggregate of `records`, in order, sharing repeated partition and explicit
/// hash keys through the tables as the KPL does. Each record's data is copied once, into
/// the output.
pub fn aggregate<R: UserRecord>(records: &[R]) -> Vec<u8> {
    use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
    const PARTITION_KEY_TABLE: u32 = 1;
    const EXPLICIT_HASH_KEY_TABLE: u32 = 2;
    const RECORDS: u32 = 3;
    const RECORD_PARTITION_KEY_INDEX: u32 = 1;
    const RECORD_EXPLICIT_HASH_KEY_INDEX: u32 = 2;
    const RECORD_DATA: u32 = 3;

    /// Index of `key` in `table`, adding it at the end if new.
    fn intern<'a>(table: &mut Vec<&'a str>, index: &mut HashMap<&'a str, u64>, key: &'a str) -> u64 {
        *index.entry(key).or_insert_with(|| {
            table.push(key);
            (table.len() - 1) as u64
        })
    }
    fn key_len(tag: u32) -> usize {
        encoded_len_varint(u64::from(tag << 3))
    }

    let (mut partition_keys, mut partition_key_index) = (Vec::new(), HashMap::new());
    let (mut hash_keys, mut hash_key_index) = (Vec::new(), HashMap::new());
    // (partition key index, explicit hash key index, encoded Record length) per record.
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        let pk = intern(&mut partition_keys, &mut partition_key_index, record.partition_key());
        let ehk = record.explicit_hash_key().map(|e| intern(&mut hash_keys, &mut hash_key_index, e));
        let data_len = record.data().len();
        let len = key_len(RECORD_PARTITION_KEY_INDEX)
            + encoded_len_varint(pk)
            + ehk.map_or(0, |e| key_len(RECORD_EXPLICIT_HASH_KEY_INDEX) + encoded_len_varint(e))
            + key_len(RECORD_DATA)
            + encoded_len_varint(data_len as u64)
            + data_len;
        entries.push((pk, ehk, len));
    }
    let table_len = |tag: u32, table: &[&str]| {
        table.iter().map(|k| key_len(tag) + encoded_len_varint(k.len() as u64) + k.len()).sum::<usize>()
    };
    let proto_len = table_len(PARTITION_KEY_TABLE, &partition_keys)
        + table_len(EXPLICIT_HASH_KEY_TABLE, &hash_keys)
        + entries.iter().map(|(_, _, len)| key_len(RECORDS) + encoded_len_varint(*len as u64) + len).sum::<usize>();

    let mut out = Vec::with_capacity(MAGIC.len() + proto_len + DIGEST_LEN);
    out.extend_from_slice(&MAGIC);
    for (tag, table) in [(PARTITION_KEY_TABLE, &partition_keys), (EXPLICIT_HASH_KEY_TABLE, &hash_keys)] {
        for key in table {
            encode_key(tag, WireType::LengthDelimited, &mut out);
            encode_varint(key.len() as u64, &mut out);
            out.extend_from_slice(key.as_bytes());
        }
    }
    for (record, (pk, ehk, len)) in records.iter().zip(entries) {
        encode_key(RECORDS, WireType::LengthDelimited, &mut out);
        encode_varint(len as u64, &mut out);
        encode_key(RECORD_PARTITION_KEY_INDEX, WireType::Varint, &mut out);
        encode_varint(pk, &mut out);
        if let Some(ehk) = ehk {
            encode_key(RECORD_EXPLICIT_HASH_KEY_INDEX, WireType::Varint, &mut out);
            encode_varint(ehk, &mut out);
        }
        encode_key(RECORD_DATA, WireType::LengthDelimited, &mut out);
        encode_varint(record.data().len() as u64, &mut out);
        out.extend_from_slice(record.data());
    }
    let digest = Md5::digest(&out[MAGIC.len()..]);
    out.extend_from_slice(&digest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn triple(pk: &str, ehk: Option<&str>, data: &[u8]) -> (String, Option<String>, Vec<u8>) {
        (pk.to_owned(), ehk.map(str::to_owned), data.to_vec())
    }

    fn sub(pk: &str, ehk: Option<&str>, data: &[u8]) -> SubRecord {
        SubRecord {
            partition_key: pk.to_owned(),
            explicit_hash_key: ehk.map(str::to_owned),
            data: Bytes::copy_from_slice(data),
        }
    }

    /// One sub-record, partition key "a", data "hi", encoded by hand from the proto definition.
    fn golden() -> Vec<u8> {
        let proto: [u8; 11] = [
            0x0A, 0x01, b'a', // field 1 (partition_key_table), length 1, "a"
            0x1A, 0x06, // field 3 (records), length 6
            0x08, 0x00, // Record field 1 (partition_key_index) = 0
            0x1A, 0x02, b'h', b'i', // Record field 3 (data), length 2, "hi"
        ];
        // MD5 of the 11 protobuf bytes above, computed independently (Python hashlib).
        let digest: [u8; 16] =
            [0xed, 0x4f, 0xf2, 0x87, 0x77, 0x96, 0x6a, 0xe6, 0xdf, 0x59, 0x91, 0x1c, 0xb0, 0x53, 0x0c, 0xc2];
        [&MAGIC[..], &proto, &digest].concat()
    }

    #[test]
    fn golden_vector_decodes_and_encodes() {
        assert_eq!(deaggregate(&golden()).unwrap(), vec![sub("a", None, b"hi")]);
        assert_eq!(aggregate(&[triple("a", None, b"hi")]), golden());
    }

    #[test]
    fn round_trip_shares_keys() {
        let input =
            vec![triple("k1", None, b"one"), triple("k2", Some("123"), b""), triple("k1", Some("123"), b"three")];
        let agg = aggregate(&input);
        assert!(is_aggregated(&agg));
        let out = deaggregate(&agg).unwrap();
        let expected: Vec<_> = input.iter().map(|(p, e, d)| sub(p, e.as_deref(), d)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn deaggregated_records_aggregate_back_to_the_same_bytes() {
        let agg =
            aggregate(&[triple("k1", None, b"one"), triple("k2", Some("7"), b"two"), triple("k1", Some("7"), b"")]);
        assert_eq!(aggregate(&deaggregate(&agg).unwrap()), agg);
    }

    #[test]
    fn corrupted_checksum_rejected() {
        let mut agg = golden();
        let last = agg.len() - 1;
        agg[last] ^= 0x01;
        assert_eq!(deaggregate(&agg), Err(KplError::BadChecksum));
        // A flipped payload byte is caught the same way.
        let mut agg = golden();
        agg[MAGIC.len() + 9] ^= 0x01;
        assert_eq!(deaggregate(&agg), Err(KplError::BadChecksum));
    }

    #[test]
    fn bad_magic_and_short_input_rejected() {
        assert!(!is_aggregated(b"{\"plain\":1}"));
        assert!(!is_aggregated(&MAGIC));
        assert_eq!(deaggregate(&MAGIC), Err(KplError::BadMagic));
        let mut agg = golden();
        agg[0] = 0;
        assert_eq!(deaggregate(&agg), Err(KplError::BadMagic));
    }

    fn with_digest(proto: &[u8]) -> Vec<u8> {
        [&MAGIC[..], proto, &Md5::digest(proto)].concat()
    }

    #[test]
    fn index_out_of_range_rejected() {
        // Record refers to partition key 1, but the table holds only "a".
        let proto = [0x0A, 0x01, b'a', 0x1A, 0x04, 0x08, 0x01, 0x1A, 0x00];
        assert!(matches!(
            deaggregate(&with_digest(&proto)),
            Err(KplError::IndexOutOfRange { record: 0, table: "partition_key_table", index: 1, len: 1 })
        ));
        // Explicit hash key index 0 with an empty explicit hash key table.
        let proto = [0x0A, 0x01, b'a', 0x1A, 0x06, 0x08, 0x00, 0x10, 0x00, 0x1A, 0x00];
        assert!(matches!(
            deaggregate(&with_digest(&proto)),
            Err(KplError::IndexOutOfRange { table: "explicit_hash_key_table", .. })
        ));
    }

    #[test]
    fn bad_protobuf_rejected() {
        // Field 3 claims 100 bytes but none follow.
        assert!(matches!(deaggregate(&with_digest(&[0x1A, 0x64])), Err(KplError::BadProtobuf(_))));
        // Wire type 3 (start group) is not used by this message.
        assert!(matches!(deaggregate(&with_digest(&[0x0B])), Err(KplError::BadProtobuf(_))));
    }

    #[test]
    fn empty_aggregate_has_no_sub_records() {
        assert_eq!(deaggregate(&aggregate::<SubRecord>(&[])).unwrap(), Vec::new());
    }

    proptest! {
        #[test]
        fn proptest_round_trip(
            records in proptest::collection::vec(
                ("[a-z0-9]{0,8}", proptest::option::of("[0-9]{1,38}"), proptest::collection::vec(any::<u8>(), 0..64)),
                0..20,
            )
        ) {
            let out = deaggregate(&aggregate(&records)).unwrap();
            let expected: Vec<_> = records.iter().map(|(p, e, d)| sub(p, e.as_deref(), d)).collect();
            prop_assert_eq!(out, expected);
        }

        #[test]
        fn proptest_encoder_matches_prost(
            records in proptest::collection::vec(
                ("[ab]{0,2}", proptest::option::of("[12]{1,2}"), proptest::collection::vec(any::<u8>(), 0..300)),
                0..12,
            )
        ) {
            // The hand-written encoder writes what prost writes for the same message, with
            // keys interned in first-seen order.
            let mut expected = AggregatedRecord::default();
            for (pk, ehk, data) in &records {
                let index = |table: &mut Vec<String>, key: &str| {
                    table.iter().position(|k| k == key).unwrap_or_else(|| {
                        table.push(key.to_owned());
                        table.len() - 1
                    }) as u64
                };
                let partition_key_index = index(&mut expected.partition_key_table, pk);
                let explicit_hash_key_index = ehk.as_deref().map(|e| index(&mut expected.explicit_hash_key_table, e));
                expected.records.push(Record { partition_key_index, explicit_hash_key_index, data: data.clone(), tags: Vec::new() });
            }
            prop_assert_eq!(aggregate(&records), with_digest(&expected.encode_to_vec()));
        }

        #[test]
        fn proptest_unchecked_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = deaggregate(&data);
            let _ = deaggregate(&[&MAGIC[..], &data].concat());
        }

        #[test]
        fn proptest_arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            // Valid digest over random protobuf bytes exercises the decoder, not only the checksum.
            let _ = deaggregate(&with_digest(&body));
        }
    }
}
