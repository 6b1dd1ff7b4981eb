//! The sealed-chunk decoder with a fixed key: arbitrary bytes as a stored chunk, and
//! arbitrary plaintext sealed behind a valid tag (which random bytes never reach), so
//! both the checks before opening and the record decoder after it meet anything. Reads
//! and recovery decode chunks from a disk that may hold anything: no input may panic.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rheo_storage::cipher::SealingKey;
use rheo_storage::format::{decode_chunk, decode_chunk_owned, seal_chunk_bytes, summarize_chunk, SealedHeader};
use rheo_storage::{KeyProvider, KeyRef, MemKeys};

const KEY: KeyRef = KeyRef { key: 1, version: 1 };
const MATERIAL: [u8; 32] = [0x24; 32];

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    bytes.get(at..at + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes)
}

fuzz_target!(|input: &[u8]| {
    let keys = MemKeys::default();
    keys.rotate(KEY.key, MATERIAL);
    let provider: &dyn KeyProvider = &keys;
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = summarize_chunk(rest);
        let _ = decode_chunk(&Bytes::copy_from_slice(rest), Some(provider));
        let _ = decode_chunk_owned(rest.to_vec(), Some(provider));
        return;
    }
    // Header fields from the first 40 bytes, plaintext from the rest.
    let (fields, plaintext) = rest.split_at(rest.len().min(40));
    let header = SealedHeader {
        key: KEY,
        first_lsn: u64_at(fields, 0),
        last_lsn: u64_at(fields, 8),
        first_arrival_ms: u64_at(fields, 16),
        last_arrival_ms: u64_at(fields, 24),
        salt: [mode; 16],
    };
    let count = (u64_at(fields, 32) & 0xFFFF) as u32;
    let key = SealingKey::new(KEY, MATERIAL);
    if let Ok(chunk) = seal_chunk_bytes(u64_at(fields, 4), count, &header, plaintext, &key) {
        let _ = summarize_chunk(&chunk);
        let _ = decode_chunk(&Bytes::copy_from_slice(&chunk), Some(provider));
        let _ = decode_chunk_owned(chunk, Some(provider));
    }
});
