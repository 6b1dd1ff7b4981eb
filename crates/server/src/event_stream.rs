//! Event-stream framing (`application/vnd.amazon.eventstream`), the body of a
//! SubscribeToShard response, built on `aws-smithy-eventstream` (the framing and CRCs the
//! AWS SDK for Rust uses) rather than by hand.
//!
//! ```text
//! message := total_len:u32 headers_len:u32 prelude_crc:u32 headers payload message_crc:u32
//! header  := name_len:u8 name type:u8 value        (SubscribeToShard uses strings, type 7)
//! ```
//!
//! Every message SubscribeToShard sends has three string headers: `:message-type`
//! (`event` or `exception`), `:event-type` (`initial-response`, `SubscribeToShardEvent`)
//! or `:exception-type` (the AWS error type), and `:content-type` (the payload's format,
//! JSON or CBOR as the request was).
//!
//! [`Decoder`] reads such a body back from chunks split anywhere, as a client does; the
//! tests, the latency benchmark and the fuzz target use it.
//!
//! ```
//! use rheo_server::event_stream::{event, header, Decoder};
//!
//! let frame = event("SubscribeToShardEvent", "application/json", &b"{}"[..]).unwrap();
//! let mut decoder = Decoder::default();
//! decoder.push(&frame[..5]);
//! assert!(decoder.next_message().unwrap().is_none());
//! decoder.push(&frame[5..]);
//! let message = decoder.next_message().unwrap().unwrap();
//! assert_eq!(header(&message, ":event-type"), Some("SubscribeToShardEvent"));
//! assert_eq!(&message.payload()[..], b"{}");
//! ```

use aws_smithy_eventstream::frame::{write_message_to, DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::{Bytes, BytesMut};

pub use aws_smithy_eventstream::error::Error as FrameError;

/// The HTTP `Content-Type` of an event-stream response.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Bytes a frame adds to its headers and payload: prelude, prelude CRC, message CRC.
pub const FRAME_OVERHEAD_BYTES: usize = 16;

fn string(name: &'static str, value: impl Into<String>) -> Header {
    Header::new(name, HeaderValue::String(value.into().into()))
}

fn frame(headers: Vec<Header>, payload: Bytes) -> Result<Bytes, FrameError> {
    let mut out = Vec::with_capacity(payload.len() + FRAME_OVERHEAD_BYTES + 96);
    write_message_to(&Message::new_from_parts(headers, payload), &mut out)?;
    Ok(Bytes::from(out))
}

/// An `event` message. Fails only for a payload over 4 GiB.
pub fn event(
    event_type: &'static str,
    content_type: &'static str,
    payload: impl Into<Bytes>,
) -> Result<Bytes, FrameError> {
    frame(
        vec![
            string(":message-type", "event"),
            string(":event-type", event_type),
            string(":content-type", content_type),
        ],
        payload.into(),
    )
}

/// An `exception` message: a modelled error ending the stream.
pub fn exception(
    exception_type: &str,
    content_type: &'static str,
    payload: impl Into<Bytes>,
) -> Result<Bytes, FrameError> {
    frame(
        vec![
            string(":message-type", "exception"),
            string(":exception-type", exception_type),
            string(":content-type", content_type),
        ],
        payload.into(),
    )
}

/// A string header's value.
pub fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

/// Decodes messages from a body that arrives in chunks split at arbitrary bytes. After
/// an error (a bad CRC or length) the stream cannot be resynchronised and every later
/// call fails.
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: BytesMut,
    frames: MessageFrameDecoder,
    failed: bool,
}

impl Decoder {
    /// Appends received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete message, or `None` until more bytes arrive.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if self.failed {
            return Err(FrameError::unmarshalling("the event stream failed earlier"));
        }
        match self.frames.decode_frame(&mut self.buffer) {
            Ok(DecodedFrame::Complete(message)) => Ok(Some(message)),
            Ok(DecodedFrame::Incomplete) => Ok(None),
            Err(error) => {
                self.failed = true;
                self.buffer.clear();
                Err(error)
            }
        }
    }

    /// Bytes received but not yet decoded (a partial message, after its prelude).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Decodes `stream` fed in pieces that end at `cuts` (offsets, any order).
    fn decode_in_pieces(stream: &[u8], cuts: &[usize]) -> Result<Vec<Message>, FrameError> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();
        let mut decoder = Decoder::default();
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

    #[test]
    fn frames_have_the_documented_layout() {
        let frame = event("initial-response", "application/json", &b"{}"[..]).unwrap();
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
    fn a_damaged_frame_fails_and_stays_failed() {
        let mut frame = event("SubscribeToShardEvent", "application/json", &b"{\"Records\":[]}"[..]).unwrap().to_vec();
        let last = frame.len() - 1;
        frame[last] ^= 1;
        let mut decoder = Decoder::default();
        decoder.push(&frame);
        assert!(decoder.next_message().is_err());
        decoder.push(&event("x", "y", Bytes::new()).unwrap());
        assert!(decoder.next_message().is_err());
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
                    exception("ResourceInUseException", "application/json", payload.clone()).unwrap()
                } else {
                    event("SubscribeToShardEvent", "application/x-amz-cbor-1.1", payload.clone()).unwrap()
                };
                stream.extend_from_slice(&frame);
            }
            let messages = decode_in_pieces(&stream, &cuts).unwrap();
            prop_assert_eq!(messages.len(), payloads.len());
            for (i, (message, payload)) in messages.iter().zip(&payloads).enumerate() {
                prop_assert_eq!(&message.payload()[..], &payload[..]);
                let kind = if exceptions & (1 << (i % 8)) != 0 { "exception" } else { "event" };
                prop_assert_eq!(header(message, ":message-type"), Some(kind));
            }
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
        ) {
            // A prelude with a correct CRC gets the decoder past its first check.
            let mut prelude = Vec::new();
            prelude.extend_from_slice(&total.to_be_bytes());
            prelude.extend_from_slice(&headers.to_be_bytes());
            let crc = crc32(&prelude);
            prelude.extend_from_slice(&crc.to_be_bytes());
            prelude.extend_from_slice(&rest);
            let _ = decode_in_pieces(&prelude, &[]);
        }
    }

    /// CRC-32 (IEEE), as the event-stream prelude uses.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
