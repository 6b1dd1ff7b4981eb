//! Slow and idle clients: per-connection timeouts and the limit on open connections;
//! the HTTP bounds of one connection are in `http_bounds`, and which connection gives up
//! its slot when all are taken in `evict`.
//!
//! Each accepted connection gets a `ConnState` that three parties update with relaxed
//! atomics, no locks and no allocation per request:
//!
//! - the IO wrapper `Tracked` notes when bytes last moved (either direction) and, on
//!   HTTP/1.1, when the first byte of the next request arrived;
//! - the service wrapper counts requests in progress: [`RequestGuard`] is taken when hyper
//!   hands over a request and dropped with the response body ([`GuardedBody`]);
//! - a watchdog (`watchdog`), polled beside the hyper connection, sleeps until the
//!   earliest deadline the state implies and closes the connection when one has passed.
//!
//! The deadlines, by state:
//!
//! | state | deadline | closes as |
//! | --- | --- | --- |
//! | no request yet, or (HTTP/1.1) part of the next request's head received | start + header-read timeout | `header_read` |
//! | no request in progress | end of the last request (or last byte, HTTP/1.1) + idle timeout | `idle` |
//! | a request in progress | last byte either way + stall timeout | `stalled` |
//!
//! The request body has its own timeout, applied where the body is read (`front.rs`),
//! so that it can answer `408` instead of just closing.
//!
//! hyper's own `http1::Builder::header_read_timeout` is not used: in hyper 1.12 its
//! clock also runs while a kept-alive connection waits for its next request (it starts
//! whenever hyper is ready to read a head), so it would close idle keep-alive
//! connections after the header-read timeout, far sooner than the idle timeout.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

mod evict;
mod http_bounds;

pub(crate) use evict::{Registration, Registry};
pub(crate) use http_bounds::builder;
pub use http_bounds::{
    HTTP2_CONNECTION_WINDOW_BYTES, HTTP2_FRAME_BYTES_MAX, HTTP2_HEADER_LIST_BYTES_MAX, HTTP2_LOCAL_ERROR_RESETS_MAX,
    HTTP2_MAX_STREAMS_DEFAULT, HTTP2_PENDING_RESETS_MAX, HTTP2_SEND_BUFFER_BYTES, HTTP2_STREAM_WINDOW_BYTES,
    REQUEST_HEADERS_MAX, REQUEST_HEAD_BYTES_MAX,
};

/// Default of [`ConnectionLimits::header_read_timeout`], in milliseconds: 20 s.
///
/// SDK clients write a request head (well under 2 KiB) in one go right after connecting,
/// so it normally arrives within a round trip; 20 s leaves room for several TCP
/// retransmissions on a bad link, while a client that trickles its head (slowloris)
/// holds a connection slot for at most 20 s.
pub const HEADER_READ_TIMEOUT_MS_DEFAULT: u64 = 20_000;

/// Default of [`ConnectionLimits::idle_timeout`], in milliseconds: 120 s.
///
/// AWS SDKs keep connections alive in a pool and drop them after their own idle time:
/// 60 s in the Java SDK, 90 s in the Rust and Go SDKs. A server timeout longer than those
/// lets the client retire an idle connection first, so a client rarely sends a request
/// into a connection the server is closing (a reset a non-idempotent put may not retry).
/// It is shorter than AWS's 350 s (NLB) because here the cost of an idle connection is a
/// file descriptor and a connection slot of a single process.
pub const IDLE_TIMEOUT_MS_DEFAULT: u64 = 120_000;

/// Default of [`ConnectionLimits::body_read_timeout`], in milliseconds: 60 s.
///
/// The largest body accepted ([`crate::REQUEST_BODY_BYTES_MAX`], 16 MiB) arrives within
/// 60 s at about 280 KiB/s; a client slower than that, or a chunked body that never ends,
/// gets `408 Request Timeout`.
pub const BODY_READ_TIMEOUT_MS_DEFAULT: u64 = 60_000;

/// Default of [`ConnectionLimits::max_connections`] for library users: safely below the
/// usual soft limit of 1024 file descriptors. The `rheo` binary raises that limit and
/// derives its default with [`max_connections_for_descriptors`].
pub const MAX_CONNECTIONS_DEFAULT: u32 = 512;

/// File descriptors kept back from connections for everything else the process opens:
/// log segment files (one per 128 MiB of retained log, each held open), metadata files,
/// Firehose's local buckets and its outgoing connections (S3, HTTP endpoints,
/// PostgreSQL), and the runtime's own descriptors.
pub const DESCRIPTOR_RESERVE: u64 = 1024;

/// The most connections [`max_connections_for_descriptors`] allows however high the
/// descriptor limit: each connection costs buffers (8 KiB and more on HTTP/1.1, windows
/// on HTTP/2), so a huge limit should not invite hundreds of thousands of them.
pub const MAX_CONNECTIONS_CAP: u32 = 16_384;

/// How long an idle HTTP/2 connection gets, after its GOAWAY, to close by itself before
/// it is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Timeouts and the connection limit of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client has to send a request head: measured from accepting the
    /// connection for its first request (including a TLS handshake), and on HTTP/1.1 from
    /// the first byte of each further request.
    pub header_read_timeout: Duration,
    /// How long a connection may go without a request in progress (and on HTTP/1.1
    /// without a byte either way) before it is closed. Also the shortest time a request
    /// in progress may go without a byte either way (a client that stopped reading its
    /// response) before its connection is closed; see [`ConnectionLimits::stall_timeout`].
    pub idle_timeout: Duration,
    /// How long a request body may take to arrive in full.
    pub body_read_timeout: Duration,
    /// Connections served at once. When all are taken, a new connection takes the slot
    /// of one without a request in progress (see `conn/evict.rs`), or waits until one
    /// closes.
    pub max_connections: u32,
    /// Requests in progress at once on one HTTP/2 connection.
    pub http2_max_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_millis(HEADER_READ_TIMEOUT_MS_DEFAULT),
            idle_timeout: Duration::from_millis(IDLE_TIMEOUT_MS_DEFAULT),
            body_read_timeout: Duration::from_millis(BODY_READ_TIMEOUT_MS_DEFAULT),
            max_connections: MAX_CONNECTIONS_DEFAULT,
            http2_max_streams: HTTP2_MAX_STREAMS_DEFAULT,
        }
    }
}

impl ConnectionLimits {
    /// How long a request in progress may go without a byte either way: the idle timeout,
    /// but at least two SubscribeToShard heartbeat periods, so that a subscription on a
    /// quiet shard (which writes only heartbeats) is never cut.
    pub fn stall_timeout(&self, heartbeat: Duration) -> Duration {
        self.idle_timeout.max(heartbeat.saturating_mul(2))
    }
}

/// The connection limit that fits under a soft file-descriptor limit of `descriptors`:
/// the limit less [`DESCRIPTOR_RESERVE`] (or half the limit, when it is that small),
/// at most [`MAX_CONNECTIONS_CAP`], at least 1.
pub fn max_connections_for_descriptors(descriptors: u64) -> u32 {
    let reserve = DESCRIPTOR_RESERVE.min(descriptors / 2);
    let connections = descriptors.saturating_sub(reserve).min(u64::from(MAX_CONNECTIONS_CAP));
    u32::try_from(connections).unwrap_or(MAX_CONNECTIONS_CAP).max(1)
}

/// Which timeout closed a connection (or, for `BodyRead`, cut a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// The request head did not arrive in time (or the TLS handshake did not finish).
    HeaderRead,
    /// No request for the idle timeout.
    Idle,
    /// A request body did not arrive in time (`408`).
    BodyRead,
    /// A request in progress moved no byte either way for the stall timeout.
    Stalled,
}

impl TimeoutKind {
    /// Every kind, in the order of [`TimeoutKind::index`].
    pub const ALL: [TimeoutKind; 4] =
        [TimeoutKind::HeaderRead, TimeoutKind::Idle, TimeoutKind::BodyRead, TimeoutKind::Stalled];

    /// The `timeout` label in `/metrics`.
    pub fn label(self) -> &'static str {
        match self {
            TimeoutKind::HeaderRead => "header_read",
            TimeoutKind::Idle => "idle",
            TimeoutKind::BodyRead => "body_read",
            TimeoutKind::Stalled => "stalled",
        }
    }

    /// Position in [`TimeoutKind::ALL`].
    pub fn index(self) -> usize {
        match self {
            TimeoutKind::HeaderRead => 0,
            TimeoutKind::Idle => 1,
            TimeoutKind::BodyRead => 2,
            TimeoutKind::Stalled => 3,
        }
    }
}

/// "No time": `head_started` when no request head is being awaited.
const NONE: u64 = u64::MAX;

/// What the IO wrapper, the service and the watchdog of one connection share. Times are
/// milliseconds since the connection was accepted.
#[derive(Debug)]
pub(crate) struct ConnState {
    accepted: Instant,
    /// Requests in progress (more than one only on HTTP/2).
    busy: AtomicU32,
    /// When `busy` last fell to zero.
    idle_since: AtomicU64,
    /// When the head of the next request started to arrive (accept time for the first
    /// request), or [`NONE`].
    head_started: AtomicU64,
    /// When a byte last moved either way.
    last_io: AtomicU64,
    /// The connection speaks HTTP/2: bytes between requests are control frames, not the
    /// start of a request head.
    http2: AtomicBool,
    /// A request head has been received in full at least once.
    served: AtomicBool,
    /// The connection was asked to give up its slot ([`Registry::evict_one`]).
    evicted: AtomicBool,
    /// Wakes the connection's task when it is evicted.
    evict_signal: Notify,
}

impl ConnState {
    pub(crate) fn new() -> Self {
        ConnState {
            accepted: Instant::now(),
            busy: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            last_io: AtomicU64::new(0),
            http2: AtomicBool::new(false),
            served: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            evict_signal: Notify::new(),
        }
    }

    fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed) > 0
    }

    fn has_served(&self) -> bool {
        self.served.load(Ordering::Relaxed)
    }

    fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Since when the connection has been waiting: for its first request head since it
    /// was accepted, else for its next request since the last one ended (or, on
    /// HTTP/1.1, since its last byte).
    fn waiting_since(&self) -> Instant {
        if !self.has_served() {
            return self.accepted;
        }
        let since = self.idle_since.load(Ordering::Relaxed).max(self.last_io.load(Ordering::Relaxed));
        self.accepted + Duration::from_millis(since)
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Relaxed);
        self.evict_signal.notify_one();
    }

    /// Whether a request is in progress.
    pub(crate) fn has_request_in_progress(&self) -> bool {
        self.is_busy()
    }

    /// Whether a request head has been received in full at least once.
    pub(crate) fn has_served_requests(&self) -> bool {
        self.has_served()
    }

    /// Withdraws an eviction the connection need not follow.
    pub(crate) fn pardon(&self) {
        self.evicted.store(false, Ordering::Relaxed);
    }

    /// Resolves once the connection has been asked to give up its slot.
    pub(crate) async fn evicted(&self) {
        self.evict_signal.notified().await;
    }

    fn now(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn on_read(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::Relaxed) == 0
            && !self.http2.load(Ordering::Relaxed)
            && self.head_started.load(Ordering::Relaxed) == NONE
        {
            self.head_started.store(now, Ordering::Relaxed);
        }
    }

    fn on_write(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    /// The next deadline and what passing it means.
    fn deadline(&self, timeouts: &Timeouts) -> (u64, TimeoutKind) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(NONE / 2);
        if self.busy.load(Ordering::Relaxed) > 0 {
            let last = self.last_io.load(Ordering::Relaxed);
            return (last.saturating_add(ms(timeouts.stall)), TimeoutKind::Stalled);
        }
        let head = self.head_started.load(Ordering::Relaxed);
        if head != NONE {
            return (head.saturating_add(ms(timeouts.header_read)), TimeoutKind::HeaderRead);
        }
        let mut since = self.idle_since.load(Ordering::Relaxed);
        if !self.http2.load(Ordering::Relaxed) {
            // HTTP/1.1: a response still being written keeps the connection from idling.
            since = since.max(self.last_io.load(Ordering::Relaxed));
        }
        (since.saturating_add(ms(timeouts.idle)), TimeoutKind::Idle)
    }
}

/// The timeouts the watchdog enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header_read: Duration,
    pub(crate) idle: Duration,
    pub(crate) stall: Duration,
}

impl Timeouts {
    /// Any state change sets a deadline at least this far ahead, so the watchdog never
    /// sleeps longer than this without looking again.
    fn shortest(&self) -> Duration {
        self.header_read.min(self.idle).min(self.stall)
    }
}

/// Resolves when the connection has passed one of its deadlines, with the kind. Wakes
/// at the current deadline or after the shortest timeout, whichever is sooner: a state
/// change can only set a deadline at least that far from when it happens.
pub(crate) async fn watchdog(state: &ConnState, timeouts: Timeouts) -> TimeoutKind {
    let shortest = u64::try_from(timeouts.shortest().as_millis()).unwrap_or(NONE / 2).max(1);
    loop {
        let now = state.now();
        let (deadline, kind) = state.deadline(&timeouts);
        if now >= deadline {
            return kind;
        }
        let wake = deadline.min(now.saturating_add(shortest));
        let at = state.accepted + Duration::from_millis(wake);
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
    }
}

/// How long an idle HTTP/2 connection may take to close after its GOAWAY.
pub(crate) const fn idle_close_grace() -> Duration {
    IDLE_CLOSE_GRACE
}

/// Counts one request in progress on a connection until dropped.
#[derive(Debug)]
pub struct RequestGuard(Arc<ConnState>);

impl RequestGuard {
    pub(crate) fn start(state: &Arc<ConnState>, version: http::Version) -> Self {
        if version == http::Version::HTTP_2 && !state.http2.load(Ordering::Relaxed) {
            state.http2.store(true, Ordering::Relaxed);
        }
        state.busy.fetch_add(1, Ordering::Relaxed);
        state.served.store(true, Ordering::Relaxed);
        state.head_started.store(NONE, Ordering::Relaxed);
        RequestGuard(state.clone())
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let state = &self.0;
        if state.busy.fetch_sub(1, Ordering::Relaxed) == 1 {
            state.idle_since.store(state.now(), Ordering::Relaxed);
        }
    }
}

/// A response body that keeps its request counted as in progress until hyper drops it.
#[derive(Debug)]
pub struct GuardedBody<B> {
    body: B,
    _guard: RequestGuard,
}

impl<B> GuardedBody<B> {
    pub(crate) fn new(body: B, guard: RequestGuard) -> Self {
        GuardedBody { body, _guard: guard }
    }
}

impl<B: Body + Unpin> Body for GuardedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// An IO stream that records its traffic in a [`ConnState`]: one clock read and a few
/// relaxed atomic operations per read or write that moved bytes.
#[derive(Debug)]
pub(crate) struct Tracked<S> {
    inner: S,
    state: Arc<ConnState>,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, state: Arc<ConnState>) -> Self {
        Tracked { inner, state }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.state.on_read();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.state.on_write();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.state.on_write();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_fit_under_the_descriptor_limit() {
        assert_eq!(max_connections_for_descriptors(10_000), 10_000 - 1024);
        assert_eq!(max_connections_for_descriptors(20_000), MAX_CONNECTIONS_CAP);
        assert_eq!(max_connections_for_descriptors(1_048_576), MAX_CONNECTIONS_CAP);
        assert_eq!(max_connections_for_descriptors(1024), 512);
        assert_eq!(max_connections_for_descriptors(256), 128);
        assert_eq!(max_connections_for_descriptors(1), 1);
        assert_eq!(max_connections_for_descriptors(0), 1);
    }

    #[test]
    fn deadlines_follow_the_state() {
        let timeouts = Timeouts {
            header_read: Duration::from_millis(10),
            idle: Duration::from_millis(100),
            stall: Duration::from_millis(1000),
        };
        let state = Arc::new(ConnState::new());
        assert_eq!(state.deadline(&timeouts), (10, TimeoutKind::HeaderRead), "first request from accept");
        let guard = RequestGuard::start(&state, http::Version::HTTP_11);
        assert_eq!(state.deadline(&timeouts).1, TimeoutKind::Stalled);
        drop(guard);
        assert_eq!(state.deadline(&timeouts).1, TimeoutKind::Idle);
        state.on_read();
        assert_eq!(state.deadline(&timeouts).1, TimeoutKind::HeaderRead, "HTTP/1.1: a new head started");
        let guard = RequestGuard::start(&state, http::Version::HTTP_2);
        drop(guard);
        state.on_read();
        assert_eq!(state.deadline(&timeouts).1, TimeoutKind::Idle, "HTTP/2: control frames are no request");
    }

    #[test]
    fn stall_timeout_outlasts_two_heartbeats() {
        let limits = ConnectionLimits { idle_timeout: Duration::from_secs(1), ..ConnectionLimits::default() };
        assert_eq!(limits.stall_timeout(Duration::from_millis(100)), Duration::from_secs(1));
        assert_eq!(limits.stall_timeout(Duration::from_secs(5)), Duration::from_secs(10));
    }
}
