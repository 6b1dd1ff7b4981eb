//! What Firehose keeps durably per delivery stream, inside the stream's storage
//! metadata (`StreamProps::settings["firehose"]`), so a configuration change and a
//! delivery checkpoint are each one atomic metadata replacement.

use std::collections::BTreeMap;

use rheo_engine::ShardCheckpoint;
use rheo_storage::{MetaTxn, StorageError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::DestinationKind;

/// Key of Firehose's state in the storage stream's settings.
pub const STATE_KEY: &str = "firehose";

/// A Kinesis data stream feeding a delivery stream.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KinesisSource {
    pub stream_arn: String,
    pub role_arn: String,
    /// When reading started (the stream's LATEST at creation), epoch ms.
    pub start_ms: u64,
}

/// Server-side encryption settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Encryption {
    pub key_type: String,
    pub key_arn: Option<String>,
    /// Enabled (or being enabled) rather than disabled.
    pub enabled: bool,
    /// When the last Start or Stop happened, epoch ms; the status is ENABLING or
    /// DISABLING until the transition delay has passed.
    pub changed_ms: u64,
}

/// One delivery stream's durable state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StreamState {
    pub stream_type: String,
    pub created_ms: u64,
    pub updated_ms: Option<u64>,
    pub version: u64,
    pub kind: DestinationKind,
    /// The destination configuration with AWS's defaults filled in.
    pub destination: Value,
    /// The caller gave no `BufferingHints`: `destination` holds AWS's defaults, and the
    /// delivery task waits the server's default interval
    /// (`--firehose-default-buffer-interval-ms`) instead of the 300 s it shows.
    /// Written only when set, so states stored before it existed read back unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default_buffering_hints: bool,
    pub source: Option<KinesisSource>,
    pub encryption: Option<Encryption>,
    /// Every record with a smaller LSN has been delivered.
    pub delivered_lsn: u64,
    /// Kinesis source progress by shard index: the source reader's checkpoint, whose
    /// serialised form is this map (and has been since before the reader existed).
    #[serde(default)]
    pub source_positions: BTreeMap<u32, ShardCheckpoint>,
}

impl StreamState {
    /// Reads the state out of stored settings.
    pub fn from_settings(settings: &serde_json::Map<String, Value>) -> Option<StreamState> {
        load(settings, STATE_KEY)
    }

    /// Writes the state into settings.
    pub fn store(&self, settings: &mut serde_json::Map<String, Value>) -> Result<(), StorageError> {
        save(self, settings, STATE_KEY)
    }
}

/// Edits the state inside a metadata transaction, starting from what is committed, so
/// concurrent editors (control plane, delivery checkpoints, source progress) never
/// undo each other.
pub fn edit(txn: &mut MetaTxn<'_>, change: impl FnOnce(&mut StreamState)) -> Result<(), StorageError> {
    edit_at(txn, STATE_KEY, change)
}

/// A value this crate keeps under `key` of a storage stream's settings.
pub(crate) fn load<T: DeserializeOwned>(settings: &serde_json::Map<String, Value>, key: &str) -> Option<T> {
    serde_json::from_value(settings.get(key)?.clone()).ok()
}

/// Writes `value` under `key` of settings.
pub(crate) fn save<T: Serialize>(
    value: &T,
    settings: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<(), StorageError> {
    let value = serde_json::to_value(value).map_err(|e| StorageError::Rejected(format!("{key} state: {e}")))?;
    settings.insert(key.into(), value);
    Ok(())
}

/// Changes the value under `key` inside a metadata transaction, starting from what is
/// committed.
pub(crate) fn edit_at<T: Serialize + DeserializeOwned>(
    txn: &mut MetaTxn<'_>,
    key: &str,
    change: impl FnOnce(&mut T),
) -> Result<(), StorageError> {
    let mut value: T = load(&txn.meta().props.settings, key)
        .ok_or_else(|| StorageError::Rejected(format!("storage stream without {key} state")))?;
    change(&mut value);
    save(&value, &mut txn.props_mut().settings, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_positions_stored_before_the_stream_reader_still_load() {
        // A Kinesis-sourced stream's state as earlier versions wrote it.
        let stored = serde_json::json!({
            "stream_type": "KinesisStreamAsSource",
            "created_ms": 1_700_000_000_000u64,
            "updated_ms": null,
            "version": 1,
            "kind": "ExtendedS3",
            "destination": {},
            "source": {"stream_arn": "arn:aws:kinesis:us-east-1:000000000000:stream/src", "role_arn": "r", "start_ms": 1},
            "encryption": null,
            "delivered_lsn": 0,
            "source_positions": {
                "0": {"shard_uid": 12, "next_lsn": 40, "done": true},
                "2": {"shard_uid": 51, "next_lsn": 0, "done": false}
            }
        });
        let settings = serde_json::Map::from_iter([(STATE_KEY.to_owned(), stored.clone())]);
        let state = StreamState::from_settings(&settings).unwrap();
        assert_eq!(state.source_positions[&0], ShardCheckpoint { shard_uid: 12, next_lsn: 40, done: true });
        assert_eq!(state.source_positions[&2], ShardCheckpoint { shard_uid: 51, next_lsn: 0, done: false });
        let mut written = serde_json::Map::new();
        state.store(&mut written).unwrap();
        assert_eq!(written[STATE_KEY], stored, "written back in the same shape");
    }
}
