//! Which leases the shard list calls for: one per shard someone still has to read,
//! created before anyone reads it, with the checkpoint it starts from.
//!
//! Like the KCL's synchronizer for a non-empty lease table, it starts from the open
//! shards that have no lease and walks up their ancestors, stopping at the first one that
//! has a lease (or that the shard list no longer has). A closed shard is never given a
//! lease again once a descendant has one: the KCL deletes finished leases, and bringing
//! them back would deliver their history a second time, after their children.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::checkpoint::{Checkpoint, ExtendedSequenceNumber};
use super::config::InitialPosition;
use super::lease::Lease;
use crate::shards::{ShardInfo, ShardMap};

/// The leases to create for the shards of `map` that need one (`existing` lists the keys
/// that have one), parents before children.
///
/// A shard descending from a leased shard starts at its beginning (`TRIM_HORIZON`, or
/// `AT_TIMESTAMP` when that is the initial position, as in the KCL), so that nothing
/// written after the parent closed is skipped. Other shards start at the initial
/// position; with `LATEST` only open shards get a lease (a closed shard has nothing newer
/// to give).
pub fn leases_to_create(map: &ShardMap, existing: &HashSet<String>, initial: InitialPosition) -> Vec<Lease> {
    let mut walk = Walk { map, existing, initial, descends: HashMap::new(), created: BTreeMap::new() };
    for shard in map.shards().iter().filter(|s| s.is_open() && !existing.contains(&s.shard_id)) {
        let descendant = walk.descends_from_leased(shard);
        walk.create(shard, walk.start_for(descendant));
    }
    walk.created.into_values().collect()
}

struct Walk<'a> {
    map: &'a ShardMap,
    existing: &'a HashSet<String>,
    initial: InitialPosition,
    /// Memo of [`Walk::descends_from_leased`] per shard id.
    descends: HashMap<&'a str, bool>,
    created: BTreeMap<String, Lease>,
}

impl<'a> Walk<'a> {
    /// Where a new lease starts.
    fn start_for(&self, descendant: bool) -> Checkpoint {
        match (self.initial, descendant) {
            (InitialPosition::AtTimestamp(_), _) => Checkpoint::AtTimestamp,
            (_, true) | (InitialPosition::TrimHorizon, false) => Checkpoint::TrimHorizon,
            (InitialPosition::Latest, false) => Checkpoint::Latest,
        }
    }

    /// Whether an ancestor of `shard` has a lease, creating on the way the leases of
    /// the ancestors between them (and, unless the start is `LATEST`, of unleased
    /// ancestors with no leased ancestor: their records come before `shard`'s).
    fn descends_from_leased(&mut self, shard: &'a ShardInfo) -> bool {
        if let Some(&known) = self.descends.get(shard.shard_id.as_str()) {
            return known;
        }
        let mut descendant = false;
        for parent_id in shard.parents() {
            if self.existing.contains(parent_id) {
                descendant = true;
                continue;
            }
            // A parent past the retention period is gone from the list: nothing to read.
            let Some(parent) = self.map.get(parent_id) else { continue };
            if self.descends_from_leased(parent) {
                descendant = true;
                self.create(parent, self.start_for(true));
            } else if self.initial != InitialPosition::Latest {
                self.create(parent, self.start_for(false));
            }
        }
        self.descends.insert(shard.shard_id.as_str(), descendant);
        descendant
    }

    fn create(&mut self, shard: &ShardInfo, checkpoint: Checkpoint) {
        self.created.entry(shard.shard_id.clone()).or_insert_with(|| {
            Lease::new(
                shard.shard_id.clone(),
                ExtendedSequenceNumber::sentinel(checkpoint),
                shard.parents().map(str::to_owned).collect::<Vec<_>>(),
                Some((shard.starting_hash_key, shard.ending_hash_key)),
            )
        });
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::shards::ShardInfo;
    use rheo_protocol::{SequenceNumber, Timestamp};

    fn shard(id: u32, parents: &[u32], open: bool) -> ShardInfo {
        let name = |n: u32| format!("shardId-{n:012}");
        ShardInfo {
            shard_id: name(id),
            parent_shard_id: parents.first().map(|&p| name(p)),
            adjacent_parent_shard_id: parents.get(1).map(|&p| name(p)),
            starting_hash_key: 0,
            ending_hash_key: u128::MAX,
            starting_sequence_number: SequenceNumber::from_u128(1),
            ending_sequence_number: (!open).then(|| SequenceNumber::from_u128(2)),
        }
    }

    /// 0 split into 1 and 2; 1 and 2 merged into 3.
    fn resharded() -> ShardMap {
        ShardMap::new(vec![shard(0, &[], false), shard(1, &[0], false), shard(2, &[0], false), shard(3, &[1, 2], true)])
    }

    fn summary(leases: &[Lease]) -> Vec<(String, String, Vec<String>)> {
        leases
            .iter()
            .map(|l| (l.lease_key.clone(), l.checkpoint.checkpoint.to_string(), l.parent_shard_ids.clone()))
            .collect()
    }

    #[test]
    fn trim_horizon_leases_every_shard_with_its_parents() {
        let leases = leases_to_create(&resharded(), &HashSet::new(), InitialPosition::TrimHorizon);
        assert_eq!(leases.len(), 4);
        assert!(leases.iter().all(|l| l.checkpoint.checkpoint == Checkpoint::TrimHorizon));
        assert_eq!(leases[3].parent_shard_ids, ["shardId-000000000001", "shardId-000000000002"]);
    }

    #[test]
    fn latest_leases_only_open_shards_and_at_timestamp_leases_all() {
        let leases = leases_to_create(&resharded(), &HashSet::new(), InitialPosition::Latest);
        assert_eq!(
            summary(&leases),
            [(
                "shardId-000000000003".to_owned(),
                "LATEST".to_owned(),
                vec!["shardId-000000000001".to_owned(), "shardId-000000000002".to_owned()]
            )]
        );
        let at = InitialPosition::AtTimestamp(Timestamp::from_epoch_millis(0));
        let leases = leases_to_create(&resharded(), &HashSet::new(), at);
        let checkpoints: Vec<_> = leases.iter().map(|l| l.checkpoint.checkpoint.to_string()).collect();
        assert_eq!(checkpoints, ["AT_TIMESTAMP"; 4], "descendants keep AT_TIMESTAMP, as in the KCL");
    }

    #[test]
    fn closed_shards_whose_descendants_have_leases_get_none_back() {
        let children: HashSet<String> = ["shardId-000000000003".to_owned()].into();
        for initial in [InitialPosition::TrimHorizon, InitialPosition::Latest] {
            assert!(leases_to_create(&resharded(), &children, initial).is_empty());
        }
        // The KCL deleted 0's finished lease; 1 and 2 are still leased, 3 is new.
        let middle: HashSet<String> = ["shardId-000000000001".to_owned(), "shardId-000000000002".to_owned()].into();
        let leases = leases_to_create(&resharded(), &middle, InitialPosition::TrimHorizon);
        let keys: Vec<_> = summary(&leases).into_iter().map(|(k, c, _)| (k, c)).collect();
        assert_eq!(keys, [("shardId-000000000003".to_owned(), "TRIM_HORIZON".to_owned())]);
    }

    #[test]
    fn the_walk_up_stops_at_the_first_leased_ancestor_and_at_shards_gone_from_the_list() {
        // 0 split into 1 and 2; 2 split into 4 and 5 (open); 1 open. Only 0 is leased.
        let map = ShardMap::new(vec![
            shard(0, &[], false),
            shard(1, &[0], true),
            shard(2, &[0], false),
            shard(4, &[2], true),
            shard(5, &[2], true),
            // Its parent 9 is past retention.
            shard(10, &[9], true),
        ]);
        let existing: HashSet<String> = ["shardId-000000000000".to_owned()].into();
        let leases = leases_to_create(&map, &existing, InitialPosition::Latest);
        let keys: Vec<_> = summary(&leases).into_iter().map(|(k, c, _)| (k, c)).collect();
        let expected =
            [(1, "TRIM_HORIZON"), (2, "TRIM_HORIZON"), (4, "TRIM_HORIZON"), (5, "TRIM_HORIZON"), (10, "LATEST")];
        let expected: Vec<_> = expected.iter().map(|(n, c)| (format!("shardId-{n:012}"), (*c).to_owned())).collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn children_of_leased_shards_start_at_their_beginning() {
        let existing: HashSet<String> = ["shardId-000000000000".to_owned()].into();
        let leases = leases_to_create(&resharded(), &existing, InitialPosition::Latest);
        let checkpoints: Vec<_> = summary(&leases).into_iter().map(|(k, c, _)| (k, c)).collect();
        assert_eq!(
            checkpoints,
            [
                ("shardId-000000000001".to_owned(), "TRIM_HORIZON".to_owned()),
                ("shardId-000000000002".to_owned(), "TRIM_HORIZON".to_owned()),
                ("shardId-000000000003".to_owned(), "TRIM_HORIZON".to_owned()),
            ]
        );
        let all: HashSet<String> = resharded().shards().iter().map(|s| s.shard_id.clone()).collect();
        assert!(leases_to_create(&resharded(), &all, InitialPosition::TrimHorizon).is_empty());
    }
}
