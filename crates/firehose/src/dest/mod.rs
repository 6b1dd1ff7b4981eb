//! Destinations: object storage, HTTP endpoints and PostgreSQL.
//!
//! Each destination implements `Sink`: what one processed group of records becomes for
//! it (`Sink::encode`: an object under a key, HTTP requests' records, a staged object to
//! `COPY`) and how one such payload gets there (`Sink::deliver`, retrying by
//! [`retry::RetryPolicy`]). The delivery task (`crate::deliver`) drives every destination
//! the same way: buffer, process, encode, deliver, then the error output and the source
//! record backup ([`backup`]), which always go to S3.
//!
//! Nothing here knows the service or the delivery task: what a destination needs from
//! them comes in a `DeliveryContext`.

pub mod backup;
pub mod http;
pub mod redshift;
pub mod retry;
pub mod s3;

use std::collections::BTreeMap;
use std::future::Future;

use bytes::Bytes;
use rheo_storage::{Clock, StoredRecord};

use crate::metrics::StreamStats;
use retry::StopSignal;

pub use http::{HttpClient, HttpDelivery, HttpEndpoint};
pub use redshift::{copy_object, parse_jdbc_url, CopyTarget};
pub use s3::{ObjectStoreConfig, ObjectStores, S3Sink};

/// What a destination needs to know about the stream whose buffer it delivers.
pub(crate) struct DeliveryContext<'a> {
    pub(crate) stream_name: &'a str,
    pub(crate) stream_id: u64,
    /// The configuration version, part of every object name.
    pub(crate) version: u64,
    pub(crate) stats: &'a StreamStats,
    pub(crate) stores: &'a ObjectStores,
    /// Every "now" of delivery (object names, error documents, latencies, retry budgets).
    pub(crate) clock: &'a dyn Clock,
    /// Deflate level of GZIP objects.
    pub(crate) gzip_level: u32,
}

/// A record that failed processing or delivery, written as one line of an error object.
pub(crate) struct FailedRecord {
    pub(crate) record: StoredRecord,
    pub(crate) error_code: String,
    pub(crate) error_message: String,
    pub(crate) attempts: u32,
}

/// One processor output and the source record it came from.
pub(crate) struct ProcessedRecord {
    pub(crate) source: StoredRecord,
    pub(crate) data: Bytes,
}

/// Processed records that share partition keys (all of a buffer's records without
/// dynamic partitioning), in source order.
pub(crate) struct ProcessedGroup {
    pub(crate) partition_keys: BTreeMap<String, String>,
    pub(crate) records: Vec<ProcessedRecord>,
}

impl ProcessedGroup {
    /// Arrival of the oldest record: the instant the prefix's `timestamp` expressions
    /// evaluate.
    pub(crate) fn first_arrival_ms(&self) -> u64 {
        self.records.first().map_or(0, |r| r.source.arrival_ms)
    }
}

/// How processing groups a buffer's records for a destination.
pub(crate) enum Layout<'a> {
    /// One object per set of partition keys; a record whose keys cannot make a key under
    /// this sink's prefix fails processing (it goes to the error output).
    Objects(&'a S3Sink),
    /// Records one by one, in order (HTTP requests carry records, not objects).
    Records,
}

/// How the delivery of one payload ended.
pub(crate) enum Outcome {
    /// At the destination.
    Delivered { records: u64, bytes: u64, arrivals: Vec<u64> },
    /// The destination gave up on these records; they go to the error output under
    /// `output_type`.
    Failed { output_type: &'static str, failures: Vec<FailedRecord> },
    /// Given up without an error document (as AWS does for HTTP 413 and for Redshift,
    /// which writes a manifest instead); counted as failed.
    Discarded { records: u64 },
    /// The stream stopped, or delivery cannot go on (logged): the buffer stays in the log
    /// for the next start.
    Stopped,
}

/// A destination, as the delivery task drives it.
pub(crate) trait Sink {
    /// One unit of delivery: an object, one HTTP request's records, a staged object.
    type Payload: Send;

    /// How processing should group records for this destination.
    fn layout(&self) -> Layout<'_>;

    /// What one processed group becomes for this destination. `None` only when that is
    /// impossible through a bug (logged): delivery of the stream then stops rather than
    /// losing the records.
    fn encode(
        &self,
        context: &DeliveryContext<'_>,
        group: ProcessedGroup,
    ) -> impl Future<Output = Option<Vec<Self::Payload>>> + Send;

    /// Delivers one payload, retrying by the destination's policy, every attempt and
    /// wait raced against `stop`.
    fn deliver(
        &self,
        context: &DeliveryContext<'_>,
        payload: Self::Payload,
        stop: &mut StopSignal,
    ) -> impl Future<Output = Outcome> + Send;

    /// Where records that failed processing or delivery are written.
    fn error_output(&self) -> &S3Sink;

    /// Where the source records are copied unprocessed, if anywhere.
    fn source_backup(&self) -> Option<&S3Sink>;
}

/// Runs CPU work off the runtime's workers (they serve the API); `None` (logged) only if
/// the work panicked, a bug: the caller then stops delivering the stream.
pub(crate) async fn on_blocking_pool<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(
            |error| tracing::error!(message = "Delivery work failed; delivery of this stream stops.", what, %error),
        )
        .ok()
}

/// Why a delivery to a destination failed.
#[derive(Debug, thiserror::Error)]
pub enum DestError {
    /// The destination's configuration cannot work (bad bucket name, JDBC URL, ...).
    #[error("invalid destination configuration: {0}")]
    Config(String),
    /// Object storage refused or failed the request.
    #[error("object storage: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
    /// The Redshift `CopyOptions` ask for something this loader does not do.
    #[error("unsupported COPY options: {0}")]
    CopyOptions(String),
    /// The object to load does not parse in the format the `CopyOptions` name.
    #[error("cannot read the object to load: {0}")]
    Data(String),
    /// The database refused the connection or a statement.
    #[error("database: {0}")]
    Database(String),
}

impl From<tokio_postgres::Error> for DestError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The plain Display of a server error is only "db error"; the server's message,
        // detail and SQLSTATE are what an operator needs to fix the table or the options.
        match e.as_db_error() {
            Some(db) => {
                let mut text = format!("{}: {}", db.code().code(), db.message());
                if let Some(detail) = db.detail() {
                    text.push_str(" (");
                    text.push_str(detail);
                    text.push(')');
                }
                DestError::Database(text)
            }
            None => DestError::Database(e.to_string()),
        }
    }
}
