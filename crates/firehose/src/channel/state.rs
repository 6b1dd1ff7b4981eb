//! What a channel keeps durably: its configuration, resource policy, failure and the
//! source reader's position, inside the metadata settings of a storage stream of the
//! channels' own log (`<data-dir>/channels`). Its tags are the storage stream's tags.
//! Every change, the reader position included, is one atomic metadata replacement.

use rheo_engine::ReaderCheckpoint;
use rheo_storage::{MetaTxn, StorageError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{DeadLetter, Encryption, Logging, Storage, StreamConfig};

/// Key of a channel's state in its storage stream's settings.
pub const STATE_KEY: &str = "channel";

/// One channel's durable state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelState {
    pub id: String,
    pub created_ms: u64,
    /// The last UpdateChannel; the channel is UPDATING for a while after it.
    pub updated_ms: Option<u64>,
    pub role_arn: String,
    pub stream: StreamConfig,
    /// The source stream's name and creation time: a stream created again under the
    /// same name is another stream, which the channel does not read.
    pub stream_name: String,
    pub stream_created_ms: u64,
    pub freshness_secs: u32,
    pub storage: Storage,
    /// As given; `None` means the destination bucket under the default error prefix.
    pub dead_letter: Option<DeadLetter>,
    pub encryption: Option<Encryption>,
    pub logging: Option<Logging>,
    pub policy: Option<String>,
    /// Why delivery stopped for good (the channel is FAILED).
    pub failure: Option<String>,
    /// Every record before these positions is delivered (or dead-lettered).
    pub positions: ReaderCheckpoint,
}

impl ChannelState {
    /// Reads the state out of stored settings.
    pub fn from_settings(settings: &serde_json::Map<String, Value>) -> Option<ChannelState> {
        crate::state::load(settings, STATE_KEY)
    }

    /// Writes the state into settings.
    pub fn store(&self, settings: &mut serde_json::Map<String, Value>) -> Result<(), StorageError> {
        crate::state::save(self, settings, STATE_KEY)
    }
}

/// Edits the committed state inside a metadata transaction, so the control plane and
/// the delivery task never undo each other's changes.
pub fn edit(txn: &mut MetaTxn<'_>, change: impl FnOnce(&mut ChannelState)) -> Result<(), StorageError> {
    crate::state::edit_at(txn, STATE_KEY, change)
}
