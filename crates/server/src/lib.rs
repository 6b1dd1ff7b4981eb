//! Rheo's HTTP front door: the Kinesis Data Streams API (`POST /` keyed on
//! `X-Amz-Target`, JSON 1.1 and CBOR 1.1) over HTTP/1.1 and HTTP/2 on the same plain port
//! (HTTP/2 by prior knowledge, as the Java and JavaScript SDKs speak it), and optionally
//! over TLS offering `h2` and `http/1.1` by ALPN.
//!
//! This is the only crate that knows HTTP. It decodes requests with `rheo-protocol`,
//! runs them on a [`rheo_engine::Engine`], and maps engine errors to AWS error types in
//! one exhaustive match ([`errors::wire_error`]).
//!
//! SubscribeToShard answers with an event stream (`application/vnd.amazon.eventstream`,
//! see [`event_stream`]) over either HTTP version: chunked on HTTP/1.1, DATA frames on
//! HTTP/2. One task per subscription pushes records as soon as they are durable.
//!
//! Besides the API it answers `GET /health` (and `/_health`) with `{"status":"ok"}` and
//! `GET /metrics` with Prometheus counters.
//!
//! ```no_run
//! # async fn run(engine: std::sync::Arc<rheo_engine::Engine>) -> Result<(), rheo_server::ServerError> {
//! let server = rheo_server::Server::bind("127.0.0.1:4567".parse().unwrap(), engine, None).await?;
//! println!("listening on {}", server.local_addr()?);
//! server.run(rheo_server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod dispatch;
pub mod errors;
pub mod event_stream;
mod firehose;
mod front;
pub mod metrics;
mod subscribe;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rheo_engine::Engine;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

pub use front::{AppState, ResponseBody, REQUEST_BODY_BYTES_MAX};
pub use metrics::Metrics;
pub use subscribe::{EventBody, SubscriptionConfig, QUEUE_EVENTS};

/// How often finished deletions (streams and consumers past their DELETING period) are
/// applied.
const REAP_INTERVAL_MS: u64 = 100;

/// How long shutdown waits for open connections to finish their requests.
const DRAIN_TIMEOUT_MS: u64 = 10_000;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding or accepting failed.
    #[error("I/O error on {context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificate or key could not be loaded.
    #[error("TLS configuration error: {0}")]
    Tls(String),
}

/// Certificate and key files (PEM) for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Builds a TLS acceptor offering `h2` and `http/1.1`.
pub fn load_tls(files: &TlsFiles) -> Result<TlsAcceptor, ServerError> {
    let read =
        |path: &Path| std::fs::read(path).map_err(|e| ServerError::Tls(format!("cannot read {}: {e}", path.display())));
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("bad certificate file {}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!("no certificate in {}", files.cert.display())));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| ServerError::Tls(format!("bad key file {}: {e}", files.key.display())))?
        .ok_or_else(|| ServerError::Tls(format!("no private key in {}", files.key.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<AppState>,
}

impl Server {
    /// Binds `address` (port 0 picks a free port).
    pub async fn bind(address: SocketAddr, engine: Arc<Engine>, tls: Option<TlsAcceptor>) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ServerError::Io { context: format!("bind {address}"), source })?;
        Ok(Self::from_listener(listener, engine, tls))
    }

    /// Serves on an already bound listener.
    pub fn from_listener(listener: TcpListener, engine: Arc<Engine>, tls: Option<TlsAcceptor>) -> Self {
        let state = AppState {
            engine,
            metrics: Metrics::default(),
            subscriptions: SubscriptionConfig::default(),
            shutdown: tokio::sync::watch::Sender::new(false),
            firehose: None,
        };
        Server { listener, tls, state: Arc::new(state) }
    }

    /// Sets how SubscribeToShard subscriptions behave (lifetime, heartbeat period).
    pub fn with_subscriptions(mut self, config: SubscriptionConfig) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.subscriptions = config;
        }
        self
    }

    /// Serves the Firehose API beside Kinesis.
    pub fn with_firehose(mut self, firehose: Arc<rheo_firehose::Firehose>) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.firehose = Some(firehose);
        }
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(|source| ServerError::Io { context: "local address".into(), source })
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets open requests finish
    /// (up to a timeout) and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server { listener, tls, state } = self;
        let builder = auto::Builder::new(TokioExecutor::new());
        let graceful = GracefulShutdown::new();
        let reaper = {
            let engine = state.engine.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(REAP_INTERVAL_MS));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if let Err(error) = engine.reap().await {
                        tracing::warn!(message = "Finishing deletions failed.", %error);
                    }
                }
            })
        };
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Typically EMFILE; back off instead of spinning.
                        tracing::warn!(message = "Accept failed.", %error);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service_state = state.clone();
            let service = service_fn(move |request| front::handle(service_state.clone(), request));
            match &tls {
                None => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(message = "Connection ended with an error.", %peer, %error);
                        }
                    });
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let stream = match acceptor.accept(stream).await {
                            Ok(stream) => stream,
                            Err(error) => {
                                tracing::debug!(message = "TLS handshake failed.", %peer, %error);
                                return;
                            }
                        };
                        let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                        if let Err(error) = watcher.watch(connection).await {
                            tracing::debug!(message = "Connection ended with an error.", %peer, %error);
                        }
                    });
                }
            }
        }
        drop(listener);
        // Open subscriptions end their streams, so their connections can drain.
        state.shutdown.send_replace(true);
        tracing::info!(message = "Shutting down; draining connections.", open = graceful.count());
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(Duration::from_millis(DRAIN_TIMEOUT_MS)) => {
                tracing::warn!(message = "Connections still open after the drain timeout; closing.");
            }
        }
        reaper.abort();
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
