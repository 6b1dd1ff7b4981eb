use super::*;
use crate::cipher::MemKeys;
use proptest::prelude::*;

/// (lsn, partition key, explicit hash key, data)
type TestRecord = (u64, Vec<u8>, Option<u128>, Vec<u8>);

const SHARD: u64 = 7;

fn keys() -> (MemKeys, SealingKey) {
    let keys = MemKeys::default();
    let key_ref = keys.rotate(4, [0x42; 32]);
    let material = keys.get(key_ref).unwrap();
    (keys, SealingKey::new(key_ref, material))
}

/// A frame of one chunk of `records`, sealed with `seal` if given.
fn build(records: &[TestRecord], seal: Option<(&SealingKey, &Salt)>) -> Vec<u8> {
    let mut builder = FrameBuilder::default();
    builder.begin(records.first().map_or(0, |r| r.0));
    builder.begin_chunk(SHARD, seal.is_some());
    for (i, (lsn, key, hash, data)) in records.iter().enumerate() {
        builder.push_record(*lsn, 1000 + i as u64, key, *hash, data);
    }
    builder.end_chunk(seal).unwrap();
    builder.finish().to_vec()
}

fn sample() -> Vec<TestRecord> {
    vec![(1, b"key".to_vec(), None, vec![9; 200]), (2, b"k2".to_vec(), Some(5), vec![1; 100])]
}

/// The only chunk of a one-chunk frame.
fn only_chunk(frame: &[u8]) -> Vec<u8> {
    frame[FRAME_HEADER_BYTES..].to_vec()
}

/// Recomputes a chunk's checksum after a deliberate change, as an attacker could.
fn restamp(chunk: &mut [u8]) {
    let crc = chunk_crc(&chunk[..CHUNK_HEADER_BYTES], &chunk[CHUNK_HEADER_BYTES..]);
    chunk[16..20].copy_from_slice(&crc.to_le_bytes());
}

fn check_decoded(decoded: &[StoredRecord], records: &[TestRecord]) -> Result<(), TestCaseError> {
    prop_assert_eq!(decoded.len(), records.len());
    for (got, want) in decoded.iter().zip(records) {
        prop_assert_eq!(got.lsn, want.0);
        prop_assert_eq!(&got.partition_key[..], &want.1[..]);
        prop_assert_eq!(got.explicit_hash_key, want.2);
        prop_assert_eq!(&got.data[..], &want.3[..]);
    }
    Ok(())
}

fn records_strategy() -> impl Strategy<Value = Vec<TestRecord>> {
    proptest::collection::vec(
        (
            proptest::collection::vec(any::<u8>(), 1..20),
            proptest::option::of(any::<u128>()),
            proptest::collection::vec(any::<u8>(), 0..300),
        ),
        1..20,
    )
    .prop_map(|records| records.into_iter().enumerate().map(|(i, (k, h, d))| (10 + i as u64 * 3, k, h, d)).collect())
}

proptest! {
    #[test]
    fn frames_round_trip(records in records_strategy(), sealed in any::<bool>(), salt in any::<[u8; 16]>()) {
        let (keys, key) = keys();
        let frame = build(&records, sealed.then_some((&key, &salt)));
        let chunks = summarize_frame(&frame).unwrap();
        prop_assert_eq!(chunks.len(), 1);
        let summary = chunks[0];
        prop_assert_eq!(summary.sealed_with, sealed.then_some(key.key_ref()));
        prop_assert_eq!((summary.first_lsn, summary.last_lsn), (records[0].0, records[records.len() - 1].0));
        prop_assert_eq!(summary.count as usize, records.len());
        let chunk = Bytes::copy_from_slice(&frame[summary.offset_in_frame..summary.offset_in_frame + summary.len]);
        let (uid, decoded) = decode_chunk(&chunk, Some(&keys)).unwrap();
        prop_assert_eq!(uid, SHARD);
        check_decoded(&decoded, &records)?;
        if sealed {
            // No record's payload appears in the stored bytes.
            for record in records.iter().filter(|r| r.3.len() >= 16) {
                prop_assert!(!frame.windows(record.3.len()).any(|w| w == &record.3[..]));
            }
        }
    }

    #[test]
    fn any_single_bit_flip_is_detected(flip_at in 0usize..2000, bit in 0u8..8, sealed in any::<bool>()) {
        let (keys, key) = keys();
        let frame = build(&sample(), sealed.then_some((&key, &[3; 16])));
        let mut damaged = frame.clone();
        let at = flip_at % damaged.len();
        damaged[at] ^= 1 << bit;
        prop_assert!(summarize_frame(&damaged).is_err());
        // A reader fetching just the chunk detects it too, without or with the key.
        if at >= FRAME_HEADER_BYTES {
            let chunk = only_chunk(&damaged);
            prop_assert!(summarize_chunk(&chunk).is_err());
            prop_assert!(decode_chunk(&Bytes::from(chunk), Some(&keys)).is_err());
        }
    }

    /// The checksum is recomputed after the change, so only the tag can catch it.
    #[test]
    fn a_change_behind_a_valid_checksum_fails_the_tag(flip_at in 0usize..2000, bit in 0u8..8) {
        let (keys, key) = keys();
        let mut chunk = only_chunk(&build(&sample(), Some((&key, &[3; 16]))));
        // Everything but the checksum and the key reference (which names another key).
        let candidates: Vec<usize> = (0..chunk.len()).filter(|i| !(16..20).contains(i) && !(24..32).contains(i)).collect();
        let at = candidates[flip_at % candidates.len()];
        chunk[at] ^= 1 << bit;
        restamp(&mut chunk);
        match decode_chunk(&Bytes::from(chunk), Some(&keys)) {
            Err(FormatError::Unauthentic(found)) => prop_assert_eq!(found, key.key_ref()),
            // Header fields that no longer agree with the body are caught before the tag.
            Err(FormatError::Invalid(_) | FormatError::Truncated(_)) => {}
            other => prop_assert!(false, "unexpected {:?}", other.map(|(uid, _)| uid)),
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (keys, _) = keys();
        let _ = summarize_frame(&bytes);
        let _ = summarize_chunk(&bytes);
        let _ = decode_chunk(&Bytes::from(bytes.clone()), Some(&keys));
        let _ = decode_chunk(&Bytes::from(bytes.clone()), None);
        let _ = decode_index(&bytes);
        let _ = SegmentHeader::decode(&bytes);
    }
}

#[test]
fn a_clear_chunk_is_encoded_as_in_version_1() {
    // Version 1: flags 0, the checksum over header bytes 0..16 and the records.
    let chunk = only_chunk(&build(&sample(), None));
    assert_eq!(chunk[20..24], [0; 4]);
    let crc = crc32c::crc32c_append(crc32c::crc32c(&chunk[0..16]), &chunk[CHUNK_HEADER_BYTES..]);
    assert_eq!(chunk[16..20], crc.to_le_bytes());
    assert_eq!(u32_at(&chunk, 12), Some((chunk.len() - CHUNK_HEADER_BYTES) as u32));
    assert_eq!(chunk[CHUNK_HEADER_BYTES..CHUNK_HEADER_BYTES + 8], 1u64.to_le_bytes());
}

#[test]
fn a_sealed_chunk_needs_its_own_key_version() {
    let (keys, key) = keys();
    let chunk = Bytes::from(only_chunk(&build(&sample(), Some((&key, &[1; 16])))));
    assert_eq!(decode_chunk(&chunk, None).map(drop), Err(FormatError::KeyUnavailable(key.key_ref())));
    // A later version seals new chunks but does not open this one.
    let newer = keys.rotate(4, [0x43; 32]);
    assert!(decode_chunk(&chunk, Some(&keys)).is_ok(), "older versions stay usable");
    keys.remove(key.key_ref());
    assert_eq!(decode_chunk(&chunk, Some(&keys)).map(drop), Err(FormatError::KeyUnavailable(key.key_ref())));
    // Other material under the same version number: intact bytes, wrong key.
    let impostor = MemKeys::default();
    assert_eq!(impostor.rotate(4, [0x99; 32]), key.key_ref());
    assert_eq!(decode_chunk(&chunk, Some(&impostor)).map(drop), Err(FormatError::Unauthentic(key.key_ref())));
    assert_ne!(newer, key.key_ref());
}

#[test]
fn a_sealed_chunk_moved_to_another_shard_does_not_open() {
    let (keys, key) = keys();
    let mut chunk = only_chunk(&build(&sample(), Some((&key, &[1; 16]))));
    chunk[0..8].copy_from_slice(&8u64.to_le_bytes());
    restamp(&mut chunk);
    assert!(summarize_chunk(&chunk).is_ok(), "recovery sees intact bytes");
    assert_eq!(decode_chunk(&Bytes::from(chunk), Some(&keys)).map(drop), Err(FormatError::Unauthentic(key.key_ref())));
}

#[test]
fn clearing_the_sealed_flag_is_detected() {
    let (_, key) = keys();
    let mut chunk = only_chunk(&build(&sample(), Some((&key, &[1; 16]))));
    chunk[20] = 0;
    assert_eq!(summarize_chunk(&chunk), Err(FormatError::Checksum("chunk")));
    let mut clear = only_chunk(&build(&sample(), None));
    clear[20] = 1;
    assert_eq!(summarize_chunk(&clear), Err(FormatError::Checksum("chunk")));
}

#[test]
fn ending_a_chunk_differently_than_begun_is_refused_and_drops_it() {
    let (_, key) = keys();
    let mut builder = FrameBuilder::default();
    builder.begin(1);
    builder.begin_chunk(SHARD, true);
    builder.push_record(1, 5, b"k", None, b"data");
    assert!(builder.end_chunk(None).is_err());
    assert!(builder.is_empty());
    builder.begin_chunk(SHARD, false);
    builder.push_record(1, 5, b"k", None, b"data");
    assert!(builder.end_chunk(Some((&key, &[0; 16]))).is_err());
    builder.begin_chunk(SHARD, false);
    builder.push_record(1, 5, b"k", None, b"data");
    builder.end_chunk(None).unwrap();
    assert_eq!(summarize_frame(builder.finish()).unwrap().len(), 1);
}

#[test]
fn index_round_trips_and_detects_damage() {
    let entries = vec![IndexEntry {
        shard_uid: 1,
        first_lsn: 2,
        last_lsn: 3,
        first_arrival_ms: 4,
        last_arrival_ms: 5,
        offset: 6,
        len: 7,
        count: 8,
    }];
    let bytes = encode_index(9, 10, &entries);
    assert_eq!(decode_index(&bytes).unwrap(), (9, 10, entries));
    let mut damaged = bytes.clone();
    damaged[40] ^= 1;
    assert_eq!(decode_index(&damaged), Err(FormatError::Checksum("index")));
}

#[test]
fn segment_headers_of_both_versions_are_read_and_newer_ones_refused() {
    for version in [1, SEGMENT_VERSION] {
        let header = SegmentHeader { version, segment_id: 3, base_lsn: 77 };
        assert_eq!(SegmentHeader::decode(&header.encode()).unwrap(), header);
    }
    let future = SegmentHeader { version: SEGMENT_VERSION + 1, segment_id: 3, base_lsn: 77 };
    assert_eq!(
        SegmentHeader::decode(&future.encode()),
        Err(FormatError::UnsupportedVersion { what: "segment", version: SEGMENT_VERSION + 1 })
    );
    let mut bytes = SegmentHeader { version: SEGMENT_VERSION, segment_id: 3, base_lsn: 77 }.encode();
    bytes[8] = 9;
    assert!(SegmentHeader::decode(&bytes).is_err());
}
