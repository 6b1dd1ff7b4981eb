//! The body of a sealed chunk: its clear header, the AAD that binds it, and opening it.
//! The layout is drawn in the parent module's documentation; the cipher and why its
//! nonces never repeat are in [`crate::cipher`].
//!
//! The clear header repeats the chunk's LSN and arrival ranges so that recovery can index
//! a sealed chunk and the scrub can verify it without any key: the checksum (outside the
//! AEAD) detects damage, the tag (inside) detects the wrong key or a deliberate change.

use std::ops::Range;

use zeroize::Zeroize;

use super::{chunk_crc, u32_at, u64_at, FormatError, CHUNK_FLAG_SEALED, CHUNK_HEADER_BYTES, RECORD_HEADER_BYTES};
use crate::cipher::{KeyProvider, KeyRef, Salt, SealingKey, SALT_BYTES, TAG_BYTES};

/// Size of a sealed chunk's clear header, at the start of its body.
pub const SEALED_HEADER_BYTES: usize = 56;
/// The AAD: chunk header bytes 0..16 (shard, record count, body length), its flags, and
/// the sealed header.
const AAD_BYTES: usize = 16 + 4 + SEALED_HEADER_BYTES;

/// The clear header of a sealed chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedHeader {
    /// The key version that sealed it.
    pub key: KeyRef,
    /// LSN of its first record.
    pub first_lsn: u64,
    /// LSN of its last record.
    pub last_lsn: u64,
    /// Arrival time of its first record.
    pub first_arrival_ms: u64,
    /// Arrival time of its last record.
    pub last_arrival_ms: u64,
    /// The salt of its derived key, drawn for this chunk alone.
    pub salt: Salt,
}

impl SealedHeader {
    /// Encodes the header.
    pub fn encode(&self) -> [u8; SEALED_HEADER_BYTES] {
        let mut out = [0u8; SEALED_HEADER_BYTES];
        out[0..4].copy_from_slice(&self.key.key.to_le_bytes());
        out[4..8].copy_from_slice(&self.key.version.to_le_bytes());
        out[8..16].copy_from_slice(&self.first_lsn.to_le_bytes());
        out[16..24].copy_from_slice(&self.last_lsn.to_le_bytes());
        out[24..32].copy_from_slice(&self.first_arrival_ms.to_le_bytes());
        out[32..40].copy_from_slice(&self.last_arrival_ms.to_le_bytes());
        out[40..56].copy_from_slice(&self.salt);
        out
    }

    /// Decodes the header at the start of a sealed chunk's `body` holding `count`
    /// records, checking it against the body's size and itself.
    pub fn decode_checked(body: &[u8], count: usize) -> Result<Self, FormatError> {
        let truncated = || FormatError::Truncated("sealed chunk header");
        let bytes = body.get(..SEALED_HEADER_BYTES).ok_or_else(truncated)?;
        let header = SealedHeader {
            key: KeyRef {
                key: u32_at(bytes, 0).ok_or_else(truncated)?,
                version: u32_at(bytes, 4).ok_or_else(truncated)?,
            },
            first_lsn: u64_at(bytes, 8).ok_or_else(truncated)?,
            last_lsn: u64_at(bytes, 16).ok_or_else(truncated)?,
            first_arrival_ms: u64_at(bytes, 24).ok_or_else(truncated)?,
            last_arrival_ms: u64_at(bytes, 32).ok_or_else(truncated)?,
            salt: bytes[40..56].try_into().map_err(|_| truncated())?,
        };
        let ciphertext =
            body.len().checked_sub(SEALED_HEADER_BYTES + TAG_BYTES).ok_or(FormatError::Truncated("sealed chunk"))?;
        // Each record takes at least its header; LSNs strictly increase and arrival times
        // never decrease within a chunk.
        let lsn_span = header.last_lsn.checked_sub(header.first_lsn);
        let consistent = count >= 1
            && count <= ciphertext / RECORD_HEADER_BYTES
            && lsn_span.is_some_and(|span| span >= count as u64 - 1)
            && (count > 1 || lsn_span == Some(0))
            && header.first_arrival_ms <= header.last_arrival_ms;
        if !consistent {
            return Err(FormatError::Invalid("sealed chunk header"));
        }
        Ok(header)
    }
}

/// The additional authenticated data of a sealed chunk: everything in its headers but
/// the checksum.
pub(super) fn aad(chunk_header: &[u8], sealed_header: &[u8; SEALED_HEADER_BYTES]) -> [u8; AAD_BYTES] {
    let mut out = [0u8; AAD_BYTES];
    out[0..16].copy_from_slice(&chunk_header[0..16]);
    out[16..20].copy_from_slice(&chunk_header[20..24]);
    out[20..].copy_from_slice(sealed_header);
    out
}

/// A sealed chunk (headers included) around arbitrary `plaintext`, which the writer
/// never produces (its plaintext is records it encoded): lets tests and the fuzz target
/// reach the record decoder behind a valid tag.
pub fn seal_chunk_bytes(
    shard_uid: u64,
    count: u32,
    header: &SealedHeader,
    plaintext: &[u8],
    key: &SealingKey,
) -> Result<Vec<u8>, FormatError> {
    let body_len = SEALED_HEADER_BYTES + plaintext.len() + TAG_BYTES;
    let body_len_u32 = u32::try_from(body_len).map_err(|_| FormatError::Invalid("chunk size"))?;
    let mut chunk = Vec::with_capacity(CHUNK_HEADER_BYTES + body_len);
    chunk.extend_from_slice(&shard_uid.to_le_bytes());
    chunk.extend_from_slice(&count.to_le_bytes());
    chunk.extend_from_slice(&body_len_u32.to_le_bytes());
    chunk.extend_from_slice(&[0; 4]);
    chunk.extend_from_slice(&CHUNK_FLAG_SEALED.to_le_bytes());
    let encoded = SealedHeader { key: key.key_ref(), ..*header }.encode();
    chunk.extend_from_slice(&encoded);
    chunk.extend_from_slice(plaintext);
    let aad = aad(&chunk[..CHUNK_HEADER_BYTES], &encoded);
    let records_start = CHUNK_HEADER_BYTES + SEALED_HEADER_BYTES;
    let tag =
        key.seal(&header.salt, &aad, &mut chunk[records_start..]).map_err(|_| FormatError::Invalid("chunk size"))?;
    chunk.extend_from_slice(&tag);
    let crc = chunk_crc(&chunk[..CHUNK_HEADER_BYTES], &chunk[CHUNK_HEADER_BYTES..]);
    chunk[16..20].copy_from_slice(&crc.to_le_bytes());
    Ok(chunk)
}

/// Opens a sealed chunk (headers included, `body_len` bytes of body, its checksum
/// already verified) in place with its key version from `keys`: returns the clear header
/// and where in `chunk` the decrypted records now are.
pub(super) fn open_in_place(
    chunk: &mut [u8],
    body_len: usize,
    count: usize,
    keys: Option<&dyn KeyProvider>,
) -> Result<(SealedHeader, Range<usize>), FormatError> {
    let body_end = CHUNK_HEADER_BYTES + body_len;
    let body = chunk.get(CHUNK_HEADER_BYTES..body_end).ok_or(FormatError::Truncated("sealed chunk"))?;
    let header = SealedHeader::decode_checked(body, count)?;
    let mut material = keys.and_then(|keys| keys.get(header.key)).ok_or(FormatError::KeyUnavailable(header.key))?;
    let key = SealingKey::new(header.key, material);
    material.zeroize();
    // decode_checked made sure the body holds the sealed header and the tag.
    let records = CHUNK_HEADER_BYTES + SEALED_HEADER_BYTES..body_end - TAG_BYTES;
    let tag: [u8; TAG_BYTES] =
        chunk[records.end..body_end].try_into().map_err(|_| FormatError::Truncated("sealed chunk"))?;
    let aad = aad(&chunk[..CHUNK_HEADER_BYTES], &header.encode());
    key.open(&header.salt, &aad, &mut chunk[records.clone()], &tag)
        .map_err(|_| FormatError::Unauthentic(header.key))?;
    Ok((header, records))
}

const _: () = assert!(SALT_BYTES == 16 && SEALED_HEADER_BYTES == 4 + 4 + 4 * 8 + SALT_BYTES);
