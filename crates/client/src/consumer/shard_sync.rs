//! Which leases the shard list calls for: one per shard, created before anyone reads it,
//! with the checkpoint it starts from.

use std::collections::HashSet;

use super::checkpoint::{Checkpoint, ExtendedSequenceNumber};
use super::config::InitialPosition;
use super::lease::Lease;
use crate::shards::ShardMap;

/// The leases to create for the shards of `map` that have none (`existing` lists the
/// keys that do). A shard whose parent has (or gets) a lease starts at its beginning
/// (`TRIM_HORIZON`) whatever the initial position, so that nothing written after the
/// parent closed is skipped; other shards start at the initial position, and with
/// `LATEST` only open shards get a lease (a closed shard has nothing newer to give).
pub fn leases_to_create(map: &ShardMap, existing: &HashSet<String>, initial: InitialPosition) -> Vec<Lease> {
    let mut leased: HashSet<&str> = existing.iter().map(String::as_str).collect();
    let mut created = Vec::new();
    // Shard ids grow with creation, so parents come before children in the map; a second
    // pass is not needed, but a map listed out of order is handled by repeating.
    loop {
        let before = created.len();
        for shard in map.shards() {
            if leased.contains(shard.shard_id.as_str()) {
                continue;
            }
            let parents: Vec<String> = shard.parents().map(str::to_owned).collect();
            let parent_leased = shard.parents().any(|p| leased.contains(p));
            let parents_unknown_yet = shard.parents().any(|p| map.get(p).is_some() && !leased.contains(p));
            let checkpoint = if parent_leased {
                Checkpoint::TrimHorizon
            } else if parents_unknown_yet && initial != InitialPosition::Latest {
                // A listed parent without a lease yet: decide this shard after it.
                continue;
            } else {
                match initial {
                    InitialPosition::TrimHorizon => Checkpoint::TrimHorizon,
                    InitialPosition::AtTimestamp(_) => Checkpoint::AtTimestamp,
                    InitialPosition::Latest if shard.is_open() => Checkpoint::Latest,
                    InitialPosition::Latest => continue,
                }
            };
            leased.insert(shard.shard_id.as_str());
            created.push(Lease::new(
                shard.shard_id.clone(),
                ExtendedSequenceNumber::sentinel(checkpoint),
                parents,
                Some((shard.starting_hash_key, shard.ending_hash_key)),
            ));
        }
        if created.len() == before {
            return created;
        }
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
        assert_eq!(checkpoints, ["AT_TIMESTAMP", "TRIM_HORIZON", "TRIM_HORIZON", "TRIM_HORIZON"]);
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
