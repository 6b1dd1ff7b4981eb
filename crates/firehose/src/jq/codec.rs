//! The jq worker protocol: length-prefixed frames on the worker's stdin and stdout.
//!
//! Every frame is a little-endian `u32` body length, then the body: a tag byte and the
//! tag's fields. Text and byte strings are a `u32` length and the bytes; lists are a `u32`
//! count and the items. The server sends [`Request`]s; the worker answers
//! [`Response::Ready`] once when it starts, then for each request
//! [`Response::Compiled`] and one [`Response::Record`] per record, in order, flushed one by
//! one so the server always knows which record is being evaluated.
//!
//! Decoding is defensive on both sides: lengths are checked against the bytes present and
//! frames against a size limit before anything is allocated, so a damaged or hostile
//! stream yields a [`ProtocolError`], never a panic or a huge allocation.

use crate::limits::{JQ_BATCH_BYTES_MAX, JQ_BATCH_RECORDS_MAX, JQ_OUTPUT_BYTES_MAX, RECORD_BYTES_MAX};
use crate::process::{PartitionKeys, MAX_ERROR_MESSAGE_CHARS, MAX_PARAMETER_VALUE_LEN};

/// Bytes of a frame's length prefix.
pub const FRAME_HEADER_BYTES: usize = 4;
/// What [`Response::Ready`] carries: tells a jq worker from a program that merely runs.
pub const READY_GREETING: &[u8] = b"rheo-jq-worker/1";
/// Room in a frame for tags, length prefixes and the query around the records or keys.
const FRAME_OVERHEAD_BYTES: usize = 64 * 1024;
/// Largest request body: a batch is cut at [`JQ_BATCH_BYTES_MAX`], but always holds at
/// least one record, which may be up to [`RECORD_BYTES_MAX`] on its own.
pub const REQUEST_FRAME_BYTES_MAX: usize = JQ_BATCH_BYTES_MAX
    + RECORD_BYTES_MAX
    + JQ_BATCH_RECORDS_MAX * FRAME_HEADER_BYTES
    + MAX_PARAMETER_VALUE_LEN * 4
    + FRAME_OVERHEAD_BYTES;
/// Largest response body: one record's keys (bounded by [`JQ_OUTPUT_BYTES_MAX`], plus two
/// length prefixes per key) or an error message.
pub const RESPONSE_FRAME_BYTES_MAX: usize =
    2 * JQ_OUTPUT_BYTES_MAX + MAX_ERROR_MESSAGE_CHARS * 4 + FRAME_OVERHEAD_BYTES;

const TAG_REQUEST: u8 = 1;
const TAG_READY: u8 = 1;
const TAG_COMPILED: u8 = 2;
const TAG_COMPILE_FAILED: u8 = 3;
const TAG_RECORD_KEYS: u8 = 4;
const TAG_RECORD_FAILED: u8 = 5;

/// Records to evaluate one query on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub query: String,
    pub records: Vec<Vec<u8>>,
}

/// One frame from the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The worker started and set its limits.
    Ready,
    /// The request's query compiled (or why not: then no records follow).
    Compiled(Result<(), String>),
    /// The next record's partition keys, or why extraction failed.
    Record(Result<PartitionKeys, String>),
}

/// A frame that cannot be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("a frame of {len} bytes is over the limit of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },
    #[error("the frame ends in the middle of a field")]
    Truncated,
    #[error("unknown frame tag {0}")]
    UnknownTag(u8),
    #[error("text in the frame is not UTF-8")]
    NotUtf8,
    #[error("{0} bytes are left over after the frame's fields")]
    TrailingBytes(usize),
    #[error("the worker's greeting is not {expected:?}", expected = String::from_utf8_lossy(READY_GREETING))]
    BadGreeting,
}

/// The body length a frame header announces, refused above `max`.
pub fn body_len(header: [u8; FRAME_HEADER_BYTES], max: usize) -> Result<usize, ProtocolError> {
    let len = u32::from_le_bytes(header) as usize;
    if len > max {
        return Err(ProtocolError::FrameTooLarge { len, max });
    }
    Ok(len)
}

/// A whole frame (header and body) of a request.
pub fn encode_request(request: &Request) -> Result<Vec<u8>, ProtocolError> {
    let mut body = vec![TAG_REQUEST];
    put_bytes(&mut body, request.query.as_bytes())?;
    put_len(&mut body, request.records.len())?;
    for record in &request.records {
        put_bytes(&mut body, record)?;
    }
    frame(body, REQUEST_FRAME_BYTES_MAX)
}

/// A request from a frame's body.
pub fn decode_request(body: &[u8]) -> Result<Request, ProtocolError> {
    let mut reader = Reader { rest: body };
    match reader.byte()? {
        TAG_REQUEST => {}
        tag => return Err(ProtocolError::UnknownTag(tag)),
    }
    let query = reader.text()?;
    let count = reader.len()?;
    // Every record takes at least its length prefix, so the bytes present bound the count.
    let mut records = Vec::with_capacity(count.min(reader.rest.len() / FRAME_HEADER_BYTES));
    for _ in 0..count {
        records.push(reader.bytes()?.to_vec());
    }
    reader.end()?;
    Ok(Request { query, records })
}

/// A whole frame (header and body) of a response.
pub fn encode_response(response: &Response) -> Result<Vec<u8>, ProtocolError> {
    let mut body = Vec::new();
    match response {
        Response::Ready => {
            body.push(TAG_READY);
            put_bytes(&mut body, READY_GREETING)?;
        }
        Response::Compiled(Ok(())) => body.push(TAG_COMPILED),
        Response::Compiled(Err(message)) => {
            body.push(TAG_COMPILE_FAILED);
            put_bytes(&mut body, message.as_bytes())?;
        }
        Response::Record(Ok(keys)) => {
            body.push(TAG_RECORD_KEYS);
            put_len(&mut body, keys.len())?;
            for (key, value) in keys {
                put_bytes(&mut body, key.as_bytes())?;
                put_bytes(&mut body, value.as_bytes())?;
            }
        }
        Response::Record(Err(message)) => {
            body.push(TAG_RECORD_FAILED);
            put_bytes(&mut body, message.as_bytes())?;
        }
    }
    frame(body, RESPONSE_FRAME_BYTES_MAX)
}

/// A response from a frame's body.
pub fn decode_response(body: &[u8]) -> Result<Response, ProtocolError> {
    let mut reader = Reader { rest: body };
    let response = match reader.byte()? {
        TAG_READY => {
            if reader.bytes()? != READY_GREETING {
                return Err(ProtocolError::BadGreeting);
            }
            Response::Ready
        }
        TAG_COMPILED => Response::Compiled(Ok(())),
        TAG_COMPILE_FAILED => Response::Compiled(Err(reader.text()?)),
        TAG_RECORD_KEYS => {
            let count = reader.len()?;
            let mut keys = PartitionKeys::new();
            for _ in 0..count {
                let key = reader.text()?;
                let value = reader.text()?;
                keys.insert(key, value);
            }
            Response::Record(Ok(keys))
        }
        TAG_RECORD_FAILED => Response::Record(Err(reader.text()?)),
        tag => return Err(ProtocolError::UnknownTag(tag)),
    };
    reader.end()?;
    Ok(response)
}

fn frame(body: Vec<u8>, max: usize) -> Result<Vec<u8>, ProtocolError> {
    if body.len() > max {
        return Err(ProtocolError::FrameTooLarge { len: body.len(), max });
    }
    let mut out = Vec::with_capacity(FRAME_HEADER_BYTES + body.len());
    put_len(&mut out, body.len())?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn put_len(out: &mut Vec<u8>, len: usize) -> Result<(), ProtocolError> {
    let len32 = u32::try_from(len).map_err(|_| ProtocolError::FrameTooLarge { len, max: u32::MAX as usize })?;
    out.extend_from_slice(&len32.to_le_bytes());
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), ProtocolError> {
    put_len(out, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// Reads fields off the front of a body.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        if n > self.rest.len() {
            return Err(ProtocolError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?[0])
    }

    fn len(&mut self) -> Result<usize, ProtocolError> {
        let mut header = [0u8; FRAME_HEADER_BYTES];
        header.copy_from_slice(self.take(FRAME_HEADER_BYTES)?);
        Ok(u32::from_le_bytes(header) as usize)
    }

    fn bytes(&mut self) -> Result<&'a [u8], ProtocolError> {
        let len = self.len()?;
        self.take(len)
    }

    fn text(&mut self) -> Result<String, ProtocolError> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| ProtocolError::NotUtf8)
    }

    fn end(&self) -> Result<(), ProtocolError> {
        match self.rest.len() {
            0 => Ok(()),
            left => Err(ProtocolError::TrailingBytes(left)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn body(frame: &[u8]) -> &[u8] {
        let len = body_len(frame[..4].try_into().unwrap(), usize::MAX).unwrap();
        assert_eq!(frame.len(), FRAME_HEADER_BYTES + len);
        &frame[FRAME_HEADER_BYTES..]
    }

    #[test]
    fn responses_round_trip() {
        let keys: PartitionKeys = [("a".to_owned(), "1".to_owned()), ("é".to_owned(), String::new())].into();
        for response in [
            Response::Ready,
            Response::Compiled(Ok(())),
            Response::Compiled(Err("bad".to_owned())),
            Response::Record(Ok(keys)),
            Response::Record(Ok(PartitionKeys::new())),
            Response::Record(Err("no".to_owned())),
        ] {
            let frame = encode_response(&response).unwrap();
            assert_eq!(decode_response(body(&frame)).unwrap(), response);
        }
    }

    #[test]
    fn damaged_frames_are_errors() {
        assert_eq!(decode_response(&[]), Err(ProtocolError::Truncated));
        assert_eq!(decode_response(&[9]), Err(ProtocolError::UnknownTag(9)));
        assert_eq!(decode_response(&[TAG_READY, 1, 0, 0, 0, b'x']), Err(ProtocolError::BadGreeting));
        assert_eq!(decode_response(&[TAG_COMPILED, 0]), Err(ProtocolError::TrailingBytes(1)));
        assert_eq!(decode_response(&[TAG_RECORD_FAILED, 2, 0, 0, 0, 0xff, 0xfe]), Err(ProtocolError::NotUtf8));
        // A count of four billion keys in a short frame fails without allocating for them.
        assert_eq!(decode_response(&[TAG_RECORD_KEYS, 0xff, 0xff, 0xff, 0xff]), Err(ProtocolError::Truncated));
        assert_eq!(decode_request(&[TAG_REQUEST, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), Err(ProtocolError::Truncated));
        assert!(matches!(
            body_len(u32::MAX.to_le_bytes(), RESPONSE_FRAME_BYTES_MAX),
            Err(ProtocolError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn oversized_frames_are_refused_when_encoding() {
        let huge = "x".repeat(RESPONSE_FRAME_BYTES_MAX);
        assert!(matches!(encode_response(&Response::Record(Err(huge))), Err(ProtocolError::FrameTooLarge { .. })));
    }

    proptest! {
        #[test]
        fn requests_round_trip(
            query in ".{0,64}",
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16),
        ) {
            let request = Request { query, records };
            let frame = encode_request(&request).unwrap();
            prop_assert_eq!(decode_request(body(&frame)).unwrap(), request);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_request(&bytes);
            let _ = decode_response(&bytes);
            if bytes.len() >= FRAME_HEADER_BYTES {
                let _ = body_len(bytes[..FRAME_HEADER_BYTES].try_into().unwrap(), RESPONSE_FRAME_BYTES_MAX);
            }
        }

        #[test]
        fn decoding_damaged_responses_never_panics(
            keys in proptest::collection::btree_map(".{0,8}", ".{0,8}", 0..4),
            cut in any::<usize>(),
            flip in any::<(usize, u8)>(),
        ) {
            let frame = encode_response(&Response::Record(Ok(keys))).unwrap();
            let mut damaged = frame[FRAME_HEADER_BYTES..].to_vec();
            let at = flip.0 % damaged.len();
            damaged[at] ^= flip.1;
            let _ = decode_response(&damaged);
            let _ = decode_response(&damaged[..cut % damaged.len()]);
        }
    }
}
