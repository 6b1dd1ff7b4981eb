//! What a queue keeps on disk, in its own storage stream of the queue log
//! (`<data-dir>/queues`):
//!
//! - the stream's metadata settings hold the queue's definition under `queue`
//!   ([`QueueDef`]) and the latest snapshot of its delivery state under `snapshot`
//!   ([`Snapshot`]: the state and the last journal LSN it covers);
//! - the stream's one shard is the journal: each record is one [`JournalBatch`] of
//!   events, appended through the log's group commit before the operation that made them
//!   is answered.
//!
//! Both live inside the storage log's frames and metadata files, which carry their own
//! magic, version and checksums, and recovery keeps their valid prefix; the JSON here
//! carries a version of its own so a later format can be told apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::queues::model::{DeadLetterTarget, QueueAttributes, QueueStart};
use crate::queues::state::{DeadLetterRule, Event, StoredState};

/// The settings key of the definition.
pub(crate) const DEF_KEY: &str = "queue";
/// The settings key of the snapshot.
pub(crate) const SNAPSHOT_KEY: &str = "snapshot";
/// Version of the definition, snapshot and journal formats.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Where a queue started, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum StoredStart {
    TrimHorizon,
    Latest,
    AtTimestamp(u64),
}

impl From<QueueStart> for StoredStart {
    fn from(start: QueueStart) -> Self {
        match start {
            QueueStart::TrimHorizon => StoredStart::TrimHorizon,
            QueueStart::Latest => StoredStart::Latest,
            QueueStart::AtTimestamp(ms) => StoredStart::AtTimestamp(ms),
        }
    }
}

impl From<StoredStart> for QueueStart {
    fn from(start: StoredStart) -> Self {
        match start {
            StoredStart::TrimHorizon => QueueStart::TrimHorizon,
            StoredStart::Latest => QueueStart::Latest,
            StoredStart::AtTimestamp(ms) => QueueStart::AtTimestamp(ms),
        }
    }
}

/// A queue's definition: everything but the delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueueDef {
    pub version: u32,
    /// The name.
    pub name: String,
    /// The generated part of the ARN after `queue/`.
    pub resource_id: String,
    /// Creation time, epoch ms.
    pub created_ms: u64,
    /// The stream read.
    pub stream_name: String,
    /// The stream's creation time, epoch ms.
    pub stream_created_ms: u64,
    /// Where reading started.
    pub start: StoredStart,
    /// The effective start, epoch ms (see `QueueStreamInfo::start_timestamp_ms`).
    #[serde(default)]
    pub effective_start_ms: u64,
    /// Visibility timeout, seconds.
    pub visibility_timeout_secs: u32,
    /// Dead-letter handling on (BUILT_IN).
    pub dead_letter_built_in: bool,
    /// With BUILT_IN: the receive count that makes a dead-letter record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_receive_count: Option<u32>,
    /// UPDATING until this time, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updating_until_ms: Option<u64>,
    /// DELETING until this time, epoch ms; then the queue is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting_until_ms: Option<u64>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Resource policy document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl QueueDef {
    /// Whether the queue's deletion has finished at `now_ms` (gone, even before the
    /// reaper removes it).
    pub fn gone_at(&self, now_ms: u64) -> bool {
        self.deleting_until_ms.is_some_and(|until| now_ms >= until)
    }

    /// When CREATING ends, with the lifecycle delay `consumer_ms`.
    pub fn active_from_ms(&self, consumer_ms: u64) -> u64 {
        self.created_ms.saturating_add(consumer_ms)
    }

    /// The attributes in effect.
    pub fn attributes(&self) -> QueueAttributes {
        QueueAttributes {
            visibility_timeout_secs: self.visibility_timeout_secs,
            dead_letter_target: if self.dead_letter_built_in {
                DeadLetterTarget::BuiltIn
            } else {
                DeadLetterTarget::None
            },
            max_receive_count: self.max_receive_count.filter(|_| self.dead_letter_built_in),
        }
    }

    /// The rule deadlines apply.
    pub fn dead_letter_rule(&self) -> DeadLetterRule {
        DeadLetterRule { max_receive_count: self.attributes().max_receive_count }
    }

    /// Decodes the definition from a queue stream's settings.
    pub fn from_settings(settings: &Map<String, Value>) -> Option<Self> {
        let def: QueueDef = serde_json::from_value(settings.get(DEF_KEY)?.clone()).ok()?;
        (def.version == FORMAT_VERSION).then_some(def)
    }

    /// The definition as a settings value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A snapshot of the delivery state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub version: u32,
    /// Journal records up to this LSN are in the state.
    pub covered_lsn: u64,
    /// The state.
    pub state: StoredState,
}

impl Snapshot {
    /// Decodes the snapshot from a queue stream's settings; `None` when there is none
    /// (the journal from its start is the whole state).
    pub fn from_settings(settings: &Map<String, Value>) -> Option<Self> {
        let snapshot: Snapshot = serde_json::from_str(settings.get(SNAPSHOT_KEY)?.as_str()?).ok()?;
        (snapshot.version == FORMAT_VERSION).then_some(snapshot)
    }

    /// The snapshot as a settings value: JSON text in one string, not a tree of values,
    /// because the storage layer keeps every stream's settings in memory and a tree of
    /// up to [`crate::limits::QUEUE_TRACKED_MAX`] records would take several times the
    /// memory of its text.
    pub fn to_value(&self) -> Value {
        Value::String(serde_json::to_string(self).unwrap_or_default())
    }
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournalBatch {
    pub version: u32,
    pub events: Vec<Event>,
}

/// [`JournalBatch`] as it is written: borrowing the events, so journaling copies none.
#[derive(Serialize)]
struct JournalBatchRef<'a> {
    version: u32,
    events: &'a [Event],
}

impl JournalBatch {
    /// The record's bytes.
    pub fn encode(events: &[Event]) -> Vec<u8> {
        serde_json::to_vec(&JournalBatchRef { version: FORMAT_VERSION, events }).unwrap_or_default()
    }

    /// Decodes a journal record; `None` for a record of an unknown format.
    pub fn decode(bytes: &[u8]) -> Option<Vec<Event>> {
        let batch: JournalBatch = serde_json::from_slice(bytes).ok()?;
        (batch.version == FORMAT_VERSION).then_some(batch.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::state::{Fetched, QueueState, Side};

    #[test]
    fn snapshots_and_journal_records_round_trip_and_refuse_other_versions() {
        let mut state = QueueState::default();
        let fetched = Fetched { lsn: 9, shard_uid: 3, shard_index: 1, shard_created_secs: 5, arrival_ms: 7 };
        let events = vec![
            Event::Fetched { records: vec![fetched], checkpoint: Default::default() },
            Event::Received { lsns: vec![9], side: Side::Queue, now_ms: 10, deadline_ms: 20 },
        ];
        events.iter().for_each(|event| state.apply(event));
        let snapshot = Snapshot { version: FORMAT_VERSION, covered_lsn: 42, state: state.to_stored() };
        let mut settings = Map::new();
        settings.insert(SNAPSHOT_KEY.into(), snapshot.to_value());
        assert_eq!(Snapshot::from_settings(&settings), Some(snapshot.clone()));
        settings.insert(SNAPSHOT_KEY.into(), Snapshot { version: 2, ..snapshot }.to_value());
        assert_eq!(Snapshot::from_settings(&settings), None);

        let bytes = JournalBatch::encode(&events);
        assert_eq!(JournalBatch::decode(&bytes), Some(events));
        assert_eq!(JournalBatch::decode(b"{\"version\":2,\"events\":[]}"), None);
        assert_eq!(JournalBatch::decode(b"\x00garbage"), None);
    }
}
