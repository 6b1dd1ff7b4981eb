//! Encryption at rest: the seam between the log, which seals and opens chunks, and the
//! key store above it, which owns key material and its names; and the sealing itself.
//!
//! The key store (`rheo-keys`) implements [`KeyProvider`]; the engine and Firehose set a
//! stream's [`crate::StreamProps::encryption_key`]. The log never learns what a key is
//! called (KMS key ids, aliases, ARNs are the key store's business); a chunk header
//! carries only the [`KeyRef`] it was sealed with, so that a key rotated since still
//! opens it. The sealed chunk's layout is in `format/sealed.rs`.
//!
//! # Why a nonce is never reused
//! AES-GCM loses both confidentiality and integrity if one (key, nonce) pair seals two
//! messages. Every chunk is therefore sealed with its own key, derived with HKDF-SHA256
//! from the key version's material and 16 bytes drawn fresh from a [`RandomSource`] for
//! that chunk (the salt, stored in the chunk header): the extract step runs once per key
//! version (PRK = HKDF-Extract(no salt, material)), the expand step once per chunk
//! (HKDF-Expand(PRK, "rheo sealed chunk v1" ‖ key ‖ version ‖ salt)), which halves the
//! hashing per chunk for shards with tiny chunks. A derived key seals exactly one
//! message, so the nonce can be a constant. Two chunks share a derived key only if they
//! draw the same 128-bit salt under the same key version: after 2^32 chunks (four
//! billion, thousands of years of group commits at the writer's pace) the chance is
//! about 2^-64. The alternative, random 96-bit nonces under the key version itself,
//! reaches NIST's 2^-32 collision bound after 2^32 messages per key, which a busy log
//! could approach without rotation; derived keys have no such per-key budget.
//!
//! Key material is held in [`Zeroizing`] buffers. The AEAD is `ring`'s AES-256-GCM
//! (assembly with AES-NI and carry-less multiplication, several times RustCrypto's
//! `aes-gcm` here: sealing is on every encrypted append). `ring` does not wipe its AES key
//! schedule when it is dropped; a schedule holds one chunk's derived key, never the key
//! version's material, and the server's memory is outside the threat model (README).

use std::fmt::{self, Debug};

use hkdf::Hkdf;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// Bytes of a key: AES-256.
pub const KEY_BYTES: usize = 32;
/// Bytes of the random salt each sealed chunk draws.
pub const SALT_BYTES: usize = 16;
/// Bytes of the AES-GCM authentication tag at the end of a sealed chunk.
pub const TAG_BYTES: usize = 16;
/// What the per-chunk key derivation is bound to, besides the key reference: a
/// different purpose or layout version derives unrelated keys.
const CHUNK_KEY_INFO: &[u8] = b"rheo sealed chunk v1";
/// The nonce of every seal: each derived key seals one message only (see above).
const NONCE: [u8; 12] = [0; 12];

/// Key material.
pub type KeyBytes = [u8; KEY_BYTES];

/// A chunk's salt.
pub type Salt = [u8; SALT_BYTES];

/// Which version of which key sealed a chunk: numbers the key store assigns, never
/// reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyRef {
    /// The key's number in the key store.
    pub key: u32,
    /// The version of that key (rotation adds one).
    pub version: u32,
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {} version {}", self.key, self.version)
    }
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

/// Key versions held in memory: a [`KeyProvider`] for tests, tools and the fuzz targets
/// (the key store proper keeps them in a file). Material is wiped when removed or dropped.
#[derive(Default)]
pub struct MemKeys {
    versions: parking_lot::RwLock<std::collections::BTreeMap<KeyRef, Zeroizing<KeyBytes>>>,
}

impl Debug for MemKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemKeys").field("versions", &self.versions.read().keys().collect::<Vec<_>>()).finish()
    }
}

impl MemKeys {
    /// Adds the next version of key `key` (version 1 for a new key) and returns it.
    pub fn rotate(&self, key: u32, material: KeyBytes) -> KeyRef {
        let mut versions = self.versions.write();
        let version = versions.keys().filter(|r| r.key == key).map(|r| r.version + 1).max().unwrap_or(1);
        let key_ref = KeyRef { key, version };
        versions.insert(key_ref, Zeroizing::new(material));
        key_ref
    }

    /// Forgets one version (its chunks no longer open; if it was the newest, the
    /// previous one seals again).
    pub fn remove(&self, key_ref: KeyRef) {
        self.versions.write().remove(&key_ref);
    }
}

impl KeyProvider for MemKeys {
    fn current(&self, key: u32) -> Option<(KeyRef, KeyBytes)> {
        let versions = self.versions.read();
        let (key_ref, material) =
            versions.range(KeyRef { key, version: 0 }..=KeyRef { key, version: u32::MAX }).next_back()?;
        Some((*key_ref, **material))
    }

    fn get(&self, key: KeyRef) -> Option<KeyBytes> {
        self.versions.read().get(&key).map(|material| **material)
    }
}

/// The operating system could not supply random bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no random bytes from the operating system: {0}")]
pub struct RandomError(pub String);

/// Where the log draws randomness (the salts of sealed chunks). A seam so that tests
/// can replace it; [`OsRandom`] in production.
pub trait RandomSource: Send + Sync + Debug {
    /// Fills `out` with unpredictable bytes.
    fn fill(&self, out: &mut [u8]) -> Result<(), RandomError>;
}

/// The operating system's cryptographic random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), RandomError> {
        getrandom::getrandom(out).map_err(|e| RandomError(e.to_string()))
    }
}

/// One key version's material, wiped when dropped.
#[derive(Clone)]
pub struct SealingKey {
    key_ref: KeyRef,
    /// HKDF's pseudorandom key, extracted from the material once.
    prk: Zeroizing<[u8; KEY_BYTES]>,
}

impl Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the material.
        f.debug_struct("SealingKey").field("key_ref", &self.key_ref).finish_non_exhaustive()
    }
}

impl SealingKey {
    /// Takes `material` (the caller's copy is the caller's to wipe).
    pub fn new(key_ref: KeyRef, material: KeyBytes) -> Self {
        let material = Zeroizing::new(material);
        let (mut extracted, _) = Hkdf::<Sha256>::extract(None, &material[..]);
        let prk = Zeroizing::new(<[u8; KEY_BYTES]>::from(extracted));
        extracted.as_mut_slice().zeroize();
        SealingKey { key_ref, prk }
    }

    /// Which key version this is.
    pub fn key_ref(&self) -> KeyRef {
        self.key_ref
    }

    /// The AEAD of one chunk: its own key, derived from this version's material and the
    /// chunk's salt, bound to the key reference.
    fn chunk_cipher(&self, salt: &Salt) -> Result<LessSafeKey, SealError> {
        const LABEL: usize = CHUNK_KEY_INFO.len();
        let mut info = [0u8; LABEL + 8 + SALT_BYTES];
        info[..LABEL].copy_from_slice(CHUNK_KEY_INFO);
        info[LABEL..LABEL + 4].copy_from_slice(&self.key_ref.key.to_le_bytes());
        info[LABEL + 4..LABEL + 8].copy_from_slice(&self.key_ref.version.to_le_bytes());
        info[LABEL + 8..].copy_from_slice(salt);
        let mut chunk_key = Zeroizing::new([0u8; KEY_BYTES]);
        // A 32-byte PRK and 32 bytes of output are within HKDF-SHA256's limits, so
        // neither step fails.
        Hkdf::<Sha256>::from_prk(&self.prk[..])
            .map_err(|_| SealError)?
            .expand(&info, &mut chunk_key[..])
            .map_err(|_| SealError)?;
        let key = UnboundKey::new(&AES_256_GCM, chunk_key.as_ref()).map_err(|_| SealError)?;
        Ok(LessSafeKey::new(key))
    }

    /// Encrypts `buf` in place; returns the tag, which authenticates `buf` and `aad`.
    pub fn seal(&self, salt: &Salt, aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_BYTES], SealError> {
        let nonce = Nonce::assume_unique_for_key(NONCE);
        let tag =
            self.chunk_cipher(salt)?.seal_in_place_separate_tag(nonce, Aad::from(aad), buf).map_err(|_| SealError)?;
        let mut bytes = [0u8; TAG_BYTES];
        bytes.copy_from_slice(tag.as_ref());
        Ok(bytes)
    }

    /// Decrypts `buf` in place if `tag` authenticates it and `aad`; otherwise the error
    /// says the tag did not match and `buf`'s content is unspecified (callers open owned
    /// copies and drop them on failure).
    pub fn open(&self, salt: &Salt, aad: &[u8], buf: &mut [u8], tag: &[u8; TAG_BYTES]) -> Result<(), SealError> {
        let nonce = Nonce::assume_unique_for_key(NONCE);
        let tag = Tag::from(*tag);
        self.chunk_cipher(salt)?
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf, 0..)
            .map(|_| ())
            .map_err(|_| SealError)
    }
}

/// The AEAD refused: on sealing, a message beyond AES-GCM's length limit (64 GiB, never
/// reached by a chunk); on opening, a tag that does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed")]
pub struct SealError;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REF: KeyRef = KeyRef { key: 1, version: 2 };

    proptest! {
        #[test]
        fn seal_then_open_round_trips(
            material in any::<[u8; 32]>(),
            salt in any::<[u8; 16]>(),
            aad in proptest::collection::vec(any::<u8>(), 0..64),
            plain in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let key = SealingKey::new(REF, material);
            let mut buf = plain.clone();
            let tag = key.seal(&salt, &aad, &mut buf).unwrap();
            prop_assert!(plain.len() < 16 || buf != plain);
            key.open(&salt, &aad, &mut buf, &tag).unwrap();
            prop_assert_eq!(buf, plain);
        }

        #[test]
        fn anything_changed_fails_to_open(
            material in any::<[u8; 32]>(),
            plain in proptest::collection::vec(any::<u8>(), 1..256),
            which in 0usize..5,
            at in any::<usize>(),
            bit in 0u8..8,
        ) {
            let key = SealingKey::new(REF, material);
            let salt = [7u8; 16];
            let aad = [3u8; 24];
            let mut buf = plain.clone();
            let tag = key.seal(&salt, &aad, &mut buf).unwrap();
            let (mut salt2, mut aad2, mut tag2) = (salt, aad, tag);
            let mut key2 = key.clone();
            match which {
                0 => buf[at % plain.len()] ^= 1 << bit,
                1 => salt2[at % SALT_BYTES] ^= 1 << bit,
                2 => aad2[at % aad.len()] ^= 1 << bit,
                3 => tag2[at % TAG_BYTES] ^= 1 << bit,
                _ => {
                    let mut other = material;
                    other[at % KEY_BYTES] ^= 1 << bit;
                    key2 = SealingKey::new(REF, other);
                }
            }
            prop_assert_eq!(key2.open(&salt2, &aad2, &mut buf, &tag2), Err(SealError));
        }
    }

    #[test]
    fn the_key_reference_is_bound_into_the_derived_key() {
        let material = [9u8; 32];
        let salt = [1u8; 16];
        let mut buf = b"records".to_vec();
        let tag = SealingKey::new(REF, material).seal(&salt, b"", &mut buf).unwrap();
        let relabelled = SealingKey::new(KeyRef { key: 1, version: 3 }, material);
        assert_eq!(relabelled.open(&salt, b"", &mut buf, &tag), Err(SealError));
    }

    #[test]
    fn the_debug_form_shows_no_material() {
        let shown = format!("{:?}", SealingKey::new(REF, [0xAB; 32]));
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "), "{shown}");
    }

    #[test]
    fn os_random_fills() {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        OsRandom.fill(&mut a).unwrap();
        OsRandom.fill(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
