//! Rheo's HTTP front door: the Kinesis Data Streams API (`POST /` keyed on
//! `X-Amz-Target`, JSON 1.1 and CBOR 1.1) over HTTP/1.1 and HTTP/2 on the same plain port
//! (HTTP/2 by prior knowledge, as the Java and JavaScript SDKs speak it), and optionally
//! over TLS offering `h2` and `http/1.1` by ALPN.
//!
//! This is the only crate that knows HTTP. It decodes Kinesis requests with
//! `rheo-protocol`, runs them on a [`rheo_engine::Engine`], and maps engine errors to AWS
//! error types in one exhaustive match ([`errors::wire_error`]).
//!
//! SubscribeToShard answers with an event stream (`application/vnd.amazon.eventstream`,
//! see [`event_stream`]) over either HTTP version: chunked on HTTP/1.1, DATA frames on
//! HTTP/2. One task per subscription pushes records as soon as they are durable.
//!
//! Each AWS service is one [`Service`] registered with the [`Router`] ([`router`]):
//! Kinesis always ([`services::KinesisService`]), Firehose when the binary runs it
//! ([`services::FirehoseService`], added with [`Server::with_service`]). The front door
//! routes by `X-Amz-Target` prefix and names no service.
//!
//! Requests are authenticated by an [`auth::Authenticator`] ([`Server::with_auth`]): presence
//! checks only by default, SigV4 verification against a credentials file under
//! `--auth sigv4`; files are reloaded on SIGHUP through [`reload`].
//!
//! Besides the API it answers `GET /health` (and `/_health`) with `{"status":"ok"}` and
//! `GET /metrics` with Prometheus counters, through the same router.
//!
//! Slow and idle clients are cut off by header-read, idle, stall and body timeouts, and
//! at most [`ConnectionLimits::max_connections`] connections are served at once; when all
//! are taken, new ones wait in the listen backlog (see [`conn`]).
//!
//! ```no_run
//! # async fn run(engine: std::sync::Arc<rheo_engine::Engine>) -> Result<(), rheo_server::ServerError> {
//! let server = rheo_server::Server::bind("127.0.0.1:4567".parse().unwrap(), engine, None).await?;
//! println!("listening on {}", server.local_addr()?);
//! server.run(rheo_server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod auth;
pub mod authz;
pub mod conn;
mod dispatch;
pub mod errors;
pub use rheo_aws::event_stream;
mod front;
pub mod metrics;
pub mod reload;
pub mod router;
pub mod services;
mod state;
mod subscribe;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rheo_engine::Engine;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

pub use conn::{
    max_connections_for_descriptors, ConnectionLimits, TimeoutKind, BODY_READ_TIMEOUT_MS_DEFAULT, DESCRIPTOR_RESERVE,
    HEADER_READ_TIMEOUT_MS_DEFAULT, HTTP2_CONNECTION_WINDOW_BYTES, HTTP2_FRAME_BYTES_MAX, HTTP2_HEADER_LIST_BYTES_MAX,
    HTTP2_LOCAL_ERROR_RESETS_MAX, HTTP2_MAX_STREAMS_DEFAULT, HTTP2_PENDING_RESETS_MAX, HTTP2_SEND_BUFFER_BYTES,
    HTTP2_STREAM_WINDOW_BYTES, IDLE_TIMEOUT_MS_DEFAULT, MAX_CONNECTIONS_DEFAULT, REQUEST_HEADERS_MAX,
    REQUEST_HEAD_BYTES_MAX,
};
pub use front::{ResponseBody, REQUEST_BODY_BYTES_MAX};
pub use metrics::Metrics;
pub use router::{Router, RouterError, Service};
pub use state::AppState;
pub use subscribe::{EventBody, SubscriptionConfig, QUEUE_EVENTS};

/// How often finished deletions (streams and consumers past their DELETING period) are
/// applied.
const REAP_INTERVAL_MS: u64 = 100;

/// How long shutdown waits for open connections to finish their requests.
const DRAIN_TIMEOUT_MS: u64 = 10_000;

/// Waiting at the connection limit, and failing accepts (EMFILE), are logged at most
/// this often, with the number of occurrences since the last line.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Pause after a failed accept (typically EMFILE or ENFILE: out of descriptors), so the
/// loop does not spin while connections close and free some.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);

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
    /// A service could not be registered.
    #[error("cannot serve this service: {0}")]
    Router(#[from] RouterError),
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
    router: Router,
    auth: Arc<auth::Authenticator>,
}

impl Server {
    /// Binds `address` (port 0 picks a free port).
    pub async fn bind(address: SocketAddr, engine: Arc<Engine>, tls: Option<TlsAcceptor>) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ServerError::Io { context: format!("bind {address}"), source })?;
        Ok(Self::from_listener(listener, engine, tls))
    }

    /// Serves on an already bound listener. Kinesis is always served, over `engine`;
    /// other services are added with [`Server::with_service`].
    pub fn from_listener(listener: TcpListener, engine: Arc<Engine>, tls: Option<TlsAcceptor>) -> Self {
        let state = AppState {
            engine,
            channels: None,
            metrics: Metrics::default(),
            subscriptions: SubscriptionConfig::default(),
            shutdown: tokio::sync::watch::Sender::new(false),
            limits: ConnectionLimits::default(),
            authorizer: Default::default(),
        };
        let mut router = Router::new();
        // The first registration of an empty router cannot collide with anything.
        let _ = router.register(services::KinesisService);
        Server { listener, tls, state: Arc::new(state), router, auth: Arc::new(auth::Authenticator::none()) }
    }

    /// Sets how SubscribeToShard subscriptions behave (lifetime, heartbeat period).
    pub fn with_subscriptions(mut self, config: SubscriptionConfig) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.subscriptions = config;
        }
        self
    }

    /// Serves the Kinesis channel operations (and tags and policies on channel ARNs)
    /// from `channels`.
    pub fn with_channels(mut self, channels: Arc<rheo_firehose::channel::Channels>) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.channels = Some(channels);
        }
        self
    }

    /// Sets the connection timeouts and the connection limit.
    pub fn with_limits(mut self, limits: ConnectionLimits) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.limits = limits;
        }
        self
    }

    /// Authenticates requests with `auth` (by default presence checks only,
    /// [`auth::AuthMode::None`]).
    pub fn with_auth(mut self, auth: Arc<auth::Authenticator>) -> Self {
        if auth.mode() == auth::AuthMode::SigV4 {
            // Calls are authorized, so are the roles Firehose and Analytics act as.
            let checker =
                authz::roles::RoleChecker::new(self.state.authorizer.clone(), auth.clone(), &self.state.engine);
            if !self.state.engine.install_role_access(Arc::new(checker)) {
                tracing::debug!(message = "Role authorization was already installed.");
            }
        }
        self.auth = auth;
        self
    }

    /// Serves one more AWS service beside Kinesis (for example
    /// [`services::FirehoseService`]); fails when its target prefix or a `GET` path is
    /// taken.
    pub fn with_service<S: Service>(mut self, service: S) -> Result<Self, ServerError> {
        self.router.register(service)?;
        Ok(self)
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(|source| ServerError::Io { context: "local address".into(), source })
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets open requests finish
    /// (up to a timeout) and returns.
    ///
    /// At most [`ConnectionLimits::max_connections`] connections are served at once. When
    /// all slots are taken, the next connection accepted takes the slot of a connection
    /// that has not sent a request yet, else of an idle one (`conn/evict.rs`, counted in
    /// `rheo_connections_evicted_total`); when every connection has a request in
    /// progress it waits for a slot, and the ones after it in the kernel's listen backlog.
    /// Reaching the limit is logged at most every 10 s and counted in
    /// `rheo_connection_limit_reached_total`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server { listener, tls, state, router, auth } = self;
        let front = Arc::new(front::FrontDoor { state: state.clone(), router, auth });
        let limits = state.limits;
        let max_connections = limits.max_connections.max(1);
        let builder = conn::builder(limits.http2_max_streams);
        let slots = Arc::new(Semaphore::new(max_connections as usize));
        let registry = Arc::new(conn::Registry::default());
        let timeouts = conn::Timeouts {
            header_read: limits.header_read_timeout,
            idle: limits.idle_timeout,
            stall: limits.stall_timeout(Duration::from_millis(state.subscriptions.heartbeat_ms)),
        };
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
        let mut limit_log = RateLimitedLog::default();
        let mut error_log = RateLimitedLog::default();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        if let Some(times) = error_log.note() {
                            tracing::warn!(message = "Accept failed.", %error, times);
                        }
                        tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let permit = match slots.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    state.metrics.connection_limit_reached();
                    if let Some(times) = limit_log.note() {
                        tracing::warn!(
                            message = "Connection limit reached; new connections take the slots of \
                                       connections without a request in progress, or wait.",
                            max_connections,
                            times,
                        );
                    }
                    tokio::select! {
                        permit = make_room(&slots, &registry, &state.metrics) => match permit {
                            Some(permit) => permit,
                            None => break, // never closed
                        },
                        () = &mut shutdown => break,
                    }
                }
            };
            let _ = stream.set_nodelay(true);
            let conn_state = Arc::new(conn::ConnState::new());
            let slot = Slot { _permit: permit, _registration: registry.register(conn_state.clone()) };
            let connection = Connection { stream, peer, state: conn_state, slot };
            tokio::spawn(serve_connection(connection, tls.clone(), builder.clone(), front.clone(), timeouts));
        }
        drop(listener);
        // Open subscriptions end their streams and connections shut down gracefully.
        state.shutdown.send_replace(true);
        tracing::info!(message = "Shutting down; draining connections.", open = state.metrics.connections_open());
        tokio::select! {
            _ = slots.acquire_many(max_connections) => {}
            () = tokio::time::sleep(Duration::from_millis(DRAIN_TIMEOUT_MS)) => {
                tracing::warn!(
                    message = "Connections still open after the drain timeout; closing.",
                    open = state.metrics.connections_open(),
                );
            }
        }
        reaper.abort();
        Ok(())
    }
}

/// Counts occurrences of something worth a warning and says when to log it: the first
/// time, then at most once per [`ACCEPT_LOG_INTERVAL`].
#[derive(Default)]
struct RateLimitedLog {
    last: Option<tokio::time::Instant>,
    times: u64,
}

impl RateLimitedLog {
    /// Counts one occurrence; returns the occurrences since the last log line when it is
    /// time for another.
    fn note(&mut self) -> Option<u64> {
        self.times += 1;
        let now = tokio::time::Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < ACCEPT_LOG_INTERVAL) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.times))
    }
}

/// A connection slot, held until the connection closes.
struct Slot {
    _permit: OwnedSemaphorePermit,
    _registration: conn::Registration,
}

/// An accepted connection and what it holds.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<conn::ConnState>,
    slot: Slot,
}

/// How long the accept loop waits for an evicted connection to free its slot before it
/// looks for another connection to evict (the one chosen may have started a request
/// meanwhile and then keeps its slot).
const EVICTION_RETRY: Duration = Duration::from_millis(200);

/// Frees a slot for a connection that arrived while all were taken: asks the connection
/// that least deserves its slot to close ([`conn::Registry::evict_one`]) and waits for a
/// slot, asking again every [`EVICTION_RETRY`]. `None` only if the semaphore is closed,
/// which never happens.
async fn make_room(
    slots: &Arc<Semaphore>,
    registry: &conn::Registry,
    metrics: &Metrics,
) -> Option<OwnedSemaphorePermit> {
    loop {
        if registry.evict_one() {
            metrics.connection_evicted();
        }
        match tokio::time::timeout(EVICTION_RETRY, slots.clone().acquire_owned()).await {
            Ok(permit) => return permit.ok(),
            Err(_) => continue,
        }
    }
}

/// Serves one accepted connection (after its TLS handshake, if any) under its timeouts,
/// holding its connection slot until it closes.
async fn serve_connection(
    connection: Connection,
    tls: Option<TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    front: Arc<front::FrontDoor>,
    timeouts: conn::Timeouts,
) {
    let Connection { stream, peer, state: conn_state, slot: _slot } = connection;
    let state = &front.state;
    let _open = state.metrics.connection_opened();
    match tls {
        None => {
            serve_io(stream, auth::ConnectionInfo { peer, secure: false }, &builder, &front, conn_state, timeouts).await
        }
        Some(acceptor) => {
            // The handshake counts against the header-read timeout: a client that connects
            // and says nothing must not hold its slot longer than one that sends half a head.
            let handshake = tokio::time::timeout(timeouts.header_read, acceptor.accept(stream));
            let handshake = tokio::select! {
                handshake = handshake => handshake,
                () = conn_state.evicted() => {
                    tracing::debug!(message = "Closing a connection in its TLS handshake: its slot is needed.", %peer);
                    return;
                }
            };
            match handshake {
                Ok(Ok(stream)) => {
                    let connection = auth::ConnectionInfo { peer, secure: true };
                    serve_io(stream, connection, &builder, &front, conn_state, timeouts).await
                }
                Ok(Err(error)) => tracing::debug!(message = "TLS handshake failed.", %peer, %error),
                Err(_) => {
                    state.metrics.timed_out(TimeoutKind::HeaderRead);
                    tracing::debug!(message = "TLS handshake timed out.", %peer);
                }
            }
        }
    }
}

/// Runs hyper on `io` beside the connection's watchdog; also shuts the connection down
/// gracefully when the server does. Each request carries `connection` in its extensions
/// (the caller's address and whether TLS protects it).
async fn serve_io<I>(
    io: I,
    connection: auth::ConnectionInfo,
    builder: &auto::Builder<TokioExecutor>,
    front: &Arc<front::FrontDoor>,
    conn_state: Arc<conn::ConnState>,
    timeouts: conn::Timeouts,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = &front.state;
    let peer = connection.peer;
    let service = {
        let front = front.clone();
        let conn_state = conn_state.clone();
        service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(connection);
            let guard = conn::RequestGuard::start(&conn_state, request.version());
            let front = front.clone();
            async move {
                let response = front::handle(front, request).await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| conn::GuardedBody::new(body, guard)))
            }
        })
    };
    let connection = builder.serve_connection(TokioIo::new(conn::Tracked::new(io, conn_state.clone())), service);
    tokio::pin!(connection);
    let mut shutdown = state.shutdown.subscribe();
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(message = "Connection ended with an error.", %peer, %error);
                }
                return;
            }
            kind = conn::watchdog(&conn_state, timeouts) => {
                state.metrics.timed_out(kind);
                tracing::debug!(message = "Closing a connection: timed out.", %peer, timeout = kind.label());
                if kind == TimeoutKind::Idle {
                    // HTTP/2 gets a GOAWAY, so the client knows not to reuse the connection.
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(conn::idle_close_grace(), connection.as_mut()).await;
                }
                return;
            }
            () = conn_state.evicted() => {
                if conn_state.has_request_in_progress() {
                    // It started a request after it was chosen: it keeps its slot, and the
                    // accept loop chooses again.
                    conn_state.pardon();
                    continue;
                }
                tracing::debug!(message = "Closing a connection: its slot is needed.", %peer);
                if conn_state.has_served_requests() {
                    // An idle kept-alive connection: HTTP/2 gets a GOAWAY, as on idling out.
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(conn::idle_close_grace(), connection.as_mut()).await;
                }
                return;
            }
            () = stopping(&mut shutdown), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once the server is shutting down.
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // The sender lives in the state the connection holds, so this cannot fail; the read
    // guard is dropped here, before any other await.
    let _ = shutdown.wait_for(|stop| *stop).await;
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
