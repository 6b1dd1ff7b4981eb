//! Object storage for S3 destinations, the Redshift loader's staging objects and every
//! backup: either folders on the local disk or a real S3-compatible service. Also the S3
//! destination's `Sink`: one object per processed group, named under the prefix.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{Attribute, AttributeValue, ObjectStore, PutOptions, PutPayload};
use parking_lot::Mutex;

use super::retry::{Retried, RetryPolicy, StopSignal};
use super::{on_blocking_pool, DeliveryContext, DestError, Layout, Outcome, ProcessedGroup, Sink};
use crate::compress::Compression;
use crate::metrics::StreamStats;
use crate::prefix::{self, KeyContext};

/// Where and how objects are written to a bucket.
#[derive(Debug, Clone)]
pub struct S3Sink {
    pub bucket: String,
    pub prefix: Option<String>,
    pub error_prefix: Option<String>,
    pub compression: Compression,
    /// Extension of delivered objects: `FileExtension`, or the compression's default.
    pub extension: String,
    pub time_zone: chrono_tz::Tz,
}

/// Where buckets live.
#[derive(Debug, Clone)]
pub enum ObjectStoreConfig {
    /// Each bucket is the folder `<root>/<bucket>`, created on first use.
    Local { root: PathBuf },
    /// An S3-compatible service; credentials come from the usual AWS environment variables.
    S3 { endpoint: String, region: String },
}

/// One [`ObjectStore`] per bucket, built on first use and then reused, so that
/// connections (S3) are pooled across deliveries.
pub struct ObjectStores {
    config: ObjectStoreConfig,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl ObjectStores {
    pub fn new(config: ObjectStoreConfig) -> Self {
        ObjectStores { config, stores: Mutex::new(HashMap::new()) }
    }

    /// Writes `body` as the object `key` of `bucket`, replacing any object of that key.
    pub async fn put(&self, bucket: &str, key: &str, body: Bytes) -> Result<(), DestError> {
        self.put_in_class(bucket, key, body, None).await
    }

    /// [`ObjectStores::put`] in an S3 storage class (`STANDARD`, `GLACIER_IR`, ...), sent
    /// as `x-amz-storage-class` to an S3-compatible store; folder buckets have no classes,
    /// so it is ignored there.
    pub async fn put_in_class(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        storage_class: Option<&str>,
    ) -> Result<(), DestError> {
        let store = self.store(bucket)?;
        let mut options = PutOptions::default();
        if let (Some(class), ObjectStoreConfig::S3 { .. }) = (storage_class, &self.config) {
            options.attributes.insert(Attribute::StorageClass, AttributeValue::from(class.to_owned()));
        }
        store.put_opts(&object_path(key)?, PutPayload::from(body), options).await?;
        Ok(())
    }

    /// Reads the whole object `key` of `bucket`.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Bytes, DestError> {
        let store = self.store(bucket)?;
        let object = store.get(&object_path(key)?).await?;
        Ok(object.bytes().await?)
    }

    fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, DestError> {
        let mut stores = self.stores.lock();
        if let Some(store) = stores.get(bucket) {
            return Ok(Arc::clone(store));
        }
        let store: Arc<dyn ObjectStore> = match &self.config {
            ObjectStoreConfig::Local { root } => {
                // The bucket name becomes a path component: anything that could climb out of
                // the root or name a nested folder is refused rather than sanitised.
                if bucket.is_empty() || bucket == "." || bucket == ".." || bucket.contains(['/', '\\', '\0']) {
                    return Err(DestError::Config(format!("bucket name {bucket:?} cannot be a local folder")));
                }
                let dir = root.join(bucket);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    DestError::Config(format!("cannot create the bucket folder {}: {e}", dir.display()))
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?)
            }
            ObjectStoreConfig::S3 { endpoint, region } => Arc::new(
                AmazonS3Builder::from_env()
                    .with_endpoint(endpoint)
                    .with_region(region)
                    .with_bucket_name(bucket)
                    // Local S3 emulators (MinIO, Rheo's own tests) speak plain HTTP and are
                    // addressed by path, not by a bucket sub-domain.
                    .with_allow_http(true)
                    .with_virtual_hosted_style_request(false)
                    .build()?,
            ),
        };
        stores.insert(bucket.to_owned(), Arc::clone(&store));
        Ok(store)
    }
}

/// S3's rule that a bucket name starts and ends with a letter or digit, which the API
/// models' patterns do not enforce: a bucket such as `..` can be neither a folder of the
/// local store nor an S3 bucket, so deliveries to it could only be retried forever.
pub(crate) fn bucket_name_is_valid(bucket: &str) -> bool {
    let edges = [bucket.chars().next(), bucket.chars().last()];
    edges.iter().all(|c| c.is_some_and(|c| c.is_ascii_alphanumeric()))
}

/// Object keys are `/`-separated; empty segments (as in `a//b`) cannot be stored on a
/// file system, so they are refused instead of being silently merged.
fn object_path(key: &str) -> Result<Path, DestError> {
    Path::parse(key).map_err(|e| DestError::Config(format!("object key {key:?}: {e}")))
}

/// The key of an object holding records whose oldest arrived at `arrival_ms`, written at
/// `now_ms`: the evaluated prefix, then AWS's object name.
pub(crate) fn object_key(
    context: &DeliveryContext<'_>,
    sink: &S3Sink,
    arrival_ms: u64,
    partition_keys: &BTreeMap<String, String>,
    now_ms: u64,
) -> Result<String, String> {
    let key_context = KeyContext { arrival_ms, time_zone: sink.time_zone, error_output_type: None, partition_keys };
    let prefix = prefix::evaluate_prefix(sink.prefix.as_deref(), &key_context)?;
    Ok(format!("{prefix}{}", object_name(context, sink, now_ms)))
}

/// AWS's object name: stream, version, the delivery time in the sink's zone, a UUID.
pub(crate) fn object_name(context: &DeliveryContext<'_>, sink: &S3Sink, now_ms: u64) -> String {
    prefix::object_name(context.stream_name, context.version, now_ms, sink.time_zone, &sink.extension)
}

/// Concatenates and compresses on the blocking pool: a 128 MiB buffer takes seconds,
/// which must not stall the runtime's workers (they serve the API). Each part is freed
/// as soon as it is copied, so the buffer is never held twice. Returns the object and
/// its size before compression; `None` only if the task died (a bug): the caller then
/// stops delivering the stream rather than writing a damaged object.
pub(crate) async fn compress_parts(
    context: &DeliveryContext<'_>,
    sink: &S3Sink,
    parts: Vec<Bytes>,
) -> Option<(Bytes, u64)> {
    let compression = sink.compression;
    let name = context.stream_name.to_owned();
    let level = context.gzip_level;
    on_blocking_pool("Compression", move || {
        let mut body = Vec::with_capacity(parts.iter().map(Bytes::len).sum());
        for part in parts {
            body.extend_from_slice(&part);
        }
        let size = body.len() as u64;
        (compress_body(compression, body, &name, level), size)
    })
    .await
}

/// [`compress_parts`] for a body already in one piece.
pub(crate) async fn compress(context: &DeliveryContext<'_>, sink: &S3Sink, body: Vec<u8>) -> Option<Bytes> {
    let compression = sink.compression;
    let name = context.stream_name.to_owned();
    let level = context.gzip_level;
    on_blocking_pool("Compression", move || compress_body(compression, body, &name, level)).await
}

fn compress_body(compression: Compression, body: Vec<u8>, stream_name: &str, level: u32) -> Bytes {
    match compression.compress_at(&body, stream_name, level) {
        Ok(compressed) => Bytes::from(compressed),
        Err(error) => {
            // Compressing into memory cannot fail short of a bug; keep the data uncompressed.
            tracing::error!(message = "Compression failed; writing uncompressed.", stream = %stream_name, %error);
            Bytes::from(body)
        }
    }
}

/// Writes one object, retrying until it is written or the stream stops (objects are
/// where records end up, or are backed up: there is no error path to fall back to).
pub(crate) async fn put_until_written(
    context: &DeliveryContext<'_>,
    bucket: &str,
    key: &str,
    body: Bytes,
    stop: &mut StopSignal,
) -> bool {
    put_until_written_in_class(context, bucket, key, body, None, stop).await
}

/// [`put_until_written`] in an S3 storage class (see [`ObjectStores::put_in_class`]).
pub(crate) async fn put_until_written_in_class(
    context: &DeliveryContext<'_>,
    bucket: &str,
    key: &str,
    body: Bytes,
    storage_class: Option<&str>,
    stop: &mut StopSignal,
) -> bool {
    let retried = RetryPolicy::delivery()
        .run(
            context.clock,
            Some(stop),
            || context.stores.put_in_class(bucket, key, body.clone(), storage_class),
            |error, _| {
                StreamStats::add(&context.stats.delivery_failures, 1);
                tracing::warn!(message = "Writing an object failed; retrying.", stream = %context.stream_name, bucket, key, %error);
            },
        )
        .await;
    matches!(retried, Retried::Done { .. })
}

/// A processed group as one object, named and compressed, not yet written.
pub(crate) struct StagedObject {
    pub(crate) key: String,
    pub(crate) body: Bytes,
    pub(crate) records: u64,
    /// Size before compression.
    pub(crate) bytes: u64,
    pub(crate) arrivals: Vec<u64>,
}

/// Names and compresses a group's object. Partition keys were checked while processing
/// (records that cannot make a key go to the error output), so a key that cannot be
/// built is a bug: `None` (logged), and delivery of the stream stops rather than
/// dropping the group's records.
pub(crate) async fn stage(context: &DeliveryContext<'_>, sink: &S3Sink, group: ProcessedGroup) -> Option<StagedObject> {
    let now_ms = context.clock.now_ms();
    let key = object_key(context, sink, group.first_arrival_ms(), &group.partition_keys, now_ms)
        .map_err(|error| tracing::error!(message = "Object key could not be built; delivery of this stream stops.", stream = %context.stream_name, %error))
        .ok()?;
    let records = group.records.len() as u64;
    let arrivals = group.records.iter().map(|r| r.source.arrival_ms).collect();
    let parts = group.records.into_iter().map(|r| r.data).collect();
    let (body, bytes) = compress_parts(context, sink, parts).await?;
    Some(StagedObject { key, body, records, bytes, arrivals })
}

/// An S3 (or local folder) destination: each group becomes one object under the prefix.
pub(crate) struct ObjectSink<'a> {
    pub(crate) sink: &'a S3Sink,
    pub(crate) backup: Option<&'a S3Sink>,
}

impl Sink for ObjectSink<'_> {
    type Payload = StagedObject;

    fn layout(&self) -> Layout<'_> {
        Layout::Objects(self.sink)
    }

    async fn encode(&self, context: &DeliveryContext<'_>, group: ProcessedGroup) -> Option<Vec<StagedObject>> {
        Some(vec![stage(context, self.sink, group).await?])
    }

    async fn deliver(&self, context: &DeliveryContext<'_>, object: StagedObject, stop: &mut StopSignal) -> Outcome {
        if !put_until_written(context, &self.sink.bucket, &object.key, object.body, stop).await {
            return Outcome::Stopped;
        }
        Outcome::Delivered { records: object.records, bytes: object.bytes, arrivals: object.arrivals }
    }

    fn error_output(&self) -> &S3Sink {
        self.sink
    }

    fn source_backup(&self) -> Option<&S3Sink> {
        self.backup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn local_put_get_makes_bucket_folder_and_sub_folders() {
        let dir = tempfile::tempdir().unwrap();
        let stores = ObjectStores::new(ObjectStoreConfig::Local { root: dir.path().to_path_buf() });
        runtime().block_on(async {
            stores.put("my-bucket", "2024/01/02/03/obj-1", Bytes::from_static(b"hello")).await.unwrap();
            assert_eq!(stores.get("my-bucket", "2024/01/02/03/obj-1").await.unwrap(), Bytes::from_static(b"hello"));
            // Overwrite keeps one object.
            stores.put("my-bucket", "2024/01/02/03/obj-1", Bytes::from_static(b"again")).await.unwrap();
            assert_eq!(stores.get("my-bucket", "2024/01/02/03/obj-1").await.unwrap(), Bytes::from_static(b"again"));
        });
        let on_disk = std::fs::read(dir.path().join("my-bucket/2024/01/02/03/obj-1")).unwrap();
        assert_eq!(on_disk, b"again");
    }

    #[test]
    fn local_missing_object_and_bad_names_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let stores = ObjectStores::new(ObjectStoreConfig::Local { root: dir.path().to_path_buf() });
        runtime().block_on(async {
            assert!(matches!(stores.get("b", "nope").await, Err(DestError::ObjectStore(_))));
            assert!(matches!(stores.put("..", "k", Bytes::new()).await, Err(DestError::Config(_))));
            assert!(matches!(stores.put("a/b", "k", Bytes::new()).await, Err(DestError::Config(_))));
            assert!(matches!(stores.put("b", "a//k", Bytes::new()).await, Err(DestError::Config(_))));
        });
        assert!(!dir.path().join("a").exists(), "a refused bucket leaves no folder behind");
    }

    #[test]
    fn s3_store_builds_without_network() {
        let stores = ObjectStores::new(ObjectStoreConfig::S3 {
            endpoint: "http://127.0.0.1:9".to_owned(),
            region: "us-east-1".to_owned(),
        });
        assert!(stores.store("bucket").is_ok());
        assert!(Arc::ptr_eq(&stores.store("bucket").unwrap(), &stores.store("bucket").unwrap()));
    }
}
