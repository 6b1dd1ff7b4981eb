//! A hostile client against the real binary: slowloris, a connection flood, oversized
//! request heads and bodies, and HTTP/2 streams beyond the bound. Each test asserts that
//! the normal client beside the attack keeps getting answers (with generous timeouts,
//! never how fast), or that the oversized request is refused as documented.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use common::{wait_active, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most any single answer the tests wait for may take, however loaded the machine.
const CEILING: Duration = Duration::from_secs(60);

/// The start of a request head that a slow client never finishes.
const HALF_SENT: &[u8] = b"POST / HTTP/1.1\r\nHost: rheo\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nX-Padding: ";

fn address(server: &Server) -> String {
    server.endpoint.trim_start_matches("http://").to_owned()
}

/// A normal client's work: create a stream, then put and list, each call answered.
async fn normal_client_is_served(server: &Server, stream: &str, calls: usize) {
    let kin = server.client();
    tokio::time::timeout(CEILING, kin.create_stream().stream_name(stream).shard_count(1).send())
        .await
        .expect("CreateStream answered")
        .expect("CreateStream");
    tokio::time::timeout(CEILING, wait_active(&kin, stream)).await.expect("stream ACTIVE");
    for i in 0..calls {
        let put = kin.put_record().stream_name(stream).partition_key("k").data(Blob::new(format!("record {i}")));
        tokio::time::timeout(CEILING, put.send()).await.expect("PutRecord answered").expect("PutRecord");
        let listed = tokio::time::timeout(CEILING, kin.list_streams().send())
            .await
            .expect("ListStreams answered")
            .expect("ListStreams");
        assert!(listed.stream_names().iter().any(|name| name == stream));
    }
}

/// One GET answered on a fresh connection: the status line and the body.
async fn get(server: &Server, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address(server)).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: rheo\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let answer = read_answer(&mut stream).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

/// Reads until the server closes the connection.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(CEILING, stream.read_to_end(&mut out)).await.expect("the server answers and closes");
    String::from_utf8_lossy(&out).into_owned()
}

/// A counter's value in `/metrics`.
async fn metric(server: &Server, name: &str) -> u64 {
    let (_, body) = get(server, "/metrics").await;
    body.lines()
        .find(|line| line.starts_with(name) && line.as_bytes().get(name.len()) == Some(&b' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in\n{body}"))
}

/// Slowloris: many connections each trickling a request head a byte at a time, and
/// reconnecting whenever the server closes them, never finishing. The header-read timeout
/// is long here, so only the eviction of connections without a request keeps the normal
/// client served.
#[tokio::test]
async fn slowloris_does_not_starve_a_normal_client() {
    const ATTACKERS: usize = 48;
    let server = Server::start(&["--max-connections", "16", "--header-read-timeout-ms", "600000"]);
    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|_| {
            let address = address(&server);
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut stream) = TcpStream::connect(&address).await else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    };
                    for byte in HALF_SENT.iter().chain(std::iter::repeat(&b'x')) {
                        if stop.load(Ordering::Relaxed) || stream.write_all(&[*byte]).await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
        .collect();
    // Let the attack fill every slot first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    normal_client_is_served(&server, "beside-slowloris", 10).await;
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.await.expect("attacker task");
    }
    assert!(metric(&server, "rheo_connections_evicted_total").await > 0);
}

/// A flood: far more connections than `--max-connections`, opened at once and held open
/// without a byte sent, while a normal client works.
#[tokio::test]
async fn a_connection_flood_does_not_starve_a_normal_client() {
    const FLOOD: usize = 400;
    let server = Server::start(&["--max-connections", "32", "--header-read-timeout-ms", "600000"]);
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        flood.push(TcpStream::connect(address(&server)).await.expect("connect"));
    }
    normal_client_is_served(&server, "beside-flood", 10).await;
    // The flood's connections beyond the limit were closed to make room, without an answer.
    let mut closed = 0;
    for mut stream in flood {
        let mut byte = [0u8; 1];
        if let Ok(Ok(read)) = tokio::time::timeout(Duration::from_millis(10), stream.read(&mut byte)).await {
            assert_eq!(read, 0, "a connection that sent nothing got an answer");
            closed += 1;
        }
    }
    assert!(closed >= FLOOD - 32, "only {closed} of {FLOOD} flood connections were closed");
    assert!(metric(&server, "rheo_connections_evicted_total").await >= (FLOOD - 32) as u64);
}

#[tokio::test]
async fn an_oversized_request_head_is_answered_431() {
    let server = Server::start(&[]);
    let head_bytes = rheo_server::REQUEST_HEAD_BYTES_MAX + 1024;
    let big_header = format!(
        "POST / HTTP/1.1\r\nHost: rheo\r\nX-Padding: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "x".repeat(head_bytes)
    );
    let mut many_headers = String::from("POST / HTTP/1.1\r\nHost: rheo\r\n");
    for i in 0..=rheo_server::REQUEST_HEADERS_MAX {
        many_headers.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    many_headers.push_str("Content-Length: 2\r\n\r\n{}");
    for request in [big_header, many_headers] {
        let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
        // The server may answer and close before reading all of it.
        let _ = stream.write_all(request.as_bytes()).await;
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 431 "), "{}", &answer[..answer.len().min(200)]);
    }
    // The server serves on.
    assert_eq!(get(&server, "/health").await.0, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn an_oversized_request_body_is_answered_413() {
    let server = Server::start(&[]);
    let declared = rheo_server::REQUEST_BODY_BYTES_MAX + 1;
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: rheo\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: {declared}\r\n\r\n"
    );
    // The head alone: the declared length is enough for the answer.
    stream.write_all(head.as_bytes()).await.expect("send head");
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(CEILING, stream.read(&mut answer)).await.expect("answered").expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
}

// ----- HTTP/2 frames, written by hand so the client can break the server's limits -----

const FRAME_HEADERS: u8 = 0x1;
const FRAME_RST_STREAM: u8 = 0x3;
const FRAME_SETTINGS: u8 = 0x4;
const FRAME_GOAWAY: u8 = 0x7;
const FLAG_ACK: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const REFUSED_STREAM: u32 = 0x7;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).expect("small frame").to_be_bytes();
    let mut out = vec![length[1], length[2], length[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Reads one frame: its type, flags, stream and payload.
async fn read_frame(stream: &mut TcpStream) -> (u8, u8, u32, Vec<u8>) {
    let mut head = [0u8; 9];
    tokio::time::timeout(CEILING, stream.read_exact(&mut head)).await.expect("a frame").expect("read frame");
    let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; length];
    tokio::time::timeout(CEILING, stream.read_exact(&mut payload)).await.expect("a payload").expect("read payload");
    (head[3], head[4], id, payload)
}

/// With `--http2-max-streams 2` the server announces 2 and refuses a third stream opened
/// while two are in progress (their bodies never sent), and keeps the connection.
#[tokio::test]
async fn http2_streams_beyond_the_bound_are_refused() {
    let server = Server::start(&["--http2-max-streams", "2"]);
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.expect("preface");
    stream.write_all(&frame(FRAME_SETTINGS, 0, 0, &[])).await.expect("settings");
    // The server's settings come first; the limit applies once they are acknowledged.
    let (kind, flags, _, payload) = read_frame(&mut stream).await;
    assert_eq!((kind, flags), (FRAME_SETTINGS, 0));
    let announced = payload
        .chunks_exact(6)
        .find(|setting| u16::from_be_bytes([setting[0], setting[1]]) == SETTINGS_MAX_CONCURRENT_STREAMS)
        .map(|setting| u32::from_be_bytes([setting[2], setting[3], setting[4], setting[5]]));
    assert_eq!(announced, Some(2));
    stream.write_all(&frame(FRAME_SETTINGS, FLAG_ACK, 0, &[])).await.expect("settings ack");
    // HPACK, static table: :method POST, :scheme http, :path /.
    let headers = [0x83, 0x86, 0x84];
    for id in [1, 3, 5] {
        stream.write_all(&frame(FRAME_HEADERS, FLAG_END_HEADERS, id, &headers)).await.expect("headers");
    }
    loop {
        let (kind, _, id, payload) = read_frame(&mut stream).await;
        assert_ne!(kind, FRAME_GOAWAY, "the connection was closed: {payload:?}");
        if kind == FRAME_RST_STREAM {
            assert_eq!(id, 5, "only the stream beyond the bound is refused");
            assert_eq!(u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]), REFUSED_STREAM);
            break;
        }
    }
}
