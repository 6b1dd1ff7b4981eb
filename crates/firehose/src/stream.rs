//! The state a delivery stream's tasks share with the service: the service's
//! configuration and log ([`Shared`]), one live stream ([`Entry`]) and the configuration
//! its delivery task runs from ([`Active`]).
//!
//! A leaf below [`crate::service`], [`crate::deliver`] and [`crate::source`]: the service
//! creates these values and the tasks read them, so the tasks never import the service
//! that spawns them.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use rheo_engine::Engine;
use std::path::Path;

use rheo_storage::{AppendRecord, Clock, FileSystem, LogConfig, ShardLog, StorageError};
use tokio::sync::watch;

use crate::config::Runtime;
use crate::dest::http::HttpClient;
use crate::dest::s3::{ObjectStoreConfig, ObjectStores};
use crate::error::{FirehoseError, Result};
use crate::metrics::StreamStats;
use crate::state::StreamState;

/// How the service behaves; every field has a flag in the binary.
#[derive(Debug, Clone)]
pub struct FirehoseConfig {
    pub region: String,
    pub account_id: String,
    /// How long a new delivery stream stays CREATING.
    pub create_ms: u64,
    /// How long a deleted delivery stream stays DELETING.
    pub delete_ms: u64,
    /// How long encryption stays ENABLING or DISABLING.
    pub encryption_ms: u64,
    /// Delivery streams per account.
    pub stream_limit: u32,
    /// Accept `http://` HTTP endpoint URLs (AWS requires https).
    pub allow_http_endpoints: bool,
    /// Where buckets live.
    pub object_stores: ObjectStoreConfig,
    /// Deflate level of GZIP objects (AWS does not expose one; zlib's default is 6).
    pub gzip_level: u32,
    /// How to start the worker processes that evaluate `MetadataExtractionQuery` (see
    /// [`crate::jq`]); the `rheo` binary runs itself with its hidden `jq-worker` subcommand.
    pub jq_worker: crate::jq::JqWorkerCommand,
    /// How long a buffer waits, in milliseconds, when its delivery stream was given no
    /// `BufferingHints` (AWS's default is 300 s, which DescribeDeliveryStream still shows).
    pub default_buffer_interval_ms: u64,
}

/// A configuration the delivery task runs from, replaced on UpdateDestination.
pub struct Active {
    pub version: u64,
    pub runtime: Runtime,
}

/// A live delivery stream.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) stream_id: u64,
    pub(crate) shard_uid: u64,
    /// The committed state, except delivery checkpoints and source positions, which
    /// only their tasks track.
    pub(crate) state: RwLock<StreamState>,
    pub(crate) active: watch::Sender<Arc<Active>>,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) stats: Arc<StreamStats>,
    /// Why the Kinesis source cannot be read right now (its role is denied), for
    /// DescribeDeliveryStream's `FailureDescription`; `None` while reading works.
    pub(crate) source_failure: RwLock<Option<String>>,
}

/// What the service and its tasks share.
pub(crate) struct Shared {
    pub(crate) log: ShardLog,
    pub(crate) kinesis: Arc<Engine>,
    pub(crate) config: FirehoseConfig,
    pub(crate) stores: ObjectStores,
    /// Made on first use: building a TLS client costs milliseconds of start-up and
    /// megabytes of idle memory that servers without HTTP endpoints should not pay.
    pub(crate) http: std::sync::OnceLock<Option<HttpClient>>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Shared {
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The HTTP client, or `None` (logged) if it cannot be built.
    pub(crate) fn http(&self) -> Option<&HttpClient> {
        self.http
            .get_or_init(|| {
                HttpClient::new()
                    .map(|client| client.with_clock(self.clock.clone()))
                    .map_err(|error| tracing::error!(message = "HTTP client could not be built.", %error))
                    .ok()
            })
            .as_ref()
    }
}

/// Appends to a stream's own shard; used by PutRecord(Batch) and by Kinesis sources.
pub(crate) async fn append(shared: &Shared, entry: &Entry, data: Vec<Bytes>) -> Result<Vec<Result<u64>>> {
    let records = data
        .into_iter()
        .map(|data| AppendRecord {
            shard_uid: entry.shard_uid,
            partition_key: Bytes::new(),
            explicit_hash_key: None,
            data,
        })
        .collect();
    let appended = shared.log.append(records).await?;
    Ok(appended.into_iter().map(|r| r.map(|a| a.lsn).map_err(FirehoseError::from)).collect())
}

/// Opens (recovering) a log of this crate's own in the folder `folder` of `data_dir`,
/// creating the folder first: Firehose's delivery streams and the channels each keep one.
pub(crate) fn open_log(
    fs: Arc<dyn FileSystem>,
    clock: Arc<dyn Clock>,
    data_dir: &Path,
    folder: &str,
    config: LogConfig,
) -> std::result::Result<ShardLog, StorageError> {
    let dir = data_dir.join(folder);
    fs.create_dir_all(&dir).map_err(|source| StorageError::Io {
        operation: "create the log folder",
        path: dir.clone(),
        source,
    })?;
    ShardLog::open(fs, clock, &dir, config)
}
