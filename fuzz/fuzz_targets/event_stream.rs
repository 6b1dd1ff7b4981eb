//! Arbitrary bytes as a SubscribeToShard response body (`application/vnd.amazon.eventstream`),
//! as a client decodes it: fed to `rheo_aws::event_stream::Decoder` in two pieces split at
//! a position the input chooses, decoding must never panic and every decoded message's
//! headers must read back. The input is also framed as an event payload, which must decode
//! back unchanged however it is split.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rheo_aws::event_stream::{event, Decoder, Message};

fn drain(decoder: &mut Decoder) -> Vec<Message> {
    let mut messages = Vec::new();
    while let Ok(Some(message)) = decoder.next_message() {
        let _ = message.headers().count();
        messages.push(message);
    }
    messages
}

fuzz_target!(|bytes: &[u8]| {
    let split = bytes.first().map_or(0, |b| usize::from(*b)).min(bytes.len());

    let mut decoder = Decoder::new();
    decoder.push(&bytes[..split]);
    drain(&mut decoder);
    decoder.push(&bytes[split..]);
    drain(&mut decoder);

    let frame = event("SubscribeToShardEvent", "application/json", bytes).expect("small payloads frame");
    let split = split.min(frame.len());
    let mut decoder = Decoder::new();
    decoder.push(&frame[..split]);
    let mut messages = drain(&mut decoder);
    decoder.push(&frame[split..]);
    messages.extend(drain(&mut decoder));
    assert_eq!(messages.len(), 1);
    assert_eq!(&messages[0].payload()[..], bytes);
    assert_eq!(messages[0].header(":event-type"), Some("SubscribeToShardEvent"));
});
