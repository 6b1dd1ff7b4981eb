//! On-disk formats of the commit log. Pure encoding and decoding: no I/O here.
//!
//! All integers are little-endian. Every structure carries a magic number, and its
//! checksum (CRC-32C) covers all of it but the checksum field itself.
//!
//! ```text
//! segment file  <segment_id:020>.seg
//! ┌──────────────────────── segment header, 32 bytes ─────────────────────────┐
//! │ magic "RHEOSEG\0" │ version u16 │ 0 u16 │ segment_id u64 │ base_lsn u64 │ crc u32 │
//! └────────────────────────────────────────────────────────────────────────────┘
//!   version 2 is written, 1 is still read. Version 2 may hold sealed chunks; a
//!   version-1 reader refuses such a segment (unknown version) instead of misreading it.
//! then frames, one per group commit:
//! ┌──────────────── frame header, 24 bytes ─────────────────┐┌── payload ──┐
//! │ magic u32 │ payload_len u32 │ first_lsn u64 │ records u32 │ crc u32 ││ chunks…     │
//! └─────────────────────────────────────────────────────────┘└─────────────┘
//!   crc covers header bytes 0..20 and the payload.
//! a chunk holds one shard's records of that frame, in LSN order:
//! ┌───────────── chunk header, 24 bytes ──────────────┐┌── body ──┐
//! │ shard_uid u64 │ records u32 │ body_len u32 │ crc u32 │ flags u32 ││ …        │
//! └───────────────────────────────────────────────────┘└──────────┘
//!   crc covers header bytes 0..16, the body, then the flags when they are not 0 (so a
//!   version-1 chunk, whose flags are always 0, keeps its checksum), so a reader that
//!   fetches one chunk verifies it without reading the whole frame, and without keys.
//!   flags bit 0: sealed (version 2). A clear chunk's body is its records; a sealed
//!   chunk's body is (see `format/sealed.rs` and `cipher.rs`):
//! ┌──────────────────────────────── sealed header, 56 bytes ─────────────────────────────────┐
//! │ key u32 │ key_version u32 │ first_lsn u64 │ last_lsn u64 │ first_arrival_ms u64 │ last_arrival_ms u64 │ salt [16] │
//! └──────────────────────────────────────────────────────────────────────────────────────────┘
//!   then the records encrypted with AES-256-GCM (same length), then the 16-byte tag. The
//!   chunk's own key is HKDF-SHA256(salt, key version's material, info "rheo sealed chunk
//!   v1" ‖ key ‖ key_version), the nonce is 0 (each derived key seals one chunk). The AAD
//!   is header bytes 0..16, the flags and the sealed header: a sealed chunk opens only in
//!   its own shard, with its own record count and LSN range. The clear ranges let
//!   recovery and the scrub index and verify a sealed chunk without its key.
//! a record:
//! │ lsn u64 │ arrival_ms u64 │ data_len u32 │ key_len u16 │ flags u8 │ 0 u8 │ [hash_key u128] │ key │ data │
//!   flags bit 0: an explicit hash key follows.
//!
//! index file  <segment_id:020>.idx, written when a segment is sealed so that start-up
//! need not scan sealed segments (version 1; unchanged by sealed chunks):
//! │ magic "RHEOIDX\0" │ version u16 │ 0 u16 │ segment_id u64 │ end_offset u64 │ entries u32 │ crc u32 │ entries… │
//!   entry (56 bytes): shard_uid, first_lsn, last_lsn, first_arrival_ms, last_arrival_ms,
//!   offset (u64 each) │ len u32 │ records u32. crc covers everything else in the file.
//! ```

use bytes::Bytes;

use crate::cipher::{KeyProvider, KeyRef, Salt, SealingKey};
use crate::limits::{FRAME_BYTES_MAX, PARTITION_KEY_BYTES_MAX, RECORD_DATA_BYTES_MAX};

/// Version of the segment files written; bump on any change of segments, frames, chunks
/// or records, and keep readers for old ones.
pub const SEGMENT_VERSION: u16 = 2;
/// Oldest segment version still read (version 1 has no sealed chunks).
pub const SEGMENT_VERSION_MIN: u16 = 1;
/// Version of index files.
pub const INDEX_VERSION: u16 = 1;
/// First bytes of a segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"RHEOSEG\0";
/// First bytes of an index file.
pub const INDEX_MAGIC: [u8; 8] = *b"RHEOIDX\0";
/// First bytes of every frame ("RHF1"), which lets recovery tell a torn tail from
/// damage followed by intact frames.
pub const FRAME_MAGIC: u32 = u32::from_le_bytes(*b"RHF1");
/// Size of the segment header.
pub const SEGMENT_HEADER_BYTES: usize = 32;
/// Size of a frame header.
pub const FRAME_HEADER_BYTES: usize = 24;
/// Size of a chunk header.
pub const CHUNK_HEADER_BYTES: usize = 24;
/// Fixed part of a record.
pub const RECORD_HEADER_BYTES: usize = 24;
const INDEX_HEADER_BYTES: usize = 36;
const INDEX_ENTRY_BYTES: usize = 56;
const FLAG_HASH_KEY: u8 = 1;
/// Chunk flag: the body is sealed (see the diagram).
pub const CHUNK_FLAG_SEALED: u32 = 1;

mod sealed;
pub use sealed::{SealedHeader, SEALED_HEADER_BYTES};

/// Why bytes are not a valid structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Too few bytes.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// Wrong magic number.
    #[error("bad magic in {0}")]
    BadMagic(&'static str),
    /// A version this build cannot read.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// The structure.
        what: &'static str,
        /// The version found.
        version: u16,
    },
    /// Checksum mismatch.
    #[error("checksum mismatch in {0}")]
    Checksum(&'static str),
    /// Fields that contradict each other or the limits.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A sealed chunk whose key version the key store does not hold (or no key store).
    #[error("the chunk is sealed with {0}, which the key store does not hold")]
    KeyUnavailable(KeyRef),
    /// A sealed chunk whose authentication tag does not match: its stored bytes passed
    /// their checksum, so either the key store's material for this version is not what
    /// sealed it, or the bytes were altered together with their checksum.
    #[error("the chunk does not open with {0} (authentication tag mismatch)")]
    Unauthentic(KeyRef),
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The header that opens every segment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The format version ([`SEGMENT_VERSION`] for new segments).
    pub version: u16,
    /// The segment's number; also its file name.
    pub segment_id: u64,
    /// The next LSN to be assigned when the segment was created. Recovery takes the
    /// next LSN from here when the newest segment holds no record yet.
    pub base_lsn: u64,
}

impl SegmentHeader {
    /// Encodes the header.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_BYTES] {
        let mut out = [0u8; SEGMENT_HEADER_BYTES];
        out[0..8].copy_from_slice(&SEGMENT_MAGIC);
        out[8..10].copy_from_slice(&self.version.to_le_bytes());
        out[12..20].copy_from_slice(&self.segment_id.to_le_bytes());
        out[20..28].copy_from_slice(&self.base_lsn.to_le_bytes());
        let crc = crc32c::crc32c(&out[0..28]);
        out[28..32].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and verifies a header.
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let header = bytes.get(..SEGMENT_HEADER_BYTES).ok_or(FormatError::Truncated("segment header"))?;
        if header[0..8] != SEGMENT_MAGIC {
            return Err(FormatError::BadMagic("segment header"));
        }
        let crc = u32_at(header, 28).ok_or(FormatError::Truncated("segment header"))?;
        if crc32c::crc32c(&header[0..28]) != crc {
            return Err(FormatError::Checksum("segment header"));
        }
        let version = u16_at(header, 8).ok_or(FormatError::Truncated("segment header"))?;
        if !(SEGMENT_VERSION_MIN..=SEGMENT_VERSION).contains(&version) {
            return Err(FormatError::UnsupportedVersion { what: "segment", version });
        }
        Ok(SegmentHeader {
            version,
            segment_id: u64_at(header, 12).ok_or(FormatError::Truncated("segment header"))?,
            base_lsn: u64_at(header, 20).ok_or(FormatError::Truncated("segment header"))?,
        })
    }
}

/// A record as the log stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Log sequence number.
    pub lsn: u64,
    /// When the engine accepted it, epoch milliseconds; never decreases within a shard.
    pub arrival_ms: u64,
    /// The partition key as given (UTF-8).
    pub partition_key: Bytes,
    /// The explicit hash key, when the producer gave one.
    pub explicit_hash_key: Option<u128>,
    /// The payload.
    pub data: Bytes,
}

/// Bytes a record takes in a chunk.
pub fn record_encoded_len(partition_key_len: usize, has_hash_key: bool, data_len: usize) -> usize {
    RECORD_HEADER_BYTES + if has_hash_key { 16 } else { 0 } + partition_key_len + data_len
}

/// Where a chunk landed inside the frame being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlacement {
    /// Offset of the chunk header from the start of the frame.
    pub offset_in_frame: usize,
    /// Chunk length including its header.
    pub len: usize,
    /// Records in it.
    pub count: u32,
}

/// Builds one frame into a reusable buffer.
#[derive(Debug, Default)]
pub struct FrameBuilder {
    buf: Vec<u8>,
    chunk: Option<OpenChunk>,
    frame_count: u32,
}

/// The chunk being built.
#[derive(Debug, Clone, Copy)]
struct OpenChunk {
    start: usize,
    sealed: bool,
    count: u32,
    /// LSN and arrival time of its first and (so far) last record.
    first: Option<(u64, u64)>,
    last: (u64, u64),
}

impl FrameBuilder {
    /// Starts a new frame, reusing the buffer's memory.
    pub fn begin(&mut self, first_lsn: u64) {
        self.buf.clear();
        self.buf.resize(FRAME_HEADER_BYTES, 0);
        self.buf[8..16].copy_from_slice(&first_lsn.to_le_bytes());
        self.chunk = None;
        self.frame_count = 0;
    }

    /// Bytes in the frame so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the frame holds no chunk.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= FRAME_HEADER_BYTES
    }

    /// Starts a chunk for one shard; a `sealed` one must be closed with a key.
    pub fn begin_chunk(&mut self, shard_uid: u64, sealed: bool) {
        debug_assert!(self.chunk.is_none(), "chunks do not nest");
        let start = self.buf.len();
        let header = CHUNK_HEADER_BYTES + if sealed { SEALED_HEADER_BYTES } else { 0 };
        self.buf.resize(start + header, 0);
        self.buf[start..start + 8].copy_from_slice(&shard_uid.to_le_bytes());
        self.chunk = Some(OpenChunk { start, sealed, count: 0, first: None, last: (0, 0) });
    }

    /// Appends a record to the open chunk. The caller has checked the sizes against
    /// the limits; they are asserted here because a violation is a bug.
    pub fn push_record(
        &mut self,
        lsn: u64,
        arrival_ms: u64,
        partition_key: &[u8],
        hash_key: Option<u128>,
        data: &[u8],
    ) {
        assert!(partition_key.len() <= PARTITION_KEY_BYTES_MAX && data.len() <= RECORD_DATA_BYTES_MAX);
        let chunk = self.chunk.as_mut().expect("push_record follows begin_chunk");
        chunk.first.get_or_insert((lsn, arrival_ms));
        chunk.last = (lsn, arrival_ms);
        chunk.count += 1;
        self.frame_count += 1;
        self.buf.extend_from_slice(&lsn.to_le_bytes());
        self.buf.extend_from_slice(&arrival_ms.to_le_bytes());
        self.buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(partition_key.len() as u16).to_le_bytes());
        self.buf.push(if hash_key.is_some() { FLAG_HASH_KEY } else { 0 });
        self.buf.push(0);
        if let Some(hash_key) = hash_key {
            self.buf.extend_from_slice(&hash_key.to_le_bytes());
        }
        self.buf.extend_from_slice(partition_key);
        self.buf.extend_from_slice(data);
    }

    /// Closes the open chunk: seals it when it was begun sealed (`seal` gives the key
    /// version and a salt never used before), and fills in its checksum. On an error
    /// the chunk is dropped from the frame, which stays valid.
    pub fn end_chunk(&mut self, seal: Option<(&SealingKey, &Salt)>) -> Result<ChunkPlacement, FormatError> {
        let chunk = self.chunk.take().expect("end_chunk follows begin_chunk");
        let start = chunk.start;
        let sealed = match (chunk.sealed, seal) {
            (false, None) => Ok(None),
            (true, Some((key, salt))) => self.seal_chunk(&chunk, key, salt).map(Some),
            _ => Err(FormatError::Invalid("chunk sealing does not match how it was begun")),
        };
        let flags = match sealed {
            Ok(None) => 0,
            Ok(Some(())) => CHUNK_FLAG_SEALED,
            Err(error) => {
                self.buf.truncate(start);
                self.frame_count -= chunk.count;
                return Err(error);
            }
        };
        let body_len = self.buf.len() - start - CHUNK_HEADER_BYTES;
        self.buf[start + 8..start + 12].copy_from_slice(&chunk.count.to_le_bytes());
        self.buf[start + 12..start + 16].copy_from_slice(&(body_len as u32).to_le_bytes());
        self.buf[start + 20..start + 24].copy_from_slice(&flags.to_le_bytes());
        let crc = chunk_crc(&self.buf[start..start + CHUNK_HEADER_BYTES], &self.buf[start + CHUNK_HEADER_BYTES..]);
        self.buf[start + 16..start + 20].copy_from_slice(&crc.to_le_bytes());
        Ok(ChunkPlacement { offset_in_frame: start, len: self.buf.len() - start, count: chunk.count })
    }

    /// Encrypts the open chunk's records in place and appends the tag.
    fn seal_chunk(&mut self, chunk: &OpenChunk, key: &SealingKey, salt: &Salt) -> Result<(), FormatError> {
        let start = chunk.start;
        let (Some(first), last) = (chunk.first, chunk.last) else {
            return Err(FormatError::Invalid("empty chunk"));
        };
        let header = SealedHeader {
            key: key.key_ref(),
            first_lsn: first.0,
            last_lsn: last.0,
            first_arrival_ms: first.1,
            last_arrival_ms: last.1,
            salt: *salt,
        };
        let records_start = start + CHUNK_HEADER_BYTES + SEALED_HEADER_BYTES;
        let body_len = self.buf.len() + crate::cipher::TAG_BYTES - start - CHUNK_HEADER_BYTES;
        let mut chunk_header = [0u8; CHUNK_HEADER_BYTES];
        chunk_header[0..8].copy_from_slice(&self.buf[start..start + 8]);
        chunk_header[8..12].copy_from_slice(&chunk.count.to_le_bytes());
        chunk_header[12..16].copy_from_slice(&(body_len as u32).to_le_bytes());
        chunk_header[20..24].copy_from_slice(&CHUNK_FLAG_SEALED.to_le_bytes());
        let encoded = header.encode();
        self.buf[start + CHUNK_HEADER_BYTES..records_start].copy_from_slice(&encoded);
        let aad = sealed::aad(&chunk_header, &encoded);
        let tag =
            key.seal(salt, &aad, &mut self.buf[records_start..]).map_err(|_| FormatError::Invalid("chunk size"))?;
        self.buf.extend_from_slice(&tag);
        Ok(())
    }

    /// Seals the frame and returns its bytes.
    pub fn finish(&mut self) -> &[u8] {
        assert!(self.chunk.is_none(), "a chunk is still open");
        let payload_len = self.buf.len() - FRAME_HEADER_BYTES;
        assert!(payload_len <= FRAME_BYTES_MAX, "frame exceeds FRAME_BYTES_MAX");
        self.buf[0..4].copy_from_slice(&FRAME_MAGIC.to_le_bytes());
        self.buf[4..8].copy_from_slice(&(payload_len as u32).to_le_bytes());
        self.buf[16..20].copy_from_slice(&self.frame_count.to_le_bytes());
        let mut crc = crc32c::crc32c(&self.buf[0..20]);
        crc = crc32c::crc32c_append(crc, &self.buf[FRAME_HEADER_BYTES..]);
        self.buf[20..24].copy_from_slice(&crc.to_le_bytes());
        &self.buf
    }
}

/// A chunk's checksum: header bytes 0..16, the body, then the flags when they are not 0
/// (so version-1 chunks, whose flags are always 0, keep theirs).
fn chunk_crc(header: &[u8], body: &[u8]) -> u32 {
    let crc = crc32c::crc32c_append(crc32c::crc32c(&header[0..16]), body);
    match header.get(20..24) {
        Some(flags) if flags != [0; 4] => crc32c::crc32c_append(crc, flags),
        _ => crc,
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload bytes after the header.
    pub payload_len: usize,
    /// LSN of the frame's first record.
    pub first_lsn: u64,
    /// Records in the frame.
    pub record_count: u32,
    crc: u32,
}

impl FrameHeader {
    /// Decodes a frame header (not yet verified against its payload).
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let header = bytes.get(..FRAME_HEADER_BYTES).ok_or(FormatError::Truncated("frame header"))?;
        if u32_at(header, 0) != Some(FRAME_MAGIC) {
            return Err(FormatError::BadMagic("frame header"));
        }
        let payload_len = u32_at(header, 4).ok_or(FormatError::Truncated("frame header"))? as usize;
        if payload_len > FRAME_BYTES_MAX {
            return Err(FormatError::Invalid("frame length"));
        }
        Ok(FrameHeader {
            payload_len,
            first_lsn: u64_at(header, 8).ok_or(FormatError::Truncated("frame header"))?,
            record_count: u32_at(header, 16).ok_or(FormatError::Truncated("frame header"))?,
            crc: u32_at(header, 20).ok_or(FormatError::Truncated("frame header"))?,
        })
    }

    /// Checks the frame checksum over `frame` (header and payload).
    pub fn verify(&self, frame: &[u8]) -> Result<(), FormatError> {
        let Some(head) = frame.get(..20) else {
            return Err(FormatError::Truncated("frame"));
        };
        let Some(payload) = frame.get(FRAME_HEADER_BYTES..FRAME_HEADER_BYTES + self.payload_len) else {
            return Err(FormatError::Truncated("frame"));
        };
        let crc = crc32c::crc32c_append(crc32c::crc32c(head), payload);
        if crc != self.crc {
            return Err(FormatError::Checksum("frame"));
        }
        Ok(())
    }
}

/// One shard's part of a frame, as recovery sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSummary {
    /// The shard.
    pub shard_uid: u64,
    /// Offset of the chunk header from the frame's start.
    pub offset_in_frame: usize,
    /// Chunk length including its header.
    pub len: usize,
    /// Records in it.
    pub count: u32,
    /// First and last LSN.
    pub first_lsn: u64,
    /// See `first_lsn`.
    pub last_lsn: u64,
    /// First and last arrival time.
    pub first_arrival_ms: u64,
    /// See `first_arrival_ms`.
    pub last_arrival_ms: u64,
    /// The key version that sealed it, if it is sealed.
    pub sealed_with: Option<KeyRef>,
}

/// Walks the chunks of a verified frame, checking each chunk (and the records of clear
/// ones; sealed ones are checked as far as possible without their key).
pub fn summarize_frame(frame: &[u8]) -> Result<Vec<ChunkSummary>, FormatError> {
    let header = FrameHeader::decode(frame)?;
    header.verify(frame)?;
    let end = FRAME_HEADER_BYTES + header.payload_len;
    let mut at = FRAME_HEADER_BYTES;
    let mut chunks = Vec::new();
    let mut total = 0u32;
    while at < end {
        let chunk_len = chunk_len_at(frame, at)?;
        let chunk = frame.get(at..at + chunk_len).ok_or(FormatError::Truncated("chunk"))?;
        let summary = ChunkSummary { offset_in_frame: at, ..summarize_chunk(chunk)? };
        total = total.checked_add(summary.count).ok_or(FormatError::Invalid("frame record count"))?;
        chunks.push(summary);
        at += chunk_len;
    }
    if at != end || total != header.record_count {
        return Err(FormatError::Invalid("frame record count"));
    }
    Ok(chunks)
}

fn chunk_len_at(frame: &[u8], at: usize) -> Result<usize, FormatError> {
    let body_len = u32_at(frame, at + 12).ok_or(FormatError::Truncated("chunk header"))? as usize;
    Ok(CHUNK_HEADER_BYTES + body_len)
}

/// A chunk's header, checked against its checksum.
struct ChunkHeader {
    shard_uid: u64,
    count: usize,
    body_len: usize,
    sealed: bool,
}

/// Reads a chunk's header and verifies the checksum over the header and body.
fn check_chunk(chunk: &[u8]) -> Result<ChunkHeader, FormatError> {
    let header = chunk.get(..CHUNK_HEADER_BYTES).ok_or(FormatError::Truncated("chunk header"))?;
    let shard_uid = u64_at(header, 0).ok_or(FormatError::Truncated("chunk header"))?;
    let count = u32_at(header, 8).ok_or(FormatError::Truncated("chunk header"))? as usize;
    let body_len = u32_at(header, 12).ok_or(FormatError::Truncated("chunk header"))? as usize;
    let crc = u32_at(header, 16).ok_or(FormatError::Truncated("chunk header"))?;
    let flags = u32_at(header, 20).ok_or(FormatError::Truncated("chunk header"))?;
    let body = chunk.get(CHUNK_HEADER_BYTES..CHUNK_HEADER_BYTES + body_len).ok_or(FormatError::Truncated("chunk"))?;
    if chunk_crc(header, body) != crc {
        return Err(FormatError::Checksum("chunk"));
    }
    if flags & !CHUNK_FLAG_SEALED != 0 {
        return Err(FormatError::Invalid("chunk flags"));
    }
    Ok(ChunkHeader { shard_uid, count, body_len, sealed: flags & CHUNK_FLAG_SEALED != 0 })
}

/// Verifies one chunk (header included) and summarizes it, without any key: a clear
/// chunk's records are decoded, a sealed chunk's clear header is checked for
/// consistency. `offset_in_frame` is 0.
pub fn summarize_chunk(chunk: &[u8]) -> Result<ChunkSummary, FormatError> {
    let header = check_chunk(chunk)?;
    let len = CHUNK_HEADER_BYTES + header.body_len;
    let (first_lsn, last_lsn, first_arrival_ms, last_arrival_ms, sealed_with) = if header.sealed {
        let sealed = SealedHeader::decode_checked(&chunk[CHUNK_HEADER_BYTES..len], header.count)?;
        (sealed.first_lsn, sealed.last_lsn, sealed.first_arrival_ms, sealed.last_arrival_ms, Some(sealed.key))
    } else {
        let body = Bytes::copy_from_slice(&chunk[CHUNK_HEADER_BYTES..len]);
        let records = decode_records(&body, header.count)?;
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Err(FormatError::Invalid("empty chunk"));
        };
        (first.lsn, last.lsn, first.arrival_ms, last.arrival_ms, None)
    };
    Ok(ChunkSummary {
        shard_uid: header.shard_uid,
        offset_in_frame: 0,
        len,
        count: header.count as u32,
        first_lsn,
        last_lsn,
        first_arrival_ms,
        last_arrival_ms,
        sealed_with,
    })
}

/// Decodes one chunk (header included), verifying its checksum and, when it is sealed,
/// opening it with its key version from `keys`. Record payloads are zero-copy slices of
/// `chunk` (of the decrypted copy for a sealed chunk).
pub fn decode_chunk(chunk: &Bytes, keys: Option<&dyn KeyProvider>) -> Result<(u64, Vec<StoredRecord>), FormatError> {
    let header = check_chunk(chunk)?;
    let body = chunk.slice(CHUNK_HEADER_BYTES..CHUNK_HEADER_BYTES + header.body_len);
    let records = if header.sealed {
        let chunk_header = chunk.get(..CHUNK_HEADER_BYTES).ok_or(FormatError::Truncated("chunk header"))?;
        let (sealed, plain) = sealed::open(chunk_header, &body, header.count, keys)?;
        let records = decode_records(&plain, header.count)?;
        // The sealed header is authenticated, so a mismatch is a writer's bug, not damage
        // the checks above missed; refused all the same.
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Err(FormatError::Invalid("empty chunk"));
        };
        let matches = (first.lsn, last.lsn, first.arrival_ms, last.arrival_ms)
            == (sealed.first_lsn, sealed.last_lsn, sealed.first_arrival_ms, sealed.last_arrival_ms);
        if !matches {
            return Err(FormatError::Invalid("sealed chunk header"));
        }
        records
    } else {
        decode_records(&body, header.count)?
    };
    Ok((header.shard_uid, records))
}

/// Decodes `count` records filling `body` exactly.
fn decode_records(body: &Bytes, count: usize) -> Result<Vec<StoredRecord>, FormatError> {
    // Each record takes at least its header, which bounds the allocation by the input size.
    if count > body.len() / RECORD_HEADER_BYTES {
        return Err(FormatError::Invalid("chunk record count"));
    }
    let mut records = Vec::with_capacity(count);
    let mut at = 0;
    let end = body.len();
    let mut previous: Option<(u64, u64)> = None;
    for _ in 0..count {
        let lsn = u64_at(body, at).ok_or(FormatError::Truncated("record"))?;
        let arrival_ms = u64_at(body, at + 8).ok_or(FormatError::Truncated("record"))?;
        let data_len = u32_at(body, at + 16).ok_or(FormatError::Truncated("record"))? as usize;
        let key_len = u16_at(body, at + 20).ok_or(FormatError::Truncated("record"))? as usize;
        let flags = *body.get(at + 22).ok_or(FormatError::Truncated("record"))?;
        at += RECORD_HEADER_BYTES;
        if data_len > RECORD_DATA_BYTES_MAX || key_len > PARTITION_KEY_BYTES_MAX || flags & !FLAG_HASH_KEY != 0 {
            return Err(FormatError::Invalid("record header"));
        }
        let explicit_hash_key = if flags & FLAG_HASH_KEY != 0 {
            let bytes = body.get(at..at + 16).ok_or(FormatError::Truncated("record"))?;
            at += 16;
            Some(u128::from_le_bytes(bytes.try_into().map_err(|_| FormatError::Truncated("record"))?))
        } else {
            None
        };
        if at + key_len + data_len > end {
            return Err(FormatError::Truncated("record"));
        }
        let partition_key = body.slice(at..at + key_len);
        at += key_len;
        let data = body.slice(at..at + data_len);
        at += data_len;
        // Paired with the writer: LSNs strictly increase and arrival times never
        // decrease within a shard.
        if let Some((previous_lsn, previous_arrival)) = previous {
            if lsn <= previous_lsn || arrival_ms < previous_arrival {
                return Err(FormatError::Invalid("record order"));
            }
        }
        previous = Some((lsn, arrival_ms));
        records.push(StoredRecord { lsn, arrival_ms, partition_key, explicit_hash_key, data });
    }
    if at != end {
        return Err(FormatError::Invalid("chunk length"));
    }
    Ok(records)
}

/// An index entry: where one chunk of one shard lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// The shard.
    pub shard_uid: u64,
    /// First LSN in the chunk.
    pub first_lsn: u64,
    /// Last LSN in the chunk.
    pub last_lsn: u64,
    /// First arrival time in the chunk.
    pub first_arrival_ms: u64,
    /// Last arrival time in the chunk.
    pub last_arrival_ms: u64,
    /// Offset of the chunk header in the segment file.
    pub offset: u64,
    /// Length of the chunk including its header.
    pub len: u32,
    /// Records in the chunk.
    pub count: u32,
}

/// Encodes a sealed segment's index file.
pub fn encode_index(segment_id: u64, end_offset: u64, entries: &[IndexEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(INDEX_HEADER_BYTES + entries.len() * INDEX_ENTRY_BYTES);
    out.extend_from_slice(&INDEX_MAGIC);
    out.extend_from_slice(&INDEX_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&segment_id.to_le_bytes());
    out.extend_from_slice(&end_offset.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for entry in entries {
        for value in [
            entry.shard_uid,
            entry.first_lsn,
            entry.last_lsn,
            entry.first_arrival_ms,
            entry.last_arrival_ms,
            entry.offset,
        ] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&entry.len.to_le_bytes());
        out.extend_from_slice(&entry.count.to_le_bytes());
    }
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out[..32]), &out[INDEX_HEADER_BYTES..]);
    out[32..36].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes an index file: (segment id, end offset, entries).
pub fn decode_index(bytes: &[u8]) -> Result<(u64, u64, Vec<IndexEntry>), FormatError> {
    let header = bytes.get(..INDEX_HEADER_BYTES).ok_or(FormatError::Truncated("index header"))?;
    if header[0..8] != INDEX_MAGIC {
        return Err(FormatError::BadMagic("index"));
    }
    let version = u16_at(header, 8).ok_or(FormatError::Truncated("index header"))?;
    if version != INDEX_VERSION {
        return Err(FormatError::UnsupportedVersion { what: "index", version });
    }
    let crc = u32_at(header, 32).ok_or(FormatError::Truncated("index header"))?;
    if crc32c::crc32c_append(crc32c::crc32c(&header[..32]), &bytes[INDEX_HEADER_BYTES..]) != crc {
        return Err(FormatError::Checksum("index"));
    }
    let segment_id = u64_at(header, 12).ok_or(FormatError::Truncated("index header"))?;
    let end_offset = u64_at(header, 20).ok_or(FormatError::Truncated("index header"))?;
    let count = u32_at(header, 28).ok_or(FormatError::Truncated("index header"))? as usize;
    if bytes.len() != INDEX_HEADER_BYTES + count * INDEX_ENTRY_BYTES {
        return Err(FormatError::Invalid("index length"));
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let at = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES;
        let field = |k: usize| u64_at(bytes, at + k * 8).ok_or(FormatError::Truncated("index entry"));
        entries.push(IndexEntry {
            shard_uid: field(0)?,
            first_lsn: field(1)?,
            last_lsn: field(2)?,
            first_arrival_ms: field(3)?,
            last_arrival_ms: field(4)?,
            offset: field(5)?,
            len: u32_at(bytes, at + 48).ok_or(FormatError::Truncated("index entry"))?,
            count: u32_at(bytes, at + 52).ok_or(FormatError::Truncated("index entry"))?,
        });
    }
    Ok((segment_id, end_offset, entries))
}

#[cfg(test)]
mod tests;
