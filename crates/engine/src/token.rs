//! Opaque, authenticated tokens: shard iterators and pagination tokens.
//!
//! A token is `base64(payload ‖ tag)` where the tag is the first 16 bytes of
//! HMAC-SHA256(key, payload). Clients treat tokens as opaque; the tag lets the server
//! reject forged or altered ones with AWS's `Invalid ShardIterator.` instead of reading
//! from a position the client made up.
//!
//! Shard iterator payload (41 bytes + stream name, so at most 244 base64 characters):
//! ```text
//! │ version u8 = 1 │ stream_id u64 │ shard_uid u64 │ shard_index u32 │ position lsn u64 │ issued_ms u64 │ stream name … │
//! ```
//! All integers are big-endian.
//!
//! The key lives in the data folder (`token.key`, 32 random bytes written once), so
//! iterators stay valid across a restart; an in-memory server uses a fresh random key.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rheo_storage::{FileSystem, StorageError};
use sha2::Sha256;

use crate::error::{EngineError, InvalidArgument, Result};
use crate::limits::{NEXT_TOKEN_LIFETIME_MS, SHARD_ITERATOR_CHARS_MAX};

const TAG_BYTES: usize = 16;
const KEY_BYTES: usize = 32;
const KEY_FILE: &str = "token.key";
const KEY_TEMP_FILE: &str = "token.key.tmp";
const ITERATOR_VERSION: u8 = 1;
const ITERATOR_FIXED_BYTES: usize = 1 + 8 + 8 + 4 + 8 + 8;

/// The secret that authenticates tokens.
#[derive(Clone)]
pub struct TokenKey([u8; KEY_BYTES]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

impl TokenKey {
    /// A fresh random key.
    pub fn random() -> Self {
        let mut key = [0u8; KEY_BYTES];
        rand::thread_rng().fill_bytes(&mut key);
        TokenKey(key)
    }

    /// A key from fixed bytes (tests).
    pub fn from_bytes(key: [u8; KEY_BYTES]) -> Self {
        TokenKey(key)
    }

    /// Loads the key from `dir/token.key`, creating it durably on first use.
    pub fn load_or_create(fs: &dyn FileSystem, dir: &Path) -> Result<Self, StorageError> {
        let io = |operation: &'static str, path: &Path, source: std::io::Error| StorageError::Io {
            operation,
            path: path.to_owned(),
            source,
        };
        let path = dir.join(KEY_FILE);
        if fs.exists(&path) {
            let file = fs.open_read(&path).map_err(|e| io("open token key", &path, e))?;
            let mut key = [0u8; KEY_BYTES];
            file.read_exact_at(&mut key, 0).map_err(|e| io("read token key", &path, e))?;
            return Ok(TokenKey(key));
        }
        fs.create_dir_all(dir).map_err(|e| io("create data folder", dir, e))?;
        let key = Self::random();
        let temp = dir.join(KEY_TEMP_FILE);
        let mut file = fs.open_write(&temp).map_err(|e| io("create token key", &temp, e))?;
        file.set_len(0).map_err(|e| io("create token key", &temp, e))?;
        file.write_all_at(&key.0, 0).map_err(|e| io("write token key", &temp, e))?;
        file.sync_data().map_err(|e| io("sync token key", &temp, e))?;
        drop(file);
        fs.rename(&temp, &path).map_err(|e| io("rename token key", &path, e))?;
        fs.sync_dir(dir).map_err(|e| io("sync data folder", dir, e))?;
        Ok(key)
    }

    fn tag(&self, payload: &[u8]) -> [u8; TAG_BYTES] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    /// Seals a payload into a token.
    pub fn seal(&self, payload: &[u8]) -> String {
        let mut bytes = Vec::with_capacity(payload.len() + TAG_BYTES);
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&self.tag(payload));
        STANDARD.encode(bytes)
    }

    /// Opens a token; `None` if it is not base64 or its tag does not match.
    pub fn open(&self, token: &str) -> Option<Vec<u8>> {
        let mut bytes = STANDARD.decode(token).ok()?;
        let split = bytes.len().checked_sub(TAG_BYTES)?;
        let tag = bytes.split_off(split);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(&bytes);
        // Constant-time comparison, so a forger learns nothing from timing.
        mac.verify_truncated_left(&tag).ok()?;
        Some(bytes)
    }
}

/// The decoded contents of a shard iterator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IteratorState {
    /// The stream's internal id (a re-created stream has another).
    pub stream_id: u64,
    /// The shard's internal id.
    pub shard_uid: u64,
    /// The shard's index, for messages.
    pub shard_index: u32,
    /// The LSN the next read starts at.
    pub lsn: u64,
    /// When the iterator was issued, epoch ms.
    pub issued_ms: u64,
    /// The stream's name, for messages.
    pub stream_name: String,
}

impl IteratorState {
    /// Encodes and seals the iterator.
    pub fn seal(&self, key: &TokenKey) -> String {
        let mut payload = Vec::with_capacity(ITERATOR_FIXED_BYTES + self.stream_name.len());
        payload.push(ITERATOR_VERSION);
        payload.extend_from_slice(&self.stream_id.to_be_bytes());
        payload.extend_from_slice(&self.shard_uid.to_be_bytes());
        payload.extend_from_slice(&self.shard_index.to_be_bytes());
        payload.extend_from_slice(&self.lsn.to_be_bytes());
        payload.extend_from_slice(&self.issued_ms.to_be_bytes());
        payload.extend_from_slice(self.stream_name.as_bytes());
        let token = key.seal(&payload);
        debug_assert!(token.len() <= SHARD_ITERATOR_CHARS_MAX);
        token
    }

    /// Opens an iterator as a client sent it. AWS accepts iterators wrapped in double
    /// quotes (some clients JSON-encode them twice), so those are stripped first.
    pub fn open(key: &TokenKey, token: &str) -> Option<Self> {
        let token = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(token);
        if token.len() > SHARD_ITERATOR_CHARS_MAX {
            return None;
        }
        let payload = key.open(token)?;
        let (fixed, name) = payload.split_at_checked(ITERATOR_FIXED_BYTES)?;
        let (&version, rest) = fixed.split_first()?;
        if version != ITERATOR_VERSION {
            return None;
        }
        let u64_at = |at: usize| -> Option<u64> { Some(u64::from_be_bytes(rest.get(at..at + 8)?.try_into().ok()?)) };
        let shard_index = u32::from_be_bytes(rest.get(16..20)?.try_into().ok()?);
        Some(IteratorState {
            stream_id: u64_at(0)?,
            shard_uid: u64_at(8)?,
            shard_index,
            lsn: u64_at(20)?,
            issued_ms: u64_at(28)?,
            stream_name: String::from_utf8(name.to_vec()).ok()?,
        })
    }
}

/// Kinds of pagination token, so one kind cannot be replayed as another.
#[derive(Clone, Copy)]
#[repr(u8)]
pub(crate) enum PageKind {
    Streams = 1,
    Shards = 2,
    Consumers = 3,
    Queues = 4,
}

/// The engine's tokens: shard iterators and pagination tokens under one key.
///
/// A pagination token is `kind u8 ‖ issued_ms u64 ‖ body`, sealed; it opens only as the
/// kind it was issued as and only within [`NEXT_TOKEN_LIFETIME_MS`].
pub(crate) struct Tokens {
    key: TokenKey,
}

impl Tokens {
    pub(crate) fn new(key: TokenKey) -> Self {
        Tokens { key }
    }

    /// Seals a shard iterator.
    pub(crate) fn seal_iterator(&self, state: &IteratorState) -> String {
        state.seal(&self.key)
    }

    /// Opens a shard iterator; `None` if it is not one this key sealed.
    pub(crate) fn open_iterator(&self, token: &str) -> Option<IteratorState> {
        IteratorState::open(&self.key, token)
    }

    /// Seals a pagination token of `kind` issued at `now_ms`.
    pub(crate) fn seal_page(&self, kind: PageKind, body: &[u8], now_ms: u64) -> String {
        let mut payload = Vec::with_capacity(9 + body.len());
        payload.push(kind as u8);
        payload.extend_from_slice(&now_ms.to_be_bytes());
        payload.extend_from_slice(body);
        self.key.seal(&payload)
    }

    /// Opens a pagination token of `kind`: `Invalid NextToken.` when it is not one, and
    /// ExpiredNextToken when it is too old.
    pub(crate) fn open_page(&self, kind: PageKind, token: &str, now_ms: u64) -> Result<Vec<u8>> {
        let payload = self.key.open(token).ok_or_else(invalid_next_token)?;
        let (header, body) = payload.split_at_checked(9).ok_or_else(invalid_next_token)?;
        if header.first() != Some(&(kind as u8)) {
            return Err(invalid_next_token());
        }
        let issued_ms =
            u64::from_be_bytes(header.get(1..9).and_then(|b| b.try_into().ok()).ok_or_else(invalid_next_token)?);
        if now_ms.saturating_sub(issued_ms) > NEXT_TOKEN_LIFETIME_MS {
            return Err(EngineError::ExpiredNextToken);
        }
        Ok(body.to_vec())
    }

    /// Opens a pagination token whose body is a name (the last one listed).
    pub(crate) fn open_name_page(&self, kind: PageKind, token: &str, now_ms: u64) -> Result<String> {
        String::from_utf8(self.open_page(kind, token, now_ms)?).map_err(|_| invalid_next_token())
    }
}

pub(crate) fn invalid_next_token() -> EngineError {
    InvalidArgument::NextToken.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IteratorState {
        IteratorState {
            stream_id: 3,
            shard_uid: 4,
            shard_index: 1,
            lsn: 99,
            issued_ms: 1_700_000_000_000,
            stream_name: "x".repeat(128),
        }
    }

    #[test]
    fn iterators_round_trip_within_the_aws_length() {
        let key = TokenKey::from_bytes([7; 32]);
        let token = sample().seal(&key);
        assert!(token.len() <= SHARD_ITERATOR_CHARS_MAX, "{}", token.len());
        assert_eq!(IteratorState::open(&key, &token), Some(sample()));
        assert_eq!(IteratorState::open(&key, &format!("\"{token}\"")), Some(sample()));
    }

    #[test]
    fn tampered_or_foreign_iterators_are_rejected() {
        let key = TokenKey::from_bytes([7; 32]);
        let token = sample().seal(&key);
        let mut bytes = STANDARD.decode(&token).unwrap();
        for at in [0, 5, 30, bytes.len() - 1] {
            bytes[at] ^= 1;
            assert_eq!(IteratorState::open(&key, &STANDARD.encode(&bytes)), None, "flip at {at}");
            bytes[at] ^= 1;
        }
        assert_eq!(IteratorState::open(&TokenKey::from_bytes([8; 32]), &token), None);
        assert_eq!(IteratorState::open(&key, "AAAA"), None);
        assert_eq!(IteratorState::open(&key, "not base64!"), None);
        assert_eq!(IteratorState::open(&key, ""), None);
    }

    #[test]
    fn the_key_survives_a_restart() {
        let fs = rheo_storage::MemFs::default();
        let dir = Path::new("/data");
        let first = TokenKey::load_or_create(&fs, dir).unwrap();
        let second = TokenKey::load_or_create(&fs, dir).unwrap();
        assert_eq!(first.0, second.0);
    }
}
