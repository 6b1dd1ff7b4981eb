//! A minimal decoder for `application/vnd.amazon.eventstream`, the framing of
//! SubscribeToShard responses:
//!
//! ```text
//! total length u32 BE | headers length u32 BE | prelude CRC32 | headers | payload | message CRC32
//! header: name length u8 | name | type u8 | value (strings and bytes: u16 BE length + data)
//! ```

use bytes::{Buf, Bytes, BytesMut};

/// Largest message accepted (AWS's limit is 16 MiB).
const MESSAGE_BYTES_MAX: usize = 24 << 20;
const PRELUDE_BYTES: usize = 12;
const CRC_BYTES: usize = 4;

/// A header value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// Types 0 and 1.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Short(i16),
    /// Type 4.
    Int(i32),
    /// Type 5.
    Long(i64),
    /// Type 6.
    Bytes(Bytes),
    /// Type 7.
    String(String),
    /// Type 8 (ms since the epoch).
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

/// One decoded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Headers in order.
    pub headers: Vec<(String, HeaderValue)>,
    /// Payload (JSON for Kinesis).
    pub payload: Bytes,
}

impl Message {
    /// A string header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Why a stream could not be decoded.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Lengths that cannot be.
    #[error("bad message length {0}")]
    Length(usize),
    /// A CRC did not match.
    #[error("{0} CRC mismatch")]
    Crc(&'static str),
    /// Headers that do not parse.
    #[error("bad headers: {0}")]
    Headers(&'static str),
}

/// Accumulates bytes and yields whole messages.
#[derive(Default, Debug)]
pub struct Decoder {
    buffer: BytesMut,
}

impl Decoder {
    /// A decoder with nothing buffered.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Adds bytes received.
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole message, if one is buffered.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if self.buffer.len() < PRELUDE_BYTES {
            return Ok(None);
        }
        let total = u32::from_be_bytes([self.buffer[0], self.buffer[1], self.buffer[2], self.buffer[3]]) as usize;
        let headers_len = u32::from_be_bytes([self.buffer[4], self.buffer[5], self.buffer[6], self.buffer[7]]) as usize;
        let prelude_crc = u32::from_be_bytes([self.buffer[8], self.buffer[9], self.buffer[10], self.buffer[11]]);
        if crc32fast::hash(&self.buffer[..8]) != prelude_crc {
            return Err(FrameError::Crc("prelude"));
        }
        if total < PRELUDE_BYTES + CRC_BYTES + headers_len || total > MESSAGE_BYTES_MAX {
            return Err(FrameError::Length(total));
        }
        if self.buffer.len() < total {
            return Ok(None);
        }
        let mut frame = self.buffer.split_to(total).freeze();
        let message_crc = u32::from_be_bytes([frame[total - 4], frame[total - 3], frame[total - 2], frame[total - 1]]);
        if crc32fast::hash(&frame[..total - CRC_BYTES]) != message_crc {
            return Err(FrameError::Crc("message"));
        }
        frame.advance(PRELUDE_BYTES);
        let mut headers_bytes = frame.split_to(headers_len);
        frame.truncate(frame.len() - CRC_BYTES);
        let headers = parse_headers(&mut headers_bytes)?;
        Ok(Some(Message { headers, payload: frame }))
    }
}

fn take(buf: &mut Bytes, n: usize) -> Result<Bytes, FrameError> {
    if buf.len() < n {
        return Err(FrameError::Headers("truncated"));
    }
    Ok(buf.split_to(n))
}

fn parse_headers(buf: &mut Bytes) -> Result<Vec<(String, HeaderValue)>, FrameError> {
    let mut headers = Vec::new();
    while buf.has_remaining() {
        let name_len = take(buf, 1)?[0] as usize;
        let name =
            String::from_utf8(take(buf, name_len)?.to_vec()).map_err(|_| FrameError::Headers("name not UTF-8"))?;
        let kind = take(buf, 1)?[0];
        let fixed = |buf: &mut Bytes, n: usize| -> Result<Bytes, FrameError> { take(buf, n) };
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(fixed(buf, 1)?[0] as i8),
            3 => HeaderValue::Short(fixed(buf, 2)?.get_i16()),
            4 => HeaderValue::Int(fixed(buf, 4)?.get_i32()),
            5 => HeaderValue::Long(fixed(buf, 8)?.get_i64()),
            6 | 7 => {
                let len = fixed(buf, 2)?.get_u16() as usize;
                let data = take(buf, len)?;
                if kind == 6 {
                    HeaderValue::Bytes(data)
                } else {
                    HeaderValue::String(
                        String::from_utf8(data.to_vec()).map_err(|_| FrameError::Headers("value not UTF-8"))?,
                    )
                }
            }
            8 => HeaderValue::Timestamp(fixed(buf, 8)?.get_i64()),
            9 => {
                let mut uuid = [0u8; 16];
                uuid.copy_from_slice(&fixed(buf, 16)?);
                HeaderValue::Uuid(uuid)
            }
            _ => return Err(FrameError::Headers("unknown value type")),
        };
        headers.push((name, value));
    }
    Ok(headers)
}

/// Encodes a message with string headers (tests, and a reference for servers).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = PRELUDE_BYTES + h.len() + payload.len() + CRC_BYTES;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_pieces() {
        let a = encode(&[(":message-type", "event"), (":event-type", "initial-response")], b"{}");
        let b = encode(
            &[
                (":message-type", "event"),
                (":event-type", "SubscribeToShardEvent"),
                (":content-type", "application/json"),
            ],
            br#"{"Records":[],"ContinuationSequenceNumber":"1","MillisBehindLatest":0}"#,
        );
        let mut all = a.clone();
        all.extend_from_slice(&b);
        let mut decoder = Decoder::new();
        let mut messages = Vec::new();
        for chunk in all.chunks(7) {
            decoder.push(chunk);
            while let Some(m) = decoder.next_message().unwrap() {
                messages.push(m);
            }
        }
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].header(":event-type"), Some("initial-response"));
        assert_eq!(&messages[0].payload[..], b"{}");
        assert_eq!(messages[1].header(":event-type"), Some("SubscribeToShardEvent"));
        assert!(messages[1].payload.starts_with(b"{\"Records\""));
    }

    /// `valid_with_all_headers_and_payload` from the AWS SDKs' event-stream test data
    /// (every header type).
    #[test]
    fn aws_vector_all_header_types() {
        const HEX: &str = "000000960000007a8bb495fb0474727565000566616c736501046279746502320573686f7274034e2003696e74\
                           040007a120046c6f6e67050000000ba43b740005627974657306000a736f6d6520627974657303737472070008\
                           736f6d65207374720474696d6508000000012a05f200047575696409b79bc914de214e13b8b2bc47e85b7f0b73\
                           6f6d65207061796c6f616401a05860";
        let hex: String = HEX.split_whitespace().collect();
        let frame: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        assert_eq!(frame.len(), 150);
        let mut decoder = Decoder::new();
        decoder.push(&frame);
        let m = decoder.next_message().unwrap().unwrap();
        let uuid = 0xb79bc914_de21_4e13_b8b2_bc47e85b7f0b_u128.to_be_bytes();
        assert_eq!(
            m.headers,
            vec![
                ("true".to_owned(), HeaderValue::Bool(true)),
                ("false".to_owned(), HeaderValue::Bool(false)),
                ("byte".to_owned(), HeaderValue::Byte(50)),
                ("short".to_owned(), HeaderValue::Short(20_000)),
                ("int".to_owned(), HeaderValue::Int(500_000)),
                ("long".to_owned(), HeaderValue::Long(50_000_000_000)),
                ("bytes".to_owned(), HeaderValue::Bytes(Bytes::from_static(b"some bytes"))),
                ("str".to_owned(), HeaderValue::String("some str".into())),
                ("time".to_owned(), HeaderValue::Timestamp(5_000_000_000)),
                ("uuid".to_owned(), HeaderValue::Uuid(uuid)),
            ]
        );
        assert_eq!(&m.payload[..], b"some payload");
        assert_eq!(decoder.next_message(), Ok(None));
    }

    #[test]
    fn corruption_is_detected() {
        let mut frame = encode(&[(":message-type", "event")], b"payload");
        let last = frame.len() - 6;
        frame[last] ^= 1;
        let mut decoder = Decoder::new();
        decoder.push(&frame);
        assert_eq!(decoder.next_message(), Err(FrameError::Crc("message")));
        let mut decoder = Decoder::new();
        decoder.push(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decoder.next_message(), Err(FrameError::Crc("prelude")));
    }
}
