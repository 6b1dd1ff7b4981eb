//! The messages of the writer's queue: what [`super::ShardLog`] asks of the writer
//! thread, and the one-shot channels the answers come back on.
//!
//! The queue is bounded ([`crate::limits::APPEND_QUEUE_MAX`]): callers wait for a free
//! slot beyond it, which is the engine's back-pressure.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::streams::MetaTxn;
use super::types::{AppendRecord, Appended, NewStream};
use crate::error::Result;
use crate::meta::StreamMeta;

/// Where the writer sends one command's answer.
pub(super) type Reply<T> = oneshot::Sender<Result<T>>;

/// A caller's edit of a stream's metadata, run on the writer thread.
pub(super) type UpdateFn = Box<dyn FnOnce(&mut MetaTxn<'_>) -> Result<()> + Send>;

/// One request to the writer.
pub(super) enum Command {
    /// Appends records; batched with the other appends waiting into one group commit.
    Append { records: Vec<AppendRecord>, reply: Reply<Vec<Result<Appended>>> },
    /// Anything else, run alone in queue order.
    Control(Control),
}

/// A request that is not an append. Each runs after every append queued before it.
pub(super) enum Control {
    CreateStream { spec: NewStream, reply: Reply<Arc<StreamMeta>> },
    UpdateStream { stream_id: u64, update: UpdateFn, reply: Reply<Arc<StreamMeta>> },
    DeleteStream { stream_id: u64, reply: Reply<()> },
    EnforceRetention { reply: Reply<usize> },
    Sync { reply: Reply<()> },
}
