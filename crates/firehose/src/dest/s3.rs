//! Buckets through the `object_store` crate: a folder per bucket under the data
//! directory by default, or any S3-compatible service (path-style addressing).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use parking_lot::Mutex;

use super::DestError;

/// Where buckets live.
#[derive(Debug, Clone)]
pub enum ObjectStoreConfig {
    /// Bucket `b` is the folder `<root>/b`, created on first use.
    Local { root: PathBuf },
    /// An S3-compatible endpoint; credentials from the usual AWS environment variables.
    S3 { endpoint: String, region: String },
}

/// One store per bucket, made on first use.
pub struct ObjectStores {
    config: ObjectStoreConfig,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl ObjectStores {
    /// Stores for `config`.
    pub fn new(config: ObjectStoreConfig) -> Self {
        ObjectStores { config, buckets: Mutex::new(HashMap::new()) }
    }

    fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, DestError> {
        if let Some(store) = self.buckets.lock().get(bucket) {
            return Ok(store.clone());
        }
        let store: Arc<dyn ObjectStore> = match &self.config {
            ObjectStoreConfig::Local { root } => {
                let folder = root.join(bucket);
                std::fs::create_dir_all(&folder)
                    .map_err(|e| DestError::Config(format!("create bucket folder {}: {e}", folder.display())))?;
                Arc::new(LocalFileSystem::new_with_prefix(&folder)?)
            }
            ObjectStoreConfig::S3 { endpoint, region } => Arc::new(
                AmazonS3Builder::from_env()
                    .with_endpoint(endpoint)
                    .with_region(region)
                    .with_bucket_name(bucket)
                    .with_allow_http(true)
                    .with_virtual_hosted_style_request(false)
                    .build()?,
            ),
        };
        self.buckets.lock().insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// Writes an object (atomically: readers see the whole object or none).
    pub async fn put(&self, bucket: &str, key: &str, body: Bytes) -> Result<(), DestError> {
        let store = self.bucket(bucket)?;
        store.put(&ObjectPath::from(key), PutPayload::from_bytes(body)).await?;
        Ok(())
    }

    /// Reads an object.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Bytes, DestError> {
        let store = self.bucket(bucket)?;
        Ok(store.get(&ObjectPath::from(key)).await?.bytes().await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn local_buckets_are_folders() {
        let root = tempfile::tempdir().unwrap();
        let stores = ObjectStores::new(ObjectStoreConfig::Local { root: root.path().to_owned() });
        stores.put("b", "2024/01/02/03/obj", Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(std::fs::read(root.path().join("b/2024/01/02/03/obj")).unwrap(), b"abc");
        assert_eq!(stores.get("b", "2024/01/02/03/obj").await.unwrap(), Bytes::from_static(b"abc"));
        assert!(stores.get("b", "missing").await.is_err());
    }
}
