//! PutRecords bodies: pre-built (and hashed) for throughput runs, stamped per batch for
//! latency runs.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};

use crate::http::SignedBody;

/// Length of the random partition keys.
pub const PARTITION_KEY_LEN: usize = 16;

/// Upper bound on the memory taken by pre-built bodies.
pub const BODIES_BYTES_MAX: usize = 256 << 20;

/// Bytes a record needs to carry its send-time stamp.
pub const STAMP_BYTES: usize = 8;

/// One PutRecords request ready to send.
#[derive(Debug)]
pub struct Batch {
    /// The signed-once body.
    pub body: SignedBody,
    /// Records in it.
    pub records: u64,
    /// Payload bytes (before base64).
    pub payload_bytes: u64,
}

/// A random 16-character alphanumeric partition key.
pub fn random_key(rng: &mut impl Rng) -> String {
    rng.sample_iter(&Alphanumeric).take(PARTITION_KEY_LEN).map(char::from).collect()
}

/// `{"StreamName":…,"Records":[{"Data":…,"PartitionKey":…},…]}` from raw records.
pub fn put_records_json<'a>(stream: &str, records: impl IntoIterator<Item = (&'a [u8], &'a str)>) -> Vec<u8> {
    let stream = serde_json::Value::String(stream.to_owned()).to_string();
    let mut out = Vec::with_capacity(64 + stream.len());
    out.extend_from_slice(b"{\"StreamName\":");
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(b",\"Records\":[");
    for (i, (data, key)) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"Data\":\"");
        let start = out.len();
        out.resize(start + base64::encoded_len(data.len(), true).unwrap_or(0), 0);
        let written = STANDARD.encode_slice(data, &mut out[start..]).unwrap_or(0);
        out.truncate(start + written);
        out.extend_from_slice(b"\",\"PartitionKey\":");
        // Keys are alphanumeric here, but quote properly anyway.
        out.extend_from_slice(serde_json::Value::String(key.to_owned()).to_string().as_bytes());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// How many distinct bodies to pre-build: `wanted`, capped by [`BODIES_BYTES_MAX`].
pub fn bodies_to_build(wanted: usize, batch: usize, record_bytes: usize) -> usize {
    let per_body = batch * (base64::encoded_len(record_bytes, true).unwrap_or(record_bytes * 2) + 48) + 64;
    wanted.clamp(1, (BODIES_BYTES_MAX / per_body.max(1)).max(1))
}

/// `count` distinct PutRecords bodies of `batch` random records of `record_bytes` bytes each
/// with a random key, hashed once. Body ids start at `first_id`.
pub fn build_bodies(stream: &str, batch: usize, record_bytes: usize, count: usize, first_id: u64) -> Vec<Arc<Batch>> {
    let mut rng = rand::thread_rng();
    let mut data = vec![0u8; batch * record_bytes];
    (0..count)
        .map(|i| {
            rng.fill_bytes(&mut data);
            let keys: Vec<String> = (0..batch).map(|_| random_key(&mut rng)).collect();
            let json = put_records_json(
                stream,
                data.chunks(record_bytes.max(1)).take(batch).zip(keys.iter().map(String::as_str)),
            );
            Arc::new(Batch {
                body: SignedBody::new(Some(first_id + i as u64), Bytes::from(json)),
                records: batch as u64,
                payload_bytes: (batch * record_bytes) as u64,
            })
        })
        .collect()
}

/// A batch whose records all start with `stamp_ns` (little-endian), then `filler`.
pub fn stamped_batch(stream: &str, batch: usize, stamp_ns: u64, filler: &[u8], rng: &mut impl Rng) -> Batch {
    let mut record = Vec::with_capacity(STAMP_BYTES + filler.len());
    record.extend_from_slice(&stamp_ns.to_le_bytes());
    record.extend_from_slice(filler);
    let keys: Vec<String> = (0..batch).map(|_| random_key(rng)).collect();
    let json = put_records_json(stream, keys.iter().map(|k| (record.as_slice(), k.as_str())));
    Batch {
        body: SignedBody::new(None, Bytes::from(json)),
        records: batch as u64,
        payload_bytes: (batch * record.len()) as u64,
    }
}

/// Reads the stamp from a record's base64 `Data` without decoding the rest.
pub fn read_stamp(data_b64: &[u8]) -> Option<u64> {
    // 12 base64 characters carry 9 bytes, the first 8 of which are the stamp.
    let head = data_b64.get(..12)?;
    let mut out = [0u8; 9];
    let n = STANDARD.decode_slice_unchecked(head, &mut out).ok()?;
    if n < STAMP_BYTES {
        return None;
    }
    let mut stamp = [0u8; 8];
    stamp.copy_from_slice(&out[..8]);
    Some(u64::from_le_bytes(stamp))
}

/// Decoded length of base64 text (padding accounted for) without decoding it.
pub fn decoded_len(bytes: &[u8]) -> u64 {
    let padding = bytes.iter().rev().take(2).filter(|b| **b == b'=').count();
    ((bytes.len() / 4) * 3).saturating_sub(padding) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_put_records_json() {
        let bodies = build_bodies("my \"stream\"", 3, 10, 2, 7);
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[1].body.id, Some(8));
        let v: serde_json::Value = serde_json::from_slice(&bodies[0].body.bytes).unwrap();
        assert_eq!(v["StreamName"], "my \"stream\"");
        let records = v["Records"].as_array().unwrap();
        assert_eq!(records.len(), 3);
        for r in records {
            assert_eq!(r["PartitionKey"].as_str().unwrap().len(), PARTITION_KEY_LEN);
            assert_eq!(STANDARD.decode(r["Data"].as_str().unwrap()).unwrap().len(), 10);
        }
        assert_eq!(bodies[0].payload_bytes, 30);
        assert_ne!(bodies[0].body.bytes, bodies[1].body.bytes);
        assert_eq!(bodies[0].body.sha256, rheo_aws::sigv4::sha256_hex(&bodies[0].body.bytes));
    }

    #[test]
    fn stamps_round_trip() {
        let mut rng = rand::thread_rng();
        let batch = stamped_batch("s", 2, 0x0123_4567_89ab_cdef, &[7u8; 92], &mut rng);
        let v: serde_json::Value = serde_json::from_slice(&batch.body.bytes).unwrap();
        let data = v["Records"][1]["Data"].as_str().unwrap();
        assert_eq!(read_stamp(data.as_bytes()), Some(0x0123_4567_89ab_cdef));
        assert_eq!(decoded_len(data.as_bytes()), 100);
        assert_eq!(batch.payload_bytes, 200);
        assert_eq!(read_stamp(b"AAAA"), None);
    }

    #[test]
    fn decoded_len_counts_padding() {
        for n in 0..10 {
            assert_eq!(decoded_len(STANDARD.encode(vec![1u8; n]).as_bytes()), n as u64);
        }
    }

    #[test]
    fn body_count_is_capped_by_memory() {
        assert_eq!(bodies_to_build(64, 500, 1000), 64);
        assert!(bodies_to_build(10_000, 500, 1000) * 500 * 1368 <= BODIES_BYTES_MAX);
        assert_eq!(bodies_to_build(0, 1, 1), 1);
    }
}
