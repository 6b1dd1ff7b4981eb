//! A stream's shards as a map: which open shard a hash key goes to, and the lineage
//! (parents and children) readers follow through resharding.

use md5::{Digest, Md5};
use rheo_protocol::model::{ListShardsInput, Shard};
use rheo_protocol::SequenceNumber;

use crate::error::{ClientError, Result};
use crate::services::Kinesis;

/// Most shards a map holds (AWS's default account limit is far lower): ListShards pages
/// beyond it are refused rather than followed forever.
pub const SHARDS_MAX: usize = 100_000;

/// The 128-bit hash Kinesis routes a partition key by: MD5 of its UTF-8 bytes, read as a
/// big-endian unsigned integer.
pub fn partition_key_hash(partition_key: &str) -> u128 {
    let digest: [u8; 16] = Md5::digest(partition_key.as_bytes()).into();
    u128::from_be_bytes(digest)
}

/// One shard, with its ranges decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardInfo {
    /// `shardId-000000000000`.
    pub shard_id: String,
    /// The shard it was split from, or the first of the two it was merged from.
    pub parent_shard_id: Option<String>,
    /// The second parent of a merge.
    pub adjacent_parent_shard_id: Option<String>,
    /// Lowest hash key it takes.
    pub starting_hash_key: u128,
    /// Highest hash key it takes.
    pub ending_hash_key: u128,
    /// Its first sequence number.
    pub starting_sequence_number: SequenceNumber,
    /// Set once the shard is closed (split or merged).
    pub ending_sequence_number: Option<SequenceNumber>,
}

impl ShardInfo {
    /// Decodes a `ListShards` entry.
    pub fn from_wire(shard: Shard) -> Result<Self> {
        let hash = |key: &rheo_protocol::HashKey| {
            key.to_u128().ok_or_else(|| ClientError::Decode {
                service: "Kinesis",
                operation: "ListShards",
                detail: format!("hash key {key:?} of {} is not a 128-bit number", shard.shard_id),
            })
        };
        Ok(ShardInfo {
            starting_hash_key: hash(&shard.hash_key_range.starting_hash_key)?,
            ending_hash_key: hash(&shard.hash_key_range.ending_hash_key)?,
            parent_shard_id: shard.parent_shard_id,
            adjacent_parent_shard_id: shard.adjacent_parent_shard_id,
            starting_sequence_number: shard.sequence_number_range.starting_sequence_number,
            ending_sequence_number: shard.sequence_number_range.ending_sequence_number,
            shard_id: shard.shard_id,
        })
    }

    /// True while the shard takes new records.
    pub fn is_open(&self) -> bool {
        self.ending_sequence_number.is_none()
    }

    /// Its parents (none, one for a split, two for a merge).
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        self.parent_shard_id.iter().chain(self.adjacent_parent_shard_id.iter()).map(String::as_str)
    }

    /// True when `hash` falls in its range.
    pub fn contains(&self, hash: u128) -> bool {
        (self.starting_hash_key..=self.ending_hash_key).contains(&hash)
    }
}

/// Every shard of a stream that `ListShards` reports (closed ones within retention
/// included), in the order it reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardMap {
    shards: Vec<ShardInfo>,
}

impl ShardMap {
    /// A map of these shards.
    pub fn new(shards: Vec<ShardInfo>) -> Self {
        ShardMap { shards }
    }

    /// Reads the whole shard list of `stream` (a name, or an ARN starting `arn:`).
    pub async fn load(kinesis: &Kinesis, stream: &str) -> Result<Self> {
        let mut shards = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let mut input = list_shards_input();
            match next_token.take() {
                Some(token) => input.next_token = Some(token),
                None if stream.starts_with("arn:") => input.stream_arn = Some(stream.to_owned()),
                None => input.stream_name = Some(stream.to_owned()),
            }
            let page = kinesis.list_shards(input).await?;
            for shard in page.shards.unwrap_or_default() {
                shards.push(ShardInfo::from_wire(shard)?);
            }
            if shards.len() > SHARDS_MAX {
                return Err(ClientError::Decode {
                    service: "Kinesis",
                    operation: "ListShards",
                    detail: format!("stream {stream} lists more than {SHARDS_MAX} shards"),
                });
            }
            match page.next_token {
                Some(token) if !token.is_empty() => next_token = Some(token),
                _ => return Ok(ShardMap { shards }),
            }
        }
    }

    /// Every shard.
    pub fn shards(&self) -> &[ShardInfo] {
        &self.shards
    }

    /// The shard with this id.
    pub fn get(&self, shard_id: &str) -> Option<&ShardInfo> {
        self.shards.iter().find(|s| s.shard_id == shard_id)
    }

    /// The open shards.
    pub fn open_shards(&self) -> impl Iterator<Item = &ShardInfo> {
        self.shards.iter().filter(|s| s.is_open())
    }

    /// The open shard that takes `hash`, if the map has one.
    pub fn shard_for_hash(&self, hash: u128) -> Option<&ShardInfo> {
        self.open_shards().find(|s| s.contains(hash))
    }

    /// The shards whose parents include `shard_id`.
    pub fn children_of<'a>(&'a self, shard_id: &'a str) -> impl Iterator<Item = &'a ShardInfo> + 'a {
        self.shards.iter().filter(move |s| s.parents().any(|p| p == shard_id))
    }
}

fn list_shards_input() -> ListShardsInput {
    ListShardsInput {
        stream_name: None,
        next_token: None,
        exclusive_start_shard_id: None,
        max_results: Some(1000),
        stream_creation_timestamp: None,
        shard_filter: None,
        stream_arn: None,
        stream_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, range: (u128, u128), parents: (Option<&str>, Option<&str>), open: bool) -> ShardInfo {
        ShardInfo {
            shard_id: id.into(),
            parent_shard_id: parents.0.map(Into::into),
            adjacent_parent_shard_id: parents.1.map(Into::into),
            starting_hash_key: range.0,
            ending_hash_key: range.1,
            starting_sequence_number: SequenceNumber::parse("1").unwrap(),
            ending_sequence_number: (!open).then(|| SequenceNumber::parse("2").unwrap()),
        }
    }

    #[test]
    fn partition_keys_hash_like_kinesis() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
        assert_eq!(partition_key_hash("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn hash_keys_route_to_open_shards_and_lineage_is_followed() {
        let half = u128::MAX / 2;
        let map = ShardMap::new(vec![
            shard("shardId-0", (0, u128::MAX), (None, None), false),
            shard("shardId-1", (0, half), (Some("shardId-0"), None), true),
            shard("shardId-2", (half + 1, u128::MAX), (Some("shardId-0"), None), true),
        ]);
        assert_eq!(map.shard_for_hash(0).unwrap().shard_id, "shardId-1");
        assert_eq!(map.shard_for_hash(u128::MAX).unwrap().shard_id, "shardId-2");
        let children: Vec<_> = map.children_of("shardId-0").map(|s| s.shard_id.as_str()).collect();
        assert_eq!(children, ["shardId-1", "shardId-2"]);
        assert_eq!(map.open_shards().count(), 2);
    }
}
