//! A lease as the Java KCL stores it in its DynamoDB table: one item per shard, keyed by
//! `leaseKey` (the shard id), with the attribute names and types of its
//! `DynamoDBLeaseSerializer`, so that Java and Rust workers can share a table.

use serde_json::{json, Map, Value};

use super::checkpoint::{Checkpoint, ExtendedSequenceNumber};

/// The table's hash key.
pub const LEASE_KEY: &str = "leaseKey";
/// The worker holding the lease (absent when nobody does).
pub const LEASE_OWNER: &str = "leaseOwner";
/// Bumped by every renew, take and checkpoint: the optimistic lock, and the heartbeat
/// other workers judge expiry by.
pub const LEASE_COUNTER: &str = "leaseCounter";
/// How many times the lease changed owner since the last checkpoint.
pub const OWNER_SWITCHES: &str = "ownerSwitchesSinceCheckpoint";
/// The checkpoint: a sequence number or a sentinel.
pub const CHECKPOINT: &str = "checkpoint";
/// The checkpoint's sub-sequence number.
pub const CHECKPOINT_SUB_SEQUENCE: &str = "checkpointSubSequenceNumber";
/// A two-phase checkpoint in progress (written by the KCL's `prepareCheckpoint`).
pub const PENDING_CHECKPOINT: &str = "pendingCheckpoint";
/// Its sub-sequence number.
pub const PENDING_CHECKPOINT_SUB_SEQUENCE: &str = "pendingCheckpointSubSequenceNumber";
/// The application state attached to a pending checkpoint (binary).
pub const PENDING_CHECKPOINT_STATE: &str = "pendingCheckpointState";
/// The shard's parents (a string set; absent when none).
pub const PARENT_SHARD_IDS: &str = "parentShardId";
/// The shard's children, recorded at its end (a string set; absent when none).
pub const CHILD_SHARD_IDS: &str = "childShardIds";
/// The lowest hash key of the shard (a decimal string).
pub const STARTING_HASH_KEY: &str = "startingHashKey";
/// The highest hash key of the shard (a decimal string).
pub const ENDING_HASH_KEY: &str = "endingHashKey";
/// KCL 3's graceful handoff: the previous owner, still finishing the shard while
/// `leaseOwner` already names the next one. KCL 3 counts the lease as this worker's while it is
/// set, so taking or releasing a lease removes it, as KCL 3's own take and evict do.
pub const CHECKPOINT_OWNER: &str = "checkpointOwner";

/// Why an item is not a lease.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {key:?}: {detail}")]
pub struct LeaseItemError {
    /// The item's `leaseKey`, when it has one.
    pub key: Option<String>,
    /// What is wrong.
    pub detail: String,
}

/// One shard's lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The shard id.
    pub lease_key: String,
    /// The holder, if any.
    pub lease_owner: Option<String>,
    /// The optimistic lock and heartbeat.
    pub lease_counter: u64,
    /// Owner changes since the last checkpoint.
    pub owner_switches_since_checkpoint: u64,
    /// Where processing stands.
    pub checkpoint: ExtendedSequenceNumber,
    /// A prepared, not yet committed checkpoint.
    pub pending_checkpoint: Option<ExtendedSequenceNumber>,
    /// The state bytes of the pending checkpoint, base64 as DynamoDB JSON carries them.
    pub pending_checkpoint_state: Option<String>,
    /// Parents, sorted.
    pub parent_shard_ids: Vec<String>,
    /// Children, sorted (known once the shard ended).
    pub child_shard_ids: Vec<String>,
    /// The shard's hash-key range.
    pub hash_key_range: Option<(u128, u128)>,
}

impl Lease {
    /// A new, unowned lease at `checkpoint`.
    pub fn new(
        lease_key: impl Into<String>,
        checkpoint: ExtendedSequenceNumber,
        parents: impl IntoIterator<Item = String>,
        hash_key_range: Option<(u128, u128)>,
    ) -> Self {
        let mut parent_shard_ids: Vec<String> = parents.into_iter().collect();
        parent_shard_ids.sort();
        parent_shard_ids.dedup();
        Lease {
            lease_key: lease_key.into(),
            lease_owner: None,
            lease_counter: 0,
            owner_switches_since_checkpoint: 0,
            checkpoint,
            pending_checkpoint: None,
            pending_checkpoint_state: None,
            parent_shard_ids,
            child_shard_ids: Vec::new(),
            hash_key_range,
        }
    }

    /// True once the shard was read to its end.
    pub fn is_finished(&self) -> bool {
        self.checkpoint.checkpoint == Checkpoint::ShardEnd
    }

    /// The item the KCL would write for this lease (DynamoDB JSON).
    pub fn to_item(&self) -> Map<String, Value> {
        let mut item = Map::new();
        item.insert(LEASE_KEY.into(), string(&self.lease_key));
        item.insert(LEASE_COUNTER.into(), number(self.lease_counter));
        if let Some(owner) = &self.lease_owner {
            item.insert(LEASE_OWNER.into(), string(owner));
        }
        item.insert(OWNER_SWITCHES.into(), number(self.owner_switches_since_checkpoint));
        item.insert(CHECKPOINT.into(), string(self.checkpoint.checkpoint.as_str()));
        item.insert(CHECKPOINT_SUB_SEQUENCE.into(), number(self.checkpoint.sub_sequence_number));
        if !self.parent_shard_ids.is_empty() {
            item.insert(PARENT_SHARD_IDS.into(), string_set(&self.parent_shard_ids));
        }
        if !self.child_shard_ids.is_empty() {
            item.insert(CHILD_SHARD_IDS.into(), string_set(&self.child_shard_ids));
        }
        if let Some(pending) = &self.pending_checkpoint {
            item.insert(PENDING_CHECKPOINT.into(), string(pending.checkpoint.as_str()));
            item.insert(PENDING_CHECKPOINT_SUB_SEQUENCE.into(), number(pending.sub_sequence_number));
        }
        if let Some(state) = &self.pending_checkpoint_state {
            item.insert(PENDING_CHECKPOINT_STATE.into(), json!({ "B": state }));
        }
        if let Some((start, end)) = self.hash_key_range {
            item.insert(STARTING_HASH_KEY.into(), string(&start.to_string()));
            item.insert(ENDING_HASH_KEY.into(), string(&end.to_string()));
        }
        item
    }

    /// Reads an item of the table. Attributes this crate does not use (other KCL
    /// versions add some) are ignored.
    pub fn from_item(item: &Map<String, Value>) -> Result<Self, LeaseItemError> {
        let key = get_string(item, LEASE_KEY).map(str::to_owned);
        let fail = |detail: String| LeaseItemError { key: key.clone(), detail };
        let lease_key = key.clone().ok_or_else(|| fail(format!("no {LEASE_KEY} string")))?;
        let read_number = |name: &str| -> Result<Option<u64>, LeaseItemError> {
            match item.get(name) {
                None => Ok(None),
                Some(value) => value
                    .get("N")
                    .and_then(Value::as_str)
                    .and_then(|n| n.parse::<u64>().ok())
                    .map(Some)
                    .ok_or_else(|| fail(format!("{name} is not a whole number: {value}"))),
            }
        };
        let read_checkpoint = |name: &str, sub_name: &str| -> Result<Option<ExtendedSequenceNumber>, LeaseItemError> {
            let Some(text) = get_string(item, name) else {
                return Ok(None);
            };
            let checkpoint =
                Checkpoint::parse(text).ok_or_else(|| fail(format!("{name} {text:?} is no sequence number")))?;
            Ok(Some(ExtendedSequenceNumber { checkpoint, sub_sequence_number: read_number(sub_name)?.unwrap_or(0) }))
        };
        let checkpoint = read_checkpoint(CHECKPOINT, CHECKPOINT_SUB_SEQUENCE)?
            .ok_or_else(|| fail(format!("no {CHECKPOINT} string")))?;
        let hash_key = |name: &str| -> Result<Option<u128>, LeaseItemError> {
            get_string(item, name)
                .map(|text| text.parse::<u128>().map_err(|_| fail(format!("{name} {text:?} is no 128-bit number"))))
                .transpose()
        };
        let hash_key_range = match (hash_key(STARTING_HASH_KEY)?, hash_key(ENDING_HASH_KEY)?) {
            (Some(start), Some(end)) => Some((start, end)),
            _ => None,
        };
        Ok(Lease {
            lease_owner: get_string(item, LEASE_OWNER).map(str::to_owned),
            lease_counter: read_number(LEASE_COUNTER)?.unwrap_or(0),
            owner_switches_since_checkpoint: read_number(OWNER_SWITCHES)?.unwrap_or(0),
            checkpoint,
            pending_checkpoint: read_checkpoint(PENDING_CHECKPOINT, PENDING_CHECKPOINT_SUB_SEQUENCE)?,
            pending_checkpoint_state: item
                .get(PENDING_CHECKPOINT_STATE)
                .and_then(|v| v.get("B"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            parent_shard_ids: get_string_set(item, PARENT_SHARD_IDS),
            child_shard_ids: get_string_set(item, CHILD_SHARD_IDS),
            hash_key_range,
            lease_key,
        })
    }
}

/// A DynamoDB string attribute value.
pub(crate) fn string(text: &str) -> Value {
    json!({ "S": text })
}

/// A DynamoDB number attribute value.
pub(crate) fn number(n: u64) -> Value {
    json!({ "N": n.to_string() })
}

/// A DynamoDB string-set attribute value.
pub(crate) fn string_set(items: &[String]) -> Value {
    json!({ "SS": items })
}

fn get_string<'a>(item: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    item.get(name)?.get("S")?.as_str()
}

fn get_string_set(item: &Map<String, Value>, name: &str) -> Vec<String> {
    let mut set: Vec<String> = item
        .get(name)
        .and_then(|v| v.get("SS"))
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    set.sort();
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rheo_protocol::SequenceNumber;

    fn checkpoint_strategy() -> impl Strategy<Value = ExtendedSequenceNumber> {
        prop_oneof![
            Just(ExtendedSequenceNumber::sentinel(Checkpoint::TrimHorizon)),
            Just(ExtendedSequenceNumber::sentinel(Checkpoint::Latest)),
            Just(ExtendedSequenceNumber::sentinel(Checkpoint::AtTimestamp)),
            Just(ExtendedSequenceNumber::sentinel(Checkpoint::ShardEnd)),
            (any::<u128>(), any::<u64>())
                .prop_map(|(n, sub)| ExtendedSequenceNumber::at(SequenceNumber::from_u128(n), sub)),
        ]
    }

    fn shard_ids() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::btree_set("shardId-0000000[0-9]{5}", 0..3).prop_map(|s| s.into_iter().collect())
    }

    proptest! {
        #[test]
        fn leases_round_trip_through_items(
            key in "shardId-0000000[0-9]{5}",
            owner in proptest::option::of("[a-z0-9-]{1,36}"),
            counter in any::<u64>(),
            switches in any::<u64>(),
            checkpoint in checkpoint_strategy(),
            pending in proptest::option::of(checkpoint_strategy()),
            parents in shard_ids(),
            children in shard_ids(),
            range in proptest::option::of((any::<u128>(), any::<u128>())),
        ) {
            let lease = Lease {
                lease_key: key,
                lease_owner: owner,
                lease_counter: counter,
                owner_switches_since_checkpoint: switches,
                checkpoint,
                pending_checkpoint: pending,
                pending_checkpoint_state: None,
                parent_shard_ids: parents,
                child_shard_ids: children,
                hash_key_range: range,
            };
            prop_assert_eq!(Lease::from_item(&lease.to_item()), Ok(lease));
        }
    }

    #[test]
    fn items_carry_the_kcl_attribute_names_and_types() {
        let mut lease = Lease::new(
            "shardId-000000000002",
            ExtendedSequenceNumber::at(SequenceNumber::from_u128(495), 3),
            ["shardId-000000000001".to_owned(), "shardId-000000000000".to_owned()],
            Some((0, 170141183460469231731687303715884105727)),
        );
        lease.lease_owner = Some("worker-a".into());
        lease.lease_counter = 7;
        let item = Value::Object(lease.to_item());
        assert_eq!(
            item,
            json!({
                "leaseKey": {"S": "shardId-000000000002"},
                "leaseOwner": {"S": "worker-a"},
                "leaseCounter": {"N": "7"},
                "ownerSwitchesSinceCheckpoint": {"N": "0"},
                "checkpoint": {"S": "495"},
                "checkpointSubSequenceNumber": {"N": "3"},
                "parentShardId": {"SS": ["shardId-000000000000", "shardId-000000000001"]},
                "startingHashKey": {"S": "0"},
                "endingHashKey": {"S": "170141183460469231731687303715884105727"},
            })
        );
    }

    #[test]
    fn an_item_written_by_the_java_kcl_reads_with_sentinels_and_unknown_attributes() {
        let item = json!({
            "leaseKey": {"S": "shardId-000000000000"},
            "leaseCounter": {"N": "12"},
            "checkpoint": {"S": "SHARD_END"},
            "checkpointSubSequenceNumber": {"N": "0"},
            "ownerSwitchesSinceCheckpoint": {"N": "1"},
            "childShardIds": {"SS": ["shardId-000000000003"]},
            "throughputKBps": {"N": "0.5"},
        });
        let Value::Object(item) = item else { unreachable!() };
        let lease = Lease::from_item(&item).unwrap();
        assert!(lease.is_finished());
        assert_eq!(lease.lease_owner, None);
        assert_eq!(lease.child_shard_ids, ["shardId-000000000003"]);
        assert_eq!(lease.lease_counter, 12);

        let mut bad = item.clone();
        bad.insert("checkpoint".into(), json!({"S": "not-a-number"}));
        assert!(Lease::from_item(&bad).is_err());
        bad.remove("checkpoint");
        assert!(Lease::from_item(&bad).is_err());
    }
}
