//! A resharding plan (SplitShard, MergeShards, UpdateShardCount) as data, so that it can
//! wait in the stream's settings while the stream is UPDATING and be applied, all at once,
//! when the stream returns to ACTIVE (issue 14, item 8). A leaf module: the settings store
//! it, the resharding operations build and apply it.
//!
//! The stored form is part of the stream's metadata frame in the shard log (which carries
//! the checksum), so its field names never change. Hash keys are decimal strings: the
//! settings travel as a JSON map, whose numbers cannot hold 128 bits.

use serde::{Deserialize, Serialize};

/// One step of a plan, applied in order inside one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub(crate) enum ReshardStep {
    /// Close `parent` and add children `[start, at-1]` and `[at, end]`.
    Split {
        /// The shard split.
        parent: ShardSlot,
        /// The second child's starting hash key.
        #[serde(with = "hash_key_text")]
        at: u128,
    },
    /// Close both and add their union.
    Merge {
        /// The shard whose range comes first (the child's parent).
        left: ShardSlot,
        /// The shard whose range follows (the child's adjacent parent).
        right: ShardSlot,
    },
}

/// A shard a plan refers to: an existing index, or the n-th shard the plan adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ShardSlot {
    /// A shard of the stream before the plan.
    Existing(u32),
    /// The n-th shard the plan adds (0-based, in the order the steps add them).
    Added(usize),
}

/// A plan accepted but not yet applied. While it waits the stream is UPDATING and shows
/// its old shards; the stream turns ACTIVE when the plan has been applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingReshard {
    /// When the plan is due, on the engine's clock.
    pub(crate) until_ms: u64,
    /// The steps, in order.
    pub(crate) steps: Vec<ReshardStep>,
}

impl PendingReshard {
    /// How many more open shards the stream has once the plan is applied (0 when it
    /// shrinks), which the account's shard quota counts already.
    pub(crate) fn shards_added(&self) -> u64 {
        let splits = self.steps.iter().filter(|s| matches!(s, ReshardStep::Split { .. })).count() as u64;
        let merges = self.steps.len() as u64 - splits;
        splits.saturating_sub(merges)
    }
}

/// Serialises a hash key as its decimal text.
mod hash_key_text {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|_| D::Error::custom("a hash key is a decimal number below 2^128"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn slot() -> impl Strategy<Value = ShardSlot> {
        prop_oneof![any::<u32>().prop_map(ShardSlot::Existing), (0usize..1_000).prop_map(ShardSlot::Added)]
    }

    fn step() -> impl Strategy<Value = ReshardStep> {
        prop_oneof![
            (slot(), any::<u128>()).prop_map(|(parent, at)| ReshardStep::Split { parent, at }),
            (slot(), slot()).prop_map(|(left, right)| ReshardStep::Merge { left, right }),
        ]
    }

    proptest! {
        /// Every plan survives the trip through the settings' JSON map, 128-bit keys included.
        #[test]
        fn every_plan_round_trips_through_the_settings_map(until_ms in any::<u64>(), steps in prop::collection::vec(step(), 0..20)) {
            let pending = PendingReshard { until_ms, steps };
            let stored = serde_json::to_value(&pending).unwrap();
            prop_assert_eq!(serde_json::from_value::<PendingReshard>(stored).unwrap(), pending);
        }
    }

    #[test]
    fn a_plan_keeps_its_stored_form() {
        let pending = PendingReshard {
            until_ms: 7,
            steps: vec![
                ReshardStep::Split { parent: ShardSlot::Existing(0), at: u128::MAX / 2 },
                ReshardStep::Merge { left: ShardSlot::Added(0), right: ShardSlot::Added(1) },
            ],
        };
        let stored = serde_json::to_value(&pending).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({"until_ms": 7, "steps": [
                {"step": "split", "parent": {"existing": 0}, "at": "170141183460469231731687303715884105727"},
                {"step": "merge", "left": {"added": 0}, "right": {"added": 1}},
            ]})
        );
        assert_eq!(serde_json::from_value::<PendingReshard>(stored).unwrap(), pending);
        assert_eq!(pending.shards_added(), 0);
    }
}
