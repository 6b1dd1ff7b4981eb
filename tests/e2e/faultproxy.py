"""A fault-injecting HTTP/1.1 proxy for the archive tests: it sits between rheo and an
S3-compatible server (moto_server) and, switched from the test, passes requests through,
answers them with 503, delays them, refuses connections, or stops in the middle of a body.

It speaks just enough HTTP/1.1 for an S3 client: keep-alive, bodies by Content-Length or
chunked transfer encoding, HEAD answers without a body. Each client connection gets a thread
and its own keep-alive connection upstream."""

import http.client
import socket
import threading
import time

PASS = "pass"
UNAVAILABLE = "503"
SLOW = "slow"
DOWN = "down"
CUT = "cut"
MODES = (PASS, UNAVAILABLE, SLOW, DOWN, CUT)

# Limits: a request or header larger than these is the proxy's bug, not a fault to inject.
MAX_HEADER_LINE = 64 * 1024
MAX_HEADERS = 200
ACCEPT_POLL_S = 0.2
UPSTREAM_TIMEOUT_S = 60
SLOW_DOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>ServiceUnavailable</Code><Message>fault proxy: service unavailable</Message></Error>"
)
# Headers the proxy sets itself instead of copying.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class FaultProxy:
    """`FaultProxy(upstream_port).start()`; `.endpoint` for the client; `.set(mode, delay_s=)`."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.mode = PASS
        self.delay_s = 0.0
        self.lock = threading.Lock()
        self.counts = {}
        self.listener = None
        self.port = None
        self.stopped = threading.Event()
        self.connections = set()
        self.thread = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- control ----------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        self._listen(0)
        self.thread = threading.Thread(target=self._accept_loop, name="faultproxy-accept", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopped.set()
        self._close_listener()
        self._drop_connections()
        if self.thread:
            self.thread.join(timeout=5)

    def set(self, mode: str, delay_s: float = 0.0):
        """Switches the fault. DOWN closes the listening socket (new connections are refused)
        and drops the open ones; leaving DOWN listens again on the same port."""
        assert mode in MODES, mode
        with self.lock:
            previous, self.mode, self.delay_s = self.mode, mode, delay_s
        if mode == DOWN and previous != DOWN:
            self._close_listener()
            self._drop_connections()
        elif mode != DOWN and previous == DOWN:
            self._listen(self.port)

    def count(self, what: str) -> int:
        """Requests seen by mode outcome ("pass", "503", ...) or by method ("PUT", "GET", ...)."""
        with self.lock:
            return self.counts.get(what, 0)

    # ---- internals --------------------------------------------------------------------

    def _listen(self, port: int):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL_S)
        with self.lock:
            self.listener = listener
            self.port = listener.getsockname()[1]

    def _close_listener(self):
        with self.lock:
            listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()

    def _drop_connections(self):
        with self.lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept_loop(self):
        while not self.stopped.is_set():
            with self.lock:
                listener = self.listener
            if listener is None:
                time.sleep(ACCEPT_POLL_S)
                continue
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(None)
            with self.lock:
                self.connections.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="faultproxy-conn", daemon=True).start()

    def _note(self, *keys):
        with self.lock:
            for key in keys:
                self.counts[key] = self.counts.get(key, 0) + 1

    def _serve(self, conn: socket.socket):
        upstream = None
        reader = conn.makefile("rb")
        try:
            while not self.stopped.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                method, target, headers, body_reader = request
                with self.lock:
                    mode, delay_s = self.mode, self.delay_s
                self._note(method, mode)
                if mode == DOWN:
                    return
                if mode == CUT and body_reader.has_body:
                    # Take half the upload, then hang up: the client sees the connection reset.
                    body_reader.read_partial()
                    return
                body = body_reader.read_all()
                if mode == UNAVAILABLE:
                    _send(conn, 503, "Service Unavailable", [("Content-Type", "application/xml")], SLOW_DOWN_BODY)
                    continue
                if mode == SLOW and delay_s > 0:
                    time.sleep(delay_s)
                if upstream is None:
                    upstream = http.client.HTTPConnection(*self.upstream, timeout=UPSTREAM_TIMEOUT_S)
                forwarded = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
                upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for key, value in forwarded:
                    upstream.putheader(key, value)
                if body or method in ("PUT", "POST"):
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body)
                response = upstream.getresponse()
                payload = response.read()
                answer = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
                if method == "HEAD":
                    # A HEAD answer announces the object's length without sending it.
                    length = response.getheader("Content-Length")
                    if length is not None:
                        answer.append(("Content-Length", length))
                    _send(conn, response.status, response.reason, answer, b"", announce_length=False)
                elif mode == CUT and payload:
                    # Announce the whole body, send half of it, hang up.
                    answer.append(("Content-Length", str(len(payload))))
                    _send(conn, response.status, response.reason, answer, payload[: len(payload) // 2],
                          announce_length=False)
                    return
                else:
                    _send(conn, response.status, response.reason, answer, payload)
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            with self.lock:
                self.connections.discard(conn)
            if upstream is not None:
                upstream.close()
            try:
                reader.close()
                conn.close()
            except OSError:
                pass


class _Body:
    """A request body to read whole or, for CUT, by half."""

    def __init__(self, reader, headers):
        self.reader = reader
        lookup = {k.lower(): v for k, v in headers}
        self.chunked = "chunked" in lookup.get("transfer-encoding", "").lower()
        self.length = int(lookup.get("content-length", "0") or 0)
        self.has_body = self.chunked or self.length > 0

    def read_all(self) -> bytes:
        if self.chunked:
            parts = []
            while True:
                size = int(_line(self.reader).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while _line(self.reader) not in (b"", b"\r\n", b"\n"):
                        pass
                    return b"".join(parts)
                parts.append(_exactly(self.reader, size))
                _line(self.reader)
        return _exactly(self.reader, self.length)

    def read_partial(self):
        if self.chunked:
            _line(self.reader)
        else:
            _exactly(self.reader, self.length // 2)


def _line(reader) -> bytes:
    line = reader.readline(MAX_HEADER_LINE + 1)
    if len(line) > MAX_HEADER_LINE:
        raise ValueError("header line too long")
    return line


def _exactly(reader, n: int) -> bytes:
    data = reader.read(n)
    if len(data) != n:
        raise ValueError("connection closed inside a body")
    return data


def _read_request(reader):
    line = _line(reader)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3:
        raise ValueError(f"bad request line {line!r}")
    method, target, _ = parts
    headers = []
    while True:
        header = _line(reader)
        if header in (b"\r\n", b"\n", b""):
            break
        if len(headers) >= MAX_HEADERS:
            raise ValueError("too many headers")
        key, _, value = header.decode("latin-1").partition(":")
        headers.append((key.strip(), value.strip()))
    return method, target, headers, _Body(reader, headers)


def _send(conn, status, reason, headers, body: bytes, announce_length: bool = True):
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if announce_length:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    conn.sendall(head + body)
