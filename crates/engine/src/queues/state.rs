//! One queue's delivery state, as a pure state machine: which stream records the queue
//! knows, which are visible, in flight (until when, under which receive generation) or
//! dead-letter records, and how far the queue has read its stream.
//!
//! Every change is an [`Event`]; the live queue and the replay after a restart apply the
//! same events with [`QueueState::apply`], so what is acknowledged to a client and what
//! a restart rebuilds cannot differ. The passage of time is not an event: a deadline that
//! passed is noticed by [`QueueState::expire`], which both the live queue and a replayed
//! one call before every decision.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::checkpoint::ReaderCheckpoint;

/// Where a tracked record is in the stream, and how its deliveries went.
///
/// Stored in snapshots: field names are a stored format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// The stream shard's storage uid (to read the record back).
    pub shard_uid: u64,
    /// The shard's index (for the record id).
    pub shard_index: u32,
    /// The shard's creation time, epoch seconds (for the record id).
    pub shard_created_secs: u64,
    /// When the stream accepted the record, epoch ms.
    pub arrival_ms: u64,
    /// Receives since it was fetched or last restored.
    #[serde(default)]
    pub receive_count: u32,
    /// The first receive, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_receive_ms: Option<u64>,
    /// Bumped by every receive and restore; a receipt handle names the generation it was
    /// issued for, so handles of earlier deliveries no longer work.
    #[serde(default)]
    pub generation: u32,
    /// In flight until this time, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// A dead-letter record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dead: bool,
}

/// Which set of operations a record or receipt handle belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Side {
    /// ReceiveQueueRecords and its acknowledge and visibility calls.
    Queue,
    /// The dead-letter calls.
    DeadLetter,
}

impl Side {
    fn is_dead(self) -> bool {
        self == Side::DeadLetter
    }
}

/// A record the queue read from its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fetched {
    /// Its LSN, the queue's key for it.
    pub lsn: u64,
    /// See [`Entry::shard_uid`].
    pub shard_uid: u64,
    /// See [`Entry::shard_index`].
    pub shard_index: u32,
    /// See [`Entry::shard_created_secs`].
    pub shard_created_secs: u64,
    /// See [`Entry::arrival_ms`].
    pub arrival_ms: u64,
}

/// One change of a queue's state. Journaled: variant and field names are a stored format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Event {
    /// Records read from the stream, and the reader's position after them.
    Fetched { records: Vec<Fetched>, checkpoint: ReaderCheckpoint },
    /// Records received on `side` at `now_ms`, in flight until `deadline_ms`.
    Received { lsns: Vec<u64>, side: Side, now_ms: u64, deadline_ms: u64 },
    /// Records acknowledged: the queue forgets them.
    Acknowledged { lsns: Vec<u64> },
    /// A record's visibility deadline changed.
    Visibility { lsn: u64, deadline_ms: u64 },
    /// Dead-letter records back on the queue side, receive count reset.
    Restored { lsns: Vec<u64> },
    /// Records the stream no longer has (past its retention): the queue forgets them.
    Dropped { lsns: Vec<u64> },
}

/// What a dead-letter rule needs to know when a deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeadLetterRule {
    /// `None`: dead-letter handling is off (TargetType NONE).
    pub max_receive_count: Option<u32>,
}

/// The whole state; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueState {
    /// Where reading the stream goes on: every record before it is tracked or was
    /// acknowledged.
    checkpoint: ReaderCheckpoint,
    entries: BTreeMap<u64, Entry>,
    /// Visible records of each side, by LSN (oldest first).
    visible: BTreeSet<u64>,
    visible_dead: BTreeSet<u64>,
    /// In-flight records of both sides by (deadline, LSN).
    deadlines: BTreeSet<(u64, u64)>,
    /// In-flight records of the queue side.
    in_flight: usize,
}

/// The stored form of a state (a snapshot): the checkpoint and the entries; the indexes
/// are rebuilt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredState {
    /// See [`QueueState::checkpoint`].
    pub checkpoint: ReaderCheckpoint,
    /// Tracked records by LSN.
    pub entries: BTreeMap<u64, Entry>,
}

impl QueueState {
    /// A queue that starts reading at `checkpoint`.
    pub fn new(checkpoint: ReaderCheckpoint) -> Self {
        QueueState { checkpoint, ..Default::default() }
    }

    /// Rebuilds a state from a snapshot.
    pub fn from_stored(stored: StoredState) -> Self {
        let mut state = QueueState::new(stored.checkpoint);
        for (lsn, entry) in stored.entries {
            state.insert(lsn, entry);
        }
        state
    }

    /// The snapshot form.
    pub fn to_stored(&self) -> StoredState {
        StoredState { checkpoint: self.checkpoint.clone(), entries: self.entries.clone() }
    }

    /// Where reading the stream goes on.
    pub fn checkpoint(&self) -> &ReaderCheckpoint {
        &self.checkpoint
    }

    /// Records tracked (visible, in flight or dead-letter, both sides).
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    /// Queue-side records in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Visible records of a side.
    pub fn visible_count(&self, side: Side) -> usize {
        self.visible_set(side).len()
    }

    /// A tracked record.
    pub fn entry(&self, lsn: u64) -> Option<&Entry> {
        self.entries.get(&lsn)
    }

    /// The earliest in-flight deadline, for a waiting receive.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// Tracked records, oldest first, that arrived in the stream before `arrival_ms`: the
    /// stream no longer retains them. Stops at the first younger one (arrival times
    /// follow LSNs closely; a straggler is forgotten when a receive finds it gone).
    pub fn arrived_before(&self, arrival_ms: u64) -> Vec<u64> {
        self.entries.iter().take_while(|(_, entry)| entry.arrival_ms < arrival_ms).map(|(lsn, _)| *lsn).collect()
    }

    /// Up to `limit` visible records of `side`, oldest first.
    pub fn visible(&self, side: Side, limit: usize) -> Vec<u64> {
        self.visible_set(side).iter().take(limit).copied().collect()
    }

    fn visible_set(&self, side: Side) -> &BTreeSet<u64> {
        match side {
            Side::Queue => &self.visible,
            Side::DeadLetter => &self.visible_dead,
        }
    }

    /// Makes every record whose deadline is at or before `now_ms` visible again; a
    /// queue-side record received `max_receive_count` times becomes a dead-letter record.
    /// Returns whether anything became visible.
    pub fn expire(&mut self, now_ms: u64, rule: DeadLetterRule) -> bool {
        let mut any = false;
        while let Some(&(deadline, lsn)) = self.deadlines.first() {
            if deadline > now_ms {
                break;
            }
            let Some(mut entry) = self.remove(lsn) else {
                self.deadlines.pop_first();
                continue;
            };
            entry.deadline_ms = None;
            if !entry.dead && rule.max_receive_count.is_some_and(|max| entry.receive_count >= max) {
                entry.dead = true;
            }
            self.insert(lsn, entry);
            any = true;
        }
        any
    }

    /// Applies one event. Events name records the state may no longer track (a replayed
    /// acknowledgement of a record a snapshot already dropped); those parts do nothing.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Fetched { records, checkpoint } => {
                for record in records {
                    if self.entries.contains_key(&record.lsn) {
                        continue;
                    }
                    let entry = Entry {
                        shard_uid: record.shard_uid,
                        shard_index: record.shard_index,
                        shard_created_secs: record.shard_created_secs,
                        arrival_ms: record.arrival_ms,
                        receive_count: 0,
                        first_receive_ms: None,
                        generation: 0,
                        deadline_ms: None,
                        dead: false,
                    };
                    self.insert(record.lsn, entry);
                }
                self.checkpoint = checkpoint.clone();
            }
            Event::Received { lsns, side, now_ms, deadline_ms } => {
                for &lsn in lsns {
                    self.change(lsn, |entry| {
                        entry.receive_count = entry.receive_count.saturating_add(1);
                        entry.first_receive_ms.get_or_insert(*now_ms);
                        entry.generation = entry.generation.wrapping_add(1);
                        entry.deadline_ms = Some(*deadline_ms);
                        entry.dead = side.is_dead();
                    });
                }
            }
            Event::Acknowledged { lsns } | Event::Dropped { lsns } => {
                for &lsn in lsns {
                    self.remove(lsn);
                }
            }
            Event::Visibility { lsn, deadline_ms } => {
                self.change(*lsn, |entry| entry.deadline_ms = Some(*deadline_ms));
            }
            Event::Restored { lsns } => {
                for &lsn in lsns {
                    self.change(lsn, |entry| {
                        entry.dead = false;
                        entry.receive_count = 0;
                        entry.deadline_ms = None;
                        entry.generation = entry.generation.wrapping_add(1);
                    });
                }
            }
        }
    }

    fn change(&mut self, lsn: u64, edit: impl FnOnce(&mut Entry)) {
        if let Some(mut entry) = self.remove(lsn) {
            edit(&mut entry);
            self.insert(lsn, entry);
        }
    }

    /// Takes a record out of the indexes.
    fn remove(&mut self, lsn: u64) -> Option<Entry> {
        let entry = self.entries.remove(&lsn)?;
        match entry.deadline_ms {
            Some(deadline) => {
                self.deadlines.remove(&(deadline, lsn));
                if !entry.dead {
                    self.in_flight -= 1;
                }
            }
            None if entry.dead => {
                self.visible_dead.remove(&lsn);
            }
            None => {
                self.visible.remove(&lsn);
            }
        }
        Some(entry)
    }

    fn insert(&mut self, lsn: u64, entry: Entry) {
        match entry.deadline_ms {
            Some(deadline) => {
                self.deadlines.insert((deadline, lsn));
                if !entry.dead {
                    self.in_flight += 1;
                }
            }
            None if entry.dead => {
                self.visible_dead.insert(lsn);
            }
            None => {
                self.visible.insert(lsn);
            }
        }
        self.entries.insert(lsn, entry);
    }
}

#[cfg(test)]
mod tests;
