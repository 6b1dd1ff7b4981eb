//! The `application/vnd.amazon.eventstream` framing, the body of a SubscribeToShard
//! response: one encoder (the server) and one decoder (the client library, `rheo bench`,
//! the tests and the fuzz target), so that what one side writes the other reads.
//!
//! ```text
//! message := total_len:u32 headers_len:u32 prelude_crc:u32 headers payload message_crc:u32
//! header  := name_len:u8 name type:u8 value
//! value   := (strings and byte arrays) len:u16 data | (others) fixed-size big-endian
//! ```
//!
//! Both CRCs are CRC-32 (IEEE): the prelude CRC covers the first eight bytes, the
//! message CRC everything before it. The frames [`encode`] writes are byte-identical to
//! the AWS SDK for Rust's (`aws-smithy-eventstream`), which this crate's tests check.
//!
//! Every message SubscribeToShard sends has three string headers: `:message-type`
//! (`event` or `exception`), `:event-type` (`initial-response`, `SubscribeToShardEvent`)
//! or `:exception-type` (the AWS error type), and `:content-type` (the payload's format).
//!
//! The decoder is allocation-light because the latency benchmark runs it on every event:
//! a decoded [`Message`] shares the receive buffer (its headers and payload are slices of
//! it), headers are validated once when the message is cut and then read in place.
//!
//! ```
//! use rheo_aws::event_stream::{event, Decoder};
//!
//! let frame = event("SubscribeToShardEvent", "application/json", b"{}").unwrap();
//! let mut decoder = Decoder::new();
//! decoder.push(&frame[..5]);
//! assert!(decoder.next_message().unwrap().is_none());
//! decoder.push(&frame[5..]);
//! let message = decoder.next_message().unwrap().unwrap();
//! assert_eq!(message.header(":event-type"), Some("SubscribeToShardEvent"));
//! assert_eq!(&message.payload()[..], b"{}");
//! ```

use bytes::{Bytes, BytesMut};

use crate::limits::{
    EVENT_STREAM_HEADER_NAME_BYTES_MAX, EVENT_STREAM_HEADER_VALUE_BYTES_MAX, EVENT_STREAM_MESSAGE_BYTES_MAX,
};

/// The HTTP `Content-Type` of an event-stream body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Bytes a frame adds to its headers and payload: prelude, prelude CRC, message CRC.
pub const FRAME_OVERHEAD_BYTES: usize = PRELUDE_BYTES + CRC_BYTES;

/// Total length, headers length, prelude CRC.
const PRELUDE_BYTES: usize = 12;
const CRC_BYTES: usize = 4;

const TYPE_TRUE: u8 = 0;
const TYPE_FALSE: u8 = 1;
const TYPE_BYTE: u8 = 2;
const TYPE_SHORT: u8 = 3;
const TYPE_INT: u8 = 4;
const TYPE_LONG: u8 = 5;
const TYPE_BYTES: u8 = 6;
const TYPE_STRING: u8 = 7;
const TYPE_TIMESTAMP: u8 = 8;
const TYPE_UUID: u8 = 9;

/// A header value, borrowed from the message (decoding) or the caller (encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// Types 0 (true) and 1 (false).
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
    Bytes(&'a [u8]),
    /// Type 7.
    String(&'a str),
    /// Type 8: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

/// One header: a name and a typed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header's name (`:event-type`, …).
    pub name: &'a str,
    /// Its value.
    pub value: HeaderValue<'a>,
}

impl<'a> Header<'a> {
    /// A string header, the only kind SubscribeToShard sends.
    pub const fn string(name: &'a str, value: &'a str) -> Self {
        Header { name, value: HeaderValue::String(value) }
    }
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A header name longer than its one-byte length can say.
    #[error("event-stream header name of {0} bytes is over {EVENT_STREAM_HEADER_NAME_BYTES_MAX}")]
    HeaderNameTooLong(usize),
    /// A string or byte-array header value over the protocol's limit.
    #[error("event-stream header value of {0} bytes is over {EVENT_STREAM_HEADER_VALUE_BYTES_MAX}")]
    HeaderValueTooLong(usize),
    /// The whole message would be over [`EVENT_STREAM_MESSAGE_BYTES_MAX`].
    #[error("event-stream message of {0} bytes is over {EVENT_STREAM_MESSAGE_BYTES_MAX}")]
    MessageTooLong(usize),
}

/// Why a stream could not be decoded. The framing has no resynchronisation point, so
/// after any of these the stream is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The prelude's CRC does not match its first eight bytes.
    #[error("event-stream prelude CRC mismatch")]
    PreludeCrc,
    /// The message CRC does not match the message.
    #[error("event-stream message CRC mismatch")]
    MessageCrc,
    /// Total and headers lengths that cannot describe a message.
    #[error("event-stream lengths do not fit: total {total}, headers {headers}")]
    Length {
        /// The prelude's total length.
        total: usize,
        /// The prelude's headers length.
        headers: usize,
    },
    /// A message over [`EVENT_STREAM_MESSAGE_BYTES_MAX`].
    #[error("event-stream message of {0} bytes is over {EVENT_STREAM_MESSAGE_BYTES_MAX}")]
    TooLong(usize),
    /// Header bytes that do not parse.
    #[error("bad event-stream headers: {0}")]
    Headers(&'static str),
    /// An earlier call failed; the stream cannot be read further.
    #[error("the event stream failed earlier")]
    Failed,
}

/// One decoded message. Headers and payload are slices of the bytes received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header block, already validated by [`Decoder::next_message`].
    headers: Bytes,
    payload: Bytes,
}

impl Message {
    /// The headers, in the order they were sent.
    pub fn headers(&self) -> Headers<'_> {
        Headers { rest: &self.headers }
    }

    /// The value of the first string header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().find(|h| h.name == name).and_then(|h| match h.value {
            HeaderValue::String(value) => Some(value),
            _ => None,
        })
    }

    /// The payload (JSON or CBOR for Kinesis).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The payload, without copying it.
    pub fn into_payload(self) -> Bytes {
        self.payload
    }
}

/// The headers of a [`Message`], read in place.
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        // The block was validated when the message was decoded, so this cannot fail;
        // stopping is the safe answer if it ever did.
        match parse_header(self.rest) {
            Ok(Some((header, rest))) => {
                self.rest = rest;
                Some(header)
            }
            _ => None,
        }
    }
}

/// Splits `n` bytes off the front of `buf`.
fn split(buf: &[u8], n: usize) -> Result<(&[u8], &[u8]), DecodeError> {
    if buf.len() < n {
        return Err(DecodeError::Headers("truncated"));
    }
    Ok(buf.split_at(n))
}

fn fixed<const N: usize>(buf: &[u8]) -> Result<([u8; N], &[u8]), DecodeError> {
    let (bytes, rest) = split(buf, N)?;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok((out, rest))
}

/// The first header of `buf` and the bytes after it, or `None` at the end.
fn parse_header(buf: &[u8]) -> Result<Option<(Header<'_>, &[u8])>, DecodeError> {
    let Some((&name_len, rest)) = buf.split_first() else { return Ok(None) };
    let (name, rest) = split(rest, usize::from(name_len))?;
    let name = std::str::from_utf8(name).map_err(|_| DecodeError::Headers("name not UTF-8"))?;
    let (&kind, rest) = rest.split_first().ok_or(DecodeError::Headers("truncated"))?;
    let (value, rest) = match kind {
        TYPE_TRUE => (HeaderValue::Bool(true), rest),
        TYPE_FALSE => (HeaderValue::Bool(false), rest),
        TYPE_BYTE => {
            let ([b], rest) = fixed::<1>(rest)?;
            (HeaderValue::Byte(b as i8), rest)
        }
        TYPE_SHORT => {
            let (b, rest) = fixed::<2>(rest)?;
            (HeaderValue::Short(i16::from_be_bytes(b)), rest)
        }
        TYPE_INT => {
            let (b, rest) = fixed::<4>(rest)?;
            (HeaderValue::Int(i32::from_be_bytes(b)), rest)
        }
        TYPE_LONG => {
            let (b, rest) = fixed::<8>(rest)?;
            (HeaderValue::Long(i64::from_be_bytes(b)), rest)
        }
        TYPE_BYTES | TYPE_STRING => {
            let (len, rest) = fixed::<2>(rest)?;
            let (data, rest) = split(rest, usize::from(u16::from_be_bytes(len)))?;
            if kind == TYPE_BYTES {
                (HeaderValue::Bytes(data), rest)
            } else {
                let value = std::str::from_utf8(data).map_err(|_| DecodeError::Headers("value not UTF-8"))?;
                (HeaderValue::String(value), rest)
            }
        }
        TYPE_TIMESTAMP => {
            let (b, rest) = fixed::<8>(rest)?;
            (HeaderValue::Timestamp(i64::from_be_bytes(b)), rest)
        }
        TYPE_UUID => {
            let (b, rest) = fixed::<16>(rest)?;
            (HeaderValue::Uuid(b), rest)
        }
        _ => return Err(DecodeError::Headers("unknown value type")),
    };
    Ok(Some((Header { name, value }, rest)))
}

fn write_header(header: &Header<'_>, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let name = header.name.as_bytes();
    if name.len() > EVENT_STREAM_HEADER_NAME_BYTES_MAX {
        return Err(EncodeError::HeaderNameTooLong(name.len()));
    }
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    let mut variable = |kind: u8, data: &[u8]| {
        if data.len() > EVENT_STREAM_HEADER_VALUE_BYTES_MAX {
            return Err(EncodeError::HeaderValueTooLong(data.len()));
        }
        out.push(kind);
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
        Ok(())
    };
    match header.value {
        HeaderValue::Bytes(data) => return variable(TYPE_BYTES, data),
        HeaderValue::String(value) => return variable(TYPE_STRING, value.as_bytes()),
        _ => {}
    }
    match header.value {
        HeaderValue::Bool(true) => out.push(TYPE_TRUE),
        HeaderValue::Bool(false) => out.push(TYPE_FALSE),
        HeaderValue::Byte(b) => out.extend_from_slice(&[TYPE_BYTE, b as u8]),
        HeaderValue::Short(v) => {
            out.push(TYPE_SHORT);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Int(v) => {
            out.push(TYPE_INT);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Long(v) => {
            out.push(TYPE_LONG);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Timestamp(v) => {
            out.push(TYPE_TIMESTAMP);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Uuid(v) => {
            out.push(TYPE_UUID);
            out.extend_from_slice(&v);
        }
        HeaderValue::Bytes(_) | HeaderValue::String(_) => {}
    }
    Ok(())
}

/// Appends one framed message to `out`. On error `out` is left as it was.
pub fn encode_to(headers: &[Header<'_>], payload: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    // Room for the prelude, written once the headers' length is known.
    out.extend_from_slice(&[0u8; PRELUDE_BYTES]);
    for header in headers {
        if let Err(error) = write_header(header, out) {
            out.truncate(start);
            return Err(error);
        }
    }
    let headers_len = out.len() - start - PRELUDE_BYTES;
    let total = PRELUDE_BYTES + headers_len + payload.len() + CRC_BYTES;
    if total > EVENT_STREAM_MESSAGE_BYTES_MAX {
        out.truncate(start);
        return Err(EncodeError::MessageTooLong(total));
    }
    // Both fit in u32: total is bounded by the limit above.
    out[start..start + 4].copy_from_slice(&(total as u32).to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&(headers_len as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out[start..start + 8]);
    out[start + 8..start + 12].copy_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&message_crc.to_be_bytes());
    Ok(())
}

/// One framed message.
pub fn encode(headers: &[Header<'_>], payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(FRAME_OVERHEAD_BYTES + 96 + payload.len());
    encode_to(headers, payload, &mut out)?;
    Ok(out)
}

/// An `event` message: `:message-type` `event`, then `:event-type` and `:content-type`.
/// Fails only for a payload near [`EVENT_STREAM_MESSAGE_BYTES_MAX`].
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Result<Bytes, EncodeError> {
    let headers = [
        Header::string(":message-type", "event"),
        Header::string(":event-type", event_type),
        Header::string(":content-type", content_type),
    ];
    encode(&headers, payload).map(Bytes::from)
}

/// An `exception` message: a modelled error ending the stream.
pub fn exception(exception_type: &str, content_type: &str, payload: &[u8]) -> Result<Bytes, EncodeError> {
    let headers = [
        Header::string(":message-type", "exception"),
        Header::string(":exception-type", exception_type),
        Header::string(":content-type", content_type),
    ];
    encode(&headers, payload).map(Bytes::from)
}

/// Decodes messages from a body that arrives in chunks split at arbitrary bytes. It
/// buffers at most one message (bounded by [`EVENT_STREAM_MESSAGE_BYTES_MAX`]) beyond what
/// has been pushed and not yet taken. After an error (a bad CRC or length) the stream
/// cannot be resynchronised and every later call fails with [`DecodeError::Failed`].
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: BytesMut,
    failed: bool,
}

impl Decoder {
    /// A decoder with nothing buffered.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// Bytes received but not yet decoded (a partial message).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next complete message, or `None` until more bytes arrive.
    pub fn next_message(&mut self) -> Result<Option<Message>, DecodeError> {
        if self.failed {
            return Err(DecodeError::Failed);
        }
        match self.cut() {
            Ok(message) => Ok(message),
            Err(error) => {
                self.failed = true;
                self.buffer.clear();
                Err(error)
            }
        }
    }

    fn cut(&mut self) -> Result<Option<Message>, DecodeError> {
        let Some(prelude) = self.buffer.get(..PRELUDE_BYTES) else { return Ok(None) };
        let word = |i: usize| u32::from_be_bytes([prelude[i], prelude[i + 1], prelude[i + 2], prelude[i + 3]]);
        let (total, headers_len, prelude_crc) = (word(0) as usize, word(4) as usize, word(8));
        if crc32fast::hash(&prelude[..8]) != prelude_crc {
            return Err(DecodeError::PreludeCrc);
        }
        if total > EVENT_STREAM_MESSAGE_BYTES_MAX {
            return Err(DecodeError::TooLong(total));
        }
        if total < FRAME_OVERHEAD_BYTES || headers_len > total - FRAME_OVERHEAD_BYTES {
            return Err(DecodeError::Length { total, headers: headers_len });
        }
        if self.buffer.len() < total {
            // Reserve once for the rest of the message rather than growing chunk by chunk.
            self.buffer.reserve(total - self.buffer.len());
            return Ok(None);
        }
        let (body, crc) = self.buffer[..total].split_at(total - CRC_BYTES);
        if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(DecodeError::MessageCrc);
        }
        let mut headers_block = &body[PRELUDE_BYTES..PRELUDE_BYTES + headers_len];
        while let Some((_, rest)) = parse_header(headers_block)? {
            headers_block = rest;
        }
        let mut frame = self.buffer.split_to(total).freeze();
        let _prelude = frame.split_to(PRELUDE_BYTES);
        let headers = frame.split_to(headers_len);
        frame.truncate(frame.len() - CRC_BYTES);
        Ok(Some(Message { headers, payload: frame }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream as smithy;
    use proptest::prelude::*;

    use super::*;

    /// Decodes `stream` fed in pieces that end at `cuts` (offsets, any order).
    fn decode_in_pieces(stream: &[u8], cuts: &[usize]) -> Result<Vec<Message>, DecodeError> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();
        let mut decoder = Decoder::new();
        let mut messages = Vec::new();
        let mut from = 0;
        for cut in cuts {
            decoder.push(&stream[from..cut]);
            from = cut;
            while let Some(message) = decoder.next_message()? {
                messages.push(message);
            }
        }
        Ok(messages)
    }

    fn unhex(hex: &str) -> Vec<u8> {
        let hex: String = hex.split_whitespace().collect();
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    /// What the AWS SDK for Rust writes for the same message.
    fn smithy_frame(headers: &[(&'static str, &str)], payload: &[u8]) -> Vec<u8> {
        let headers = headers
            .iter()
            .map(|(name, value)| smithy::Header::new(*name, smithy::HeaderValue::String(value.to_string().into())))
            .collect();
        let mut out = Vec::new();
        write_message_to(&smithy::Message::new_from_parts(headers, Bytes::copy_from_slice(payload)), &mut out).unwrap();
        out
    }

    #[test]
    fn frames_have_the_documented_layout() {
        let frame = event("initial-response", "application/json", b"{}").unwrap();
        let total = u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(frame[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, frame.len());
        assert_eq!(total, FRAME_OVERHEAD_BYTES + headers + 2);
        // `:message-type` first: name length, name, type 7 (string), value length, value.
        assert_eq!(&frame[12..27], b"\x0d:message-type\x07");
        assert_eq!(&frame[27..34], b"\x00\x05event");
        assert_eq!(&frame[frame.len() - 6..frame.len() - 4], b"{}");
    }

    #[test]
    fn frames_are_byte_identical_to_the_aws_sdk() {
        let payload = br#"{"Records":[],"ContinuationSequenceNumber":"1","MillisBehindLatest":0}"#;
        assert_eq!(
            event("SubscribeToShardEvent", "application/json", payload).unwrap().to_vec(),
            smithy_frame(
                &[
                    (":message-type", "event"),
                    (":event-type", "SubscribeToShardEvent"),
                    (":content-type", "application/json")
                ],
                payload
            )
        );
        assert_eq!(
            exception("ResourceInUseException", "application/x-amz-cbor-1.1", b"\xa0").unwrap().to_vec(),
            smithy_frame(
                &[
                    (":message-type", "exception"),
                    (":exception-type", "ResourceInUseException"),
                    (":content-type", "application/x-amz-cbor-1.1")
                ],
                b"\xa0"
            )
        );
    }

    /// `valid_with_all_headers_and_payload` from the AWS SDKs' event-stream test data
    /// (every header type).
    #[test]
    fn aws_vector_all_header_types() {
        let frame = unhex(
            "000000960000007a8bb495fb0474727565000566616c736501046279746502320573686f7274034e2003696e74\
             040007a120046c6f6e67050000000ba43b740005627974657306000a736f6d6520627974657303737472070008\
             736f6d65207374720474696d6508000000012a05f200047575696409b79bc914de214e13b8b2bc47e85b7f0b73\
             6f6d65207061796c6f616401a05860",
        );
        assert_eq!(frame.len(), 150);
        let mut decoder = Decoder::new();
        decoder.push(&frame);
        let m = decoder.next_message().unwrap().unwrap();
        let uuid = 0xb79bc914_de21_4e13_b8b2_bc47e85b7f0b_u128.to_be_bytes();
        let expected = [
            Header { name: "true", value: HeaderValue::Bool(true) },
            Header { name: "false", value: HeaderValue::Bool(false) },
            Header { name: "byte", value: HeaderValue::Byte(50) },
            Header { name: "short", value: HeaderValue::Short(20_000) },
            Header { name: "int", value: HeaderValue::Int(500_000) },
            Header { name: "long", value: HeaderValue::Long(50_000_000_000) },
            Header { name: "bytes", value: HeaderValue::Bytes(b"some bytes") },
            Header { name: "str", value: HeaderValue::String("some str") },
            Header { name: "time", value: HeaderValue::Timestamp(5_000_000_000) },
            Header { name: "uuid", value: HeaderValue::Uuid(uuid) },
        ];
        assert_eq!(m.headers().collect::<Vec<_>>(), expected);
        assert_eq!(&m.payload()[..], b"some payload");
        assert_eq!(decoder.next_message(), Ok(None));
        // The encoder writes every type back to the same bytes.
        assert_eq!(encode(&expected, b"some payload").unwrap(), frame);
    }

    #[test]
    fn a_damaged_frame_fails_and_stays_failed() {
        let mut frame = event("SubscribeToShardEvent", "application/json", b"{\"Records\":[]}").unwrap().to_vec();
        let last = frame.len() - 6;
        frame[last] ^= 1;
        let mut decoder = Decoder::new();
        decoder.push(&frame);
        assert_eq!(decoder.next_message(), Err(DecodeError::MessageCrc));
        decoder.push(&event("x", "y", b"").unwrap());
        assert_eq!(decoder.next_message(), Err(DecodeError::Failed));

        let mut decoder = Decoder::new();
        decoder.push(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decoder.next_message(), Err(DecodeError::PreludeCrc));
    }

    #[test]
    fn oversized_messages_are_refused_both_ways() {
        let payload = vec![0u8; EVENT_STREAM_MESSAGE_BYTES_MAX];
        assert!(matches!(event("e", "c", &payload), Err(EncodeError::MessageTooLong(_))));
        let total = (EVENT_STREAM_MESSAGE_BYTES_MAX + 1) as u32;
        let mut prelude = total.to_be_bytes().to_vec();
        prelude.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        let mut decoder = Decoder::new();
        decoder.push(&prelude);
        assert_eq!(decoder.next_message(), Err(DecodeError::TooLong(total as usize)));
    }

    #[test]
    fn over_long_headers_are_refused() {
        let name = "n".repeat(EVENT_STREAM_HEADER_NAME_BYTES_MAX + 1);
        assert_eq!(
            encode(&[Header::string(&name, "v")], b""),
            Err(EncodeError::HeaderNameTooLong(EVENT_STREAM_HEADER_NAME_BYTES_MAX + 1))
        );
        let value = "v".repeat(EVENT_STREAM_HEADER_VALUE_BYTES_MAX + 1);
        assert_eq!(
            encode(&[Header::string("n", &value)], b""),
            Err(EncodeError::HeaderValueTooLong(EVENT_STREAM_HEADER_VALUE_BYTES_MAX + 1))
        );
        let mut out = b"kept".to_vec();
        assert!(encode_to(&[Header::string("n", &value)], b"", &mut out).is_err());
        assert_eq!(out, b"kept");
    }

    fn header_value() -> impl Strategy<Value = (u8, i64, Vec<u8>, String)> {
        (0u8..10, any::<i64>(), prop::collection::vec(any::<u8>(), 0..40), "\\PC{0,20}")
    }

    proptest! {
        #[test]
        fn messages_survive_any_chunking(
            payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..6),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
            exceptions in any::<u8>(),
        ) {
            let mut stream = Vec::new();
            for (i, payload) in payloads.iter().enumerate() {
                let frame = if exceptions & (1 << (i % 8)) != 0 {
                    exception("ResourceInUseException", "application/json", payload).unwrap()
                } else {
                    event("SubscribeToShardEvent", "application/x-amz-cbor-1.1", payload).unwrap()
                };
                stream.extend_from_slice(&frame);
            }
            let messages = decode_in_pieces(&stream, &cuts).unwrap();
            prop_assert_eq!(messages.len(), payloads.len());
            for (i, (message, payload)) in messages.iter().zip(&payloads).enumerate() {
                prop_assert_eq!(&message.payload()[..], &payload[..]);
                let kind = if exceptions & (1 << (i % 8)) != 0 { "exception" } else { "event" };
                prop_assert_eq!(message.header(":message-type"), Some(kind));
            }
        }

        #[test]
        fn every_header_type_round_trips(
            values in prop::collection::vec(header_value(), 0..8),
            payload in prop::collection::vec(any::<u8>(), 0..64),
            cuts in prop::collection::vec(any::<usize>(), 0..4),
        ) {
            let names: Vec<String> = (0..values.len()).map(|i| format!("h{i}")).collect();
            let headers: Vec<Header<'_>> = values
                .iter()
                .zip(&names)
                .map(|((kind, number, bytes, text), name)| {
                    let mut uuid = [0u8; 16];
                    uuid[..8].copy_from_slice(&number.to_be_bytes());
                    let value = match kind {
                        0 => HeaderValue::Bool(*number < 0),
                        1 => HeaderValue::Byte(*number as i8),
                        2 => HeaderValue::Short(*number as i16),
                        3 => HeaderValue::Int(*number as i32),
                        4 => HeaderValue::Long(*number),
                        5 => HeaderValue::Bytes(bytes),
                        6 => HeaderValue::String(text),
                        7 => HeaderValue::Timestamp(*number),
                        _ => HeaderValue::Uuid(uuid),
                    };
                    Header { name, value }
                })
                .collect();
            let frame = encode(&headers, &payload).unwrap();
            let messages = decode_in_pieces(&frame, &cuts).unwrap();
            prop_assert_eq!(messages.len(), 1);
            prop_assert_eq!(messages[0].headers().collect::<Vec<_>>(), headers);
            prop_assert_eq!(&messages[0].payload()[..], &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..2048),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
        ) {
            let _ = decode_in_pieces(&bytes, &cuts);
        }

        #[test]
        fn arbitrary_bytes_behind_a_valid_prelude_never_panic(
            total in 0u32..4096,
            headers in 0u32..4096,
            rest in prop::collection::vec(any::<u8>(), 0..4096),
            cuts in prop::collection::vec(any::<usize>(), 0..4),
        ) {
            // A prelude with a correct CRC gets the decoder past its first check.
            let mut stream = Vec::new();
            stream.extend_from_slice(&total.to_be_bytes());
            stream.extend_from_slice(&headers.to_be_bytes());
            let crc = crc32fast::hash(&stream);
            stream.extend_from_slice(&crc.to_be_bytes());
            stream.extend_from_slice(&rest);
            let _ = decode_in_pieces(&stream, &cuts);
        }

        #[test]
        fn arbitrary_headers_in_a_valid_frame_never_panic(
            block in prop::collection::vec(any::<u8>(), 0..256),
            payload in prop::collection::vec(any::<u8>(), 0..32),
        ) {
            // Valid lengths and CRCs around random header bytes drive the header parser.
            let total = FRAME_OVERHEAD_BYTES + block.len() + payload.len();
            let mut frame = Vec::new();
            frame.extend_from_slice(&(total as u32).to_be_bytes());
            frame.extend_from_slice(&(block.len() as u32).to_be_bytes());
            let crc = crc32fast::hash(&frame);
            frame.extend_from_slice(&crc.to_be_bytes());
            frame.extend_from_slice(&block);
            frame.extend_from_slice(&payload);
            let crc = crc32fast::hash(&frame);
            frame.extend_from_slice(&crc.to_be_bytes());
            if let Ok(messages) = decode_in_pieces(&frame, &[]) {
                for message in messages {
                    let _ = message.headers().count();
                }
            }
        }
    }
}
