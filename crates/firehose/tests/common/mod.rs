//! What the Firehose integration tests share: a service on an in-memory filesystem whose
//! buckets are folders, requests decoded exactly as the server decodes them, and what a
//! test reads back from those folders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rheo_engine::{Engine, EngineConfig};
use rheo_firehose::dest::s3::ObjectStoreConfig;
use rheo_firehose::jq::JqWorkerCommand;
use rheo_firehose::{Firehose, FirehoseConfig};
use rheo_protocol::firehose::{decode_request, FirehoseOperation, FirehoseRequest};
use rheo_storage::{Clock, Durability, FileSystem, LogConfig, MemFs, SystemClock};
use serde_json::{json, Value};

/// A Firehose service (and the Kinesis engine it reads sources from) on a fresh in-memory
/// filesystem, delivering into folders under `buckets`, with `clock` as its one clock.
// Not every test binary that includes this module calls it.
#[allow(dead_code)]
pub fn open_firehose(buckets: &Path, clock: Arc<dyn Clock>) -> Arc<Firehose> {
    open_firehose_with(buckets, clock, |_| {})
}

/// [`open_firehose`] with the service's configuration changed by `configure`.
pub fn open_firehose_with(
    buckets: &Path,
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut FirehoseConfig),
) -> Arc<Firehose> {
    open_firehose_and_engine(buckets, clock, configure).0
}

/// [`open_firehose_with`], and the Kinesis engine its sources are read from.
pub fn open_firehose_and_engine(
    buckets: &Path,
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut FirehoseConfig),
) -> (Arc<Firehose>, Arc<Engine>) {
    let fs: Arc<dyn FileSystem> = Arc::new(MemFs::default());
    let dir = Path::new("/rheo");
    let log_config = LogConfig { durability: Durability::Never, ..LogConfig::default() };
    let engine = Engine::open(fs.clone(), Arc::new(SystemClock), dir, log_config.clone(), EngineConfig::default());
    let mut config = FirehoseConfig {
        region: "us-east-1".to_owned(),
        account_id: "123456789012".to_owned(),
        create_ms: 0,
        delete_ms: 0,
        encryption_ms: 0,
        stream_limit: 10,
        allow_http_endpoints: true,
        object_stores: ObjectStoreConfig::Local { root: buckets.to_path_buf() },
        gzip_level: 1,
        jq_worker: JqWorkerCommand { program: env!("CARGO_BIN_EXE_rheo-jq-worker").into(), args: Vec::new() },
        default_buffer_interval_ms: rheo_firehose::limits::BUFFER_INTERVAL_MS_DEFAULT,
    };
    configure(&mut config);
    let engine = Arc::new(engine.unwrap());
    (Firehose::open(fs, clock, dir, log_config, engine.clone(), config).unwrap(), engine)
}

/// A request as a client sends it, decoded as the server decodes it.
pub fn request(operation: FirehoseOperation, body: Value) -> FirehoseRequest {
    decode_request(operation, body.to_string().as_bytes()).unwrap()
}

/// Puts one record whose data is `data` and checks it was accepted.
#[allow(dead_code)]
pub async fn put_text(firehose: &Firehose, name: &str, data: &str) {
    let record = json!({"Data": STANDARD.encode(data)});
    let FirehoseRequest::PutRecordBatch(input) =
        request(FirehoseOperation::PutRecordBatch, json!({"DeliveryStreamName": name, "Records": [record]}))
    else {
        unreachable!()
    };
    let answer = firehose.put_record_batch(input).await.unwrap();
    assert_eq!(answer.failed_put_count, 0, "{answer:?}");
}

/// Every file under `dir`, with its path relative to `dir`.
#[allow(dead_code)]
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.to_string_lossy().contains('#') {
                // `<key>#<n>` is the local store's upload in progress, not an object.
                out.push((path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out
}
