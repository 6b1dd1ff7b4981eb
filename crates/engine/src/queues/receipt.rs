//! Receipt handles: which delivery of which record of which queue a client holds.
//!
//! A handle is sealed with the engine's token key (see [`crate::token`]), so a client
//! cannot make one up or alter one:
//! ```text
//! │ version u8 = 1 │ side u8 │ queue u64 │ lsn u64 │ generation u32 │   (+ 16-byte tag, base64: 52 characters)
//! ```
//! `queue` is the queue's storage stream id, which is never reused, so a handle of a
//! deleted queue or of another queue never matches; `generation` is the record's receive
//! generation, so a handle of an earlier delivery of a record no longer works.

use crate::queues::state::Side;
use crate::token::TokenKey;

const VERSION: u8 = 1;
const PAYLOAD_BYTES: usize = 1 + 1 + 8 + 8 + 4;

/// The contents of a receipt handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Receipt {
    /// Which operations it is for.
    pub side: Side,
    /// The queue's storage stream id.
    pub queue: u64,
    /// The record.
    pub lsn: u64,
    /// The receive generation it was issued for.
    pub generation: u32,
}

impl Receipt {
    /// The handle's text.
    pub fn seal(&self, key: &TokenKey) -> String {
        let mut payload = Vec::with_capacity(PAYLOAD_BYTES);
        payload.push(VERSION);
        payload.push(match self.side {
            Side::Queue => 0,
            Side::DeadLetter => 1,
        });
        payload.extend_from_slice(&self.queue.to_be_bytes());
        payload.extend_from_slice(&self.lsn.to_be_bytes());
        payload.extend_from_slice(&self.generation.to_be_bytes());
        key.seal(&payload)
    }

    /// Opens a handle a client sent; `None` unless this key sealed it.
    pub fn open(key: &TokenKey, handle: &str) -> Option<Self> {
        let payload = key.open(handle)?;
        if payload.len() != PAYLOAD_BYTES || payload.first() != Some(&VERSION) {
            return None;
        }
        let side = match payload.get(1)? {
            0 => Side::Queue,
            1 => Side::DeadLetter,
            _ => return None,
        };
        let u64_at = |at: usize| -> Option<u64> { Some(u64::from_be_bytes(payload.get(at..at + 8)?.try_into().ok()?)) };
        Some(Receipt {
            side,
            queue: u64_at(2)?,
            lsn: u64_at(10)?,
            generation: u32::from_be_bytes(payload.get(18..22)?.try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::RECEIPT_HANDLE_CHARS_MAX;

    #[test]
    fn handles_round_trip_and_only_open_with_their_key() {
        let key = TokenKey::from_bytes([3; 32]);
        let receipt = Receipt { side: Side::DeadLetter, queue: 77, lsn: u64::MAX, generation: 9 };
        let handle = receipt.seal(&key);
        assert!(handle.len() <= RECEIPT_HANDLE_CHARS_MAX);
        assert_eq!(Receipt::open(&key, &handle), Some(receipt));
        assert_eq!(Receipt::open(&TokenKey::from_bytes([4; 32]), &handle), None);
        assert_eq!(Receipt::open(&key, "not a handle"), None);
        assert_eq!(Receipt::open(&key, ""), None);
        // A sealed token of another shape (a page token) is not a handle.
        assert_eq!(Receipt::open(&key, &key.seal(b"short")), None);
    }

    proptest::proptest! {
        #[test]
        fn any_text_opens_or_is_refused_without_panicking(text in ".{0,80}", lsn: u64, queue: u64, generation: u32) {
            let key = TokenKey::from_bytes([5; 32]);
            let _ = Receipt::open(&key, &text);
            let receipt = Receipt { side: Side::Queue, queue, lsn, generation };
            proptest::prop_assert_eq!(Receipt::open(&key, &receipt.seal(&key)), Some(receipt));
        }

        #[test]
        fn any_bytes_decode_as_a_journal_record_or_are_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = crate::queues::stored::JournalBatch::decode(&bytes);
        }
    }
}
