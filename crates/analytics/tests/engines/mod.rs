//! An Engine and a Firehose on one in-memory filesystem, as the runtime and the control
//! plane tests both need them.

use std::path::Path;
use std::sync::Arc;

use rheo_engine::{Engine, EngineConfig};
use rheo_firehose::dest::s3::ObjectStoreConfig;
use rheo_firehose::jq::JqWorkerCommand;
use rheo_firehose::{Firehose, FirehoseConfig};
use rheo_storage::{Clock, FileSystem, LogConfig};

/// The two services under `dir`, with instant stream transitions; Firehose's buckets are
/// a temporary folder the caller keeps alive.
pub fn open(
    fs: Arc<dyn FileSystem>,
    clock: Arc<dyn Clock>,
    dir: &Path,
    log_config: LogConfig,
    account_id: &str,
) -> (Arc<Engine>, Arc<Firehose>, tempfile::TempDir) {
    let engine_config = EngineConfig { create_stream_ms: 0, delete_stream_ms: 0, ..EngineConfig::default() };
    let engine = Arc::new(Engine::open(fs.clone(), clock.clone(), dir, log_config.clone(), engine_config).unwrap());
    let buckets = tempfile::tempdir().unwrap();
    let config = FirehoseConfig {
        region: "us-east-1".to_owned(),
        account_id: account_id.to_owned(),
        create_ms: 0,
        delete_ms: 0,
        encryption_ms: 0,
        stream_limit: 10,
        allow_http_endpoints: false,
        object_stores: ObjectStoreConfig::Local { root: buckets.path().to_path_buf() },
        gzip_level: 1,
        // No delivery stream here extracts metadata: the worker is never started.
        jq_worker: JqWorkerCommand { program: "/nonexistent/rheo-jq-worker".into(), args: Vec::new() },
        default_buffer_interval_ms: rheo_firehose::limits::BUFFER_INTERVAL_MS_DEFAULT,
    };
    let firehose = Firehose::open(fs, clock, dir, log_config, engine.clone(), config).unwrap();
    (engine, firehose, buckets)
}
