//! The engine's per-stream and per-consumer settings, kept by the storage layer as an
//! opaque JSON map (`StreamProps::settings`, `ConsumerMeta::settings`) and decoded here.
//!
//! Unknown keys are ignored and missing ones take their defaults, so settings written by
//! an older or newer server still load.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{RecordDistribution, StreamMode};
use crate::reshard_plan::PendingReshard;

/// A stream's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    /// Capacity mode.
    pub mode: StreamMode,
    /// The KMS key while server-side encryption is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_key_id: Option<String>,
    /// Enabled shard-level metrics, in AWS's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shard_level_metrics: Vec<String>,
    /// Largest record, KiB (absent: the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_record_size_kib: Option<u32>,
    /// Requested warm throughput, MiB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_throughput_mibps: Option<u32>,
    /// Resource policy document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Set by DeleteStream: the stream is DELETING and disappears at this time. Persisted
    /// so that a restart finishes the deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleting_until_ms: Option<u64>,
    /// Set by DeleteStream when the stream was still CREATING: it never had shards to
    /// show, so while DELETING it describes with none, as AWS does.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted_while_creating: bool,
    /// How records are placed on shards (AUTO only on on-demand streams).
    #[serde(skip_serializing_if = "is_default")]
    pub record_distribution: RecordDistribution,
    /// Times of recent UpdateShardCount calls, for the ten-per-day quota.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scalings_ms: Vec<u64>,
    /// A resharding waiting for the end of the UPDATING period. Persisted so that a
    /// restart applies it at its deadline (issue 14, item 8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pending_reshard: Option<PendingReshard>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A consumer's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumerSettings {
    /// Set by DeregisterStreamConsumer: DELETING until this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleting_until_ms: Option<u64>,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Resource policy document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// Decodes settings; a damaged map yields the defaults rather than an unusable stream.
pub fn decode<T: DeserializeOwned + Default>(map: &Map<String, Value>) -> T {
    match serde_json::from_value(Value::Object(map.clone())) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::warn!(message = "Undecodable settings; using defaults.", %error);
            T::default()
        }
    }
}

/// Encodes settings into the map the storage layer keeps.
pub fn encode<T: Serialize>(settings: &T) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        // Plain structs of strings and numbers always serialize to an object.
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_tolerate_unknown_keys() {
        let settings = StreamSettings {
            mode: StreamMode::OnDemand,
            encryption_key_id: Some("alias/aws/kinesis".into()),
            deleting_until_ms: Some(5),
            ..Default::default()
        };
        let mut map = encode(&settings);
        map.insert("from_the_future".into(), Value::Bool(true));
        assert_eq!(decode::<StreamSettings>(&map), settings);
        assert_eq!(decode::<StreamSettings>(&Map::new()), StreamSettings::default());
    }
}
