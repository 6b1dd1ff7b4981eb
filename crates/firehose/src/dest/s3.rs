//! Object storage for S3 destinations and for the Redshift loader's staging objects:
//! either folders on the local disk or a real S3-compatible service.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use parking_lot::Mutex;

use super::DestError;

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
        let store = self.store(bucket)?;
        store.put(&object_path(key)?, PutPayload::from(body)).await?;
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

/// Object keys are `/`-separated; empty segments (as in `a//b`) cannot be stored on a
/// file system, so they are refused instead of being silently merged.
fn object_path(key: &str) -> Result<Path, DestError> {
    Path::parse(key).map_err(|e| DestError::Config(format!("object key {key:?}: {e}")))
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
