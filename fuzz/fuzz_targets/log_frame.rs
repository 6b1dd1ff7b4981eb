//! Arbitrary bytes as the storage engine's on-disk structures (frame, chunk, sealed
//! segment index, segment header): recovery and reads decode them from a disk that may
//! hold anything, so decoding must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_storage::format::{decode_chunk, decode_index, summarize_chunk, summarize_frame, SegmentHeader};

fuzz_target!(|bytes: &[u8]| {
    let _ = summarize_frame(bytes);
    let _ = summarize_chunk(bytes);
    let _ = decode_chunk(&bytes::Bytes::copy_from_slice(bytes), None);
    let _ = decode_index(bytes);
    let _ = SegmentHeader::decode(bytes);
});
