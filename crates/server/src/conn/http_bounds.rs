//! What one connection may make the server hold: the size of a request head, the number
//! of its headers, and on HTTP/2 the streams, header lists, frames and flow-control
//! windows. Every bound is explicit rather than hyper's default, so it is documented and
//! tested here; larger request heads are answered `431` on HTTP/1.1, and streams beyond the
//! bound are refused with `REFUSED_STREAM` on HTTP/2.

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;

/// Largest HTTP/1.1 request head (request line and headers), in bytes; a larger one is
/// answered `431 Request Header Fields Too Large`. A signed SDK request head is about
/// 1–2 KiB; 64 KiB leaves room for long presigned query strings and custom headers. It
/// also caps hyper's read buffer, which the body passes through in pieces of this size.
pub const REQUEST_HEAD_BYTES_MAX: usize = 64 * 1024;

/// Headers one request may carry (HTTP/1.1); more are answered `431`. SDK requests send
/// about ten.
pub const REQUEST_HEADERS_MAX: usize = 100;

/// Default of [`super::ConnectionLimits::http2_max_streams`]: requests in progress at
/// once on one HTTP/2 connection; more are refused with `REFUSED_STREAM`, which clients
/// retry. KCL subscribes to every shard it leases over one connection of its Netty
/// client, which opens another connection when a server's limit is reached.
pub const HTTP2_MAX_STREAMS_DEFAULT: u32 = 256;

/// Largest HTTP/2 header list (decoded names and values), in bytes: as the HTTP/1.1 head.
pub const HTTP2_HEADER_LIST_BYTES_MAX: u32 = REQUEST_HEAD_BYTES_MAX as u32;

/// Largest HTTP/2 frame the server accepts: the protocol's default and minimum, so a
/// client cannot make it buffer bigger frames.
pub const HTTP2_FRAME_BYTES_MAX: u32 = 16 * 1024;

/// Request body bytes one HTTP/2 stream may have in flight before the server reads them.
pub const HTTP2_STREAM_WINDOW_BYTES: u32 = 1024 * 1024;

/// Request body bytes a whole HTTP/2 connection may have in flight: with the stream window
/// this bounds what one connection makes the server buffer, however many streams it opens.
pub const HTTP2_CONNECTION_WINDOW_BYTES: u32 = 2 * 1024 * 1024;

/// Response bytes buffered per HTTP/2 stream before the response body waits for the
/// client to read (hyper's default, kept: large enough for a SubscribeToShard event to
/// flow at full rate; with [`HTTP2_MAX_STREAMS_DEFAULT`] it bounds what a connection that
/// stops reading makes the server hold).
pub const HTTP2_SEND_BUFFER_BYTES: usize = 400 * 1024;

/// Streams a client may open and reset before the server has accepted them (the "rapid
/// reset" attack, CVE-2023-44487): beyond this the connection is closed.
pub const HTTP2_PENDING_RESETS_MAX: usize = 20;

/// Streams the server may reset because of client protocol errors before it closes the
/// connection.
pub const HTTP2_LOCAL_ERROR_RESETS_MAX: usize = 1024;

const _: () = assert!(REQUEST_HEAD_BYTES_MAX >= 8192, "hyper's smallest read buffer");
const _: () = assert!(HTTP2_STREAM_WINDOW_BYTES <= HTTP2_CONNECTION_WINDOW_BYTES);

/// A connection builder (HTTP/1.1 and HTTP/2, chosen per connection) with every bound
/// above; `http2_max_streams` from the server's limits.
pub(crate) fn builder(http2_max_streams: u32) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(REQUEST_HEAD_BYTES_MAX).max_headers(REQUEST_HEADERS_MAX);
    builder
        .http2()
        .max_concurrent_streams(http2_max_streams.max(1))
        .max_header_list_size(HTTP2_HEADER_LIST_BYTES_MAX)
        .max_frame_size(HTTP2_FRAME_BYTES_MAX)
        .initial_stream_window_size(HTTP2_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(HTTP2_CONNECTION_WINDOW_BYTES)
        .max_send_buf_size(HTTP2_SEND_BUFFER_BYTES)
        .max_pending_accept_reset_streams(HTTP2_PENDING_RESETS_MAX)
        .max_local_error_reset_streams(HTTP2_LOCAL_ERROR_RESETS_MAX);
    builder
}
