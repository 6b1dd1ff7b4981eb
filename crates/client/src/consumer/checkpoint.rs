//! Checkpoint values as the KCL stores them: a sequence number or one of its sentinels
//! (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END`) in `checkpoint`, and the
//! sub-sequence number of a KPL user record in `checkpointSubSequenceNumber`.

use std::cmp::Ordering;
use std::fmt;

use rheo_protocol::SequenceNumber;

/// Where a shard's processing stands: a record's sequence number, or a sentinel.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Checkpoint {
    /// Nothing processed yet; start at the oldest record.
    TrimHorizon,
    /// Nothing processed yet; start at the newest.
    Latest,
    /// Nothing processed yet; start at the worker's initial timestamp.
    AtTimestamp,
    /// The shard was read to its end and its children may start.
    ShardEnd,
    /// Every record up to this one was processed.
    Sequence(SequenceNumber),
}

/// The text the KCL writes for each sentinel.
const TRIM_HORIZON: &str = "TRIM_HORIZON";
const LATEST: &str = "LATEST";
const AT_TIMESTAMP: &str = "AT_TIMESTAMP";
const SHARD_END: &str = "SHARD_END";

impl Checkpoint {
    /// Parses the lease table's `checkpoint` value.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            TRIM_HORIZON => Checkpoint::TrimHorizon,
            LATEST => Checkpoint::Latest,
            AT_TIMESTAMP => Checkpoint::AtTimestamp,
            SHARD_END => Checkpoint::ShardEnd,
            other => Checkpoint::Sequence(SequenceNumber::parse(other).ok()?),
        })
    }

    /// The lease table's `checkpoint` value.
    pub fn as_str(&self) -> &str {
        match self {
            Checkpoint::TrimHorizon => TRIM_HORIZON,
            Checkpoint::Latest => LATEST,
            Checkpoint::AtTimestamp => AT_TIMESTAMP,
            Checkpoint::ShardEnd => SHARD_END,
            Checkpoint::Sequence(sequence) => sequence.as_str(),
        }
    }

    /// True for the three "nothing processed yet" sentinels.
    pub fn is_initial(&self) -> bool {
        matches!(self, Checkpoint::TrimHorizon | Checkpoint::Latest | Checkpoint::AtTimestamp)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checkpoint with the sub-sequence number of the last processed user record of a KPL
/// aggregate (0 for a record that is not an aggregate): the KCL's `ExtendedSequenceNumber`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtendedSequenceNumber {
    /// The sequence number or sentinel.
    pub checkpoint: Checkpoint,
    /// The user record's index within its aggregate.
    pub sub_sequence_number: u64,
}

impl ExtendedSequenceNumber {
    /// A sentinel (sub-sequence number 0).
    pub fn sentinel(checkpoint: Checkpoint) -> Self {
        ExtendedSequenceNumber { checkpoint, sub_sequence_number: 0 }
    }

    /// A record's position.
    pub fn at(sequence_number: SequenceNumber, sub_sequence_number: u64) -> Self {
        ExtendedSequenceNumber { checkpoint: Checkpoint::Sequence(sequence_number), sub_sequence_number }
    }

    /// The sequence number, when this is not a sentinel.
    pub fn sequence_number(&self) -> Option<&SequenceNumber> {
        match &self.checkpoint {
            Checkpoint::Sequence(sequence) => Some(sequence),
            _ => None,
        }
    }

    /// Orders two record positions (sequence numbers compared as numbers, then
    /// sub-sequence numbers); `None` when either is a sentinel.
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        let (Some(a), Some(b)) = (self.sequence_number(), other.sequence_number()) else {
            return None;
        };
        Some(compare_sequence_numbers(a, b).then(self.sub_sequence_number.cmp(&other.sub_sequence_number)))
    }
}

impl fmt::Display for ExtendedSequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.checkpoint, self.sub_sequence_number)
    }
}

/// Compares canonical decimal sequence numbers as numbers (no leading zeros, so the longer
/// is the greater, and equal lengths compare as text).
pub fn compare_sequence_numbers(a: &SequenceNumber, b: &SequenceNumber) -> Ordering {
    let (a, b) = (a.as_str(), b.as_str());
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sentinels_are_written_as_the_kcl_writes_them() {
        for (checkpoint, text) in [
            (Checkpoint::TrimHorizon, "TRIM_HORIZON"),
            (Checkpoint::Latest, "LATEST"),
            (Checkpoint::AtTimestamp, "AT_TIMESTAMP"),
            (Checkpoint::ShardEnd, "SHARD_END"),
        ] {
            assert_eq!(checkpoint.as_str(), text);
            assert_eq!(Checkpoint::parse(text), Some(checkpoint));
        }
        assert_eq!(Checkpoint::parse("0042"), None, "not a canonical sequence number");
        assert_eq!(Checkpoint::parse("shard_end"), None);
    }

    #[test]
    fn positions_order_by_sequence_number_then_sub_sequence_number() {
        let at = |n: u128, sub| ExtendedSequenceNumber::at(SequenceNumber::from_u128(n), sub);
        assert_eq!(at(9, 5).compare(&at(10, 0)), Some(Ordering::Less), "numbers, not text");
        assert_eq!(at(10, 1).compare(&at(10, 0)), Some(Ordering::Greater));
        assert_eq!(at(10, 0).compare(&at(10, 0)), Some(Ordering::Equal));
        assert_eq!(at(10, 0).compare(&ExtendedSequenceNumber::sentinel(Checkpoint::ShardEnd)), None);
    }

    proptest! {
        #[test]
        fn sequence_checkpoints_round_trip_and_compare_like_numbers(a in any::<u128>(), b in any::<u128>()) {
            let (sa, sb) = (SequenceNumber::from_u128(a), SequenceNumber::from_u128(b));
            prop_assert_eq!(Checkpoint::parse(sa.as_str()), Some(Checkpoint::Sequence(sa.clone())));
            prop_assert_eq!(compare_sequence_numbers(&sa, &sb), a.cmp(&b));
        }
    }
}
