//! What the in-process server suites share: an engine on in-memory storage, the server
//! running on 127.0.0.1:0 in a task, a clean stop, and the headers an API call needs.

#![allow(dead_code)] // each suite uses its own subset
#![allow(clippy::unwrap_used)] // test code

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rheo_engine::{Engine, EngineConfig};
use rheo_server::Server;
use rheo_storage::{Clock, Durability, LogConfig, MemFs};
use tokio::sync::oneshot;

pub const JSON: &str = "application/x-amz-json-1.1";
pub const CBOR: &str = "application/x-amz-cbor-1.1";
pub const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd";

/// How long a stopping server may take to drain: a ceiling only a hang would reach.
const STOP_CEILING: Duration = Duration::from_secs(15);

/// Lifecycle delays of zero, so streams and consumers are ACTIVE at once.
pub fn instant_lifecycle() -> EngineConfig {
    EngineConfig { create_stream_ms: 0, delete_stream_ms: 0, update_stream_ms: 0, consumer_ms: 0, ..Default::default() }
}

/// An engine over in-memory storage.
pub fn memory_engine(config: EngineConfig, clock: Arc<dyn Clock>) -> Arc<Engine> {
    let log_config = LogConfig { durability: Durability::Never, ..Default::default() };
    Arc::new(Engine::open(Arc::new(MemFs::default()), clock, "/rheo".as_ref(), log_config, config).unwrap())
}

/// A bound server on 127.0.0.1:0 over `engine`, to be configured and then spawned.
pub async fn bind(engine: &Arc<Engine>) -> Server {
    Server::bind("127.0.0.1:0".parse().unwrap(), engine.clone(), None).await.unwrap()
}

/// A server running in a task until [`TestServer::stop`].
pub struct TestServer {
    pub address: SocketAddr,
    pub engine: Arc<Engine>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Runs `server` (over `engine`) in a task.
    pub fn spawn(server: Server, engine: Arc<Engine>) -> Self {
        let address = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestServer { address, engine, stop: Some(stop), task: Some(task) }
    }

    /// Stops the server and waits for it to drain; it must not panic.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(STOP_CEILING, task)
                .await
                .expect("the server drains")
                .expect("the server did not panic");
        }
    }
}

/// Calls a Kinesis operation with a JSON body over HTTP/1.1; returns the status and the
/// body as JSON (`Null` for an empty body).
pub async fn call_json(
    server: &TestServer,
    operation: &str,
    body: serde_json::Value,
) -> (http::StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(format!("http://{}/", server.address))
        .header("X-Amz-Target", format!("Kinesis_20131202.{operation}"))
        .header("Content-Type", JSON)
        .header("Authorization", AUTHORIZATION)
        .header("X-Amz-Date", "20240101T000000Z")
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}
