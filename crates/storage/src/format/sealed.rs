//! The body of a sealed chunk: its clear header, the AAD that binds it, and opening it.
//! The layout is drawn in the parent module's documentation; the cipher and why its
//! nonces never repeat are in [`crate::cipher`].
//!
//! The clear header repeats the chunk's LSN and arrival ranges so that recovery can index
//! a sealed chunk and the scrub can verify it without any key: the checksum (outside the
//! AEAD) detects damage, the tag (inside) detects the wrong key or a deliberate change.

use bytes::Bytes;

use super::{u32_at, u64_at, FormatError, CHUNK_HEADER_BYTES, RECORD_HEADER_BYTES};
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

/// Opens the `body` of a sealed chunk (its checksum already verified) with its key
/// version from `keys`: the clear header and the decrypted records.
pub(super) fn open(
    chunk_header: &[u8],
    body: &Bytes,
    count: usize,
    keys: Option<&dyn KeyProvider>,
) -> Result<(SealedHeader, Bytes), FormatError> {
    let header = SealedHeader::decode_checked(body, count)?;
    if chunk_header.len() != CHUNK_HEADER_BYTES {
        return Err(FormatError::Truncated("chunk header"));
    }
    let material = keys.and_then(|keys| keys.get(header.key)).ok_or(FormatError::KeyUnavailable(header.key))?;
    let key = SealingKey::new(header.key, material);
    let tag_at = body.len() - TAG_BYTES;
    let tag: [u8; TAG_BYTES] = body[tag_at..].try_into().map_err(|_| FormatError::Truncated("sealed chunk"))?;
    let mut plain = body[SEALED_HEADER_BYTES..tag_at].to_vec();
    let aad = aad(chunk_header, &header.encode());
    key.open(&header.salt, &aad, &mut plain, &tag).map_err(|_| FormatError::Unauthentic(header.key))?;
    Ok((header, Bytes::from(plain)))
}

const _: () = assert!(SALT_BYTES == 16 && SEALED_HEADER_BYTES == 4 + 4 + 4 * 8 + SALT_BYTES);
