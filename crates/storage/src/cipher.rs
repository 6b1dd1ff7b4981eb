//! Encryption at rest: the seam between the log, which seals and opens chunks, and the
//! key store above it, which owns key material and its names.
//!
//! SKELETON: the chunk sealing itself (format, AEAD, nonces, reads, recovery, scrub) is
//! filled in by the storage piece of issue 17. The interface below is fixed: the key store
//! (`rheo-keys`) implements [`KeyProvider`], the engine and Firehose set a stream's
//! [`crate::StreamProps::encryption_key`].
//!
//! The log never learns what a key is called (KMS key ids, aliases, ARNs are the key
//! store's business); a chunk header carries only the [`KeyRef`] it was sealed with, so
//! that a key rotated since still opens it.

use std::fmt::Debug;

/// Bytes of a key: AES-256.
pub const KEY_BYTES: usize = 32;

/// Key material.
pub type KeyBytes = [u8; KEY_BYTES];

/// Which version of which key sealed a chunk: numbers the key store assigns, never
/// reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyRef {
    /// The key's number in the key store.
    pub key: u32,
    /// The version of that key (rotation adds one).
    pub version: u32,
}

/// Where the log gets key material.
pub trait KeyProvider: Send + Sync + Debug {
    /// The newest version of key `key`, which seals new chunks; `None` when the key store
    /// has no such key (appends to a stream encrypted with it then fail).
    fn current(&self, key: u32) -> Option<(KeyRef, KeyBytes)>;

    /// The material of one version, to open a chunk sealed with it; `None` when the key
    /// store no longer has it (reads of such chunks then fail, naming the key).
    fn get(&self, key: KeyRef) -> Option<KeyBytes>;
}
