//! Durable stream and shard metadata.
//!
//! Each stream's metadata lives in its own file, `meta/stream-<stream_id>.meta`,
//! replaced atomically (write a temporary file, fdatasync, rename, sync the folder),
//! so one change is one atomic step and a crash leaves either the old or the new
//! version, never a mix.
//!
//! ```text
//! │ magic "RHEOMETA" │ version u16 │ 0 u16 │ json_len u32 │ crc u32 │ JSON … │
//!   crc (CRC-32C) covers bytes 0..16 and the JSON.
//! ```
//! JSON keeps the files readable by an operator; metadata changes are rare (stream
//! creation, resharding, tags), so its cost does not matter.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const META_MAGIC: [u8; 8] = *b"RHEOMETA";
const META_VERSION: u16 = 1;
const META_HEADER_BYTES: usize = 20;
pub(crate) const META_SUFFIX: &str = ".meta";
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// One stream's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Internal id, unique forever, from [`crate::MetaStore::allocate_ids`]. Not an
    /// LSN (in data folders written before identities had their own counter it happens
    /// to be one, which changes nothing).
    pub stream_id: u64,
    /// The stream's name.
    pub name: String,
    /// Creation time, epoch milliseconds.
    pub created_ms: u64,
    /// Every shard the stream ever had that is not yet forgotten, in index order.
    pub shards: Vec<ShardMeta>,
    /// Properties the storage engine keeps but does not interpret, except retention.
    pub props: StreamProps,
}

impl StreamMeta {
    /// The shard with this index.
    pub fn shard(&self, index: u32) -> Option<&ShardMeta> {
        self.shards.iter().find(|s| s.index == index)
    }

    /// Retention in milliseconds.
    pub fn retention_ms(&self) -> u64 {
        u64::from(self.props.retention_hours) * crate::limits::HOUR_MS
    }
}

/// The changeable properties of a stream.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamProps {
    /// Retention in hours ([`crate::limits::RETENTION_HOURS_MIN`] to `..._MAX`).
    pub retention_hours: u32,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Registered consumers.
    pub consumers: Vec<ConsumerMeta>,
    /// Settings the layers above own (capacity mode, encryption, monitoring, policies…).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The key (its number in the key store, see [`crate::cipher`]) that seals the
    /// stream's new records on disk, or `None`: new records are written in the clear.
    /// Records already written keep the key (or none) they were written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<u32>,
}

/// A registered (enhanced fan-out) consumer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerMeta {
    /// Its name.
    pub name: String,
    /// Registration time, epoch milliseconds.
    pub created_ms: u64,
    /// Settings the layers above own (status, for example).
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// One shard's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredShardMeta")]
pub struct ShardMeta {
    /// Internal id, unique forever, from [`crate::MetaStore::allocate_ids`]. Not an LSN:
    /// use [`ShardMeta::created_lsn`] for "below every record of the shard".
    pub uid: u64,
    /// The LSN reserved when the shard was created: every record of the shard has a
    /// larger one, so it is where an empty shard's reads begin and what its starting
    /// sequence number carries.
    pub created_lsn: u64,
    /// The shard's number within its stream.
    pub index: u32,
    /// Creation time, epoch milliseconds.
    pub created_ms: u64,
    /// First hash key the shard owns.
    #[serde(with = "u128_text")]
    pub hash_key_start: u128,
    /// Last hash key the shard owns (inclusive).
    #[serde(with = "u128_text")]
    pub hash_key_end: u128,
    /// The shard this one was split from, or the first of the two merged into it.
    pub parent: Option<u32>,
    /// The second shard of a merge.
    pub adjacent_parent: Option<u32>,
    /// Set once resharding closed the shard.
    pub closed: Option<ShardClose>,
}

/// [`ShardMeta`] as files hold it. Files written before identities had their own
/// counter have no `created_lsn`: their uid was taken from the LSN counter when the
/// shard was created, so it is the creation LSN.
#[derive(Deserialize)]
struct StoredShardMeta {
    uid: u64,
    #[serde(default)]
    created_lsn: Option<u64>,
    index: u32,
    created_ms: u64,
    #[serde(with = "u128_text")]
    hash_key_start: u128,
    #[serde(with = "u128_text")]
    hash_key_end: u128,
    parent: Option<u32>,
    adjacent_parent: Option<u32>,
    closed: Option<ShardClose>,
}

impl From<StoredShardMeta> for ShardMeta {
    fn from(stored: StoredShardMeta) -> Self {
        ShardMeta {
            uid: stored.uid,
            created_lsn: stored.created_lsn.unwrap_or(stored.uid),
            index: stored.index,
            created_ms: stored.created_ms,
            hash_key_start: stored.hash_key_start,
            hash_key_end: stored.hash_key_end,
            parent: stored.parent,
            adjacent_parent: stored.adjacent_parent,
            closed: stored.closed,
        }
    }
}

/// When and where a shard was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardClose {
    /// LSN reserved at closing: larger than every record of the shard, smaller than
    /// every record of its children.
    pub lsn: u64,
    /// Closing time, epoch milliseconds.
    pub at_ms: u64,
}

/// JSON numbers cannot carry 128 bits portably, so hash keys are decimal strings.
mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Frames `meta` as a metadata file (magic, version, length, CRC-32C, JSON).
pub(crate) fn encode(meta: &StreamMeta) -> Vec<u8> {
    encode_framed(&META_MAGIC, meta)
}

/// Decodes a metadata file.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<StreamMeta, String> {
    decode_framed(&META_MAGIC, bytes)
}

/// Frames any JSON document the way metadata files are framed, under `magic`.
pub(crate) fn encode_framed<T: Serialize>(magic: &[u8; 8], value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and integers cannot fail.
    let json = serde_json::to_vec(value).expect("metadata serializes");
    let mut out = Vec::with_capacity(META_HEADER_BYTES + json.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&META_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out[..16]), &json);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&json);
    out
}

/// Decodes what [`encode_framed`] framed under `magic`.
pub(crate) fn decode_framed<T: serde::de::DeserializeOwned>(
    magic: &[u8; 8],
    bytes: &[u8],
) -> std::result::Result<T, String> {
    let header = bytes.get(..META_HEADER_BYTES).ok_or("file shorter than its header")?;
    if header[..8] != *magic {
        return Err("bad magic".into());
    }
    let version = u16::from_le_bytes([header[8], header[9]]);
    if version != META_VERSION {
        return Err(format!("unsupported version {version}"));
    }
    let len = u32::from_le_bytes([header[12], header[13], header[14], header[15]]) as usize;
    let crc = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
    let json = bytes.get(META_HEADER_BYTES..).filter(|j| j.len() == len).ok_or("length mismatch")?;
    if crc32c::crc32c_append(crc32c::crc32c(&header[..16]), json) != crc {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(json).map_err(|e| format!("undecodable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let meta = StreamMeta {
            stream_id: 5,
            name: "orders".into(),
            created_ms: 1,
            shards: vec![ShardMeta {
                uid: 6,
                created_lsn: 7,
                index: 0,
                created_ms: 1,
                hash_key_start: 0,
                hash_key_end: u128::MAX,
                parent: None,
                adjacent_parent: None,
                closed: Some(ShardClose { lsn: 9, at_ms: 2 }),
            }],
            props: StreamProps { retention_hours: 24, ..Default::default() },
        };
        let bytes = encode(&meta);
        assert_eq!(decode(&bytes).unwrap(), meta);
        for at in [0, 9, 13, 17, 30] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            assert!(decode(&damaged).is_err(), "flip at {at} undetected");
        }
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }

    /// A metadata file as the version before `created_lsn` wrote it (committed, never
    /// regenerated): its uids were creation LSNs, and still are.
    const BEFORE_CREATED_LSN: &[u8] =
        include_bytes!("../tests/data/folder-before-ids/meta/stream-00000000000000000001.meta");

    #[test]
    fn files_without_a_creation_lsn_take_the_uid_for_it() {
        let meta = decode(BEFORE_CREATED_LSN).unwrap();
        assert_eq!(meta.name, "orders");
        let shards: Vec<(u64, u64)> = meta.shards.iter().map(|s| (s.uid, s.created_lsn)).collect();
        assert_eq!(shards, [(2, 2), (3, 3), (16, 16), (17, 17)]);
        assert_eq!(meta.shards[0].closed, Some(ShardClose { lsn: 15, at_ms: 1_700_000_005_000 }));
        // Written again, the file names the creation LSN itself.
        let rewritten = encode(&meta);
        assert!(String::from_utf8_lossy(&rewritten).contains("\"created_lsn\":16"));
        assert_eq!(decode(&rewritten).unwrap(), meta);
    }
}
